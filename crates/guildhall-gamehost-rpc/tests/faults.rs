//! A game host that is down, or up but refusing connections, then back: the client
//! reports it unreachable quickly, its circuit breaker stops trying after five
//! failed calls, lets one call through after the cooldown, and closes once the host
//! answers again.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use guildhall_gamehost::{Error, GameBackend, SessionId, SharedBackend};
use guildhall_gamehost_rpc::{RemoteHost, RemotePolicy, service};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

const COOLDOWN: Duration = Duration::from_millis(300);

fn policy() -> RemotePolicy {
    RemotePolicy {
        first_backoff: Duration::from_millis(10),
        breaker_cooldown: COOLDOWN,
        ..RemotePolicy::default()
    }
}

fn is_unreachable(result: &Result<impl Sized, Error>) -> bool {
    matches!(result, Err(Error::Unreachable(_)))
}

#[tokio::test]
async fn a_closed_port_is_unreachable_within_a_second_or_two_then_fails_fast() {
    let addr = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    };
    let remote = RemoteHost::new(&format!("http://{addr}")).unwrap();
    for call in 1..=5 {
        let result = tokio::time::timeout(Duration::from_secs(2), remote.games())
            .await
            .unwrap_or_else(|_| panic!("call {call} took over 2 s"));
        assert!(is_unreachable(&result), "call {call}: {result:?}");
    }
    // The breaker is open: the call never reaches the network.
    match remote.live_sessions().await {
        Err(Error::Unreachable(message)) => assert!(message.contains("not trying"), "{message}"),
        other => panic!("expected the breaker to be open, got {other:?}"),
    }
    // Streams pass the same breaker.
    let session = SessionId::from(uuid::Uuid::nil());
    assert!(matches!(
        remote.watch(session).await,
        Err(Error::Unreachable(_))
    ));
}

/// A port that counts the connections it accepts, closes the first `refusals` of
/// them at once, and hands the rest to a real server.
struct FlakyHost {
    url: String,
    connections: Arc<AtomicUsize>,
    /// Connections still to refuse; set to 0 and the host is back.
    refusals: Arc<AtomicUsize>,
    served: Served,
}

async fn flaky_host(refusals: usize) -> FlakyHost {
    let served = served(vec![script_game()], |_| {}).await;
    let backend: SharedBackend = Arc::new(served.host.clone());
    let (handed, mut accepted) = mpsc::channel::<std::io::Result<TcpStream>>(16);
    let incoming = futures_util::stream::poll_fn(move |cx| accepted.poll_recv(cx));
    tokio::spawn(
        tonic::transport::Server::builder().serve_with_incoming(service(backend), incoming),
    );

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let refusals = Arc::new(AtomicUsize::new(refusals));
    let (counted, refusing) = (connections.clone(), refusals.clone());
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let refused = refusing
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if !refused {
                let _ = handed.send(Ok(socket)).await;
            }
        }
    });
    FlakyHost {
        url,
        connections,
        refusals,
        served,
    }
}

#[tokio::test]
async fn the_breaker_opens_after_five_failed_calls_probes_after_the_cooldown_and_closes() {
    let flaky = flaky_host(usize::MAX).await;
    let remote = RemoteHost::with_policy(&flaky.url, policy()).unwrap();
    let tried = || flaky.connections.load(Ordering::SeqCst);

    for call in 1..=5 {
        let before = tried();
        let result = remote.games().await;
        assert!(is_unreachable(&result), "call {call}: {result:?}");
        assert!(tried() > before, "call {call} reached the port");
    }
    // Open: calls fail without a connection being tried.
    let opened_at = tried();
    for _ in 0..10 {
        assert!(is_unreachable(&remote.games().await));
        assert!(is_unreachable(&remote.deaths().await.map(|_| ())));
    }
    assert_eq!(
        tried(),
        opened_at,
        "no connection while the breaker is open"
    );

    // After the cooldown one call goes through, with no retries; it fails and the
    // breaker opens again.
    tokio::time::sleep(COOLDOWN).await;
    assert!(is_unreachable(&remote.games().await));
    assert_eq!(tried(), opened_at + 1, "exactly one probe");
    assert!(is_unreachable(&remote.games().await));
    assert_eq!(tried(), opened_at + 1, "open again after the failed probe");

    // The host comes back: the next probe succeeds and closes the breaker.
    flaky.refusals.store(0, Ordering::SeqCst);
    tokio::time::sleep(COOLDOWN).await;
    assert_eq!(remote.games().await.unwrap().len(), 1);
    assert!(remote.live_sessions().await.unwrap().is_empty());
    assert_eq!(
        remote.games().await.unwrap(),
        GameBackend::games(&flaky.served.host).await.unwrap()
    );
}

#[tokio::test]
async fn retries_ride_out_a_host_that_refuses_one_connection() {
    let flaky = flaky_host(1).await;
    let remote = RemoteHost::with_policy(&flaky.url, policy()).unwrap();
    assert_eq!(remote.games().await.unwrap().len(), 1);
    assert_eq!(
        flaky.connections.load(Ordering::SeqCst),
        2,
        "one refused, one served"
    );
}
