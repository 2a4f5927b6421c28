//! The client's circuit breaker. After `threshold` calls in a row found the game
//! host unreachable, calls fail at once for `cooldown` instead of each waiting on
//! connect timeouts and retries; then one call goes through (half-open) and its
//! outcome closes the breaker or opens it for another cooldown.
//!
//! The state is a few words behind a mutex held for no more than a comparison and
//! never across an `.await`; every transition takes the time as an argument, so
//! the rules are tested without clocks or sockets.

use std::sync::Mutex;
use std::time::Duration;

use guildhall_gamehost::Error;
use tokio::time::Instant;

#[derive(Debug)]
pub(crate) struct Breaker {
    threshold: u32,
    cooldown: Duration,
    state: Mutex<State>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Calls go through; `failures` of them in a row found the host unreachable.
    Closed { failures: u32 },
    /// Calls fail at once until `until`.
    Open { until: Instant },
    /// One call is finding out whether the host is back; the others fail at once.
    Probing,
}

/// Leave to make one call. Its outcome must be reported with [`reached`] or
/// [`unreachable`]; a permit dropped without one (a cancelled call) tells nothing,
/// so a probe's turn passes to the next call.
///
/// [`reached`]: Permit::reached
/// [`unreachable`]: Permit::unreachable
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    breaker: &'a Breaker,
    probe: bool,
    reported: bool,
}

impl Breaker {
    pub(crate) fn new(threshold: u32, cooldown: Duration) -> Self {
        Breaker {
            threshold: threshold.max(1),
            cooldown,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    /// A permit for one call at `now`, or [`Error::Unreachable`] while open.
    pub(crate) fn admit(&self, now: Instant) -> Result<Permit<'_>, Error> {
        let mut state = self.lock();
        let probe = match *state {
            State::Closed { .. } => false,
            State::Open { until } if now >= until => {
                *state = State::Probing;
                true
            }
            State::Open { until } => {
                return Err(Error::Unreachable(format!(
                    "not trying for another {} ms: the last {} calls found it unreachable",
                    until.saturating_duration_since(now).as_millis(),
                    self.threshold
                )));
            }
            State::Probing => {
                return Err(Error::Unreachable(
                    "not trying until a call in flight finds out whether it is back".into(),
                ));
            }
        };
        Ok(Permit {
            breaker: self,
            probe,
            reported: false,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn reached(&self) {
        *self.lock() = State::Closed { failures: 0 };
    }

    fn unreachable(&self, probe: bool, now: Instant) {
        let mut state = self.lock();
        let failures = match *state {
            State::Closed { failures } if !probe => failures.saturating_add(1),
            // A failed probe, or a call from before the breaker opened.
            _ => self.threshold,
        };
        *state = if failures >= self.threshold {
            State::Open {
                until: now + self.cooldown,
            }
        } else {
            State::Closed { failures }
        };
    }

    fn abandoned(&self, probe: bool, now: Instant) {
        let mut state = self.lock();
        if probe && *state == State::Probing {
            *state = State::Open { until: now };
        }
    }
}

impl Permit<'_> {
    /// Whether this call is the one finding out if the host is back: it gets one
    /// try, no retries.
    pub(crate) fn is_probe(&self) -> bool {
        self.probe
    }

    /// The host answered (with a reply or with an error of its own).
    pub(crate) fn reached(mut self) {
        self.reported = true;
        self.breaker.reached();
    }

    /// The host could not be reached at `now`.
    pub(crate) fn unreachable(mut self, now: Instant) {
        self.reported = true;
        self.breaker.unreachable(self.probe, now);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.reported {
            self.breaker.abandoned(self.probe, Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOLDOWN: Duration = Duration::from_secs(2);

    fn fail(breaker: &Breaker, now: Instant) {
        breaker.admit(now).unwrap().unreachable(now);
    }

    #[test]
    fn opens_after_the_threshold_of_failures_in_a_row() {
        let breaker = Breaker::new(5, COOLDOWN);
        let now = Instant::now();
        for _ in 0..4 {
            fail(&breaker, now);
        }
        // A success in between starts the count again.
        breaker.admit(now).unwrap().reached();
        for _ in 0..4 {
            fail(&breaker, now);
        }
        assert!(breaker.admit(now).is_ok(), "four in a row leave it closed");
        fail(&breaker, now);
        assert!(matches!(breaker.admit(now), Err(Error::Unreachable(_))));
        assert!(breaker.admit(now + COOLDOWN / 2).is_err());
    }

    #[test]
    fn after_the_cooldown_one_probe_decides() {
        let breaker = Breaker::new(1, COOLDOWN);
        let start = Instant::now();
        fail(&breaker, start);
        let later = start + COOLDOWN;
        let probe = breaker.admit(later).unwrap();
        assert!(probe.is_probe());
        assert!(breaker.admit(later).is_err(), "only one probe at a time");
        probe.unreachable(later);
        assert!(breaker.admit(later).is_err(), "a failed probe reopens it");
        assert!(breaker.admit(later + COOLDOWN / 2).is_err());

        let again = later + COOLDOWN;
        breaker.admit(again).unwrap().reached();
        let call = breaker.admit(again).unwrap();
        assert!(!call.is_probe(), "a successful probe closes it");
    }

    #[test]
    fn an_abandoned_probe_lets_the_next_call_probe() {
        let breaker = Breaker::new(1, COOLDOWN);
        let start = Instant::now();
        fail(&breaker, start);
        drop(breaker.admit(start + COOLDOWN).unwrap());
        assert!(breaker.admit(start + COOLDOWN).unwrap().is_probe());
    }

    #[test]
    fn calls_failing_after_it_opened_keep_it_open() {
        let breaker = Breaker::new(2, COOLDOWN);
        let now = Instant::now();
        let slow = breaker.admit(now).unwrap();
        fail(&breaker, now);
        fail(&breaker, now);
        let later = now + COOLDOWN / 2;
        slow.unreachable(later);
        assert!(
            breaker.admit(now + COOLDOWN).is_err(),
            "opened again at `later`"
        );
        assert!(breaker.admit(later + COOLDOWN).is_ok());
    }
}
