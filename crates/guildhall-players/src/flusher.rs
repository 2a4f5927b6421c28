//! Write-behind: a background task writes dirty characters in batches.
//!
//! Each flush takes the set of characters changed since the last one and snapshots each
//! under its lock, a batch at a time just before writing it, so only the latest version of
//! a character is written however many intents it took in between (coalescing). A batch
//! is one transaction of conditional upserts (`WHERE stored.version < new.version`), so an
//! old snapshot can never overwrite a newer state. After the write, a character is marked clean only if nothing changed
//! it meanwhile.
//!
//! Failures: when the database is unreachable, everything stays dirty and is retried at
//! the next tick. When the database answers but a batch fails, rows are retried one by
//! one to isolate the bad one; a row that fails `flush_attempts` times goes to
//! `players_dead_letters` with the error (`guildhall admin dead-letters` lists and
//! replays them). At shutdown the task stops writes (they answer `unavailable`, and head's
//! clients retry on the instance that takes the user over), waits out writes already in
//! progress, and keeps flushing until nothing is dirty; only then are the leases released.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use guildhall_tokens::now_unix;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::Players;
use crate::cache::Slot;
use crate::store::Row;

const BATCH: usize = 500;

/// What one flush did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Flushed {
    pub rows: usize,
    pub dead_lettered: usize,
    pub still_dirty: usize,
}

/// Runs until `shutdown`, then flushes everything left (bounded by `final_deadline`).
pub async fn run(players: Arc<Players>, shutdown: CancellationToken, final_deadline: Duration) {
    // A fixed rate, not a sleep after each flush: a flush that takes long under load must
    // not stretch the window of acknowledged-but-unwritten changes beyond the interval.
    let mut ticks = tokio::time::interval(Duration::from_millis(players.config.flush_interval_ms));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    let mut attempts = HashMap::new();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = ticks.tick() => {}
        }
        flush(&players, &mut attempts).await;
        players.cache.evict(players.config.cache_capacity);
    }
    // No write may be acknowledged after the final flush: stop taking writes, then pass
    // through every character's lock once, so a write that got in before the stop has
    // finished (and marked its character dirty) before the flush below looks.
    players.ownership.stop();
    for slot in players.cache.all_slots() {
        drop(slot.lock().await);
    }
    let deadline = Instant::now() + final_deadline;
    while players.cache.dirty_len() > 0 && Instant::now() < deadline {
        let report = flush(&players, &mut attempts).await;
        if report.still_dirty > 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let left = players.cache.dirty_len();
    if left > 0 {
        tracing::error!(left, "shutting down with unflushed characters");
    } else {
        tracing::info!("all characters flushed");
    }
    // Other instances may take our users at once instead of waiting for expiry.
    players.ownership.release_all(&players).await;
}

/// One flush of everything dirty now.
pub async fn flush(players: &Players, attempts: &mut HashMap<Uuid, u32>) -> Flushed {
    let ids = players.cache.take_dirty();
    if ids.is_empty() {
        return Flushed::default();
    }
    let started = Instant::now();
    let mut report = Flushed::default();
    let mut flushed = 0;
    // Snapshot a batch, write it, let it go, then the next: the rows of a flush are not all
    // held at once (10,000 keyed characters make 300 MB of rows), so the allocator reuses
    // the same memory batch after batch instead of faulting in fresh pages.
    for ids in ids.chunks(BATCH) {
        let mut chunk = Vec::with_capacity(ids.len());
        for &id in ids {
            let slot = players.cache.slot(id);
            let guard = slot.lock().await;
            if let Slot::Loaded(entry) = &*guard
                && entry.dirty
            {
                chunk.push(entry.to_row());
            }
        }
        flushed += chunk.len();
        let chunk = chunk.as_slice();
        match players
            .store
            .write_batch(chunk, &players.ownership.instance)
            .await
        {
            Ok(_) => {
                for row in chunk {
                    settle(players, row, attempts).await;
                }
                report.rows += chunk.len();
                // Counted as each batch lands, so a long flush shows its progress.
                crate::telemetry::rows_written().increment(chunk.len() as u64);
            }
            Err(err) if !players.store.ping().await => {
                tracing::warn!(%err, rows = chunk.len(), "database unreachable; will retry");
                for row in chunk {
                    players.cache.mark_dirty(row.id);
                }
                report.still_dirty += chunk.len();
            }
            Err(err) => {
                tracing::warn!(%err, "batch failed; writing rows one by one");
                for row in chunk {
                    match players
                        .store
                        .write_one(row, &players.ownership.instance)
                        .await
                    {
                        Ok(_) => {
                            settle(players, row, attempts).await;
                            report.rows += 1;
                            crate::telemetry::rows_written().increment(1);
                        }
                        Err(err) => {
                            let tries = attempts.entry(row.id).or_default();
                            *tries += 1;
                            if *tries >= players.config.flush_attempts {
                                tracing::error!(%err, id = %row.id, version = row.version, "dead-lettering a character write");
                                if players
                                    .store
                                    .dead_letter(row, &err.to_string(), now_unix())
                                    .await
                                    .is_ok()
                                {
                                    metrics::counter!("players_dead_letters_total").increment(1);
                                    settle(players, row, attempts).await;
                                    report.dead_lettered += 1;
                                    continue;
                                }
                            }
                            players.cache.mark_dirty(row.id);
                            report.still_dirty += 1;
                        }
                    }
                }
            }
        }
    }
    metrics::histogram!("players_flush_batch_size").record(flushed as f64);
    metrics::histogram!("players_flush_duration_seconds").record(started.elapsed().as_secs_f64());
    crate::telemetry::dirty_characters().set(players.cache.dirty_len() as f64);
    report
}

