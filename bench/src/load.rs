//! A closed-loop HTTP load generator: N workers, each sending its next request as soon as
//! the previous one is answered, for a fixed time. Latencies go into HDR histograms.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use http_body_util::BodyExt;

/// Load shape shared by the HTTP benchmarks.
#[derive(Debug, Clone, clap::Args)]
pub struct LoadArgs {
    /// Concurrent connections, each with one request in flight.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Seconds of measurement per round and target.
    #[arg(long, default_value_t = 5.0)]
    pub duration: f64,
    /// Seconds of unmeasured warm-up per round and target.
    #[arg(long, default_value_t = 1.0)]
    pub warmup: f64,
    /// Rounds; targets alternate within each round and the median round is reported.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
}

/// One measured run against one target.
#[derive(Debug, Clone)]
pub struct Measurement {
    pub requests: u64,
    pub errors: u64,
    pub elapsed: Duration,
    pub latency_us: Histogram<u64>,
}

impl Measurement {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    pub fn quantile_ms(&self, q: f64) -> f64 {
        self.latency_us.value_at_quantile(q) as f64 / 1000.0
    }
}

/// Drives GETs of `url` (`http://HOST:PORT/path`) with `concurrency` workers for
/// `duration`. Each worker holds one keep-alive HTTP/1.1 connection made with hyper's
/// low-level client: no pool, no redirects, no per-request allocation beyond the request,
/// so the server's cost dominates what is measured.
pub async fn drive(url: &str, concurrency: usize, duration: Duration) -> Measurement {
    let uri: hyper::Uri = url.parse().expect("a valid URL");
    let authority = uri.authority().expect("URL with host:port").to_string();
    let path = uri
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_else(|| "/".into());
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (authority, path) = (authority.clone(), path.clone());
            tokio::spawn(async move {
                let mut histogram =
                    Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds");
                let (mut ok, mut errors) = (0u64, 0u64);
                'connect: while Instant::now() < deadline {
                    let Ok(stream) = tokio::net::TcpStream::connect(&authority).await else {
                        errors += 1;
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    let Ok((mut sender, connection)) =
                        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                            .await
                    else {
                        errors += 1;
                        continue;
                    };
                    tokio::spawn(connection);
                    while Instant::now() < deadline {
                        let request = hyper::Request::get(path.as_str())
                            .header(hyper::header::HOST, authority.as_str())
                            .body(http_body_util::Empty::<bytes::Bytes>::new())
                            .expect("request");
                        let sent = Instant::now();
                        let good = match sender.send_request(request).await {
                            Ok(response) => {
                                let status_ok = response.status().is_success();
                                status_ok && response.into_body().collect().await.is_ok()
                            }
                            Err(_) => false,
                        };
                        if good {
                            ok += 1;
                            let _ = histogram.record(sent.elapsed().as_micros().max(1) as u64);
                        } else {
                            errors += 1;
                            continue 'connect;
                        }
                    }
                }
                (ok, errors, histogram)
            })
        })
        .collect();
    let mut total = Measurement {
        requests: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latency_us: Histogram::new_with_bounds(1, 60_000_000, 3).expect("bounds"),
    };
    for worker in workers {
        let (ok, errors, histogram) = worker.await.expect("worker");
        total.requests += ok;
        total.errors += errors;
        total.latency_us.add(histogram).expect("same bounds");
    }
    total.elapsed = started.elapsed();
    total
}

/// The round with the median throughput.
pub fn median(mut rounds: Vec<Measurement>) -> Measurement {
    rounds.sort_by(|a, b| a.per_second().total_cmp(&b.per_second()));
    rounds.swap_remove(rounds.len() / 2)
}

/// Prints one row of a results table.
pub fn row(name: &str, m: &Measurement) {
    println!(
        "{name:<22} {:>10.0} {:>9.2} {:>9.2} {:>8}",
        m.per_second(),
        m.quantile_ms(0.5),
        m.quantile_ms(0.99),
        m.errors
    );
}

pub fn header() {
    println!(
        "{:<22} {:>10} {:>9} {:>9} {:>8}",
        "target", "req/s", "p50 ms", "p99 ms", "errors"
    );
}
