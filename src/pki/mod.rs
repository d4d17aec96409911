//! The hub's certificate authority: issuing, inspecting and revoking X.509 certificates, and
//! writing keys to disk safely.

pub mod ca;
pub mod certificate;
pub mod files;

pub use ca::{CertificateAuthority, ClientSubject, IssuedCertificate};
pub use certificate::CertificateInfo;

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}: not a PEM certificate")]
    NotPem(std::path::PathBuf),
    #[error("certificate is not valid X.509: {0}")]
    Parse(String),
    #[error("PKCS#12 encoding failed: {0}")]
    Pkcs12(String),
    #[error("{what} {path} is readable by group or others (mode {mode:o}); run: chmod 600 {path}")]
    KeyTooOpen {
        what: &'static str,
        path: std::path::PathBuf,
        mode: u32,
    },
}
