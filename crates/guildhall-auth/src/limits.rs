//! Abuse limits: rate limits per client IP and per username, and a growing delay after
//! repeated failures. Kept per auth instance (in memory); several instances each enforce
//! their own share.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::AuthError;

const FAILURE_MEMORY: Duration = Duration::from_secs(15 * 60);
const MAX_DELAY: Duration = Duration::from_secs(2);

#[derive(Debug)]
pub struct Limits {
    login_by_ip: DefaultKeyedRateLimiter<IpAddr>,
    login_by_username: DefaultKeyedRateLimiter<String>,
    register_by_ip: DefaultKeyedRateLimiter<IpAddr>,
    /// Recent consecutive failures per username, for the growing delay.
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

fn quota(per_minute: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(per_minute.max(1)).expect("at least one"))
}

fn check<K: Hash + Eq + Clone>(
    limiter: &DefaultKeyedRateLimiter<K>,
    key: &K,
) -> Result<(), AuthError> {
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        metrics::counter!("auth_rate_limited_total").increment(1);
        AuthError::RateLimited {
            retry_after_secs: wait.as_secs().max(1),
        }
    })
}

impl Limits {
    pub fn new(config: &guildhall_config::AuthConfig) -> Self {
        Self {
            login_by_ip: DefaultKeyedRateLimiter::keyed(quota(config.login_per_ip_per_minute)),
            login_by_username: DefaultKeyedRateLimiter::keyed(quota(
                config.login_per_username_per_minute,
            )),
            register_by_ip: DefaultKeyedRateLimiter::keyed(quota(
                config.register_per_ip_per_minute,
            )),
            failures: Mutex::default(),
        }
    }

    pub fn login(&self, ip: IpAddr, username: &str) -> Result<(), AuthError> {
        check(&self.login_by_ip, &ip)?;
        check(&self.login_by_username, &username.to_owned())
    }

    pub fn guest_login(&self, ip: IpAddr) -> Result<(), AuthError> {
        check(&self.login_by_ip, &ip)
    }

    pub fn register(&self, ip: IpAddr) -> Result<(), AuthError> {
        check(&self.register_by_ip, &ip)
    }

    /// Records a failed attempt for `key` and returns how long to hold the answer back:
    /// nothing for the first, then 100 ms doubling per failure up to 2 s.
    pub fn failed(&self, key: &str) -> Duration {
        let mut failures = self.failures.lock().unwrap();
        let now = Instant::now();
        let entry = failures.entry(key.to_owned()).or_insert((0, now));
        if now.duration_since(entry.1) > FAILURE_MEMORY {
            *entry = (0, now);
        }
        entry.0 += 1;
        entry.1 = now;
        let exponent = entry.0.saturating_sub(2).min(5);
        if entry.0 < 2 {
            Duration::ZERO
        } else {
            (Duration::from_millis(100) * 2u32.pow(exponent)).min(MAX_DELAY)
        }
    }

    pub fn succeeded(&self, key: &str) {
        self.failures.lock().unwrap().remove(key);
    }

    /// Drops state of keys not seen recently, so memory stays bounded.
    pub fn housekeeping(&self) {
        self.login_by_ip.retain_recent();
        self.login_by_username.retain_recent();
        self.register_by_ip.retain_recent();
        let now = Instant::now();
        self.failures
            .lock()
            .unwrap()
            .retain(|_, (_, last)| now.duration_since(*last) < FAILURE_MEMORY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_growing_delay() {
        let config = guildhall_config::AuthConfig {
            login_per_ip_per_minute: 3,
            ..Default::default()
        };
        let limits = Limits::new(&config);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..3 {
            limits
                .login(ip, &format!("u{}", rand::random::<u32>()))
                .unwrap();
        }
        assert!(
            matches!(limits.login(ip, "x"), Err(AuthError::RateLimited { retry_after_secs }) if retry_after_secs >= 1)
        );
        assert!(
            limits.login("10.0.0.2".parse().unwrap(), "y").is_ok(),
            "other IPs are unaffected"
        );

        assert_eq!(limits.failed("bob"), Duration::ZERO);
        assert_eq!(limits.failed("bob"), Duration::from_millis(100));
        assert_eq!(limits.failed("bob"), Duration::from_millis(200));
        for _ in 0..10 {
            limits.failed("bob");
        }
        assert_eq!(limits.failed("bob"), MAX_DELAY);
        limits.succeeded("bob");
        assert_eq!(limits.failed("bob"), Duration::ZERO);
    }
}
