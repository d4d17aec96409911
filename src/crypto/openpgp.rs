//! OpenPGP signing and verification (sequoia, pure-Rust backend): the hub's audit key, which
//! signs checkpoints of the audit log, and detached-signature verification against any one
//! certificate, for the hub's own signatures and for those of others.
//!
//! The audit key is an Ed25519 primary key, certification- and signing-capable, without
//! expiry and without subkeys, kept apart from the TLS key: a leaked TLS key must not be
//! able to sign the log. Times are parameters, as everywhere in the hub: the creation time of
//! keys and signatures, and the time as of which a signature is verified.

use std::fmt;
use std::time::SystemTime;

use sequoia_openpgp as openpgp;

use openpgp::cert::{CertBuilder, CipherSuite};
use openpgp::parse::Parse;
use openpgp::parse::stream::{
    DetachedVerifierBuilder, MessageLayer, MessageStructure, VerificationHelper,
};
use openpgp::policy::StandardPolicy;
use openpgp::serialize::SerializeInto;
use openpgp::serialize::stream::{Armorer, Message, Signer};
use openpgp::types::KeyFlags;
use openpgp::{Cert, KeyHandle};
use std::io::Write as _;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenPgpError {
    #[error("cannot generate the OpenPGP key: {0}")]
    Generate(String),
    #[error("not an OpenPGP certificate: {0}")]
    Certificate(String),
    #[error("the OpenPGP key holds no usable secret signing key")]
    NoSigningKey,
    #[error("cannot sign: {0}")]
    Sign(String),
    #[error("cannot serialize the key: {0}")]
    Serialize(String),
    #[error("bad signature: {0}")]
    BadSignature(String),
}

/// sequoia's errors chain their causes: the whole chain, on one line.
fn text(e: &openpgp::anyhow::Error) -> String {
    format!("{e:#}")
}

/// A certificate without secrets: whom a signature must come from.
#[derive(Clone, PartialEq)]
pub struct PublicKey {
    cert: Cert,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.fingerprint())
    }
}

impl PublicKey {
    /// One certificate, armored or binary; secret key material, if any, is dropped.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, OpenPgpError> {
        let cert = Cert::from_bytes(bytes).map_err(|e| OpenPgpError::Certificate(text(&e)))?;
        Ok(Self {
            cert: cert.strip_secret_key_material(),
        })
    }

    /// The armored certificate (`-----BEGIN PGP PUBLIC KEY BLOCK-----`).
    pub fn to_armored(&self) -> Result<String, OpenPgpError> {
        let bytes = self
            .cert
            .armored()
            .to_vec()
            .map_err(|e| OpenPgpError::Serialize(text(&e)))?;
        String::from_utf8(bytes).map_err(|e| OpenPgpError::Serialize(e.to_string()))
    }

    /// The primary key's fingerprint, upper-case hex.
    pub fn fingerprint(&self) -> String {
        self.cert.fingerprint().to_hex()
    }
}

/// The hub's audit signing key, secrets included. Its `Debug` shows the fingerprint only.
#[derive(Clone)]
pub struct AuditKey {
    cert: Cert,
}

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuditKey({})", self.cert.fingerprint().to_hex())
    }
}

impl AuditKey {
    /// A new Ed25519 key for `user_id` (e.g. `relais audit <hub name>`), created at `created`:
    /// signatures dated before that are refused.
    pub fn generate(user_id: &str, created: OffsetDateTime) -> Result<Self, OpenPgpError> {
        let (cert, _revocation) = CertBuilder::new()
            .set_cipher_suite(CipherSuite::Cv25519)
            .set_primary_key_flags(KeyFlags::empty().set_certification().set_signing())
            .set_creation_time(SystemTime::from(created))
            .set_validity_period(None)
            .add_userid(user_id)
            .generate()
            .map_err(|e| OpenPgpError::Generate(text(&e)))?;
        Ok(Self { cert })
    }

    /// The key as stored (armored, `-----BEGIN PGP PRIVATE KEY BLOCK-----`, unencrypted: it
    /// is kept as a hub secret, protected like the others).
    pub fn to_armored_secret(&self) -> Result<String, OpenPgpError> {
        let bytes = self
            .cert
            .as_tsk()
            .armored()
            .to_vec()
            .map_err(|e| OpenPgpError::Serialize(text(&e)))?;
        String::from_utf8(bytes).map_err(|e| OpenPgpError::Serialize(e.to_string()))
    }

