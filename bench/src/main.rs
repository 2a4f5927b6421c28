//! Guildhall's benchmarks.
//!
//! Every benchmark measures its subject and a baseline in the same run, on the same
//! machine, with the same load generator, and prints the ratio: these machines are shared
//! and noisy, so absolute figures drift while ratios hold. Record results, with the command
//! that produced them, in docs/performance.md.

mod arena;
mod bare;
mod characters;
mod floor;
mod http1;
mod http_health;
mod identity;
mod load;
mod procfs;
mod prometheus;
mod stack;
mod tables;
mod terminal;

use clap::{Parser, Subcommand};

/// Run a Guildhall benchmark.
#[derive(Debug, Parser)]
#[command(name = "guildhall-bench")]
struct Cli {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// HTTP round trip of GET /health/live on the full stack vs a bare axum server.
    HttpHealth(load::LoadArgs),
    /// Guest inits, account logins and profile reads through head, in the `up` and/or
    /// `split` shape, vs a bare axum server.
    Identity(identity::IdentityArgs),
    /// Character intents per second and row writes per intent, write-behind vs
    /// write-through, on PostgreSQL.
    Characters(characters::CharactersArgs),
    /// Arena bots at 30 Hz in lobbies of 10: server CPU and memory per player, tick and
    /// input-to-snapshot latency, vs the same game as a Colyseus room under the same bots.
    Arena(arena::ArenaArgs),
    /// Bots playing Briscola chiamata at many tables of five: actions per second and
    /// action-to-result latency, vs an equivalent game on a boardgame.io server under
    /// equivalent bots.
    Tables(tables::TablesArgs),
    /// Concurrent SSH sessions running a small terminal program through the gateway:
    /// memory per session, handshake, added keystroke-echo latency and spectator lag,
    /// vs OpenSSH's sshd running the same program and a direct PTY.
    Terminal(terminal::TerminalArgs),
    /// (internal) `guildhall up` with benchmark limits, for `arena` to run as a subject.
    #[command(hide = true)]
    ServeUp { dir: std::path::PathBuf },
    /// (internal) The arena's transport floor: a frame per connection per tick and
    /// nothing else, for `arena` to run as a subject.
    #[command(hide = true)]
    ServeFrames {
        #[arg(long)]
        frame_bytes: usize,
        #[arg(long)]
        hz: f64,
        #[arg(long)]
        group: usize,
    },
}

/// mimalloc, not glibc's malloc: under load the server allocates and frees small
/// buffers on many threads, where glibc's arenas spent about a tenth of the CPU
/// (`docs/performance.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.bench {
        Bench::HttpHealth(args) => http_health::run(args),
        Bench::Identity(args) => identity::run(args),
        Bench::Characters(args) => characters::run(args),
        Bench::Arena(args) => arena::run(args),
        Bench::Tables(args) => tables::run(args),
        Bench::Terminal(args) => terminal::run(args),
        Bench::ServeUp { dir } => arena::serve_up(dir),
        Bench::ServeFrames {
            frame_bytes,
            hz,
            group,
        } => floor::serve(frame_bytes, hz, group),
    }
}
