//! The analysts' triage of provider submissions: the queue, one item with its anonymisation
//! report, and the three decisions (publish to the community, merge with an existing object,
//! reject with a reason the provider reads). Providers see their own submissions' fate.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::domain::access::{Analyst, RegistryRecord};
use crate::domain::audit::reads::{Material, on_record};
use crate::domain::audit::record::{AuditRecord, text_digest};
use crate::domain::collections::{COMMUNITY, SUBMISSIONS};
use crate::domain::markings::definitions::{self, Level};
use crate::domain::markings::release::{ObjectAccess, Releasable};
use crate::domain::markings::{Pap, Tlp};
use crate::domain::principal::{OrganisationId, PrincipalId, PrincipalKind};
use crate::domain::stix::references::referenced_ids;
use crate::domain::stix::stored::{NewObject, StoredObject, utc_timestamp, version_key};
use crate::domain::stix::validate::validate;
use crate::domain::triage::{
    self, Consent, Submission, SubmissionStatus, TriageError, check_publish, may_see_case,
};
use crate::services::share::Sharing;
use crate::store::{Closing, Store, StoreError, SubmissionFilter};

/// The most items one listing returns.
pub const MAX_LISTED: u32 = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum TriageServiceError {
    /// A queue filter the hub cannot apply.
    #[error("{0}")]
    BadQuery(String),
    /// Missing, or not the caller's: the same answer.
    #[error("no such submission")]
    NotFound,
    #[error("no community object {0} that you may read")]
    NoMergeTarget(String),
    #[error(transparent)]
    Rule(#[from] TriageError),
    /// Decided by someone else between reading and writing.
    #[error("the submission was decided meanwhile")]
    Raced,
    #[error("the published object is not valid STIX: {0}")]
    Invalid(String),
    #[error("{0}")]
    UnknownAudience(String),
    /// The producer marked it TLP:AMBER+STRICT or RED: passing it to further organisations or
    /// people is the producer's decision, not the CSIRT's.
    #[error("a TLP:{0} submission is not shared further by the CSIRT")]
    AudienceNotAllowed(Tlp),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for TriageServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(crate::store::submissions::CONSENT_CHANGED) => {
                TriageServiceError::Rule(TriageError::NoConsent(Consent::Withdrawn))
            }
            StoreError::Conflict(_) => TriageServiceError::Raced,
            other => TriageServiceError::Store(other),
        }
    }
}

/// One submission as listed: the queue entry, who sent it and the consent of its case.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Sighting {
    pub id: String,
    pub stix_id: String,
    pub provider: String,
    pub provider_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub submitted_at: OffsetDateTime,
    pub tlp: Tlp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pap: Option<Pap>,
    pub status: SubmissionStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent: Option<Consent>,
    pub changes: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_id: Option<String>,
    /// The analyst who decided, and when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub decided_at: Option<OffsetDateTime>,
}

/// Submissions of the same indicator value (or object), shown as one item.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueueItem {
    pub key: String,
    pub object_type: String,
    pub sightings: Vec<Sighting>,
}

/// One submission in full, for the analyst deciding on it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubmissionView {
    #[serde(flatten)]
    pub sighting: Sighting,
    /// The anonymised object, as stored in the submissions collection.
    pub object: Value,
    pub report: Vec<triage::ReportedChange>,
    /// The object as received (TLP:RED), shown to analysts only, when it was changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original: Option<Value>,
}

/// What an analyst asks for when publishing.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// Stricter than the producer's, or absent for the producer's own.
    pub tlp: Option<Tlp>,
    pub pap: Option<Pap>,
    /// Publish under the CSIRT's identity (the default), so that the community does not learn
    /// which provider worked on which victim; `false` keeps the provider's object as it is.
    #[serde(default = "yes")]
    pub as_csirt: bool,
    /// Organisations (ids or exact names) that may read it beyond what its TLP allows
    /// (TLP:AMBER: "shared with"). With `recipients`, at most 100 names.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub shared_with: Vec<String>,
    /// Principals (ids) named as recipients (TLP:AMBER+STRICT and TLP:RED). With
    /// `shared_with`, at most 100 names.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub recipients: Vec<String>,
}

