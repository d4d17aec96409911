//! OpenPGP signing and verification (sequoia, pure-Rust backend): the hub's audit key, which
//! signs checkpoints of the audit log and registry badges, and verification of detached and
//! cleartext signatures against any one certificate, for the hub's own signatures and for
//! those of others.
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
    DetachedVerifierBuilder, MessageLayer, MessageStructure, VerificationHelper, VerifierBuilder,
};
use openpgp::policy::StandardPolicy;
use openpgp::serialize::SerializeInto;
use openpgp::serialize::stream::{Armorer, Message, Signer};
use openpgp::types::KeyFlags;
use openpgp::{Cert, KeyHandle};
use std::io::{Read as _, Write as _};
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
    #[error("the signed message is {size} bytes long; at most {limit} are accepted")]
    TooLarge { size: usize, limit: usize },
}

/// The largest cleartext-signed message accepted, signature included. What the hub signs in
/// clear (badges, short statements) is far smaller; the limit keeps a hostile message from
/// making the verifier buffer without bound, and means the whole message is checked before
/// any of its text is released.
pub const MAX_CLEARTEXT_MESSAGE: usize = 64 * 1024;

const CLEARTEXT_HEADER: &[u8] = b"-----BEGIN PGP SIGNED MESSAGE-----";

/// sequoia's errors chain their causes: the whole chain, on one line.
fn text(e: &openpgp::anyhow::Error) -> String {
    format!("{e:#}")
}

/// sequoia wraps its reasons in "Bad signature: " once or twice; say it once.
fn bad_signature(reason: String) -> OpenPgpError {
    let mut reason = reason;
    while let Some(rest) = reason.strip_prefix("Bad signature: ") {
        reason = rest.to_owned();
    }
    OpenPgpError::BadSignature(reason)
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

    pub(crate) fn cert(&self) -> &Cert {
        &self.cert
    }
}

