//! The SSH server: the accept loop with its limits and timeouts, and the russh
//! handler. The handler only authenticates and answers channel requests; everything a
//! session does happens in the one task that owns its channel (`session/`).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use guildhall_auth::api::{AuthApi, Login};
use guildhall_gamehost::SharedBackend;
use russh::server::{Auth, Handle, Msg, Session};
use russh::{Channel, ChannelId, MethodKind, MethodSet};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::identity::{Account, Identity};
use crate::limits::{Limits, Refusal};
use crate::session;

/// How a gateway behaves; see `[ssh]` in the configuration for each default.
#[derive(Clone, Debug)]
pub struct GatewaySettings {
    /// Connections held at once, in total.
    pub max_connections: usize,
    /// Connections held at once from one IP address.
    pub max_per_ip: usize,
    /// From accept until authentication succeeds.
    pub handshake_timeout: Duration,
    /// Without a keystroke, anywhere (menus, games, watching), the connection closes;
    /// a game then runs on for the host's grace period.
    pub idle_timeout: Duration,
    /// A failed password attempt is answered after this long (OpenSSH's first `none`
    /// probe is answered at once).
    pub auth_rejection: Duration,
    /// SSH user names that reach the anonymous menu without a password prompt (like
    /// dgamelaunch's `nethack@`); any other name is asked for a password, and an empty
    /// one reaches the anonymous menu too.
    pub anonymous_users: Vec<String>,
    /// Shown at the top of every menu.
    pub title: String,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        GatewaySettings {
            max_connections: 2000,
            max_per_ip: 50,
            handshake_timeout: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(3600),
            auth_rejection: Duration::from_millis(500),
            anonymous_users: vec![
                "nethack".into(),
                "guest".into(),
                "play".into(),
                "watch".into(),
            ],
            title: "Guildhall".into(),
        }
    }
}

/// What every connection shares.
pub(crate) struct Shared {
    pub settings: GatewaySettings,
    pub backend: SharedBackend,
    pub auth: Arc<dyn AuthApi>,
    pub ssh: Arc<russh::server::Config>,
    pub limits: Limits,
}

/// The SSH gateway. Holds nothing a game needs: kill it and another gateway in front
/// of the same game host serves the same games.
#[derive(Clone)]
pub struct Gateway {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("settings", &self.shared.settings)
            .finish_non_exhaustive()
    }
}

impl Gateway {
    pub fn new(
        settings: GatewaySettings,
        host_key: russh::keys::PrivateKey,
        backend: SharedBackend,
        auth: Arc<dyn AuthApi>,
    ) -> Self {
        let ssh = russh::server::Config {
            server_id: russh::SshId::Standard(
                format!("SSH-2.0-Guildhall_{}", env!("CARGO_PKG_VERSION")).into(),
            ),
            methods: MethodSet::from(&[MethodKind::Password][..]),
            auth_rejection_time: settings.auth_rejection,
            auth_rejection_time_initial: Some(Duration::ZERO),
            keys: vec![host_key],
            // Idle players are closed by the session task (it knows what a keystroke
            // is); keepalives find peers that vanished.
            inactivity_timeout: None,
            keepalive_interval: Some(Duration::from_secs(30)),
            keepalive_max: 3,
            nodelay: true,
            // Small per-connection buffers: a session moves keystrokes and screens.
            window_size: 256 * 1024,
            channel_buffer_size: 16,
            event_buffer_size: 8,
            max_auth_attempts: 6,
            ..Default::default()
        };
        let limits = Limits::new(settings.max_connections, settings.max_per_ip);
        Gateway {
            shared: Arc::new(Shared {
                settings,
                backend,
                auth,
                ssh: Arc::new(ssh),
                limits,
            }),
        }
    }

    /// Connections held now.
    pub fn connections(&self) -> usize {
        self.shared.limits.current()
    }

    /// Accepts connections until `shutdown`, then disconnects every session (their
    /// games run on, detached) and returns once they are gone.
    pub async fn serve(self, listener: TcpListener, shutdown: CancellationToken) {
        let connections = TaskTracker::new();
        loop {
            let accepted = tokio::select! {
                _ = shutdown.cancelled() => break,
                accepted = listener.accept() => accepted,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, a connection reset before accept: the
                    // listener stays up. A short pause keeps EMFILE from spinning.
                    metrics::counter!("terminal_accept_errors_total").increment(1);
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            };
            // russh sets TCP_NODELAY only in its own accept loop: without it, delayed
            // ACKs stall small handshake and keystroke packets by up to 40 ms.
            if let Err(error) = stream.set_nodelay(true) {
                tracing::debug!(%error, "TCP_NODELAY could not be set");
            }
            let permit = match self.shared.limits.admit(peer.ip()) {
                Ok(permit) => permit,
                Err(refusal) => {
                    refuse(stream, refusal);
                    continue;
                }
            };
            let shared = self.shared.clone();
            let shutdown = shutdown.clone();
            connections.spawn(async move {
                connection(shared, stream, peer, shutdown).await;
                drop(permit);
            });
        }
        connections.close();
        connections.wait().await;
    }
}

