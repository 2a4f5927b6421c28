//! The metric handles an intent touches, registered once and kept.
//!
//! `metrics::counter!("players_intents_total", "intent" => name, ...)` builds a labelled
//! key, hashes it and looks it up in the recorder's registry on every call. An intent
//! touches four metrics (five in write-through), so the handles are kept here instead: per
//! intent name (a closed set of `&'static str`, so the map stays small) and once for the
//! unlabelled ones.
//! Handles belong to the recorder installed when they are first used; the platform
//! installs its recorder before any service starts.

use std::sync::{LazyLock, RwLock};

use metrics::{Counter, Gauge, Histogram};

/// One intent's handles.
pub(crate) struct IntentMetrics {
    /// `players_intents_total{intent, result="ok"}`.
    pub ok: Counter,
    /// `players_intents_total{intent, result="invalid"}`.
    pub invalid: Counter,
    /// `players_intent_duration_seconds{intent}`.
    pub duration: Histogram,
}

/// The handles of intent `name` (`"temp_hp"`, `"create"`, `"delete"`, ...).
pub(crate) fn intent(name: &'static str) -> &'static IntentMetrics {
    static SEEN: LazyLock<RwLock<Vec<(&'static str, &'static IntentMetrics)>>> =
        LazyLock::new(Default::default);
    let find = |seen: &[(&'static str, &'static IntentMetrics)]| {
        seen.iter().find(|(n, _)| *n == name).map(|(_, m)| *m)
    };
    if let Some(found) = find(&SEEN.read().unwrap()) {
        return found;
    }
    let mut seen = SEEN.write().unwrap();
    if let Some(found) = find(&seen) {
        return found;
    }
    // Leaked once per intent name, of which there are a handful.
    let made: &'static IntentMetrics = Box::leak(Box::new(IntentMetrics {
        ok: metrics::counter!("players_intents_total", "intent" => name, "result" => "ok"),
        invalid: metrics::counter!("players_intents_total", "intent" => name, "result" => "invalid"),
        duration: metrics::histogram!("players_intent_duration_seconds", "intent" => name),
    }));
    seen.push((name, made));
    made
}

/// `players_cache_hits_total`.
pub(crate) fn cache_hits() -> &'static Counter {
    static HANDLE: LazyLock<Counter> =
        LazyLock::new(|| metrics::counter!("players_cache_hits_total"));
    &HANDLE
}

/// `players_rows_written_total`: rows the database took (write-through commits, flushes).
pub(crate) fn rows_written() -> &'static Counter {
    static HANDLE: LazyLock<Counter> =
        LazyLock::new(|| metrics::counter!("players_rows_written_total"));
    &HANDLE
}

/// `players_dirty_characters`.
pub(crate) fn dirty_characters() -> &'static Gauge {
    static HANDLE: LazyLock<Gauge> = LazyLock::new(|| metrics::gauge!("players_dirty_characters"));
    &HANDLE
}
