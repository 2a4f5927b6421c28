//! What crosses the bus between gateways (and head) and a game's worker.
//!
//! Actions travel on `game.<id>.actions` sealed ([`Seal`]): an HMAC-SHA256 under the
//! internal key, a newline, and exactly the bytes it covers, the JSON text of an
//! [`ActionEnvelope`]; so a worker trusts the claims inside (who, which seat, which role)
//! without seeing the client's token, and drops anything unsigned or forged. Events
//! travel back on `game.<id>.events` as an [`EventBatch`]: every event one action caused,
//! in order, in one bus message. Each is addressed to an [`Audience`] that gateways filter on, so a
//! hand only ever reaches its owner, and carries the exact JSON text its clients are
//! sent, so a gateway reads a small header and forwards the bytes it was given.

use std::borrow::Cow;

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

/// Key of the changes applied to a game since its state was last saved whole: the
/// envelopes of its accepted actions and presence changes, oldest first.
pub fn log_key(game_id: &str) -> String {
    format!("game:{game_id}:log")
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
    pub payload: Payload,
}

/// An action's payload as the JSON text the client sent: a gateway passes it on without
/// reading it, and the worker reads it once, into what the action type needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Payload(Box<serde_json::value::RawValue>);

impl Payload {
    /// The payload's JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// The payload as a JSON value (`null` if the text is not JSON, which a payload that
    /// arrived through serde always is).
    pub fn value(&self) -> serde_json::Value {
        serde_json::from_str(self.get()).unwrap_or_default()
    }
}

impl Default for Payload {
    /// `null`: no payload.
    fn default() -> Self {
        Self::from(serde_json::Value::Null)
    }
}

impl From<serde_json::Value> for Payload {
    fn from(value: serde_json::Value) -> Self {
        Self(serde_json::value::to_raw_value(&value).expect("values always serialize"))
    }
}

/// Payloads are equal when their texts are.
impl PartialEq for Payload {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
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
    /// No MAC line.
    NotSealed,
    BadMac,
    /// A valid MAC over something that is not an envelope.
    NotJson,
}

/// Length of a base64 HMAC-SHA256 tag.
const MAC_LEN: usize = 44;

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

    /// `<base64 MAC>\n<the envelope's JSON text>`: the MAC covers exactly the bytes after
    /// the newline, which are sent and read as they are (no second encoding).
    pub fn seal(&self, envelope: &ActionEnvelope) -> Vec<u8> {
        let body = serde_json::to_vec(envelope).expect("envelopes always serialize");
        let tag = self.mac(&body).finalize().into_bytes();
        let engine = &base64::engine::general_purpose::STANDARD;
        let mut sealed = Vec::with_capacity(MAC_LEN + 1 + body.len());
        sealed.extend_from_slice(engine.encode(tag).as_bytes());
        sealed.push(b'\n');
        sealed.extend_from_slice(&body);
        sealed
    }

    pub fn open(&self, bytes: &[u8]) -> Result<ActionEnvelope, Unsealed> {
        self.open_with_body(bytes).map(|(envelope, _)| envelope)
    }

    /// The envelope, and the JSON text it was read from (what the MAC covers).
    pub fn open_with_body<'b>(
        &self,
        bytes: &'b [u8],
    ) -> Result<(ActionEnvelope, &'b [u8]), Unsealed> {
        let newline = bytes.iter().position(|&b| b == b'\n');
        let Some((mac, body)) = newline.map(|at| (&bytes[..at], &bytes[at + 1..])) else {
            return Err(Unsealed::NotSealed);
        };
        let tag = base64::engine::general_purpose::STANDARD
            .decode(mac)
            .map_err(|_| Unsealed::BadMac)?;
        // Constant-time comparison.
        self.mac(body)
            .verify_slice(&tag)
            .map_err(|_| Unsealed::BadMac)?;
        let envelope = serde_json::from_slice(body).map_err(|_| Unsealed::NotJson)?;
        Ok((envelope, body))
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

/// An event to add to a batch, borrowed from whoever made it; its payload anything that
/// serializes (a `Value`, or JSON text already as a `RawValue`).
#[derive(Debug, Clone, Copy)]
pub struct EventRef<'a, P: ?Sized = serde_json::Value> {
    pub game_id: &'a str,
    pub seq: u64,
    pub to: &'a Audience,
    pub message_type: &'a str,
    pub action_id: Option<&'a str>,
    pub ts: i64,
    pub version: &'a str,
    pub state_version: Option<u64>,
    pub payload: &'a P,
}

/// An [`EventHeader`] as written, borrowed.
#[derive(Serialize)]
struct HeaderOut<'a> {
    to: &'a Audience,
    message_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    action_id: Option<&'a str>,
}

