//! The behaviour every [`Bus`] must have, run against each backend.
//!
//! `bus_contract_tests!(factory)` expands to one test per rule. `factory` is an async
//! closure taking a key prefix and returning `Option<SharedBus>` (`None` skips locally
//! when the backing server is not running; under `CI` the testkit fails instead).

use std::time::Duration;

use bytes::Bytes;

use crate::{Bus, Delivery, Subscription};

const WAIT: Duration = Duration::from_secs(5);

async fn next(sub: &mut Subscription) -> Delivery {
    tokio::time::timeout(WAIT, sub.recv())
        .await
        .expect("a delivery within 5s")
        .expect("bus still open")
}

/// Waits briefly and asserts nothing arrives (used after a marker proves ordering).
async fn nothing_pending(sub: &mut Subscription) {
    assert!(
        tokio::time::timeout(Duration::from_millis(50), sub.recv())
            .await
            .is_err(),
        "unexpected delivery on {}",
        sub.channel()
    );
}

pub async fn publish_reaches_every_subscriber_of_the_channel_only(bus: &dyn Bus) {
    let mut a = bus.subscribe("room.1").await.unwrap();
    let mut b = bus.subscribe("room.1").await.unwrap();
    let mut other = bus.subscribe("room.2").await.unwrap();
    bus.publish("room.1", b"hello").await.unwrap();
    assert_eq!(
        next(&mut a).await,
        Delivery::Message(Bytes::from_static(b"hello"))
    );
    assert_eq!(
        next(&mut b).await,
        Delivery::Message(Bytes::from_static(b"hello"))
    );
    // A marker on room.2 proves room.1's message was not delivered there first.
    bus.publish("room.2", b"marker").await.unwrap();
    assert_eq!(
        next(&mut other).await,
        Delivery::Message(Bytes::from_static(b"marker"))
    );
}

pub async fn messages_arrive_in_publish_order(bus: &dyn Bus) {
    let mut sub = bus.subscribe("ordered").await.unwrap();
    for i in 0..200u32 {
        bus.publish("ordered", &i.to_be_bytes()).await.unwrap();
    }
    for i in 0..200u32 {
        assert_eq!(
            next(&mut sub).await,
            Delivery::Message(Bytes::copy_from_slice(&i.to_be_bytes()))
        );
    }
}

pub async fn binary_and_large_payloads_survive(bus: &dyn Bus) {
    let mut sub = bus.subscribe("bin").await.unwrap();
    let payload: Vec<u8> = (0..1_048_576u32).map(|i| (i % 251) as u8).collect();
    bus.publish("bin", &payload).await.unwrap();
    bus.publish("bin", &[0, 159, 146, 150, 255]).await.unwrap();
    assert_eq!(
        next(&mut sub).await,
        Delivery::Message(Bytes::from(payload))
    );
    assert_eq!(
        next(&mut sub).await,
        Delivery::Message(Bytes::from_static(&[0, 159, 146, 150, 255]))
    );
}

pub async fn dropped_subscription_stops_delivery(bus: &dyn Bus) {
    let gone = bus.subscribe("drop").await.unwrap();
    let mut kept = bus.subscribe("drop").await.unwrap();
    drop(gone);
    bus.publish("drop", b"one").await.unwrap();
    assert_eq!(
        next(&mut kept).await,
        Delivery::Message(Bytes::from_static(b"one"))
    );
    drop(kept);
    // Nobody listening is fine; resubscribing works.
    bus.publish("drop", b"nobody").await.unwrap();
    let mut again = bus.subscribe("drop").await.unwrap();
    bus.publish("drop", b"two").await.unwrap();
    assert_eq!(
        next(&mut again).await,
        Delivery::Message(Bytes::from_static(b"two"))
    );
    nothing_pending(&mut again).await;
}