/// Marks the cached character clean if the written version is still its current one.
async fn settle(players: &Players, row: &Row, attempts: &mut HashMap<Uuid, u32>) {
    attempts.remove(&row.id);
    let slot = players.cache.slot(row.id);
    let mut guard = slot.lock().await;
    if let Slot::Loaded(entry) = &mut *guard
        && entry.character.version == row.version
    {
        entry.dirty = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use guildhall_characters::Intent;
    use serde_json::json;

    /// More dirty characters than a batch holds, with Idempotency-Key answers: a flush
    /// writes every one of them, batch after batch, and afterwards only what changed.
    #[tokio::test]
    async fn a_flush_writes_every_batch_and_then_only_what_changed() {
        let dir = tempfile::tempdir().unwrap();
        let config = guildhall_config::PlayersConfig {
            max_characters_per_user: 100,
            ..Default::default()
        };
        let players = crate::players_on_sqlite(dir.path(), config).await;
        let new = crate::new_tordek();
        let mut made = Vec::new();
        for _ in 0..11 {
            let owner = Uuid::now_v7();
            for n in 0..100 {
                let key = format!("make-{n}");
                let answer = players
                    .create(owner, new.clone(), Some(&key))
                    .await
                    .unwrap();
                let body: serde_json::Value =
                    serde_json::from_slice(&answer.body.unwrap()).unwrap();
                let id = Uuid::parse_str(body["id"].as_str().unwrap()).unwrap();
                made.push((owner, id, key));
            }
        }
        assert!(made.len() > 2 * BATCH, "three batches");

        let mut attempts = HashMap::new();
        let report = flush(&players, &mut attempts).await;
        assert_eq!(report.rows, made.len());
        assert_eq!((report.still_dirty, report.dead_lettered), (0, 0));
        assert_eq!(players.cache.dirty_len(), 0);
        for &(_, id, ref key) in [&made[0], &made[BATCH], &made[made.len() - 1]] {
            let row = players.store.load(id).await.unwrap().expect("written");
            assert_eq!(row.version, 1);
            assert!(
                row.idempotency.contains(key.as_str()),
                "{key} in {id}'s row"
            );
        }

        let hit: Intent =
            serde_json::from_value(json!({"intent": "temp_hp", "amount": 5})).unwrap();
        for &(owner, id, _) in &made[BATCH - 1..=BATCH] {
            players.act(owner, id, Some(&hit), 1, None).await.unwrap();
        }
        let report = flush(&players, &mut attempts).await;
        assert_eq!(report.rows, 2, "only the changed characters");
        for &(_, id, _) in &made[BATCH - 1..=BATCH] {
            assert_eq!(players.store.load(id).await.unwrap().unwrap().version, 2);
        }
        assert_eq!(flush(&players, &mut attempts).await, Flushed::default());
    }
}