/// How many organisations and recipients one publication may name.
pub const MAX_AUDIENCE: usize = 100;
// `PublishRequest`'s and the listings' schemas state these bounds in literals.
const _: () = assert!(MAX_AUDIENCE == 100 && MAX_LISTED == 1_000);

fn yes() -> bool {
    true
}

pub struct Triage<'a> {
    pub store: &'a dyn Store,
    /// Every object this service hands out or reads the content of goes through its `release`.
    pub sharing: Sharing<'a>,
}

/// Queue filters, as a client writes them. Ages are a number and a unit: `90s`, `30m`,
/// `12h`, `7d`.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// `pending` (the default), `published`, `merged`, `rejected` or `all`.
    #[param(pattern = "^(pending|published|merged|rejected|all)$")]
    pub status: Option<String>,
    /// Provider organisation id.
    pub provider: Option<String>,
    /// STIX object type.
    #[serde(rename = "type")]
    pub object_type: Option<String>,
    #[param(inline)]
    pub tlp: Option<Tlp>,
    #[param(inline)]
    pub consent: Option<Consent>,
    /// Submitted longer ago than this age: a number and a unit, `90s`, `30m`, `12h`, `7d`.
    #[param(pattern = "^[0-9]+[smhd]$")]
    pub older_than: Option<String>,
    /// Submitted more recently than this age (same form as `older_than`).
    #[param(pattern = "^[0-9]+[smhd]$")]
    pub newer_than: Option<String>,
    /// How many items to list: 1000 if absent; a larger value is cut to 1000.
    pub limit: Option<u32>,
}

impl QueueQuery {
    fn filter(self, now: OffsetDateTime) -> Result<SubmissionFilter, TriageServiceError> {
        let status = match self.status.as_deref() {
            None => Some(SubmissionStatus::Pending),
            Some("all") => None,
            Some(s) => Some(
                s.parse()
                    .map_err(|e| TriageServiceError::BadQuery(format!("{e}")))?,
            ),
        };
        let before = |text: Option<String>| text.as_deref().map(|t| before(now, t)).transpose();
        Ok(SubmissionFilter {
            status,
            provider: self.provider.map(OrganisationId::from_stored),
            object_type: self.object_type,
            stix_id: None,
            tlp: self.tlp,
            consent: self.consent,
            submitted_before: before(self.older_than)?,
            submitted_after: before(self.newer_than)?,
            limit: self.limit.unwrap_or(MAX_LISTED).clamp(1, MAX_LISTED),
        })
    }
}

fn age(text: &str) -> Result<time::Duration, TriageServiceError> {
    let bad = || {
        TriageServiceError::BadQuery(format!(
            "{text:?} is not an age such as 90s, 30m, 12h or 7d"
        ))
    };
    let unit = text.chars().last().ok_or_else(bad)?;
    let number = text.strip_suffix(unit).ok_or_else(bad)?;
    let n: i64 = number.parse().map_err(|_| bad())?;
    if n < 0 {
        return Err(bad());
    }
    let seconds = match unit {
        's' => Some(n),
        'm' => n.checked_mul(60),
        'h' => n.checked_mul(3_600),
        'd' => n.checked_mul(86_400),
        _ => None,
    }
    .ok_or_else(bad)?;
    Ok(time::Duration::seconds(seconds))
}

/// `now - age`, refused rather than overflowing.
fn before(now: OffsetDateTime, text: &str) -> Result<OffsetDateTime, TriageServiceError> {
    now.checked_sub(age(text)?)
        .ok_or_else(|| TriageServiceError::BadQuery(format!("{text:?} reaches before year -9999")))
}

/// A provider learns that its submission was merged or published, not into which object: a
/// merge target may be something it may not read.
fn hide_result(caller: &RegistryRecord, sighting: &mut Sighting) {
    if caller.principal.kind != PrincipalKind::Analyst {
        sighting.result_id = None;
    }
}

