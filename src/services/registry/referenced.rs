//! Who is referenced: the public directory and the shortlist of a case.

use time::OffsetDateTime;

use super::{Csirt, Registry, RegistryError};
use crate::domain::registry::directory::{self, DirectoryEntry};
use crate::store::registry::ProviderRecord;

impl Registry<'_> {
    /// Providers a victim may be handed to: referenced ones only.
    /// The CSIRT only: the caller's type is the check.
    pub async fn shortlist(
        &self,
        _by: impl Into<Csirt<'_>>,
    ) -> Result<Vec<ProviderRecord>, RegistryError> {
        Ok(self
            .store
            .providers()
            .await?
            .into_iter()
            .filter(|r| r.referencing.is_referenced())
            .collect())
    }

    /// The public directory.
    pub async fn directory(
        &self,
        now: OffsetDateTime,
    ) -> Result<Vec<DirectoryEntry>, RegistryError> {
        Ok(self
            .store
            .providers()
            .await?
            .iter()
            .filter_map(|r| {
                directory::entry(&r.organisation.name, &r.file, &r.referencing, now.date())
            })
            .collect())
    }
}
