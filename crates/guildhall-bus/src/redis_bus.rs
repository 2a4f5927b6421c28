//! The bus on Redis, for the split shape.
//!
//! Commands go through a `ConnectionManager`, which reconnects by itself. Subscriptions
//! share one dedicated pub/sub connection owned by a single task (the subscriber task):
//! `subscribe` and dropped subscriptions send it commands, and it alone touches the
//! connection and the table of subscribers. When the connection drops, the task flags a
//! gap on every subscription, reconnects with backoff, resubscribes every channel and
//! flags a gap again, so consumers resynchronise twice: once to show they are degraded,
//! once to catch up.
//!
//! A subscriber only sees what was published after its `subscribe` returned. Before a new
//! subscriber joins the table, the task waits for a reply on the pub/sub connection (the
//! SUBSCRIBE confirmation, or a PING when the channel is already subscribed) and hands out
//! every message that arrived before it. Without that barrier, a message published
//! before a channel was unsubscribed and subscribed again could reach the new subscriber.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::{FutureExt, StreamExt};
use rand::Rng;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, PubSubSink, PubSubStream};
use tokio::sync::{OnceCell, mpsc, oneshot};

use crate::{Bus, BusError, Slot, Subscription};

/// How long one command may take before the bus is reported unavailable.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
const BACKOFF_START: Duration = Duration::from_millis(50);
const BACKOFF_MAX: Duration = Duration::from_secs(2);

/// Publish/subscribe and key-value on Redis.
#[derive(Debug, Clone)]
pub struct RedisBus {
    client: redis::Client,
    prefix: Arc<str>,
    /// Made on first use, so a process can start while Redis is down (and report unready).
    commands: Arc<OnceCell<ConnectionManager>>,
    /// To the subscriber task; it stops when every clone of the bus is gone.
    subscriber: mpsc::UnboundedSender<Command>,
    next_id: Arc<AtomicU64>,
}

enum Command {
    Subscribe {
        channel: String,
        slot: Slot,
        ready: oneshot::Sender<()>,
    },
    Unsubscribe {
        channel: String,
        id: u64,
    },
}

/// Sends an unsubscribe command when a [`Subscription`] is dropped.
struct Unsubscribe {
    subscriber: mpsc::UnboundedSender<Command>,
    channel: String,
    id: u64,
}

impl Drop for Unsubscribe {
    fn drop(&mut self) {
        let _ = self.subscriber.send(Command::Unsubscribe {
            channel: std::mem::take(&mut self.channel),
            id: self.id,
        });
    }
}

