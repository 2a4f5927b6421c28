//! The operations on characters.

use std::sync::Arc;
use std::time::Instant;

use guildhall_characters::{
    Abilities, Armor, Character, Class, Currency, Derived, Intent, NewCharacter, Race, Weapon,
};
use guildhall_config::{PlayersConfig, WriteMode};
use guildhall_names::DisplayName;
use guildhall_tokens::now_unix;
use serde::Serialize;
use uuid::Uuid;

use crate::PlayersError;
use crate::cache::{Cache, Entry, Remembered, Slot, SlotRef};
use crate::ownership::Ownership;
use crate::store::PlayersStore;

/// Namespace for character ids derived from `(owner, Idempotency-Key)`, so a retried
/// create finds the character its first attempt made.
const CREATE_NAMESPACE: Uuid = Uuid::from_u128(0x6775_696c_6468_616c_6c2d_6368_6172_7321);

/// An answer: status and JSON body (`None` for 204), serialized once.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub body: Option<Vec<u8>>,
}

/// The players service of one process.
#[derive(Debug)]
pub struct Players {
    pub(crate) store: PlayersStore,
    pub(crate) cache: Cache,
    pub(crate) config: PlayersConfig,
    pub(crate) ownership: Ownership,
}

/// A character as clients see it: every stored field, the derived stats under `derived`,
/// and the times in RFC 3339. It mirrors [`Character`] field by field (a test holds the
/// two together) so that an answer is serialized straight to bytes, without building a
/// `serde_json::Value` first.
#[derive(Serialize)]
struct ClientView<'a> {
    id: Uuid,
    owner: Uuid,
    name: &'a str,
    race: &'a Race,
    class: &'a Class,
    level: u8,
    abilities: &'a Abilities,
    max_hp: i32,
    hp: i32,
    temp_hp: i32,
    armor: &'a Option<Armor>,
    shield: bool,
    weapon: &'a Option<Weapon>,
    currency: &'a Currency,
    version: i64,
    created_at: String,
    updated_at: String,
    derived: Derived,
}

impl<'a> ClientView<'a> {
    fn of(c: &'a Character) -> Self {
        Self {
            id: c.id,
            owner: c.owner,
            name: &c.name,
            race: &c.race,
            class: &c.class,
            level: c.level,
            abilities: &c.abilities,
            max_hp: c.max_hp,
            hp: c.hp,
            temp_hp: c.temp_hp,
            armor: &c.armor,
            shield: c.shield,
            weapon: &c.weapon,
            currency: &c.currency,
            version: c.version,
            created_at: guildhall_auth::api::rfc3339(c.created_at),
            updated_at: guildhall_auth::api::rfc3339(c.updated_at),
            derived: guildhall_characters::derive(c),
        }
    }
}

/// The first answer to a request, given again for a retry with the same key.
fn replay(answer: &Remembered) -> Answer {
    Answer {
        status: answer.status,
        body: (answer.status != 204).then(|| answer.body.get().as_bytes().to_vec()),
    }
}

/// A character as clients see it, as JSON text.
pub fn view(character: &Character) -> Vec<u8> {
    serde_json::to_vec(&ClientView::of(character)).expect("views serialize")
}

/// A character as clients see it, as a JSON value (lists, conflicts, remembered answers).
pub fn view_value(character: &Character) -> serde_json::Value {
    serde_json::to_value(ClientView::of(character)).expect("views serialize")
}

impl Players {
    pub fn new(
        store: guildhall_store::Store,
        config: PlayersConfig,
        bus: guildhall_bus::SharedBus,
    ) -> Arc<Self> {
        let ownership = Ownership::new(std::time::Duration::from_millis(config.lease_ttl_ms), bus);
        Arc::new(Self {
            store: PlayersStore::new(store),
            cache: Cache::default(),
            config,
            ownership,
        })
    }

    /// Starts the background work: lease renewal and release requests, and the
    /// write-behind flusher (which flushes everything and releases the leases at shutdown).
    pub fn start(
        self: &Arc<Self>,
        shutdown: tokio_util::sync::CancellationToken,
        tasks: &tokio_util::task::TaskTracker,
        grace: std::time::Duration,
    ) {
        let players = self.clone();
        let stop = shutdown.clone();
        tasks.spawn(async move { players.ownership.run(&players, stop).await });
        tasks.spawn(crate::flusher::run(self.clone(), shutdown, grace));
    }

