//! The only way this hub makes a request to a peer: a TAXII client over mutual TLS whose
//! every connection goes to an address the peer's entry allows. Names are resolved here and
//! each answer is checked (a DNS answer, like a redirect, is the peer's to choose); URLs that
//! name an address are checked before the request and on every redirect hop.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{ACCEPT, HeaderMap};
use reqwest::redirect;
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;

use crate::domain::federation::Ingress;
use crate::domain::federation::address::{check_scheme, refused};
use crate::pki::certificate::read_pem_certificates;

/// The TAXII 2.1 media type asked for.
pub const TAXII_MEDIA_TYPE: &str = "application/taxii+json;version=2.1";
/// Redirect hops followed at most, when the entry allows redirects at all.
const MAX_REDIRECTS: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{path}: {problem}")]
    File { path: String, problem: String },
    #[error("TLS configuration: {0}")]
    Tls(String),
    #[error("the URL {url} is refused: {problem}")]
    Url { url: String, problem: String },
    #[error("request to {url} failed: {problem}")]
    Request { url: String, problem: String },
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: the page is larger than {limit} bytes")]
    TooLarge { url: String, limit: u64 },
}

/// The chain of causes of an error in one line (reqwest hides the interesting part).
fn causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

fn why_refused(allow_private: bool) -> &'static str {
    if allow_private {
        " (never reached, even with allow_private)"
    } else {
        " (allow_private is off)"
    }
}

/// Checks a URL's scheme and, when its host is an address, the address.
pub fn check_url(url: &reqwest::Url, ingress: &Ingress) -> Result<(), String> {
    check_scheme(url.scheme(), ingress.allow_http).map_err(|e| e.to_string())?;
    let host = url.host_str().ok_or("no host")?;
    // An IPv6 host comes bracketed; a name never parses as an address.
    let ip = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .ok();
    if let Some(ip) = ip
        && let Some(why) = refused(ip, ingress.allow_private)
    {
        return Err(format!(
            "{ip} is {why}{}",
            why_refused(ingress.allow_private)
        ));
    }
    Ok(())
}