impl RedisBus {
    /// Prepares the bus; connections are made on first use and re-made as needed.
    pub fn open(url: &str, key_prefix: &str) -> Result<Self, BusError> {
        let client = client(url).map_err(|e| BusError::UnsupportedUrl(format!("{url}: {e}")))?;
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run_subscriber(client.clone(), key_prefix.to_owned(), rx));
        Ok(Self {
            client,
            prefix: key_prefix.into(),
            commands: Arc::new(OnceCell::new()),
            subscriber: tx,
            next_id: Arc::new(AtomicU64::new(0)),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    async fn connection(&self) -> Result<ConnectionManager, BusError> {
        let manager = self
            .commands
            .get_or_try_init(|| async {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(COMMAND_TIMEOUT))
                    .set_response_timeout(Some(COMMAND_TIMEOUT))
                    .set_number_of_retries(2);
                ConnectionManager::new_with_config(self.client.clone(), config).await
            })
            .await?;
        Ok(manager.clone())
    }

    async fn run<T: redis::FromRedisValue>(&self, cmd: redis::Cmd) -> Result<T, BusError> {
        within_deadline(async {
            let mut conn = self.connection().await?;
            Ok(cmd.query_async(&mut conn).await?)
        })
        .await
    }

    /// Runs `commands` in order as one `MULTI`/`EXEC` transaction: Redis runs them
    /// together, or (a command refused while queued) none of them.
    async fn run_atomic(
        &self,
        commands: impl IntoIterator<Item = redis::Cmd>,
    ) -> Result<(), BusError> {
        let mut transaction = redis::pipe();
        transaction.atomic();
        for command in commands {
            transaction.add_command(command).ignore();
        }
        self.run_pipeline(transaction).await
    }

    /// Sends `pipeline`'s commands in one write on one connection, which Redis runs in
    /// order; their replies as `T`.
    async fn run_pipeline<T: redis::FromRedisValue>(
        &self,
        pipeline: redis::Pipeline,
    ) -> Result<T, BusError> {
        within_deadline(async {
            let mut conn = self.connection().await?;
            Ok(pipeline.query_async(&mut conn).await?)
        })
        .await
    }

    fn set_command(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> redis::Cmd {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(key)).arg(value);
        if let Some(ttl) = ttl {
            cmd.arg("PX").arg(ttl.as_millis().max(1) as u64);
        }
        cmd
    }

    fn publish_command(&self, channel: &str, payload: &[u8]) -> redis::Cmd {
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(self.key(channel)).arg(payload);
        cmd
    }
}

/// `work` (a connection and the commands on it), or `Unavailable` once the command
/// deadline has passed.
async fn within_deadline<T>(
    work: impl std::future::Future<Output = Result<T, BusError>>,
) -> Result<T, BusError> {
    tokio::time::timeout(COMMAND_TIMEOUT * 2, work)
        .await
        .map_err(|_| BusError::Unavailable("redis command timed out".into()))?
}

/// A client for `url` whose connections send at once (`TCP_NODELAY`). redis-rs leaves
/// Nagle's algorithm on, and a small command written while the previous one's packet is
/// unacknowledged then waits for the peer's delayed ACK: up to 40 ms on Linux.
pub fn client(url: &str) -> redis::RedisResult<redis::Client> {
    use redis::IntoConnectionInfo;
    let info = url.into_connection_info()?;
    let tcp = info.tcp_settings().clone().set_nodelay(true);
    redis::Client::open(info.set_tcp_settings(tcp))
}

#[async_trait]
impl Bus for RedisBus {
    fn kind(&self) -> &'static str {
        "redis"
    }

    async fn publish(&self, channel: &str, payload: &[u8]) -> Result<(), BusError> {
        let _receivers: i64 = self.run(self.publish_command(channel, payload)).await?;
        metrics::counter!("bus_messages_published_total").increment(1);
        Ok(())
    }

