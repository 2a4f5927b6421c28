//! Routing character calls to `players` instances (split shape).
//!
//! Every call of one user goes to the same instance, so that instance's cache holds all of
//! that user's characters. The instance is chosen by rendezvous (highest-random-weight)
//! hashing: each instance scores `H(instance, user)` and the highest healthy score wins.
//! When an instance leaves, only its users move (to their next-ranked instance); when it
//! comes back, they move back. No coordination between head instances is needed: they all
//! compute the same ranking.
//!
//! Instances are health-checked (`/health/ready`) every second; a forward that cannot
//! connect marks the instance down at once and tries the next in the user's ranking,
//! which is safe because the request never reached it. A forward that fails after being
//! sent is not retried elsewhere (it may have been applied); the client gets 503 and may
//! retry with its `Idempotency-Key`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The score of `instance` for `user`. SHA-256 rather than a std hasher: the ranking must
/// be identical on every head instance, across builds and Rust versions.
pub fn score(instance: &str, user: Uuid) -> u64 {
    let mut hasher = Sha256::new();
    hasher.update(instance.as_bytes());
    hasher.update([0]);
    hasher.update(user.as_bytes());
    let digest = hasher.finalize();
    u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// Indexes of `instances`, best first, for `user`.
pub fn ranking(instances: &[String], user: Uuid) -> Vec<usize> {
    let mut order: Vec<usize> = (0..instances.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse((score(&instances[i], user), i)));
    order
}

/// One `players` instance as head sees it.
#[derive(Debug)]
pub struct Instance {
    pub url: String,
    /// Cleared by a failed health check or connection; set by a passing health check.
    healthy: AtomicBool,
}

/// The configured `players` instances and their health.
#[derive(Debug, Clone)]
pub struct Shards {
    instances: Arc<Vec<Instance>>,
    urls: Arc<Vec<String>>,
}

impl Shards {
    pub fn new(urls: &[String]) -> Self {
        let urls: Vec<String> = urls
            .iter()
            .map(|u| u.trim_end_matches('/').to_owned())
            .collect();
        let instances = urls
            .iter()
            .map(|url| Instance {
                url: url.clone(),
                healthy: AtomicBool::new(true),
            })
            .collect();
        Self {
            instances: Arc::new(instances),
            urls: Arc::new(urls),
        }
    }

    /// Healthy instances for `user`, best first; if none looks healthy, all of them (a
    /// stale health view must not turn into a total outage).
    pub fn candidates(&self, user: Uuid) -> Vec<&Instance> {
        let order = ranking(&self.urls, user);
        let healthy: Vec<&Instance> = order
            .iter()
            .map(|&i| &self.instances[i])
            .filter(|i| i.healthy.load(Ordering::Relaxed))
            .collect();
        if healthy.is_empty() {
            order.iter().map(|&i| &self.instances[i]).collect()
        } else {
            healthy
        }
    }

    pub fn mark(&self, url: &str, healthy: bool) {
        if let Some(instance) = self.instances.iter().find(|i| i.url == url) {
            let was = instance.healthy.swap(healthy, Ordering::Relaxed);
            if was != healthy {
                tracing::warn!(instance = url, healthy, "players instance health changed");
            }
        }
    }

    pub fn healthy_count(&self) -> usize {
        self.instances
            .iter()
            .filter(|i| i.healthy.load(Ordering::Relaxed))
            .count()
    }

    /// Checks every instance's readiness every `every` until `shutdown`.
    pub async fn watch(
        self,
        http: reqwest::Client,
        every: Duration,
        shutdown: tokio_util::sync::CancellationToken,
    ) {
        let mut tick = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            let checks = self.instances.iter().map(|instance| {
                let http = http.clone();
                async move {
                    let ok = http
                        .get(format!("{}/health/ready", instance.url))
                        .timeout(every.max(Duration::from_millis(500)))
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success());
                    (instance.url.clone(), ok)
                }
            });
            for (url, ok) in futures_util::future::join_all(checks).await {
                self.mark(&url, ok);
            }
            metrics::gauge!("head_players_instances_healthy").set(self.healthy_count() as f64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("http://players-{i}:8080")).collect()
    }

    #[test]
    fn ranking_is_stable_and_spreads_users() {
        let instances = urls(3);
        let mut counts = [0usize; 3];
        for i in 0..3000u128 {
            let user = Uuid::from_u128(i * 7919 + 1);
            let first = ranking(&instances, user);
            assert_eq!(first, ranking(&instances, user), "deterministic");
            counts[first[0]] += 1;
        }
        for count in counts {
            assert!((800..1200).contains(&count), "roughly even: {counts:?}");
        }
        // A known value pins the algorithm: changing it would reshuffle every deployment.
        // (Computed independently: Python's hashlib.sha256 over the same bytes.)
        assert_eq!(
            score("http://players-0:8080", Uuid::nil()),
            1342492682870068731
        );
    }

    #[test]
    fn removing_an_instance_moves_only_its_users() {
        let all = urls(4);
        let without_last: Vec<String> = all[..3].to_vec();
        for i in 0..2000u128 {
            let user = Uuid::from_u128(i * 104_729 + 3);
            let before = &all[ranking(&all, user)[0]];
            let after = &without_last[ranking(&without_last, user)[0]];
            if before != &all[3] {
                assert_eq!(before, after, "users of surviving instances stay put");
            } else {
                // The departed instance's users go to their second choice.
                assert_eq!(after, &all[ranking(&all, user)[1]]);
            }
        }
    }

    #[test]
    fn unhealthy_instances_are_skipped_unless_all_are_down() {
        let shards = Shards::new(&urls(3));
        let user = Uuid::from_u128(42);
        let best = shards.candidates(user)[0].url.clone();
        shards.mark(&best, false);
        assert_ne!(shards.candidates(user)[0].url, best);
        assert_eq!(shards.candidates(user).len(), 2);
        for url in urls(3) {
            shards.mark(&url, false);
        }
        assert_eq!(
            shards.candidates(user).len(),
            3,
            "all down: try them all anyway"
        );
    }
}
