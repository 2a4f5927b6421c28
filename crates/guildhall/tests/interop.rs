//! Our tokens verified by an independent implementation (PyJWT) using only our JWKS.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use support::{Api, Db, token, up};

const VERIFY: &str = r#"
import json, sys
import jwt
from jwt import PyJWKSet
data = json.load(sys.stdin)
keys = PyJWKSet.from_dict(data["jwks"])
results = []
for token in data["tokens"]:
    try:
        kid = jwt.get_unverified_header(token)["kid"]
        claims = jwt.decode(token, keys[kid].key, algorithms=["EdDSA"], audience="guildhall", issuer="guildhall")
        results.append({"ok": True, "claims": claims})
    except Exception as e:
        results.append({"ok": False, "error": type(e).__name__})
print(json.dumps(results))
"#;

fn pyjwt(jwks: &Value, tokens: &[&str]) -> Option<Vec<Value>> {
    let python = guildhall_testkit::python()?;
    let mut child = Command::new(python)
        .args(["-c", VERIFY])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            json!({"jwks": jwks, "tokens": tokens})
                .to_string()
                .as_bytes(),
        )
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

#[tokio::test]
async fn pyjwt_verifies_our_tokens_with_only_the_jwks() {
    let Some(stack) = up(Db::Sqlite, |_| {}).await else {
        return;
    };
    let api = Api::new(&stack.base);
    let guest = api.guest(Some("Bill")).await;
    let account = api.account("potts", "pilot of the pudding").await;
    let (_, jwks) = api.get("/.well-known/jwks.json", None).await;

    // Tamper with one payload byte; the signature no longer matches.
    let t = token(&guest);
    let mut parts: Vec<String> = t.split('.').map(str::to_owned).collect();
    parts[1] = parts[1].replacen('e', "f", 1);
    let tampered = parts.join(".");

    let Some(results) = pyjwt(&jwks, &[t, token(&account), &tampered]) else {
        return;
    };
    assert_eq!(results[0]["ok"], true, "{results:?}");
    let claims = &results[0]["claims"];
    assert_eq!(claims["sub"], guest["guest_id"]);
    assert_eq!(claims["kind"], "guest");
    for key in ["sid", "jti", "iat", "exp", "iss", "aud"] {
        assert!(!claims[key].is_null(), "{key} in {claims}");
    }
    assert_eq!(results[1]["claims"]["kind"], "account");
    assert_eq!(
        results[2]["ok"], false,
        "a tampered token fails: {results:?}"
    );
}
