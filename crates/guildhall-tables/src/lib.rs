//! Card tables: Briscola chiamata for five, with observers, over the bus.
//!
//! - [`envelope`]: HMAC-sealed action envelopes from gateways, addressed event envelopes
//!   back, and the channel and key names (`game.<id>.actions`, `game.<id>.events`,
//!   `game:<id>:state`, `game:<id>:heartbeat`).
//! - [`worker`]: one game's single writer: opens envelopes, answers retried action ids
//!   with their first result, applies actions to the rules
//!   ([`guildhall_briscola`]), persists the whole state before answering, and publishes
//!   role-addressed events; a restarted worker resumes from the persisted state and
//!   resyncs everyone.
//!
//! Status: the worker, its persistence and recovery are here and tested on the
//! in-process bus and on Redis. The HTTP API (create, join, observer tokens), the
//! WebSocket gateway, the supervisor across processes and the browser client are next.

pub mod envelope;
pub mod worker;

pub use envelope::{ActionEnvelope, Audience, EventEnvelope, Role, Seal};
pub use worker::{Outcome, SeatHolder, Stopped, TableState, Worker};
