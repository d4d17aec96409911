//! The HTTPS client of the hub's REST API that `relais case …` runs on: mutual TLS with the
//! analyst's certificate, trusting only the given CA. It holds no rule of its own: whatever
//! the hub refuses comes back as the hub's problem+json, in one line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::http::tls::{TlsError, client_config, read_private_key};
use crate::pki::PkiError;
use crate::pki::certificate::read_pem_certificates;

/// Long enough for a handoff package to be built (OpenPGP encryption of the case) on a busy
/// hub, short enough that a script does not hang on a dead one.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum ApiClientError {
    #[error("--hub {0:?}: give the hub's https:// URL")]
    BadUrl(String),
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("cannot build the HTTPS client: {0}")]
    Client(String),
    /// Nothing came back from the hub: connection refused, TLS handshake failed, timeout.
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The hub answered with a refusal; title and detail are its problem+json's.
    #[error("{status} {title}{}", detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Refused {
        status: u16,
        title: String,
        detail: Option<String>,
    },
    /// A success whose body is not what the endpoint documents.
    #[error("{url}: unexpected answer from the hub: {reason}")]
    Unexpected { url: String, reason: String },
}

/// Where the client connects and with which credentials; paths as given or defaulted.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub hub: String,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca: PathBuf,
}

#[derive(Debug, Clone)]
pub struct HubClient {
    base: String,
    http: reqwest::Client,
}

impl HubClient {
    pub fn new(endpoint: &Endpoint) -> Result<Self, ApiClientError> {
        let base = endpoint.hub.trim_end_matches('/');
        // Only the scheme is checked here: reqwest says what else is wrong with the URL, and
        // a plain http:// URL would meet the mTLS listener with no certificate at all.
        if !base
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
            || base.len() <= 8
        {
            return Err(ApiClientError::BadUrl(endpoint.hub.clone()));
        }
        let roots = read_pem_certificates(&endpoint.ca)?;
        let chain = read_pem_certificates(&endpoint.cert)?;
        let key = read_private_key(&endpoint.key)?;
        // The hub's own rustls configuration (ring, its protocol versions): the process
        // installs no default provider, which reqwest's own TLS setup would need.
        let tls = client_config(&roots, Some((chain, key)))?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| ApiClientError::Client(root_cause(&e)))?;
        Ok(Self {
            base: base.to_owned(),
            http,
        })
    }

    /// `base` + the path, each segment after `/api/v1/` given unencoded.
    pub fn url(&self, segments: &[&str]) -> String {
        let mut url = format!("{}/api/v1", self.base);
        for s in segments {
            url.push('/');
            url.push_str(&encode_segment(s));
        }
        url
    }

    pub async fn get_json<T: DeserializeOwned>(
        &self,
        segments: &[&str],
    ) -> Result<T, ApiClientError> {
        let url = self.url(segments);
        let response = self.send(Method::GET, &url, None::<&()>).await?;
        json_body(&url, response).await
    }

    pub async fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: Option<&B>,
    ) -> Result<T, ApiClientError> {
        let url = self.url(segments);
        let response = self.send(Method::POST, &url, body).await?;
        json_body(&url, response).await
    }

    /// A text resource (armored package, clear-signed journal), as the hub sent it.
    pub async fn get_text(&self, segments: &[&str]) -> Result<String, ApiClientError> {
        let url = self.url(segments);
        let response = self.send(Method::GET, &url, None::<&()>).await?;
        response
            .text()
            .await
            .map_err(|e| unreachable_error(&url, &e))
    }

    async fn send<B: Serialize>(
        &self,
        method: Method,
        url: &str,
        body: Option<&B>,
    ) -> Result<reqwest::Response, ApiClientError> {
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| unreachable_error(url, &e))?;
        if response.status().is_success() {
            return Ok(response);
        }
        Err(refusal(url, response).await)
    }
}

async fn json_body<T: DeserializeOwned>(
    url: &str,
    response: reqwest::Response,
) -> Result<T, ApiClientError> {
    let bytes = response
        .bytes()
        .await
        .map_err(|e| unreachable_error(url, &e))?;
    serde_json::from_slice(&bytes).map_err(|e| ApiClientError::Unexpected {
        url: url.to_owned(),
        reason: e.to_string(),
    })
}

