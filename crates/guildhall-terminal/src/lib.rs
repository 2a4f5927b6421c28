//! The SSH gateway for terminal games.
//!
//! Players connect with any SSH client (`ssh -p 2222 nethack@host`). A name listed in
//! [`GatewaySettings::anonymous_users`] (or an empty password) reaches the anonymous
//! menu: log in, register, watch, recent deaths. An account's username and password
//! log straight into the account menu: play or resume each configured game, watch,
//! replay one's recordings, edit game options, change password, log out. Register,
//! login and password changes go through the auth service, with its rules and rate
//! limits.
//!
//! The gateway keeps nothing a game needs: games run on a game host reached through
//! [`guildhall_gamehost::GameBackend`] (the host itself in `guildhall up`, its gRPC
//! client in the split shape), so a player whose gateway dies connects through another
//! and finds their game running.
//!
//! # Where things are
//!
//! - `server.rs`: [`Gateway`]: the accept loop (connection caps, handshake timeout),
//!   the russh handler (authentication, channel requests).
//! - `session/`: the task that owns one session: menus, prompts, play (`mod.rs`),
//!   the account forms (`account.rs`), watch, replay and deaths (`browse.rs`).
//! - `term.rs`: that task's terminal: keys, resizes, attaching to a game's output.
//! - `ui.rs`: drawing menus for any size; decoding keys; the line editor.
//! - `limits.rs`, `hostkey.rs`, `identity.rs`: connection caps, the host key, who is
//!   signed in.
//! - `events.rs`: deaths onto the bus, and `GET /v1/terminal/events` (server-sent events).

mod events;
pub mod hostkey;
mod identity;
mod limits;
mod server;
mod session;
mod term;
mod ui;

pub use events::{DEATHS_CHANNEL, events_routes, publish_deaths};
pub use limits::{Limits, Permit, Refusal};
pub use server::{Gateway, GatewaySettings};