/// The hub's audit signing key, secrets included. Its `Debug` shows the fingerprint only.
///
/// Despite its name it is the hub's one Ed25519 signing key: it also signs the registry's
/// badges, in clear (see [`AuditKey::sign_cleartext`]).
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
        // Checked as of the key's creation, not the system clock: a hub whose clock runs
        // ahead (or a test's driven clock) made keys that the system clock sees as future.
        let created = key.cert.primary_key().key().creation_time();
        key.signing_keypair(Some(created))?;
        Ok(key)
    }

    /// A new key as [`AuditKey::generate`] makes, with an X25519 subkey for encryption: the
    /// kind of key a provider registers to receive handoffs, and the CSIRT's own.
    pub fn generate_with_encryption(
        user_id: &str,
        created: OffsetDateTime,
    ) -> Result<Self, OpenPgpError> {
        // Version 4 keys that ask for SEIPDv1 messages: what GnuPG, which providers and
        // beneficiaries use, reads (it knows neither v6 keys nor SEIPDv2).
        let (cert, _revocation) = CertBuilder::new()
            .set_profile(openpgp::Profile::RFC4880)
            .map_err(|e| OpenPgpError::Generate(text(&e)))?
            .set_features(openpgp::types::Features::empty().set_seipdv1())
            .map_err(|e| OpenPgpError::Generate(text(&e)))?
            .set_cipher_suite(CipherSuite::Cv25519)
            .set_primary_key_flags(KeyFlags::empty().set_certification().set_signing())
            .add_subkey(
                KeyFlags::empty()
                    .set_transport_encryption()
                    .set_storage_encryption(),
                None,
                None,
            )
            .set_creation_time(SystemTime::from(created))
            .set_validity_period(None)
            .add_userid(user_id)
            .generate()
            .map_err(|e| OpenPgpError::Generate(text(&e)))?;
        Ok(Self { cert })
    }

    pub(crate) fn cert(&self) -> &Cert {
        &self.cert
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

    pub(crate) fn signing_keypair(
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

    /// `text` signed in clear, dated `at` (RFC 9580 §7: `-----BEGIN PGP SIGNED MESSAGE-----`,
    /// the text dash-escaped, then the armored signature), readable by anyone and checkable
    /// with GnuPG or [`verify_cleartext`].
    ///
    /// The framework signs lines, not bytes: trailing spaces and tabs of each line are not
    /// signed (and dropped, so they do not come back from verification), and line ends are
    /// signed as CRLF whatever they were, so that mail or a Windows editor cannot break the
    /// signature. A message [`verify_cleartext`] would refuse as too large is refused here
    /// rather than published.
    pub fn sign_cleartext(&self, text: &str, at: OffsetDateTime) -> Result<String, OpenPgpError> {
        self.sign_cleartext_within(text, at, MAX_CLEARTEXT_MESSAGE)
    }

    /// As [`AuditKey::sign_cleartext`], for documents larger than what the hub verifies in
    /// clear itself (a case journal a beneficiary keeps and checks with GnuPG), up to `limit`.
    pub fn sign_cleartext_within(
        &self,
        text: &str,
        at: OffsetDateTime,
        limit: usize,
    ) -> Result<String, OpenPgpError> {
        let at = SystemTime::from(at);
        let keypair = self.signing_keypair(Some(at))?;
        let sign = |e: openpgp::anyhow::Error| OpenPgpError::Sign(self::text(&e));
        let mut out = Vec::new();
        let message = Message::new(&mut out);
        // No Armorer: the cleartext framework writes its own armor around the signature.
        let mut signer = Signer::new(message, keypair)
            .map_err(sign)?
            .cleartext()
            .creation_time(at)
            .build()
            .map_err(sign)?;
        signer
            .write_all(text.as_bytes())
            .map_err(|e| OpenPgpError::Sign(e.to_string()))?;
        signer.finalize().map_err(sign)?;
        if out.len() > limit {
            return Err(OpenPgpError::TooLarge {
                size: out.len(),
                limit,
            });
        }
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
    let bad = |e: openpgp::anyhow::Error| bad_signature(text(&e));
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

/// A detached signature (armored or binary) in its armored form, to keep and to hand out as
/// text; refused unless it is signature packets only.
pub fn armor_signature(signature: &[u8]) -> Result<String, OpenPgpError> {
    let bad = |e: openpgp::anyhow::Error| bad_signature(text(&e));
    let pile = openpgp::PacketPile::from_bytes(signature).map_err(bad)?;
    if pile
        .children()
        .any(|p| !matches!(p, openpgp::Packet::Signature(_)))
    {
        return Err(bad_signature("not a detached signature".into()));
    }
    let mut out = Vec::new();
    {
        let mut writer = openpgp::armor::Writer::new(&mut out, openpgp::armor::Kind::Signature)
            .map_err(|e| bad_signature(e.to_string()))?;
        for packet in pile.children() {
            openpgp::serialize::Serialize::serialize(packet, &mut writer).map_err(bad)?;
        }
        writer
            .finalize()
            .map_err(|e| bad_signature(e.to_string()))?;
    }
    String::from_utf8(out).map_err(|e| bad_signature(e.to_string()))
}

/// Whether `signature` (armored or binary) holds exactly one packet, and that packet is a
/// signature: what a file that carries one signature must hold, and no more.
pub fn is_single_signature(signature: &[u8]) -> bool {
    openpgp::PacketPile::from_bytes(signature).is_ok_and(|pile| {
        let mut packets = pile.children();
        matches!(
            (packets.next(), packets.next()),
            (Some(openpgp::Packet::Signature(_)), None)
        )
    })
}

/// Checks a cleartext-signed message (as made by [`AuditKey::sign_cleartext`] or
/// `gpg --clearsign`) as of `at`, on the terms of [`verify_detached`]: every signature good,
/// made by `key`, not dated after `at`. Returns the signed text, and only that: whatever
/// surrounds the armor is not signed and is dropped. Refused: anything but a cleartext
/// message (an inline-signed or a detached signature included), a message without signature,
/// and one longer than [`MAX_CLEARTEXT_MESSAGE`].
pub fn verify_cleartext(
    key: &PublicKey,
    signed: &[u8],
    at: OffsetDateTime,
) -> Result<(String, Verified), OpenPgpError> {
    if signed.len() > MAX_CLEARTEXT_MESSAGE {
        return Err(OpenPgpError::TooLarge {
            size: signed.len(),
            limit: MAX_CLEARTEXT_MESSAGE,
        });
    }
    // sequoia's verifier takes inline-signed messages too; what is published in clear must be
    // readable without it, so nothing else is taken for one.
    if !signed.trim_ascii_start().starts_with(CLEARTEXT_HEADER) {
        return Err(OpenPgpError::BadSignature(
            "not a cleartext-signed message".into(),
        ));
    }
    let bad = |e: openpgp::anyhow::Error| bad_signature(text(&e));
    let policy = StandardPolicy::new();
    let helper = Helper {
        cert: &key.cert,
        verified: None,
    };
    // The message fits in the verifier's buffer (its default is megabytes): the signatures
    // are checked before the first byte of text is read out, so a refused message yields no
    // text at all.
    let mut verifier = VerifierBuilder::from_bytes(signed)
        .map_err(bad)?
        .with_policy(&policy, Some(SystemTime::from(at)), helper)
        .map_err(bad)?;
    let mut content = Vec::new();
    verifier
        .read_to_end(&mut content)
        .map_err(|e| bad_signature(e.to_string()))?;
    let verified = verifier
        .into_helper()
        .verified
        .ok_or_else(|| OpenPgpError::BadSignature("no signature".into()))?;
    let content = String::from_utf8(content)
        .map_err(|_| OpenPgpError::BadSignature("the signed text is not UTF-8".into()))?;
    Ok((content, verified))
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
                "not a single group of signatures".into(),
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
    fn one_signature_is_one_packet() {
        let key = AuditKey::generate("relais audit test", CREATED).unwrap();
        let one = key.sign_detached(b"tree head", SIGNED).unwrap();
        assert!(is_single_signature(one.as_bytes()));
        // Two good signatures in one armor block: each verifies, together they are not one.
        let binary = |armored: &str| {
            openpgp::PacketPile::from_bytes(armored.as_bytes())
                .unwrap()
                .to_vec()
                .unwrap()
        };
        let mut both = binary(&one);
        both.extend(binary(&key.sign_detached(b"tree head", SIGNED).unwrap()));
        verify_detached(&key.public_key(), b"tree head", &both, NOW).unwrap();
        assert!(!is_single_signature(&both));
        assert!(!is_single_signature(b""));
        assert!(!is_single_signature(
            key.public_armored().unwrap().as_bytes()
        ));
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

    const BADGE: &str = "Prestataire référencé / Referenced provider\n\
        - Exemple SAS (organisation--0b6f1c9e)\n\
        -----BEGIN PGP SIGNATURE----- is only text here\n\
        valid until 2027-01-01";

    #[test]
    fn cleartext_round_trip() {
        let key = AuditKey::generate("relais audit test", CREATED).unwrap();
        let signed = key.sign_cleartext(BADGE, SIGNED).unwrap();
        assert!(signed.starts_with("-----BEGIN PGP SIGNED MESSAGE-----\n"));
        assert!(signed.contains("\n-----BEGIN PGP SIGNATURE-----\n"));
        assert!(signed.trim_end().ends_with("-----END PGP SIGNATURE-----"));
        // Readable as it is, lines that begin with a dash escaped.
        assert!(signed.contains("Prestataire référencé / Referenced provider\n"));
        assert!(signed.contains("\n- - Exemple SAS"));
        assert!(signed.contains("\n- -----BEGIN PGP SIGNATURE----- is only text here\n"));
        let (text, verified) = verify_cleartext(&key.public_key(), signed.as_bytes(), NOW).unwrap();
        assert_eq!(text, BADGE);
        assert_eq!(verified.fingerprint, key.fingerprint());
        assert_eq!(verified.signed_at, SIGNED);
        // Not before it was made.
        assert!(
            verify_cleartext(
                &key.public_key(),
                signed.as_bytes(),
                datetime!(2026-01-15 00:00:00 UTC)
            )
            .is_err()
        );
    }

    #[test]
    fn cleartext_signs_lines_not_bytes() {
        let key = AuditKey::generate("relais audit test", CREATED).unwrap();
        let signed = key.sign_cleartext("a  \nb\t\nc\n", SIGNED).unwrap();
        let (text, _) = verify_cleartext(&key.public_key(), signed.as_bytes(), NOW).unwrap();
        assert_eq!(text, "a\nb\nc\n");
        // Line ends converted to CRLF in transit still verify: CRLF is what was signed.
        let crlf = signed.replace('\n', "\r\n");
        verify_cleartext(&key.public_key(), crlf.as_bytes(), NOW).unwrap();
        let signed = key.sign_cleartext("", SIGNED).unwrap();
        let (text, _) = verify_cleartext(&key.public_key(), signed.as_bytes(), NOW).unwrap();
        assert_eq!(text, "");
    }

    #[test]
    fn a_modified_cleartext_is_refused() {
        let key = AuditKey::generate("relais audit test", CREATED).unwrap();
        let signed = key.sign_cleartext(BADGE, SIGNED).unwrap();
        for (from, to) in [
            ("2027-01-01", "2029-01-01"),
            ("Exemple SAS", "Exemple SA"),
            (
                "Referenced provider\n",
                "Referenced provider\nand auditor\n",
            ),
        ] {
            assert!(signed.contains(from));
            let modified = signed.replacen(from, to, 1);
            assert!(
                matches!(
                    verify_cleartext(&key.public_key(), modified.as_bytes(), NOW),
                    Err(OpenPgpError::BadSignature(_))
                ),
                "{to}"
            );
        }
        // Text around the armor is not signed, and is not returned as if it were.
        let wrapped = format!("{signed}\nAlso referenced for containment.\n");
        let (text, _) = verify_cleartext(&key.public_key(), wrapped.as_bytes(), NOW).unwrap();
        assert_eq!(text, BADGE);
    }

    #[test]
    fn a_cleartext_signed_by_another_key_is_refused() {
        let key = AuditKey::generate("relais audit test", CREATED).unwrap();
        let other = AuditKey::generate("relais audit test", CREATED).unwrap();
        let signed = other.sign_cleartext(BADGE, SIGNED).unwrap();
        assert!(matches!(
            verify_cleartext(&key.public_key(), signed.as_bytes(), NOW),
            Err(OpenPgpError::BadSignature(_))
        ));
        verify_cleartext(&other.public_key(), signed.as_bytes(), NOW).unwrap();
    }

    #[test]
    fn only_a_signed_cleartext_message_is_taken() {
        let key = AuditKey::generate("relais audit test", CREATED).unwrap();
        let public = key.public_key();
        let refused = |input: &[u8]| {
            matches!(
                verify_cleartext(&public, input, NOW),
                Err(OpenPgpError::BadSignature(_))
            )
        };
        // A detached signature, alone or after the text it signs.
        let detached = key.sign_detached(BADGE.as_bytes(), SIGNED).unwrap();
        assert!(refused(detached.as_bytes()));
        assert!(refused(format!("{BADGE}\n{detached}").as_bytes()));
        // The cleartext framing with the signature taken out, or emptied.
        let signed = key.sign_cleartext(BADGE, SIGNED).unwrap();
        let (head, _) = signed.split_once("-----BEGIN PGP SIGNATURE-----").unwrap();
        assert!(refused(head.as_bytes()));
        let empty = format!("{head}-----BEGIN PGP SIGNATURE-----\n\n-----END PGP SIGNATURE-----\n");
        assert!(refused(empty.as_bytes()));
        // An inline-signed message by the right key: good, but not cleartext.
        let mut inline = Vec::new();
        {
            let message = Message::new(&mut inline);
            let message = Armorer::new(message).build().unwrap();
            let keypair = key.signing_keypair(None).unwrap();
            let signer = Signer::new(message, keypair).unwrap().build().unwrap();
            let mut literal = openpgp::serialize::stream::LiteralWriter::new(signer)
                .build()
                .unwrap();
            literal.write_all(BADGE.as_bytes()).unwrap();
            literal.finalize().unwrap();
        }
        assert!(refused(&inline));
        assert!(refused(b""));
        assert!(refused(b"-----BEGIN PGP SIGNED MESSAGE-----\n"));
        assert!(refused(BADGE.as_bytes()));
        assert!(refused(public.to_armored().unwrap().as_bytes()));
    }

    #[test]
    fn cleartext_size_is_bounded() {
        let key = AuditKey::generate("relais audit test", CREATED).unwrap();
        let big = "x".repeat(MAX_CLEARTEXT_MESSAGE + 1);
        assert_eq!(
            verify_cleartext(&key.public_key(), big.as_bytes(), NOW),
            Err(OpenPgpError::TooLarge {
                size: MAX_CLEARTEXT_MESSAGE + 1,
                limit: MAX_CLEARTEXT_MESSAGE
            })
        );
        // What would be refused is not signed either; what fits, round-trips.
        assert!(matches!(
            key.sign_cleartext(&"y".repeat(MAX_CLEARTEXT_MESSAGE), SIGNED),
            Err(OpenPgpError::TooLarge { .. })
        ));
        let fits = "z".repeat(MAX_CLEARTEXT_MESSAGE - 1024);
        let signed = key.sign_cleartext(&fits, SIGNED).unwrap();
        let (text, _) = verify_cleartext(&key.public_key(), signed.as_bytes(), NOW).unwrap();
        assert_eq!(text, fits);
    }

    /// GnuPG, the verifier most recipients of a badge will use, must accept it.
    #[test]
    fn gnupg_verifies_a_cleartext_signature() {
        use std::process::Command;
        if Command::new("gpg").arg("--version").output().is_err() {
            println!("NOT RUN: gpg missing");
            return;
        }
        // Times in the past of any real clock: gpg checks them against its own.
        let created = datetime!(2020-01-01 00:00:00 UTC);
        let signed_at = datetime!(2020-02-01 12:00:00 UTC);
        let key = AuditKey::generate("relais audit test <audit@relais.test>", created).unwrap();
        let signed = key.sign_cleartext(BADGE, signed_at).unwrap();
        let home = tempfile::tempdir().unwrap();
        let public = home.path().join("key.asc");
        let message = home.path().join("badge.asc");
        std::fs::write(&public, key.public_armored().unwrap()).unwrap();
        std::fs::write(&message, &signed).unwrap();
        let gpg = |args: &[&std::ffi::OsStr]| {
            let out = Command::new("gpg")
                .env("GNUPGHOME", home.path())
                .args(["--batch", "--no-tty", "--status-fd", "1"])
                .args(args)
                .output()
                .unwrap();
            (
                out.status.success(),
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ),
            )
        };
        let (ok, log) = gpg(&["--import".as_ref(), public.as_os_str()]);
        assert!(ok, "{log}");
        let (ok, log) = gpg(&["--verify".as_ref(), message.as_os_str()]);
        assert!(ok, "{log}");
        assert!(
            log.contains(&format!("[GNUPG:] VALIDSIG {}", key.fingerprint())),
            "{log}"
        );
        // And refuses it once changed.
        std::fs::write(&message, signed.replace("2027", "2029")).unwrap();
        let (ok, log) = gpg(&["--verify".as_ref(), message.as_os_str()]);
        assert!(!ok, "{log}");
        assert!(log.contains("[GNUPG:] BADSIG"), "{log}");

        // The other way: a message clear-signed by GnuPG with the same key verifies here. gpg
        // signs at its own idea of now, so it is told one.
        let secret = home.path().join("secret.asc");
        std::fs::write(&secret, key.to_armored_secret().unwrap()).unwrap();
        let (ok, log) = gpg(&["--import".as_ref(), secret.as_os_str()]);
        assert!(ok, "{log}");
        let by_gpg = home.path().join("by-gpg.asc");
        std::fs::write(home.path().join("badge.txt"), BADGE).unwrap();
        let (ok, log) = gpg(&[
            "--faked-system-time".as_ref(),
            "20200301T000000!".as_ref(),
            "--local-user".as_ref(),
            key.fingerprint().as_ref(),
            "--output".as_ref(),
            by_gpg.as_os_str(),
            "--clearsign".as_ref(),
            home.path().join("badge.txt").as_os_str(),
        ]);
        // The agent gpg started for the secret key lives in the temporary home: stop it.
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", home.path())
            .args(["--kill", "all"])
            .output();
        assert!(ok, "{log}");
        let by_gpg = std::fs::read(&by_gpg).unwrap();
        let (text, verified) = verify_cleartext(
            &key.public_key(),
            &by_gpg,
            datetime!(2020-03-02 00:00:00 UTC),
        )
        .unwrap();
        assert_eq!(text, BADGE);
        assert_eq!(verified.signed_at, datetime!(2020-03-01 00:00:00 UTC));
    }
}