/// `object_marking_refs` with its TLP and PAP replaced by `tlp` and `pap`: the standard ids
/// and the non-standard definitions in `levels` (e.g. OpenCTI's own TLP definitions) go; other
/// markings (statements, extension definitions) are kept.
fn remark(object: &mut Value, tlp: Tlp, pap: Option<Pap>, levels: &[String]) {
    let mut refs: Vec<Value> = object
        .get("object_marking_refs")
        .and_then(Value::as_array)
        .map(|refs| {
            refs.iter()
                .filter(|r| {
                    r.as_str().is_none_or(|id| {
                        !matches!(
                            definitions::standard(id),
                            Some(Level::Tlp(_) | Level::Pap(_))
                        ) && !levels.iter().any(|l| l == id)
                    })
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    refs.insert(0, Value::from(tlp.marking_definition_id()));
    if let Some(pap) = pap {
        refs.insert(1, Value::from(definitions::pap_id(pap)));
    }
    if let Some(map) = object.as_object_mut() {
        map.insert("object_marking_refs".into(), Value::Array(refs));
    }
}

impl Triage<'_> {
    async fn sightings(
        &self,
        caller: &RegistryRecord,
        submissions: Vec<Submission>,
    ) -> Result<Vec<Sighting>, TriageServiceError> {
        let names: HashMap<OrganisationId, String> = self
            .store
            .organisations()
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect();
        let mut cases: HashMap<String, Option<(String, Consent)>> = HashMap::new();
        let mut out = Vec::with_capacity(submissions.len());
        for s in submissions {
            let case = match &s.case_id {
                None => None,
                Some(id) => {
                    if !cases.contains_key(id) {
                        let found = self
                            .store
                            .case(id)
                            .await?
                            .filter(|c| may_see_case(caller, c))
                            .map(|c| (c.reference, c.consent));
                        cases.insert(id.clone(), found);
                    }
                    cases.get(id).cloned().flatten()
                }
            };
            out.push(Sighting {
                id: s.id,
                stix_id: s.stix_id,
                provider_name: names.get(&s.provider).cloned().unwrap_or_default(),
                provider: s.provider.to_string(),
                submitted_at: s.submitted_at,
                tlp: s.tlp,
                pap: s.pap,
                status: s.status,
                case: case.as_ref().map(|(reference, _)| reference.clone()),
                consent: case.map(|(_, consent)| consent),
                changes: s.report.len(),
                reason: s.reason,
                result_id: s.result_id,
                decided_by: s.decided_by.map(|p| p.to_string()),
                decided_at: s.decided_at,
            });
        }
        Ok(out)
    }

    /// The queue, grouped: the same indicator from several providers is one item with
    /// several sightings, in order of first arrival.
    pub async fn queue(
        &self,
        caller: &Analyst,
        query: QueueQuery,
        now: OffsetDateTime,
    ) -> Result<Vec<QueueItem>, TriageServiceError> {
        let filter = query.filter(now)?;
        let submissions = self.store.submissions(&filter).await?;
        self.record_reads(caller, &submissions, false, now).await?;
        let keys: Vec<(String, String)> = submissions
            .iter()
            .map(|s| (s.dedup_key.clone(), s.object_type.clone()))
            .collect();
        let mut items: Vec<QueueItem> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for ((key, object_type), sighting) in keys
            .into_iter()
            .zip(self.sightings(caller, submissions).await?)
        {
            let at = *index.entry(key.clone()).or_insert_with(|| {
                items.push(QueueItem {
                    key,
                    object_type,
                    sightings: Vec::new(),
                });
                items.len() - 1
            });
            items[at].sightings.push(sighting);
        }
        Ok(items)
    }

    /// A provider's own submissions, with what became of them.
    pub async fn own(
        &self,
        caller: &RegistryRecord,
        limit: u32,
        now: OffsetDateTime,
    ) -> Result<Vec<Sighting>, TriageServiceError> {
        let filter = SubmissionFilter {
            provider: Some(caller.organisation.id.clone()),
            limit: limit.clamp(1, MAX_LISTED),
            ..SubmissionFilter::default()
        };
        let submissions = self.store.submissions(&filter).await?;
        self.record_reads(caller, &submissions, false, now).await?;
        let mut sightings = self.sightings(caller, submissions).await?;
        for s in &mut sightings {
            hide_result(caller, s);
        }
        Ok(sightings)
    }

    async fn stored_object(&self, s: &Submission) -> Result<StoredObject, TriageServiceError> {
        self.store
            .versions_of_many(SUBMISSIONS.id, std::slice::from_ref(&s.stix_id))
            .await?
            .into_iter()
            .find(|o| o.seq == s.object_seq)
            .ok_or(TriageServiceError::Store(StoreError::NotFound(
                "submitted object",
            )))
    }

    /// What `caller` may have of one stored object, by the one marking decision.
    async fn released(
        &self,
        caller: &RegistryRecord,
        object: StoredObject,
    ) -> Result<Option<Releasable<StoredObject>>, TriageServiceError> {
        Ok(self
            .sharing
            .release_objects(caller, vec![object])
            .await?
            .pop())
    }

    /// A submission's object as `caller` may have it, parsed; `NotFound` if the markings
    /// withhold it: the same answer as a submission that does not exist.
    async fn submitted_json(
        &self,
        caller: &RegistryRecord,
        submission: &Submission,
    ) -> Result<(Value, StoredObject), TriageServiceError> {
        let stored = self.stored_object(submission).await?;
        let released = self
            .released(caller, stored)
            .await?
            .ok_or(TriageServiceError::NotFound)?;
        let json = released.json().ok_or_else(|| {
            TriageServiceError::Store(StoreError::Corrupt("submitted object".into()))
        })?;
        Ok((json, released.item().clone()))
    }

    /// The submission as received (TLP:RED), if the anonymiser changed it: `stored` (its
    /// stored object) with the original's text, released to `caller` like the object itself.
    async fn original(
        &self,
        caller: &RegistryRecord,
        submission: &Submission,
        mut stored: StoredObject,
    ) -> Result<Option<Value>, TriageServiceError> {
        let Some(text) = self.store.submission_original(&submission.id).await? else {
            return Ok(None);
        };
        stored.raw = text;
        stored.refs = Vec::new();
        stored.access.tlp = Tlp::Red;
        Ok(self.released(caller, stored).await?.and_then(|r| r.json()))
    }

    /// Logs the read of the submissions the read-on-record rule names (every submission: it is
    /// material the CSIRT holds for one provider); `original`: the TLP:RED original was read too.
    async fn record_reads(
        &self,
        caller: &RegistryRecord,
        submissions: &[Submission],
        original: bool,
        now: OffsetDateTime,
    ) -> Result<(), TriageServiceError> {
        let sensitive: Vec<&Submission> = submissions
            .iter()
            .filter(|s| on_record(Material::Submission { tlp: s.tlp }))
            .collect();
        if sensitive.is_empty() {
            return Ok(());
        }
        let mut record = AuditRecord::by(caller, "submission.read", now)
            .objects(sensitive.iter().map(|s| s.id.as_str()))
            .objects(sensitive.iter().filter_map(|s| s.case_id.as_deref()))
            .markings(sensitive.iter().map(|s| format!("tlp:{}", s.tlp.as_str())));
        if original {
            record = record
                .reason("with the original as received")
                .markings(["tlp:red"]);
        }
        self.store.append_audit(&record).await?;
        Ok(())
    }

    /// One submission: for analysts any, with the original; for a provider its own.
    pub async fn view(
        &self,
        caller: &RegistryRecord,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<SubmissionView, TriageServiceError> {
        let submission = self
            .store
            .submission(id)
            .await?
            .ok_or(TriageServiceError::NotFound)?;
        let analyst = caller.principal.kind == PrincipalKind::Analyst;
        if !analyst && submission.provider != caller.organisation.id {
            return Err(TriageServiceError::NotFound);
        }
        let (object, stored) = self.submitted_json(caller, &submission).await?;
        // The original names the victim: it is the CSIRT's, never returned to its provider.
        let original = if analyst {
            self.original(caller, &submission, stored).await?
        } else {
            None
        };
        self.record_reads(
            caller,
            std::slice::from_ref(&submission),
            original.is_some(),
            now,
        )
        .await?;
        let report = submission.report.clone();
        let mut sightings = self.sightings(caller, vec![submission]).await?;
        let mut sighting = sightings.pop().ok_or(TriageServiceError::NotFound)?;
        hide_result(caller, &mut sighting);
        Ok(SubmissionView {
            sighting,
            object,
            report,
            original,
        })
    }

    async fn pending(&self, id: &str) -> Result<Submission, TriageServiceError> {
        let submission = self
            .store
            .submission(id)
            .await?
            .ok_or(TriageServiceError::NotFound)?;
        triage::check_pending(&submission)?;
        Ok(submission)
    }

    /// Publishes a submission to the community collection; returns the published object's id.
    pub async fn publish(
        &self,
        caller: &Analyst,
        id: &str,
        request: &PublishRequest,
        now: OffsetDateTime,
    ) -> Result<String, TriageServiceError> {
        let submission = self.pending(id).await?;
        let consent = match &submission.case_id {
            Some(case) => Some(
                self.store
                    .case(case)
                    .await?
                    .map_or(Consent::Pending, |c| c.consent),
            ),
            None => None,
        };
        let (tlp, pap) = check_publish(&submission, consent, request.tlp, request.pap)?;
        if submission.tlp >= Tlp::AmberStrict
            && !(request.shared_with.is_empty() && request.recipients.is_empty())
        {
            return Err(TriageServiceError::AudienceNotAllowed(submission.tlp));
        }
        let (shared_with, recipients) = self.audience(request).await?;
        let (mut object, stored) = self.submitted_json(caller, &submission).await?;
        let stamp = utc_timestamp(now, 3);
        let object_type = submission.object_type.clone();
        // Observables (no `created`) have no versions, no creator and ids derived from
        // their value: they keep their id and get no timestamps.
        let observable = object.get("created").is_none();
        let (producer, published_id) = if request.as_csirt && observable {
            (caller.organisation.id.clone(), submission.stix_id.clone())
        } else if request.as_csirt {
            let new_id = format!("{object_type}--{}", uuid::Uuid::new_v4());
            if let Some(map) = object.as_object_mut() {
                map.insert("id".into(), Value::from(new_id.clone()));
                map.insert("created".into(), Value::from(stamp.clone()));
                map.insert(
                    "created_by_ref".into(),
                    Value::from(caller.organisation.id.stix_identity()),
                );
            }
            (caller.organisation.id.clone(), new_id)
        } else {
            // Published under the provider's name: what names no creator is attributed to it
            // by the hub, so that readers see who stands behind it.
            if !observable && let Some(map) = object.as_object_mut() {
                map.entry("created_by_ref")
                    .or_insert_with(|| Value::from(submission.provider.stix_identity()));
            }
            (submission.provider.clone(), submission.stix_id.clone())
        };
        if !observable && let Some(map) = object.as_object_mut() {
            map.insert("modified".into(), Value::from(stamp));
        }
        self.remap_references(&mut object, &submission).await?;
        let levels = self.level_definitions(caller, &object).await?;
        remark(&mut object, tlp, pap, &levels);
        let raw = serde_json::to_string(&object)
            .map_err(|e| TriageServiceError::Invalid(e.to_string()))?;
        let stix = validate(&raw, &object).map_err(|errors| {
            TriageServiceError::Invalid(
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        let new = NewObject {
            collection: COMMUNITY.id.to_owned(),
            id: published_id.clone(),
            object_type,
            spec_version: stix.spec_version.clone().unwrap_or_else(|| "2.1".into()),
            version: stix
                .version()
                .map(|t| version_key(t.time()))
                .unwrap_or_default(),
            date_added: now,
            access: ObjectAccess {
                tlp,
                pap,
                producer,
                shared_with,
                recipients,
                granular: stored.access.granular,
                confined: false,
                submission: false,
                origin_peer: None,
            },
            tlp_defaulted: false,
            submitted_by: caller.principal.id.clone(),
            refs: referenced_ids(&object),
            raw,
            case_id: submission.case_id.clone(),
        };
        let audit = AuditRecord::by(caller, "submission.publish", now)
            .objects([id, published_id.as_str(), COMMUNITY.id])
            .markings(new.access.marking_names())
            .reason(format!(
                "shared with {} organisations, {} recipients",
                new.access.shared_with.len(),
                new.access.recipients.len()
            ));
        self.store
            .publish_submission(id, &new, &caller.principal.id, now, &audit)
            .await?;
        Ok(published_id)
    }

    /// Points the object's references (`*_ref`, `*_refs`) at what the community can resolve:
    /// a community object, or the publication of the same provider's submission it names.
    /// A reference to anything else (a submission not published, someone else's) would leave
    /// the community a dangling id that only exists in the submissions collection, so the
    /// publication is refused until that object is published first.
    async fn remap_references(
        &self,
        object: &mut Value,
        submission: &Submission,
    ) -> Result<(), TriageServiceError> {
        let Some(map) = object.as_object_mut() else {
            return Ok(());
        };
        for (key, value) in map.iter_mut() {
            if key == "created_by_ref" || key == "object_marking_refs" {
                continue;
            }
            let targets: Vec<&mut Value> = if key.ends_with("_ref") {
                vec![value]
            } else if key.ends_with("_refs") {
                match value.as_array_mut() {
                    Some(items) => items.iter_mut().collect(),
                    None => continue,
                }
            } else {
                continue;
            };
            for target in targets {
                let Some(id) = target.as_str().map(str::to_owned) else {
                    continue;
                };
                *target = Value::from(self.community_reference(&id, submission).await?);
            }
        }
        Ok(())
    }

    async fn community_reference(
        &self,
        id: &str,
        submission: &Submission,
    ) -> Result<String, TriageServiceError> {
        let in_community = !self
            .store
            .versions_of_many(COMMUNITY.id, &[id.to_owned()])
            .await?
            .is_empty();
        if in_community {
            return Ok(id.to_owned());
        }
        let filter = SubmissionFilter {
            provider: Some(submission.provider.clone()),
            stix_id: Some(id.to_owned()),
            status: Some(SubmissionStatus::Published),
            limit: 1,
            ..SubmissionFilter::default()
        };
        self.store
            .submissions(&filter)
            .await?
            .into_iter()
            .find_map(|s| s.result_id)
            .ok_or_else(|| {
                TriageServiceError::Invalid(format!(
                    "it refers to {id}, which is not in the community collection: publish that \
                     first"
                ))
            })
    }

    /// The non-standard marking definitions an object cites that stand for a TLP or PAP level
    /// (OpenCTI exports its own), so that re-marking replaces them too instead of leaving two
    /// contradictory levels.
    async fn level_definitions(
        &self,
        caller: &RegistryRecord,
        object: &Value,
    ) -> Result<Vec<String>, TriageServiceError> {
        let mut levels = Vec::new();
        let refs = object
            .get("object_marking_refs")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for id in refs.iter().filter_map(Value::as_str) {
            if definitions::standard(id).is_some() {
                continue;
            }
            let stored = self.store.marking_definitions(id).await?;
            for definition in self.sharing.release_objects(caller, stored).await? {
                let level = definition
                    .json()
                    .and_then(|d| definitions::interpret(&d).ok());
                if matches!(level, Some(definitions::Meaning::Level(_))) {
                    levels.push(id.to_owned());
                    break;
                }
            }
        }
        Ok(levels)
    }

    /// The organisations and principals a publication names, resolved by id or name.
    async fn audience(
        &self,
        request: &PublishRequest,
    ) -> Result<(Vec<OrganisationId>, Vec<PrincipalId>), TriageServiceError> {
        if request.shared_with.len() + request.recipients.len() > MAX_AUDIENCE {
            return Err(TriageServiceError::UnknownAudience(format!(
                "at most {MAX_AUDIENCE} organisations and recipients"
            )));
        }
        let mut orgs = Vec::new();
        for name in &request.shared_with {
            let org = match self
                .store
                .organisation(&OrganisationId::from_stored(name.clone()))
                .await?
            {
                Some(o) => Some(o),
                None => self.store.organisation_by_name(name).await?,
            }
            .ok_or_else(|| {
                TriageServiceError::UnknownAudience(format!("no organisation {name:?}"))
            })?;
            if !orgs.contains(&org.id) {
                orgs.push(org.id);
            }
        }
        let mut principals = Vec::new();
        for name in &request.recipients {
            let principal = self
                .store
                .principal(&PrincipalId::from_stored(name.clone()))
                .await?
                .ok_or_else(|| {
                    TriageServiceError::UnknownAudience(format!("no principal {name:?}"))
                })?;
            if !principals.contains(&principal.id) {
                principals.push(principal.id);
            }
        }
        Ok((orgs, principals))
    }

    /// Records that a submission duplicates `into`, a community object the analyst reads.
    pub async fn merge(
        &self,
        caller: &Analyst,
        id: &str,
        into: &str,
        now: OffsetDateTime,
    ) -> Result<(), TriageServiceError> {
        self.pending(id).await?;
        let versions = self
            .store
            .versions_of_many(COMMUNITY.id, &[into.to_owned()])
            .await?;
        let readable = !self
            .sharing
            .release_objects(caller, versions)
            .await?
            .is_empty();
        if !readable {
            return Err(TriageServiceError::NoMergeTarget(into.to_owned()));
        }
        self.store
            .close_submission(
                id,
                &Closing {
                    status: SubmissionStatus::Merged,
                    by: &caller.principal.id,
                    at: now,
                    reason: None,
                    result_id: Some(into),
                },
                &AuditRecord::by(caller, "submission.merge", now).objects([id, into]),
            )
            .await?;
        Ok(())
    }

    /// Rejects a submission; the provider reads the reason.
    pub async fn reject(
        &self,
        caller: &Analyst,
        id: &str,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<(), TriageServiceError> {
        let reason = triage::rejection_reason(reason)?;
        self.pending(id).await?;
        self.store
            .close_submission(
                id,
                &Closing {
                    status: SubmissionStatus::Rejected,
                    by: &caller.principal.id,
                    at: now,
                    reason: Some(&reason),
                    result_id: None,
                },
                // The analyst's words may name the victim: the entry pins them by hash.
                &AuditRecord::by(caller, "submission.reject", now)
                    .objects([id])
                    .reason(text_digest(&reason)),
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ages_have_a_unit() {
        assert_eq!(age("90s").unwrap(), time::Duration::seconds(90));
        assert_eq!(age("2d").unwrap(), time::Duration::days(2));
        assert!(age("2").is_err());
        assert!(age("").is_err());
        assert!(age("-1h").is_err());
        assert!(age("2w").is_err());
        assert!(age("99999999999999999d").is_err());
        assert!(age("1é").is_err());
        assert!(age("é").is_err());
        let now = OffsetDateTime::UNIX_EPOCH;
        assert!(before(now, "99999999999d").is_err());
    }

    #[test]
    fn remarking_replaces_tlp_and_pap_only() {
        let statement = "marking-definition--11111111-1111-4111-8111-111111111111";
        let mut o = json!({"object_marking_refs": [
            Tlp::Green.marking_definition_id(), definitions::pap_id(Pap::Clear), statement
        ]});
        let opencti = "marking-definition--22222222-2222-4222-8222-222222222222";
        o["object_marking_refs"]
            .as_array_mut()
            .unwrap()
            .push(json!(opencti));
        remark(&mut o, Tlp::Amber, Some(Pap::Green), &[opencti.to_owned()]);
        assert_eq!(
            o["object_marking_refs"],
            json!([
                Tlp::Amber.marking_definition_id(),
                definitions::pap_id(Pap::Green),
                statement
            ])
        );
    }
}
