//! gRPC between the SSH gateway and the game host.
//!
//! The gateway is stateless and the game host is not: it owns the PTYs, the
//! recordings and the xlogfiles. The gateway holds an `Arc<dyn GameBackend>` and
//! this crate makes that backend remote: [`serve`] puts a
//! [`GameBackend`](guildhall_gamehost::GameBackend) (a
//! [`Host`](guildhall_gamehost::Host)) behind a tonic server, and [`RemoteHost`]
//! is a `GameBackend` that calls it.
//!
//! # The protocol
//!
//! `proto/gamehost.proto`, package `guildhall.gamehost.v1`, service `GameHost`:
//!
//! - `Play` is one bidirectional stream per player: the client sends `Start`
//!   (user, game, size, game or options editor), then `Input` and `Resize`; the
//!   server answers `Started` (the session id), then the game's output (`Screen`,
//!   `Data`, `Resize`) until the game ends or another connection takes it over.
//!   When the client's side ends, the player is detached and the game runs on for
//!   the host's grace period.
//! - `Watch`, `ReadRecording` (64 KiB chunks) and `Deaths` stream from the server;
//!   `Games`, `LiveSessions`, `Recordings` and `RecentDeaths` are unary.
//! - Errors are statuses with the exact error named in metadata, so the client gets
//!   back the same [`Error`](guildhall_gamehost::Error) the host returned
//!   (`status.rs` has the table).
//!
//! # Where things are
//!
//! - `build.rs`: the `.proto` compiled in pure Rust (protox), no `protoc` needed.
//! - `server.rs`: [`service`], [`serve`] and the forwarding of a player's input and
//!   output.
//! - `client.rs`: [`RemoteHost`], its [`RemotePolicy`] (timeouts, retries).
//! - `breaker.rs`: the client's circuit breaker.
//! - `convert.rs`: the game host's types to and from the wire's.
//! - `status.rs`: errors to and from statuses.

mod breaker;
mod client;
mod convert;
mod server;
mod status;

/// The generated wire types, client and server (`proto/gamehost.proto`).
pub mod proto {
    tonic::include_proto!("guildhall.gamehost.v1");
}

pub use client::{RemoteHost, RemotePolicy};
pub use server::{GameHostService, RECORDING_CHUNK_BYTES, serve, service};
