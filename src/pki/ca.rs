//! The hub's own CA (ECDSA P-256): issues server and client certificates and signs CRLs.

use std::net::IpAddr;
use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    RevocationReason, RevokedCertParams, SanType, SerialNumber,
};
use time::{Duration, OffsetDateTime};

use super::certificate::read_pem_certificates;
use super::{CertificateInfo, PkiError};
use crate::domain::principal::PrincipalKind;

/// A loaded CA: its certificate and the key that signs with it.
pub struct CertificateAuthority {
    cert_der: Vec<u8>,
    cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("CertificateAuthority")
            .finish_non_exhaustive()
    }
}

/// Who a client certificate is for. The subject is informative only: identity is the registry
/// binding of the public key.
#[derive(Debug, Clone)]
pub struct ClientSubject {
    pub kind: PrincipalKind,
    pub organisation: String,
    pub name: String,
}

/// A freshly issued certificate and its private key.
pub struct IssuedCertificate {
    pub cert_der: Vec<u8>,
    pub cert_pem: String,
    pub key_pkcs8_der: Vec<u8>,
    pub key_pem: String,
    pub info: CertificateInfo,
}

impl std::fmt::Debug for IssuedCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedCertificate")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// Which extended key usage to put in a certificate. `ServerOnly` and `NoExtendedKeyUsage`
/// exist so that the test suite can prove a certificate without clientAuth is refused, whether
/// it names another purpose or none at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientUsage {
    ClientAuth,
    ServerOnly,
    /// `keyUsage=digitalSignature` and no extendedKeyUsage extension at all.
    NoExtendedKeyUsage,
}

fn random_serial() -> SerialNumber {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    // ring's system RNG only fails if the OS has no entropy source; a serial from a fixed
    // pattern would still be unique enough to be detected at binding.
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        bytes = *uuid::Uuid::new_v4().as_bytes();
    }
    bytes[0] &= 0x7f; // positive INTEGER
    bytes[0] |= 0x01; // no leading zero byte, so the hex form is stable
    SerialNumber::from_slice(&bytes)
}

/// Certificates are back-dated a little so that a client whose clock is slightly behind the
/// hub's does not see a certificate that is "not yet valid".
const BACKDATE: Duration = Duration::minutes(5);