/// Says why in the SSH banner line (OpenSSH prints it) and closes.
fn refuse(stream: TcpStream, refusal: Refusal) {
    metrics::counter!("terminal_connections_refused_total", "reason" => refusal.label())
        .increment(1);
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let mut stream = stream;
        let line: &[u8] = match refusal {
            Refusal::Full => b"Guildhall: the server is full, try again later.\r\n",
            Refusal::TooManyFromAddress => {
                b"Guildhall: too many connections from your address.\r\n"
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(line)).await;
    });
}

async fn connection(
    shared: Arc<Shared>,
    stream: TcpStream,
    peer: SocketAddr,
    shutdown: CancellationToken,
) {
    let started = Instant::now();
    let (authenticated, on_auth) = oneshot::channel();
    let handler = Connection {
        shared: shared.clone(),
        ip: peer.ip(),
        identity: None,
        authenticated: Some(authenticated),
        session_open: false,
    };
    let timeout = shared.settings.handshake_timeout;
    // The protocol version exchange happens here, the key exchange and authentication
    // in the session task: the handshake timeout covers both.
    let deadline = tokio::time::Instant::now() + timeout;
    let running = match tokio::time::timeout_at(
        deadline,
        russh::server::run_stream(shared.ssh.clone(), stream, handler),
    )
    .await
    {
        Ok(Ok(running)) => running,
        Ok(Err(error)) => {
            tracing::debug!(%peer, %error, "SSH handshake failed");
            return;
        }
        Err(_) => {
            metrics::counter!("terminal_handshake_timeouts_total").increment(1);
            return;
        }
    };
    let handle = running.handle();
    tokio::pin!(running);
    tokio::select! {
        _ = &mut running => return,
        authenticated = tokio::time::timeout_at(deadline, on_auth) => {
            if authenticated.is_err() {
                metrics::counter!("terminal_handshake_timeouts_total").increment(1);
                disconnect(&handle, "authentication took too long").await;
                let _ = running.await;
                return;
            }
            metrics::histogram!("terminal_handshake_seconds").record(started.elapsed().as_secs_f64());
        }
    }
    tokio::select! {
        _ = &mut running => {}
        _ = shutdown.cancelled() => {
            disconnect(&handle, "the gateway is restarting; your game keeps running, connect again").await;
            let _ = running.await;
        }
    }
}

async fn disconnect(handle: &Handle, why: &str) {
    let _ = handle
        .disconnect(russh::Disconnect::ByApplication, why.into(), "en".into())
        .await;
}

/// The russh handler of one connection.
struct Connection {
    shared: Arc<Shared>,
    ip: IpAddr,
    identity: Option<Identity>,
    authenticated: Option<oneshot::Sender<()>>,
    session_open: bool,
}

impl Connection {
    fn is_anonymous_user(&self, user: &str) -> bool {
        self.shared
            .settings
            .anonymous_users
            .iter()
            .any(|name| name.eq_ignore_ascii_case(user))
    }

    fn offer_password() -> Auth {
        Auth::Reject {
            proceed_with_methods: Some(MethodSet::from(&[MethodKind::Password][..])),
            partial_success: false,
        }
    }
}

impl russh::server::Handler for Connection {
    type Error = anyhow::Error;

    async fn auth_none(&mut self, user: &str) -> Result<Auth, Self::Error> {
        if self.is_anonymous_user(user) {
            self.identity = Some(Identity::Anonymous);
            return Ok(Auth::Accept);
        }
        Ok(Self::offer_password())
    }

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        if password.is_empty() || self.is_anonymous_user(user) {
            self.identity = Some(Identity::Anonymous);
            return Ok(Auth::Accept);
        }
        let login = Login {
            username: user.to_owned(),
            password: password.to_owned(),
        };
        match self.shared.auth.login(login, self.ip).await {
            Ok(tokens) => {
                self.identity = Some(Identity::Account(Account::new(user, tokens)));
                metrics::counter!("terminal_logins_total", "via" => "ssh").increment(1);
                Ok(Auth::Accept)
            }
            Err(error) => {
                tracing::debug!(code = %error.code, "SSH password login refused");
                Ok(Self::offer_password())
            }
        }
    }

    async fn auth_succeeded(&mut self, _session: &mut Session) -> Result<(), Self::Error> {
        if let Some(authenticated) = self.authenticated.take() {
            let _ = authenticated.send(());
        }
        Ok(())
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: russh::server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        // One terminal per connection: a second session channel is refused.
        let Some(identity) = self.identity.clone().filter(|_| !self.session_open) else {
            reply
                .reject(russh::ChannelOpenFailure::AdministrativelyProhibited)
                .await;
            return Ok(());
        };
        self.session_open = true;
        reply.accept().await;
        let context = session::Context {
            shared: self.shared.clone(),
            ip: self.ip,
        };
        tokio::spawn(session::run(context, channel, identity));
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        _cols: u32,
        _rows: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        // The size reaches the session task on its channel.
        session.channel_success(channel)?;
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)?;
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        _data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        // Menus and games only: no commands.
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)?;
        Ok(())
    }
}
