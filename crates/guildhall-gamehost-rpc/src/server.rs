//! The gRPC server: each call parses its request once into the game host's types,
//! asks the [`GameBackend`](guildhall_gamehost::GameBackend) and translates the
//! answer. It keeps no state of its own besides the shutdown signal.
//!
//! A player's output is forwarded from inside the response stream, which the
//! connection polls directly: a byte the game writes is encoded as soon as the
//! connection can send it, with no task or channel in between. Their input is read
//! by one task per `Play` call, which applies keystrokes and resizes in the order
//! they came.

use std::time::Duration;

use futures_util::stream::{self, BoxStream, StreamExt};
use guildhall_gamehost::{
    DeathSource, GameId, InputSink, Output, OutputSource, Play, SharedBackend, UserName,
};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status, Streaming};

use crate::convert::{
    death_to_wire, game_to_wire, live_session_to_wire, output_to_wire, recording_to_wire,
    session_id_from_wire, size_from_wire,
};
use crate::proto::game_host_server::{GameHost, GameHostServer};
use crate::proto::{self, play_reply, play_request};
use crate::status::{malformed_request, status_from_error};

/// The largest piece of a recording sent in one message.
pub const RECORDING_CHUNK_BYTES: usize = 64 * 1024;

/// The largest request accepted: keystrokes come in SSH packets of at most 32 KiB,
/// and the host drops input past 64 KiB waiting anyway.
const MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// How long a `Play` call may take to send its `Start`.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Pings on an idle connection, so a gateway that vanished without closing its
/// connection is noticed and its players are detached.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(20);
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// Calls one connection may have open at once. One gateway connection carries every
/// player and watcher it serves, so this is far above hyper's default of 200.
const MAX_STREAMS_PER_CONNECTION: u32 = 8192;

/// The longest recording name accepted (a file name).
const MAX_RECORDING_NAME_BYTES: usize = 255;

/// The deaths a `RecentDeaths` call may ask for (the host keeps fewer).
const MAX_RECENT_DEATHS: u32 = 1000;

/// The gRPC service over a game backend (usually a [`guildhall_gamehost::Host`]).
pub struct GameHostService {
    backend: SharedBackend,
    /// Cancelled when the server shuts down: every open output stream ends, so the
    /// graceful shutdown does not wait on games that may run for hours.
    shutdown: CancellationToken,
}

/// The service for `backend`, to add to a tonic server of your own. Its streams end
/// only when their game or client does; [`serve`] also ends them at shutdown.
pub fn service(backend: SharedBackend) -> GameHostServer<GameHostService> {
    service_until(backend, CancellationToken::new())
}

fn service_until(
    backend: SharedBackend,
    shutdown: CancellationToken,
) -> GameHostServer<GameHostService> {
    GameHostServer::new(GameHostService { backend, shutdown })
        .max_decoding_message_size(MAX_REQUEST_BYTES)
}

/// Serves `backend` on `listener` until `shutdown` resolves, then ends every open
/// stream and returns once every connection has closed.
pub async fn serve(
    listener: TcpListener,
    backend: SharedBackend,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let streams = CancellationToken::new();
    let service = service_until(backend, streams.clone());
    // Keystroke echoes are tiny writes that must not wait for Nagle's algorithm. The
    // builder's own `tcp_nodelay` applies only to listeners it binds itself.
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    let signal = async move {
        shutdown.await;
        streams.cancel();
    };
    Server::builder()
        .http2_keepalive_interval(Some(KEEPALIVE_INTERVAL))
        .http2_keepalive_timeout(Some(KEEPALIVE_TIMEOUT))
        .max_concurrent_streams(MAX_STREAMS_PER_CONNECTION)
        .serve_with_incoming_shutdown(service, incoming, signal)
        .await
}

#[tonic::async_trait]
impl GameHost for GameHostService {
    async fn games(
        &self,
        _request: Request<proto::GamesRequest>,
    ) -> Result<Response<proto::GamesReply>, Status> {
        let games = self.backend.games().await.map_err(status_from_error)?;
        Ok(Response::new(proto::GamesReply {
            games: games.into_iter().map(game_to_wire).collect(),
        }))
    }

    type PlayStream = BoxStream<'static, Result<proto::PlayReply, Status>>;

