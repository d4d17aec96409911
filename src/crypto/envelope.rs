//! OpenPGP messages for named recipients (RFC 9580): a case's handoff package, encrypted to
//! the chosen provider's registered key and to the CSIRT's own, signed by the hub inside the
//! encryption so that only a recipient learns who signed. Readable with GnuPG as with sequoia.

use std::io::{Read as _, Write as _};
use std::time::SystemTime;

use sequoia_openpgp as openpgp;

use openpgp::KeyHandle;
use openpgp::cert::Cert;
use openpgp::crypto::SessionKey;
use openpgp::packet::{PKESK, SKESK};
use openpgp::parse::Parse;
use openpgp::parse::stream::{
    DecryptionHelper, DecryptorBuilder, MessageLayer, MessageStructure, VerificationHelper,
};
use openpgp::policy::StandardPolicy;
use openpgp::serialize::stream::{Armorer, Encryptor, LiteralWriter, Message, Signer};
use openpgp::types::{RevocationStatus, SymmetricAlgorithm};
use time::OffsetDateTime;

use super::openpgp::{AuditKey, OpenPgpError, PublicKey};

/// The largest message [`decrypt_and_verify`] reads.
pub const MAX_MESSAGE: usize = 16 * 1024 * 1024;

fn text(e: &openpgp::anyhow::Error) -> String {
    format!("{e:#}")
}

/// The encryption-capable (sub)keys of `cert` as of `when`, if the certificate itself is
/// valid then: a revoked or expired certificate receives nothing, whatever its subkeys say.
fn encryption_keys<'a>(
    cert: &'a Cert,
    policy: &'a StandardPolicy<'a>,
    when: SystemTime,
) -> Vec<openpgp::cert::prelude::ValidErasedKeyAmalgamation<'a, openpgp::packet::key::PublicParts>>
{
    let Ok(valid) = cert.with_policy(policy, Some(when)) else {
        return Vec::new();
    };
    if matches!(valid.revocation_status(), RevocationStatus::Revoked(_)) || valid.alive().is_err() {
        return Vec::new();
    }
    valid
        .keys()
        .supported()
        .alive()
        .revoked(false)
        .for_transport_encryption()
        .for_storage_encryption()
        .collect()
}

/// Whether `key` has a valid, unexpired, unrevoked encryption-capable (sub)key as of `at`, on
/// a certificate that is itself valid, unexpired and unrevoked.
pub fn can_receive(key: &PublicKey, at: OffsetDateTime) -> bool {
    let policy = StandardPolicy::new();
    !encryption_keys(key.cert(), &policy, SystemTime::from(at)).is_empty()
}

/// `data` encrypted to every key of `recipients` and signed by `signer`, armored
/// (`-----BEGIN PGP MESSAGE-----`), dated `at`. A recipient without an encryption key is an
/// error, never a silent omission.
pub fn encrypt_and_sign(
    recipients: &[&PublicKey],
    signer: &AuditKey,
    data: &[u8],
    at: OffsetDateTime,
) -> Result<String, OpenPgpError> {
    let policy = StandardPolicy::new();
    let when = SystemTime::from(at);
    let mut keys = Vec::new();
    for r in recipients {
        let found = encryption_keys(r.cert(), &policy, when);
        if found.is_empty() {
            return Err(OpenPgpError::Certificate(format!(
                "{} has no key that can receive an encrypted message",
                r.fingerprint()
            )));
        }
        keys.extend(found);
    }
    let keypair = signer.signing_keypair(Some(when))?;
    let fail = |e: openpgp::anyhow::Error| OpenPgpError::Sign(text(&e));
    let mut out = Vec::new();
    let message = Message::new(&mut out);
    let message = Armorer::new(message).build().map_err(fail)?;
    let message = Encryptor::for_recipients(message, keys)
        .build()
        .map_err(fail)?;
    let message = Signer::new(message, keypair)
        .map_err(fail)?
        .creation_time(when)
        .build()
        .map_err(fail)?;
    let mut literal = LiteralWriter::new(message).build().map_err(fail)?;
    literal
        .write_all(data)
        .map_err(|e| OpenPgpError::Sign(e.to_string()))?;
    literal.finalize().map_err(fail)?;
    String::from_utf8(out).map_err(|e| OpenPgpError::Sign(e.to_string()))
}

struct Helper<'a> {
    secret: &'a Cert,
    signer: &'a Cert,
    /// Keys are judged as of this time, not the system clock's: a key made on a hub whose
    /// clock runs ahead is valid from its own creation.
    at: SystemTime,
    signed: bool,
}

impl VerificationHelper for Helper<'_> {
    fn get_certs(&mut self, _ids: &[KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        Ok(vec![self.signer.clone()])
    }

    fn check(&mut self, structure: MessageStructure) -> openpgp::Result<()> {
        for layer in structure {
            if let MessageLayer::SignatureGroup { results } = layer {
                if results.is_empty() {
                    return Err(openpgp::Error::BadSignature("no signature".into()).into());
                }
                for result in results {
                    result.map_err(|e| openpgp::Error::BadSignature(e.to_string()))?;
                }
                self.signed = true;
            }
        }
        if self.signed {
            Ok(())
        } else {
            Err(openpgp::Error::BadSignature("the message is not signed".into()).into())
        }
    }
}

