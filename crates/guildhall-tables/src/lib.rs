//! Card tables: Briscola chiamata for five, with observers, over the bus.
//!
//! - [`envelope`]: HMAC-sealed action envelopes from gateways, addressed event envelopes
//!   back, and the channel and key names (`game.<id>.actions`, `game.<id>.events`,
//!   `game:<id>:state`, `game:<id>:log`, `game:<id>:heartbeat`).
//! - [`worker`]: one game's single writer: opens envelopes, answers retried action ids
//!   with their first result, applies actions to the rules
//!   ([`guildhall_briscola`]), persists each accepted change before answering (a log of
//!   changes after a snapshot of the state), and publishes role-addressed events; a
//!   restarted worker resumes from the persisted state and resyncs everyone. `play`:
//!   what an envelope does to a table, the one transition both handling and loading
//!   apply. [`results`]: the remembered results, kept with their saved text.
//!
//! - [`host::Host`]: the game host that starts workers on request (tasks in
//!   `guildhall up`, a pool of child processes in the split shape), restarts them when
//!   they die or their heartbeat lapses, and owns each game alone.
//! - [`service::Tables`]: creating tables, seating players, table tokens (signed by auth,
//!   audience `guildhall:tables`), and making sure a game's worker runs.
//! - [`http`]: head's `/v1/tables` routes and the WebSocket gateway at `/tables/ws`;
//!   [`page`]: the browser client at `/play/tables`.

pub mod envelope;
mod fanout;
mod gateway;
pub mod host;
pub mod http;
pub mod page;
mod play;
pub mod results;
pub mod service;
mod snapshot;
pub mod worker;

pub use envelope::{
    ActionEnvelope, Audience, EventBatch, EventEnvelope, Payload, Role, Seal, decode_batch,
    read_batch,
};
pub use service::{Seated, Tables, TablesSettings};
pub use worker::{Outcome, SeatHolder, Stopped, TableState, Worker};