    /// Writes `owner`'s changed characters now (before handing the user to another instance).
    pub(crate) async fn flush_owner(&self, owner: Uuid) -> Result<(), sqlx::Error> {
        for id in self.cache.owned_by(owner) {
            let slot = self.cache.slot(id);
            let mut guard = slot.lock().await;
            if let Slot::Loaded(entry) = &mut *guard
                && entry.dirty
            {
                self.store
                    .write_one(&entry.to_row(), &self.ownership.instance)
                    .await?;
                crate::telemetry::rows_written().increment(1);
                entry.dirty = false;
            }
        }
        Ok(())
    }

    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// Locks a character's slot, loading it from the database on a miss.
    async fn locked(
        &self,
        id: Uuid,
    ) -> Result<(SlotRef, tokio::sync::OwnedMutexGuard<Slot>), PlayersError> {
        let slot = self.cache.slot(id);
        let mut guard = slot.clone().lock_owned().await;
        if matches!(*guard, Slot::Unloaded) {
            metrics::counter!("players_cache_misses_total").increment(1);
            *guard = match self.store.load(id).await? {
                Some(row) => {
                    let entry = Entry::from_row(&row)?;
                    self.cache.note_owner(entry.character.owner, id);
                    Slot::Loaded(entry)
                }
                None => Slot::Absent,
            };
        } else {
            crate::telemetry::cache_hits().increment(1);
        }
        Ok((slot, guard))
    }

    /// Creates a character. With an idempotency key the id derives from it, so a retry
    /// returns the first answer instead of creating a second character.
    pub async fn create(
        &self,
        owner: Uuid,
        mut new: NewCharacter,
        key: Option<&str>,
    ) -> Result<Answer, PlayersError> {
        let started = Instant::now();
        let telemetry = crate::telemetry::intent("create");
        self.ownership.ensure(self, owner).await?;
        let invalid = |reason: String| {
            telemetry.invalid.increment(1);
            PlayersError::InvalidIntent(reason)
        };
        let name = DisplayName::parse(&new.name).map_err(|e| invalid(format!("name: {e}")))?;
        new.name = name.into_string();
        let id = match key {
            Some(key) => Uuid::new_v5(&CREATE_NAMESPACE, format!("{owner}/{key}").as_bytes()),
            None => Uuid::now_v7(),
        };
        let (_slot, mut guard) = self.locked(id).await?;
        if !self.ownership.may_write(owner) {
            return Err(PlayersError::Unavailable);
        }
        if let Slot::Loaded(entry) = &*guard {
            // Only a retry of the same create can land on an existing id.
            return match key.and_then(|k| entry.remembered(k)) {
                Some(answer) if entry.character.owner == owner => Ok(replay(answer)),
                _ => Err(PlayersError::InvalidRequest(
                    "this Idempotency-Key was used for another request".into(),
                )),
            };
        }
        if self.list_held(owner).await?.len() >= self.config.max_characters_per_user {
            return Err(invalid(format!(
                "a user may have at most {} characters",
                self.config.max_characters_per_user
            )));
        }
        let character = guildhall_characters::create(id, owner, new, now_unix())
            .map_err(|e| invalid(e.to_string()))?;
        let body = view(&character);
        let mut entry = Entry::created(character);
        if let Some(key) = key {
            entry.remember(
                Remembered::new(key, 201, Some(body.as_slice())),
                self.config.idempotency_keys_per_character,
            );
        }
        self.commit(id, owner, &mut guard, entry).await?;
        // A loaded character's owner was noted when it was loaded; a new one's is now.
        self.cache.note_owner(owner, id);
        telemetry.ok.increment(1);
        telemetry.duration.record(started.elapsed().as_secs_f64());
        Ok(Answer {
            status: 201,
            body: Some(body),
        })
    }

    /// The owner's characters: the database's, overlaid with newer cached states (which may
    /// not be flushed yet).
    pub async fn list(&self, owner: Uuid) -> Result<Vec<serde_json::Value>, PlayersError> {
        self.ownership.ensure(self, owner).await?;
        self.list_held(owner).await
    }

