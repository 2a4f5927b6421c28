//! What crosses the bus between gateways (and head) and a game's worker.
//!
//! Actions travel on `game.<id>.actions` as [`Sealed`] envelopes: the JSON text of an
//! [`ActionEnvelope`] and an HMAC-SHA256 over exactly those bytes under the internal key,
//! so a worker trusts the claims inside (who, which seat, which role) without seeing the
//! client's token, and drops anything unsigned or forged. Events travel back on
//! `game.<id>.events` as an [`EventBatch`]: every event one action caused, in order, in
//! one bus message. Each is addressed to an [`Audience`] that gateways filter on, so a
//! hand only ever reaches its owner, and carries the exact JSON text its clients are
//! sent, so a gateway reads a small header and forwards the bytes it was given.

use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

/// The protocol version every envelope carries.
pub const PROTOCOL_VERSION: &str = "1.0";

/// Channel of a game's actions.
pub fn actions_channel(game_id: &str) -> String {
    format!("game.{game_id}.actions")
}

/// Channel of a game's events.
pub fn events_channel(game_id: &str) -> String {
    format!("game.{game_id}.events")
}

/// Key of a game's persisted state.
pub fn state_key(game_id: &str) -> String {
    format!("game:{game_id}:state")
}

/// Key of a game's worker heartbeat.
pub fn heartbeat_key(game_id: &str) -> String {
    format!("game:{game_id}:heartbeat")
}

/// Key naming the host that runs a game's worker (so two never run one game).
pub fn owner_key(game_id: &str) -> String {
    format!("game:{game_id}:owner")
}

/// Who is acting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Player,
    Observer,
    /// Head or the platform itself (seating players).
    System,
}

/// An action as a gateway hands it to a game's worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionEnvelope {
    pub game_id: String,
    /// The acting user (players; absent for observers).
    pub player_id: Option<Uuid>,
    pub role: Role,
    pub seat: Option<u8>,
    /// The client's id for this action; a retry with the same id gets the same result.
    pub action_id: String,
    /// Milliseconds since the epoch, when the gateway received it.
    pub ts: i64,
    pub version: String,
    /// Where the result goes back to: the gateway and connection that sent it.
    pub origin: String,
    /// The action: `{"message_type": ..., "payload": {...}}`.
    pub message_type: String,
    #[serde(default)]
    pub payload: serde_json::Value,
}

/// An envelope and its MAC, as published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sealed {
    /// The envelope's JSON text; the MAC covers exactly these bytes.
    pub body: String,
    /// Base64 HMAC-SHA256 of `body` under the internal key.
    pub mac: String,
}

/// Seals and opens envelopes with the internal key.
#[derive(Clone)]
pub struct Seal {
    key: Vec<u8>,
}

impl std::fmt::Debug for Seal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Seal(..)")
    }
}

/// Why an envelope was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unsealed {
    NotJson,
    BadMac,
}

impl Seal {
    /// A seal under `key` (the platform's internal token); the key is derived for this one
    /// use so it never serves as a MAC key elsewhere.
    pub fn new(internal_token: &str) -> Self {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"guildhall tables envelope key")
            .expect("HMAC takes any key length");
        mac.update(internal_token.as_bytes());
        Self {
            key: mac.finalize().into_bytes().to_vec(),
        }
    }

    fn mac(&self, body: &[u8]) -> Hmac<Sha256> {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(body);
        mac
    }

    pub fn seal(&self, envelope: &ActionEnvelope) -> Vec<u8> {
        let body = serde_json::to_string(envelope).expect("envelopes always serialize");
        let tag = self.mac(body.as_bytes()).finalize().into_bytes();
        let sealed = Sealed {
            mac: base64::engine::general_purpose::STANDARD.encode(tag),
            body,
        };
        serde_json::to_vec(&sealed).expect("sealed envelopes always serialize")
    }

    pub fn open(&self, bytes: &[u8]) -> Result<ActionEnvelope, Unsealed> {
        let sealed: Sealed = serde_json::from_slice(bytes).map_err(|_| Unsealed::NotJson)?;
        let tag = base64::engine::general_purpose::STANDARD
            .decode(&sealed.mac)
            .map_err(|_| Unsealed::BadMac)?;
        // Constant-time comparison.
        self.mac(sealed.body.as_bytes())
            .verify_slice(&tag)
            .map_err(|_| Unsealed::BadMac)?;
        serde_json::from_str(&sealed.body).map_err(|_| Unsealed::NotJson)
    }
}

/// Who an event is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Audience {
    /// Every player and observer.
    All,
    /// One seat's connection(s) only (its hand, its snapshot).
    Seat { seat: u8 },
    /// Observers only (their snapshot).
    Observers,
    /// The connection an action came from (its `action.result`, a requested `sync`).
    Origin { origin: String },
}

/// One event from a game's worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope {
    pub game_id: String,
    /// Rises with every event of this game, also across worker restarts (after one it
    /// may jump ahead).
    pub seq: u64,
    pub to: Audience,
    pub message_type: String,
    /// Set on `action.result` (and on events an action caused).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_id: Option<String>,
    pub ts: i64,
    pub version: String,
    /// The game's version after this event (what a client sends back as
    /// `state_version`), once the hand is dealt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_version: Option<u64>,
    pub payload: serde_json::Value,
}

/// Where an event goes and what a gateway must know about it without reading it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventHeader {
    pub to: Audience,
    pub message_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_id: Option<String>,
}

/// What a client receives for an event: the envelope without its routing.
#[derive(Serialize)]
struct ClientEvent<'a> {
    message_type: &'a str,
    game_id: &'a str,
    action_id: Option<&'a str>,
    seq: u64,
    ts: i64,
    version: &'a str,
    state_version: Option<u64>,
    payload: &'a serde_json::Value,
}

