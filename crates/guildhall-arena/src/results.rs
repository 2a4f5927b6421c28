//! Match history: each finished match, each player's line in it, and running totals per
//! user, served at `GET /v1/users/{id}/stats`.
//!
//! Lobbies hand finished matches to a writer task over a bounded channel, so a slow
//! database never stalls a tick.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use guildhall_core::now_ms;
use guildhall_core::{ApiError, ErrorCode};
use guildhall_store::{Store, with_pool, write_with_pool};
use serde::Serialize;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::protocol::ResultView;

/// A finished match as a lobby reports it.
#[derive(Debug, Clone)]
pub struct MatchRecord {
    pub match_id: Uuid,
    pub lobby_id: Uuid,
    pub mode: String,
    pub number: u32,
    pub ended_by: &'static str,
    pub ticks: u32,
    pub players: Vec<ResultView>,
}

/// One user's totals and recent matches.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub user_id: Uuid,
    pub matches: i64,
    pub wins: i64,
    pub kills: i64,
    pub deaths: i64,
    pub recent: Vec<RecentMatch>,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct RecentMatch {
    pub match_id: Uuid,
    pub ended_at: i64,
    pub kills: i64,
    pub deaths: i64,
    pub winner: bool,
}

#[derive(Debug, Clone)]
pub struct Results {
    store: Store,
}

impl Results {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// Stores a match and adds it to every player's totals, in one transaction.
    pub async fn record(&self, record: &MatchRecord) -> Result<(), sqlx::Error> {
        let now = now_ms();
        write_with_pool!(&self.store, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO arena_matches (id, lobby_id, mode, number, ended_by, ticks, ended_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(record.match_id)
            .bind(record.lobby_id)
            .bind(&record.mode)
            .bind(record.number as i64)
            .bind(record.ended_by)
            .bind(record.ticks as i64)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            for p in &record.players {
                sqlx::query(
                    "INSERT INTO arena_match_players (match_id, user_id, kills, deaths, winner, ended_at)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(record.match_id)
                .bind(p.user_id)
                .bind(p.kills as i64)
                .bind(p.deaths as i64)
                .bind(p.winner)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO arena_player_stats (user_id, matches, wins, kills, deaths, updated_at)
                     VALUES ($1, 1, $2, $3, $4, $5)
                     ON CONFLICT (user_id) DO UPDATE SET
                        matches = arena_player_stats.matches + 1,
                        wins = arena_player_stats.wins + excluded.wins,
                        kills = arena_player_stats.kills + excluded.kills,
                        deaths = arena_player_stats.deaths + excluded.deaths,
                        updated_at = excluded.updated_at",
                )
                .bind(p.user_id)
                .bind(i64::from(p.winner))
                .bind(p.kills as i64)
                .bind(p.deaths as i64)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// A user's totals (zeros for a user who never played) and last 20 matches.
    pub async fn stats(&self, user: Uuid) -> Result<Stats, sqlx::Error> {
        let totals: Option<(i64, i64, i64, i64)> = with_pool!(&self.store, |pool| {
            sqlx::query_as(
                "SELECT matches, wins, kills, deaths FROM arena_player_stats WHERE user_id = $1",
            )
            .bind(user)
            .fetch_optional(pool)
            .await?
        });
        let recent: Vec<RecentMatch> = with_pool!(&self.store, |pool| {
            sqlx::query_as(
                "SELECT match_id, ended_at, kills, deaths, winner FROM arena_match_players
                 WHERE user_id = $1 ORDER BY ended_at DESC LIMIT 20",
            )
            .bind(user)
            .fetch_all(pool)
            .await?
        });
        let (matches, wins, kills, deaths) = totals.unwrap_or_default();
        Ok(Stats {
            user_id: user,
            matches,
            wins,
            kills,
            deaths,
            recent,
        })
    }

    /// Writes what lobbies send until every sender is gone.
    pub async fn writer(self, mut rx: mpsc::Receiver<MatchRecord>) {
        while let Some(record) = rx.recv().await {
            let mut attempt = 0;
            loop {
                match self.record(&record).await {
                    Ok(()) => {
                        metrics::counter!("arena_matches_recorded_total").increment(1);
                        break;
                    }
                    Err(err) if attempt < 5 => {
                        attempt += 1;
                        tracing::warn!(%err, attempt, "storing a match result failed; retrying");
                        tokio::time::sleep(std::time::Duration::from_millis(200 * attempt)).await;
                    }
                    Err(err) => {
                        tracing::error!(%err, match_id = %record.match_id, "dropping a match result after retries");
                        metrics::counter!("arena_results_dropped_total").increment(1);
                        break;
                    }
                }
            }
        }
    }
}

/// `GET /v1/users/{id}/stats`: public, like profiles.
pub fn routes(results: Results) -> Router {
    Router::new()
        .route("/v1/users/{user_id}/stats", get(stats))
        .with_state(results)
}

async fn stats(
    State(results): State<Results>,
    Path(user): Path<String>,
) -> Result<Json<Stats>, ApiError> {
    let user: Uuid = user
        .parse()
        .map_err(|_| ApiError::new(ErrorCode::InvalidRequest, "user id must be a UUID"))?;
    results
        .stats(user)
        .await
        .map(Json)
        .map_err(ApiError::internal)
}