    async fn list_held(&self, owner: Uuid) -> Result<Vec<serde_json::Value>, PlayersError> {
        let mut characters: std::collections::BTreeMap<Uuid, (Character, bool)> =
            std::collections::BTreeMap::new();
        for row in self.store.list_owner(owner).await? {
            let entry = Entry::from_row(&row)?;
            characters.insert(row.id, (entry.character, entry.deleted));
        }
        for id in self.cache.owned_by(owner) {
            let slot = self.cache.slot(id);
            let guard = slot.lock().await;
            if let Slot::Loaded(entry) = &*guard {
                let newer = characters
                    .get(&id)
                    .is_none_or(|(c, _)| c.version < entry.character.version);
                if newer && entry.character.owner == owner {
                    characters.insert(id, (entry.character.clone(), entry.deleted));
                }
            }
        }
        let mut live: Vec<Character> = characters
            .into_values()
            .filter(|(_, deleted)| !deleted)
            .map(|(c, _)| c)
            .collect();
        live.sort_by_key(|c| (c.created_at, c.id));
        Ok(live.iter().map(view_value).collect())
    }

    /// One character as JSON text.
    pub async fn get(&self, owner: Uuid, id: Uuid) -> Result<Vec<u8>, PlayersError> {
        self.ownership.ensure(self, owner).await?;
        let (_slot, mut guard) = self.locked(id).await?;
        match &mut *guard {
            Slot::Loaded(entry) if entry.character.owner == owner && !entry.deleted => {
                entry.last_used = Instant::now();
                Ok(view(&entry.character))
            }
            _ => Err(PlayersError::NotFound),
        }
    }

    /// Applies an intent if `expected_version` is current. `intent: None` deletes.
    pub async fn act(
        &self,
        owner: Uuid,
        id: Uuid,
        intent: Option<&Intent>,
        expected_version: i64,
        key: Option<&str>,
    ) -> Result<Answer, PlayersError> {
        let started = Instant::now();
        let telemetry = crate::telemetry::intent(intent.map(Intent::name).unwrap_or("delete"));
        self.ownership.ensure(self, owner).await?;
        let (_slot, mut guard) = self.locked(id).await?;
        let Slot::Loaded(current) = &mut *guard else {
            return Err(PlayersError::NotFound);
        };
        if !self.ownership.may_write(owner) {
            return Err(PlayersError::Unavailable);
        }
        if current.character.owner != owner
            || current.deleted && key.is_none_or(|k| current.remembered(k).is_none())
        {
            return Err(PlayersError::NotFound);
        }
        if let Some(answer) = key.and_then(|k| current.remembered(k)) {
            metrics::counter!("players_idempotent_replays_total").increment(1);
            return Ok(replay(answer));
        }
        if current.character.version != expected_version {
            metrics::counter!("players_version_conflicts_total").increment(1);
            return Err(PlayersError::VersionConflict {
                current: Box::new(view_value(&current.character)),
            });
        }
        let now = now_unix();
        let (character, deleted, answer) = match intent {
            Some(intent) => {
                let character = guildhall_characters::apply(&current.character, intent, now)
                    .map_err(|e| {
                        telemetry.invalid.increment(1);
                        PlayersError::InvalidIntent(e.to_string())
                    })?;
                let body = view(&character);
                let answer = Answer {
                    status: 200,
                    body: Some(body),
                };
                (character, current.deleted, answer)
            }
            None => {
                let mut character = current.character.clone();
                character.version += 1;
                character.updated_at = now;
                let answer = Answer {
                    status: 204,
                    body: None,
                };
                (character, true, answer)
            }
        };
        // The remembered answers (up to `idempotency_keys_per_character` character views)
        // move into the new state instead of being copied on every intent. Write-behind
        // cannot fail from here on; write-through can, and then the current state must
        // stay whole, so it copies them.
        let idempotency = match self.config.write_mode {
            WriteMode::WriteBehind => std::mem::take(&mut current.idempotency),
            WriteMode::WriteThrough => current.idempotency.clone(),
        };
        let mut next = Entry {
            character,
            deleted,
            idempotency,
            dirty: true,
            last_used: Instant::now(),
        };
        if let Some(key) = key {
            next.remember(
                Remembered::new(key, answer.status, answer.body.as_deref()),
                self.config.idempotency_keys_per_character,
            );
        }
        self.commit(id, owner, &mut guard, next).await?;
        telemetry.ok.increment(1);
        telemetry.duration.record(started.elapsed().as_secs_f64());
        Ok(answer)
    }

