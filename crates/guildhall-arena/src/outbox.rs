//! What waits to be sent on one connection.
//!
//! Control messages (welcome, match end, pong) queue in order, up to a small bound.
//! Snapshots do not queue: a new one replaces one still waiting, so a slow reader gets
//! the newest state and never makes the server hold more than one snapshot for it. The
//! lobby sees how long a connection has been unable to take its snapshots and cuts it
//! off after a while.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::ws::Message;
use tokio::sync::Notify;

/// Control messages one connection may have waiting.
const CONTROL_BOUND: usize = 64;

/// Why the server ends a connection: the catalogue code and WebSocket close code.
#[derive(Debug, Clone, PartialEq)]
pub struct Ending {
    /// Sent as an `error` message first, when set.
    pub error: Option<(String, String)>,
    /// Sent as a `lobby_closed` message first, when set.
    pub lobby_closed: Option<String>,
    pub close_code: u16,
}

#[derive(Debug, Default)]
struct State {
    control: VecDeque<Message>,
    snapshot: Option<Message>,
    /// Since when the waiting snapshot (and those it replaced) has been unsent.
    stalled_since: Option<Instant>,
    ending: Option<Ending>,
}

/// Outbound messages of one connection, shared by its lobby (writer) and its socket task.
#[derive(Debug, Default)]
pub struct Outbox {
    state: Mutex<State>,
    notify: Notify,
}

/// What the socket task should do next.
#[derive(Debug)]
pub enum Next {
    Send(Message),
    End(Ending),
}

impl Outbox {
    /// Queues a control message; `false` when too many are waiting (the client is not
    /// reading).
    pub fn push_control(&self, message: Message) -> bool {
        let mut state = self.state.lock().unwrap();
        if state.control.len() >= CONTROL_BOUND {
            return false;
        }
        state.control.push_back(message);
        drop(state);
        self.notify.notify_one();
        true
    }

    /// Offers the newest snapshot. Returns how long snapshots have been piling up unsent
    /// (`None` when the previous one was taken).
    pub fn push_snapshot(&self, message: Message, now: Instant) -> Option<Duration> {
        let mut state = self.state.lock().unwrap();
        let replaced = state.snapshot.replace(message).is_some();
        let stalled = if replaced {
            let since = *state.stalled_since.get_or_insert(now);
            Some(now.saturating_duration_since(since))
        } else {
            // The clock starts when a snapshot is offered and not yet taken.
            state.stalled_since = Some(now);
            None
        };
        drop(state);
        self.notify.notify_one();
        stalled
    }

    /// Asks the socket task to end the connection; the first ending wins.
    pub fn end(&self, ending: Ending) {
        let mut state = self.state.lock().unwrap();
        if state.ending.is_none() {
            state.ending = Some(ending);
        }
        drop(state);
        self.notify.notify_one();
    }

    /// The next message to send (control first, then the snapshot), or the ending.
    pub async fn next(&self) -> Next {
        loop {
            {
                let mut state = self.state.lock().unwrap();
                if let Some(ending) = state.ending.take() {
                    return Next::End(ending);
                }
                if let Some(message) = state.control.pop_front() {
                    return Next::Send(message);
                }
                if let Some(message) = state.snapshot.take() {
                    state.stalled_since = None;
                    return Next::Send(message);
                }
            }
            self.notify.notified().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_newest_snapshot_wins_and_control_goes_first() {
        let outbox = Outbox::default();
        let t0 = Instant::now();
        assert_eq!(outbox.push_snapshot(Message::Text("s1".into()), t0), None);
        let stalled =
            outbox.push_snapshot(Message::Text("s2".into()), t0 + Duration::from_millis(40));
        assert_eq!(stalled, Some(Duration::from_millis(40)));
        let stalled =
            outbox.push_snapshot(Message::Text("s3".into()), t0 + Duration::from_millis(80));
        assert_eq!(stalled, Some(Duration::from_millis(80)));
        assert!(outbox.push_control(Message::Text("c".into())));
        let Next::Send(first) = outbox.next().await else {
            panic!()
        };
        assert_eq!(first, Message::Text("c".into()));
        let Next::Send(second) = outbox.next().await else {
            panic!()
        };
        assert_eq!(second, Message::Text("s3".into()));
        // Taken: the next offer starts a fresh stall clock.
        assert_eq!(outbox.push_snapshot(Message::Text("s4".into()), t0), None);
    }

    #[tokio::test]
    async fn control_messages_are_bounded() {
        let outbox = Outbox::default();
        for _ in 0..CONTROL_BOUND {
            assert!(outbox.push_control(Message::Text("c".into())));
        }
        assert!(!outbox.push_control(Message::Text("c".into())));
    }

    #[tokio::test]
    async fn an_ending_preempts_what_is_waiting() {
        let outbox = Outbox::default();
        outbox.push_control(Message::Text("c".into()));
        outbox.end(Ending {
            error: None,
            lobby_closed: Some("x".into()),
            close_code: 1011,
        });
        assert!(matches!(outbox.next().await, Next::End(e) if e.close_code == 1011));
    }
}
