//! Playback: frames written to a terminal at their recorded pace, steered by controls
//! from the viewer (keys in `guildhall replay`, the SSH menu's input task).

use std::time::Duration;

use futures_util::{Stream, StreamExt};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

use crate::frame::{Error, Frame};
use crate::size::{SizeScanner, TermSize};

/// The longest pause between two frames in playback by default: a player who walked
/// away for ten minutes should not make the viewer wait ten minutes.
pub const DEFAULT_MAX_IDLE: Duration = Duration::from_secs(1);

/// The slowest playback speed [`Control::SlowDown`] reaches.
pub const MIN_SPEED: f64 = 1.0 / 64.0;

/// The fastest playback speed [`Control::SpeedUp`] reaches.
pub const MAX_SPEED: f64 = 64.0;

/// A viewer's command to a running [`play`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// Pauses, or resumes a paused playback where it stopped (mid-wait included).
    TogglePause,
    /// Doubles the speed, up to [`MAX_SPEED`].
    SpeedUp,
    /// Halves the speed, down to [`MIN_SPEED`].
    SlowDown,
    /// Back to the recorded pace (speed 1).
    NormalSpeed,
    /// Ends the current wait: the next frame is written now. While paused, writes one
    /// frame and stays paused, to step through a recording.
    SkipIdle,
    /// Stops playback; [`play`] returns [`Outcome::Quit`].
    Quit,
}

/// How [`play`] paces a recording.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlayOptions {
    /// Initial speed factor: 2.0 plays twice as fast. Clamped to
    /// [`MIN_SPEED`]..=[`MAX_SPEED`]; NaN means 1.
    pub speed: f64,
    /// The longest recorded gap between frames that is reproduced (before speed
    /// scaling); longer gaps are cut to it. `None` keeps every gap. Default
    /// [`DEFAULT_MAX_IDLE`].
    pub max_idle: Option<Duration>,
}

impl Default for PlayOptions {
    fn default() -> Self {
        PlayOptions {
            speed: 1.0,
            max_idle: Some(DEFAULT_MAX_IDLE),
        }
    }
}

/// How playback ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every frame was written.
    Finished,
    /// The viewer sent [`Control::Quit`].
    Quit,
}

/// What [`play`] reports when it returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Playback {
    /// Frames written to the output.
    pub frames: u64,
    /// Whether the recording ended or the viewer quit.
    pub outcome: Outcome,
    /// The last terminal size requested in the frames written, if any.
    pub size: Option<TermSize>,
}

/// Writes `frames` to `output` at their recorded pace and returns when they run out or
/// the viewer quits.
///
/// The first frame is written at once; before each later one, the player waits the
/// recorded gap, capped at [`PlayOptions::max_idle`] and divided by the current speed.
/// Controls take effect immediately, including mid-wait: speeding up shortens the
/// rest of the current wait. Pending controls are applied before each frame is written,
/// so a `Quit` is never followed by more output. A closed `controls` channel resumes a
/// paused playback and lets it run to the end.
///
/// Output is flushed after every frame. Frames are written as recorded, resize
/// requests included, so a terminal that honours them takes the recorded size.
/// Timing uses tokio's clock, so tests can run it under `tokio::time::pause()`.
///
/// Errors: a frame that fails to read ([`Error::TruncatedFrame`] and friends, after
/// the frames before it were played) or output that fails ([`Error::Output`]).
pub async fn play<S, W>(
    mut frames: S,
    mut output: W,
    controls: &mut mpsc::Receiver<Control>,
    options: PlayOptions,
) -> Result<Playback, Error>
where
    S: Stream<Item = Result<Frame, Error>> + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut player = Player {
        controls,
        controls_open: true,
        paused: false,
        speed: clamp_speed(options.speed),
    };
    let mut sizes = SizeScanner::new();
    let mut playback = Playback {
        frames: 0,
        outcome: Outcome::Finished,
        size: None,
    };
    let mut previous: Option<Duration> = None;
    while let Some(frame) = frames.next().await {
        let frame = frame?;
        let gap = previous.map_or(Duration::ZERO, |p| frame.time.saturating_sub(p));
        let gap = options.max_idle.map_or(gap, |max| gap.min(max));
        previous = Some(frame.time);
        if player.wait(gap).await == Flow::Quit {
            playback.outcome = Outcome::Quit;
            break;
        }
        output.write_all(&frame.data).await.map_err(Error::Output)?;
        output.flush().await.map_err(Error::Output)?;
        playback.frames += 1;
        if let Some(size) = sizes.scan(&frame.data).pop() {
            playback.size = Some(size);
        }
    }
    Ok(playback)
}

fn clamp_speed(speed: f64) -> f64 {
    if speed.is_nan() {
        1.0
    } else {
        speed.clamp(MIN_SPEED, MAX_SPEED)
    }
}

/// What the wait before a frame decided.
#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Write,
    Quit,
}

/// The viewer-controlled state of one playback.
struct Player<'a> {
    controls: &'a mut mpsc::Receiver<Control>,
    /// False once every sender is gone: then nothing can pause or quit any more.
    controls_open: bool,
    paused: bool,
    speed: f64,
}

impl Player<'_> {
    /// Waits `gap` of recording time at the current speed, obeying controls meanwhile.
    async fn wait(&mut self, gap: Duration) -> Flow {
        // Kept in recording time, so a speed change rescales what is left.
        let mut remaining = gap;
        loop {
            if self.paused {
                match self.controls.recv().await {
                    Some(control) => {
                        if let Some(flow) = self.apply(control) {
                            return flow;
                        }
                    }
                    None => self.close(),
                }
                continue;
            }
            let started = Instant::now();
            let deadline = started + remaining.div_f64(self.speed);
            let controls_open = self.controls_open;
            let controls = &mut *self.controls;
            tokio::select! {
                biased;
                control = async {
                    if controls_open { controls.recv().await } else { std::future::pending().await }
                } => {
                    let played = started.elapsed().mul_f64(self.speed);
                    remaining = remaining.saturating_sub(played);
                    match control {
                        Some(control) => {
                            if let Some(flow) = self.apply(control) {
                                return flow;
                            }
                        }
                        None => self.close(),
                    }
                }
                () = sleep_until(deadline) => return Flow::Write,
            }
        }
    }

    /// Applies `control`; `Some` ends the wait.
    fn apply(&mut self, control: Control) -> Option<Flow> {
        match control {
            Control::TogglePause => self.paused = !self.paused,
            Control::SpeedUp => self.speed = (self.speed * 2.0).min(MAX_SPEED),
            Control::SlowDown => self.speed = (self.speed / 2.0).max(MIN_SPEED),
            Control::NormalSpeed => self.speed = 1.0,
            Control::SkipIdle => return Some(Flow::Write),
            Control::Quit => return Some(Flow::Quit),
        }
        None
    }

    fn close(&mut self) {
        self.controls_open = false;
        self.paused = false;
    }
}