/// Resolves names and drops the addresses the entry does not allow; a name with none left is
/// refused, so the connection never starts.
#[derive(Debug, Clone, Copy)]
struct CheckedResolver {
    allow_private: bool,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| refused(a.ip(), allow_private).is_none())
                .collect();
            if allowed.is_empty() {
                let why = found
                    .first()
                    .and_then(|a| {
                        refused(a.ip(), allow_private).map(|w| format!("{} is {w}", a.ip()))
                    })
                    .unwrap_or_else(|| "no address".into());
                return Err(format!("{host}: {why}{}", why_refused(allow_private)).into());
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

fn read_file(data_dir: &Path, name: &str) -> Result<Vec<u8>, ClientError> {
    let path = data_dir.join(name);
    std::fs::read(&path).map_err(|e| ClientError::File {
        path: path.display().to_string(),
        problem: e.to_string(),
    })
}

/// A client for one peer, built from its ingress entry.
#[derive(Debug, Clone)]
pub struct PeerClient {
    http: reqwest::Client,
    ingress: Ingress,
    basic: Option<(String, String)>,
}

/// A page as it arrived: the body and the headers that matter.
#[derive(Debug)]
pub struct Fetched {
    pub body: Vec<u8>,
    pub headers: HeaderMap,
}

impl PeerClient {
    /// Builds the client: the peer's CA, the certificate this hub presents, the address rule.
    /// Relative file names are in `data_dir`.
    pub fn new(ingress: &Ingress, data_dir: &Path) -> Result<Self, ClientError> {
        let url = reqwest::Url::parse(&ingress.url).map_err(|e| ClientError::Url {
            url: ingress.url.clone(),
            problem: e.to_string(),
        })?;
        check_url(&url, ingress).map_err(|problem| ClientError::Url {
            url: ingress.url.clone(),
            problem,
        })?;
        let mut roots = rustls::RootCertStore::empty();
        if let Some(ca) = &ingress.ca {
            let path = data_dir.join(ca);
            for cert in read_pem_certificates(&path).map_err(|e| ClientError::File {
                path: path.display().to_string(),
                problem: e.to_string(),
            })? {
                roots
                    .add(cert)
                    .map_err(|e| ClientError::Tls(e.to_string()))?;
            }
        } else if url.scheme() == "https" {
            return Err(ClientError::Url {
                url: ingress.url.clone(),
                problem: "name the peer's CA (ingress.ca) to verify its server".into(),
            });
        }
        let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Tls(e.to_string()))?
        .with_root_certificates(roots);
        let mut tls = match (&ingress.cert, &ingress.key) {
            (Some(cert), Some(key)) => {
                let path = data_dir.join(cert);
                let chain = read_pem_certificates(&path).map_err(|e| ClientError::File {
                    path: path.display().to_string(),
                    problem: e.to_string(),
                })?;
                let key_bytes = read_file(data_dir, key)?;
                let key =
                    PrivateKeyDer::from_pem_slice(&key_bytes).map_err(|_| ClientError::File {
                        path: data_dir.join(key).display().to_string(),
                        problem: "no private key found (PEM)".into(),
                    })?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| ClientError::Tls(e.to_string()))?
            }
            _ => builder.with_no_client_auth(),
        };
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let checked = ingress.clone();
        let policy = if ingress.follow_redirects {
            redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= MAX_REDIRECTS {
                    return attempt.error("too many redirects");
                }
                match check_url(attempt.url(), &checked) {
                    Ok(()) => attempt.follow(),
                    Err(problem) => attempt.error(format!("redirect refused: {problem}")),
                }
            })
        } else {
            redirect::Policy::none()
        };
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .dns_resolver(CheckedResolver {
                allow_private: ingress.allow_private,
            })
            .no_proxy()
            .redirect(policy)
            .https_only(!ingress.allow_http)
            .timeout(Duration::from_secs(ingress.timeout_secs))
            .connect_timeout(Duration::from_secs(ingress.timeout_secs.min(10)))
            .build()
            .map_err(|e| ClientError::Tls(causes(&e)))?;
        let basic = match (&ingress.basic_user, &ingress.basic_password_file) {
            (Some(user), Some(file)) => {
                let password = String::from_utf8(read_file(data_dir, file)?).map_err(|_| {
                    ClientError::File {
                        path: data_dir.join(file).display().to_string(),
                        problem: "not UTF-8".into(),
                    }
                })?;
                Some((
                    user.clone(),
                    password.trim_end_matches(['\n', '\r']).to_owned(),
                ))
            }
            _ => None,
        };
        Ok(Self {
            http,
            ingress: ingress.clone(),
            basic,
        })
    }

    pub fn ingress(&self) -> &Ingress {
        &self.ingress
    }

    /// Parses `url` and checks it like the configured one (a URL a peer's answer names).
    fn checked(&self, url: &str) -> Result<reqwest::Url, ClientError> {
        let parsed = reqwest::Url::parse(url).map_err(|e| ClientError::Url {
            url: url.to_owned(),
            problem: e.to_string(),
        })?;
        check_url(&parsed, &self.ingress).map_err(|problem| ClientError::Url {
            url: url.to_owned(),
            problem,
        })?;
        Ok(parsed)
    }

    /// GETs `url` (checked like the configured one), reading at most `max_page_bytes` of the
    /// body as it streams in; a non-2xx answer is an error.
    pub async fn get(&self, url: &str, accept: &str) -> Result<Fetched, ClientError> {
        let parsed = self.checked(url)?;
        let mut request = self.http.get(parsed).header(ACCEPT, accept);
        if let Some((user, password)) = &self.basic {
            request = request.basic_auth(user, Some(password));
        }
        let mut response = request.send().await.map_err(|e| ClientError::Request {
            url: url.to_owned(),
            problem: causes(&e),
        })?;
        let status = response.status();
        if !status.is_success() {
            return Err(ClientError::Status {
                url: url.to_owned(),
                status: status.as_u16(),
            });
        }
        let limit = self.ingress.max_page_bytes;
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(ClientError::TooLarge {
                url: url.to_owned(),
                limit,
            });
        }
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| ClientError::Request {
            url: url.to_owned(),
            problem: causes(&e),
        })? {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(ClientError::TooLarge {
                    url: url.to_owned(),
                    limit,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched { body, headers })
    }

    /// POSTs a JSON body (a cosignature sent back to the peer); the answer's status only.
    pub async fn post_json(&self, url: &str, body: &serde_json::Value) -> Result<u16, ClientError> {
        let parsed = self.checked(url)?;
        let mut request = self.http.post(parsed).json(body);
        if let Some((user, password)) = &self.basic {
            request = request.basic_auth(user, Some(password));
        }
        let response = request.send().await.map_err(|e| ClientError::Request {
            url: url.to_owned(),
            problem: causes(&e),
        })?;
        Ok(response.status().as_u16())
    }
}
