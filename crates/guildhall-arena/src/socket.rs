//! One WebSocket connection: the join handshake, then inputs in and the outbox out.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use guildhall_jets::Controls;
use guildhall_tokens::{ARENA_AUDIENCE, JoinClaims, TokenError};
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::lobby::{
    Command, Connection, InputRejected, InputSlot, JoinRefused, Proof, parse_rejoin,
};
use crate::outbox::{Ending, Next, Outbox};
use crate::protocol::{ClientMessage, Codec, MSGPACK_PROTOCOL, ServerMessage};
use crate::{Arena, Closed, LobbyRef};

/// The first message must arrive within this long.
const JOIN_TIMEOUT: Duration = Duration::from_secs(5);
/// A single send blocked this long means the client is gone.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Read buffer per connection.
const READ_BUFFER: usize = 4096;
/// Client frames are small; anything bigger is not ours.
const MAX_MESSAGE: usize = 4096;

pub(crate) async fn upgrade(State(arena): State<Arc<Arena>>, ws: WebSocketUpgrade) -> Response {
    // Client frames are tiny: a small read buffer (the default 128 KiB is zeroed on every
    // read, which cost a third of the server's CPU under bot load).
    ws.protocols([MSGPACK_PROTOCOL])
        .read_buffer_size(READ_BUFFER)
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .on_upgrade(move |socket| connection(arena, socket))
}

/// Sends an `error` and closes.
async fn refuse(socket: &mut WebSocket, codec: Codec, code: &str, message: &str, close: u16) {
    let error = ServerMessage::Error {
        code: code.into(),
        message: message.into(),
    };
    let _ = socket.send(codec.encode(&error)).await;
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code: close,
            reason: code.into(),
        })))
        .await;
}

async fn lobby_closed(socket: &mut WebSocket, codec: Codec) {
    refuse(socket, codec, "lobby_closed", "this lobby has closed", 4410).await
}

/// Who the join message says the client is, and which lobby it wants.
struct Joining {
    user: Uuid,
    lobby: Uuid,
    mode: String,
    proof: Proof,
}

fn authenticate(arena: &Arena, token: &str) -> Result<Joining, (&'static str, &'static str, u16)> {
    if let Some((lobby, user, secret)) = parse_rejoin(token) {
        return Ok(Joining {
            user,
            lobby,
            mode: String::new(),
            proof: Proof::Rejoin(secret),
        });
    }
    let claims: JoinClaims =
        arena
            .verifier
            .verify(token, ARENA_AUDIENCE)
            .map_err(|err| match err {
                TokenError::Expired => ("unauthorized", "the join token has expired", 4401),
                _ => ("unauthorized", "the join token is not valid", 4401),
            })?;
    if claims.srv != arena.server_id {
        return Err((
            "lobby_closed",
            "the join token is for another game server",
            4410,
        ));
    }
    Ok(Joining {
        user: claims.sub,
        lobby: claims.lobby,
        mode: claims.mode,
        proof: Proof::JoinToken,
    })
}

async fn connection(arena: Arc<Arena>, mut socket: WebSocket) {
    let codec = match socket.protocol().and_then(|p| p.to_str().ok()) {
        Some(MSGPACK_PROTOCOL) => Codec::MsgPack,
        _ => Codec::Json,
    };
    let first = match tokio::time::timeout(JOIN_TIMEOUT, socket.recv()).await {
        Err(_) => {
            return refuse(
                &mut socket,
                codec,
                "timeout",
                "send join first, within 5 seconds",
                4408,
            )
            .await;
        }
        Ok(None | Some(Err(_))) => return,
        Ok(Some(Ok(message))) => message,
    };
    let Some(ClientMessage::Join { token }) = codec.decode(&first) else {
        return refuse(
            &mut socket,
            codec,
            "invalid_request",
            "the first message must be a join",
            4400,
        )
        .await;
    };
    let joining = match authenticate(&arena, &token) {
        Ok(joining) => joining,
        Err((code, message, close)) => {
            return refuse(&mut socket, codec, code, message, close).await;
        }
    };
    let create = matches!(joining.proof, Proof::JoinToken);
    let Some(lobby) = arena.lobby(joining.lobby, &joining.mode, create) else {
        return lobby_closed(&mut socket, codec).await;
    };
    let connection = Connection {
        id: arena.connection_id(),
        codec,
        outbox: Arc::new(Outbox::default()),
    };
    let (reply, joined) = oneshot::channel();
    let sent = lobby
        .commands
        .send(Command::Join {
            user: joining.user,
            proof: joining.proof,
            connection: connection.clone(),
            reply,
        })
        .await;
    let inputs = match (sent, joined.await) {
        (Ok(()), Ok(Ok(inputs))) => inputs,
        (Ok(()), Ok(Err(JoinRefused::Full))) => {
            return refuse(&mut socket, codec, "join_failed", "the lobby is full", 4409).await;
        }
        (Ok(()), Ok(Err(JoinRefused::BadRejoin))) => {
            return refuse(
                &mut socket,
                codec,
                "unauthorized",
                "the rejoin token is not valid (or the seat is gone)",
                4401,
            )
            .await;
        }
        _ => return lobby_closed(&mut socket, codec).await,
    };

    arena.connection_opened();
    let seat = Seat {
        lobby: &lobby,
        connection: &connection,
        inputs: &inputs,
        max_inputs_per_tick: arena.settings.max_inputs_per_tick,
    };
    let left = play(&mut socket, seat, codec).await;
    arena.connection_closed();
    let command = if left {
        Command::Leave {
            user: joining.user,
            connection: connection.id,
        }
    } else {
        Command::Dropped {
            user: joining.user,
            connection: connection.id,
        }
    };
    let _ = lobby.commands.try_send(command);
}

