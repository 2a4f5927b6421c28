//! The file format: what the writers write, the readers read back, and what the
//! readers refuse.

use std::time::Duration;

use guildhall_ttyrec::{
    AsyncReader, AsyncWriter, Error, Frame, HEADER_LEN, MAX_FRAME_LEN, Reader, TermSize, Writer,
};
use proptest::prelude::*;

fn encode(frames: &[Frame]) -> Vec<u8> {
    let mut writer = Writer::new(Vec::new());
    for frame in frames {
        writer.write_frame(frame).unwrap();
    }
    writer.finish().unwrap()
}

fn decode(bytes: &[u8]) -> Result<Vec<Frame>, Error> {
    Reader::new(bytes).collect()
}

fn header(sec: u32, usec: u32, len: u32) -> Vec<u8> {
    [sec.to_le_bytes(), usec.to_le_bytes(), len.to_le_bytes()].concat()
}

#[test]
fn frames_round_trip_and_the_bytes_are_the_documented_layout() {
    let frames = vec![
        Frame::new(
            Duration::new(1_700_000_000, 123_456_000),
            TermSize::new(24, 80).resize_sequence(),
        ),
        Frame::new(Duration::new(1_700_000_001, 0), &b"hello \xff world"[..]),
    ];
    let bytes = encode(&frames);
    let mut expected = header(1_700_000_000, 123_456, 10);
    expected.extend_from_slice(b"\x1b[8;24;80t");
    expected.extend(header(1_700_000_001, 0, 13));
    expected.extend_from_slice(b"hello \xff world");
    assert_eq!(bytes, expected);
    assert_eq!(decode(&bytes).unwrap(), frames);

    let mut reader = Reader::new(&bytes[..]);
    reader.by_ref().for_each(drop);
    assert_eq!(reader.size(), Some(TermSize::new(24, 80)));
    assert_eq!(reader.offset(), bytes.len() as u64);
}

#[test]
fn time_is_kept_to_the_microsecond() {
    let bytes = encode(&[Frame::new(Duration::new(5, 999_999_999), &b"x"[..])]);
    assert_eq!(
        decode(&bytes).unwrap()[0].time,
        Duration::new(5, 999_999_000)
    );
}

#[test]
fn empty_data_writes_nothing_and_long_data_is_split() {
    let time = Duration::from_secs(7);
    let long: Vec<u8> = (0..MAX_FRAME_LEN * 2 + 5).map(|i| i as u8).collect();
    let mut writer = Writer::new(Vec::new());
    writer.write_data_at(time, b"").unwrap();
    writer.write_data_at(time, &long).unwrap();
    let frames = decode(&writer.finish().unwrap()).unwrap();
    let lens: Vec<usize> = frames.iter().map(|f| f.data.len()).collect();
    assert_eq!(lens, vec![MAX_FRAME_LEN, MAX_FRAME_LEN, 5]);
    assert!(frames.iter().all(|f| f.time == time));
    assert_eq!(
        frames
            .iter()
            .flat_map(|f| f.data.iter().copied())
            .collect::<Vec<_>>(),
        long
    );
}

#[test]
fn wall_clock_frames_are_now_and_never_go_backwards() {
    let future = Duration::from_secs(u64::from(u32::MAX) - 10);
    let mut writer = Writer::new(Vec::new());
    writer.write_size(TermSize::new(30, 100)).unwrap();
    writer.write_data_at(future, b"from the future").unwrap();
    writer.write_data(b"now").unwrap();
    let frames = decode(&writer.finish().unwrap()).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    assert!(
        now.saturating_sub(frames[0].time) < Duration::from_secs(60),
        "{:?}",
        frames[0]
    );
    assert_eq!(
        frames[2].time, future,
        "a wall-clock frame after a later one keeps the later time"
    );
}

#[test]
fn a_time_past_2106_is_an_error() {
    let mut writer = Writer::new(Vec::new());
    let err = writer
        .write_data_at(Duration::from_secs(1 << 32), b"x")
        .unwrap_err();
    assert!(matches!(err, Error::TimeOutOfRange(_)), "{err}");
}

