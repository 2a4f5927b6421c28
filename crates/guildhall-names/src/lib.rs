//! Normalization of the names people choose, for the identity service. Pure functions,
//! no I/O.
//!
//! Two kinds of name, with different jobs and so different rules:
//!
//! * **Display names** ([`DisplayName`]) are what other players see. They follow the
//!   RFC 8266 Nickname profile, case preserved: non-ASCII spaces become SPACE, leading
//!   and trailing spaces go, runs of spaces collapse to one, NFKC folds compatibility
//!   forms (fullwidth "Ａｄｍｉｎ" is "Admin", "ﬁ" is "fi"), and the PRECIS FreeformClass
//!   decides which characters are allowed at all. Two display names are the same name
//!   when their [comparison keys](DisplayName::comparison_key) (the same rules plus
//!   lowercasing, `NicknameCaseMapped:ToLower`) are equal.
//! * **Usernames** ([`Username`]) identify an account at login. They follow RFC 8265
//!   `UsernameCaseMapped`: fullwidth and halfwidth forms mapped, lowercased, NFC, and
//!   only the IdentifierClass (letters and digits, no spaces, no symbols), so what a
//!   person types on any keyboard reaches the same account.
//!
//! On top of PRECIS, Guildhall adds rules of its own, and they only ever reject more:
//!
//! * lengths are counted in Unicode scalar values after enforcement (display names 1–32,
//!   usernames 3–20), and input over [`MAX_INPUT_BYTES`] is refused before any Unicode
//!   processing, so an oversized request costs nothing;
//! * display names may not contain controls (Cc) or format characters (Cf) even where
//!   PRECIS would allow them (it allows zero-width joiners in some scripts): invisible
//!   characters let two names look identical while comparing different;
//! * [`ReservedNames`] refuses display names that merely *look like* a reserved one
//!   ("Аdmin" with a Cyrillic А, "ADMIN", "Ａｄｍｉｎ"), by comparing UTS #39 confusable
//!   skeletons ([`skeleton_key`]) of comparison keys. The service stores the skeletons
//!   of existing names to catch look-alikes of other players the same way.
//!
//! The PRECIS string classes come from `precis-core`, which uses Unicode 6.3 as the IANA
//! PRECIS registry does. Characters assigned later (many recent emoji, for instance)
//! are rejected rather than guessed at; see [`first_unassigned`]. The pipelines are
//! tested for agreement with python `precis_i18n`, an independent implementation.

mod display;
mod precis;
mod reserved;
mod username;

pub use display::DisplayName;
pub use precis::{
    enforce_nickname, enforce_nickname_case_mapped, enforce_username_precis, first_unassigned,
    is_control_or_format,
};
pub use reserved::{DEFAULT_RESERVED, ReservedNames};
pub use username::Username;

/// Input longer than this many bytes is rejected before any normalization runs. It is far
/// above what a valid name needs (32 characters of at most 4 bytes, plus spaces and
/// combining marks that enforcement removes or composes) and keeps the cost of hostile
/// input fixed.
pub const MAX_INPUT_BYTES: usize = 1024;

/// Why a name was refused. The messages are meant to be shown to the person who typed it.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum NameError {
    /// Nothing is left once spaces are trimmed.
    #[error("the name is empty")]
    Empty,
    /// Fewer characters than the minimum after normalization.
    #[error("the name is too short: it needs at least {min} characters")]
    TooShort {
        /// The minimum, in Unicode characters.
        min: usize,
    },
    /// More characters than the maximum after normalization (or a far too long input).
    #[error("the name is too long: it can have at most {max} characters")]
    TooLong {
        /// The maximum, in Unicode characters.
        max: usize,
    },
    /// A character or combination the rules do not allow.
    #[error("the name is not allowed: {reason}")]
    Disallowed {
        /// What is wrong, for a person.
        reason: String,
    },
}

impl NameError {
    pub(crate) fn disallowed(reason: impl Into<String>) -> NameError {
        NameError::Disallowed {
            reason: reason.into(),
        }
    }
}

/// The UTS #39 confusable skeleton of `name`'s display-name comparison key.
///
/// Two names with equal keys look alike to a reader ("admin", "ADMIN", "Аdmin" with a
/// Cyrillic А). It accepts any text, valid name or not, so skeletons can also be made for
/// reserved words and stored names; text that is not a valid display name gets the
/// comparison key's mappings without its validation. For a name a person submitted, use
/// [`DisplayName::skeleton_key`] or [`Username::skeleton_key`], which start from the
/// enforced form that gets stored.
pub fn skeleton_key(name: &str) -> String {
    let key = enforce_nickname_case_mapped(name).unwrap_or_else(|_| precis::best_effort_key(name));
    unicode_security::confusable_detection::skeleton(&key).collect()
}
