//! asciicast v2 export, read back with serde_json as an asciicast player would.

use std::collections::BTreeMap;
use std::time::Duration;

use guildhall_ttyrec::{CastOptions, Error, Frame, TermSize, export_asciicast};
use proptest::prelude::*;
use serde_json::{Value, json};

const EPOCH: u64 = 1_700_000_000;

fn at(ms: u64, data: impl Into<bytes::Bytes>) -> Frame {
    Frame::new(Duration::from_secs(EPOCH) + Duration::from_millis(ms), data)
}

/// Exports `frames` and parses every line: (header, events).
fn export(frames: Vec<Frame>, options: &CastOptions) -> (Value, Vec<Value>) {
    let mut out = Vec::new();
    export_asciicast(frames.into_iter().map(Ok), &mut out, options).unwrap();
    parse(&out)
}

fn parse(out: &[u8]) -> (Value, Vec<Value>) {
    let text = std::str::from_utf8(out).expect("asciicast is UTF-8");
    assert!(text.ends_with('\n'), "{text:?}");
    let mut lines = text
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line}")));
    let header = lines.next().unwrap();
    (header, lines.collect())
}

/// The concatenated data of the `"o"` events.
fn output(events: &[Value]) -> String {
    events
        .iter()
        .filter(|e| e[1] == "o")
        .map(|e| e[2].as_str().unwrap())
        .collect()
}

#[test]
fn a_recording_exports_with_its_size_times_resizes_and_text() {
    let euro = "€".as_bytes();
    let frames = vec![
        at(0, TermSize::new(30, 100).resize_sequence()),
        at(500, &b"hello\r\n"[..]),
        at(1_250, TermSize::new(40, 120).resize_sequence()),
        at(1_300, vec![b'a', euro[0], euro[1]]),
        at(2_000, vec![euro[2], b'!', 0xff, b'.']),
        at(2_500, TermSize::new(40, 120).resize_sequence()),
        at(3_000, vec![0xe2, 0x82]),
    ];
    let (header, events) = export(frames, &CastOptions::default());
    assert_eq!(
        header,
        json!({"version": 2, "width": 100, "height": 30, "timestamp": EPOCH})
    );
    assert_eq!(
        events,
        vec![
            json!([0.0, "o", "\u{1b}[8;30;100t"]),
            json!([0.5, "o", "hello\r\n"]),
            json!([1.25, "o", "\u{1b}[8;40;120t"]),
            json!([1.25, "r", "120x40"]),
            json!([1.3, "o", "a"]),
            json!([2.0, "o", "€!\u{fffd}."]),
            json!([2.5, "o", "\u{1b}[8;40;120t"]),
            json!([3.0, "o", "\u{fffd}"]),
        ]
    );
}

#[test]
fn times_are_written_with_microseconds() {
    let frames = vec![
        at(0, &b"a"[..]),
        Frame::new(Duration::new(EPOCH + 61, 234_567_000), &b"b"[..]),
    ];
    let mut out = Vec::new();
    export_asciicast(
        frames.into_iter().map(Ok),
        &mut out,
        &CastOptions::default(),
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("\n[61.234567, \"o\", \"b\"]\n"), "{text}");
}

#[test]
fn without_a_resize_the_header_has_the_default_size_and_the_options() {
    let options = CastOptions {
        default_size: TermSize::new(25, 81),
        title: Some("NetHack: Merlin".into()),
        env: BTreeMap::from([("TERM".into(), "xterm-256color".into())]),
        idle_time_limit: Some(Duration::from_millis(1_500)),
    };
    let (header, events) = export(vec![at(0, &b"no size here"[..])], &options);
    assert_eq!(
        header,
        json!({
            "version": 2, "width": 81, "height": 25, "timestamp": EPOCH,
            "title": "NetHack: Merlin", "env": {"TERM": "xterm-256color"}, "idle_time_limit": 1.5,
        })
    );
    assert_eq!(events, vec![json!([0.0, "o", "no size here"])]);

    let (header, _) = export(vec![at(0, &b"x"[..])], &CastOptions::default());
    assert_eq!(
        (header["width"].as_u64(), header["height"].as_u64()),
        (Some(80), Some(24))
    );
}

#[test]
fn the_header_size_may_come_after_some_output() {
    let frames = vec![
        at(0, &b"login banner\r\n"[..]),
        at(10, &b"\x1b[8;5"[..]),
        at(20, &b"0;132t"[..]),
    ];
    let (header, events) = export(frames, &CastOptions::default());
    assert_eq!(
        (header["width"].as_u64(), header["height"].as_u64()),
        (Some(132), Some(50))
    );
    assert!(
        events.iter().all(|e| e[1] == "o"),
        "the header's size is not repeated as a resize: {events:?}"
    );
    assert_eq!(output(&events), "login banner\r\n\x1b[8;50;132t");
}

#[test]
fn an_empty_recording_is_a_header_alone() {
    let (header, events) = export(vec![], &CastOptions::default());
    assert_eq!(header, json!({"version": 2, "width": 80, "height": 24}));
    assert!(events.is_empty());
}

#[test]
fn a_broken_recording_exports_what_came_before_and_fails() {
    let frames = vec![
        Ok(at(0, &b"before"[..])),
        Err(Error::TruncatedHeader { offset: 18, got: 2 }),
    ];
    let mut out = Vec::new();
    let err = export_asciicast(frames, &mut out, &CastOptions::default()).unwrap_err();
    assert!(
        matches!(err, Error::TruncatedHeader { offset: 18, got: 2 }),
        "{err}"
    );
    let (_, events) = parse(&out);
    assert_eq!(output(&events), "before");
}

proptest! {
    /// However a byte stream is cut into frames, the exported text is the stream decoded
    /// as a whole.
    #[test]
    fn output_is_the_lossy_decoding_of_the_whole_stream(
        bytes in proptest::collection::vec(
            prop_oneof![any::<u8>(), Just(0xe2u8), Just(0x82u8), Just(0xacu8), Just(0xf0u8), Just(0x9fu8)],
            0..200,
        ),
        cuts in proptest::collection::vec(0..200usize, 0..12),
    ) {
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
        cuts.push(0);
        cuts.push(bytes.len());
        cuts.sort_unstable();
        let frames: Vec<Frame> = cuts
            .windows(2)
            .enumerate()
            .map(|(i, w)| at(i as u64, bytes[w[0]..w[1]].to_vec()))
            .collect();
        let (_, events) = export(frames, &CastOptions::default());
        prop_assert_eq!(output(&events), String::from_utf8_lossy(&bytes).into_owned());
        let times: Vec<f64> = events.iter().map(|e| e[0].as_f64().unwrap()).collect();
        prop_assert!(times.windows(2).all(|w| w[0] <= w[1]), "{:?}", times);
    }
}