    /// A key stored by [`AuditKey::to_armored_secret`]; refused unless it can sign.
    pub fn from_armored_secret(bytes: &[u8]) -> Result<Self, OpenPgpError> {
        let cert = Cert::from_bytes(bytes).map_err(|e| OpenPgpError::Certificate(text(&e)))?;
        let key = Self { cert };
        key.signing_keypair(None)?;
        Ok(key)
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            cert: self.cert.clone().strip_secret_key_material(),
        }
    }

    pub fn public_armored(&self) -> Result<String, OpenPgpError> {
        self.public_key().to_armored()
    }

    pub fn fingerprint(&self) -> String {
        self.cert.fingerprint().to_hex()
    }

    fn signing_keypair(
        &self,
        at: Option<SystemTime>,
    ) -> Result<openpgp::crypto::KeyPair, OpenPgpError> {
        let policy = StandardPolicy::new();
        let key = self
            .cert
            .keys()
            .unencrypted_secret()
            .with_policy(&policy, at)
            .supported()
            .alive()
            .revoked(false)
            .for_signing()
            .next()
            .ok_or(OpenPgpError::NoSigningKey)?;
        key.key()
            .clone()
            .into_keypair()
            .map_err(|_| OpenPgpError::NoSigningKey)
    }

    /// An armored detached signature (`-----BEGIN PGP SIGNATURE-----`) over exactly `data`,
    /// dated `at`.
    pub fn sign_detached(&self, data: &[u8], at: OffsetDateTime) -> Result<String, OpenPgpError> {
        let at = SystemTime::from(at);
        let keypair = self.signing_keypair(Some(at))?;
        let sign = |e: openpgp::anyhow::Error| OpenPgpError::Sign(text(&e));
        let mut out = Vec::new();
        let message = Message::new(&mut out);
        let message = Armorer::new(message)
            .kind(openpgp::armor::Kind::Signature)
            .build()
            .map_err(sign)?;
        let mut signer = Signer::new(message, keypair)
            .map_err(sign)?
            .detached()
            .creation_time(at)
            .build()
            .map_err(sign)?;
        signer
            .write_all(data)
            .map_err(|e| OpenPgpError::Sign(e.to_string()))?;
        signer.finalize().map_err(sign)?;
        String::from_utf8(out).map_err(|e| OpenPgpError::Sign(e.to_string()))
    }
}

/// What a good signature said about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Fingerprint of the key that made it (the primary key, for the audit key).
    pub fingerprint: String,
    pub signed_at: OffsetDateTime,
}

/// Checks a detached signature (armored or binary) over exactly `data` as of `at` (normally
/// now): every signature in it must be good, made by `key` while the key was valid, and not
/// dated after `at`. A signature by any other key is refused, as is one without any
/// signature.
pub fn verify_detached(
    key: &PublicKey,
    data: &[u8],
    signature: &[u8],
    at: OffsetDateTime,
) -> Result<Verified, OpenPgpError> {
    let bad = |e: openpgp::anyhow::Error| {
        // sequoia wraps its reasons in "Bad signature: " once or twice; say it once.
        let mut reason = text(&e);
        while let Some(rest) = reason.strip_prefix("Bad signature: ") {
            reason = rest.to_owned();
        }
        OpenPgpError::BadSignature(reason)
    };
    let policy = StandardPolicy::new();
    let helper = Helper {
        cert: &key.cert,
        verified: None,
    };
    let mut verifier = DetachedVerifierBuilder::from_bytes(signature)
        .map_err(bad)?
        .with_policy(&policy, Some(SystemTime::from(at)), helper)
        .map_err(bad)?;
    verifier.verify_bytes(data).map_err(bad)?;
    verifier
        .into_helper()
        .verified
        .ok_or_else(|| OpenPgpError::BadSignature("no signature".into()))
}

struct Helper<'a> {
    cert: &'a Cert,
    verified: Option<Verified>,
}