/// What a client receives for an event: the envelope without its routing.
#[derive(Serialize)]
struct ClientEvent<'a, P: ?Sized> {
    message_type: &'a str,
    game_id: &'a str,
    action_id: Option<&'a str>,
    seq: u64,
    ts: i64,
    version: &'a str,
    state_version: Option<u64>,
    payload: &'a P,
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
        self.push_ref(EventRef {
            game_id: &event.game_id,
            seq: event.seq,
            to: &event.to,
            message_type: &event.message_type,
            action_id: event.action_id.as_deref(),
            ts: event.ts,
            version: &event.version,
            state_version: event.state_version,
            payload: &event.payload,
        });
    }

    /// Adds an event without copying any of its parts first (the worker's way).
    pub fn push_ref<P: Serialize + ?Sized>(&mut self, event: EventRef<'_, P>) {
        let header = HeaderOut {
            to: event.to,
            message_type: event.message_type,
            action_id: event.action_id,
        };
        let message = ClientEvent {
            message_type: event.message_type,
            game_id: event.game_id,
            action_id: event.action_id,
            seq: event.seq,
            ts: event.ts,
            version: event.version,
            state_version: event.state_version,
            payload: event.payload,
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

/// An event's routing header as a gateway reads it, borrowed from the bus message: every
/// connection of a table reads every header of every batch, so reading one allocates
/// nothing (strings with escapes excepted) and skips serde's buffering of tagged enums.
#[derive(Debug, Deserialize)]
pub struct HeaderRef<'a> {
    #[serde(borrow)]
    pub to: AudienceRef<'a>,
    #[serde(borrow)]
    pub message_type: Text<'a>,
    #[serde(default, borrow)]
    pub action_id: Option<Text<'a>>,
}

/// A string of a [`HeaderRef`], borrowed unless it had escapes.
#[derive(Debug, Deserialize)]
pub struct Text<'a>(#[serde(borrow)] pub Cow<'a, str>);

impl std::ops::Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

/// An [`Audience`] as a [`HeaderRef`] carries it: `{"kind": ..., "seat"?, "origin"?}`.
#[derive(Debug, Deserialize)]
pub struct AudienceRef<'a> {
    #[serde(borrow)]
    kind: Text<'a>,
    #[serde(default)]
    seat: Option<u8>,
    #[serde(default, borrow)]
    origin: Option<Text<'a>>,
}

impl AudienceRef<'_> {
    /// Whether a connection holding `seat` (none for observers), with `origin`, is in the
    /// audience. An audience this build does not know includes nobody.
    pub fn includes(&self, seat: Option<u8>, origin: &str) -> bool {
        match &*self.kind {
            "all" => true,
            "seat" => self.seat.is_some() && self.seat == seat,
            "observers" => seat.is_none(),
            "origin" => self.origin.as_deref() == Some(origin),
            _ => false,
        }
    }
}

/// A batch's lines in pairs: each event's header line and its client message (a slice of
/// `bytes`). Stops at the first incomplete pair.
fn pairs(bytes: &bytes::Bytes) -> impl Iterator<Item = (&[u8], bytes::Bytes)> + '_ {
    let mut rest = 0;
    std::iter::from_fn(move || {
        let line = |from: usize| {
            // Most of a batch is client messages: find their ends a word at a time.
            let end = from + memchr::memchr(b'\n', bytes.get(from..)?)?;
            Some((from, end))
        };
        let (h_start, h_end) = line(rest)?;
        let (m_start, m_end) = line(h_end + 1)?;
        rest = m_end + 1;
        Some((&bytes[h_start..h_end], bytes.slice(m_start..m_end)))
    })
}

