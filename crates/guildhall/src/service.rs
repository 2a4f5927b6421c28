//! The services one process can run, and what each depends on.

use clap::ValueEnum;

/// A Guildhall service (see PLATFORM.md for what each owns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum)]
pub enum ServiceKind {
    /// Identities, credentials, sessions, token signing keys and revocation.
    Auth,
    /// The client entry point: guests, accounts, profiles, routing to other services.
    Head,
    /// Characters: intents, derived stats, cache and write-behind.
    Players,
    /// Matchmaking queues and lobby assignment.
    Matchmaker,
    /// Real-time authoritative rooms over WebSocket.
    Arena,
    /// Turn-based card tables.
    Tables,
    /// The SSH gateway for terminal games.
    Terminal,
}

impl ServiceKind {
    pub const ALL: [ServiceKind; 7] = [
        ServiceKind::Auth,
        ServiceKind::Head,
        ServiceKind::Players,
        ServiceKind::Matchmaker,
        ServiceKind::Arena,
        ServiceKind::Tables,
        ServiceKind::Terminal,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ServiceKind::Auth => "auth",
            ServiceKind::Head => "head",
            ServiceKind::Players => "players",
            ServiceKind::Matchmaker => "matchmaker",
            ServiceKind::Arena => "arena",
            ServiceKind::Tables => "tables",
            ServiceKind::Terminal => "terminal",
        }
    }

    /// Whether the service keeps rows in the relational store (and so needs it to be ready).
    pub fn uses_database(self) -> bool {
        matches!(
            self,
            ServiceKind::Auth | ServiceKind::Head | ServiceKind::Players | ServiceKind::Arena
        )
    }
}
