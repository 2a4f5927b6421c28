//! Death events: the process running the game host publishes each death on the bus,
//! and any process with the bus streams them to clients as server-sent events at
//! `GET /v1/terminal/events`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures_util::Stream;
use guildhall_bus::{Bus, Delivery};
use guildhall_core::{ApiError, ErrorCode};
use guildhall_gamehost::{DEATH_EVENT, GameBackend};
use tokio_util::sync::CancellationToken;

/// The bus channel deaths are published on (JSON of [`guildhall_gamehost::Death`]).
pub const DEATHS_CHANNEL: &str = "terminal.deaths";

/// Publishes every death `backend` reports on the bus until `shutdown`.
pub async fn publish_deaths(
    backend: Arc<dyn GameBackend>,
    bus: Arc<dyn Bus>,
    shutdown: CancellationToken,
) {
    let mut deaths = match backend.deaths().await {
        Ok(deaths) => deaths,
        Err(error) => {
            tracing::warn!(%error, "cannot follow deaths: none will be published");
            return;
        }
    };
    loop {
        let death = tokio::select! {
            _ = shutdown.cancelled() => return,
            death = deaths.recv() => death,
        };
        let Some(death) = death else { return };
        let Ok(payload) = serde_json::to_vec(&death) else {
            continue;
        };
        metrics::counter!("terminal_deaths_total", "game" => death.game.as_str().to_owned())
            .increment(1);
        if let Err(error) = bus.publish(DEATHS_CHANNEL, &payload).await {
            tracing::warn!(%error, "a death could not be published");
        }
    }
}

/// `GET /v1/terminal/events`: deaths as they happen, as server-sent events named
/// `game.death` whose data is the death's JSON. No authentication: deaths are public,
/// as on every public NetHack server.
pub fn events_routes(bus: Arc<dyn Bus>) -> Router {
    Router::new()
        .route("/v1/terminal/events", get(events))
        .with_state(bus)
}

async fn events(
    State(bus): State<Arc<dyn Bus>>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let subscription = bus.subscribe(DEATHS_CHANNEL).await.map_err(|e| {
        ApiError::new(
            ErrorCode::Unavailable,
            format!("the event bus is unavailable: {e}"),
        )
    })?;
    let stream = futures_util::stream::unfold(subscription, |mut subscription| async move {
        loop {
            match subscription.recv().await? {
                Delivery::Message(payload) => {
                    let Ok(data) = std::str::from_utf8(&payload) else {
                        continue;
                    };
                    let event = Event::default().event(DEATH_EVENT).data(data);
                    return Some((Ok(event), subscription));
                }
                // Deaths may have been missed: say so, clients can re-read the list.
                Delivery::Gap => {
                    return Some((Ok(Event::default().event("gap").data("{}")), subscription));
                }
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
