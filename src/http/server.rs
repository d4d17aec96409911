//! The accept loop: TCP accept under a connection limit, TLS handshake under a timeout, then
//! HTTP/1.1 or HTTP/2 with bounded headers, each connection told of the client certificate it
//! presented. Shutdown stops accepting, lets in-flight requests finish, and closes the rest
//! after a grace period. A refused client certificate is reported to the audit log's
//! refusal writer from the connection's own task, without waiting (`services::tls_refusals`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rustls::ServerConfig;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;
use tracing::Instrument;

use crate::config::Limits;
use crate::domain::principal::SpkiFingerprint;
use crate::pki::certificate::fingerprint_of_der;
use crate::services::tls_refusals::RefusalReporter;

/// What the TLS layer established about a connection, attached to each of its requests.
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    pub remote: SocketAddr,
    /// Fingerprint of the verified client certificate; `None` on the public listener.
    pub client: Option<SpkiFingerprint>,
}

/// Where a listener gets its TLS configuration for the next connection.
pub trait TlsSource: Send + Sync + 'static {
    fn config(&self) -> Arc<ServerConfig>;
}

impl TlsSource for Arc<ServerConfig> {
    fn config(&self) -> Arc<ServerConfig> {
        Arc::clone(self)
    }
}

impl TlsSource for Arc<super::tls::ReloadingConfig> {
    fn config(&self) -> Arc<ServerConfig> {
        self.current()
    }
}

/// One listening socket and what it serves.
pub struct Listener<T> {
    pub name: &'static str,
    pub socket: TcpListener,
    pub tls: T,
    pub router: Router,
    /// Where refused handshakes are reported; `None` where no certificate is asked for.
    pub refusals: Option<RefusalReporter>,
}

/// Serves `listener` until `shutdown` is cancelled. Connection tasks are spawned on
/// `connections`, which the caller waits on with its grace period.
pub async fn serve(
    listener: Listener<impl TlsSource>,
    limits: Limits,
    shutdown: CancellationToken,
    connections: TaskTracker,
) {
    let Listener {
        name,
        socket: listener,
        tls,
        router,
        refusals,
    } = listener;
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        let permit = tokio::select! {
            () = shutdown.cancelled() => break,
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, remote) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends: back off rather than spin.
                    tracing::warn!(listener = name, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let config = tls.config();
        let router = router.clone();
        let limits = limits.clone();
        let shutdown = shutdown.clone();
        let refusals = refusals.clone();
        connections.spawn(
            async move {
                handle_connection(stream, remote, config, router, &limits, shutdown, refusals)
                    .await;
                drop(permit);
            }
            .instrument(tracing::debug_span!("connection", listener = name, %remote)),
        );
    }
    tracing::debug!(listener = name, "stopped accepting");
}

async fn handle_connection(
    stream: TcpStream,
    remote: SocketAddr,
    config: Arc<ServerConfig>,
    router: Router,
    limits: &Limits,
    shutdown: CancellationToken,
    refusals: Option<RefusalReporter>,
) {
    let _ = stream.set_nodelay(true);
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let handshake = tokio::time::timeout(
        Duration::from_secs(limits.handshake_timeout_secs),
        super::refused::watch(acceptor.accept(stream)),
    );
    let tls = match handshake.await {
        Ok((Ok(tls), _)) => tls,
        Ok((Err(e), presented)) => {
            // Refused certificates end here: say why, once, without the certificate itself.
            tracing::info!(%remote, reason = %e, "TLS handshake refused");
            if let Some(reporter) = &refusals
                && let Some(refusal) =
                    super::refused::refusal(&e, presented.as_deref(), remote.ip())
            {
                reporter.report(refusal);
            }
            return;
        }
        Err(_) => {
            tracing::info!(%remote, "TLS handshake timed out");
            return;
        }
    };
    let client = match tls.get_ref().1.peer_certificates().and_then(|c| c.first()) {
        Some(cert) => match fingerprint_of_der(cert) {
            Ok(fp) => Some(fp),
            Err(e) => {
                tracing::info!(%remote, reason = %e, "client certificate unreadable");
                return;
            }
        },
        None => None,
    };
    let info = ConnectionInfo { remote, client };
    let service = router.map_request(move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(info.clone());
        req
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(limits.handshake_timeout_secs))
        .max_buf_size(limits.header_bytes);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(limits.header_bytes).unwrap_or(u32::MAX))
        .max_concurrent_streams(128);
    let conn = builder.serve_connection(TokioIo::new(tls), TowerToHyperService::new(service));
    tokio::pin!(conn);
    tokio::select! {
        res = conn.as_mut() => {
            if let Err(e) = res {
                tracing::debug!(%remote, error = %e, "connection ended with an error");
            }
        }
        () = shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            if let Err(e) = conn.await {
                tracing::debug!(%remote, error = %e, "connection ended with an error during shutdown");
            }
        }
    }
}
