//! The beneficiary's choice (Convention art. 6.3, 9): recorded by an analyst with the channel
//! it came through, or made by the beneficiary on the hub's page through a single-use link.
//! Either way the provider must be on the case's current shortlist, and the choice hands the
//! case off at once: the package is built, encrypted and stored with the choice.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{CaseError, Cases};
use crate::crypto::envelope::encrypt_and_sign;
use crate::crypto::openpgp::PublicKey;
use crate::crypto::sha256_hex;
use crate::crypto::tokens::{ChoiceClaims, TokenError, issue_choice_token, verify_choice_token};
use crate::domain::access::Analyst;
use crate::domain::audit::record::{Acting, AuditRecord};
use crate::domain::cases::CaseFile;
use crate::domain::cases::access::disclose_handoff;
use crate::domain::cases::handoff::{
    ChoiceChannel, Handoff, HandoffStatus, PackageInput, package_document,
};
use crate::domain::cases::lifecycle::{CaseStatus, may_choose};
use crate::domain::principal::OrganisationId;
use crate::domain::registry::calendar::local;
use crate::domain::registry::directory::{DirectoryEntry, entry};
use crate::store::cases::{CaseWrite, ChoiceLink, StoredShortlist};

use super::handoffs::HandoffView;

/// The choice as the analyst records it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChoiceRequest {
    /// The chosen provider's organisation id, from the current shortlist.
    pub provider: String,
    /// `phone`, `email` or `in_person`.
    #[schema(value_type = String)]
    pub channel: ChoiceChannel,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChoiceLinkIssued {
    /// The single-use token; the page is `/choose?token=…` on the public listener.
    pub token: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// One provider of the shortlist as the beneficiary sees it: the directory's public fields.
#[derive(Debug, Serialize)]
pub struct ChoiceOption {
    pub provider: String,
    pub entry: DirectoryEntry,
}

/// What the beneficiary's page shows: no victim data, only the providers to choose from.
#[derive(Debug, Serialize)]
pub struct ChoicePage {
    pub options: Vec<ChoiceOption>,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

fn link_error(e: TokenError) -> CaseError {
    match e {
        TokenError::Expired => CaseError::ExpiredLink,
        _ => CaseError::BadLink,
    }
}

impl Cases<'_> {
    /// Records the beneficiary's choice as an analyst heard it.
    pub async fn choose(
        &self,
        caller: &Analyst,
        id: &str,
        request: ChoiceRequest,
        now: OffsetDateTime,
    ) -> Result<HandoffView, CaseError> {
        if request.channel == ChoiceChannel::Link {
            return Err(CaseError::Invalid(
                "channel: phone, email or in_person; a choice by link is the beneficiary's own"
                    .into(),
            ));
        }
        let file = self.disclosed(caller, id).await?.into_inner();
        let acting = Acting::by(caller, now);
        let handoff = self
            .hand_off(
                file,
                &OrganisationId::from_stored(request.provider),
                request.channel,
                caller.principal.id.as_str(),
                None,
                &acting,
                now,
            )
            .await?;
        let shown = disclose_handoff(caller, handoff).ok_or(CaseError::NotFound)?;
        Ok(HandoffView::of(shown, now))
    }

    /// A single-use link through which the beneficiary chooses from the current shortlist.
    pub async fn issue_choice_link(
        &self,
        caller: &Analyst,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<ChoiceLinkIssued, CaseError> {
        let file = self.disclosed(caller, id).await?.into_inner();
        may_choose(file.status)?;
        let shortlist = self.current_shortlist(&file.case.id).await?;
        let link_id = uuid::Uuid::new_v4().to_string();
        let expires_at = now + self.settings.choice_link_validity;
        let token = issue_choice_token(
            self.link_key,
            &ChoiceClaims {
                jti: link_id.clone(),
                case: file.case.id.clone(),
                iat: now.unix_timestamp(),
                exp: expires_at.unix_timestamp(),
            },
        )
        .map_err(|e| CaseError::Package(e.to_string()))?;
        let audit = AuditRecord::by(caller, "case.choice_link", now).objects([
            link_id.clone(),
            file.case.id.clone(),
            format!("shortlist:{}", shortlist.id),
        ]);
        self.store
            .insert_choice_link(
                &ChoiceLink {
                    id: link_id,
                    case_id: file.case.id,
                    shortlist_id: shortlist.id,
                    issued_at: now,
                    expires_at,
                    used_at: None,
                },
                &audit,
            )
            .await?;
        Ok(ChoiceLinkIssued { token, expires_at })
    }

    /// The link's case and shortlist, if the link can still be used.
    async fn open_link(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<(ChoiceLink, CaseFile, StoredShortlist), CaseError> {
        let claims = verify_choice_token(self.link_key, token, now).map_err(link_error)?;
        let link = self
            .store
            .choice_link(&claims.jti)
            .await?
            .filter(|l| l.case_id == claims.case)
            .ok_or(CaseError::BadLink)?;
        if link.used_at.is_some() {
            return Err(CaseError::UsedLink);
        }
        if now >= link.expires_at {
            return Err(CaseError::ExpiredLink);
        }
        let file = self
            .store
            .case_file(&link.case_id)
            .await?
            .ok_or(CaseError::BadLink)?;
        // A link drawn from a shortlist that a newer one replaced, or for a case that moved
        // on, is spent.
        if file.status != CaseStatus::Shortlisted {
            return Err(CaseError::StaleLink);
        }
        let current = self.current_shortlist(&file.case.id).await?;
        if current.id != link.shortlist_id {
            return Err(CaseError::StaleLink);
        }
        Ok((link, file, current))
    }

    /// What the beneficiary's page shows.
    pub async fn choice_page(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<ChoicePage, CaseError> {
        let (link, file, shortlist) = self.open_link(token, now).await?;
        let today = local(now).date();
        // A provider that answered this case already is not offered again.
        let answered: Vec<_> = self
            .store
            .handoffs_of_case(&file.case.id)
            .await?
            .into_iter()
            .map(|h| h.provider)
            .collect();
        let mut options = Vec::new();
        for e in shortlist
            .document
            .entries
            .iter()
            .filter(|e| !answered.contains(&e.provider))
        {
            if let Some(record) = self.store.provider(&e.provider).await?
                && let Some(listed) = entry(
                    &record.organisation.name,
                    &record.file,
                    &record.referencing,
                    today,
                )
            {
                options.push(ChoiceOption {
                    provider: e.provider.to_string(),
                    entry: listed,
                });
            }
        }
        Ok(ChoicePage {
            options,
            expires_at: link.expires_at,
        })
    }

    /// The beneficiary's own choice, through its link: used once.
    pub async fn choose_by_link(
        &self,
        token: &str,
        provider: &str,
        now: OffsetDateTime,
    ) -> Result<(), CaseError> {
        let (link, file, _) = self.open_link(token, now).await?;
        let acting = Acting::unregistered("beneficiary", "", now);
        self.hand_off(
            file,
            &OrganisationId::from_stored(provider.to_owned()),
            ChoiceChannel::Link,
            "beneficiary",
            Some(&link.id),
            &acting,
            now,
        )
        .await?;
        Ok(())
    }

    /// The choice and the handoff it makes, in one write.
    #[allow(clippy::too_many_arguments)]
    async fn hand_off(
        &self,
        file: CaseFile,
        provider: &OrganisationId,
        channel: ChoiceChannel,
        chosen_by: &str,
        link: Option<&str>,
        acting: &Acting,
        now: OffsetDateTime,
    ) -> Result<Handoff, CaseError> {
        may_choose(file.status)?;
        let shortlist = self.current_shortlist(&file.case.id).await?;
        if !shortlist
            .document
            .entries
            .iter()
            .any(|e| &e.provider == provider)
        {
            return Err(CaseError::Invalid(format!(
                "provider: {provider} is not on the case's shortlist #{}",
                shortlist.id
            )));
        }
        let earlier = self.store.handoffs_of_case(&file.case.id).await?;
        if earlier.iter().any(|h| &h.provider == provider) {
            return Err(CaseError::NotNow(format!(
                "{provider} answered this case already; the beneficiary chooses another"
            )));
        }
        let record = self
            .store
            .provider(provider)
            .await?
            .filter(|r| r.referencing.is_referenced() && r.organisation.status.grants_access())
            .ok_or_else(|| {
                CaseError::NotNow(format!(
                    "{provider} is no longer referenced: draw a new shortlist"
                ))
            })?;
        // What the shortlist checked may have changed since it was drawn.
        let beneficiary = file.beneficiary_key();
        if self
            .store
            .conflicts_with(&beneficiary)
            .await?
            .contains(provider)
        {
            return Err(CaseError::NotNow(format!(
                "{provider} declared a conflict of interest with this beneficiary: draw a new \
                 shortlist"
            )));
        }
        let qualification = file
            .qualification
            .as_ref()
            .ok_or_else(|| CaseError::NotNow("the case has no qualification to hand off".into()))?;
        let key = PublicKey::from_bytes(record.file.openpgp_key.as_bytes())
            .ok()
            .filter(|k| crate::crypto::envelope::can_receive(k, now))
            .ok_or_else(|| {
                CaseError::NotNow(format!(
                    "{provider}'s registered OpenPGP key can no longer receive a package: \
                     draw a new shortlist"
                ))
            })?;
        let handoff_id = format!("handoff--{}", uuid::Uuid::new_v4());
        let answer_due = now + self.settings.answer_within;
        let document = package_document(&PackageInput {
            handoff_id: &handoff_id,
            bundle_id: &format!("bundle--{}", uuid::Uuid::new_v4()),
            case: &file.case,
            qualification,
            identifiers: &file.case.identifiers,
            csirt: self.csirt,
            provider_name: &record.organisation.name,
            issued_at: now,
            answer_due,
        });
        let plain =
            serde_json::to_vec_pretty(&document).map_err(|e| CaseError::Package(e.to_string()))?;
        let package = encrypt_and_sign(&[&key, self.csirt_key], self.hub_key, &plain, now)
            .map_err(|e| CaseError::Package(e.to_string()))?;
        let handoff = Handoff {
            id: handoff_id,
            case_id: file.case.id.clone(),
            provider: provider.clone(),
            shortlist: shortlist.id,
            channel,
            chosen_by: chosen_by.to_owned(),
            created_at: now,
            answer_due,
            package_sha256: sha256_hex(package.as_bytes()),
            package,
            status: HandoffStatus::Pending,
            answered_at: None,
            answered_by: None,
            reason: None,
            note: String::new(),
            flagged_at: None,
        };
        let mut next = file.clone();
        next.status = CaseStatus::HandedOff;
        next.case.provider = Some(provider.clone());
        next.revision += 1;
        // One change, one entry: the choice is the handoff.
        let audits = [acting
            .record("case.choice")
            .objects([
                file.case.id.clone(),
                provider.to_string(),
                handoff.id.clone(),
                format!("shortlist:{}", shortlist.id),
                format!("sha256:{}", handoff.package_sha256),
            ])
            .reason(format!(
                "channel {}; answer due {}",
                channel.as_str(),
                crate::domain::stix::stored::utc_timestamp(answer_due, 0)
            ))];
        let write = CaseWrite {
            handoff: Some(&handoff),
            link_used: link.map(|l| (l, now)),
            ..CaseWrite::of(&next, file.revision)
        };
        match self.write(&write, &audits).await {
            Err(CaseError::Store(crate::store::StoreError::Conflict(_))) => {
                Err(CaseError::UsedLink)
            }
            other => other.map(|_| handoff),
        }
    }
}
