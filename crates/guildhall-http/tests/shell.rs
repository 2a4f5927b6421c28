//! The HTTP shell over real HTTP on loopback: every rejection in the envelope, limits,
//! timeouts, metrics per route and trace context carried to peers.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use guildhall_config::HttpConfig;
use guildhall_core::ApiJson;
use guildhall_http::{PeerClient, PeerProbe, Probe, Readiness};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

#[derive(Debug, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct Echo {
    name: String,
    count: u32,
}

fn routes() -> Router {
    Router::new()
        .route(
            "/echo",
            post(|ApiJson(body): ApiJson<Echo>| async move { ApiJson(body) }),
        )
        .route(
            "/items/{id}",
            get(|Path(id): Path<u32>| async move { id.to_string() }),
        )
        .route(
            "/slow",
            get(|| async { tokio::time::sleep(Duration::from_secs(30)).await }),
        )
        .route("/boom", get(|| async { panic_free_500() }))
}

fn panic_free_500() -> (axum::http::StatusCode, &'static str) {
    (
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "secret internal detail: db at 10.1.2.3",
    )
}

async fn start(readiness: Readiness, config: HttpConfig) -> (String, CancellationToken) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let token = CancellationToken::new();
    let app = guildhall_http::app(routes(), readiness, &config);
    let server =
        guildhall_http::serve(listener, app, token.clone(), Duration::from_secs(5)).unwrap();
    (format!("http://{}", server.addr), token)
}

fn config() -> HttpConfig {
    HttpConfig {
        body_limit_bytes: 1024,
        request_timeout_secs: 1,
        ..HttpConfig::default()
    }
}

/// Asserts an error response with `status` and `code` in the envelope; returns the body.
async fn expect_error(response: reqwest::Response, status: u16, code: &str) -> Value {
    let (actual, body) = envelope(response).await;
    assert_eq!(
        (actual, body["error"]["code"].as_str()),
        (status, Some(code)),
        "{body}"
    );
    body
}

async fn envelope(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: Value = response.json().await.expect("an error body is JSON");
    assert_eq!(content_type.as_deref(), Some("application/json"));
    assert!(
        body["error"]["code"].is_string() && body["error"]["message"].is_string(),
        "{body}"
    );
    (status, body)
}

