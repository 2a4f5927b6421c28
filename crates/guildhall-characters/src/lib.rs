//! Character rules from the D&D 5e SRD (in progress).
