//! Character helpers shared by the characters test binaries: a character to create, and
//! requests with an `Idempotency-Key`.

use reqwest::Method;
use serde_json::{Value, json};

use super::Api;

pub fn tordek() -> Value {
    json!({
        "name": "  Tordek  ", "race": "dwarf", "class": "fighter", "generation": "standard_array",
        "abilities": {"str": 15, "dex": 12, "con": 14, "int": 8, "wis": 13, "cha": 10}
    })
}

pub async fn create(api: &Api, t: &str) -> Value {
    let (status, body) = api.post("/v1/characters", Some(t), tordek()).await;
    assert_eq!(status, 201, "{body}");
    body
}

pub fn path(character: &Value, rest: &str) -> String {
    format!("/v1/characters/{}{rest}", character["id"].as_str().unwrap())
}

/// Sends `body` with an `Idempotency-Key`; answers the status and the body's text as it came.
pub async fn keyed(
    api: &Api,
    method: Method,
    path: &str,
    token: &str,
    key: &str,
    body: &Value,
) -> (u16, String) {
    let response = api
        .http
        .request(method, format!("{}{path}", api.base))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}
