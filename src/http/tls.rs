//! rustls server configurations: the main listener requires a client certificate that chains
//! to a trusted client CA, is within its validity, carries the clientAuth EKU and is not on the
//! current CRL; the public listener asks for none.
//!
//! webpki checks the EKU only when the extension is there: a certificate without one passes as
//! fit for any purpose. [`ClientAuthOnly`] wraps its verifier so that such a certificate fails
//! the handshake like one that names another purpose.
//!
//! The CRL comes from the database, so a revocation made by `relais pki revoke` (another
//! process, possibly on another machine) reaches every running instance: each one polls the
//! newest CRL number and swaps in a rebuilt configuration. The registry check on every request
//! (`services::identity`) refuses the key even before that.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use rustls::ServerConfig;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer, UnixTime};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::pki::PkiError;
use crate::pki::certificate::read_pem_certificates;
use crate::services::Failure;
use crate::services::jobs::Periodic;
use crate::services::revocation::Revocations;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error("{0}: no private key found (PEM, PKCS#8, SEC1 or PKCS#1)")]
    NoKey(PathBuf),
    #[error("TLS configuration refused: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("client verifier: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
    #[error(transparent)]
    Store(#[from] Failure),
}

pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Certificates and keys the listeners are built from, read once at start.
#[derive(Debug)]
pub struct TlsMaterial {
    server_chain: Vec<CertificateDer<'static>>,
    server_key: PrivateKeyDer<'static>,
    hub_ca: CertificateDer<'static>,
    extra_cas: Vec<CertificateDer<'static>>,
}

impl TlsMaterial {
    pub fn load(config: &Config, data_dir: &Path) -> Result<Self, TlsError> {
        let server_chain =
            read_pem_certificates(&config.resolve(data_dir, &config.tls.server_cert))?;
        let key_path = config.resolve(data_dir, &config.tls.server_key);
        let server_key = read_private_key(&key_path)?;
        let hub_ca = read_pem_certificates(&config.resolve(data_dir, &config.tls.ca_cert))?
            .into_iter()
            .next()
            .ok_or_else(|| PkiError::NotPem(config.tls.ca_cert.clone()))?;
        let mut extra_cas = Vec::new();
        for path in &config.tls.extra_client_cas {
            extra_cas.extend(read_pem_certificates(&config.resolve(data_dir, path))?);
        }
        Ok(Self {
            server_chain,
            server_key,
            hub_ca,
            extra_cas,
        })
    }

    /// The verifier of the main listener, with the given CRLs of the hub's CA.
    pub fn client_verifier(
        &self,
        crls: Vec<CertificateRevocationListDer<'static>>,
    ) -> Result<Arc<dyn ClientCertVerifier>, TlsError> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.hub_ca.clone())?;
        for ca in &self.extra_cas {
            roots.add(ca.clone())?;
        }
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
            .with_crls(crls)
            // Partner CAs publish no CRL to us; their certificates are revoked by removing the
            // registry binding instead.
            .allow_unknown_revocation_status()
            .build()?;
        Ok(Arc::new(ClientAuthOnly { inner: verifier }))
    }

    /// Whether a certificate passes the main listener's checks now, and if so whether the
    /// hub's own CA issued it. Used before binding an external certificate.
    pub fn verify_client_certificate(&self, cert_der: &[u8]) -> Result<bool, String> {
        let cert = CertificateDer::from(cert_der.to_vec());
        let verifier = self
            .client_verifier(Vec::new())
            .map_err(|e| e.to_string())?;
        verifier
            .verify_client_cert(&cert, &[], UnixTime::now())
            .map_err(|e| e.to_string())?;
        let hub_only = {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(self.hub_ca.clone()).map_err(|e| e.to_string())?;
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .map_err(|e| e.to_string())?
        };
        Ok(hub_only
            .verify_client_cert(&cert, &[], UnixTime::now())
            .is_ok())
    }

    fn server_config(
        &self,
        verifier: Option<Arc<dyn ClientCertVerifier>>,
    ) -> Result<ServerConfig, TlsError> {
        let builder = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?;
        let builder = match verifier {
            Some(v) => builder.with_client_cert_verifier(v),
            None => builder.with_no_client_auth(),
        };
        let mut config =
            builder.with_single_cert(self.server_chain.clone(), self.server_key.clone_key())?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(config)
    }

    pub fn main_config(
        &self,
        crls: Vec<CertificateRevocationListDer<'static>>,
    ) -> Result<Arc<ServerConfig>, TlsError> {
        Ok(Arc::new(
            self.server_config(Some(self.client_verifier(crls)?))?,
        ))
    }

    pub fn public_config(&self) -> Result<Arc<ServerConfig>, TlsError> {
        Ok(Arc::new(self.server_config(None)?))
    }
}

