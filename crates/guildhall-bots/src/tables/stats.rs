//! What a run of table bots measured.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;

/// What bots measured, shared by every bot of a run.
pub struct TableStats {
    pub(super) measuring: AtomicBool,
    /// Actions sent and answered `ok` inside the window (one latency sample each).
    pub(super) actions: AtomicU64,
    /// Error results, failed setups and bot failures, over the whole run.
    pub(super) errors: AtomicU64,
    pub(super) retries: AtomicU64,
    pub(super) reconnects: AtomicU64,
    /// `score.update`s seen by seat 0 inside the window.
    pub(super) hands: AtomicU64,
    /// Tables created over the whole run.
    pub(super) tables_created: AtomicU64,
    /// Tables whose bots are playing now (not being set up).
    pub(super) playing: AtomicU64,
    /// Action to `action.result`, microseconds.
    pub(super) latency_us: Mutex<Histogram<u64>>,
    pub(super) error_codes: Mutex<BTreeMap<String, u64>>,
    pub(super) first_errors: Mutex<Vec<String>>,
}

impl std::fmt::Debug for TableStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableStats")
            .field("actions", &self.actions)
            .field("errors", &self.errors)
            .finish_non_exhaustive()
    }
}

impl Default for TableStats {
    fn default() -> Self {
        Self {
            measuring: AtomicBool::new(false),
            actions: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            hands: AtomicU64::new(0),
            tables_created: AtomicU64::new(0),
            playing: AtomicU64::new(0),
            latency_us: Mutex::new(
                Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds"),
            ),
            error_codes: Mutex::new(BTreeMap::new()),
            first_errors: Mutex::new(Vec::new()),
        }
    }
}

impl TableStats {
    /// Starts or stops the measuring window.
    pub fn set_measuring(&self, on: bool) {
        self.measuring.store(on, Ordering::SeqCst);
    }

    pub fn measuring(&self) -> bool {
        self.measuring.load(Ordering::Relaxed)
    }

    pub(super) fn answered(&self, sent_in_window: bool, latency: Duration) {
        if sent_in_window && self.measuring() {
            self.actions.fetch_add(1, Ordering::Relaxed);
            let us = latency.as_micros().clamp(1, 60_000_000) as u64;
            self.latency_us.lock().unwrap().saturating_record(us);
        }
    }

    /// Counts an error under `code`, keeping the first few descriptions.
    pub fn error(&self, code: &str, detail: impl FnOnce() -> String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        *self
            .error_codes
            .lock()
            .unwrap()
            .entry(code.to_owned())
            .or_default() += 1;
        let mut first = self.first_errors.lock().unwrap();
        if first.len() < 10 {
            first.push(format!("{code}: {}", detail()));
        }
    }

    /// Tables whose bots are playing now (the others are being set up).
    pub fn tables_playing(&self) -> u64 {
        self.playing.load(Ordering::Relaxed)
    }

    /// The figures so far, over a window of `seconds`.
    pub fn report(&self, tables: usize, seconds: f64) -> TablesReport {
        let latency = self.latency_us.lock().unwrap();
        let ms = |q: f64| {
            if latency.is_empty() {
                f64::NAN
            } else {
                latency.value_at_quantile(q) as f64 / 1000.0
            }
        };
        let actions = self.actions.load(Ordering::SeqCst);
        TablesReport {
            tables,
            seconds,
            actions,
            actions_per_sec: actions as f64 / seconds.max(1e-9),
            p50_ms: ms(0.5),
            p99_ms: ms(0.99),
            max_ms: if latency.is_empty() {
                f64::NAN
            } else {
                latency.max() as f64 / 1000.0
            },
            hands_completed: self.hands.load(Ordering::SeqCst),
            tables_created: self.tables_created.load(Ordering::SeqCst),
            errors: self.errors.load(Ordering::SeqCst),
            error_codes: self.error_codes.lock().unwrap().clone(),
            retries: self.retries.load(Ordering::SeqCst),
            reconnects: self.reconnects.load(Ordering::SeqCst),
            first_errors: self.first_errors.lock().unwrap().clone(),
            setup_secs: f64::NAN,
            mean_tables_playing: f64::NAN,
        }
    }
}

/// What a run of table bots measured.
#[derive(Debug, Clone)]
pub struct TablesReport {
    pub tables: usize,
    /// The measuring window.
    pub seconds: f64,
    /// Actions sent and answered `ok` inside the window.
    pub actions: u64,
    pub actions_per_sec: f64,
    /// Action to `action.result`, in milliseconds.
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Hands scored inside the window.
    pub hands_completed: u64,
    /// Tables created over the whole run.
    pub tables_created: u64,
    /// Error results, failed setups and failed bots, over the whole run, by code.
    pub errors: u64,
    pub error_codes: BTreeMap<String, u64>,
    /// Actions sent again (same `action_id`) after going unanswered.
    pub retries: u64,
    pub reconnects: u64,
    pub first_errors: Vec<String>,
    /// From starting the tables until every one had its five bots connected (`NaN` if
    /// some never did).
    pub setup_secs: f64,
    /// Tables playing (rather than being created, joined and connected), on average over
    /// the window.
    pub mean_tables_playing: f64,
}