/// Events as they travel on `game.<id>.events`: JSON lines, two per event, the
/// [`EventHeader`] and then the client's message. Serialized JSON holds no raw newline,
/// so the lines split cleanly, and each message line is sent to clients as it is.
#[derive(Debug, Default)]
pub struct EventBatch {
    bytes: Vec<u8>,
}

impl EventBatch {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, event: &EventEnvelope) {
        let header = EventHeader {
            to: event.to.clone(),
            message_type: event.message_type.clone(),
            action_id: event.action_id.clone(),
        };
        let message = ClientEvent {
            message_type: &event.message_type,
            game_id: &event.game_id,
            action_id: event.action_id.as_deref(),
            seq: event.seq,
            ts: event.ts,
            version: &event.version,
            state_version: event.state_version,
            payload: &event.payload,
        };
        serde_json::to_writer(&mut self.bytes, &header).expect("headers always serialize");
        self.bytes.push(b'\n');
        serde_json::to_writer(&mut self.bytes, &message).expect("events always serialize");
        self.bytes.push(b'\n');
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// Reads a batch: each event's header and its client message (a slice of `bytes`).
/// Stops at the first malformed pair.
pub fn read_batch(bytes: &bytes::Bytes) -> impl Iterator<Item = (EventHeader, bytes::Bytes)> + '_ {
    let mut rest = 0;
    std::iter::from_fn(move || {
        let line = |from: usize| {
            let end = from + bytes.get(from..)?.iter().position(|&b| b == b'\n')?;
            Some((from, end))
        };
        let (h_start, h_end) = line(rest)?;
        let (m_start, m_end) = line(h_end + 1)?;
        let header = serde_json::from_slice(&bytes[h_start..h_end]).ok()?;
        rest = m_end + 1;
        Some((header, bytes.slice(m_start..m_end)))
    })
}

/// Reads a batch whole, for those who need every field (head, tests).
pub fn decode_batch(bytes: &bytes::Bytes) -> Vec<EventEnvelope> {
    #[derive(Deserialize)]
    struct Message {
        game_id: String,
        seq: u64,
        ts: i64,
        version: String,
        state_version: Option<u64>,
        payload: serde_json::Value,
    }
    read_batch(bytes)
        .filter_map(|(header, message)| {
            let message: Message = serde_json::from_slice(&message).ok()?;
            Some(EventEnvelope {
                game_id: message.game_id,
                seq: message.seq,
                to: header.to,
                message_type: header.message_type,
                action_id: header.action_id,
                ts: message.ts,
                version: message.version,
                state_version: message.state_version,
                payload: message.payload,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope() -> ActionEnvelope {
        ActionEnvelope {
            game_id: "ABC234".into(),
            player_id: Some(Uuid::new_v4()),
            role: Role::Player,
            seat: Some(2),
            action_id: "a-1".into(),
            ts: 1,
            version: PROTOCOL_VERSION.into(),
            origin: "gw:1".into(),
            message_type: "play".into(),
            payload: serde_json::json!({"card": {"suit": "coppe", "rank": 1}}),
        }
    }

    #[test]
    fn batches_carry_each_event_and_its_client_message() {
        let events: Vec<EventEnvelope> = (0..3u64)
            .map(|n| EventEnvelope {
                game_id: "ABC234".into(),
                seq: n + 1,
                to: if n == 1 {
                    Audience::Seat { seat: 3 }
                } else {
                    Audience::All
                },
                message_type: "card.played".into(),
                action_id: (n == 2).then(|| "a-1".into()),
                ts: 7,
                version: PROTOCOL_VERSION.into(),
                state_version: Some(n),
                payload: serde_json::json!({"text": "line\nbreak", "n": n}),
            })
            .collect();
        let mut batch = EventBatch::new();
        for event in &events {
            batch.push(event);
        }
        let bytes = bytes::Bytes::from(batch.into_bytes());
        assert_eq!(decode_batch(&bytes), events);
        let read: Vec<_> = read_batch(&bytes).collect();
        assert_eq!(read.len(), 3);
        assert_eq!(read[1].0.to, Audience::Seat { seat: 3 });
        let client: serde_json::Value = serde_json::from_slice(&read[2].1).unwrap();
        assert_eq!(client["action_id"], "a-1");
        assert_eq!(client["seq"], 3);
        assert_eq!(client["payload"]["text"], "line\nbreak");
        assert!(client.get("to").is_none(), "routing stays between servers");
        // Garbage reads as nothing, not a panic.
        assert!(decode_batch(&bytes::Bytes::from_static(b"{\n")).is_empty());
        assert!(
            read_batch(&bytes::Bytes::from_static(b"\n\n\n"))
                .next()
                .is_none()
        );
    }

    #[test]
    fn sealed_envelopes_open_and_forgeries_do_not() {
        let seal = Seal::new("internal");
        let original = envelope();
        let bytes = seal.seal(&original);
        assert_eq!(seal.open(&bytes), Ok(original.clone()));
        // Another key, a changed claim, or no MAC at all: refused.
        assert_eq!(Seal::new("other").open(&bytes), Err(Unsealed::BadMac));
        let mut sealed: Sealed = serde_json::from_slice(&bytes).unwrap();
        sealed.body = sealed.body.replace("\"seat\":2", "\"seat\":3");
        assert_eq!(
            seal.open(&serde_json::to_vec(&sealed).unwrap()),
            Err(Unsealed::BadMac)
        );
        let bare = serde_json::to_vec(&original).unwrap();
        assert_eq!(seal.open(&bare), Err(Unsealed::NotJson));
    }
}