    async fn play(
        &self,
        request: Request<Streaming<proto::PlayRequest>>,
    ) -> Result<Response<Self::PlayStream>, Status> {
        let mut requests = request.into_inner();
        let start = first_start(&mut requests).await?;
        let user = UserName::parse(&start.user).map_err(status_from_error)?;
        let game = GameId::parse(&start.game).map_err(status_from_error)?;
        let size = size_from_wire(start.cols, start.rows);
        let Play {
            session,
            output,
            input,
        } = if start.editor {
            self.backend.edit_options(&user, &game, size).await
        } else {
            self.backend.play(&user, &game, size).await
        }
        .map_err(status_from_error)?;

        let (refusal, refused) = oneshot::channel();
        tokio::spawn(apply_input(requests, input, refusal));
        let started = proto::PlayReply {
            kind: Some(play_reply::Kind::Started(proto::Started {
                session_id: session.to_string(),
            })),
        };
        let outputs = forward_output(output, Some(refused), self.shutdown.clone()).map(|item| {
            item.map(|output| proto::PlayReply {
                kind: Some(play_reply::Kind::Output(output)),
            })
        });
        Ok(Response::new(
            stream::once(async { Ok(started) }).chain(outputs).boxed(),
        ))
    }

    type WatchStream = BoxStream<'static, Result<proto::Output, Status>>;

    async fn watch(
        &self,
        request: Request<proto::WatchRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let session = session_id_from_wire(&request.get_ref().session_id)
            .map_err(|malformed| malformed_request(malformed.0))?;
        let output = self
            .backend
            .watch(session)
            .await
            .map_err(status_from_error)?;
        Ok(Response::new(
            forward_output(output, None, self.shutdown.clone()).boxed(),
        ))
    }

    async fn live_sessions(
        &self,
        _request: Request<proto::LiveSessionsRequest>,
    ) -> Result<Response<proto::LiveSessionsReply>, Status> {
        let sessions = self
            .backend
            .live_sessions()
            .await
            .map_err(status_from_error)?;
        Ok(Response::new(proto::LiveSessionsReply {
            sessions: sessions.into_iter().map(live_session_to_wire).collect(),
        }))
    }