    async fn subscribe(&self, channel: &str) -> Result<Subscription, BusError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let guard = Unsubscribe {
            subscriber: self.subscriber.clone(),
            channel: channel.to_owned(),
            id,
        };
        let (slot, subscription) = Slot::pair(id, channel, Box::new(guard));
        let (ready, confirmed) = oneshot::channel();
        self.subscriber
            .send(Command::Subscribe {
                channel: channel.to_owned(),
                slot,
                ready,
            })
            .map_err(|_| BusError::Unavailable("subscriber task stopped".into()))?;
        // Resolves once Redis confirmed the SUBSCRIBE, or at once while disconnected (the
        // task subscribes on reconnect and flags a gap).
        let _ = confirmed.await;
        Ok(subscription)
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), BusError> {
        self.run::<()>(self.set_command(key, value, ttl)).await
    }

    async fn set_and_publish(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
        channel: &str,
        payload: &[u8],
    ) -> Result<(), BusError> {
        self.run_atomic([
            self.set_command(key, value, ttl),
            self.publish_command(channel, payload),
        ])
        .await?;
        metrics::counter!("bus_messages_published_total").increment(1);
        Ok(())
    }

    async fn append_and_publish(
        &self,
        key: &str,
        log: &str,
        entry: &[u8],
        renew: Option<Duration>,
        channel: &str,
        payload: &[u8],
    ) -> Result<(), BusError> {
        // A pipeline, not a transaction: Redis runs one connection's commands in order, so
        // the entry is stored before the message goes out, and this game's worker is the
        // log's only writer. (A transaction would add `MULTI` and `EXEC` and their
        // replies to every action, and undoes nothing when a command fails.)
        let log = self.key(log);
        let mut pipe = redis::pipe();
        pipe.cmd("RPUSH").arg(&log).arg(entry).ignore();
        if let Some(ttl) = renew {
            let ttl_ms = ttl.as_millis().max(1) as u64;
            pipe.cmd("PEXPIRE").arg(&log).arg(ttl_ms).ignore();
            pipe.cmd("PEXPIRE").arg(self.key(key)).arg(ttl_ms).ignore();
        }
        pipe.add_command(self.publish_command(channel, payload))
            .ignore();
        self.run_pipeline::<()>(pipe).await?;
        metrics::counter!("bus_messages_published_total").increment(1);
        Ok(())
    }

    async fn set_clearing_log(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
        log: &str,
        publish: Option<(&str, &[u8])>,
    ) -> Result<(), BusError> {
        let mut clear = redis::cmd("DEL");
        clear.arg(self.key(log));
        let mut commands = vec![self.set_command(key, value, ttl), clear];
        if let Some((channel, payload)) = publish {
            commands.push(self.publish_command(channel, payload));
        }
        self.run_atomic(commands).await?;
        if publish.is_some() {
            metrics::counter!("bus_messages_published_total").increment(1);
        }
        Ok(())
    }

    async fn get_with_log(
        &self,
        key: &str,
        log: &str,
    ) -> Result<(Option<Bytes>, Vec<Bytes>), BusError> {
        let mut read = redis::pipe();
        read.atomic()
            .cmd("GET")
            .arg(self.key(key))
            .cmd("LRANGE")
            .arg(self.key(log))
            .arg(0)
            .arg(-1);
        let (value, entries): (Option<Vec<u8>>, Vec<Vec<u8>>) = self.run_pipeline(read).await?;
        Ok((
            value.map(Bytes::from),
            entries.into_iter().map(Bytes::from).collect(),
        ))
    }

    async fn set_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<bool, BusError> {
        let mut cmd = self.set_command(key, value, ttl);
        cmd.arg("NX");
        let stored: Option<String> = self.run(cmd).await?;
        Ok(stored.is_some())
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, BusError> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.key(key));
        let value: Option<Vec<u8>> = self.run(cmd).await?;
        Ok(value.map(Bytes::from))
    }

    async fn set_many(
        &self,
        entries: &[(&str, &[u8])],
        ttl: Option<Duration>,
    ) -> Result<(), BusError> {
        for chunk in entries.chunks(crate::MANY_CHUNK) {
            let mut pipe = redis::pipe();
            for (key, value) in chunk {
                pipe.add_command(self.set_command(key, value, ttl)).ignore();
            }
            self.run_pipeline::<()>(pipe).await?;
        }
        Ok(())
    }

    async fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<Bytes>>, BusError> {
        let mut values = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(crate::MANY_CHUNK) {
            let mut cmd = redis::cmd("MGET");
            for key in chunk {
                cmd.arg(self.key(key));
            }
            let read: Vec<Option<Vec<u8>>> = self.run(cmd).await?;
            if read.len() != chunk.len() {
                return Err(BusError::Unavailable(format!(
                    "MGET of {} keys answered {} values",
                    chunk.len(),
                    read.len()
                )));
            }
            values.extend(read.into_iter().map(|value| value.map(Bytes::from)));
        }
        Ok(values)
    }

    async fn delete(&self, key: &str) -> Result<bool, BusError> {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(self.key(key));
        let removed: i64 = self.run(cmd).await?;
        Ok(removed > 0)
    }

    async fn ping(&self) -> Result<(), BusError> {
        let pong: String = self.run(redis::cmd("PING")).await?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err(BusError::Unavailable(format!(
                "unexpected PING reply {pong}"
            )))
        }
    }
}