#[tokio::test]
async fn every_rejection_uses_the_envelope() {
    let (base, _token) = start(Readiness::default(), config()).await;
    let http = reqwest::Client::new();
    let post_raw = |body: &'static str| {
        http.post(format!("{base}/echo"))
            .header("content-type", "application/json")
            .body(body)
    };

    let ok = post_raw(r#"{"name":"a","count":1}"#).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(
        ok.json::<Value>().await.unwrap(),
        json!({"name": "a", "count": 1})
    );

    let (status, body) =
        envelope(post_raw(r#"{"name": "a", "count": "#).send().await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_request"))
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 1"),
        "keeps the parser's message: {body}"
    );

    let (status, body) =
        envelope(post_raw(r#"{"name": 5, "count": 1}"#).send().await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_request"))
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid type"),
        "{body}"
    );

    let body = expect_error(
        post_raw(r#"{"name":"a","count":1,"admin":true}"#)
            .send()
            .await
            .unwrap(),
        400,
        "invalid_request",
    )
    .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field"),
        "{body}"
    );

    let (status, body) =
        envelope(post_raw(r#"{"name":"a","count":-1}"#).send().await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_request"))
    );

    let invalid_utf8 = http
        .post(format!("{base}/echo"))
        .header("content-type", "application/json")
        .body(vec![b'{', b'"', 0xff, 0xfe, b'"', b'}'])
        .send()
        .await
        .unwrap();
    expect_error(invalid_utf8, 400, "invalid_request").await;

    let huge = format!(r#"{{"name":"{}","count":1}}"#, "x".repeat(4096));
    expect_error(
        http.post(format!("{base}/echo"))
            .header("content-type", "application/json")
            .body(huge)
            .send()
            .await
            .unwrap(),
        413,
        "payload_too_large",
    )
    .await;

    expect_error(
        http.post(format!("{base}/echo"))
            .body("{}")
            .send()
            .await
            .unwrap(),
        415,
        "unsupported_media_type",
    )
    .await;

    expect_error(
        http.get(format!("{base}/nope")).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;

    let response = http.delete(format!("{base}/echo")).send().await.unwrap();
    let allow = response
        .headers()
        .get("allow")
        .map(|v| v.to_str().unwrap().to_owned());
    expect_error(response, 405, "method_not_allowed").await;
    assert_eq!(allow.as_deref(), Some("POST"));

    expect_error(
        http.get(format!("{base}/items/not-a-number"))
            .send()
            .await
            .unwrap(),
        400,
        "invalid_request",
    )
    .await;

    let body = expect_error(
        http.get(format!("{base}/boom")).send().await.unwrap(),
        500,
        "internal",
    )
    .await;
    assert!(
        !body.to_string().contains("10.1.2.3"),
        "5xx causes never leak: {body}"
    );
}

#[tokio::test]
async fn slow_requests_time_out_in_the_envelope() {
    let (base, _token) = start(Readiness::default(), config()).await;
    let started = std::time::Instant::now();
    expect_error(
        reqwest::get(format!("{base}/slow")).await.unwrap(),
        504,
        "timeout",
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn health_and_metrics_per_route() {
    let (base, _token) = start(Readiness::default(), config()).await;
    let live: Value = reqwest::get(format!("{base}/health/live"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(live, json!({"status": "live"}));
    let ready = reqwest::get(format!("{base}/health/ready")).await.unwrap();
    assert_eq!(ready.status(), 200);
    reqwest::get(format!("{base}/items/7")).await.unwrap();
    reqwest::get(format!("{base}/items/8")).await.unwrap();
    reqwest::get(format!("{base}/nowhere")).await.unwrap();
    // Methods outside the standard set share one label value: clients cannot mint series.
    let brew = reqwest::Method::from_bytes(b"BREW-7f3a").unwrap();
    reqwest::Client::new()
        .request(brew, format!("{base}/items/9"))
        .send()
        .await
        .unwrap();

    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = |needle: &str| {
        metrics
            .lines()
            .find(|l| l.starts_with("http_requests_total") && l.contains(needle))
            .map(str::to_owned)
    };
    let items = line(r#"method="GET",route="/items/{id}",status="2xx""#)
        .unwrap_or_else(|| panic!("no per-route counter in:\n{metrics}"));
    assert!(items.ends_with(" 2"), "{items}");
    let unmatched = line(r#"route="unmatched""#).expect("unmatched requests are counted");
    assert!(unmatched.contains(r#"status="4xx""#), "{unmatched}");
    assert!(!metrics.contains("BREW-7f3a"), "{metrics}");
    let other = line(r#"method="other""#).expect("unknown methods are counted as other");
    assert!(other.contains(r#"route="/items/{id}""#), "{other}");
    assert!(
        metrics.contains("http_request_duration_seconds_bucket"),
        "latency is a histogram"
    );
}

struct Flaky(Arc<Mutex<bool>>);

#[async_trait::async_trait]
impl Probe for Flaky {
    fn name(&self) -> String {
        "database".into()
    }
    async fn check(&self) -> Result<(), String> {
        if *self.0.lock().unwrap() {
            Ok(())
        } else {
            Err("connection refused".into())
        }
    }
}

#[tokio::test]
async fn readiness_names_the_failing_dependency() {
    let up = Arc::new(Mutex::new(true));
    let (base, _token) = start(Readiness::new(vec![Arc::new(Flaky(up.clone()))]), config()).await;
    let ready = reqwest::get(format!("{base}/health/ready")).await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(
        ready.json::<Value>().await.unwrap()["checks"]["database"],
        "ok"
    );

    *up.lock().unwrap() = false;
    let (status, body) =
        envelope(reqwest::get(format!("{base}/health/ready")).await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("not_ready"))
    );
    assert_eq!(body["error"]["details"]["failing"], json!(["database"]));
    assert!(
        !body.to_string().contains("refused"),
        "causes stay in the log: {body}"
    );
    // Liveness is unaffected: the process itself is fine.
    assert_eq!(
        reqwest::get(format!("{base}/health/live"))
            .await
            .unwrap()
            .status(),
        200
    );

    *up.lock().unwrap() = true;
    assert_eq!(
        reqwest::get(format!("{base}/health/ready"))
            .await
            .unwrap()
            .status(),
        200
    );
}

/// Without an OTLP exporter no span is recorded for traces, so the caller's context goes
/// on to the calls a request makes unchanged; a request without one sends none. (With an
/// exporter, the request's own span is the parent: `guildhall-telemetry`'s
/// `exporting_propagation` test.)
#[tokio::test]
async fn trace_context_flows_from_caller_to_peer() {
    let telemetry = guildhall_config::TelemetryConfig {
        log_filter: "warn".into(),
        ..Default::default()
    };
    let _telemetry = guildhall_telemetry::init(&telemetry, "test").unwrap();

    // The peer records the traceparent of every call (None when it came without).
    let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let peer = {
        let seen = seen.clone();
        Router::new().route(
            "/health/live",
            get(move |headers: HeaderMap| {
                let seen = seen.clone();
                async move {
                    let traceparent = headers
                        .get("traceparent")
                        .map(|tp| tp.to_str().unwrap().to_owned());
                    seen.lock().unwrap().push(traceparent);
                    "ok"
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let peer_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, peer).await });

    let probe = PeerProbe {
        name: "auth".into(),
        client: PeerClient::new(&peer_url, Duration::from_secs(2)),
    };
    let (base, _token) = start(Readiness::new(vec![Arc::new(probe)]), config()).await;

    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let response = reqwest::Client::new()
        .get(format!("{base}/health/ready"))
        .header("traceparent", traceparent)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = reqwest::get(format!("{base}/health/ready")).await.unwrap();
    assert_eq!(response.status(), 200);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![Some(traceparent.to_owned()), None],
        "the caller's context passed through as it came, and none invented"
    );
}
