//! `guildhall replay FILE`: plays a ttyrec recording on this terminal (space pauses,
//! `+`/`-` change the speed, `0` resets it, `.` skips an idle wait, `q` quits), or with
//! `--export cast` writes it as asciicast v2 for web players.

use std::fs::File;
use std::io::{BufReader, IsTerminal, Read};
use std::os::fd::AsFd;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use guildhall_ttyrec::{
    AsyncReader, CastOptions, Control, Outcome, PlayOptions, Reader, export_asciicast, play,
};
use nix::sys::termios::{self, SetArg, Termios};
use tokio::sync::mpsc;

use crate::cli::{ReplayArgs, ReplayExport};

pub async fn run(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let file =
        File::open(&args.file).with_context(|| format!("opening {}", args.file.display()))?;
    if let Some(ReplayExport::Cast) = args.export {
        let out: Box<dyn std::io::Write> = match &args.output {
            Some(path) => Box::new(
                File::create(path).with_context(|| format!("creating {}", path.display()))?,
            ),
            None => Box::new(std::io::stdout().lock()),
        };
        let options = CastOptions {
            title: args
                .file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned()),
            idle_time_limit: args.max_idle.map(Duration::from_secs_f64),
            ..CastOptions::default()
        };
        export_asciicast(Reader::new(BufReader::new(file)), out, &options)
            .context("exporting the recording")?;
        return Ok(ExitCode::SUCCESS);
    }
    anyhow::ensure!(
        args.speed.is_finite() && args.speed > 0.0,
        "--speed must be a positive number"
    );
    let frames =
        AsyncReader::new(tokio::io::BufReader::new(tokio::fs::File::from_std(file))).into_stream();
    let options = PlayOptions {
        speed: args.speed,
        max_idle: args.max_idle.map(Duration::from_secs_f64),
    };
    let (keys, mut controls) = mpsc::channel(16);
    // Single keys, without echo, while playing; the terminal is restored afterwards.
    let raw = RawStdin::enter();
    if std::io::stdin().is_terminal() {
        std::thread::spawn(move || read_keys(keys));
    }
    let played = play(frames, tokio::io::stdout(), &mut controls, options).await;
    drop(raw);
    let playback = played.context("playing the recording")?;
    if playback.outcome == Outcome::Quit {
        eprintln!("\r\nstopped after {} frames", playback.frames);
    }
    Ok(ExitCode::SUCCESS)
}

/// Turns key presses into controls until quit or end of input.
fn read_keys(keys: mpsc::Sender<Control>) {
    let mut stdin = std::io::stdin().lock();
    let mut byte = [0u8; 1];
    while let Ok(1) = stdin.read(&mut byte) {
        let control = match byte[0] {
            b' ' => Control::TogglePause,
            b'+' | b'=' | b'f' => Control::SpeedUp,
            b'-' | b's' => Control::SlowDown,
            b'0' | b'1' => Control::NormalSpeed,
            b'.' | b'n' => Control::SkipIdle,
            b'q' | b'Q' | 3 => Control::Quit,
            _ => continue,
        };
        let quit = control == Control::Quit;
        if keys.blocking_send(control).is_err() || quit {
            return;
        }
    }
}

/// The terminal in raw mode for as long as this lives.
struct RawStdin(Option<Termios>);

impl RawStdin {
    fn enter() -> Self {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return Self(None);
        }
        let Ok(saved) = termios::tcgetattr(stdin.as_fd()) else {
            return Self(None);
        };
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        // Keep output processing, so recorded "\n" still returns the carriage.
        raw.output_flags = saved.output_flags;
        match termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw) {
            Ok(()) => Self(Some(saved)),
            Err(_) => Self(None),
        }
    }
}

impl Drop for RawStdin {
    fn drop(&mut self) {
        if let Some(saved) = &self.0 {
            let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, saved);
        }
    }
}