/// A subscriber never receives what was published before its `subscribe` returned, even
/// when the channel was just left and rejoined, or has other subscribers with messages
/// still on their way.
pub async fn subscribers_see_only_what_follows_their_subscribe(bus: &dyn Bus) {
    for round in 0..50u32 {
        // Rejoining a channel the last subscriber just left.
        let left = bus.subscribe("rejoin").await.unwrap();
        bus.publish("rejoin", b"before").await.unwrap();
        drop(left);
        let mut rejoined = bus.subscribe("rejoin").await.unwrap();
        bus.publish("rejoin", b"after").await.unwrap();
        assert_eq!(
            next(&mut rejoined).await,
            Delivery::Message(Bytes::from_static(b"after")),
            "round {round}: a message from before the subscribe was delivered"
        );
        drop(rejoined);

        // Joining a channel that has a subscriber with a burst still in flight.
        let mut first = bus.subscribe("busy").await.unwrap();
        for i in 0..20u32 {
            bus.publish("busy", &i.to_be_bytes()).await.unwrap();
        }
        let mut second = bus.subscribe("busy").await.unwrap();
        bus.publish("busy", b"after").await.unwrap();
        assert_eq!(
            next(&mut second).await,
            Delivery::Message(Bytes::from_static(b"after")),
            "round {round}: the joiner saw the earlier burst"
        );
        for i in 0..20u32 {
            assert_eq!(
                next(&mut first).await,
                Delivery::Message(Bytes::copy_from_slice(&i.to_be_bytes()))
            );
        }
        assert_eq!(
            next(&mut first).await,
            Delivery::Message(Bytes::from_static(b"after"))
        );
    }
}

pub async fn key_values_set_get_overwrite_delete(bus: &dyn Bus) {
    assert_eq!(bus.get("kv.a").await.unwrap(), None);
    bus.set("kv.a", b"1", None).await.unwrap();
    assert_eq!(
        bus.get("kv.a").await.unwrap(),
        Some(Bytes::from_static(b"1"))
    );
    bus.set("kv.a", &[0, 255, 7], None).await.unwrap();
    assert_eq!(
        bus.get("kv.a").await.unwrap(),
        Some(Bytes::from_static(&[0, 255, 7]))
    );
    assert!(bus.delete("kv.a").await.unwrap());
    assert!(!bus.delete("kv.a").await.unwrap());
    assert_eq!(bus.get("kv.a").await.unwrap(), None);
}

pub async fn set_and_publish_stores_before_anyone_hears(bus: &dyn Bus) {
    const N: u32 = 200;
    let mut sub = bus.subscribe("saved").await.unwrap();
    let write = async {
        for i in 0..N {
            let value = i.to_be_bytes();
            bus.set_and_publish(
                "state",
                &value,
                Some(Duration::from_secs(60)),
                "saved",
                &value,
            )
            .await
            .unwrap();
        }
    };
    // Each message, as it arrives, must find its value (or a later one) already stored.
    let read = async {
        for i in 0..N {
            assert_eq!(
                next(&mut sub).await,
                Delivery::Message(Bytes::copy_from_slice(&i.to_be_bytes()))
            );
            let stored = bus
                .get("state")
                .await
                .unwrap()
                .expect("stored before published");
            let stored = u32::from_be_bytes(stored[..].try_into().unwrap());
            assert!(stored >= i, "message {i} arrived while {stored} was stored");
        }
    };
    tokio::join!(write, read);
    assert_eq!(
        bus.get("state").await.unwrap(),
        Some(Bytes::copy_from_slice(&(N - 1).to_be_bytes()))
    );
}

pub async fn a_log_is_appended_read_with_its_record_and_cleared(bus: &dyn Bus) {
    let ttl = Duration::from_secs(60);
    assert_eq!(
        bus.get_with_log("rec", "rec.log").await.unwrap(),
        (None, Vec::new())
    );
    bus.set_clearing_log("rec", b"v1", Some(ttl), "rec.log", None)
        .await
        .unwrap();
    let mut sub = bus.subscribe("rec.events").await.unwrap();
    for entry in [&b"a"[..], &[0, 255], b"c"] {
        bus.append_and_publish("rec", "rec.log", entry, Some(ttl), "rec.events", entry)
            .await
            .unwrap();
        assert_eq!(
            next(&mut sub).await,
            Delivery::Message(Bytes::copy_from_slice(entry))
        );
    }
    let (value, entries) = bus.get_with_log("rec", "rec.log").await.unwrap();
    assert_eq!(
        value,
        Some(Bytes::from_static(b"v1")),
        "appending leaves the record"
    );
    assert_eq!(
        entries,
        vec![
            Bytes::from_static(b"a"),
            Bytes::from_static(&[0, 255]),
            Bytes::from_static(b"c")
        ],
        "entries oldest first"
    );
    // A new snapshot empties the log in the same step, and publishes when asked.
    bus.set_clearing_log(
        "rec",
        b"v2",
        Some(ttl),
        "rec.log",
        Some(("rec.events", b"snap")),
    )
    .await
    .unwrap();
    assert_eq!(
        next(&mut sub).await,
        Delivery::Message(Bytes::from_static(b"snap"))
    );
    assert_eq!(
        bus.get_with_log("rec", "rec.log").await.unwrap(),
        (Some(Bytes::from_static(b"v2")), Vec::new())
    );
    // The plain value reads are untouched by a log, and delete removes a log too.
    assert_eq!(
        bus.get("rec").await.unwrap(),
        Some(Bytes::from_static(b"v2"))
    );
    bus.append_and_publish("rec", "rec.log", b"d", None, "rec.events", b"d")
        .await
        .unwrap();
    assert!(bus.delete("rec.log").await.unwrap());
    assert_eq!(
        bus.get_with_log("rec", "rec.log").await.unwrap(),
        (Some(Bytes::from_static(b"v2")), Vec::new())
    );
}

