//! The results a table remembers for retried action ids.
//!
//! They are saved with the whole state (each snapshot of it), and they are most of its
//! text: up to [`REMEMBERED`] entries of `["<player id>/<action id>", {outcome}]`.
//! So they also keep their saved form, the JSON text of the array, which an action
//! changes by one entry at each end; saving the state
//! ([`TableState::encode`](crate::TableState::encode)) copies that text instead of
//! encoding every entry again. The saved form is the plain JSON array of
//! `[key, outcome]` pairs, read back as such.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Deserializer};

use crate::worker::Outcome;

/// Results remembered for retried action ids: about three hands of a table's accepted
/// actions.
pub const REMEMBERED: usize = 128;

/// Recent results by action id, oldest first.
#[derive(Debug, Clone, Default)]
pub struct Results {
    entries: VecDeque<(String, Outcome)>,
    /// Each remembered key's newest entry, by serial number: every action looks its key
    /// up, and most keys share a player's id as their first 37 bytes.
    index: HashMap<String, u64>,
    /// The serial number of `entries[0]`; entries are numbered in the order remembered.
    first: u64,
    /// The entries' `[key, outcome]` JSON texts, comma-separated, in the same order,
    /// from `start`: forgotten entries' text before it is dropped only once it is as
    /// long as the rest, so forgetting one does not move all the others.
    text: String,
    start: usize,
    /// Each entry's length in `text`, without its comma.
    lens: VecDeque<usize>,
}

impl Results {
    /// The result of `key`'s action, if it is still remembered.
    pub fn get(&self, key: &str) -> Option<&Outcome> {
        let serial = *self.index.get(key)?;
        let at = usize::try_from(serial - self.first).ok()?;
        self.entries.get(at).map(|(_, outcome)| outcome)
    }

    /// Remembers `key`'s result, forgetting the oldest beyond [`REMEMBERED`].
    pub fn remember(&mut self, key: String, outcome: &Outcome) {
        if self.entries.len() >= REMEMBERED
            && let Some((oldest, _)) = self.entries.pop_front()
        {
            if self.index.get(&oldest) == Some(&self.first) {
                self.index.remove(&oldest);
            }
            self.first += 1;
            let len = self.lens.pop_front().unwrap_or_default();
            // The entry and the comma after it, if another follows.
            let cut = if self.lens.is_empty() { len } else { len + 1 };
            self.start = (self.start + cut).min(self.text.len());
            if self.start >= self.text.len() - self.start {
                self.text.drain(..self.start);
                self.start = 0;
            }
        }
        let json = serde_json::to_string(&(&key, outcome)).expect("outcomes always serialize");
        if self.text.len() > self.start {
            self.text.push(',');
        }
        self.text.push_str(&json);
        self.lens.push_back(json.len());
        let serial = self.first + self.entries.len() as u64;
        self.index.insert(key.clone(), serial);
        self.entries.push_back((key, outcome.clone()));
    }

    /// The remembered keys (`<player id>/<action id>`), oldest first.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(key, _)| key.as_str())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Appends the saved form: the JSON array of `[key, outcome]` pairs.
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        out.push(b'[');
        out.extend_from_slice(&self.text.as_bytes()[self.start..]);
        out.push(b']');
    }

    /// Bytes [`write_json`](Self::write_json) appends.
    pub(crate) fn json_len(&self) -> usize {
        self.text.len() - self.start + 2
    }
}

impl PartialEq for Results {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

impl<'de> Deserialize<'de> for Results {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut results = Results::default();
        // A state saved with more than are kept now keeps the newest.
        for (key, outcome) in Vec::<(String, Outcome)>::deserialize(deserializer)? {
            results.remember(key, &outcome);
        }
        Ok(results)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TableState;
    use serde_json::{Value, json};

    fn ok() -> Outcome {
        serde_json::from_value(json!({"status": "ok"})).unwrap()
    }

    fn seated(seat: u8) -> Outcome {
        serde_json::from_value(json!({"status": "ok", "data": {"seat": seat}})).unwrap()
    }