    async fn recordings(
        &self,
        request: Request<proto::RecordingsRequest>,
    ) -> Result<Response<proto::RecordingsReply>, Status> {
        let user = UserName::parse(&request.get_ref().user).map_err(status_from_error)?;
        let recordings = self
            .backend
            .recordings(&user)
            .await
            .map_err(status_from_error)?
            .into_iter()
            .map(|recording| {
                recording_to_wire(recording)
                    .ok_or_else(|| Status::internal("a recording's start time cannot be written"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Response::new(proto::RecordingsReply { recordings }))
    }

    type ReadRecordingStream = BoxStream<'static, Result<proto::RecordingChunk, Status>>;

    async fn read_recording(
        &self,
        request: Request<proto::ReadRecordingRequest>,
    ) -> Result<Response<Self::ReadRecordingStream>, Status> {
        let request = request.into_inner();
        let user = UserName::parse(&request.user).map_err(status_from_error)?;
        let game = GameId::parse(&request.game).map_err(status_from_error)?;
        check_recording_name(&request.name)?;
        let bytes = self
            .backend
            .read_recording(&user, &game, &request.name)
            .await
            .map_err(status_from_error)?;
        // Slices of one buffer: no copies.
        let chunks: Vec<_> = (0..bytes.len())
            .step_by(RECORDING_CHUNK_BYTES)
            .map(|start| {
                let end = (start + RECORDING_CHUNK_BYTES).min(bytes.len());
                Ok(proto::RecordingChunk {
                    bytes: bytes.slice(start..end),
                })
            })
            .collect();
        Ok(Response::new(stream::iter(chunks).boxed()))
    }

    async fn recent_deaths(
        &self,
        request: Request<proto::RecentDeathsRequest>,
    ) -> Result<Response<proto::RecentDeathsReply>, Status> {
        let limit = request.get_ref().limit.min(MAX_RECENT_DEATHS);
        let limit = usize::try_from(limit).map_err(malformed_request)?;
        let deaths = self
            .backend
            .recent_deaths(limit)
            .await
            .map_err(status_from_error)?;
        Ok(Response::new(proto::RecentDeathsReply {
            deaths: deaths.into_iter().map(death_to_wire).collect(),
        }))
    }

    type DeathsStream = BoxStream<'static, Result<proto::Death, Status>>;

    async fn deaths(
        &self,
        _request: Request<proto::DeathsRequest>,
    ) -> Result<Response<Self::DeathsStream>, Status> {
        let deaths = self.backend.deaths().await.map_err(status_from_error)?;
        Ok(Response::new(
            forward_deaths(deaths, self.shutdown.clone()).boxed(),
        ))
    }
}

/// Reads the `Start` a `Play` call must begin with.
async fn first_start(requests: &mut Streaming<proto::PlayRequest>) -> Result<proto::Start, Status> {
    let first = tokio::time::timeout(START_TIMEOUT, requests.message())
        .await
        .map_err(|_| Status::deadline_exceeded("no Start came"))??;
    match first.and_then(|request| request.kind) {
        Some(play_request::Kind::Start(start)) => Ok(start),
        _ => Err(malformed_request("a Play call must begin with a Start")),
    }
}

/// A recording is named by a plain file name: what the listing gives.
fn check_recording_name(name: &str) -> Result<(), Status> {
    let plain = !name.is_empty()
        && name.len() <= MAX_RECORDING_NAME_BYTES
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0']);
    if plain {
        Ok(())
    } else {
        Err(malformed_request(format!(
            "{name:?} is not a recording name"
        )))
    }
}

/// Applies a player's keystrokes and resizes in order, until their side of the call
/// ends (the player is detached: the input is dropped here, the output when the
/// client stops reading) or the output ended (`refusal` closed). A message that
/// breaks the protocol ends the call with `INVALID_ARGUMENT`, through `refusal`.
async fn apply_input(
    mut requests: Streaming<proto::PlayRequest>,
    input: Box<dyn InputSink>,
    mut refusal: oneshot::Sender<Status>,
) {
    loop {
        let message = tokio::select! {
            () = refusal.closed() => return,
            message = requests.message() => message,
        };
        let request = match message {
            Ok(Some(request)) => request,
            // The player's side ended: they are detached.
            Ok(None) => return,
            Err(status) => {
                tracing::debug!(%status, "a player's input stream broke");
                return;
            }
        };
        let applied = match request.kind {
            Some(play_request::Kind::Input(keys)) => input.send(keys.bytes).await,
            Some(play_request::Kind::Resize(size)) => {
                input.resize(size_from_wire(size.cols, size.rows)).await
            }
            Some(play_request::Kind::Start(_)) | None => {
                let _gone = refusal.send(malformed_request(
                    "after its Start, a Play call sends only Input and Resize",
                ));
                return;
            }
        };
        if let Err(error) = applied {
            // The game is gone; its output stream is ending on its own.
            tracing::debug!(%error, "a player's input found no game");
            return;
        }
    }
}

/// A game's output as a response stream, until the game's output ends, the
/// server shuts down, or (for a player) the input side refuses the call.
fn forward_output(
    output: Box<dyn OutputSource>,
    refused: Option<oneshot::Receiver<Status>>,
    shutdown: CancellationToken,
) -> impl futures_util::Stream<Item = Result<proto::Output, Status>> + Send {
    struct Forwarding {
        output: Box<dyn OutputSource>,
        /// `None` once the input side ended without a refusal.
        refused: Option<oneshot::Receiver<Status>>,
        shutdown: CancellationToken,
        ended: bool,
    }
    let state = Forwarding {
        output,
        refused,
        shutdown,
        ended: false,
    };
    enum Next {
        Shutdown,
        Refused(Status),
        InputEnded,
        Output(Option<Output>),
    }
    stream::unfold(state, |mut state| async move {
        if state.ended {
            return None;
        }
        loop {
            let Forwarding {
                output,
                refused,
                shutdown,
                ..
            } = &mut state;
            let next = tokio::select! {
                biased;
                () = shutdown.cancelled() => Next::Shutdown,
                verdict = async {
                    match refused {
                        Some(refused) => refused.await,
                        None => std::future::pending().await,
                    }
                } => match verdict {
                    Ok(status) => Next::Refused(status),
                    Err(_) => Next::InputEnded,
                },
                item = output.recv() => Next::Output(item),
            };
            match next {
                Next::Shutdown | Next::Output(None) => return None,
                Next::Refused(status) => {
                    state.ended = true;
                    return Some((Err(status), state));
                }
                // The player finished sending; their output keeps flowing until
                // they stop reading it.
                Next::InputEnded => state.refused = None,
                Next::Output(Some(item)) => return Some((Ok(output_to_wire(item)), state)),
            }
        }
    })
}

/// Deaths as a response stream, until the host or the server goes away.
fn forward_deaths(
    deaths: Box<dyn DeathSource>,
    shutdown: CancellationToken,
) -> impl futures_util::Stream<Item = Result<proto::Death, Status>> + Send {
    stream::unfold((deaths, shutdown), |(mut deaths, shutdown)| async move {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => None,
            death = deaths.recv() => {
                death.map(|death| (Ok(death_to_wire(death)), (deaths, shutdown)))
            }
        }
    })
}
