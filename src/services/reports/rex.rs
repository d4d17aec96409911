//! A provider's REX on a case it handled: checked, signed or not, anonymised with the case's
//! victim identifiers, its STIX part sent to the triage queue; amended by new versions.

use serde::Serialize;
use time::{Date, OffsetDateTime};

use super::{ReportError, Reports, handled_by};
use crate::crypto::openpgp::{PublicKey, verify_detached};
use crate::crypto::sha256_hex;
use crate::domain::access::{Provider, RegistryRecord};
use crate::domain::anonymise::{VictimContext, anonymise};
use crate::domain::audit::reads::{Material, on_record};
use crate::domain::audit::record::AuditRecord;
use crate::domain::cases::lifecycle::CaseStatus;
use crate::domain::collections::SUBMISSIONS;
use crate::domain::markings::{Pap, Tlp};
use crate::domain::reports::deadlines::{NoticeKind, days_late, hub_day, on_time};
use crate::domain::reports::rex::{
    MAX_VERSIONS, RexFields, RexRequest, as_document, bundle_objects, check, from_document,
    parse_tlp,
};
use crate::domain::triage::ReportedChange;
use crate::store::reports::{SignedBody, StoredRex};

/// A REX as its readers get it: the latest version, and the list of all.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RexView {
    pub case_id: String,
    #[serde(with = "crate::domain::registry::file::iso_date")]
    #[schema(value_type = String, format = Date)]
    pub due: Date,
    pub on_time: bool,
    /// Days after the due date the first version came (0 when on time).
    pub days_late: i64,
    pub latest: RexVersionView,
    pub versions: Vec<VersionLine>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VersionLine {
    pub version: u32,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub submitted_at: OffsetDateTime,
    pub submitted_by: String,
    pub sha256: String,
    pub signed: bool,
}

/// One version, anonymised, with the anonymiser's report of changes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RexVersionView {
    pub version: u32,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub submitted_at: OffsetDateTime,
    pub submitted_by: String,
    #[schema(value_type = String, example = "amber")]
    pub tlp: Tlp,
    #[schema(value_type = String, example = "amber")]
    pub pap: Pap,
    pub report: RexFields,
    #[schema(value_type = Vec<Object>)]
    pub changes: Vec<ReportedChange>,
    /// Ids of the STIX part's objects now in the triage queue.
    pub stix_submitted: Vec<String>,
    /// The STIX part's objects refused, each with why.
    pub stix_refused: Vec<String>,
    pub sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignatureView>,
}

/// The provider's signature and the exact bytes it covers, to check offline
/// (`gpg --verify signature body`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SignatureView {
    pub fingerprint: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub signed_at: OffsetDateTime,
    pub signature: String,
    /// The signed request body, byte for byte (as posted: before anonymisation).
    pub body: String,
}

impl RexVersionView {
    fn of(rex: StoredRex) -> Self {
        Self {
            version: rex.version,
            submitted_at: rex.submitted_at,
            submitted_by: rex.submitted_by,
            tlp: rex.tlp,
            pap: rex.pap,
            report: rex.report,
            changes: rex.changes,
            stix_submitted: rex.stix_submitted,
            stix_refused: rex.stix_refused,
            sha256: rex.sha256,
            signature: rex.signed.map(|s| SignatureView {
                fingerprint: s.fingerprint,
                signed_at: s.signed_at,
                signature: s.signature,
                body: s.body,
            }),
        }
    }
}

fn view(due: Date, versions: Vec<StoredRex>) -> Result<RexView, ReportError> {
    let lines = versions
        .iter()
        .map(|r| VersionLine {
            version: r.version,
            submitted_at: r.submitted_at,
            submitted_by: r.submitted_by.clone(),
            sha256: r.sha256.clone(),
            signed: r.signed.is_some(),
        })
        .collect();
    let first_at = versions.first().map(|r| r.submitted_at);
    let on_time = versions.first().is_some_and(|r| r.on_time);
    let case_id = versions
        .first()
        .map(|r| r.case_id.clone())
        .unwrap_or_default();
    let latest = versions.into_iter().last().ok_or(ReportError::NotFound)?;
    Ok(RexView {
        case_id,
        due,
        on_time,
        days_late: first_at.map_or(0, |at| days_late(due, hub_day(at))),
        latest: RexVersionView::of(latest),
        versions: lines,
    })
}

