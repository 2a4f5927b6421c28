//! A closed-loop HTTP load generator: N workers, each sending its next request as soon as
//! the previous one is answered, for a fixed time. Latencies go into HDR histograms.

use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use hyper::header::{HeaderName, HeaderValue};

use crate::http1::Connection;

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
    /// Answers `429 Too Many Requests`: the server shedding load it cannot serve in time,
    /// as designed (a login waiting too long for an Argon2 slot). Neither errors nor
    /// timed; the caller decides whether a target may shed.
    pub shed: u64,
    pub elapsed: Duration,
    pub latency_us: Histogram<u64>,
    /// What went wrong first (status and start of the body, or the transport error), if
    /// anything did: enough to tell a rate limit from a crash.
    pub first_error: Option<String>,
}

impl Measurement {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    pub fn quantile_ms(&self, q: f64) -> f64 {
        self.latency_us.value_at_quantile(q) as f64 / 1000.0
    }
}

/// The request one worker sends again and again: its method, path, extra headers and
/// body. Workers may each have their own (their own account, their own bearer token).
#[derive(Debug, Clone)]
pub struct RequestTemplate {
    pub method: hyper::Method,
    /// Path and query, e.g. `/v1/profile`.
    pub path: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
}

impl RequestTemplate {
    /// A GET without a body.
    pub fn get(path: &str) -> Self {
        Self {
            method: hyper::Method::GET,
            path: path.to_owned(),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// A POST of a JSON body, with `Content-Type: application/json`.
    pub fn post_json(path: &str, body: &serde_json::Value) -> Self {
        Self {
            method: hyper::Method::POST,
            path: path.to_owned(),
            headers: vec![(
                hyper::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body: Bytes::from(serde_json::to_vec(body).expect("JSON values serialize")),
        }
    }

    /// Adds `Authorization: Bearer <token>`.
    pub fn bearer(mut self, token: &str) -> Self {
        let value = HeaderValue::from_str(&format!("Bearer {token}")).expect("a header-safe token");
        self.headers.push((hyper::header::AUTHORIZATION, value));
        self
    }
}

/// `http://HOST:PORT/path?q` → (`HOST:PORT`, `/path?q`).
pub fn split_url(url: &str) -> (String, String) {
    let uri: hyper::Uri = url.parse().expect("a valid URL");
    let authority = uri.authority().expect("URL with host:port").to_string();
    let path = uri
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_else(|| "/".into());
    (authority, path)
}

/// Drives GETs of `url` (`http://HOST:PORT/path`) with `concurrency` workers for
/// `duration`. See [`drive_with`].
pub async fn drive(url: &str, concurrency: usize, duration: Duration) -> Measurement {
    let (authority, path) = split_url(url);
    let template = RequestTemplate::get(&path);
    drive_with(&authority, concurrency, duration, |_| template.clone()).await
}

/// Drives the server at `authority` (`HOST:PORT`) with `concurrency` workers for
/// `duration`; worker `i` sends `template(i)` over and over. Each worker holds one
/// keep-alive HTTP/1.1 connection ([`crate::http1`]: no pool, no redirects, no second
/// task per connection, buffers reused), so the server's cost dominates what is
/// measured. A non-2xx answer or a transport error counts as an error
/// (not timed) and the worker reconnects.
pub async fn drive_with(
    authority: &str,
    concurrency: usize,
    duration: Duration,
    template: impl Fn(usize) -> RequestTemplate,
) -> Measurement {
    let sessions = (0..concurrency).map(|i| Fixed(template(i))).collect();
    drive_sessions(authority, duration, sessions).await.0
}

/// One worker's requests when each depends on the answers before it (a version to send
/// back, a cursor over the worker's own objects).
pub trait Session: Send + 'static {
    /// The request to send next (a reference, so a session can keep its requests and
    /// change only what changes, such as the body).
    fn next_request(&mut self) -> &RequestTemplate;
    /// Judges the answer to the request last returned by `next_request`. `Err` counts it
    /// as an error, with the description as `first_error`.
    fn on_response(&mut self, status: hyper::StatusCode, body: &[u8]) -> Result<(), String>;
}

/// The same request again and again; any 2xx is a success.
struct Fixed(RequestTemplate);

impl Session for Fixed {
    fn next_request(&mut self) -> &RequestTemplate {
        &self.0
    }

    fn on_response(&mut self, status: hyper::StatusCode, body: &[u8]) -> Result<(), String> {
        if status.is_success() {
            Ok(())
        } else {
            let text = String::from_utf8_lossy(&body[..body.len().min(300)]);
            Err(format!("{status}: {text}"))
        }
    }
}

/// Like [`drive_with`], with one worker per session, each asking its session for every
/// request and showing it every answer (status and body); the sessions are handed back
/// afterwards, so their state carries over to the next run. Every request a worker sends
/// gets its answer before the worker stops (nothing is cancelled mid-flight), so a
/// session's state matches the server's unless a transport error lost an answer. A
/// transport error or an answer the session refuses counts as an error (not timed) and
/// the worker reconnects. A `429` is counted as shed (not timed, not shown to the
/// session) and the worker goes on. Latency is taken before `on_response` runs.
pub async fn drive_sessions<S: Session>(
    authority: &str,
    duration: Duration,
    sessions: Vec<S>,
) -> (Measurement, Vec<S>) {
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<_> = sessions
        .into_iter()
        .map(|mut session| {
            let authority = authority.to_owned();
            tokio::spawn(async move {
                let mut histogram =
                    Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds");
                let (mut ok, mut errors, mut shed) = (0u64, 0u64, 0u64);
                let mut first_error: Option<String> = None;
                'connect: while Instant::now() < deadline {
                    let mut connection = match Connection::open(&authority).await {
                        Ok(connection) => connection,
                        Err(err) => {
                            errors += 1;
                            first_error.get_or_insert_with(|| format!("connect: {err}"));
                            continue;
                        }
                    };
                    while Instant::now() < deadline && connection.reusable() {
                        let request = session.next_request();
                        let sent = Instant::now();
                        let judged = match connection.exchange(request).await {
                            Ok(answer) if answer.status == hyper::StatusCode::TOO_MANY_REQUESTS => {
                                shed += 1;
                                continue;
                            }
                            Ok(answer) => {
                                let latency = sent.elapsed();
                                session
                                    .on_response(answer.status, answer.body)
                                    .map(|()| latency)
                            }
                            Err(err) => Err(format!("request: {err}")),
                        };
                        match judged {
                            Ok(latency) => {
                                ok += 1;
                                let _ = histogram.record(latency.as_micros().max(1) as u64);
                            }
                            Err(error) => {
                                errors += 1;
                                first_error.get_or_insert(error);
                                continue 'connect;
                            }
                        }
                    }
                }
                (ok, errors, shed, histogram, first_error, session)
            })
        })
        .collect();
    let mut total = Measurement {
        requests: 0,
        errors: 0,
        shed: 0,
        elapsed: Duration::ZERO,
        latency_us: Histogram::new_with_bounds(1, 60_000_000, 3).expect("bounds"),
        first_error: None,
    };
    let mut sessions = Vec::with_capacity(workers.len());
    for worker in workers {
        let (ok, errors, shed, histogram, first_error, session) = worker.await.expect("worker");
        total.requests += ok;
        total.errors += errors;
        total.shed += shed;
        total.latency_us.add(histogram).expect("same bounds");
        if total.first_error.is_none() {
            total.first_error = first_error;
        }
        sessions.push(session);
    }
    total.elapsed = started.elapsed();
    (total, sessions)
}

/// Sends one request on a fresh connection and returns the status and body (for setting
/// up a benchmark, not for measuring).
pub async fn send_once(
    authority: &str,
    template: &RequestTemplate,
) -> anyhow::Result<(hyper::StatusCode, Bytes)> {
    let mut connection = Connection::open(authority).await?;
    let answer = connection
        .exchange(template)
        .await
        .map_err(anyhow::Error::msg)?;
    Ok((answer.status, Bytes::copy_from_slice(answer.body)))
}

/// The round with the median throughput.
pub fn median(mut rounds: Vec<Measurement>) -> Measurement {
    rounds.sort_by(|a, b| a.per_second().total_cmp(&b.per_second()));
    rounds.swap_remove(rounds.len() / 2)
}

/// The median round's throughput and latency, with the errors and sheds of every round
/// (and the first round's first error), so a failure in any round shows.
pub fn median_counting_all(rounds: Vec<Measurement>) -> Measurement {
    let errors = rounds.iter().map(|m| m.errors).sum();
    let shed = rounds.iter().map(|m| m.shed).sum();
    let first_error = rounds.iter().find_map(|m| m.first_error.clone());
    Measurement {
        errors,
        shed,
        first_error,
        ..median(rounds)
    }
}

/// Prints one row of a results table.
pub fn row(name: &str, m: &Measurement) {
    println!(
        "{name:<22} {:>10.0} {:>9.2} {:>9.2} {:>8} {:>8}",
        m.per_second(),
        m.quantile_ms(0.5),
        m.quantile_ms(0.99),
        m.errors,
        m.shed
    );
}

pub fn header() {
    println!(
        "{:<22} {:>10} {:>9} {:>9} {:>8} {:>8}",
        "target", "req/s", "p50 ms", "p99 ms", "errors", "shed 429"
    );
}