/// webpki's client verifier, and then an extendedKeyUsage extension that names clientAuth.
/// A refused certificate is noted for the audit log of the connection
/// (`http::refused::note_presented`).
#[derive(Debug)]
struct ClientAuthOnly {
    inner: Arc<dyn ClientCertVerifier>,
}

/// Whether `der` carries the extendedKeyUsage extension with clientAuth in it. A certificate
/// that does not parse has no usage either (webpki has refused it by then anyway).
fn names_client_auth(der: &[u8]) -> bool {
    use x509_parser::prelude::{FromDer, X509Certificate};
    X509Certificate::from_der(der).is_ok_and(|(_, cert)| {
        cert.extended_key_usage()
            .ok()
            .flatten()
            .is_some_and(|eku| eku.value.client_auth)
    })
}

impl ClientCertVerifier for ClientAuthOnly {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified = self
            .inner
            .verify_client_cert(end_entity, intermediates, now)
            .and_then(|ok| {
                if names_client_auth(end_entity) {
                    Ok(ok)
                } else {
                    // The alert a certificate for another purpose gets.
                    Err(CertificateError::InvalidPurpose.into())
                }
            });
        if verified.is_err() {
            super::refused::note_presented(end_entity);
        }
        verified
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }

    fn requires_raw_public_keys(&self) -> bool {
        self.inner.requires_raw_public_keys()
    }
}

/// The main listener's configuration, swapped when a newer CRL appears.
#[derive(Debug)]
pub struct ReloadingConfig {
    current: ArcSwap<ServerConfig>,
    crl_number: std::sync::Mutex<Option<i64>>,
    material: TlsMaterial,
}

impl ReloadingConfig {
    pub async fn new(
        material: TlsMaterial,
        revocations: &Revocations,
    ) -> Result<Arc<Self>, TlsError> {
        let crl = revocations.latest().await?;
        let number = crl.as_ref().map(|c| c.number);
        let crls = crl.into_iter().map(|c| c.der.into()).collect();
        let config = material.main_config(crls)?;
        Ok(Arc::new(Self {
            current: ArcSwap::new(config),
            crl_number: std::sync::Mutex::new(number),
            material,
        }))
    }

    pub fn current(&self) -> Arc<ServerConfig> {
        self.current.load_full()
    }

    /// Loads the newest CRL if its number changed. Returns whether the configuration changed.
    pub async fn refresh(&self, revocations: &Revocations) -> Result<bool, TlsError> {
        let latest = revocations.latest_number().await?;
        let known = *self.crl_number.lock().unwrap_or_else(|e| e.into_inner());
        if latest == known {
            return Ok(false);
        }
        let Some(crl) = revocations.latest().await? else {
            return Ok(false);
        };
        let number = crl.number;
        let config = self.material.main_config(vec![crl.der.into()])?;
        self.current.store(config);
        *self.crl_number.lock().unwrap_or_else(|e| e.into_inner()) = Some(number);
        tracing::info!(crl_number = number, "loaded new CRL");
        Ok(true)
    }

    /// Polls for a newer CRL until cancelled.
    pub fn spawn_refresher(
        self: &Arc<Self>,
        revocations: Revocations,
        every: Duration,
        shutdown: CancellationToken,
        tracker: &tokio_util::task::TaskTracker,
    ) {
        let this = Arc::clone(self);
        Periodic::new("crl_refresh", every).spawn(shutdown, tracker, move || {
            let this = Arc::clone(&this);
            let revocations = revocations.clone();
            async move {
                if let Err(e) = this.refresh(&revocations).await {
                    tracing::warn!(error = %e, "CRL refresh failed; keeping the previous CRL");
                }
            }
        });
    }
}

/// A client configuration that trusts `roots` and presents `chain`/`key`: what a provider's
/// tool, a partner hub or the benchmark uses to talk to a hub.
pub fn client_config(
    roots: &[CertificateDer<'static>],
    identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
) -> Result<rustls::ClientConfig, TlsError> {
    let mut store = rustls::RootCertStore::empty();
    for root in roots {
        store.add(root.clone())?;
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(store);
    let mut config = match identity {
        Some((chain, key)) => builder.with_client_auth_cert(chain, key)?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Reads a PEM private key (PKCS#8, SEC1 or PKCS#1).
pub fn read_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|_| TlsError::NoKey(path.to_owned()))
}
