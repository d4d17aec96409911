//! Hub-wide secrets, generated on first use and shared by every instance through the store.

use ring::rand::SecureRandom;
use time::OffsetDateTime;

use crate::store::{Store, StoreError};

/// Key of the MAC that binds pagination cursors to their principal and query.
pub const CURSOR_KEY: &str = "taxii-cursor-hmac";
/// The HMAC key of the anonymiser's pseudonyms: stable for the hub's life, so that the CSIRT
/// correlates the same value across submissions; different between hubs.
pub const PSEUDONYM_KEY: &str = "anonymiser-pseudonym-hmac";

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the system random number generator failed")]
    Random,
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
    match store.insert_hub_secret(name, &value, now).await {
        Ok(()) => Ok(value),
        // Another instance won the race: use its secret.
        Err(StoreError::Conflict(_)) => Ok(store
            .hub_secret(name)
            .await?
            .ok_or(StoreError::NotFound("hub secret"))?),
        Err(e) => Err(e.into()),
    }
}
