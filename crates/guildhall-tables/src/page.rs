//! The browser client for the card tables: a page and its script, compiled into the
//! binary and served at `/play/tables`.

use axum::Router;
use axum::http::header;
use axum::routing::get;

const PAGE: &str = include_str!("../../../clients/tables-web/index.html");
const SCRIPT: &str = include_str!("../../../clients/tables-web/tables.js");

/// `/play/tables` and its script.
pub fn page_routes() -> Router {
    Router::new()
        .route(
            "/play/tables",
            get(|| async { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE) }),
        )
        .route(
            "/play/tables/tables.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    SCRIPT,
                )
            }),
        )
}
