//! The arena's wire messages (`docs/protocol/arena.md`), in JSON text frames or, with the
//! `guildhall.msgpack` subprotocol, MessagePack binary frames with the same field names.

use axum::extract::ws::{Message, Utf8Bytes};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The subprotocol that switches a connection to MessagePack.
pub const MSGPACK_PROTOCOL: &str = "guildhall.msgpack";

/// How a connection encodes messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    Json,
    MsgPack,
}

/// A message from the client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    Join {
        token: String,
    },
    Input {
        seq: u32,
        #[serde(default)]
        thrust: bool,
        #[serde(default)]
        turn: i8,
        #[serde(default)]
        fire: bool,
    },
    Ping {
        #[serde(default)]
        t: serde_json::Value,
    },
    Leave,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ArenaSize {
    pub width: f32,
    pub height: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchInfo {
    pub number: u32,
    pub score_limit: u32,
    pub time_limit_ticks: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchClock {
    pub number: u32,
    pub remaining_ticks: u32,
}

/// One jet in a snapshot. Positions and velocities are rounded to 0.1 (a tenth of a
/// pixel at full scale) to keep frames small; who flies it is in the `roster`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JetView {
    pub id: u32,
    pub x: f32,
    pub y: f32,
    pub angle: f32,
    pub vx: f32,
    pub vy: f32,
    pub health: u8,
    pub alive: bool,
    /// Whether its thrust is on (for drawing engine flames).
    pub thrust: bool,
    pub score: u32,
    pub deaths: u32,
    pub last_seq: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectileView {
    pub id: u32,
    pub owner: u32,
    pub x: f32,
    pub y: f32,
    pub vx: f32,
    pub vy: f32,
}

/// Who flies which jet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RosterEntry {
    pub jet_id: u32,
    pub user_id: Uuid,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultView {
    pub jet_id: u32,
    pub user_id: Uuid,
    pub kills: u32,
    pub deaths: u32,
    pub winner: bool,
}

/// A message from the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Welcome {
        lobby_id: Uuid,
        jet_id: u32,
        tick_rate: u32,
        arena: ArenaSize,
        rejoin_token: String,
        #[serde(rename = "match")]
        match_info: MatchInfo,
    },
    /// Sent after `welcome` and whenever someone joins or leaves.
    Roster {
        players: Vec<RosterEntry>,
    },
    Snapshot {
        tick: u64,
        #[serde(rename = "match")]
        clock: MatchClock,
        jets: Vec<JetView>,
        projectiles: Vec<ProjectileView>,
    },
    MatchEnd {
        number: u32,
        results: Vec<ResultView>,
        next_match_in_ticks: u32,
    },
    Pong {
        t: serde_json::Value,
    },
    Error {
        code: String,
        message: String,
    },
    LobbyClosed {
        reason: String,
    },
}

/// Rounds for the wire: 0.1 is below a pixel and keeps JSON short.
pub fn round1(v: f32) -> f32 {
    (v * 10.0).round() / 10.0
}

/// MessagePack with field names, and ids as strings (as in JSON) rather than raw bytes.
pub fn to_msgpack<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    let mut serializer = rmp_serde::Serializer::new(&mut out)
        .with_struct_map()
        .with_human_readable();
    value
        .serialize(&mut serializer)
        .expect("server messages always serialize");
    out
}

impl Codec {
    /// Encodes a message as one frame.
    pub fn encode(self, message: &ServerMessage) -> Message {
        match self {
            Codec::Json => Message::Text(Utf8Bytes::from(
                serde_json::to_string(message).expect("server messages always serialize"),
            )),
            Codec::MsgPack => Message::Binary(Bytes::from(to_msgpack(message))),
        }
    }

    /// Decodes a client frame; `None` for a frame that is not a valid message in this codec.
    pub fn decode(self, message: &Message) -> Option<ClientMessage> {
        match (self, message) {
            (Codec::Json, Message::Text(text)) => serde_json::from_str(text.as_str()).ok(),
            (Codec::MsgPack, Message::Binary(data)) => rmp_serde::from_slice(data).ok(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_messages_read_the_documented_json() {
        let m: ClientMessage = serde_json::from_str(
            r#"{"type":"input","seq":7,"thrust":true,"turn":-1,"fire":false}"#,
        )
        .unwrap();
        assert_eq!(
            m,
            ClientMessage::Input {
                seq: 7,
                thrust: true,
                turn: -1,
                fire: false
            }
        );
        let m: ClientMessage = serde_json::from_str(r#"{"type":"join","token":"abc"}"#).unwrap();
        assert_eq!(
            m,
            ClientMessage::Join {
                token: "abc".into()
            }
        );
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"fly"}"#).is_err());
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"input","seq":-1}"#).is_err());
    }

    #[test]
    fn both_codecs_carry_the_same_fields() {
        let message = ServerMessage::Pong { t: 5.into() };
        let Message::Text(json) = Codec::Json.encode(&message) else {
            panic!()
        };
        assert_eq!(json.as_str(), r#"{"type":"pong","t":5}"#);
        let Message::Binary(packed) = Codec::MsgPack.encode(&message) else {
            panic!()
        };
        let back: serde_json::Value = rmp_serde::from_slice(&packed).unwrap();
        assert_eq!(back, serde_json::json!({"type": "pong", "t": 5}));
        let input = ClientMessage::Input {
            seq: 1,
            thrust: false,
            turn: 1,
            fire: true,
        };
        let frame = Message::Binary(Bytes::from(rmp_serde::to_vec_named(&input).unwrap()));
        assert_eq!(Codec::MsgPack.decode(&frame), Some(input));
        // A JSON frame on a MessagePack connection is refused, and the reverse.
        assert_eq!(Codec::MsgPack.decode(&Message::Text("{}".into())), None);
        assert_eq!(Codec::Json.decode(&frame), None);
    }
}