/// RFC 9457 problem details, as far as the message needs them.
#[derive(Debug, serde::Deserialize)]
struct Problem {
    title: Option<String>,
    detail: Option<String>,
}

async fn refusal(url: &str, response: reqwest::Response) -> ApiClientError {
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let body = match response.bytes().await {
        Ok(b) => b,
        Err(e) => return unreachable_error(url, &e),
    };
    // Anything but problem+json (a proxy's HTML page, say) is summed up by its status alone.
    let problem = is_json
        .then(|| serde_json::from_slice::<Problem>(&body).ok())
        .flatten();
    refused(status, problem)
}

fn refused(status: StatusCode, problem: Option<Problem>) -> ApiClientError {
    let reason = status.canonical_reason().unwrap_or("Error");
    let (title, detail) = match problem {
        Some(p) => (p.title.unwrap_or_else(|| reason.to_owned()), p.detail),
        None => (reason.to_owned(), None),
    };
    ApiClientError::Refused {
        status: status.as_u16(),
        title: one_line(&title),
        detail: detail.map(|d| one_line(&d)).filter(|d| !d.is_empty()),
    }
}

fn unreachable_error(url: &str, e: &reqwest::Error) -> ApiClientError {
    ApiClientError::Unreachable {
        url: url.to_owned(),
        reason: if e.is_timeout() {
            "no answer in time".to_owned()
        } else {
            root_cause(e)
        },
    }
}

/// The innermost cause: reqwest's own message repeats the URL and says only "error sending
/// request", where the cause says "connection refused" or which certificate was refused.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = last.source() {
        last = next;
    }
    one_line(&last.to_string())
}

/// What the hub sent, fit for one line of a terminal: a control character could end the
/// line or drive the terminal.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// A path segment, percent-encoded but for RFC 3986's unreserved characters, so that an id
/// given on the command line cannot reach another path.
fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Reads a file the client is given, saying which on failure.
pub fn read_input(path: &Path) -> Result<Vec<u8>, std::io::Error> {
    if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)?;
        return Ok(buf);
    }
    std::fs::read(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_cannot_climb_the_path() {
        assert_eq!(encode_segment("case--1a2b"), "case--1a2b");
        assert_eq!(encode_segment("../handoffs"), "..%2Fhandoffs");
        assert_eq!(encode_segment("a b?c#d"), "a%20b%3Fc%23d");
        assert_eq!(encode_segment("é"), "%C3%A9");
    }

    #[test]
    fn a_refusal_is_one_line_with_its_status() {
        let e = refused(
            StatusCode::CONFLICT,
            Some(Problem {
                title: Some("Conflict".into()),
                detail: Some("no shortlist yet\nsecond line\u{1b}[2J".into()),
            }),
        );
        let text = e.to_string();
        assert!(!text.contains('\n') && !text.contains('\u{1b}'), "{text}");
        assert!(
            text.starts_with("409 Conflict: no shortlist yet second line"),
            "{text}"
        );
        // An HTML page or an empty body: the status alone.
        assert_eq!(
            refused(StatusCode::BAD_GATEWAY, None).to_string(),
            "502 Bad Gateway"
        );
    }

    #[test]
    fn only_https_urls() {
        let endpoint = |hub: &str| Endpoint {
            hub: hub.into(),
            cert: "/nonexistent".into(),
            key: "/nonexistent".into(),
            ca: "/nonexistent".into(),
        };
        for bad in ["http://localhost:8443", "localhost:8443", "https://", ""] {
            assert!(
                matches!(
                    HubClient::new(&endpoint(bad)),
                    Err(ApiClientError::BadUrl(_))
                ),
                "{bad}"
            );
        }
        // Past the scheme, the files are read (and missing here).
        assert!(matches!(
            HubClient::new(&endpoint("https://localhost:8443/")),
            Err(ApiClientError::Pki(_))
        ));
    }
}
