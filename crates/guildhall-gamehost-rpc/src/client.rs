//! [`RemoteHost`]: a [`GameBackend`] that is a game host across the network.
//!
//! One lazily connected HTTP/2 connection carries every call; tonic reconnects it
//! when it breaks. Unary calls (they only read) are retried on
//! [`Error::Unreachable`] with exponential backoff; streams are opened once. Every
//! call passes the [circuit breaker](crate::breaker) first, so while the host is
//! down the gateway's menus fail at once instead of each waiting out its retries.

use std::time::Duration;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use guildhall_gamehost::{
    Death, DeathSource, Error, GameBackend, GameId, GameInfo, InputSink, LiveSession,
    MAX_RECORDING_BYTES, Output, OutputSource, Play, RecordingInfo, SessionId, TermSize, UserName,
};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Response, Status, Streaming};

use crate::breaker::Breaker;
use crate::convert::{
    Malformed, death_from_wire, game_from_wire, live_session_from_wire, output_from_wire,
    recording_from_wire, resize_to_wire, session_id_from_wire,
};
use crate::proto::game_host_client::GameHostClient;
use crate::proto::{self, play_reply, play_request};
use crate::status::{error_from_status, is_unreachable};

/// The largest reply accepted. A screen redraw is the largest: a 1000×500 screen
/// with a colour change in every cell comes to some 20 MiB.
const MAX_REPLY_BYTES: usize = 32 * 1024 * 1024;

/// Flow control per call: a player whose SSH client stopped reading holds at most
/// this much of the connection's window, so others keep playing.
const STREAM_WINDOW_BYTES: u32 = 1024 * 1024;
/// Flow control for the whole connection, shared by every player and watcher.
const CONNECTION_WINDOW_BYTES: u32 = 64 * 1024 * 1024;

/// Pings on the connection, so a host that vanished without closing it is noticed
/// and its players' output ends instead of hanging.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(20);
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// Keystrokes and resizes queued for the host before [`InputSink::send`] waits.
const INPUT_QUEUE: usize = 64;

/// How a [`RemoteHost`] connects, retries and gives up.
#[derive(Clone, Debug)]
pub struct RemotePolicy {
    /// How long connecting may take before the host counts as unreachable.
    pub connect_timeout: Duration,
    /// How long a unary call may wait for its answer (streams have no limit: a game
    /// may run for hours).
    pub call_timeout: Duration,
    /// Tries per unary call while the host is unreachable (1 means no retry).
    pub attempts: u32,
    /// The wait before the second try, doubled before each next one.
    pub first_backoff: Duration,
    /// Calls in a row that found the host unreachable before the breaker opens.
    pub breaker_threshold: u32,
    /// How long an open breaker fails calls at once before letting one through.
    pub breaker_cooldown: Duration,
}

impl Default for RemotePolicy {
    fn default() -> Self {
        RemotePolicy {
            connect_timeout: Duration::from_secs(1),
            call_timeout: Duration::from_secs(10),
            attempts: 3,
            first_backoff: Duration::from_millis(50),
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(2),
        }
    }
}

/// A game host reached over gRPC (see [`serve`](crate::serve)).
#[derive(Debug)]
pub struct RemoteHost {
    /// Cheap to clone: every clone shares the one connection.
    client: GameHostClient<Channel>,
    policy: RemotePolicy,
    breaker: Breaker,
}

impl RemoteHost {
    /// A client of the game host at `url` (`http://host:port`) with the default
    /// [`RemotePolicy`]. Nothing is connected until the first call. Must be called
    /// within a Tokio runtime.
    pub fn new(url: &str) -> Result<Self, Error> {
        Self::with_policy(url, RemotePolicy::default())
    }

    /// Like [`new`](Self::new), with `policy`.
    pub fn with_policy(url: &str, policy: RemotePolicy) -> Result<Self, Error> {
        let endpoint = Endpoint::from_shared(url.to_owned())
            .map_err(|error| Error::Config(format!("game host url {url:?}: {error}")))?
            .connect_timeout(policy.connect_timeout)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(KEEPALIVE_INTERVAL)
            .keep_alive_timeout(KEEPALIVE_TIMEOUT)
            .initial_stream_window_size(STREAM_WINDOW_BYTES)
            .initial_connection_window_size(CONNECTION_WINDOW_BYTES);
        let client =
            GameHostClient::new(endpoint.connect_lazy()).max_decoding_message_size(MAX_REPLY_BYTES);
        Ok(RemoteHost {
            client,
            breaker: Breaker::new(policy.breaker_threshold, policy.breaker_cooldown),
            policy,
        })
    }

