//! The bus contract on a real Redis, plus what only a networked bus can suffer:
//! prefixes shared on one server, and the connection dropping and coming back.

use std::time::Duration;

use bytes::Bytes;
use guildhall_bus::{Bus, Delivery, RedisBus, SharedBus, Subscription, bus_contract_tests};
use guildhall_testkit::proxy::ChaosProxy;
use guildhall_testkit::{eventually, host_port, redis_prefix, redis_url, with_host_port};

async fn redis_bus(prefix: String) -> Option<SharedBus> {
    let url = redis_url()?;
    Some(guildhall_bus::connect(&url, &prefix).await.unwrap())
}

bus_contract_tests!(redis_bus);

#[tokio::test]
async fn prefixes_isolate_deployments_on_one_server() {
    let Some(a) = redis_bus(redis_prefix()).await else {
        return;
    };
    let b = redis_bus(redis_prefix()).await.unwrap();
    a.set("k", b"a", None).await.unwrap();
    assert_eq!(b.get("k").await.unwrap(), None);
    let mut sub_b = b.subscribe("c").await.unwrap();
    let mut sub_a = a.subscribe("c").await.unwrap();
    a.publish("c", b"for a").await.unwrap();
    b.publish("c", b"for b").await.unwrap();
    assert_eq!(
        sub_a.recv().await,
        Some(Delivery::Message(Bytes::from_static(b"for a")))
    );
    assert_eq!(
        sub_b.recv().await,
        Some(Delivery::Message(Bytes::from_static(b"for b")))
    );
}

#[tokio::test]
async fn reconnects_and_resubscribes_by_itself() {
    let Some(url) = redis_url() else { return };
    let proxy = ChaosProxy::start(&host_port(&url)).await;
    let via_proxy = with_host_port(&url, &proxy.addr().to_string());
    let prefix = redis_prefix();
    let bus = RedisBus::open(&via_proxy, &prefix).unwrap();
    // Publish through a direct connection, so only the subscriber side is cut.
    let direct = RedisBus::open(&url, &prefix).unwrap();

    let mut sub = bus.subscribe("events").await.unwrap();
    direct.publish("events", b"before").await.unwrap();
    assert_eq!(
        sub.recv().await,
        Some(Delivery::Message(Bytes::from_static(b"before")))
    );

    proxy.set_down(true);
    // The drop is reported as a gap, and commands fail fast instead of hanging.
    let first = tokio::time::timeout(Duration::from_secs(5), sub.recv())
        .await
        .unwrap();
    assert_eq!(first, Some(Delivery::Gap));
    let err = tokio::time::timeout(Duration::from_secs(10), bus.ping())
        .await
        .expect("ping gives up");
    assert!(err.is_err(), "ping must fail while Redis is unreachable");

    proxy.set_down(false);
    // Keep publishing until the resubscribed connection delivers: proof it came back alone.
    let got = publish_until_received(&direct, "events", &mut sub).await;
    assert_eq!(got, Bytes::from_static(b"after"));
    eventually(
        "commands to work again",
        Duration::from_secs(15),
        || async { bus.ping().await.ok() },
    )
    .await;
}

#[tokio::test]
async fn a_process_can_start_while_redis_is_down() {
    let Some(url) = redis_url() else { return };
    let proxy = ChaosProxy::start(&host_port(&url)).await;
    proxy.set_down(true);
    let prefix = redis_prefix();
    let bus = RedisBus::open(&with_host_port(&url, &proxy.addr().to_string()), &prefix).unwrap();
    assert!(bus.ping().await.is_err());
    // Subscribing while down does not hang; the subscription becomes live on reconnect.
    let mut sub = tokio::time::timeout(Duration::from_secs(5), bus.subscribe("late"))
        .await
        .unwrap()
        .unwrap();
    proxy.set_down(false);
    let direct = RedisBus::open(&url, &prefix).unwrap();
    assert_eq!(
        publish_until_received(&direct, "late", &mut sub).await,
        Bytes::from_static(b"after")
    );
}

/// Publishes `after` on `channel` until `sub` delivers a message (skipping gaps), proving
/// the subscription is live again; fails after 15 s.
async fn publish_until_received(
    publisher: &RedisBus,
    channel: &str,
    sub: &mut Subscription,
) -> Bytes {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while tokio::time::Instant::now() < deadline {
        publisher.publish(channel, b"after").await.unwrap();
        if let Ok(Some(Delivery::Message(m))) =
            tokio::time::timeout(Duration::from_millis(100), sub.recv()).await
        {
            return m;
        }
    }
    panic!("subscription on {channel} did not come back within 15s");
}
