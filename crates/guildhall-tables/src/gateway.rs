//! The WebSocket gateway: clients speak `{message_type, game_id, action_id, ts, version,
//! payload}`; the gateway checks the table token once, turns each client message into a
//! sealed action for the game's worker, and forwards the worker's events that are
//! addressed to this connection (everyone's, its seat's or the observers', and its own
//! results). A second connection for the same seat takes it over.

use guildhall_core::now_ms;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use guildhall_bus::Delivery;
use guildhall_tokens::{TABLES_AUDIENCE, TableClaims};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::envelope::{
    ActionEnvelope, Audience, EventEnvelope, PROTOCOL_VERSION, Role, actions_channel,
    events_channel,
};
use crate::service::Tables;

const JOIN_TIMEOUT: Duration = Duration::from_secs(5);

/// A message from a client.
#[derive(Debug, Deserialize)]
struct ClientMessage {
    message_type: String,
    #[serde(default)]
    action_id: Option<String>,
    #[serde(default)]
    payload: Value,
}

pub(crate) async fn upgrade(State(tables): State<Arc<Tables>>, ws: WebSocketUpgrade) -> Response {
    ws.read_buffer_size(8192)
        .max_message_size(16 * 1024)
        .on_upgrade(move |socket| connection(tables, socket))
}

fn result(
    game_id: &str,
    action_id: &str,
    status: &str,
    code: Option<&str>,
    message: &str,
) -> Message {
    let recovery = code.map(crate::worker::recovery);
    Message::Text(
        json!({
            "message_type": "action.result",
            "game_id": game_id,
            "action_id": action_id,
            "ts": now_ms(),
            "version": PROTOCOL_VERSION,
            "payload": { "status": status, "code": code, "recovery": recovery, "message": message },
        })
        .to_string()
        .into(),
    )
}

async fn refuse(socket: &mut WebSocket, action_id: &str, code: &str, message: &str, close: u16) {
    let _ = socket
        .send(result("", action_id, "error", Some(code), message))
        .await;
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code: close,
            reason: code.into(),
        })))
        .await;
}

/// Whether an event is for this connection.
fn addressed_to(to: &Audience, seat: Option<u8>, origin: &str) -> bool {
    match to {
        Audience::All => true,
        Audience::Seat { seat: s } => seat == Some(*s),
        Audience::Observers => seat.is_none(),
        Audience::Origin { origin: o } => o == origin,
    }
}

