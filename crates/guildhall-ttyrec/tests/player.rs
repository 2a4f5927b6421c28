//! The player under tokio's paused clock: what it writes, when, and how controls
//! change that. No test here sleeps in real time.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use guildhall_ttyrec::{Control, Error, Frame, Outcome, PlayOptions, Playback, TermSize, play};
use tokio::io::AsyncWrite;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};

/// A write to the [`Screen`]: milliseconds since it was made, and the bytes.
type Write = (u64, Vec<u8>);

/// A terminal that notes when each write arrived.
#[derive(Clone)]
struct Screen {
    start: Instant,
    writes: Arc<Mutex<Vec<Write>>>,
}

impl Screen {
    fn new() -> Self {
        Screen {
            start: Instant::now(),
            writes: Arc::default(),
        }
    }

    fn writes(&self) -> Vec<(u64, String)> {
        let writes = self.writes.lock().unwrap();
        writes
            .iter()
            .map(|(ms, data)| (*ms, String::from_utf8_lossy(data).into_owned()))
            .collect()
    }

    fn times(&self) -> Vec<u64> {
        self.writes().into_iter().map(|(ms, _)| ms).collect()
    }
}

impl AsyncWrite for Screen {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let ms = self.start.elapsed().as_millis() as u64;
        self.writes.lock().unwrap().push((ms, buf.to_vec()));
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Frames `f0`, `f1`, … recorded at these offsets (ms) from an arbitrary wall-clock time.
fn frames(at_ms: &[u64]) -> Vec<Frame> {
    let epoch = Duration::from_secs(1_700_000_000);
    at_ms
        .iter()
        .enumerate()
        .map(|(i, ms)| Frame::new(epoch + Duration::from_millis(*ms), format!("f{i}")))
        .collect()
}

/// Starts playing `frames` to a fresh screen; returns the screen, the control sender
/// and the playback task.
fn start(
    frames: Vec<Frame>,
    options: PlayOptions,
) -> (
    Screen,
    mpsc::Sender<Control>,
    JoinHandle<Result<Playback, Error>>,
) {
    let screen = Screen::new();
    let (controls, mut receiver) = mpsc::channel(8);
    let output = screen.clone();
    let task = tokio::spawn(async move {
        let stream = futures_util::stream::iter(frames.into_iter().map(Ok));
        play(stream, output, &mut receiver, options).await
    });
    (screen, controls, task)
}

/// Sends `control` at `ms` after `start`.
async fn send_at(start: Instant, ms: u64, controls: &mpsc::Sender<Control>, control: Control) {
    sleep_until(start + Duration::from_millis(ms)).await;
    controls.send(control).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn frames_come_out_in_order_at_their_recorded_gaps_with_idle_capped() {
    let (screen, _controls, task) = start(
        frames(&[0, 500, 700, 10_700, 10_800]),
        PlayOptions::default(),
    );
    let playback = task.await.unwrap().unwrap();
    assert_eq!(
        screen.writes(),
        vec![
            (0, "f0".into()),
            (500, "f1".into()),
            (700, "f2".into()),
            (1_700, "f3".into()),
            (1_800, "f4".into())
        ]
    );
    assert_eq!(playback.frames, 5);
    assert_eq!(playback.outcome, Outcome::Finished);
    assert_eq!(playback.size, None);
}

#[tokio::test(start_paused = true)]
async fn speed_and_idle_cap_are_options() {
    let options = PlayOptions {
        speed: 2.0,
        max_idle: Some(Duration::from_secs(4)),
    };
    let (screen, _controls, task) = start(frames(&[0, 500, 700, 10_700]), options);
    task.await.unwrap().unwrap();
    assert_eq!(screen.times(), vec![0, 250, 350, 2_350]);

    let options = PlayOptions {
        speed: 1.0,
        max_idle: None,
    };
    let (screen, _controls, task) = start(frames(&[0, 10_700]), options);
    task.await.unwrap().unwrap();
    assert_eq!(screen.times(), vec![0, 10_700]);
}

#[tokio::test(start_paused = true)]
async fn a_clock_that_went_backwards_plays_without_delay() {
    let mut recorded = frames(&[5_000, 0, 200]);
    recorded[1].time = recorded[0].time - Duration::from_secs(5);
    let (screen, _controls, task) = start(recorded, PlayOptions::default());
    task.await.unwrap().unwrap();
    assert_eq!(screen.times(), vec![0, 0, 200]);
}

#[tokio::test(start_paused = true)]
async fn speed_changes_rescale_the_rest_of_the_current_wait() {
    let start_at = Instant::now();
    let (screen, controls, task) = start(frames(&[0, 1_000, 2_000, 3_000]), PlayOptions::default());
    // Halfway through the first gap, double: the other 500 ms of recording take 250.
    send_at(start_at, 500, &controls, Control::SpeedUp).await;
    // 1 s at double speed is 500 ms; at 1_000, half-way, back to normal: 500 more.
    send_at(start_at, 1_000, &controls, Control::NormalSpeed).await;
    // 100 ms into the last gap, halve: the other 900 ms of recording take 1_800.
    send_at(start_at, 1_600, &controls, Control::SlowDown).await;
    task.await.unwrap().unwrap();
    assert_eq!(screen.times(), vec![0, 750, 1_500, 3_400]);
}

#[tokio::test(start_paused = true)]
async fn pause_holds_the_rest_of_the_wait_until_resumed() {
    let start_at = Instant::now();
    let (screen, controls, task) = start(frames(&[0, 1_000, 1_500]), PlayOptions::default());
    send_at(start_at, 250, &controls, Control::TogglePause).await;
    sleep_until(start_at + Duration::from_secs(60)).await;
    assert_eq!(screen.times(), vec![0], "nothing while paused");
    send_at(start_at, 60_000, &controls, Control::TogglePause).await;
    task.await.unwrap().unwrap();
    assert_eq!(screen.times(), vec![0, 60_750, 61_250]);
}

#[tokio::test(start_paused = true)]
async fn skip_ends_a_wait_and_steps_one_frame_while_paused() {
    let start_at = Instant::now();
    let (screen, controls, task) = start(frames(&[0, 1_000, 2_000, 3_000]), PlayOptions::default());
    send_at(start_at, 100, &controls, Control::SkipIdle).await;
    send_at(start_at, 200, &controls, Control::TogglePause).await;
    send_at(start_at, 5_000, &controls, Control::SkipIdle).await;
    sleep_until(start_at + Duration::from_secs(10)).await;
    assert_eq!(
        screen.times(),
        vec![0, 100, 5_000],
        "one step, still paused"
    );
    send_at(start_at, 10_000, &controls, Control::TogglePause).await;
    task.await.unwrap().unwrap();
    assert_eq!(screen.times(), vec![0, 100, 5_000, 11_000]);
}

#[tokio::test(start_paused = true)]
async fn quit_stops_mid_wait_and_nothing_more_is_written() {
    let start_at = Instant::now();
    let (screen, controls, task) = start(frames(&[0, 1_000, 2_000]), PlayOptions::default());
    send_at(start_at, 1_500, &controls, Control::Quit).await;
    let playback = task.await.unwrap().unwrap();
    assert_eq!(start_at.elapsed(), Duration::from_millis(1_500));
    assert_eq!(screen.times(), vec![0, 1_000]);
    assert_eq!(playback.outcome, Outcome::Quit);
    assert_eq!(playback.frames, 2);
}

#[tokio::test(start_paused = true)]
async fn controls_already_queued_apply_before_the_first_frame() {
    let screen = Screen::new();
    let (controls, mut receiver) = mpsc::channel(8);
    controls.send(Control::Quit).await.unwrap();
    let stream = futures_util::stream::iter(frames(&[0, 1]).into_iter().map(Ok));
    let playback = play(
        stream,
        screen.clone(),
        &mut receiver,
        PlayOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(playback.outcome, Outcome::Quit);
    assert!(screen.writes().is_empty());
}

#[tokio::test(start_paused = true)]
async fn dropping_the_controls_resumes_and_plays_to_the_end() {
    let start_at = Instant::now();
    let (screen, controls, task) = start(frames(&[0, 1_000, 2_000]), PlayOptions::default());
    send_at(start_at, 500, &controls, Control::TogglePause).await;
    sleep_until(start_at + Duration::from_secs(3)).await;
    drop(controls);
    let playback = task.await.unwrap().unwrap();
    assert_eq!(playback.outcome, Outcome::Finished);
    assert_eq!(screen.times(), vec![0, 3_500, 4_500]);
}

#[tokio::test(start_paused = true)]
async fn reports_the_last_size_and_stops_at_a_bad_frame() {
    let mut recorded = frames(&[0, 100, 200]);
    recorded[0].data = TermSize::new(24, 80).resize_sequence().into();
    recorded[2].data = TermSize::new(40, 100).resize_sequence().into();
    let (_screen, _controls, task) = start(recorded, PlayOptions::default());
    assert_eq!(
        task.await.unwrap().unwrap().size,
        Some(TermSize::new(40, 100))
    );

    let screen = Screen::new();
    let (_controls, mut receiver) = mpsc::channel(1);
    let stream = futures_util::stream::iter(vec![
        Ok(frames(&[0])[0].clone()),
        Err(Error::TruncatedHeader { offset: 14, got: 3 }),
    ]);
    let err = play(
        stream,
        screen.clone(),
        &mut receiver,
        PlayOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::TruncatedHeader { .. }), "{err}");
    assert_eq!(screen.times(), vec![0]);
}

#[tokio::test(start_paused = true)]
async fn a_closed_output_is_an_output_error() {
    let (reader, writer) = tokio::io::duplex(64);
    drop(reader);
    let (_controls, mut receiver) = mpsc::channel(1);
    let stream = futures_util::stream::iter(frames(&[0]).into_iter().map(Ok));
    let err = play(stream, writer, &mut receiver, PlayOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Output(_)), "{err}");
}