    /// Makes a unary call, retrying while the host is unreachable.
    async fn unary<Req, Rep, Call, Fut>(&self, request: Req, mut call: Call) -> Result<Rep, Error>
    where
        Req: Clone,
        Call: FnMut(GameHostClient<Channel>, Request<Req>) -> Fut,
        Fut: Future<Output = Result<Response<Rep>, Status>>,
    {
        let permit = self.breaker.admit(Instant::now())?;
        let attempts = if permit.is_probe() {
            1
        } else {
            self.policy.attempts.max(1)
        };
        let mut backoff = self.policy.first_backoff;
        let mut attempt = 1;
        loop {
            let answer = tokio::time::timeout(
                self.policy.call_timeout,
                call(self.client.clone(), Request::new(request.clone())),
            )
            .await;
            let status = match answer {
                Ok(Ok(reply)) => {
                    permit.reached();
                    return Ok(reply.into_inner());
                }
                Ok(Err(status)) if is_unreachable(&status) => status,
                Ok(Err(status)) => {
                    permit.reached();
                    return Err(error_from_status(&status));
                }
                // A host that accepts calls but does not answer them is no more
                // use than one that is down; trying again would only wait longer.
                Err(_) => {
                    permit.unreachable(Instant::now());
                    return Err(Error::Unreachable(format!(
                        "no answer within {} ms",
                        self.policy.call_timeout.as_millis()
                    )));
                }
            };
            if attempt >= attempts {
                permit.unreachable(Instant::now());
                return Err(error_from_status(&status));
            }
            tracing::debug!(%status, attempt, "game host unreachable; retrying");
            tokio::time::sleep(backoff).await;
            backoff = backoff.saturating_mul(2);
            attempt += 1;
        }
    }

    /// Opens a stream (once: a stream is not retried).
    async fn open<Rep>(
        &self,
        call: impl Future<Output = Result<Response<Rep>, Status>>,
    ) -> Result<Rep, Error> {
        let permit = self.breaker.admit(Instant::now())?;
        match call.await {
            Ok(reply) => {
                permit.reached();
                Ok(reply.into_inner())
            }
            Err(status) => {
                if is_unreachable(&status) {
                    permit.unreachable(Instant::now());
                } else {
                    permit.reached();
                }
                Err(error_from_status(&status))
            }
        }
    }

    /// A player's call: `Start`, then `Started` back, then output and input.
    async fn start(&self, start: proto::Start) -> Result<Play, Error> {
        let (requests, mut queued) = mpsc::channel(INPUT_QUEUE);
        let start = proto::PlayRequest {
            kind: Some(play_request::Kind::Start(start)),
        };
        // The receiver is alive: this cannot fail, and the queue has room.
        let _ = requests.try_send(start);
        let outgoing = futures_util::stream::poll_fn(move |cx| queued.poll_recv(cx));
        let mut client = self.client.clone();
        let mut replies = self.open(client.play(outgoing)).await?;
        let first = replies
            .message()
            .await
            .map_err(|status| error_from_status(&status))?;
        let session = match first.and_then(|reply| reply.kind) {
            Some(play_reply::Kind::Started(started)) => {
                session_id_from_wire(&started.session_id).map_err(malformed)?
            }
            _ => {
                return Err(malformed(Malformed(
                    "a Play call began without Started".into(),
                )));
            }
        };
        Ok(Play {
            session,
            output: Box::new(RemoteOutput { replies }),
            input: Box::new(RemoteInput { session, requests }),
        })
    }
}

fn malformed(malformed: Malformed) -> Error {
    Error::Remote(format!("malformed reply: {}", malformed.0))
}

/// Every item of a reply, or the error for the first one that cannot be read.
fn all<Wire, Item>(
    items: Vec<Wire>,
    convert: impl Fn(Wire) -> Result<Item, Malformed>,
) -> Result<Vec<Item>, Error> {
    items
        .into_iter()
        .map(|item| convert(item).map_err(malformed))
        .collect()
}

#[async_trait]
impl GameBackend for RemoteHost {
    async fn games(&self) -> Result<Vec<GameInfo>, Error> {
        let reply = self
            .unary(proto::GamesRequest {}, |mut client, request| async move {
                client.games(request).await
            })
            .await?;
        all(reply.games, game_from_wire)
    }

    async fn play(&self, user: &UserName, game: &GameId, size: TermSize) -> Result<Play, Error> {
        self.start(start_request(user, game, size, false)).await
    }

    async fn edit_options(
        &self,
        user: &UserName,
        game: &GameId,
        size: TermSize,
    ) -> Result<Play, Error> {
        self.start(start_request(user, game, size, true)).await
    }

    async fn watch(&self, session: SessionId) -> Result<Box<dyn OutputSource>, Error> {
        let request = proto::WatchRequest {
            session_id: session.to_string(),
        };
        let mut client = self.client.clone();
        let replies = self.open(client.watch(request)).await?;
        Ok(Box::new(RemoteOutput { replies }))
    }

    async fn live_sessions(&self) -> Result<Vec<LiveSession>, Error> {
        let reply = self
            .unary(
                proto::LiveSessionsRequest {},
                |mut client, request| async move { client.live_sessions(request).await },
            )
            .await?;
        all(reply.sessions, live_session_from_wire)
    }

