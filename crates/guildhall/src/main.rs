use clap::Parser;
use guildhall::cli::Cli;

/// mimalloc, not glibc's malloc: under load the server allocates and frees small
/// buffers on many threads, where glibc's arenas spent about a tenth of the CPU
/// (`docs/performance.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("guildhall: cannot start the async runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(guildhall::commands::run(cli))
}