/// The subscriber task: owns the pub/sub connection and the subscriber table.
async fn run_subscriber(
    client: redis::Client,
    prefix: String,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let mut table: HashMap<String, Vec<Slot>> = HashMap::new();
    let mut backoff = BACKOFF_START;
    let mut connected_before = false;
    loop {
        // Connect, then subscribe to everything the table holds.
        let connection = match client.get_async_pubsub().await {
            Ok(pubsub) => {
                let (mut sink, stream) = pubsub.split();
                let channels: Vec<String> = table.keys().map(|c| format!("{prefix}{c}")).collect();
                let resubscribed = channels.is_empty() || sink.subscribe(&channels).await.is_ok();
                resubscribed.then_some((sink, stream))
            }
            Err(_) => None,
        };
        let Some((mut sink, mut stream)) = connection else {
            // Keep taking commands while we wait to retry, so callers never hang.
            let sleep = tokio::time::sleep(jitter(backoff));
            tokio::pin!(sleep);
            loop {
                tokio::select! {
                    _ = &mut sleep => break,
                    command = commands.recv() => match command {
                        None => return,
                        Some(command) => { let _ = apply(&mut table, None, &prefix, command).await; }
                    },
                }
            }
            backoff = (backoff * 2).min(BACKOFF_MAX);
            continue;
        };
        if connected_before {
            metrics::counter!("bus_reconnects_total").increment(1);
            tracing::info!(
                channels = table.len(),
                "redis pub/sub reconnected and resubscribed"
            );
            // What was published while we were away is lost: tell every subscriber.
            table.values().flatten().for_each(Slot::flag_gap);
        }
        connected_before = true;
        backoff = BACKOFF_START;

        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    None => return,
                    Some(command) => {
                        if apply(&mut table, Some((&mut sink, &mut stream)), &prefix, command).await.is_err() {
                            break;
                        }
                    }
                },
                message = stream.next() => match message {
                    None => break,
                    Some(message) => deliver(&mut table, &prefix, &message),
                },
            }
        }
        tracing::warn!("redis pub/sub connection lost; reconnecting");
        table.values().flatten().for_each(Slot::flag_gap);
    }
}

/// Hands one message from Redis to the channel's subscribers.
fn deliver(table: &mut HashMap<String, Vec<Slot>>, prefix: &str, message: &redis::Msg) {
    let Some(channel) = message.get_channel_name().strip_prefix(prefix) else {
        return;
    };
    if let Some(slots) = table.get_mut(channel) {
        let payload = Bytes::copy_from_slice(message.get_payload_bytes());
        slots.retain(|slot| slot.offer(&payload));
    }
}

/// Delivers every message already received: those that arrived before the reply the
/// caller just awaited. `Err` when the connection is gone.
fn drain_received(
    table: &mut HashMap<String, Vec<Slot>>,
    stream: &mut PubSubStream,
    prefix: &str,
) -> redis::RedisResult<()> {
    // `unconstrained`: tokio's cooperative budget could otherwise report buffered
    // messages as not ready.
    while let Some(next) = tokio::task::unconstrained(stream.next()).now_or_never() {
        match next {
            Some(message) => deliver(table, prefix, &message),
            None => {
                return Err(redis::RedisError::from(std::io::Error::from(
                    std::io::ErrorKind::ConnectionReset,
                )));
            }
        }
    }
    Ok(())
}

/// Applies a command to the table, and to Redis when connected (`connection` is `None`
/// while reconnecting: the table is resubscribed whole on reconnect).
async fn apply(
    table: &mut HashMap<String, Vec<Slot>>,
    connection: Option<(&mut PubSubSink, &mut PubSubStream)>,
    prefix: &str,
    command: Command,
) -> redis::RedisResult<()> {
    match command {
        Command::Subscribe {
            channel,
            slot,
            ready,
        } => {
            let result = match connection {
                Some((sink, stream)) => {
                    // The barrier: once its reply is here, everything published before
                    // this call has been received, and goes to the earlier subscribers.
                    let barrier = if table.contains_key(&channel) {
                        sink.ping::<redis::Value>().await.map(drop)
                    } else {
                        sink.subscribe(format!("{prefix}{channel}")).await
                    };
                    barrier.and_then(|()| drain_received(table, stream, prefix))
                }
                None => Ok(()),
            };
            table.entry(channel).or_default().push(slot);
            let _ = ready.send(());
            result
        }
        Command::Unsubscribe { channel, id } => match connection {
            Some((sink, _)) if remove_slot(table, &channel, id) => {
                sink.unsubscribe(format!("{prefix}{channel}")).await
            }
            Some(_) => Ok(()),
            None => {
                remove_slot(table, &channel, id);
                Ok(())
            }
        },
    }
}

/// Removes one subscriber; `true` when the channel has none left.
fn remove_slot(table: &mut HashMap<String, Vec<Slot>>, channel: &str, id: u64) -> bool {
    let Some(slots) = table.get_mut(channel) else {
        return false;
    };
    slots.retain(|s| s.id != id);
    if slots.is_empty() {
        table.remove(channel);
        true
    } else {
        false
    }
}

fn jitter(base: Duration) -> Duration {
    let factor = rand::rng().random_range(0.5..1.0);
    base.mul_f64(factor)
}
