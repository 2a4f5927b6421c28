//! Where matchmaking state survives a restart: Redis in the split shape. `guildhall up`
//! keeps it in memory only (one process; its clients restart with it).

use async_trait::async_trait;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use uuid::Uuid;

use crate::engine::{Lobby, Server, Ticket};

/// Changed and removed entries, written together.
#[derive(Debug, Default)]
pub struct Batch {
    pub tickets: Vec<Ticket>,
    pub removed_tickets: Vec<Uuid>,
    pub servers: Vec<Server>,
    pub removed_servers: Vec<String>,
    pub lobbies: Vec<Lobby>,
    pub removed_lobbies: Vec<Uuid>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.tickets.is_empty()
            && self.removed_tickets.is_empty()
            && self.servers.is_empty()
            && self.removed_servers.is_empty()
            && self.lobbies.is_empty()
            && self.removed_lobbies.is_empty()
    }
}

/// Everything saved.
#[derive(Debug, Default)]
pub struct Saved {
    pub tickets: Vec<Ticket>,
    pub servers: Vec<Server>,
    pub lobbies: Vec<Lobby>,
}

#[async_trait]
pub trait StateStore: Send + Sync + std::fmt::Debug {
    async fn load(&self) -> anyhow::Result<Saved>;
    async fn save(&self, batch: &Batch) -> anyhow::Result<()>;
}

/// Three Redis hashes (tickets, servers, lobbies), each field one JSON entry, written in
/// one atomic pipeline per batch.
#[derive(Clone)]
pub struct RedisStore {
    redis: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl RedisStore {
    pub async fn connect(url: &str, key_prefix: &str) -> anyhow::Result<Self> {
        let client = guildhall_bus::redis_client(url)?;
        let redis = ConnectionManager::new(client).await?;
        Ok(Self {
            redis,
            prefix: format!("{key_prefix}matchmaker:"),
        })
    }

    fn key(&self, what: &str) -> String {
        format!("{}{what}", self.prefix)
    }
}

async fn load_hash<T: serde::de::DeserializeOwned>(
    redis: &mut ConnectionManager,
    key: &str,
) -> anyhow::Result<Vec<T>> {
    let entries: Vec<(String, String)> = redis.hgetall(key).await?;
    let mut out = Vec::with_capacity(entries.len());
    for (field, value) in entries {
        match serde_json::from_str(&value) {
            Ok(entry) => out.push(entry),
            Err(err) => tracing::warn!(key, field, %err, "skipping an unreadable matchmaker entry"),
        }
    }
    Ok(out)
}

#[async_trait]
impl StateStore for RedisStore {
    async fn load(&self) -> anyhow::Result<Saved> {
        let mut redis = self.redis.clone();
        Ok(Saved {
            tickets: load_hash(&mut redis, &self.key("tickets")).await?,
            servers: load_hash(&mut redis, &self.key("servers")).await?,
            lobbies: load_hash(&mut redis, &self.key("lobbies")).await?,
        })
    }

    async fn save(&self, batch: &Batch) -> anyhow::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        let (tickets, servers, lobbies) = (
            self.key("tickets"),
            self.key("servers"),
            self.key("lobbies"),
        );
        for t in &batch.tickets {
            pipe.hset(&tickets, t.id.to_string(), serde_json::to_string(t)?)
                .ignore();
        }
        for id in &batch.removed_tickets {
            pipe.hdel(&tickets, id.to_string()).ignore();
        }
        for s in &batch.servers {
            pipe.hset(&servers, &s.info.server_id, serde_json::to_string(s)?)
                .ignore();
        }
        for id in &batch.removed_servers {
            pipe.hdel(&servers, id).ignore();
        }
        for l in &batch.lobbies {
            pipe.hset(&lobbies, l.id.to_string(), serde_json::to_string(l)?)
                .ignore();
        }
        for id in &batch.removed_lobbies {
            pipe.hdel(&lobbies, id.to_string()).ignore();
        }
        let mut redis = self.redis.clone();
        pipe.query_async::<()>(&mut redis).await?;
        Ok(())
    }
}
