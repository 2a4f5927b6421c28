//! What a client should not send: a raw gRPC client sends it anyway, and the server
//! refuses with the right status instead of panicking or passing it to the host.
//! Lookups of things that do not exist come back to a `RemoteHost` as the host's
//! own errors.

mod common;

use common::*;
use futures_util::stream::{self, StreamExt};
use guildhall_gamehost::{Error, GameBackend, GameId, MAX_COLS, SessionId};
use guildhall_gamehost_rpc::proto::game_host_client::GameHostClient;
use guildhall_gamehost_rpc::proto::{self, play_request};
use tonic::Code;
use tonic::transport::Channel;

async fn raw_client(served: &Served) -> GameHostClient<Channel> {
    GameHostClient::connect(served.url.clone()).await.unwrap()
}

fn start(user: &str, game: &str, cols: u32, rows: u32) -> proto::PlayRequest {
    proto::PlayRequest {
        kind: Some(play_request::Kind::Start(proto::Start {
            user: user.into(),
            game: game.into(),
            cols,
            rows,
            editor: false,
        })),
    }
}

fn keys(text: &str) -> proto::PlayRequest {
    proto::PlayRequest {
        kind: Some(play_request::Kind::Input(proto::Input {
            bytes: text.as_bytes().to_vec().into(),
        })),
    }
}

/// The status a `Play` call that sends `requests` (and then holds its side open)
/// fails with.
async fn play_refused(
    client: &mut GameHostClient<Channel>,
    requests: Vec<proto::PlayRequest>,
) -> Code {
    let outgoing = stream::iter(requests).chain(stream::pending());
    client.play(outgoing).await.expect_err("refused").code()
}

#[tokio::test]
async fn malformed_names_and_calls_are_refused() {
    let served = served(vec![script_game()], |_| {}).await;
    let mut client = raw_client(&served).await;

    let refused = client
        .recordings(proto::RecordingsRequest {
            user: "../etc".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        refused.metadata().get("guildhall-error").unwrap(),
        "invalid-user-name"
    );

    assert_eq!(
        play_refused(&mut client, vec![start("al ice", "script", 80, 24)]).await,
        Code::InvalidArgument
    );
    assert_eq!(
        play_refused(&mut client, vec![start("alice", "Script!", 80, 24)]).await,
        Code::InvalidArgument
    );
    assert_eq!(
        play_refused(&mut client, vec![start("alice", "nope", 80, 24)]).await,
        Code::NotFound
    );
    assert_eq!(
        play_refused(&mut client, vec![keys("no start first")]).await,
        Code::InvalidArgument
    );
    assert_eq!(
        play_refused(&mut client, vec![proto::PlayRequest { kind: None }]).await,
        Code::InvalidArgument
    );
    // A stream that ends before saying anything.
    assert_eq!(
        client
            .play(stream::iter(Vec::new()))
            .await
            .unwrap_err()
            .code(),
        Code::InvalidArgument
    );

    let watch = |id: &str| proto::WatchRequest {
        session_id: id.into(),
    };
    assert_eq!(
        client.watch(watch("not-a-uuid")).await.unwrap_err().code(),
        Code::InvalidArgument
    );
    assert_eq!(
        client.watch(watch(&uuid_text())).await.unwrap_err().code(),
        Code::NotFound
    );

    for name in ["", "..", "../../etc/passwd", "a/b.ttyrec", &"x".repeat(300)] {
        let refused = client
            .read_recording(proto::ReadRecordingRequest {
                user: "alice".into(),
                game: "script".into(),
                name: name.into(),
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{name:?}");
    }

    // Absurd limits are capped, not obeyed.
    let recent = client
        .recent_deaths(proto::RecentDeathsRequest { limit: u32::MAX })
        .await
        .unwrap();
    assert!(recent.into_inner().deaths.is_empty());

    // The server is still there.
    assert_eq!(served.remote.games().await.unwrap().len(), 1);
}

fn uuid_text() -> String {
    "0197f2a4-0000-7000-8000-000000000000".into()
}

#[tokio::test]
async fn absurd_sizes_are_clamped() {
    let served = served(vec![script_game()], |_| {}).await;
    let mut client = raw_client(&served).await;
    let outgoing =
        stream::iter(vec![start("ivy", "script", 1_000_000, 0)]).chain(stream::pending());
    let mut replies = client.play(outgoing).await.unwrap().into_inner();
    let started = replies.message().await.unwrap().unwrap();
    assert!(matches!(
        started.kind,
        Some(proto::play_reply::Kind::Started(_))
    ));
    let live = served.remote.live_sessions().await.unwrap();
    assert_eq!((live[0].size.cols, live[0].size.rows), (MAX_COLS, 1));
}

#[tokio::test]
async fn a_second_start_ends_the_call_with_invalid_argument() {
    let served = served(vec![script_game()], |_| {}).await;
    let mut client = raw_client(&served).await;
    let outgoing = stream::iter(vec![
        start("jim", "script", 80, 24),
        start("jim", "script", 80, 24),
    ])
    .chain(stream::pending());
    let mut replies = client.play(outgoing).await.unwrap().into_inner();
    let status = loop {
        match replies.message().await {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("the call ended without a refusal"),
            Err(status) => break status,
        }
    };
    assert_eq!(status.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn missing_things_come_back_as_the_hosts_own_errors() {
    let served = served(vec![script_game()], |_| {}).await;
    let remote = &served.remote;
    let nope = GameId::parse("nope").unwrap();

    let error = remote
        .play(&user("kim"), &nope, size(24, 80))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::UnknownGame(game) if *game == nope),
        "{error}"
    );

    let session = SessionId::from(uuid::Uuid::parse_str(&uuid_text()).unwrap());
    let error = remote.watch(session).await.err().expect("no such session");
    assert!(
        matches!(error, Error::NoSuchSession(id) if id == session),
        "{error}"
    );

    let error = remote
        .read_recording(&user("kim"), &game_id(), "2025-01-01T00-00-00.000Z.ttyrec")
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::NoSuchRecording(name) if name == "2025-01-01T00-00-00.000Z.ttyrec"),
        "{error}"
    );
    assert!(remote.recordings(&user("kim")).await.unwrap().is_empty());

    // Each of those reached the host: none counts towards the circuit breaker.
    for _ in 0..10 {
        assert!(remote.watch(session).await.is_err());
    }
    assert_eq!(
        remote.games().await.unwrap(),
        GameBackend::games(&served.host).await.unwrap()
    );
}
