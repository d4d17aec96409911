//! Resolving the principal behind a verified client certificate, on every request, and
//! recording the requests refused.

use time::OffsetDateTime;

use super::{Failure, Services};
use crate::domain::access::{self, Refusal, RegistryRecord};
use crate::domain::audit::record::Acting;
use crate::domain::principal::SpkiFingerprint;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("refused: {0}")]
    Refused(Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Services {
    /// Looks the public key up in the registry and applies the access rules. Nothing is
    /// cached: a revocation or suspension written by another process or instance applies to
    /// the next request.
    pub async fn caller(
        &self,
        fingerprint: &SpkiFingerprint,
        now: OffsetDateTime,
    ) -> Result<RegistryRecord, IdentityError> {
        let record = self.store().registry_record(fingerprint).await?;
        access::authorise(record.as_ref(), now).map_err(IdentityError::Refused)?;
        record.ok_or(IdentityError::Refused(Refusal::UnboundCertificate))
    }

    /// Records a refused request in the audit log: who (the certificate's key and, if the
    /// registry knows it, its principal), what, and why, with the rule that refused a known
    /// key in place of what the client was told.
    pub async fn record_denial(
        &self,
        fingerprint: Option<&SpkiFingerprint>,
        what: String,
        told: String,
        now: OffsetDateTime,
    ) -> Result<(), Failure> {
        let mut why = told;
        let acting = match fingerprint {
            None => Acting::unregistered("", "", now),
            Some(fp) => match self.store().registry_record(fp).await? {
                Some(record) => {
                    if let Err(refusal) = access::authorise(Some(&record), now) {
                        why = refusal.to_string();
                    }
                    Acting::by(&record, now)
                }
                None => {
                    why = Refusal::UnboundCertificate.to_string();
                    Acting::unregistered("", &fp.to_hex(), now)
                }
            },
        };
        let record = acting.record("request.denied").objects([what]).denied(why);
        self.store().append_audit(&record).await?;
        Ok(())
    }
}
