//! Against the real tools from Debian's `ttyrec` package: `ttyplay` plays what our
//! writer wrote, and our reader reads what `ttyrec` recorded.
//!
//! Each test skips with a notice when a tool is missing, unless `CI` is set: then a
//! missing tool fails the test, so CI cannot pass without checking interoperability.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use guildhall_ttyrec::{CastOptions, Frame, Reader, TermSize, Writer, export_asciicast};

/// The path of `tool` on `PATH`, or `None` (after a notice) when it is missing outside CI.
fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "`{name}` is not on PATH and CI is set (Debian's ttyrec package has ttyrec and ttyplay)"
        );
        eprintln!(
            "SKIPPED: `{name}` is not on PATH (apt-get install ttyrec); with CI set this fails"
        );
    }
    found
}

/// Runs `program args` with a 20-second limit (via coreutils' `timeout`), stdin empty.
fn run(program: &Path, args: &[&str], dir: &Path) -> Output {
    let output = Command::new("timeout")
        .arg("20")
        .arg(program)
        .args(args)
        .current_dir(dir)
        .env("SHELL", "/bin/sh")
        .output()
        .expect("run timeout(1)");
    assert!(
        output.status.success(),
        "{} {args:?} failed: {}\nstdout: {}\nstderr: {}",
        program.display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap()
}

#[test]
fn ttyplay_plays_a_file_our_writer_wrote() {
    let Some(ttyplay) = tool("ttyplay") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("game.ttyrec");
    let start = Duration::from_secs(1_700_000_000);
    let mut writer = Writer::new(std::fs::File::create(&path).unwrap());
    writer.write_size_at(start, TermSize::new(24, 80)).unwrap();
    writer
        .write_data_at(start + Duration::from_millis(300), b"\x1b[2JWelcome to ")
        .unwrap();
    // An hour-long idle gap: `-n` must ignore it.
    writer
        .write_data_at(
            start + Duration::from_secs(3_600),
            "Guildhall’s dungeon\r\n".as_bytes(),
        )
        .unwrap();
    writer
        .write_data_at(
            start + Duration::from_secs(3_601),
            &[0xff, b'e', b'n', b'd'],
        )
        .unwrap();
    writer.finish().unwrap();

    let output = run(&ttyplay, &["-n", path.to_str().unwrap()], dir.path());
    let mut expected = b"\x1b[8;24;80t\x1b[2JWelcome to ".to_vec();
    expected.extend_from_slice("Guildhall’s dungeon\r\n".as_bytes());
    expected.extend_from_slice(&[0xff, b'e', b'n', b'd']);
    assert!(
        output.stdout.windows(expected.len()).any(|w| w == expected),
        "ttyplay wrote {:?}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(
        output.stderr.is_empty(),
        "ttyplay complained: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Records `command` with the real `ttyrec`, which needs a terminal: `script` gives it
/// one. Returns the recording's bytes.
fn record_with_ttyrec(command: &str) -> Option<(Vec<u8>, tempfile::TempDir)> {
    let ttyrec = tool("ttyrec")?;
    let script = tool("script")?;
    let dir = tempfile::tempdir().unwrap();
    let inner = format!("{} -e '{command}' out.ttyrec", ttyrec.display());
    run(
        &script,
        &["-q", "-e", "-c", &inner, "/dev/null"],
        dir.path(),
    );
    let bytes = std::fs::read(dir.path().join("out.ttyrec")).unwrap();
    Some((bytes, dir))
}

#[test]
fn our_reader_reads_what_ttyrec_recorded() {
    let before = now();
    let command = r"printf '\''hello from ttyrec\n'\''; sleep 0.2; printf '\''caf\303\251 \033[1mbold\033[0m\n'\''";
    let Some((bytes, _dir)) = record_with_ttyrec(command) else {
        return;
    };
    let frames: Vec<Frame> = Reader::new(&bytes[..])
        .collect::<Result<_, _>>()
        .expect("ttyrec's file reads");
    assert!(
        frames.len() >= 2,
        "the sleep separates at least two frames: {frames:?}"
    );

    let data: Vec<u8> = frames.iter().flat_map(|f| f.data.iter().copied()).collect();
    let text = String::from_utf8(data).unwrap();
    // The terminal's line discipline turns \n into \r\n.
    assert!(text.contains("hello from ttyrec\r\n"), "{text:?}");
    assert!(text.contains("café \x1b[1mbold\x1b[0m\r\n"), "{text:?}");

    let after = now();
    let slack = Duration::from_secs(2);
    for frame in &frames {
        assert!(
            frame.time + slack >= before && frame.time <= after + slack,
            "{frame:?} outside the run"
        );
    }
    assert!(frames.windows(2).all(|w| w[0].time <= w[1].time));
    let span = frames.last().unwrap().time - frames[0].time;
    assert!(
        span >= Duration::from_millis(150),
        "the 0.2 s sleep shows in the timestamps: {span:?}"
    );
}

#[test]
fn a_ttyrec_recording_exports_to_asciicast() {
    let command = r"printf '\''\033[8;33;101tsized\n'\''";
    let Some((bytes, _dir)) = record_with_ttyrec(command) else {
        return;
    };
    let mut out = Vec::new();
    export_asciicast(Reader::new(&bytes[..]), &mut out, &CastOptions::default()).unwrap();
    let text = String::from_utf8(out).unwrap();
    let header: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(
        (header["width"].as_u64(), header["height"].as_u64()),
        (Some(101), Some(33)),
        "{text}"
    );
    assert!(text.contains("sized\\r\\n"), "{text}");
}

#[test]
fn our_reader_reads_the_sample_shipped_with_ttyrec() {
    let sample = Path::new("/usr/share/doc/ttyrec/examples/sample1.tty.gz");
    if !sample.exists() {
        // The sample is documentation; some images strip /usr/share/doc.
        eprintln!("SKIPPED: {} is not present", sample.display());
        return;
    }
    let Some(gzip) = tool("gzip") else { return };
    let output = run(&gzip, &["-dc", sample.to_str().unwrap()], Path::new("/"));
    let mut reader = Reader::new(&output.stdout[..]);
    let frames = reader
        .by_ref()
        .collect::<Result<Vec<_>, _>>()
        .expect("the sample reads");
    assert!(frames.len() > 10, "{} frames", frames.len());
    assert_eq!(
        reader.offset(),
        output.stdout.len() as u64,
        "every byte is in a frame"
    );
    assert!(frames.windows(2).all(|w| w[0].time <= w[1].time));
}