impl CertificateAuthority {
    /// Creates a new self-signed CA.
    pub fn generate(
        common_name: &str,
        now: OffsetDateTime,
        validity: Duration,
    ) -> Result<Self, PkiError> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        dn.push(DnType::OrganizationName, "relais");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.not_before = now - BACKDATE;
        params.not_after = now + validity;
        params.serial_number = Some(random_serial());
        params.key_identifier_method = KeyIdMethod::Sha256;
        let cert = params.self_signed(&key)?;
        let cert_der = cert.der().to_vec();
        let cert_pem = cert.pem();
        Ok(Self {
            cert_der,
            cert_pem,
            issuer: Issuer::new(params, key),
        })
    }

    /// Loads a CA from its PEM certificate and PEM (PKCS#8) private key.
    pub fn load(cert_path: &Path, key_path: &Path) -> Result<Self, PkiError> {
        let cert_der = read_pem_certificates(cert_path)?
            .into_iter()
            .next()
            .ok_or_else(|| PkiError::NotPem(cert_path.to_owned()))?
            .to_vec();
        let key_pem = std::fs::read_to_string(key_path).map_err(|source| PkiError::Io {
            path: key_path.to_owned(),
            source,
        })?;
        let key = KeyPair::from_pem(&key_pem)?;
        let issuer = Issuer::from_ca_cert_der(&cert_der.clone().into(), key)?;
        let cert_pem = pem_encode("CERTIFICATE", &cert_der);
        Ok(Self {
            cert_der,
            cert_pem,
            issuer,
        })
    }

    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    pub fn key_pem(&self) -> String {
        self.issuer.key().serialize_pem()
    }

    /// Issues the TLS server certificate for the given DNS names and IP addresses.
    pub fn issue_server(
        &self,
        names: &[String],
        now: OffsetDateTime,
        validity: Duration,
    ) -> Result<IssuedCertificate, PkiError> {
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(
            DnType::CommonName,
            names.first().map(String::as_str).unwrap_or("relais"),
        );
        dn.push(DnType::OrganizationName, "relais");
        params.distinguished_name = dn;
        params.subject_alt_names = names
            .iter()
            .map(|n| match n.parse::<IpAddr>() {
                Ok(ip) => Ok(SanType::IpAddress(ip)),
                Err(_) => Ok(SanType::DnsName(n.clone().try_into()?)),
            })
            .collect::<Result<_, rcgen::Error>>()?;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        self.sign(params, now, validity)
    }

    /// Issues a client certificate for a principal.
    pub fn issue_client(
        &self,
        subject: &ClientSubject,
        usage: ClientUsage,
        now: OffsetDateTime,
        validity: Duration,
    ) -> Result<IssuedCertificate, PkiError> {
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, subject.name.as_str());
        dn.push(DnType::OrganizationName, subject.organisation.as_str());
        dn.push(DnType::OrganizationalUnitName, subject.kind.as_str());
        params.distinguished_name = dn;
        params.extended_key_usages = match usage {
            ClientUsage::ClientAuth => vec![ExtendedKeyUsagePurpose::ClientAuth],
            ClientUsage::ServerOnly => vec![ExtendedKeyUsagePurpose::ServerAuth],
            // rcgen writes no extension for an empty list.
            ClientUsage::NoExtendedKeyUsage => Vec::new(),
        };
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        self.sign(params, now, validity)
    }

    fn sign(
        &self,
        mut params: CertificateParams,
        now: OffsetDateTime,
        validity: Duration,
    ) -> Result<IssuedCertificate, PkiError> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        params.not_before = now - BACKDATE;
        params.not_after = now + validity;
        params.serial_number = Some(random_serial());
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(&key, &self.issuer)?;
        let cert_der = cert.der().to_vec();
        let info = CertificateInfo::from_der(&cert_der)?;
        Ok(IssuedCertificate {
            cert_pem: cert.pem(),
            cert_der,
            key_pkcs8_der: key.serialize_der(),
            key_pem: key.serialize_pem(),
            info,
        })
    }

    /// Signs a CRL listing the given (serial hex, revocation time) pairs.
    pub fn sign_crl(
        &self,
        number: i64,
        revoked: &[(String, OffsetDateTime)],
        now: OffsetDateTime,
        next_update: Duration,
    ) -> Result<Vec<u8>, PkiError> {
        let revoked_certs = revoked
            .iter()
            .map(|(serial, at)| {
                let bytes =
                    hex::decode(serial).map_err(|_| PkiError::Parse(format!("serial {serial}")))?;
                Ok(RevokedCertParams {
                    serial_number: SerialNumber::from_slice(&bytes),
                    revocation_time: *at,
                    reason_code: Some(RevocationReason::Unspecified),
                    invalidity_date: None,
                })
            })
            .collect::<Result<Vec<_>, PkiError>>()?;
        let params = CertificateRevocationListParams {
            this_update: now,
            next_update: now + next_update,
            crl_number: SerialNumber::from_slice(&number.to_be_bytes()),
            issuing_distribution_point: None,
            revoked_certs,
            key_identifier_method: KeyIdMethod::Sha256,
        };
        Ok(params.signed_by(&self.issuer)?.der().to_vec())
    }
}

/// PEM armour for DER bytes (certificates, CRLs).
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    pem::encode(&pem::Pem::new(label, der))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_client_certificate_chains_and_carries_the_subject() {
        let now = OffsetDateTime::now_utc();
        let ca = CertificateAuthority::generate("test CA", now, Duration::days(10)).unwrap();
        let issued = ca
            .issue_client(
                &ClientSubject {
                    kind: PrincipalKind::Provider,
                    organisation: "Provider A".into(),
                    name: "alice".into(),
                },
                ClientUsage::ClientAuth,
                now,
                Duration::days(1),
            )
            .unwrap();
        assert!(issued.info.subject.contains("CN=alice"));
        assert!(issued.info.issuer.contains("CN=test CA"));
        assert!(!issued.info.is_ca);
        assert!(issued.info.not_after > now);
        let crl = ca
            .sign_crl(
                1,
                &[(issued.info.serial.clone(), now)],
                now,
                Duration::days(7),
            )
            .unwrap();
        assert!(!crl.is_empty());
    }
}