impl Reports<'_> {
    /// The REX of a case, first version or amendment, from the provider that handled it.
    /// `body` is the exact request body (what a signature covers); `signature` a detached
    /// OpenPGP signature over it by the key in the provider's registry file.
    pub async fn submit_rex(
        &self,
        caller: &Provider,
        case_id: &str,
        body: &[u8],
        request: RexRequest,
        signature: Option<&[u8]>,
        now: OffsetDateTime,
    ) -> Result<RexView, ReportError> {
        let file = self.rex_case(caller, case_id).await?;
        if file.status != CaseStatus::Closed || !handled_by(&file, caller) {
            return Err(ReportError::NotNow(
                "a REX is returned once the case is closed at the end of the service".into(),
            ));
        }
        let due = file
            .closure
            .as_ref()
            .and_then(|c| c.rex_due)
            .ok_or_else(|| ReportError::NotNow("no REX is due on this case".into()))?;
        let signed = match signature {
            None => None,
            Some(sig) => Some(self.verify(caller, body, sig, now).await?),
        };
        let fields = check(request.report)?;
        let tlp = match request.tlp.as_deref() {
            None => Tlp::Amber,
            Some(name) => parse_tlp(name).ok_or_else(|| {
                ReportError::Invalid(format!("tlp: {name:?} is not a TLP 2.0 level"))
            })?,
        };
        let pap = request.pap.unwrap_or(Pap::Amber);
        let (report, changes) = self.anonymise(caller, &file.case, &fields)?;
        let versions = self.store.rex_of_case(case_id).await?;
        if versions.len() >= MAX_VERSIONS {
            return Err(ReportError::NotNow(format!(
                "a REX keeps at most {MAX_VERSIONS} versions"
            )));
        }
        let (stix_submitted, stix_refused) = match &request.bundle {
            None => (Vec::new(), Vec::new()),
            Some(bundle) => self.submit_bundle(caller, case_id, bundle, now).await?,
        };
        let version = u32::try_from(versions.len() + 1).unwrap_or(u32::MAX);
        let first_on_time = versions.first().map(|r| r.on_time);
        let timely = first_on_time.unwrap_or_else(|| on_time(due, now));
        let sha256 = sha256_hex(
            serde_json::to_string(&report)
                .map_err(|e| ReportError::Render(e.to_string()))?
                .as_bytes(),
        );
        let rex = StoredRex {
            case_id: case_id.to_owned(),
            version,
            provider: caller.organisation.id.clone(),
            submitted_by: caller.principal.id.to_string(),
            submitted_at: now,
            due,
            on_time: timely,
            tlp,
            pap,
            report,
            changes,
            stix_submitted,
            stix_refused,
            signed,
            sha256: sha256.clone(),
        };
        let late = days_late(due, hub_day(now));
        let audit = AuditRecord::by(
            caller,
            if version == 1 {
                "rex.submit"
            } else {
                "rex.amend"
            },
            now,
        )
        .objects([case_id.to_owned(), format!("sha256:{sha256}")])
        .reason(format!(
            "version {version}, due {due}{}, {} change(s) by the anonymiser, {}",
            if late > 0 && version == 1 {
                format!(", {late} day(s) late")
            } else {
                String::new()
            },
            rex.changes.len(),
            if rex.signed.is_some() {
                "signed"
            } else {
                "unsigned"
            },
        ));
        self.store.insert_rex(&rex, &audit).await?;
        if version == 1 && !timely {
            // The job records it as soon as the REX is overdue; a REX that comes before the
            // job's next round was late all the same.
            self.notice(
                &caller.organisation.id,
                NoticeKind::RexBreachCandidate,
                case_id,
                due,
                now,
            )
            .await?;
        }
        let mut all = versions;
        all.push(rex);
        view(due, all)
    }

    /// The REX of a case, for the analysts and the provider that handled it; the read is
    /// logged before it is returned.
    pub async fn rex(
        &self,
        caller: &RegistryRecord,
        case_id: &str,
        now: OffsetDateTime,
    ) -> Result<RexView, ReportError> {
        let file = self.rex_case(caller, case_id).await?;
        let due = file
            .closure
            .as_ref()
            .and_then(|c| c.rex_due)
            .ok_or(ReportError::NotFound)?;
        let versions = self.store.rex_of_case(case_id).await?;
        self.record_read(caller, case_id, &versions, now).await?;
        view(due, versions)
    }

    /// One version of a case's REX.
    pub async fn rex_version(
        &self,
        caller: &RegistryRecord,
        case_id: &str,
        version: u32,
        now: OffsetDateTime,
    ) -> Result<RexVersionView, ReportError> {
        self.rex_case(caller, case_id).await?;
        let versions: Vec<StoredRex> = self
            .store
            .rex_of_case(case_id)
            .await?
            .into_iter()
            .filter(|r| r.version == version)
            .collect();
        self.record_read(caller, case_id, &versions, now).await?;
        versions
            .into_iter()
            .next()
            .map(RexVersionView::of)
            .ok_or(ReportError::NotFound)
    }

    /// A REX is case material: read on the record, as the case itself is.
    async fn record_read(
        &self,
        caller: &RegistryRecord,
        case_id: &str,
        versions: &[StoredRex],
        now: OffsetDateTime,
    ) -> Result<(), ReportError> {
        if versions.is_empty() || !on_record(Material::Case) {
            return Ok(());
        }
        self.store
            .append_audit(&AuditRecord::by(caller, "rex.read", now).objects([case_id]))
            .await?;
        Ok(())
    }

    async fn verify(
        &self,
        caller: &Provider,
        body: &[u8],
        signature: &[u8],
        now: OffsetDateTime,
    ) -> Result<SignedBody, ReportError> {
        let record = self
            .store
            .provider(&caller.organisation.id)
            .await?
            .ok_or(ReportError::NotFound)?;
        let key = PublicKey::from_bytes(record.file.openpgp_key.as_bytes()).map_err(|e| {
            ReportError::BadSignature(format!("the registered key is unusable: {e}"))
        })?;
        let verified = verify_detached(&key, body, signature, now)
            .map_err(|e| ReportError::BadSignature(e.to_string()))?;
        let body = String::from_utf8(body.to_vec())
            .map_err(|_| ReportError::Invalid("the body is not UTF-8".into()))?;
        let armored = crate::crypto::openpgp::armor_signature(signature)
            .map_err(|e| ReportError::BadSignature(e.to_string()))?;
        Ok(SignedBody {
            body,
            signature: armored,
            fingerprint: key.fingerprint(),
            signed_at: verified.signed_at,
        })
    }

    /// The fields, anonymised with the case's victim identifiers as a submission of the same
    /// provider would be (same policy, same pseudonym key).
    fn anonymise(
        &self,
        caller: &Provider,
        case: &crate::domain::triage::Case,
        fields: &RexFields,
    ) -> Result<(RexFields, Vec<ReportedChange>), ReportError> {
        let victim = VictimContext::from(&case.identifiers);
        let (doc, changes) = anonymise_fields(self, caller, &case.id, fields, &victim)?;
        Ok((from_document(doc)?, changes))
    }

    /// The STIX part, to the triage queue as a submission of the case: each object on its
    /// own, as through TAXII.
    async fn submit_bundle(
        &self,
        caller: &Provider,
        case_id: &str,
        bundle: &serde_json::Value,
        now: OffsetDateTime,
    ) -> Result<(Vec<String>, Vec<String>), ReportError> {
        let objects = bundle_objects(bundle)?;
        let envelope = serde_json::to_vec(&serde_json::json!({ "objects": objects }))
            .map_err(|e| ReportError::Render(e.to_string()))?;
        let report = self
            .ingest
            .envelope(caller, SUBMISSIONS.id, &envelope, now, Some(case_id), None)
            .await?;
        let submitted = report.successes.into_iter().filter_map(|o| o.id).collect();
        let refused = report
            .failures
            .into_iter()
            .map(|o| {
                format!(
                    "{}: {}",
                    o.id.unwrap_or_else(|| "(no id)".into()),
                    o.message.unwrap_or_default()
                )
            })
            .collect();
        Ok((submitted, refused))
    }
}

/// Anonymises a report's fields as one document, for the provider `caller`, with `victim`.
pub(super) fn anonymise_fields<T: Serialize>(
    reports: &Reports<'_>,
    caller: &RegistryRecord,
    subject: &str,
    fields: &T,
    victim: &VictimContext,
) -> Result<(serde_json::Value, Vec<ReportedChange>), ReportError> {
    let uuid = subject.rsplit("--").next().unwrap_or(subject);
    let doc = as_document(uuid, fields).map_err(|e| ReportError::Render(e.to_string()))?;
    let key = reports.pseudonyms.scoped(caller.organisation.id.as_str());
    let anonymised = anonymise(&doc, reports.anonymisation, victim, &key)?;
    let changes = anonymised
        .changes
        .iter()
        .map(|c| ReportedChange {
            object: subject.to_owned(),
            field: c.field.clone(),
            rule: c.rule.as_str().to_owned(),
            action: c.action.as_str().to_owned(),
        })
        .collect();
    Ok((anonymised.rewritten.unwrap_or(doc), changes))
}