/// Reads a batch as a gateway does: each event's header, borrowed, and its client message
/// (a slice of `bytes`). Stops at the first malformed pair.
pub fn read_batch(bytes: &bytes::Bytes) -> impl Iterator<Item = (HeaderRef<'_>, bytes::Bytes)> {
    pairs(bytes)
        .map_while(|(header, message)| Some((serde_json::from_slice(header).ok()?, message)))
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
    pairs(bytes)
        .map_while(|(header, message)| {
            Some((serde_json::from_slice::<EventHeader>(header).ok()?, message))
        })
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
            payload: serde_json::json!({"card": {"suit": "coppe", "rank": 1}}).into(),
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
        assert!(read[1].0.to.includes(Some(3), "gw:1"));
        assert!(!read[1].0.to.includes(Some(2), "gw:1"));
        assert!(
            !read[1].0.to.includes(None, "gw:1"),
            "observers hold no seat"
        );
        assert_eq!(&*read[2].0.message_type, "card.played");
        assert_eq!(read[2].0.action_id.as_deref(), Some("a-1"));
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
    fn headers_borrow_their_strings_and_still_read_escapes() {
        let mut batch = EventBatch::new();
        for action_id in ["a-1", "say \"hi\"\\"] {
            batch.push(&EventEnvelope {
                game_id: "ABC234".into(),
                seq: 1,
                to: Audience::Origin {
                    origin: "gw:1".into(),
                },
                message_type: "action.result".into(),
                action_id: Some(action_id.into()),
                ts: 7,
                version: PROTOCOL_VERSION.into(),
                state_version: None,
                payload: serde_json::json!({"status": "ok"}),
            });
        }
        let bytes = bytes::Bytes::from(batch.into_bytes());
        let read: Vec<_> = read_batch(&bytes).collect();
        assert_eq!(read.len(), 2);
        let plain = &read[0].0;
        assert!(matches!(
            plain.message_type.0,
            Cow::Borrowed("action.result")
        ));
        assert!(matches!(
            plain.action_id.as_ref().map(|id| &id.0),
            Some(Cow::Borrowed("a-1"))
        ));
        let escaped = &read[1].0;
        assert_eq!(escaped.action_id.as_deref(), Some("say \"hi\"\\"));
        assert!(escaped.to.includes(None, "gw:1"));
        assert!(escaped.to.includes(Some(4), "gw:1"));
        assert!(!escaped.to.includes(None, "gw:2"));
        // An audience this build does not know reaches nobody; a header without one ends
        // the batch.
        let odd = bytes::Bytes::from_static(
            b"{\"to\":{\"kind\":\"nobody\"},\"message_type\":\"x\"}\n{}\n{\"message_type\":\"x\"}\n{}\n",
        );
        let read: Vec<_> = read_batch(&odd).collect();
        assert_eq!(read.len(), 1);
        assert!(!read[0].0.to.includes(None, "gw:1"));
        assert!(!read[0].0.to.includes(Some(0), "gw:1"));
    }

    #[test]
    fn payloads_travel_as_the_text_the_client_sent() {
        // As a gateway reads a client message: the payload is kept as its text,
        // spacing, key order and escapes included, and sealed into the envelope as is.
        let text = r#"{ "card": {"rank": 1, "suit": "coppe"}, "note": "a\nb" }"#;
        let message: ActionEnvelope = serde_json::from_value(serde_json::json!({
            "game_id": "g", "player_id": null, "role": "player", "seat": 1,
            "action_id": "a", "ts": 0, "version": "1.0", "origin": "gw:1",
            "message_type": "play",
        }))
        .unwrap();
        assert_eq!(message.payload.get(), "null", "a missing payload is null");
        let payload: Payload = serde_json::from_str(text).unwrap();
        assert_eq!(payload.get(), text);
        let sealed = Seal::new("k").seal(&ActionEnvelope {
            payload: payload.clone(),
            ..message
        });
        let body = std::str::from_utf8(&sealed[MAC_LEN + 1..]).unwrap();
        assert!(body.ends_with(&format!(r#""payload":{text}}}"#)), "{body}");
        let opened = Seal::new("k").open(&sealed).unwrap();
        assert_eq!(opened.payload, payload);
        assert_eq!(opened.payload.value()["card"]["suit"], "coppe");
        assert_eq!(opened.payload.value()["note"], "a\nb");
        // Equal by text: the same value written otherwise is another payload.
        let compact = Payload::from(payload.value());
        assert_ne!(compact, payload);
        assert_eq!(compact.value(), payload.value());
        assert_eq!(Payload::default().value(), serde_json::Value::Null);
    }

    #[test]
    fn sealed_envelopes_open_and_forgeries_do_not() {
        let seal = Seal::new("internal");
        let original = envelope();
        let bytes = seal.seal(&original);
        assert_eq!(seal.open(&bytes), Ok(original.clone()));
        // Another key, a changed claim, or no MAC at all: refused.
        assert_eq!(Seal::new("other").open(&bytes), Err(Unsealed::BadMac));
        let forged = String::from_utf8(bytes.clone())
            .unwrap()
            .replace("\"seat\":2", "\"seat\":3");
        assert_ne!(forged.as_bytes(), bytes);
        assert_eq!(seal.open(forged.as_bytes()), Err(Unsealed::BadMac));
        let bare = serde_json::to_vec(&original).unwrap();
        assert_eq!(seal.open(&bare), Err(Unsealed::NotSealed));
        assert_eq!(seal.open(b"not base64\n{}"), Err(Unsealed::BadMac));
        assert_eq!(seal.open(b""), Err(Unsealed::NotSealed));
        // A MAC over something else than an envelope is refused as such.
        let tag = seal.mac(b"[1]").finalize().into_bytes();
        let engine = &base64::engine::general_purpose::STANDARD;
        let other = format!("{}\n[1]", engine.encode(tag));
        assert_eq!(seal.open(other.as_bytes()), Err(Unsealed::NotJson));
        assert_eq!(engine.encode(tag).len(), MAC_LEN);
    }
}