impl VerificationHelper for Helper<'_> {
    fn get_certs(&mut self, _ids: &[KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        // Only the one certificate: a signature by another key finds no key and fails.
        Ok(vec![self.cert.clone()])
    }

    fn check(&mut self, structure: MessageStructure) -> openpgp::Result<()> {
        let mut layers = structure.into_iter();
        let (Some(MessageLayer::SignatureGroup { results }), None) = (layers.next(), layers.next())
        else {
            return Err(openpgp::Error::InvalidOperation(
                "not a single group of detached signatures".into(),
            )
            .into());
        };
        if results.is_empty() {
            return Err(openpgp::Error::InvalidOperation("no signature".into()).into());
        }
        for result in results {
            let good = result.map_err(|e| openpgp::Error::BadSignature(e.to_string()))?;
            let signed_at = good
                .sig
                .signature_creation_time()
                .map(OffsetDateTime::from)
                .ok_or_else(|| openpgp::Error::BadSignature("no creation time".into()))?;
            self.verified = Some(Verified {
                fingerprint: good.ka.key().fingerprint().to_hex(),
                signed_at,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const CREATED: OffsetDateTime = datetime!(2026-01-01 00:00:00 UTC);
    const SIGNED: OffsetDateTime = datetime!(2026-02-01 12:00:00 UTC);
    const NOW: OffsetDateTime = datetime!(2026-06-01 00:00:00 UTC);

    #[test]
    fn sign_and_verify_detached() {
        let key = AuditKey::generate("relais audit test", CREATED).unwrap();
        let sig = key.sign_detached(b"tree head", SIGNED).unwrap();
        assert!(sig.starts_with("-----BEGIN PGP SIGNATURE-----"));
        let verified =
            verify_detached(&key.public_key(), b"tree head", sig.as_bytes(), NOW).unwrap();
        assert_eq!(verified.fingerprint, key.fingerprint());
        assert_eq!(verified.signed_at, SIGNED);
        assert!(matches!(
            verify_detached(&key.public_key(), b"tree head!", sig.as_bytes(), NOW),
            Err(OpenPgpError::BadSignature(_))
        ));
        assert!(verify_detached(&key.public_key(), b"tree head", b"garbage", NOW).is_err());
        assert!(verify_detached(&key.public_key(), b"tree head", b"", NOW).is_err());
    }

    #[test]
    fn another_key_is_refused() {
        let key = AuditKey::generate("relais audit test", CREATED).unwrap();
        let other = AuditKey::generate("relais audit test", CREATED).unwrap();
        let sig = other.sign_detached(b"tree head", SIGNED).unwrap();
        assert!(matches!(
            verify_detached(&key.public_key(), b"tree head", sig.as_bytes(), NOW),
            Err(OpenPgpError::BadSignature(_))
        ));
    }

    #[test]
    fn a_signature_dated_before_the_key_or_in_the_future_is_refused() {
        let key = AuditKey::generate("relais audit test", CREATED).unwrap();
        assert!(
            key.sign_detached(b"x", datetime!(2025-12-31 00:00:00 UTC))
                .is_err()
        );
        let future = key
            .sign_detached(b"x", datetime!(2100-01-01 00:00:00 UTC))
            .unwrap();
        assert!(verify_detached(&key.public_key(), b"x", future.as_bytes(), NOW).is_err());
        // The same signature, checked once its time has come.
        verify_detached(
            &key.public_key(),
            b"x",
            future.as_bytes(),
            datetime!(2100-01-01 00:00:00 UTC),
        )
        .unwrap();
    }

    #[test]
    fn secret_and_public_forms_round_trip() {
        let key = AuditKey::generate("relais audit test", CREATED).unwrap();
        let secret = key.to_armored_secret().unwrap();
        assert!(secret.starts_with("-----BEGIN PGP PRIVATE KEY BLOCK-----"));
        let again = AuditKey::from_armored_secret(secret.as_bytes()).unwrap();
        assert_eq!(again.fingerprint(), key.fingerprint());
        let public = key.public_armored().unwrap();
        assert!(public.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----"));
        assert!(!public.contains("PRIVATE"));
        // A public key cannot sign.
        assert_eq!(
            AuditKey::from_armored_secret(public.as_bytes()).unwrap_err(),
            OpenPgpError::NoSigningKey
        );
        let parsed = PublicKey::from_bytes(public.as_bytes()).unwrap();
        assert_eq!(parsed, key.public_key());
        // A secret key given where a public one is expected loses its secrets.
        let from_secret = PublicKey::from_bytes(secret.as_bytes()).unwrap();
        assert_eq!(from_secret, key.public_key());
        let sig = again.sign_detached(b"data", SIGNED).unwrap();
        verify_detached(&parsed, b"data", sig.as_bytes(), NOW).unwrap();
        assert!(format!("{key:?}").starts_with("AuditKey("));
        assert!(!format!("{key:?}").contains("PRIVATE"));
    }
}
