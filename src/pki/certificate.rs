//! What relais reads out of a certificate: the SPKI fingerprint that identifies the holder, and
//! the facts recorded with a binding.

use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::PkiError;
use crate::domain::principal::SpkiFingerprint;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    pub fingerprint: SpkiFingerprint,
    /// Lower-case hex, leading zero bytes removed.
    pub serial: String,
    pub subject: String,
    pub issuer: String,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub is_ca: bool,
}

impl CertificateInfo {
    pub fn from_der(der: &[u8]) -> Result<Self, PkiError> {
        let (rest, cert) =
            X509Certificate::from_der(der).map_err(|e| PkiError::Parse(e.to_string()))?;
        if !rest.is_empty() {
            return Err(PkiError::Parse(
                "trailing bytes after the certificate".into(),
            ));
        }
        let tbs = &cert.tbs_certificate;
        Ok(Self {
            fingerprint: spki_fingerprint(tbs.subject_pki.raw),
            serial: serial_hex(tbs.raw_serial()),
            subject: tbs.subject.to_string(),
            issuer: tbs.issuer.to_string(),
            not_before: tbs.validity.not_before.to_datetime(),
            not_after: tbs.validity.not_after.to_datetime(),
            is_ca: tbs.is_ca(),
        })
    }
}

/// SHA-256 over the DER SubjectPublicKeyInfo.
pub fn spki_fingerprint(spki_der: &[u8]) -> SpkiFingerprint {
    let digest = ring::digest::digest(&ring::digest::SHA256, spki_der);
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(digest.as_ref());
    SpkiFingerprint::from_bytes(bytes)
}

/// Fingerprint of the public key in a DER certificate, as used on every request.
pub fn fingerprint_of_der(der: &[u8]) -> Result<SpkiFingerprint, PkiError> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| PkiError::Parse(e.to_string()))?;
    Ok(spki_fingerprint(cert.tbs_certificate.subject_pki.raw))
}

pub fn serial_hex(raw: &[u8]) -> String {
    let trimmed: &[u8] = match raw.iter().position(|b| *b != 0) {
        Some(i) => &raw[i..],
        None => &raw[raw.len().saturating_sub(1)..],
    };
    hex::encode(trimmed)
}

/// Reads every certificate of a PEM file, in order.
pub fn read_pem_certificates(
    path: &std::path::Path,
) -> Result<Vec<rustls_pki_types::CertificateDer<'static>>, PkiError> {
    use rustls_pki_types::pem::PemObject;
    let bytes = std::fs::read(path).map_err(|source| PkiError::Io {
        path: path.to_owned(),
        source,
    })?;
    let certs: Vec<_> = rustls_pki_types::CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|_| PkiError::NotPem(path.to_owned()))?;
    if certs.is_empty() {
        return Err(PkiError::NotPem(path.to_owned()));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_are_minimal_hex() {
        assert_eq!(serial_hex(&[0, 0, 0x1f, 0xa0]), "1fa0");
        assert_eq!(serial_hex(&[0]), "00");
        assert_eq!(serial_hex(&[0x7f]), "7f");
    }
}
