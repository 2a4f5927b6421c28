//! The character cache.
//!
//! One async lock per character serialises everything done to it (an intent, a load, a
//! flush snapshot) without blocking other characters. The map of locks itself is behind a
//! short synchronous mutex that is never held across an await.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use guildhall_characters::Character;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::PlayersError;
use crate::store::Row;

/// An answer given for an `Idempotency-Key`, replayed if the key comes again. The body is
/// the answer's JSON text as it was sent (`null` for a 204), kept and stored verbatim: no
/// value tree is built for it, and a replay sends the same bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Remembered {
    pub key: String,
    pub status: u16,
    pub body: Box<serde_json::value::RawValue>,
}

impl Remembered {
    /// Remembers `body` (JSON text, `None` for an empty answer) as the answer to `key`.
    pub fn new(key: &str, status: u16, body: Option<&[u8]>) -> Self {
        let text = body
            .map_or(Ok("null"), std::str::from_utf8)
            .expect("answers are UTF-8");
        Self {
            key: key.to_owned(),
            status,
            body: serde_json::value::RawValue::from_string(text.to_owned())
                .expect("answers are JSON"),
        }
    }
}

/// A cached character.
#[derive(Debug, Clone)]
pub struct Entry {
    pub character: Character,
    /// Deleted: kept as a tombstone so its version stays monotonic.
    pub deleted: bool,
    pub idempotency: VecDeque<Remembered>,
    /// Changed since the last successful write.
    pub dirty: bool,
    pub last_used: Instant,
}

impl Entry {
    /// A character just made here: not written yet, no answers remembered.
    pub fn created(character: Character) -> Self {
        Self {
            character,
            deleted: false,
            idempotency: Default::default(),
            dirty: true,
            last_used: Instant::now(),
        }
    }

    pub fn from_row(row: &Row) -> Result<Self, PlayersError> {
        let character: Character =
            serde_json::from_str(&row.state).map_err(|e| PlayersError::Corrupt(e.to_string()))?;
        character
            .validate()
            .map_err(|e| PlayersError::Corrupt(e.to_string()))?;
        let idempotency = serde_json::from_str(&row.idempotency).unwrap_or_default();
        Ok(Self {
            character,
            deleted: row.deleted_at.is_some(),
            idempotency,
            dirty: false,
            last_used: Instant::now(),
        })
    }

    pub fn to_row(&self) -> Row {
        Row {
            id: self.character.id,
            owner: self.character.owner,
            version: self.character.version,
            state: serde_json::to_string(&self.character).expect("characters serialize"),
            idempotency: self.answers_text(),
            deleted_at: self.deleted.then_some(self.character.updated_at),
            created_at: self.character.created_at,
            updated_at: self.character.updated_at,
        }
    }

    /// The remembered answers as the row's JSON array, written into a buffer sized for it
    /// once: up to 32 character views (about 30 KB) grown by doubling would be copied and
    /// reallocated five times over, on every write of the row.
    fn answers_text(&self) -> String {
        // `{"key":…,"status":…,"body":…}` per answer: the key's escapes and the status's
        // digits fit in the slack; an estimate short of the mark only costs a reallocation.
        let size: usize = self
            .idempotency
            .iter()
            .map(|a| a.key.len() + a.body.get().len() + 40)
            .sum();
        let mut text = Vec::with_capacity(size + 2);
        serde_json::to_writer(&mut text, &self.idempotency).expect("answers serialize");
        String::from_utf8(text).expect("JSON is UTF-8")
    }

    pub fn remembered(&self, key: &str) -> Option<&Remembered> {
        self.idempotency.iter().find(|r| r.key == key)
    }

    pub fn remember(&mut self, answer: Remembered, keep: usize) {
        self.idempotency.push_back(answer);
        while self.idempotency.len() > keep {
            self.idempotency.pop_front();
        }
    }
}

/// What the cache knows of one character id.
#[derive(Debug)]
pub enum Slot {
    /// Not looked up yet: load from the database under the lock.
    Unloaded,
    /// Looked up: no such character.
    Absent,
    Loaded(Entry),
}