async fn connection(tables: Arc<Tables>, mut socket: WebSocket) {
    let first = match tokio::time::timeout(JOIN_TIMEOUT, socket.recv()).await {
        Err(_) => {
            return refuse(
                &mut socket,
                "",
                "timeout",
                "send join first, within 5 seconds",
                4408,
            )
            .await;
        }
        Ok(Some(Ok(Message::Text(text)))) => text,
        Ok(_) => return,
    };
    let join: Option<ClientMessage> = serde_json::from_str(first.as_str()).ok();
    let Some(join) = join.filter(|m| m.message_type == "join") else {
        return refuse(
            &mut socket,
            "",
            "invalid_action",
            "the first message must be a join",
            4400,
        )
        .await;
    };
    let join_id = join.action_id.clone().unwrap_or_default();
    let token = join.payload["token"].as_str().unwrap_or_default();
    let claims: TableClaims = match tables.verifier.verify(token, TABLES_AUDIENCE) {
        Ok(claims) => claims,
        Err(_) => {
            return refuse(
                &mut socket,
                &join_id,
                "unauthorized",
                "the table token is not valid",
                4401,
            )
            .await;
        }
    };
    let (role, seat) = match (claims.role.as_str(), claims.seat) {
        ("player", Some(seat)) if seat < 5 => (Role::Player, Some(seat)),
        ("observer", _) => (Role::Observer, None),
        _ => {
            return refuse(
                &mut socket,
                &join_id,
                "unauthorized",
                "the table token has no role",
                4401,
            )
            .await;
        }
    };
    let game_id = claims.game_id.clone();
    if let Err(err) = tables.ensure_worker(&game_id).await {
        return refuse(&mut socket, &join_id, err.code.as_str(), &err.message, 4404).await;
    }
    let mut events = match tables.bus().subscribe(&events_channel(&game_id)).await {
        Ok(events) => events,
        Err(_) => {
            return refuse(
                &mut socket,
                &join_id,
                "game_unavailable",
                "the table is unreachable",
                1011,
            )
            .await;
        }
    };
    // One connection per seat: the newest wins.
    let origin = format!("gw:{}", Uuid::new_v4().simple());
    let kicked = CancellationToken::new();
    if let Some(seat) = seat
        && let Some((_, previous)) = tables
            .seats
            .lock()
            .unwrap()
            .insert((game_id.clone(), seat), (origin.clone(), kicked.clone()))
    {
        previous.cancel();
    }
    let player_id = (role == Role::Player).then_some(claims.sub);
    let envelope = |action_id: String, message_type: String, payload: Value| ActionEnvelope {
        game_id: game_id.clone(),
        player_id,
        role,
        seat,
        action_id,
        ts: now_ms(),
        version: PROTOCOL_VERSION.into(),
        origin: origin.clone(),
        message_type,
        payload,
    };
    let publish = |envelope: ActionEnvelope| {
        let (bus, sealed) = (tables.bus().clone(), tables.seal().seal(&envelope));
        let channel = actions_channel(&envelope.game_id);
        async move { bus.publish(&channel, &sealed).await.is_ok() }
    };
    let _ = socket
        .send(result(&game_id, &join_id, "ok", None, "joined"))
        .await;
    // The snapshot this role may see.
    publish(envelope(
        format!("sync-{}", Uuid::new_v4()),
        "sync".into(),
        Value::Null,
    ))
    .await;

    loop {
        tokio::select! {
            _ = kicked.cancelled() => {
                return refuse(&mut socket, "", "duplicate_connection_handled", "this seat connected again elsewhere", 4409).await;
            }
            delivery = events.recv() => match delivery {
                None => return refuse(&mut socket, "", "game_unavailable", "the table is unreachable", 1011).await,
                Some(Delivery::Gap) => {
                    publish(envelope(format!("sync-{}", Uuid::new_v4()), "sync".into(), Value::Null)).await;
                }
                Some(Delivery::Message(bytes)) => {
                    let Ok(event) = serde_json::from_slice::<EventEnvelope>(&bytes) else { continue };
                    if !addressed_to(&event.to, seat, &origin) {
                        continue;
                    }
                    // Results of the gateway's own syncs are not the client's business.
                    if event.message_type == "action.result"
                        && event.action_id.as_deref().is_some_and(|id| id.starts_with("sync-"))
                    {
                        continue;
                    }
                    let message = json!({
                        "message_type": event.message_type,
                        "game_id": event.game_id,
                        "action_id": event.action_id,
                        "seq": event.seq,
                        "ts": event.ts,
                        "version": event.version,
                        "payload": event.payload,
                    });
                    if socket.send(Message::Text(message.to_string().into())).await.is_err() {
                        break;
                    }
                }
            },
            incoming = socket.recv() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    _ => break,
                };
                let Ok(message) = serde_json::from_str::<ClientMessage>(text.as_str()) else {
                    let _ = socket.send(result(&game_id, "", "error", Some("invalid_action"), "not a message")).await;
                    continue;
                };
                let Some(action_id) = message.action_id.filter(|id| !id.is_empty() && id.len() <= 128) else {
                    let _ = socket.send(result(&game_id, "", "error", Some("invalid_action"), "every action needs an action_id")).await;
                    continue;
                };
                if message.message_type == "join" || action_id.starts_with("sync-") {
                    let _ = socket.send(result(&game_id, &action_id, "error", Some("invalid_action"), "already joined")).await;
                    continue;
                }
                if !publish(envelope(action_id.clone(), message.message_type, message.payload)).await {
                    let _ = socket.send(result(&game_id, &action_id, "error", Some("routing_failed"), "the action could not be routed")).await;
                }
            }
        }
    }
    // Free the seat's slot unless a newer connection holds it.
    if let Some(seat) = seat {
        let mut seats = tables.seats.lock().unwrap();
        if seats
            .get(&(game_id.clone(), seat))
            .is_some_and(|(holder, _)| *holder == origin)
        {
            seats.remove(&(game_id, seat));
        }
    }
}
