//! Writers: where a ttyrec frame is written, synchronously or (for the game host's
//! recorder) on tokio.
//!
//! Both buffer internally and share the same rules:
//!
//! - Data longer than [`MAX_FRAME_LEN`] becomes several frames with the same time, so
//!   every frame written is one a [`Reader`](crate::Reader) accepts.
//! - Empty data writes nothing: a zero-length frame shows nothing, and `ttyplay`
//!   prints an error for one.
//! - The wall-clock methods (`write_data`, `write_size`) never go backwards: if the
//!   system clock steps back, frames keep the last time written, so a player never
//!   sees a negative delay. The `_at` methods write exactly the time given.

use std::io::{BufWriter, Write};
use std::time::Duration;

use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::frame::{Error, Frame, MAX_FRAME_LEN, encode_header, wall_clock};
use crate::size::TermSize;

/// Writes frames to a [`Write`] through an internal buffer.
///
/// Frames reach `inner` when the buffer fills, on [`flush`](Self::flush), on
/// [`finish`](Self::finish), or (ignoring errors) on drop.
#[derive(Debug)]
pub struct Writer<W: Write> {
    inner: BufWriter<W>,
    /// The latest time written, the floor for wall-clock times.
    last: Duration,
}

impl<W: Write> Writer<W> {
    /// A writer appending frames to `inner` (a new file, or one opened for append to
    /// continue a recording).
    pub fn new(inner: W) -> Self {
        Writer {
            inner: BufWriter::new(inner),
            last: Duration::ZERO,
        }
    }

    /// Writes `frame` (see [`write_data_at`](Self::write_data_at)).
    pub fn write_frame(&mut self, frame: &Frame) -> Result<(), Error> {
        self.write_data_at(frame.time, &frame.data)
    }

    /// Writes `data` stamped with the wall clock.
    pub fn write_data(&mut self, data: &[u8]) -> Result<(), Error> {
        let time = wall_clock().max(self.last);
        self.write_data_at(time, data)
    }

    /// Writes `data` stamped `time` since the Unix epoch; fails only if `time` is past
    /// 2106 or the output fails.
    pub fn write_data_at(&mut self, time: Duration, data: &[u8]) -> Result<(), Error> {
        for chunk in data.chunks(MAX_FRAME_LEN) {
            let header = encode_header(time, chunk.len())?;
            self.inner.write_all(&header)?;
            self.inner.write_all(chunk)?;
        }
        self.last = self.last.max(time);
        Ok(())
    }

    /// Writes the resize request for `size` as a frame, stamped with the wall clock:
    /// call it when recording starts and after every resize.
    pub fn write_size(&mut self, size: TermSize) -> Result<(), Error> {
        self.write_data(&size.resize_sequence())
    }

    /// Writes the resize request for `size` as a frame stamped `time`.
    pub fn write_size_at(&mut self, time: Duration, size: TermSize) -> Result<(), Error> {
        self.write_data_at(time, &size.resize_sequence())
    }

    /// Pushes buffered frames to the underlying writer and flushes it.
    pub fn flush(&mut self) -> Result<(), Error> {
        Ok(self.inner.flush()?)
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(self) -> Result<W, Error> {
        self.inner
            .into_inner()
            .map_err(|e| Error::Io(e.into_error()))
    }

    /// The underlying writer (without the buffered frames).
    pub fn get_ref(&self) -> &W {
        self.inner.get_ref()
    }
}

/// Writes frames to a tokio [`AsyncWrite`] through an internal buffer: the game
/// host's recorder.
///
/// Frames reach `inner` when the buffer fills, on [`flush`](Self::flush) or on
/// [`finish`](Self::finish). Unlike [`Writer`], dropping it loses what is buffered, so
/// a recorder should flush after each burst of output (or on a timer) to bound what a
/// crash loses, and finish when the session ends.
#[derive(Debug)]
pub struct AsyncWriter<W> {
    inner: tokio::io::BufWriter<W>,
    /// The latest time written, the floor for wall-clock times.
    last: Duration,
}

impl<W: AsyncWrite + Unpin> AsyncWriter<W> {
    /// A writer appending frames to `inner`.
    pub fn new(inner: W) -> Self {
        AsyncWriter {
            inner: tokio::io::BufWriter::new(inner),
            last: Duration::ZERO,
        }
    }

    /// Writes `frame` (see [`write_data_at`](Self::write_data_at)).
    pub async fn write_frame(&mut self, frame: &Frame) -> Result<(), Error> {
        self.write_data_at(frame.time, &frame.data).await
    }

    /// Writes `data` stamped with the wall clock.
    pub async fn write_data(&mut self, data: &[u8]) -> Result<(), Error> {
        let time = wall_clock().max(self.last);
        self.write_data_at(time, data).await
    }

    /// Writes `data` stamped `time` since the Unix epoch; fails only if `time` is past
    /// 2106 or the output fails.
    pub async fn write_data_at(&mut self, time: Duration, data: &[u8]) -> Result<(), Error> {
        for chunk in data.chunks(MAX_FRAME_LEN) {
            let header = encode_header(time, chunk.len())?;
            self.inner.write_all(&header).await?;
            self.inner.write_all(chunk).await?;
        }
        self.last = self.last.max(time);
        Ok(())
    }

    /// Writes the resize request for `size` as a frame, stamped with the wall clock:
    /// call it when recording starts and after every resize.
    pub async fn write_size(&mut self, size: TermSize) -> Result<(), Error> {
        self.write_data(&size.resize_sequence()).await
    }

    /// Writes the resize request for `size` as a frame stamped `time`.
    pub async fn write_size_at(&mut self, time: Duration, size: TermSize) -> Result<(), Error> {
        self.write_data_at(time, &size.resize_sequence()).await
    }

    /// Pushes buffered frames to the underlying writer and flushes it.
    pub async fn flush(&mut self) -> Result<(), Error> {
        Ok(self.inner.flush().await?)
    }

    /// Flushes, shuts the underlying writer down (for a file: waits for the last write
    /// to land) and returns it.
    pub async fn finish(mut self) -> Result<W, Error> {
        self.inner.shutdown().await?;
        Ok(self.inner.into_inner())
    }

    /// The underlying writer (without the buffered frames).
    pub fn get_ref(&self) -> &W {
        self.inner.get_ref()
    }
}