    /// Makes `entry` the character's state: in write-through mode only once the database
    /// has it (on failure nothing changes); in write-behind mode at once, flushed later.
    async fn commit(
        &self,
        id: Uuid,
        owner: Uuid,
        guard: &mut Slot,
        mut entry: Entry,
    ) -> Result<(), PlayersError> {
        if self.config.write_mode == WriteMode::WriteThrough {
            let row = entry.to_row();
            match self.store.write_one(&row, &self.ownership.instance).await {
                Ok(true) => {
                    crate::telemetry::rows_written().increment(1);
                    entry.dirty = false;
                }
                Ok(false) => {
                    // Fenced: another instance took this user. Nothing was applied here.
                    tracing::warn!(%id, "write-through fenced; this instance lost the user");
                    self.cache.forget_owner(owner);
                    return Err(PlayersError::Unavailable);
                }
                Err(err) => {
                    tracing::warn!(%err, %id, "write-through failed; intent not applied");
                    return Err(PlayersError::Unavailable);
                }
            }
        } else {
            self.cache.mark_dirty(id);
        }
        *guard = Slot::Loaded(entry);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The view as the rules crate builds it, times formatted: what [`ClientView`] mirrors.
    fn reference(character: &Character) -> serde_json::Value {
        let mut value = serde_json::to_value(guildhall_characters::view(character)).unwrap();
        for key in ["created_at", "updated_at"] {
            let unix = value[key].as_i64().unwrap();
            value[key] = guildhall_auth::api::rfc3339(unix).into();
        }
        value
    }

    /// A new level-1 dwarf fighter.
    fn tordek() -> Character {
        let new = crate::new_tordek();
        guildhall_characters::create(Uuid::now_v7(), Uuid::now_v7(), new, 1_700_000_000).unwrap()
    }

    #[test]
    fn the_client_view_has_every_field_of_the_rules_view() {
        let bare = tordek();
        let mut equipped = bare.clone();
        for intent in [
            json!({"intent": "equip_armor", "armor": "chain_mail"}),
            json!({"intent": "equip_weapon", "weapon": "longsword"}),
            json!({"intent": "temp_hp", "amount": 5}),
        ] {
            let intent: Intent = serde_json::from_value(intent).unwrap();
            equipped = guildhall_characters::apply(&equipped, &intent, 1_700_000_100).unwrap();
        }
        for character in [&bare, &equipped] {
            let expected = reference(character);
            assert_eq!(view_value(character), expected);
            let text: serde_json::Value = serde_json::from_slice(&view(character)).unwrap();
            assert_eq!(text, expected);
        }
        assert_eq!(reference(&equipped)["armor"], "chain_mail");
        assert_eq!(reference(&equipped)["updated_at"], "2023-11-14T22:15:00Z");
    }

    #[test]
    fn remembered_answers_replay_the_bytes_sent_through_a_stored_row() {
        let character = tordek();
        let sent = view(&character);
        let mut entry = Entry::created(character);
        entry.remember(Remembered::new("create", 201, Some(&sent)), 32);
        entry.remember(Remembered::new("delete", 204, None), 32);
        let loaded = Entry::from_row(&entry.to_row()).unwrap();
        let replayed = replay(loaded.remembered("create").unwrap());
        assert_eq!(replayed.status, 201);
        assert_eq!(
            replayed.body.as_deref(),
            Some(sent.as_slice()),
            "the same bytes"
        );
        assert_eq!(
            replay(loaded.remembered("delete").unwrap()),
            Answer {
                status: 204,
                body: None
            }
        );

        // Rows written before answers were kept as text hold them as JSON values, in any
        // spacing; they still load and replay the same answer.
        let mut row = entry.to_row();
        let earlier: serde_json::Value = serde_json::from_slice(&sent).unwrap();
        row.idempotency = serde_json::to_string_pretty(
            &json!([{"key": "create", "status": 201, "body": earlier}]),
        )
        .unwrap();
        let old = replay(Entry::from_row(&row).unwrap().remembered("create").unwrap());
        let old: serde_json::Value = serde_json::from_slice(&old.body.unwrap()).unwrap();
        assert_eq!(old, earlier);
    }
}