impl DecryptionHelper for Helper<'_> {
    fn decrypt(
        &mut self,
        pkesks: &[PKESK],
        _skesks: &[SKESK],
        sym_algo: Option<SymmetricAlgorithm>,
        decrypt: &mut dyn FnMut(Option<SymmetricAlgorithm>, &SessionKey) -> bool,
    ) -> openpgp::Result<Option<Cert>> {
        let policy = StandardPolicy::new();
        for key in self
            .secret
            .keys()
            .unencrypted_secret()
            .with_policy(&policy, Some(self.at))
            .supported()
            .for_transport_encryption()
            .for_storage_encryption()
        {
            let mut pair = key.key().clone().into_keypair()?;
            for pkesk in pkesks {
                if pkesk
                    .decrypt(&mut pair, sym_algo)
                    .is_some_and(|(algo, session_key)| decrypt(algo, &session_key))
                {
                    return Ok(Some(self.secret.clone()));
                }
            }
        }
        Err(openpgp::Error::MissingSessionKey("not encrypted to this key".into()).into())
    }
}

/// The content of a message made by [`encrypt_and_sign`], if `secret` is one of its
/// recipients and `signer` signed it (as of `at`).
pub fn decrypt_and_verify(
    secret: &AuditKey,
    signer: &PublicKey,
    message: &[u8],
    at: OffsetDateTime,
) -> Result<Vec<u8>, OpenPgpError> {
    if message.len() > MAX_MESSAGE {
        return Err(OpenPgpError::TooLarge {
            size: message.len(),
            limit: MAX_MESSAGE,
        });
    }
    let bad = |e: openpgp::anyhow::Error| OpenPgpError::BadSignature(text(&e));
    let policy = StandardPolicy::new();
    let helper = Helper {
        secret: secret.cert(),
        signer: signer.cert(),
        at: SystemTime::from(at),
        signed: false,
    };
    let mut decryptor = DecryptorBuilder::from_bytes(message)
        .map_err(bad)?
        .with_policy(&policy, Some(SystemTime::from(at)), helper)
        .map_err(bad)?;
    let mut content = Vec::new();
    decryptor
        .read_to_end(&mut content)
        .map_err(|e| OpenPgpError::BadSignature(e.to_string()))?;
    if !decryptor.into_helper().signed {
        return Err(OpenPgpError::BadSignature(
            "the message is not signed".into(),
        ));
    }
    Ok(content)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const CREATED: OffsetDateTime = datetime!(2026-01-01 00:00:00 UTC);
    const AT: OffsetDateTime = datetime!(2026-06-01 00:00:00 UTC);

    #[test]
    fn every_recipient_reads_it_and_no_one_else() {
        let hub = AuditKey::generate("hub", CREATED).unwrap();
        let provider = AuditKey::generate_with_encryption("provider", CREATED).unwrap();
        let csirt = AuditKey::generate_with_encryption("csirt", CREATED).unwrap();
        let other = AuditKey::generate_with_encryption("other", CREATED).unwrap();
        assert!(can_receive(&provider.public_key(), AT));
        assert!(!can_receive(&hub.public_key(), AT));
        let armored = encrypt_and_sign(
            &[&provider.public_key(), &csirt.public_key()],
            &hub,
            b"{\"case\":1}",
            AT,
        )
        .unwrap();
        assert!(armored.starts_with("-----BEGIN PGP MESSAGE-----"));
        for reader in [&provider, &csirt] {
            let plain =
                decrypt_and_verify(reader, &hub.public_key(), armored.as_bytes(), AT).unwrap();
            assert_eq!(plain, b"{\"case\":1}");
        }
        assert!(decrypt_and_verify(&other, &hub.public_key(), armored.as_bytes(), AT).is_err());
        // Signed by the hub, not by anyone else.
        assert!(
            decrypt_and_verify(&provider, &other.public_key(), armored.as_bytes(), AT).is_err()
        );
    }

    #[test]
    fn a_revoked_certificate_receives_nothing() {
        use openpgp::serialize::SerializeInto as _;
        use openpgp::types::ReasonForRevocation;
        let provider = AuditKey::generate_with_encryption("provider", CREATED).unwrap();
        let mut signer = provider
            .signing_keypair(Some(SystemTime::from(CREATED)))
            .unwrap();
        let revocation = provider
            .cert()
            .revoke(&mut signer, ReasonForRevocation::KeyCompromised, b"leaked")
            .unwrap();
        let (revoked, _) = provider
            .cert()
            .clone()
            .insert_packets(Some(revocation))
            .unwrap();
        let revoked = PublicKey::from_bytes(&revoked.armored().to_vec().unwrap()).unwrap();
        // Its encryption subkey alone is still valid; the certificate is not.
        assert!(can_receive(&provider.public_key(), AT));
        assert!(!can_receive(&revoked, AT));
        let hub = AuditKey::generate("hub", CREATED).unwrap();
        assert!(encrypt_and_sign(&[&revoked], &hub, b"x", AT).is_err());
    }

    #[test]
    fn a_recipient_that_cannot_receive_is_an_error() {
        let hub = AuditKey::generate("hub", CREATED).unwrap();
        assert!(encrypt_and_sign(&[&hub.public_key()], &hub, b"x", AT).is_err());
    }
}
