//! Resolving the principal behind a verified client certificate, on every request.

use crate::clock::Clock;
use crate::domain::access::{self, Refusal, RegistryRecord};
use crate::domain::principal::SpkiFingerprint;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("refused: {0}")]
    Refused(Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Looks the public key up in the registry and applies the access rules. Nothing is cached:
/// a revocation or suspension written by another process or instance applies to the next
/// request.
pub async fn resolve(
    store: &dyn Store,
    clock: &dyn Clock,
    fingerprint: &SpkiFingerprint,
) -> Result<RegistryRecord, IdentityError> {
    let record = store.registry_record(fingerprint).await?;
    access::authorise(record.as_ref(), clock.now()).map_err(IdentityError::Refused)?;
    record.ok_or(IdentityError::Refused(Refusal::UnboundCertificate))
}