pub async fn append_and_publish_logs_before_anyone_hears_and_renews_both(bus: &dyn Bus) {
    const N: u32 = 100;
    let ttl = Duration::from_millis(1000);
    // The record's own lifetime is shorter than the run: each append renews it.
    bus.set_clearing_log("live", b"record", Some(ttl), "live.log", None)
        .await
        .unwrap();
    let mut sub = bus.subscribe("live.events").await.unwrap();
    let write = async {
        for i in 0..N {
            let entry = i.to_be_bytes();
            bus.append_and_publish("live", "live.log", &entry, Some(ttl), "live.events", &entry)
                .await
                .unwrap();
            if i % 20 == 19 {
                // Past the first lifetime, kept alive by the appends alone.
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    };
    // Each message, as it arrives, must find its entry already in the log.
    let read = async {
        for i in 0..N {
            assert_eq!(
                next(&mut sub).await,
                Delivery::Message(Bytes::copy_from_slice(&i.to_be_bytes()))
            );
            let (record, entries) = bus.get_with_log("live", "live.log").await.unwrap();
            assert_eq!(record, Some(Bytes::from_static(b"record")), "entry {i}");
            assert!(
                entries.len() as u32 > i,
                "message {i} arrived before its entry"
            );
        }
    };
    tokio::join!(write, read);
    let (_, entries) = bus.get_with_log("live", "live.log").await.unwrap();
    let expected: Vec<Bytes> = (0..N)
        .map(|i| Bytes::copy_from_slice(&i.to_be_bytes()))
        .collect();
    assert_eq!(entries, expected);
    // Untouched, both lapse together.
    guildhall_testkit::eventually("the record and its log to lapse", WAIT, || async {
        (bus.get_with_log("live", "live.log").await.unwrap() == (None, Vec::new())).then_some(())
    })
    .await;
    // Appends without `renew` keep the lifetimes the last renewing one gave: the log
    // still lapses with its record.
    let short = Duration::from_millis(300);
    bus.set_clearing_log("short", b"r", Some(short), "short.log", None)
        .await
        .unwrap();
    bus.append_and_publish(
        "short",
        "short.log",
        b"1",
        Some(short),
        "short.events",
        b"1",
    )
    .await
    .unwrap();
    for entry in [b"2", b"3"] {
        bus.append_and_publish("short", "short.log", entry, None, "short.events", entry)
            .await
            .unwrap();
    }
    let (record, entries) = bus.get_with_log("short", "short.log").await.unwrap();
    assert_eq!(record, Some(Bytes::from_static(b"r")));
    assert_eq!(entries.len(), 3);
    guildhall_testkit::eventually("a log appended without renew to lapse", WAIT, || async {
        (bus.get_with_log("short", "short.log").await.unwrap() == (None, Vec::new())).then_some(())
    })
    .await;
}

pub async fn set_if_absent_stores_once(bus: &dyn Bus) {
    assert!(bus.set_if_absent("lock", b"first", None).await.unwrap());
    assert!(!bus.set_if_absent("lock", b"second", None).await.unwrap());
    assert_eq!(
        bus.get("lock").await.unwrap(),
        Some(Bytes::from_static(b"first"))
    );
}

pub async fn ttl_expires_values(bus: &dyn Bus) {
    bus.set("short", b"x", Some(Duration::from_millis(150)))
        .await
        .unwrap();
    bus.set("forever", b"y", None).await.unwrap();
    assert_eq!(
        bus.get("short").await.unwrap(),
        Some(Bytes::from_static(b"x"))
    );
    guildhall_testkit::eventually("the TTL to lapse", WAIT, || async {
        bus.get("short").await.unwrap().is_none().then_some(())
    })
    .await;
    assert_eq!(
        bus.get("forever").await.unwrap(),
        Some(Bytes::from_static(b"y"))
    );
    // An expired key is absent for set_if_absent too; a TTL can be replaced by none.
    assert!(
        bus.set_if_absent("short", b"z", Some(Duration::from_secs(60)))
            .await
            .unwrap()
    );
    bus.set("short", b"z", None).await.unwrap();
    assert_eq!(
        bus.get("short").await.unwrap(),
        Some(Bytes::from_static(b"z"))
    );
}

pub async fn many_keys_are_set_and_read_back_in_order(bus: &dyn Bus) {
    assert_eq!(
        bus.get_many(&[]).await.unwrap(),
        Vec::<Option<Bytes>>::new()
    );
    bus.set_many(&[], None).await.unwrap();
    // More keys than one request carries, so the chunks' seams are crossed.
    let n = crate::MANY_CHUNK * 2 + 7;
    let keys: Vec<String> = (0..n).map(|i| format!("many.{i}")).collect();
    let values: Vec<Vec<u8>> = (0..n).map(|i| format!("v{i}").into_bytes()).collect();
    let entries: Vec<(&str, &[u8])> = keys
        .iter()
        .zip(&values)
        .map(|(k, v)| (k.as_str(), v.as_slice()))
        .collect();
    bus.set_many(&entries, Some(Duration::from_secs(60)))
        .await
        .unwrap();
    // Read back reversed, with absent keys between: each answer in its key's place.
    let mut asked: Vec<&str> = Vec::new();
    let mut expected: Vec<Option<Bytes>> = Vec::new();
    for (i, key) in keys.iter().enumerate().rev() {
        asked.push(key);
        expected.push(Some(Bytes::from(values[i].clone())));
        if i % 100 == 0 {
            asked.push("many.absent");
            expected.push(None);
        }
    }
    assert_eq!(bus.get_many(&asked).await.unwrap(), expected);
    assert_eq!(
        bus.get(&keys[n - 1]).await.unwrap(),
        Some(Bytes::from(values[n - 1].clone())),
        "the plain read sees what set_many stored"
    );
    // Overwrites, with a lifetime that lapses.
    bus.set_many(
        &[("many.0", b"again"), ("many.1", b"again")],
        Some(Duration::from_millis(150)),
    )
    .await
    .unwrap();
    assert_eq!(
        bus.get_many(&["many.0", "many.1", "many.2"]).await.unwrap(),
        vec![
            Some(Bytes::from_static(b"again")),
            Some(Bytes::from_static(b"again")),
            Some(Bytes::from_static(b"v2")),
        ]
    );
    guildhall_testkit::eventually("the set_many TTL to lapse", WAIT, || async {
        let read = bus.get_many(&["many.0", "many.1"]).await.unwrap();
        (read == vec![None, None]).then_some(())
    })
    .await;
    assert_eq!(
        bus.get("many.2").await.unwrap(),
        Some(Bytes::from_static(b"v2"))
    );
}

pub async fn ping_answers(bus: &dyn Bus) {
    bus.ping().await.unwrap();
}

/// Expands to one `#[tokio::test]` per rule of the contract.
#[macro_export]
macro_rules! bus_contract_tests {
    ($factory:expr) => {
        $crate::bus_contract_tests!(@each $factory;
            publish_reaches_every_subscriber_of_the_channel_only,
            messages_arrive_in_publish_order,
            binary_and_large_payloads_survive,
            dropped_subscription_stops_delivery,
            subscribers_see_only_what_follows_their_subscribe,
            key_values_set_get_overwrite_delete,
            set_and_publish_stores_before_anyone_hears,
            a_log_is_appended_read_with_its_record_and_cleared,
            append_and_publish_logs_before_anyone_hears_and_renews_both,
            set_if_absent_stores_once,
            ttl_expires_values,
            many_keys_are_set_and_read_back_in_order,
            ping_answers,
        );
    };
    (@each $factory:expr; $($name:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let Some(bus) = ($factory)(guildhall_testkit::redis_prefix()).await else { return };
                $crate::contract::$name(&*bus).await;
            }
        )+
    };
}
