//! Where a ttyrec frame is written: every session records its output, with the
//! terminal size at the start and after each resize, to
//! `<data>/recordings/<user>/<game>/<timestamp>.ttyrec`.

use std::io::ErrorKind;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use guildhall_ttyrec::{AsyncWriter, TermSize};
use time::OffsetDateTime;
use tokio::fs::{self, File};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::error::Error;
use crate::layout::DataLayout;
use crate::names::{GameId, UserName};
use crate::stamp::{file_stamp, parse_file_stamp};

const EXTENSION: &str = "ttyrec";

/// A finished or running session's recording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recording {
    pub game: GameId,
    /// When the session started (from the file name).
    pub started: OffsetDateTime,
    pub path: PathBuf,
    pub bytes: u64,
}

/// Frames a recorder may have queued for its writer before it gives up: a disk that
/// stalls this long stops the recording, never the game.
const QUEUE_FRAMES: usize = 4096;

/// A session's recorder: stamps each frame when the game produced it and hands it to a
/// writer task of its own, which writes whatever has queued up and flushes once per
/// batch. The session's task never waits for the disk.
///
/// Recording is best effort: if the disk fails or falls too far behind, the game goes
/// on unrecorded rather than stopping.
pub(crate) struct Recorder {
    path: PathBuf,
    frames: Option<mpsc::Sender<Entry>>,
    writer: JoinHandle<()>,
    /// The latest time stamped: frames never go back in time, even if the clock does.
    last: Duration,
}

enum Entry {
    Data(Duration, Bytes),
    Size(Duration, TermSize),
}

impl Recorder {
    /// Creates a new recording for a session of `game` by `user` starting now, and
    /// writes `size` as its first frame.
    pub async fn create(
        layout: &DataLayout,
        user: &UserName,
        game: &GameId,
        size: TermSize,
    ) -> Result<Self, Error> {
        let dir = layout.recordings(user, game);
        fs::create_dir_all(&dir).await.map_err(Error::io(&dir))?;
        let stamp = file_stamp(OffsetDateTime::now_utc());
        // A game quit and restarted within the millisecond would reuse the name.
        let mut attempt = 0;
        let (path, file) = loop {
            let name = match attempt {
                0 => format!("{stamp}.{EXTENSION}"),
                n => format!("{stamp}-{n}.{EXTENSION}"),
            };
            let path = dir.join(name);
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .await
            {
                Ok(file) => break (path, file),
                Err(e) if e.kind() == ErrorKind::AlreadyExists && attempt < 100 => attempt += 1,
                Err(e) => return Err(Error::io(&path)(e)),
            }
        };
        let (tx, rx) = mpsc::channel(QUEUE_FRAMES);
        let writer = tokio::spawn(write_frames(path.clone(), AsyncWriter::new(file), rx));
        let mut recorder = Recorder {
            path,
            frames: Some(tx),
            writer,
            last: Duration::ZERO,
        };
        recorder.size(size);
        Ok(recorder)
    }

    /// Records output the game just produced.
    pub fn data(&mut self, data: Bytes) {
        let time = self.now();
        self.queue(Entry::Data(time, data));
    }

    /// Records a change of terminal size.
    pub fn size(&mut self, size: TermSize) {
        let time = self.now();
        self.queue(Entry::Size(time, size));
    }

    /// Waits until everything queued is on disk and the file is closed.
    pub async fn finish(mut self) {
        self.frames = None;
        let _ = (&mut self.writer).await;
    }

    fn now(&mut self) -> Duration {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        self.last = self.last.max(now);
        self.last
    }

    fn queue(&mut self, entry: Entry) {
        let Some(frames) = &self.frames else { return };
        match frames.try_send(entry) {
            Ok(()) => {}
            // The writer already stopped on an error, and said so.
            Err(mpsc::error::TrySendError::Closed(_)) => self.frames = None,
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(path = %self.path.display(), "recording stopped: the disk fell behind");
                metrics::counter!("gamehost_recordings_abandoned_total").increment(1);
                self.frames = None;
            }
        }
    }
}

/// The recorder's writer task: writes each batch of queued frames, then flushes, so a
/// crash loses at most the batch in hand.
async fn write_frames(path: PathBuf, mut writer: AsyncWriter<File>, mut rx: mpsc::Receiver<Entry>) {
    let mut batch = Vec::new();
    while rx.recv_many(&mut batch, QUEUE_FRAMES).await > 0 {
        let written = async {
            for entry in batch.drain(..) {
                match entry {
                    Entry::Data(time, data) => writer.write_data_at(time, &data).await?,
                    Entry::Size(time, size) => writer.write_size_at(time, size).await?,
                }
            }
            writer.flush().await
        };
        if let Err(error) = written.await {
            tracing::warn!(path = %path.display(), %error, "recording stopped");
            metrics::counter!("gamehost_recordings_abandoned_total").increment(1);
            return;
        }
    }
    if let Err(error) = writer.finish().await {
        tracing::warn!(path = %path.display(), %error, "recording could not be finished");
    }
}

/// `user`'s recordings, newest first.
pub async fn list(layout: &DataLayout, user: &UserName) -> Result<Vec<Recording>, Error> {
    let root = layout.user_recordings(user);
    let mut found = Vec::new();
    let mut games = match fs::read_dir(&root).await {
        Ok(games) => games,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(Error::io(&root)(e)),
    };
    while let Some(game_dir) = games.next_entry().await.map_err(Error::io(&root))? {
        let Ok(game) = GameId::parse(&game_dir.file_name().to_string_lossy()) else {
            continue;
        };
        let dir = game_dir.path();
        let mut files = fs::read_dir(&dir).await.map_err(Error::io(&dir))?;
        while let Some(file) = files.next_entry().await.map_err(Error::io(&dir))? {
            let name = file.file_name().to_string_lossy().into_owned();
            let Some(started) = name
                .strip_suffix(&format!(".{EXTENSION}"))
                .and_then(|stem| parse_file_stamp(stem.get(..24)?))
            else {
                continue;
            };
            let bytes = file.metadata().await.map_err(Error::io(file.path()))?.len();
            found.push(Recording {
                game: game.clone(),
                started,
                path: file.path(),
                bytes,
            });
        }
    }
    found.sort_by(|a, b| b.started.cmp(&a.started).then_with(|| b.path.cmp(&a.path)));
    Ok(found)
}