pub type SlotRef = Arc<tokio::sync::Mutex<Slot>>;

#[derive(Debug, Default)]
pub struct Cache {
    slots: Mutex<HashMap<Uuid, SlotRef>>,
    /// Cached character ids per owner, so lists include characters not yet flushed.
    by_owner: Mutex<HashMap<Uuid, HashSet<Uuid>>>,
    /// Ids changed since their last write (write-behind).
    dirty: Mutex<HashSet<Uuid>>,
}

impl Cache {
    /// The lock for `id`, created `Unloaded` on first use.
    pub fn slot(&self, id: Uuid) -> SlotRef {
        self.slots
            .lock()
            .unwrap()
            .entry(id)
            .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(Slot::Unloaded)))
            .clone()
    }

    pub fn note_owner(&self, owner: Uuid, id: Uuid) {
        self.by_owner
            .lock()
            .unwrap()
            .entry(owner)
            .or_default()
            .insert(id);
    }

    /// Every cached character's lock.
    pub fn all_slots(&self) -> Vec<SlotRef> {
        self.slots.lock().unwrap().values().cloned().collect()
    }

    pub fn owned_by(&self, owner: Uuid) -> Vec<Uuid> {
        self.by_owner
            .lock()
            .unwrap()
            .get(&owner)
            .map(|ids| ids.iter().copied().collect())
            .unwrap_or_default()
    }

    pub fn mark_dirty(&self, id: Uuid) {
        let mut dirty = self.dirty.lock().unwrap();
        dirty.insert(id);
        crate::telemetry::dirty_characters().set(dirty.len() as f64);
    }

    pub fn take_dirty(&self) -> Vec<Uuid> {
        self.dirty.lock().unwrap().drain().collect()
    }

    pub fn dirty_len(&self) -> usize {
        self.dirty.lock().unwrap().len()
    }

    pub fn len(&self) -> usize {
        self.slots.lock().unwrap().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Evicts clean, idle entries, oldest first, until at most `capacity` remain. An entry
    /// is idle when nobody else holds its lock or a handle to it (so no task can be about to
    /// change a detached copy). Returns how many were evicted.
    pub fn evict(&self, capacity: usize) -> usize {
        let mut slots = self.slots.lock().unwrap();
        if slots.len() <= capacity {
            return 0;
        }
        let mut candidates: Vec<(Instant, Uuid, Option<Uuid>)> = Vec::new();
        for (id, slot) in slots.iter() {
            if Arc::strong_count(slot) != 1 {
                continue;
            }
            let Ok(guard) = slot.try_lock() else { continue };
            match &*guard {
                Slot::Loaded(entry) if !entry.dirty => {
                    candidates.push((entry.last_used, *id, Some(entry.character.owner)))
                }
                Slot::Absent | Slot::Unloaded => candidates.push((Instant::now(), *id, None)),
                Slot::Loaded(_) => {}
            }
        }
        candidates.sort_by_key(|(used, _, _)| *used);
        let excess = slots.len() - capacity;
        let mut by_owner = self.by_owner.lock().unwrap();
        let mut evicted = 0;
        for (_, id, owner) in candidates.into_iter().take(excess) {
            slots.remove(&id);
            if let Some(owner) = owner
                && let Some(ids) = by_owner.get_mut(&owner)
            {
                ids.remove(&id);
                if ids.is_empty() {
                    by_owner.remove(&owner);
                }
            }
            evicted += 1;
        }
        metrics::counter!("players_cache_evictions_total").increment(evicted as u64);
        evicted
    }

    /// Drops every cached character of `owner` (after a lease was lost or handed over).
    pub fn forget_owner(&self, owner: Uuid) {
        let ids = self
            .by_owner
            .lock()
            .unwrap()
            .remove(&owner)
            .unwrap_or_default();
        let mut slots = self.slots.lock().unwrap();
        let mut dirty = self.dirty.lock().unwrap();
        for id in ids {
            slots.remove(&id);
            dirty.remove(&id);
        }
    }
}
