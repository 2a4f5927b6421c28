//! The WebSocket gateway: clients speak `{message_type, game_id, action_id, ts, version,
//! payload}`; the gateway checks the table token once, turns each client message into a
//! sealed action for the game's worker, and forwards the worker's events that are
//! addressed to this connection (everyone's, its seat's or the observers', and its own
//! results). A second connection for the same seat takes it over.

use guildhall_core::now_ms;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures_util::StreamExt;
use guildhall_core::ErrorCode;
use guildhall_tokens::{TABLES_AUDIENCE, TableClaims};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::envelope::{ActionEnvelope, PROTOCOL_VERSION, Payload, Role, actions_channel};
use crate::fanout::{Member, Outbox, flag};
use crate::service::Tables;

const JOIN_TIMEOUT: Duration = Duration::from_secs(5);

/// A message from a client.
#[derive(Debug, Deserialize)]
struct ClientMessage {
    message_type: String,
    #[serde(default)]
    action_id: Option<String>,
    /// Passed on as sent; only a `join`'s is read here.
    #[serde(default)]
    payload: Payload,
}

pub(crate) async fn upgrade(State(tables): State<Arc<Tables>>, ws: WebSocketUpgrade) -> Response {
    // Client frames are small (an action is a few hundred bytes), and tungstenite zeroes
    // the whole read buffer before every read: keep it small (larger messages, up to the
    // limit, take a few reads).
    ws.read_buffer_size(1024)
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

/// A connection's actions waiting for their result.
pub(crate) struct Pending {
    timeout: Duration,
    waiting: HashMap<String, Instant>,
    /// Actions answered `game_unavailable` (most recent last): a late result for one of
    /// them is dropped, so each action gets exactly one result.
    expired: HashSet<String>,
    expired_order: VecDeque<String>,
}

impl Pending {
    /// At most this many actions may wait at once on one connection.
    const MAX_WAITING: usize = 64;
    const MAX_EXPIRED: usize = 256;

    pub(crate) fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            waiting: HashMap::new(),
            expired: HashSet::new(),
            expired_order: VecDeque::new(),
        }
    }

    pub(crate) fn is_waiting(&self, action_id: &str) -> bool {
        self.waiting.contains_key(action_id)
    }

    /// False when too many actions are waiting.
    pub(crate) fn insert(&mut self, action_id: &str) -> bool {
        if self.waiting.len() >= Self::MAX_WAITING {
            return false;
        }
        // A retry of an expired action is a new wait for the same result.
        if self.expired.remove(action_id) {
            self.expired_order.retain(|id| id != action_id);
        }
        self.waiting.insert(action_id.to_owned(), Instant::now());
        true
    }

    /// Marks the action answered; false when it was answered already (or never sent).
    pub(crate) fn answered(&mut self, action_id: &str) -> bool {
        if self.waiting.remove(action_id).is_some() {
            return true;
        }
        !self.expired.contains(action_id)
    }

    /// When the oldest waiting action times out, if any waits.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.waiting
            .values()
            .min()
            .map(|since| *since + self.timeout)
    }

    /// Actions waiting longer than the timeout, now counted as answered.
    pub(crate) fn overdue(&mut self) -> Vec<String> {
        let timeout = self.timeout;
        let overdue: Vec<String> = self
            .waiting
            .iter()
            .filter(|(_, since)| since.elapsed() >= timeout)
            .map(|(id, _)| id.clone())
            .collect();
        for id in &overdue {
            self.waiting.remove(id);
            self.expired.insert(id.clone());
            self.expired_order.push_back(id.clone());
            if self.expired_order.len() > Self::MAX_EXPIRED
                && let Some(old) = self.expired_order.pop_front()
            {
                self.expired.remove(&old);
            }
        }
        overdue
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
        Ok(Some(Ok(Message::Binary(_)))) => {
            return refuse(
                &mut socket,
                "",
                "invalid_action",
                "messages are JSON text",
                4400,
            )
            .await;
        }
        // Closed (or broken) before a word: nothing to answer.
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
    let join_payload = join.payload.value();
    let token = join_payload["token"].as_str().unwrap_or_default();
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
        // 4404: no such table; 1013 (try again later): its worker could not be reached.
        let close = if err.code == ErrorCode::GameNotFound {
            4404
        } else {
            1013
        };
        return refuse(
            &mut socket,
            &join_id,
            err.code.as_str(),
            &err.message,
            close,
        )
        .await;
    }
    // One connection per seat, the newest: the worker names the seat's holder
    // (`seat.holder`, from this connection's presence) and any other connection of that
    // seat, on any gateway, is closed.
    let origin = format!("gw:{}", Uuid::new_v4().simple());
    let player_id = (role == Role::Player).then_some(claims.sub);
    let envelope = |action_id: String, message_type: String, payload: Payload| ActionEnvelope {
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
    // From here on the game's hub writes this connection's events (`fanout`), and this
    // task reads the client's messages and writes its own answers through the same
    // outbox.
    let (sink, mut stream) = socket.split();
    let member = Member::new(
        seat,
        origin.clone(),
        sink,
        Pending::new(tables.action_timeout()),
    );
    let outbox = member.outbox.clone();
    if tables
        .hubs
        .join(tables.bus(), &game_id, member.clone())
        .await
        .is_err()
    {
        return close_with(
            &outbox,
            &game_id,
            &join_id,
            "game_unavailable",
            "the table is unreachable",
            1011,
        )
        .await;
    }
    // The snapshot this role may see; for a player, news that they are here. It waits
    // in the outbox behind the join's answer.
    if !publish(envelope(
        format!("sync-{}", Uuid::new_v4()),
        "sync".into(),
        Payload::default(),
    ))
    .await
    {
        tables.hubs.leave(&game_id, &member);
        return close_with(
            &outbox,
            &game_id,
            &join_id,
            "routing_failed",
            "the table is unreachable",
            1013,
        )
        .await;
    }
    outbox.open(result(&game_id, &join_id, "ok", None, "joined"));
    if role == Role::Player {
        publish(envelope(
            format!("presence-{}", Uuid::new_v4()),
            "presence".into(),
            json!({ "online": true }).into(),
        ))
        .await;
    }

    // One shutdown wait, one signal wait and one timer for the connection's life, not
    // one of each per message: every connection's wait sits on the one `closing` token,
    // and a timer is moved only when an action is due earlier than it fires (a timer
    // that fires for an action already answered finds nothing overdue). Armed only while
    // an action waits, so idle connections cost nothing.
    let closing = tables.closing.cancelled();
    let signalled = member.signal().wake.notified();
    let timer = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(closing, signalled, timer);
    let mut armed = false;
    let kicked_out = loop {
        let next_deadline = member.pending.lock().unwrap().next_deadline();
        if let Some(deadline) = next_deadline.map(tokio::time::Instant::from_std)
            && (!armed || deadline < timer.deadline())
        {
            timer.as_mut().reset(deadline);
            armed = true;
        }
        tokio::select! {
            _ = &mut closing => {
                // 1012: the service is restarting; any gateway takes the same token.
                tables.hubs.leave(&game_id, &member);
                outbox.push([Message::Close(Some(CloseFrame {
                    code: 1012,
                    reason: "gateway restarting".into(),
                }))]);
                finish(&outbox).await;
                return;
            }
            _ = &mut signalled => {
                signalled.set(member.signal().wake.notified());
                let flags = member.signal().take();
                if flags & flag::KICKED != 0 {
                    break true;
                }
                if flags & flag::UNREACHABLE != 0 {
                    tables.hubs.leave(&game_id, &member);
                    return close_with(&outbox, "", "", "game_unavailable", "the table is unreachable", 1011).await;
                }
                if flags & (flag::BROKEN | flag::LAGGING) != 0 {
                    break false;
                }
                if flags & flag::RESYNC != 0 {
                    publish(envelope(format!("sync-{}", Uuid::new_v4()), "sync".into(), Payload::default())).await;
                }
            }
            _ = &mut timer, if armed => {
                armed = false;
                let overdue = member.pending.lock().unwrap().overdue();
                if overdue.is_empty() {
                    continue;
                }
                // The game's worker is not answering: say so, answer what waits, and ask
                // for the worker to be started again; its fresh sync follows.
                if !member.unavailable.swap(true, Ordering::AcqRel) {
                    metrics::counter!("tables_game_unavailable_total").increment(1);
                    let notice = json!({
                        "message_type": "game_unavailable",
                        "game_id": game_id,
                        "ts": now_ms(),
                        "version": PROTOCOL_VERSION,
                        "payload": { "message": "the game is restarting; a fresh sync follows" },
                    });
                    member.send(Message::Text(notice.to_string().into()));
                }
                for action_id in overdue {
                    member.send(result(&game_id, &action_id, "error", Some("game_unavailable"), "the game did not answer; sync, then retry"));
                }
                let (tables, id) = (tables.clone(), game_id.clone());
                tokio::spawn(async move {
                    let _ = tables.ensure_worker(&id).await;
                });
            }
            incoming = stream.next() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    _ => break false,
                };
                let Ok(message) = serde_json::from_str::<ClientMessage>(text.as_str()) else {
                    member.send(result(&game_id, "", "error", Some("invalid_action"), "not a message"));
                    continue;
                };
                let Some(action_id) = message.action_id.filter(|id| !id.is_empty() && id.len() <= 128) else {
                    member.send(result(&game_id, "", "error", Some("invalid_action"), "every action needs an action_id"));
                    continue;
                };
                if message.message_type == "join"
                    || message.message_type == "presence"
                    || action_id.starts_with("sync-")
                    || action_id.starts_with("presence-")
                {
                    member.send(result(&game_id, &action_id, "error", Some("invalid_action"), "not an action a client can send"));
                    continue;
                }
                {
                    let mut pending = member.pending.lock().unwrap();
                    // A retry of an action still waiting is answered by its one result.
                    if pending.is_waiting(&action_id) {
                        continue;
                    }
                    if !pending.insert(&action_id) {
                        drop(pending);
                        member.send(result(&game_id, &action_id, "error", Some("invalid_action"), "too many actions are waiting for their result"));
                        continue;
                    }
                }
                if !publish(envelope(action_id.clone(), message.message_type, message.payload)).await {
                    member.pending.lock().unwrap().answered(&action_id);
                    member.send(result(&game_id, &action_id, "error", Some("routing_failed"), "the action could not be routed"));
                }
            }
        }
    };
    tables.hubs.leave(&game_id, &member);
    // A seat taken over is still online, through its newer connection.
    if kicked_out {
        return close_with(
            &outbox,
            "",
            "",
            "duplicate_connection_handled",
            "this seat connected again elsewhere",
            4409,
        )
        .await;
    }
    if role == Role::Player {
        publish(envelope(
            format!("presence-{}", Uuid::new_v4()),
            "presence".into(),
            json!({ "online": false }).into(),
        ))
        .await;
    }
    finish(&outbox).await;
}

/// Writes what waits, up to a deadline: a client that reads nothing is not waited for.
async fn finish(outbox: &Arc<Outbox>) {
    outbox.finish(JOIN_TIMEOUT).await;
}

/// The answer refusing `action_id` with `code`, then a close frame with `close`, after
/// whatever waits: [`refuse`], once the socket is the outbox's.
async fn close_with(
    outbox: &Arc<Outbox>,
    game_id: &str,
    action_id: &str,
    code: &str,
    message: &str,
    close: u16,
) {
    outbox.open(result(game_id, action_id, "error", Some(code), message));
    outbox.push([Message::Close(Some(CloseFrame {
        code: close,
        reason: code.to_owned().into(),
    }))]);
    finish(outbox).await;
}