    fn saved(results: &Results) -> Value {
        let mut out = Vec::new();
        results.write_json(&mut out);
        assert_eq!(out.len(), results.json_len());
        serde_json::from_slice(&out).expect("the saved form is JSON")
    }

    #[test]
    fn the_saved_form_is_the_plain_array_of_pairs_at_every_length() {
        let mut results = Results::default();
        assert_eq!(saved(&results), json!([]));
        let mut expected = Vec::new();
        // Past three times the kept number: the forgotten entries' text is dropped on the way.
        for n in 0..3 * REMEMBERED + 40 {
            let (key, outcome) = if n % 7 == 0 {
                (format!("p\"{n}\"\\"), seated((n % 5) as u8))
            } else {
                (format!("p/{n}"), ok())
            };
            expected.push(json!([key, outcome]));
            results.remember(key, &outcome);
            let kept = &expected[expected.len().saturating_sub(REMEMBERED)..];
            assert_eq!(saved(&results), json!(kept), "after {} entries", n + 1);
        }
        assert_eq!(results.len(), REMEMBERED);
        // Read back, it saves the same text.
        let back: Results = serde_json::from_value(saved(&results)).unwrap();
        assert_eq!(back, results);
        assert_eq!(saved(&back), saved(&results));
    }

    #[test]
    fn the_oldest_go_first_and_the_newest_answer() {
        let mut results = Results::default();
        for n in 0..REMEMBERED + 10 {
            results.remember(format!("p/{n}"), &seated((n % 5) as u8));
        }
        assert_eq!(results.get("p/9"), None, "forgotten");
        assert_eq!(results.get("p/10"), Some(&seated(0)));
        assert_eq!(results.keys().next(), Some("p/10"));
        let newest = format!("p/{}", REMEMBERED + 9);
        assert_eq!(results.keys().last(), Some(newest.as_str()));
        // The same key again: its first entry, the oldest, is forgotten to make room,
        // and the newer one answers.
        results.remember("p/10".into(), &seated(4));
        assert_eq!(results.keys().next(), Some("p/11"));
        assert_eq!(results.get("p/10"), Some(&seated(4)), "the newest answers");
        // When that one goes too, the key is forgotten.
        results.remember("p/x".into(), &ok());
        assert_eq!(results.keys().next(), Some("p/12"));
        for n in 0..REMEMBERED - 2 {
            results.remember(format!("q/{n}"), &ok());
        }
        assert_eq!(results.keys().next(), Some("p/10"));
        assert_eq!(results.get("p/10"), Some(&seated(4)));
        results.remember("q/last".into(), &ok());
        assert_eq!(results.get("p/10"), None);
        assert_eq!(results.get("p/x"), Some(&ok()));
        assert_eq!(
            results.index.len(),
            REMEMBERED,
            "one index entry per kept key"
        );
    }

    #[test]
    fn a_longer_saved_list_keeps_its_newest_and_bad_entries_are_refused() {
        let pairs: Vec<_> = (0..REMEMBERED + 3)
            .map(|n| json!([format!("p/{n}"), {"status": "ok"}]))
            .collect();
        let results: Results = serde_json::from_value(json!(pairs)).unwrap();
        assert_eq!(results.len(), REMEMBERED);
        assert_eq!(results.keys().next(), Some("p/3"));
        assert_eq!(saved(&results), json!(pairs[3..]));
        assert!(serde_json::from_value::<Results>(json!([["p/1"]])).is_err());
    }

    #[test]
    fn an_encoded_state_is_its_fields_and_its_results() {
        let mut state = TableState::new("ABC234", Default::default(), 7);
        for n in 0..5 {
            state.results.remember(format!("p/{n}"), &ok());
        }
        let bytes = state.encode();
        let text: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(text["game_id"], "ABC234");
        assert_eq!(text["seed"], 7);
        assert_eq!(text["results"][4], json!(["p/4", {"status": "ok"}]));
        let back: TableState = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back, state);
    }
}