/// What a joined connection plays with.
struct Seat<'a> {
    lobby: &'a LobbyRef,
    connection: &'a Connection,
    inputs: &'a InputSlot,
    max_inputs_per_tick: u32,
}

/// Plays until the connection ends; `true` when the client left on purpose.
async fn play(socket: &mut WebSocket, seat: Seat<'_>, codec: Codec) -> bool {
    let Seat {
        lobby,
        connection,
        inputs,
        max_inputs_per_tick,
    } = seat;
    loop {
        tokio::select! {
            next = connection.outbox.next() => match next {
                Next::Send(message) => {
                    // A client that stops reading entirely is dropped here; one that reads
                    // slowly is cut off by its lobby (the outbox's stall clock).
                    match tokio::time::timeout(SEND_TIMEOUT, socket.send(message)).await {
                        Ok(Ok(())) => {}
                        _ => return false,
                    }
                }
                Next::End(ending) => {
                    end(socket, codec, ending).await;
                    return false;
                }
            },
            _ = lobby.gone.cancelled() => {
                let reason = lobby.reason.lock().unwrap().clone();
                let (text, close) = match reason {
                    Some(Closed::Crashed) => ("the lobby crashed", 1011),
                    Some(Closed::Shutdown) => ("the server is shutting down", 1001),
                    _ => ("the lobby closed", 1000),
                };
                end(socket, codec, Ending { error: None, lobby_closed: Some(text.into()), close_code: close }).await;
                return false;
            }
            incoming = socket.recv() => {
                let message = match incoming {
                    None | Some(Err(_)) => return false,
                    Some(Ok(Message::Close(_))) => return false,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(message)) => message,
                };
                match codec.decode(&message) {
                    Some(ClientMessage::Input { seq, thrust, turn, fire }) => {
                        if !(-1..=1).contains(&turn) {
                            metrics::counter!("arena_input_rejects_total", "reason" => "invalid").increment(1);
                            continue;
                        }
                        match inputs.offer(seq, Controls { thrust, turn, fire }, max_inputs_per_tick) {
                            Ok(()) => {}
                            Err(InputRejected::Stale) => {
                                metrics::counter!("arena_input_rejects_total", "reason" => "stale").increment(1);
                            }
                            Err(InputRejected::Flood) => {
                                metrics::counter!("arena_input_rejects_total", "reason" => "flood").increment(1);
                            }
                        }
                    }
                    Some(ClientMessage::Ping { t }) => {
                        connection.outbox.push_control(codec.encode(&ServerMessage::Pong { t }));
                    }
                    Some(ClientMessage::Leave) => {
                        let _ = socket.send(Message::Close(Some(CloseFrame { code: 1000, reason: "left".into() }))).await;
                        return true;
                    }
                    Some(ClientMessage::Join { .. }) | None => {
                        refuse(socket, codec, "invalid_request", "expected input, ping or leave", 4400).await;
                        return false;
                    }
                }
            }
        }
    }
}

async fn end(socket: &mut WebSocket, codec: Codec, ending: Ending) {
    if let Some((code, message)) = &ending.error {
        let error = ServerMessage::Error {
            code: code.clone(),
            message: message.clone(),
        };
        let _ = socket.send(codec.encode(&error)).await;
    }
    if let Some(reason) = &ending.lobby_closed {
        let closed = ServerMessage::LobbyClosed {
            reason: reason.clone(),
        };
        let _ = socket.send(codec.encode(&closed)).await;
    }
    let reason = ending
        .error
        .as_ref()
        .map(|(code, _)| code.clone())
        .or(ending.lobby_closed.clone())
        .unwrap_or_default();
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code: ending.close_code,
            reason: reason.into(),
        })))
        .await;
}
