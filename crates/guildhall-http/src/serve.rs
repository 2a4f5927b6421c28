//! Running a service until shutdown.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// A server running in the background.
#[derive(Debug)]
pub struct Server {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    grace: Duration,
    shutdown: CancellationToken,
}

/// Serves `app` on `listener` until `shutdown` is cancelled. In-flight requests then get
/// `grace` to finish; idle keep-alive connections are closed at once.
pub fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: CancellationToken,
    grace: Duration,
) -> std::io::Result<Server> {
    let addr = listener.local_addr()?;
    let token = shutdown.clone();
    // Small responses and WebSocket frames go out at once instead of waiting on Nagle's
    // algorithm (which, with delayed ACKs, adds up to 40 ms to a real-time game).
    let listener = listener.tap_io(|tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(%err, "setting TCP_NODELAY failed");
        }
    });
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(token.cancelled_owned())
        .await
    });
    Ok(Server {
        addr,
        task,
        grace,
        shutdown,
    })
}

impl Server {
    /// Waits for the server to stop after shutdown was requested. Returns `false` when the
    /// grace period ran out and the remaining connections were cut.
    pub async fn drained(self) -> bool {
        self.shutdown.cancelled().await;
        let abort = self.task.abort_handle();
        match tokio::time::timeout(self.grace, self.task).await {
            Ok(Ok(Ok(()))) => true,
            Ok(Ok(Err(err))) => {
                tracing::error!(%err, "HTTP server failed");
                true
            }
            Ok(Err(_)) => true,
            Err(_) => {
                tracing::warn!(grace = ?self.grace, "grace period over; cutting remaining connections");
                abort.abort();
                false
            }
        }
    }
}