#[test]
fn a_file_cut_anywhere_inside_a_frame_is_an_error_after_the_whole_frames() {
    let frames = vec![
        Frame::new(Duration::from_secs(1), &b"first"[..]),
        Frame::new(Duration::from_secs(2), &b"second"[..]),
    ];
    let bytes = encode(&frames);
    let first_len = HEADER_LEN + 5;
    for cut in first_len + 1..bytes.len() {
        let mut reader = Reader::new(&bytes[..cut]);
        assert_eq!(reader.next().unwrap().unwrap(), frames[0]);
        let err = reader.next().unwrap().unwrap_err();
        let got = cut - first_len;
        if got < HEADER_LEN {
            assert!(
                matches!(err, Error::TruncatedHeader { offset: 17, got: g } if g == got),
                "cut {cut}: {err}"
            );
        } else {
            assert!(
                matches!(err, Error::TruncatedFrame { offset: 17, expected: 6, got: g } if g == got - HEADER_LEN),
                "cut {cut}: {err}"
            );
        }
        assert!(reader.next().is_none(), "reading stops after an error");
    }
}

#[test]
fn a_huge_length_is_refused_without_allocating_it() {
    let mut bytes = header(1, 0, u32::MAX);
    bytes.extend_from_slice(b"not four gigabytes");
    let err = decode(&bytes).unwrap_err();
    assert!(
        matches!(
            err,
            Error::FrameTooLarge {
                offset: 0,
                len: u32::MAX,
                max: MAX_FRAME_LEN
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("4294967295"), "{err}");

    let small = encode(&[Frame::new(Duration::ZERO, vec![b'x'; 100])]);
    let err = Reader::new(&small[..])
        .with_max_frame_len(99)
        .next()
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::FrameTooLarge {
                len: 100,
                max: 99,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        Reader::new(&small[..])
            .with_max_frame_len(100)
            .next()
            .unwrap()
            .is_ok()
    );
}

#[test]
fn an_empty_file_has_no_frames() {
    assert_eq!(decode(b"").unwrap(), vec![]);
}

#[tokio::test]
async fn the_async_writer_and_reader_agree_with_the_sync_ones() {
    let frames = vec![
        Frame::new(
            Duration::new(1_700_000_000, 1_000),
            TermSize::new(50, 132).resize_sequence(),
        ),
        Frame::new(
            Duration::new(1_700_000_002, 2_000),
            &b"\x1b[2Jthe dungeon"[..],
        ),
    ];
    let mut writer = AsyncWriter::new(Vec::new());
    for frame in &frames {
        writer.write_frame(frame).await.unwrap();
    }
    let bytes = writer.finish().await.unwrap();
    assert_eq!(bytes, encode(&frames));

    let mut reader = AsyncReader::new(&bytes[..]);
    let mut read = Vec::new();
    while let Some(frame) = reader.read_frame().await.unwrap() {
        read.push(frame);
    }
    assert_eq!(read, frames);
    assert_eq!(reader.size(), Some(TermSize::new(50, 132)));

    let err = AsyncReader::new(&bytes[..bytes.len() - 1]).into_stream();
    let results: Vec<_> = futures_util::StreamExt::collect(err).await;
    assert!(
        matches!(results[..], [Ok(_), Err(Error::TruncatedFrame { .. })]),
        "{results:?}"
    );
}

fn arb_frame() -> impl Strategy<Value = Frame> {
    (
        any::<u32>(),
        0..1_000_000u32,
        proptest::collection::vec(any::<u8>(), 1..300),
    )
        .prop_map(|(sec, usec, data)| Frame::new(Duration::new(sec.into(), usec * 1000), data))
}

proptest! {
    #[test]
    fn arbitrary_frames_round_trip(frames in proptest::collection::vec(arb_frame(), 0..20)) {
        let bytes = encode(&frames);
        prop_assert_eq!(decode(&bytes).unwrap(), frames.clone());
        let async_read = tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
            let mut reader = AsyncReader::new(&bytes[..]);
            let mut read = Vec::new();
            while let Some(frame) = reader.read_frame().await.unwrap() {
                read.push(frame);
            }
            read
        });
        prop_assert_eq!(async_read, frames);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_errors_end_the_stream(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut reader = Reader::new(&bytes[..]).with_max_frame_len(64);
        let mut consumed = 0;
        while let Some(result) = reader.next() {
            match result {
                Ok(frame) => consumed += HEADER_LEN + frame.data.len(),
                Err(_) => {
                    prop_assert!(reader.next().is_none());
                    break;
                }
            }
        }
        prop_assert!(consumed <= bytes.len());
    }
}
