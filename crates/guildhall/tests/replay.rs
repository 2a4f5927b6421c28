//! `guildhall replay`: a recording written by the game host's recorder plays back on
//! standard output, and exports as asciicast v2 with the size written into the stream.

use std::process::Command;
use std::time::Duration;

use guildhall_ttyrec::{Frame, TermSize, Writer};

fn recording(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("game.ttyrec");
    let mut writer = Writer::new(std::fs::File::create(&path).unwrap());
    let start = Duration::from_secs(1_700_000_000);
    writer.write_size_at(start, TermSize::new(30, 100)).unwrap();
    writer
        .write_frame(&Frame::new(start, &b"You hear the footsteps\r\n"[..]))
        .unwrap();
    writer
        .write_frame(&Frame::new(
            start + Duration::from_millis(1500),
            "of a guard on patrol \u{2014} caf\u{e9}\r\n"
                .as_bytes()
                .to_vec(),
        ))
        .unwrap();
    writer.finish().unwrap();
    path
}

#[test]
fn a_recording_plays_back_and_exports_as_asciicast() {
    let dir = tempfile::tempdir().unwrap();
    let path = recording(dir.path());
    let guildhall = env!("CARGO_BIN_EXE_guildhall");

    let played = Command::new(guildhall)
        .args(["replay", "--speed", "64"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(played.status.success(), "{played:?}");
    let text = String::from_utf8_lossy(&played.stdout);
    assert!(text.contains("You hear the footsteps"), "{text}");
    assert!(text.contains("caf\u{e9}"), "{text}");

    let cast = Command::new(guildhall)
        .args(["replay", "--export", "cast"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(cast.status.success(), "{cast:?}");
    let lines: Vec<serde_json::Value> = String::from_utf8(cast.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines[0]["version"], 2);
    assert_eq!(
        (lines[0]["width"].as_u64(), lines[0]["height"].as_u64()),
        (Some(100), Some(30))
    );
    let output: String = lines[1..]
        .iter()
        .filter(|event| event[1] == "o")
        .map(|event| event[2].as_str().unwrap())
        .collect();
    assert!(
        output.contains("of a guard on patrol \u{2014} caf\u{e9}"),
        "{output}"
    );
    let last = lines.last().unwrap()[0].as_f64().unwrap();
    assert!((1.4..1.6).contains(&last), "the pause is kept: {last}");
}

#[test]
fn a_missing_or_broken_recording_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let guildhall = env!("CARGO_BIN_EXE_guildhall");
    let missing = Command::new(guildhall)
        .args(["replay", "/nonexistent/game.ttyrec"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("opening"));

    // A header announcing 4 GiB of data.
    let broken = dir.path().join("broken.ttyrec");
    std::fs::write(&broken, [0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255]).unwrap();
    let out = Command::new(guildhall)
        .args(["replay", "--export", "cast"])
        .arg(&broken)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("exporting the recording"), "{stderr}");
}
