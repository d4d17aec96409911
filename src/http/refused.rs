//! What the main listener knows of a handshake it refused, for the audit log: the source
//! address, the reason rustls gave, and the certificate the client presented, if any.
//!
//! rustls keeps no certificate it refused. The verifier runs synchronously inside a poll of
//! the handshake future, so a task-local slot scoped to that future (and nothing else)
//! receives it from the verifier: a connection never sees another's.

use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use rustls::CertificateError;

use crate::domain::audit::tls_refusal::{PresentedCertificate, RefusalReason, TlsRefusal};
use crate::pki::certificate::CertificateInfo;

tokio::task_local! {
    static PRESENTED: Arc<OnceLock<Vec<u8>>>;
}

/// Called by the verifier with a certificate it refused. Outside a watched handshake (a
/// certificate checked before `relais pki bind`) there is nobody to tell.
pub fn note_presented(der: &[u8]) {
    let _ = PRESENTED.try_with(|slot| slot.set(der.to_vec()));
}

/// Runs `handshake`, keeping the certificate the verifier refused during it.
pub async fn watch<F: Future>(handshake: F) -> (F::Output, Option<Vec<u8>>) {
    let slot = Arc::new(OnceLock::new());
    let out = PRESENTED.scope(Arc::clone(&slot), handshake).await;
    (out, slot.get().cloned())
}

fn reason_of(error: &rustls::Error) -> Option<RefusalReason> {
    let certificate = match error {
        rustls::Error::NoCertificatesPresented => return Some(RefusalReason::NoCertificate),
        rustls::Error::InvalidCertificate(e) => e,
        // Protocol failures, a client that gave up, a port scan: no certificate was refused.
        _ => return None,
    };
    Some(match certificate {
        CertificateError::UnknownIssuer => RefusalReason::UnknownIssuer,
        CertificateError::Revoked => RefusalReason::Revoked,
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            RefusalReason::Expired
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            RefusalReason::NotYetValid
        }
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            RefusalReason::WrongKeyUsage
        }
        CertificateError::BadSignature => RefusalReason::BadSignature,
        CertificateError::BadEncoding => RefusalReason::Malformed,
        _ => RefusalReason::Other,
    })
}

/// The refusal behind a failed handshake, if the hub refused the client's certificate (or its
/// lack of one); `None` for every other failure.
pub fn refusal(
    error: &std::io::Error,
    presented: Option<&[u8]>,
    source: IpAddr,
) -> Option<TlsRefusal> {
    let tls = error.get_ref()?.downcast_ref::<rustls::Error>()?;
    let reason = reason_of(tls)?;
    let certificate = presented
        .and_then(|der| CertificateInfo::from_der(der).ok())
        .map(|info| PresentedCertificate {
            fingerprint: info.fingerprint,
            serial: info.serial,
            subject: info.subject,
        });
    Some(TlsRefusal {
        source,
        reason,
        certificate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_refused_certificates_are_refusals() {
        let io = |e: rustls::Error| std::io::Error::new(std::io::ErrorKind::InvalidData, e);
        let source: IpAddr = "192.0.2.1".parse().unwrap();
        let cases = [
            (
                rustls::Error::NoCertificatesPresented,
                Some(RefusalReason::NoCertificate),
            ),
            (
                CertificateError::UnknownIssuer.into(),
                Some(RefusalReason::UnknownIssuer),
            ),
            (
                CertificateError::InvalidPurpose.into(),
                Some(RefusalReason::WrongKeyUsage),
            ),
            (
                CertificateError::Revoked.into(),
                Some(RefusalReason::Revoked),
            ),
            (rustls::Error::HandshakeNotComplete, None),
        ];
        for (error, expected) in cases {
            let got = refusal(&io(error), None, source).map(|r| r.reason);
            assert_eq!(got, expected);
        }
        let eof = std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
        assert!(refusal(&eof, None, source).is_none());
    }

    #[tokio::test]
    async fn a_noted_certificate_stays_with_its_handshake() {
        let (_, seen) = watch(async { note_presented(b"one") }).await;
        assert_eq!(seen.as_deref(), Some(&b"one"[..]));
        let (_, seen) = watch(async {}).await;
        assert_eq!(seen, None);
        // Outside a watched handshake, nothing happens.
        note_presented(b"lost");
    }
}
