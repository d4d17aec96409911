//! What the load generator connects to and how: a TLS client with the given certificate
//! (session resumption disabled, HTTP/1.1 only), kept-alive connections, requests and their
//! time limits.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use relais::http::tls::{client_config, read_private_key};
use relais::pki::certificate::read_pem_certificates;
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// One connection or request that takes longer than this counts as an error.
pub const OP_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause after a failed connection, so that a stopped hub is not hammered in a tight loop.
pub const ERROR_BACKOFF: Duration = Duration::from_millis(20);
/// One TAXII request (an envelope of up to 10 MiB, a page of 1000 objects) that takes longer
/// than this counts as an error.
pub const TAXII_TIMEOUT: Duration = Duration::from_secs(120);
const WHOAMI: &str = "/api/v1/whoami";
const TAXII: &str = "application/taxii+json;version=2.1";

/// A kept-alive connection for TAXII requests.
pub type TaxiiSender = SendRequest<Full<Bytes>>;

/// What to connect to and how; cheap to clone into each task.
#[derive(Clone)]
pub struct Target {
    addr: SocketAddr,
    name: ServerName<'static>,
    connector: TlsConnector,
}

impl Target {
    /// A client of `addr` (whose IP is the TLS server name) with the certificate `cert` and
    /// its `key`, trusting the CA certificates of `ca`.
    pub fn new(addr: SocketAddr, cert: &Path, key: &Path, ca: &Path) -> Result<Self, String> {
        let roots = read_pem_certificates(ca).map_err(|e| e.to_string())?;
        let chain = read_pem_certificates(cert).map_err(|e| e.to_string())?;
        let key = read_private_key(key).map_err(|e| e.to_string())?;
        let mut config = client_config(&roots, Some((chain, key))).map_err(|e| e.to_string())?;
        config.resumption = rustls::client::Resumption::disabled();
        // The load generator speaks HTTP/1.1 only.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            addr,
            name: ServerName::IpAddress(addr.ip().into()),
            connector: TlsConnector::from(Arc::new(config)),
        })
    }

    pub async fn connect(&self) -> Result<TlsStream<TcpStream>, String> {
        let tcp = TcpStream::connect(self.addr)
            .await
            .map_err(|e| format!("connect {}: {e}", self.addr))?;
        tcp.set_nodelay(true)
            .map_err(|e| format!("set TCP_NODELAY: {e}"))?;
        self.connector
            .connect(self.name.clone(), tcp)
            .await
            .map_err(|e| format!("TLS handshake: {e}"))
    }

    pub fn whoami_request(&self, close: bool) -> Result<Request<Empty<Bytes>>, String> {
        let mut builder = Request::get(WHOAMI).header(hyper::header::HOST, self.addr.to_string());
        if close {
            builder = builder.header(hyper::header::CONNECTION, "close");
        }
        builder.body(Empty::new()).map_err(|e| e.to_string())
    }

    pub fn taxii_request(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<Request<Full<Bytes>>, String> {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, self.addr.to_string())
            .header(hyper::header::ACCEPT, TAXII);
        if body.is_some() {
            builder = builder.header(hyper::header::CONTENT_TYPE, TAXII);
        }
        builder
            .body(Full::new(body.map(Bytes::from).unwrap_or_default()))
            .map_err(|e| e.to_string())
    }

    /// One whoami over a new connection: the negotiated TLS parameters and the name of the
    /// principal the hub resolved from the certificate.
    pub async fn probe(&self) -> Result<(String, String), String> {
        let tls = self.connect().await?;
        let (_, session) = tls.get_ref();
        let parameters = format!(
            "{}, {}, {}, ALPN {}",
            session
                .protocol_version()
                .map_or_else(|| "?".into(), |v| format!("{v:?}")),
            session
                .negotiated_cipher_suite()
                .map_or_else(|| "?".into(), |s| format!("{:?}", s.suite())),
            session
                .negotiated_key_exchange_group()
                .map_or_else(|| "?".into(), |g| format!("{:?}", g.name())),
            session.alpn_protocol().map_or_else(
                || "none".into(),
                |p| String::from_utf8_lossy(p).into_owned()
            )
        );
        let body = request_and_close(self, tls).await?;
        let name = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("name").and_then(|n| n.as_str()).map(str::to_owned))
            .unwrap_or_else(|| "?".into());
        Ok((parameters, name))
    }
}

