//! Test support shared by every crate's integration tests.
//!
//! - [`pg::TestDatabase`]: a fresh PostgreSQL database per test, dropped afterwards.
//! - [`redis_prefix`]/[`redis_url`]: a unique key prefix per test on the shared Redis.
//! - [`proxy::ChaosProxy`]: a TCP proxy that can cut a dependency mid-test, the way a
//!   database or Redis restart would, without touching the shared servers.
//! - [`require`]: with `CI` set, a missing PostgreSQL or Redis fails the test; locally it
//!   is skipped with a printed notice.

pub mod pg;
pub mod proxy;

use std::net::TcpStream;
use std::time::Duration;

/// The PostgreSQL server tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("GH_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// The Redis server tests use, or `None` (with a notice) when it is down outside CI.
pub fn redis_url() -> Option<String> {
    let url =
        std::env::var("GH_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    require("Redis", &url).then_some(url)
}

/// The Python interpreter of the project's test virtualenv (made by `.ci/run` from
/// `.ci/python-requirements.txt`), for tests that check us against independent Python
/// implementations. `GH_TEST_PYTHON` overrides it. `None` (with a notice) when missing
/// outside CI; under CI its absence fails the test.
pub fn python() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("GH_TEST_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from("/var/tmp/guildhall-venv/bin/python"));
    if path.exists() {
        return Some(path);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "the test virtualenv ({}) is required under CI; .ci/run creates it",
            path.display()
        );
    }
    eprintln!(
        "notice: skipping, {} is missing (run .ci/run once to create it)",
        path.display()
    );
    None
}

/// A key prefix no other test uses.
pub fn redis_prefix() -> String {
    format!("test:{}:", uuid::Uuid::new_v4().simple())
}

/// Whether the server behind `url` accepts connections. Under CI its absence is a failure.
pub fn require(what: &str, url: &str) -> bool {
    let addr = host_port(url);
    let up = addr
        .parse()
        .ok()
        .map(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok())
        .unwrap_or(false);
    if !up {
        if std::env::var_os("CI").is_some() {
            panic!("{what} at {addr} is required under CI but is not reachable");
        }
        eprintln!("notice: skipping, {what} at {addr} is not reachable (set CI to make this fail)");
    }
    up
}

/// `scheme://user:pass@host:port/db?x` → `host:port`, resolving `localhost`.
pub fn host_port(url: &str) -> String {
    raw_host_port(url).replace("localhost", "127.0.0.1")
}

fn raw_host_port(url: &str) -> &str {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    authority.rsplit('@').next().unwrap_or(authority)
}

/// Rewrites the host and port of a URL (to point a client at a [`proxy::ChaosProxy`]).
pub fn with_host_port(url: &str, new_host_port: &str) -> String {
    url.replacen(raw_host_port(url), new_host_port, 1)
}

/// Polls `check` until it returns `Some`, or panics after `timeout` naming `what`.
/// For conditions that become true asynchronously (a TTL lapsing, a reconnect).
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A TCP port free right now on 127.0.0.1, for a server that must keep its address across
/// restarts (port 0 would give it a new one each time).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding 127.0.0.1:0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_parsing() {
        assert_eq!(
            host_port("postgres://postgres@127.0.0.1:5432/test"),
            "127.0.0.1:5432"
        );
        assert_eq!(host_port("redis://:pw@localhost:6379/0"), "127.0.0.1:6379");
        assert_eq!(
            with_host_port("postgres://u:p@127.0.0.1:5432/db?x=1", "127.0.0.1:40000"),
            "postgres://u:p@127.0.0.1:40000/db?x=1"
        );
    }
}