    async fn recordings(&self, user: &UserName) -> Result<Vec<RecordingInfo>, Error> {
        let request = proto::RecordingsRequest {
            user: user.to_string(),
        };
        let reply = self
            .unary(request, |mut client, request| async move {
                client.recordings(request).await
            })
            .await?;
        all(reply.recordings, recording_from_wire)
    }

    async fn read_recording(
        &self,
        user: &UserName,
        game: &GameId,
        name: &str,
    ) -> Result<Bytes, Error> {
        let request = proto::ReadRecordingRequest {
            user: user.to_string(),
            game: game.to_string(),
            name: name.to_owned(),
        };
        let mut client = self.client.clone();
        let mut chunks = self.open(client.read_recording(request)).await?;
        let mut bytes = BytesMut::new();
        while let Some(chunk) = chunks
            .message()
            .await
            .map_err(|status| error_from_status(&status))?
        {
            let total = bytes.len().saturating_add(chunk.bytes.len());
            let total = u64::try_from(total).unwrap_or(u64::MAX);
            if total > MAX_RECORDING_BYTES {
                return Err(Error::RecordingTooLarge(total));
            }
            bytes.extend_from_slice(&chunk.bytes);
        }
        Ok(bytes.freeze())
    }

    async fn recent_deaths(&self, limit: usize) -> Result<Vec<Death>, Error> {
        let request = proto::RecentDeathsRequest {
            limit: u32::try_from(limit).unwrap_or(u32::MAX),
        };
        let reply = self
            .unary(request, |mut client, request| async move {
                client.recent_deaths(request).await
            })
            .await?;
        all(reply.deaths, death_from_wire)
    }

    async fn deaths(&self) -> Result<Box<dyn DeathSource>, Error> {
        let mut client = self.client.clone();
        let deaths = self.open(client.deaths(proto::DeathsRequest {})).await?;
        Ok(Box::new(RemoteDeaths { deaths }))
    }
}

fn start_request(user: &UserName, game: &GameId, size: TermSize, editor: bool) -> proto::Start {
    proto::Start {
        user: user.to_string(),
        game: game.to_string(),
        cols: u32::from(size.cols),
        rows: u32::from(size.rows),
        editor,
    }
}

/// What carries an output item: a `Play` reply or a `Watch` one.
trait CarriesOutput: Send + 'static {
    fn into_output(self) -> Option<proto::Output>;
}

impl CarriesOutput for proto::PlayReply {
    fn into_output(self) -> Option<proto::Output> {
        match self.kind {
            Some(play_reply::Kind::Output(output)) => Some(output),
            _ => None,
        }
    }
}

impl CarriesOutput for proto::Output {
    fn into_output(self) -> Option<proto::Output> {
        Some(self)
    }
}

/// A game's output, read straight from the response stream.
struct RemoteOutput<Reply> {
    replies: Streaming<Reply>,
}

#[async_trait]
impl<Reply: CarriesOutput> OutputSource for RemoteOutput<Reply> {
    async fn recv(&mut self) -> Option<Output> {
        loop {
            let reply = match self.replies.message().await {
                Ok(reply) => reply?,
                Err(status) => {
                    // The trait has no error to give: the output ends here, as when
                    // the game exits.
                    tracing::debug!(%status, "game output stream broke");
                    return None;
                }
            };
            match reply.into_output().map(output_from_wire) {
                Some(Ok(output)) => return Some(output),
                Some(Err(Malformed(what))) => tracing::warn!(what, "skipping malformed output"),
                None => tracing::warn!("skipping a reply that carries no output"),
            }
        }
    }
}

/// A player's input, queued into the call's request stream. Dropping it ends that
/// stream, which detaches the player.
struct RemoteInput {
    session: SessionId,
    requests: mpsc::Sender<proto::PlayRequest>,
}

impl RemoteInput {
    async fn queue(&self, kind: play_request::Kind) -> Result<(), Error> {
        self.requests
            .send(proto::PlayRequest { kind: Some(kind) })
            .await
            .map_err(|_| Error::NoSuchSession(self.session))
    }
}

#[async_trait]
impl InputSink for RemoteInput {
    async fn send(&self, bytes: Bytes) -> Result<(), Error> {
        self.queue(play_request::Kind::Input(proto::Input { bytes }))
            .await
    }

    async fn resize(&self, size: TermSize) -> Result<(), Error> {
        self.queue(play_request::Kind::Resize(resize_to_wire(size)))
            .await
    }
}

struct RemoteDeaths {
    deaths: Streaming<proto::Death>,
}

#[async_trait]
impl DeathSource for RemoteDeaths {
    async fn recv(&mut self) -> Option<Death> {
        loop {
            let death = match self.deaths.message().await {
                Ok(death) => death?,
                Err(status) => {
                    tracing::debug!(%status, "death stream broke");
                    return None;
                }
            };
            match death_from_wire(death) {
                Ok(death) => return Some(death),
                Err(Malformed(what)) => tracing::warn!(what, "skipping malformed death"),
            }
        }
    }
}
