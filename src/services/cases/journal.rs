//! The case journal (main courante, Convention art. 4), written by the CSIRT and the provider
//! the case is handed to, read by them only; exported as JSON and as text the hub signs in
//! clear, which the beneficiary keeps and checks with GnuPG.

use serde::Serialize;
use time::OffsetDateTime;

use super::{CaseError, Cases};
use crate::domain::access::RegistryRecord;
use crate::domain::audit::reads::{Material, on_record};
use crate::domain::audit::record::AuditRecord;
use crate::domain::cases::access::disclose_journal;
use crate::domain::cases::journal::{Author, Entry, NewEntry, append, render_text, verify};
use crate::domain::cases::lifecycle::{CaseStatus, may_write_journal};
use crate::domain::principal::PrincipalKind;

/// The largest signed journal export: far beyond a real case's journal, and what GnuPG reads
/// without trouble.
pub const MAX_SIGNED_EXPORT: usize = 8 * 1024 * 1024;

/// The journal as JSON: every entry with its hash chain, and whether the chain holds.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JournalExport {
    pub case_id: String,
    pub reference: String,
    pub entries: Vec<Entry>,
    /// The last entry's hash (all zeros for an empty journal).
    pub head: String,
    /// The chain verified when it was read.
    pub verified: bool,
}

impl Cases<'_> {
    pub async fn append_journal(
        &self,
        caller: &RegistryRecord,
        id: &str,
        new: NewEntry,
        now: OffsetDateTime,
    ) -> Result<Entry, CaseError> {
        let file = self.disclosed(caller, id).await?.into_inner();
        may_write_journal(file.status)?;
        if caller.principal.kind == PrincipalKind::Provider && file.status != CaseStatus::InProgress
        {
            return Err(CaseError::NotNow(
                "the journal opens to the provider once it accepts the handoff".into(),
            ));
        }
        let head = self.store.journal(&file.case.id).await?.pop();
        let entry = append(
            &file.case.id,
            head.as_ref(),
            &Author {
                principal: caller.principal.id.as_str(),
                name: &caller.principal.name,
                organisation: &caller.organisation.name,
            },
            new,
            now,
        )?;
        let audit = AuditRecord::by(caller, "case.journal", now)
            .objects([
                file.case.id.clone(),
                format!("entry:{}", entry.number),
                format!("sha256:{}", entry.hash),
            ])
            .reason(entry.kind.as_str());
        match self
            .store
            .append_journal(&entry, file.revision, &audit)
            .await
        {
            Err(crate::store::StoreError::Conflict(_)) => Err(CaseError::NotNow(
                "the case or its journal changed meanwhile: read it and send again".into(),
            )),
            other => other.map(|()| entry).map_err(CaseError::from),
        }
    }

    pub async fn journal(
        &self,
        caller: &RegistryRecord,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<JournalExport, CaseError> {
        Ok(self.journal_of(caller, id, now).await?.1)
    }

    /// The journal with the beneficiary's name, for the signed text.
    async fn journal_of(
        &self,
        caller: &RegistryRecord,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<(String, JournalExport), CaseError> {
        let file = self.disclosed(caller, id).await?.into_inner();
        let entries = self.store.journal(&file.case.id).await?;
        let entries = disclose_journal(caller, &file, entries)
            .ok_or(CaseError::NotFound)?
            .into_inner();
        if on_record(Material::Case) {
            self.store
                .append_audit(
                    &AuditRecord::by(caller, "case.journal_read", now)
                        .objects([file.case.id.as_str()]),
                )
                .await?;
        }
        let verified = verify(&entries).is_ok();
        if !verified {
            tracing::error!(case = %file.case.id, "the case journal's hash chain is broken");
        }
        Ok((
            file.case.beneficiary,
            JournalExport {
                head: entries.last().map_or_else(
                    || crate::domain::cases::journal::GENESIS.to_owned(),
                    |e| e.hash.clone(),
                ),
                case_id: file.case.id,
                reference: file.case.reference,
                entries,
                verified,
            },
        ))
    }

    /// The journal as text, signed in clear by the hub.
    pub async fn journal_signed(
        &self,
        caller: &RegistryRecord,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<String, CaseError> {
        let (beneficiary, export) = self.journal_of(caller, id, now).await?;
        if !export.verified {
            return Err(CaseError::NotNow(
                "the journal's hash chain is broken: the hub signs no copy of it".into(),
            ));
        }
        let text = render_text(
            &export.reference,
            &beneficiary,
            self.csirt,
            &export.entries,
            now,
        );
        self.hub_key
            .sign_cleartext_within(&text, now, MAX_SIGNED_EXPORT)
            .map_err(|e| CaseError::Package(e.to_string()))
    }
}
