//! Hub-wide secrets, generated on first use and shared by every instance through the store.

use ring::rand::SecureRandom;
use time::OffsetDateTime;

use crate::crypto::openpgp::{AuditKey, OpenPgpError};
use crate::domain::audit::record::AuditRecord;
use crate::store::{Store, StoreError};

/// Key of the MAC that binds pagination cursors to their principal and query.
pub const CURSOR_KEY: &str = "taxii-cursor-hmac";
/// The HMAC key of the anonymiser's pseudonyms: stable for the hub's life, so that the CSIRT
/// correlates the same value across submissions; different between hubs.
pub const PSEUDONYM_KEY: &str = "anonymiser-pseudonym-hmac";
/// The OpenPGP key that signs the audit log's checkpoints (armored secret key): a key of its
/// own, so that the TLS key's compromise or rotation leaves past checkpoints verifiable.
pub const AUDIT_KEY: &str = "audit-openpgp-key";

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the system random number generator failed")]
    Random,
    #[error("audit signing key: {0}")]
    AuditKey(#[from] OpenPgpError),
}

/// The named 32-byte secret, created if this is the first instance to ask.
pub async fn ensure(
    store: &dyn Store,
    name: &str,
    now: OffsetDateTime,
) -> Result<Vec<u8>, SecretError> {
    if let Some(value) = store.hub_secret(name).await? {
        return Ok(value);
    }
    let mut value = vec![0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut value)
        .map_err(|_| SecretError::Random)?;
    let audit = AuditRecord::hub("hub_secret.create", now).objects([name]);
    match store.insert_hub_secret(name, &value, now, &audit).await {
        Ok(()) => Ok(value),
        // Another instance won the race: use its secret.
        Err(StoreError::Conflict(_)) => Ok(store
            .hub_secret(name)
            .await?
            .ok_or(StoreError::NotFound("hub secret"))?),
        Err(e) => Err(e.into()),
    }
}

/// The hub's audit signing key, generated (Ed25519) by the first instance that needs it.
pub async fn ensure_audit_key(
    store: &dyn Store,
    user_id: &str,
    now: OffsetDateTime,
) -> Result<AuditKey, SecretError> {
    if let Some(armored) = store.hub_secret(AUDIT_KEY).await? {
        return Ok(AuditKey::from_armored_secret(&armored)?);
    }
    let key = AuditKey::generate(user_id, now)?;
    let armored = key.to_armored_secret()?;
    let audit = AuditRecord::hub("hub_secret.create", now).objects([
        AUDIT_KEY.to_owned(),
        format!("openpgp:{}", key.fingerprint()),
    ]);
    match store
        .insert_hub_secret(AUDIT_KEY, armored.as_bytes(), now, &audit)
        .await
    {
        Ok(()) => Ok(key),
        Err(StoreError::Conflict(_)) => {
            let armored = store
                .hub_secret(AUDIT_KEY)
                .await?
                .ok_or(StoreError::NotFound("hub secret"))?;
            Ok(AuditKey::from_armored_secret(&armored)?)
        }
        Err(e) => Err(e.into()),
    }
}