/// Reads the whole response; a status other than `expect` is an error that quotes the start
/// of the body.
async fn read_response(response: Response<Incoming>, expect: StatusCode) -> Result<Bytes, String> {
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("response body: {e}"))?
        .to_bytes();
    if status != expect {
        let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        return Err(format!("HTTP status {status}: {text}"));
    }
    Ok(body)
}

/// One whoami on an already established TLS stream, with `Connection: close`, driving the
/// connection until it is closed.
pub async fn request_and_close(
    target: &Target,
    tls: TlsStream<TcpStream>,
) -> Result<Bytes, String> {
    let (mut sender, conn) = http1::handshake::<_, Empty<Bytes>>(TokioIo::new(tls))
        .await
        .map_err(|e| format!("HTTP handshake: {e}"))?;
    let request = target.whoami_request(true)?;
    let exchange = async move {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("request: {e}"))?;
        read_response(response, StatusCode::OK).await
    };
    let (body, closed) = tokio::join!(exchange, conn);
    let body = body?;
    closed.map_err(|e| format!("connection: {e}"))?;
    Ok(body)
}

/// A whoami on a kept-alive connection.
pub async fn keepalive_whoami(
    target: &Target,
    sender: &mut SendRequest<Empty<Bytes>>,
) -> Result<(), String> {
    let request = target.whoami_request(false)?;
    exchange(sender, request, StatusCode::OK).await.map(drop)
}

/// One request on a kept-alive connection; the status must be `expect`.
pub async fn exchange<B>(
    sender: &mut SendRequest<B>,
    request: Request<B>,
    expect: StatusCode,
) -> Result<Bytes, String>
where
    B: hyper::body::Body + 'static,
{
    sender
        .ready()
        .await
        .map_err(|e| format!("connection: {e}"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("request: {e}"))?;
    read_response(response, expect).await
}

/// A kept-alive HTTP/1.1 connection; its driver runs in its own task until the sender is
/// dropped.
pub async fn open_keepalive<B>(target: &Target) -> Result<SendRequest<B>, String>
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let tls = target.connect().await?;
    let (sender, conn) = http1::handshake(TokioIo::new(tls))
        .await
        .map_err(|e| format!("HTTP handshake: {e}"))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// Opens `n` kept-alive connections before any clock starts.
pub async fn open_many<B>(target: &Target, n: usize) -> Result<Vec<SendRequest<B>>, String>
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut opening = JoinSet::new();
    for _ in 0..n {
        let target = target.clone();
        opening.spawn(async move { timed(open_keepalive::<B>(&target)).await });
    }
    let mut senders = Vec::with_capacity(n);
    while let Some(opened) = opening.join_next().await {
        let (sender, _) = opened
            .map_err(crate::task_failed)?
            .map_err(|e| format!("cannot open a connection: {e}"))?;
        senders.push(sender);
    }
    Ok(senders)
}

/// `op` within `OP_TIMEOUT`, and how long it took.
pub async fn timed<T>(
    op: impl Future<Output = Result<T, String>>,
) -> Result<(T, Duration), String> {
    timed_for(OP_TIMEOUT, op).await
}

/// `op` within `limit`, and how long it took.
pub async fn timed_for<T>(
    limit: Duration,
    op: impl Future<Output = Result<T, String>>,
) -> Result<(T, Duration), String> {
    let start = Instant::now();
    match tokio::time::timeout(limit, op).await {
        Ok(Ok(value)) => Ok((value, start.elapsed())),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(format!("timed out after {} s", limit.as_secs())),
    }
}

/// A query-string or path component, percent-encoded.
pub fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The TAXII objects endpoint of `collection`.
pub fn objects_path(collection: &str) -> String {
    format!("/taxii2/api/collections/{}/objects/", encode(collection))
}
