//! Streaming readers: one frame at a time, never trusting a header's length beyond the
//! configured cap.

use std::io::{self, Read};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::frame::{Error, Frame, HEADER_LEN, MAX_FRAME_LEN, decode_header};
use crate::size::{SizeScanner, TermSize};

/// What both readers track besides the input: where they are, the cap, and the last
/// terminal size seen.
#[derive(Debug)]
struct Progress {
    /// Bytes consumed so far: the offset of the next header, for error messages.
    offset: u64,
    max_frame_len: usize,
    sizes: SizeScanner,
    size: Option<TermSize>,
    /// Set after the end or an error, so iteration stops instead of reading garbage
    /// from the middle of a frame.
    done: bool,
}

impl Progress {
    fn new() -> Self {
        Progress {
            offset: 0,
            max_frame_len: MAX_FRAME_LEN,
            sizes: SizeScanner::new(),
            size: None,
            done: false,
        }
    }

    /// Checks a header that arrived with `got` bytes (`None` at a clean end).
    fn header(
        &mut self,
        header: &[u8; HEADER_LEN],
        got: usize,
    ) -> Result<Option<(Duration, u32)>, Error> {
        if got == 0 {
            self.done = true;
            return Ok(None);
        }
        if got < HEADER_LEN {
            self.done = true;
            return Err(Error::TruncatedHeader {
                offset: self.offset,
                got,
            });
        }
        let (time, len) = decode_header(header);
        if len as usize > self.max_frame_len {
            self.done = true;
            return Err(Error::FrameTooLarge {
                offset: self.offset,
                len,
                max: self.max_frame_len,
            });
        }
        Ok(Some((time, len)))
    }

    /// Checks a frame's data and returns the frame.
    fn data(&mut self, time: Duration, len: u32, data: Vec<u8>) -> Result<Frame, Error> {
        if data.len() < len as usize {
            self.done = true;
            return Err(Error::TruncatedFrame {
                offset: self.offset,
                expected: len,
                got: data.len(),
            });
        }
        self.offset += (HEADER_LEN + data.len()) as u64;
        if let Some(size) = self.sizes.scan(&data).pop() {
            self.size = Some(size);
        }
        Ok(Frame::new(time, Bytes::from(data)))
    }

    fn fail(&mut self, error: io::Error) -> Error {
        self.done = true;
        Error::Io(error)
    }
}

/// Reads frames from a [`Read`], one at a time; also an [`Iterator`] that stops after
/// the first error.
///
/// Wrap unbuffered sources such as a `File` in a `BufReader`: each frame is two reads.
///
/// ```
/// # fn main() -> Result<(), guildhall_ttyrec::Error> {
/// let file: &[u8] = b"\x01\0\0\0\0\0\0\0\x02\0\0\0hi";
/// let mut reader = guildhall_ttyrec::Reader::new(file);
/// let frame = reader.read_frame()?.unwrap();
/// assert_eq!(&frame.data[..], b"hi");
/// assert!(reader.read_frame()?.is_none());
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Reader<R> {
    inner: R,
    progress: Progress,
}

impl<R: Read> Reader<R> {
    /// A reader over `inner`, accepting frames up to [`MAX_FRAME_LEN`].
    pub fn new(inner: R) -> Self {
        Reader {
            inner,
            progress: Progress::new(),
        }
    }

    /// Accepts frames up to `max` bytes instead.
    pub fn with_max_frame_len(mut self, max: usize) -> Self {
        self.progress.max_frame_len = max;
        self
    }

    /// The next frame, or `None` at a clean end of input (the end of a frame).
    pub fn read_frame(&mut self) -> Result<Option<Frame>, Error> {
        if self.progress.done {
            return Ok(None);
        }
        let mut header = [0; HEADER_LEN];
        let got = read_full(&mut self.inner, &mut header).map_err(|e| self.progress.fail(e))?;
        let Some((time, len)) = self.progress.header(&header, got)? else {
            return Ok(None);
        };
        // The cap bounds this allocation; a truncated file still only costs `len`.
        let mut data = Vec::with_capacity(len as usize);
        (&mut self.inner)
            .take(len.into())
            .read_to_end(&mut data)
            .map_err(|e| self.progress.fail(e))?;
        self.progress.data(time, len, data).map(Some)
    }

    /// The last terminal size requested in the frames read so far.
    pub fn size(&self) -> Option<TermSize> {
        self.progress.size
    }

    /// Bytes of the recording consumed so far.
    pub fn offset(&self) -> u64 {
        self.progress.offset
    }

    /// The underlying reader.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> Iterator for Reader<R> {
    type Item = Result<Frame, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.read_frame().transpose()
    }
}

/// Reads into `buf` until it is full or the input ends; returns how much was read.
fn read_full(inner: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match inner.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Reads frames from a tokio [`AsyncRead`]; the same checks as [`Reader`].
///
/// Wrap unbuffered sources such as `tokio::fs::File` in a `tokio::io::BufReader`.
#[derive(Debug)]
pub struct AsyncReader<R> {
    inner: R,
    progress: Progress,
}

impl<R: AsyncRead + Unpin> AsyncReader<R> {
    /// A reader over `inner`, accepting frames up to [`MAX_FRAME_LEN`].
    pub fn new(inner: R) -> Self {
        AsyncReader {
            inner,
            progress: Progress::new(),
        }
    }

    /// Accepts frames up to `max` bytes instead.
    pub fn with_max_frame_len(mut self, max: usize) -> Self {
        self.progress.max_frame_len = max;
        self
    }

    /// The next frame, or `None` at a clean end of input (the end of a frame).
    pub async fn read_frame(&mut self) -> Result<Option<Frame>, Error> {
        if self.progress.done {
            return Ok(None);
        }
        let mut header = [0; HEADER_LEN];
        let mut got = 0;
        while got < HEADER_LEN {
            match self.inner.read(&mut header[got..]).await {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) => return Err(self.progress.fail(e)),
            }
        }
        let Some((time, len)) = self.progress.header(&header, got)? else {
            return Ok(None);
        };
        let mut data = Vec::with_capacity(len as usize);
        (&mut self.inner)
            .take(len.into())
            .read_to_end(&mut data)
            .await
            .map_err(|e| self.progress.fail(e))?;
        self.progress.data(time, len, data).map(Some)
    }

    /// The last terminal size requested in the frames read so far.
    pub fn size(&self) -> Option<TermSize> {
        self.progress.size
    }

    /// Bytes of the recording consumed so far.
    pub fn offset(&self) -> u64 {
        self.progress.offset
    }

    /// The frames as a [`Stream`] (for [`play`](crate::play)), ending after the first
    /// error.
    pub fn into_stream(self) -> impl Stream<Item = Result<Frame, Error>> + Unpin {
        Box::pin(futures_util::stream::unfold(
            self,
            |mut reader| async move {
                reader
                    .read_frame()
                    .await
                    .transpose()
                    .map(|item| (item, reader))
            },
        ))
    }

    /// The underlying reader.
    pub fn into_inner(self) -> R {
        self.inner
    }
}
