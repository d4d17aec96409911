//! Taking STIX in: size-limited bytes → strict JSON → validation → markings normalised (TLP 1.0
//! mapped, unknown markings refused, the policy default applied) → the rule on who may publish a
//! new version → storage. Each object succeeds or fails on its own; the report says which and
//! why.
//!
//! What is posted to the submissions collection is a provider submission: it is anonymised
//! before anything is stored (the original is kept for the CSIRT only), stored confined to the
//! CSIRT and its producer, and queued for triage, tied to the case the caller named.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use serde::Serialize;
use time::OffsetDateTime;

use crate::domain::access::RegistryRecord;
use crate::domain::anonymise::{AnonymisationPolicy, PseudonymKey, VictimContext, anonymise};
use crate::domain::audit::record::AuditRecord;
use crate::domain::collections::Collection;
use crate::domain::collections::SUBMISSIONS;
use crate::domain::federation::FederationPolicy;
use crate::domain::markings::definitions::{self, Level, Meaning, ObjectMarkings};
use crate::domain::markings::policy::MarkingPolicy;
use crate::domain::markings::release::{
    Decision, GranularTlp, ObjectAccess, ReadableSet, decide, release,
};
use crate::domain::principal::PrincipalKind;
use crate::domain::publishing::{Poster, check_attribution, check_new_version};
use crate::domain::stix::json::{JsonError, JsonLimits, envelope_objects};
use crate::domain::stix::pending::{PendingObject, PendingWrites, Resolution, StoredPending};
use crate::domain::stix::references::referenced_ids;
use crate::domain::stix::stored::{
    NewObject, VERSION_SCOPE, scoped_version, unscoped_version, version_key,
};
use crate::domain::stix::validate::{StixObject, validate};
use crate::domain::triage::{Case, ReportedChange, dedup_key, may_see_case, new_version_confined};
use crate::store::NewSubmission;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// No such collection, or one the caller may not see at all.
    #[error("collection not found")]
    CollectionNotFound,
    #[error("the caller may not write to this collection")]
    NotWritable,
    /// The envelope itself is unusable (not JSON, not an envelope, too deep…).
    #[error("{0}")]
    Envelope(#[from] JsonError),
    /// Missing, or a case that was not handed to the caller's organisation: the same answer.
    #[error("no such case")]
    UnknownCase,
    #[error("a case can be named only with a submission (the submissions collection)")]
    CaseOutsideSubmissions,
    /// The IOC API's request as a whole is unusable (not a list, too many items…).
    #[error("{0}")]
    Items(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The outcome of one object of an envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// What the anonymiser changed (submissions only); summarised in `message` for TAXII.
    #[serde(skip)]
    pub changes: Vec<ReportedChange>,
    /// The triage queue entry (submissions only).
    #[serde(skip)]
    pub submission: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub successes: Vec<Outcome>,
    pub failures: Vec<Outcome>,
    /// Objects set aside until the marking definitions they cite arrive.
    pub pendings: Vec<Outcome>,
}

/// Why one object was refused; the text goes back to the client in the status resource.
struct Refused {
    message: String,
    /// Non-empty when the object's only problem so far is that it cites these marking
    /// definitions, which the hub does not hold (for this poster): it may wait for them.
    awaiting: Vec<String>,
}

#[allow(non_snake_case)]
fn Refused(message: String) -> Refused {
    Refused {
        message,
        awaiting: Vec::new(),
    }
}

impl<E: std::fmt::Display> From<E> for Refused {
    fn from(e: E) -> Self {
        Refused(e.to_string())
    }
}

/// The ids of the envelope's observables whose identifying value the anonymiser rewrote:
/// STIX derives an observable's id from its value, so the old id would let anyone test a guess
/// of the victim value. Each gets an id of its type keyed by the submitter's pseudonym key:
/// unrelated to the value, and the same when the same envelope is sent again.
fn renamed_observables(
    objects: &[crate::domain::stix::json::RawObject<'_>],
    policy: &AnonymisationPolicy,
    victim: &VictimContext,
    key: &PseudonymKey,
) -> HashMap<String, String> {
    let mut renamed = HashMap::new();
    for object in objects {
        let Ok(value) = &object.value else { continue };
        let (Some(kind), Some(id)) = (
            value.get("type").and_then(|v| v.as_str()),
            value.get("id").and_then(|v| v.as_str()),
        ) else {
            continue;
        };
        if crate::domain::stix::validate::ObjectKind::of_type(kind)
            != crate::domain::stix::validate::ObjectKind::Sco
        {
            continue;
        }
        if anonymise(value, policy, victim, key).is_ok_and(|a| a.rewritten.is_some()) {
            renamed.insert(id.to_owned(), format!("{kind}--{}", key.derived_uuid(id)));
        }
    }
    renamed
}

/// Replaces every string equal to a renamed id; returns the JSON pointers it changed.
fn rename_ids(
    value: &mut serde_json::Value,
    renamed: &HashMap<String, String>,
    at: &str,
) -> Vec<String> {
    use serde_json::Value;
    let mut changed = Vec::new();
    match value {
        Value::String(s) => {
            if let Some(new) = renamed.get(s.as_str()) {
                *s = new.clone();
                changed.push(at.to_owned());
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                changed.extend(rename_ids(item, renamed, &format!("{at}/{i}")));
            }
        }
        Value::Object(map) => {
            for (k, item) in map.iter_mut() {
                let key = k.replace('~', "~0").replace('/', "~1");
                changed.extend(rename_ids(item, renamed, &format!("{at}/{key}")));
            }
        }
        _ => {}
    }
    changed
}

/// What a submission's objects are anonymised with, set up once per envelope.
struct Anonymising<'a> {
    victim: &'a VictimContext,
    /// The submitting organisation's pseudonym key.
    key: &'a PseudonymKey,
    /// Observable ids replaced in this envelope (see `renamed_observables`).
    renamed: &'a HashMap<String, String>,
}

/// The version of an object a poster continues, as it last stood.
struct Lineage {
    /// Its latest version key, without scope.
    version: String,
    access: ObjectAccess,
    /// Its versions are stored scoped to their producer (see `scoped_version`).
    scoped: bool,
}

/// A new version that changes an object's TLP or PAP.
struct Remark {
    id: String,
    from: ObjectAccess,
    to: ObjectAccess,
}

/// What the objects of one envelope are checked against, kept up to date as they are taken.
#[derive(Default)]
struct Standing {
    /// The lineage each id continues, among the stored versions the poster may read.
    lineages: HashMap<String, Lineage>,
    /// Ids stored in versions the poster may not read.
    hidden: HashSet<String>,
    /// The STIX identities of the hub's organisations (see `OrganisationId::stix_identity`).
    members: HashSet<String>,
    remarks: Vec<Remark>,
}

/// An object accepted for storage.
struct Taken {
    new: NewObject,
    version: Option<String>,
    changes: Vec<ReportedChange>,
    /// The object as received, when the anonymiser changed it.
    original: Option<String>,
    dedup: String,
}

/// The anonymisation report in one line, for the TAXII status resource.
fn summary(changes: &[ReportedChange]) -> Option<String> {
    if changes.is_empty() {
        return None;
    }
    let parts: Vec<String> = changes
        .iter()
        .map(|c| format!("{} {} {}", c.field, c.rule, c.action))
        .collect();
    Some(format!("anonymised: {}", parts.join("; ")))
}

/// How many validation errors one failure message lists before "and N more".
const ERRORS_PER_MESSAGE: usize = 5;

#[derive(Debug, Clone)]
pub struct Ingest<'a> {
    pub store: &'a dyn Store,
    pub policy: &'a MarkingPolicy,
    pub federation: Arc<FederationPolicy>,
    pub anonymisation: &'a AnonymisationPolicy,
    pub pseudonyms: &'a PseudonymKey,
    /// What is too broad for an indicator to name (`policies/exports.toml`).
    pub exports: &'a crate::domain::exports::ExportPolicy,
}

/// The collection, if the caller may write to it.
pub fn writable_collection(
    caller: &RegistryRecord,
    collection_id: &str,
) -> Result<&'static Collection, IngestError> {
    let kind = caller.principal.kind;
    let collection = Collection::by_id(collection_id)
        .filter(|c| c.visible_to(kind))
        .ok_or(IngestError::CollectionNotFound)?;
    if !collection.can_write(kind) {
        return Err(IngestError::NotWritable);
    }
    Ok(collection)
}

/// What became of one object of a batch.
enum Fate {
    Stored(Outcome),
    Failed(Outcome),
    /// It cites marking definitions the hub does not hold yet.
    Waiting {
        outcome: Outcome,
        awaiting: Vec<String>,
    },
}

/// A batch of objects taken in (an envelope, or the objects of one envelope that waited):
/// what to store, and what became of each object, in order.
struct Batch {
    results: Vec<Fate>,
    accepted: Vec<NewObject>,
    queued: Vec<(NewObject, NewSubmission)>,
    remarks: Vec<Remark>,
}

/// Where the objects of an envelope that wait for a marking definition are set aside.
#[derive(Debug, Clone, Copy)]
pub struct Waiting<'a> {
    /// The envelope's status resource.
    pub status_id: &'a str,
    /// How long they may wait (`limits.pending_marking_secs`).
    pub wait: time::Duration,
}

impl Ingest<'_> {
    /// Stores what is valid in a TAXII envelope posted by `caller`. `case` names the victim
    /// case a submission comes from (submissions collection only). With `waiting`, an object
    /// whose only problem is a marking definition the hub does not hold yet is set aside as
    /// pending instead of refused.
    pub async fn envelope(
        &self,
        caller: &RegistryRecord,
        collection_id: &str,
        body: &[u8],
        now: OffsetDateTime,
        case: Option<&str>,
        waiting: Option<Waiting<'_>>,
    ) -> Result<Report, IngestError> {
        let collection = writable_collection(caller, collection_id)?;
        let submission = collection.id == SUBMISSIONS.id;
        let case = match case {
            None => None,
            Some(_) if !submission => return Err(IngestError::CaseOutsideSubmissions),
            Some(id) => Some(self.named_case(caller, id).await?),
        };
        let objects = envelope_objects(body, &JsonLimits::default())?;
        let batch = self
            .take_batch(caller, collection.id, case.as_ref(), &objects, now)
            .await?;
        let mut report = Report::default();
        let mut pending = PendingWrites::default();
        for (position, (result, object)) in batch.results.iter().zip(&objects).enumerate() {
            match (result, waiting) {
                (Fate::Stored(o), _) => report.successes.push(o.clone()),
                (Fate::Failed(o), _) | (Fate::Waiting { outcome: o, .. }, None) => {
                    report.failures.push(o.clone())
                }
                (Fate::Waiting { outcome, awaiting }, Some(w)) => {
                    pending.new.push(PendingObject {
                        status_id: w.status_id.to_owned(),
                        position: u32::try_from(position).unwrap_or(u32::MAX),
                        object_id: outcome.id.clone(),
                        version: outcome.version.clone(),
                        collection: collection.id.to_owned(),
                        principal: caller.principal.id.clone(),
                        fingerprint: caller.binding.fingerprint.to_hex(),
                        case_id: case.as_ref().map(|c| c.id.clone()),
                        raw: object.raw.to_owned(),
                        waiting_for: awaiting.clone(),
                        message: outcome.message.clone().unwrap_or_default(),
                        received_at: now,
                        expires_at: now + w.wait,
                    });
                    report.pendings.push(Outcome {
                        message: Some(format!(
                            "waiting for marking definition {}",
                            awaiting.join(", ")
                        )),
                        ..outcome.clone()
                    });
                }
            }
        }
        let mut reason = format!(
            "{} stored, {} refused",
            report.successes.len(),
            report.failures.len()
        );
        if !report.pendings.is_empty() {
            reason.push_str(&format!(", {} pending", report.pendings.len()));
        }
        let brings_definitions = batch
            .accepted
            .iter()
            .chain(batch.queued.iter().map(|(o, _)| o))
            .any(|o| o.object_type == "marking-definition");
        let inserted = self
            .write_batch(
                caller,
                collection,
                case.as_ref(),
                batch,
                now,
                &reason,
                &pending,
            )
            .await?;
        if submission {
            // A version sent before is the submission made then, not a new one.
            for (outcome, inserted) in report.successes.iter_mut().zip(&inserted) {
                if !matches!(inserted, crate::domain::stix::stored::Inserted::New(_)) {
                    outcome.submission = None;
                }
            }
        }
        if brings_definitions {
            // What waited for these definitions can go in now; what fails here is retried by
            // the hub's job.
            if let Err(e) = self.resume_pending(now).await {
                tracing::warn!(error = %e, "resuming pending objects failed");
            }
        }
        Ok(report)
    }

    /// Takes a batch in: every object validated, anonymised if it is a submission, checked
    /// against the marking rules, in order; nothing is written.
    async fn take_batch(
        &self,
        caller: &RegistryRecord,
        collection: &str,
        case: Option<&Case>,
        objects: &[crate::domain::stix::json::RawObject<'_>],
        now: OffsetDateTime,
    ) -> Result<Batch, IngestError> {
        let submission = collection == SUBMISSIONS.id;
        // Marking definitions sent in the same envelope resolve the others' markings.
        let mut local: HashMap<String, Result<Meaning, String>> = HashMap::new();
        for object in objects {
            if let Ok(value) = &object.value
                && value.get("type").and_then(|t| t.as_str()) == Some("marking-definition")
                && let Some(id) = value.get("id").and_then(|i| i.as_str())
            {
                local.insert(
                    id.to_owned(),
                    definitions::interpret(value).map_err(|e| e.to_string()),
                );
            }
        }
        // Every stored version of the objects named here, in one query, for the rule on who
        // may publish a new version; kept up to date as the envelope's own objects are taken.
        let ids: Vec<String> = objects
            .iter()
            .filter_map(|o| {
                o.value
                    .as_ref()
                    .ok()?
                    .get("id")?
                    .as_str()
                    .map(str::to_owned)
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let reader = self.federation.reader(caller);
        let mut standing = Standing {
            members: self
                .store
                .organisations()
                .await?
                .iter()
                .map(|o| o.id.stix_identity())
                .collect(),
            ..Standing::default()
        };
        for stored in self.store.versions_of_many(collection, &ids).await? {
            // Nobody continues a lineage it may not read: for the poster it does not exist,
            // and its version starts a lineage of its own, stored scoped to its organisation,
            // so that the answer is the one a never-used id gets. A submission, likewise,
            // continues only its own organisation's lineage (see `scoped_version`).
            // A peer never reads back what it delivered (the re-sharing rule), yet its own
            // deliveries are its lineage: a page served again must find them, not start a
            // scoped copy. Every other holder was refused before (`may_deliver`).
            let readable = if caller.principal.kind == PrincipalKind::Peer {
                stored.access.origin_peer.as_ref() == Some(&caller.principal.id)
            } else {
                decide(self.policy, &reader, &stored.access) != Decision::Withhold
            };
            let own = !submission || stored.access.producer == caller.organisation.id;
            if !(readable && own) {
                standing.hidden.insert(stored.id);
                continue;
            }
            // Rows come oldest version first: the last one per id wins.
            standing.lineages.insert(
                stored.id.clone(),
                Lineage {
                    version: unscoped_version(&stored.version).to_owned(),
                    scoped: stored.version.contains(VERSION_SCOPE),
                    access: stored.access,
                },
            );
        }
        let victim = match case {
            Some(c) => VictimContext::from(&c.identifiers),
            None => VictimContext::none(),
        };
        // Keyed per submitting organisation (see `PseudonymKey::scoped`), once per envelope.
        let key = self.pseudonyms.scoped(caller.organisation.id.as_str());
        let renamed = if submission {
            renamed_observables(objects, self.anonymisation, &victim, &key)
        } else {
            HashMap::new()
        };
        let anonymising = submission.then_some(Anonymising {
            victim: &victim,
            key: &key,
            renamed: &renamed,
        });
        // Stored in arrival order; date_added grows by a microsecond per object so that an
        // `added_after` taken from one object never skips the next one of the same envelope.
        let base = now
            .replace_nanosecond(now.microsecond() * 1000)
            .unwrap_or(now);
        // Outcomes are final once the batch's transaction commits; if it fails, the whole
        // request fails and none of this is reported.
        let mut results = Vec::with_capacity(objects.len());
        let mut accepted: Vec<NewObject> = Vec::new();
        let mut queued: Vec<(NewObject, NewSubmission)> = Vec::new();
        for (i, object) in objects.iter().enumerate() {
            let value = object.value.as_ref().ok();
            let id = value
                .and_then(|v| v.get("id"))
                .and_then(|v| v.as_str())
                .map(str::to_owned);
            // TAXII 2.1 § 4.3.1: the version of a failure too, when the input has one.
            let stated_version = value
                .and_then(|v| v.get("modified").or_else(|| v.get("created")))
                .and_then(|v| v.as_str())
                .map(str::to_owned);
            let date_added = base + time::Duration::microseconds(i as i64);
            let taken = match &object.value {
                Err(e) => Err(Refused(e.to_string())),
                Ok(value) => {
                    self.take(
                        caller,
                        collection,
                        object.raw,
                        value,
                        anonymising.as_ref(),
                        &local,
                        &mut standing,
                        date_added,
                    )
                    .await
                }
            };
            match taken {
                Ok(Taken {
                    mut new,
                    version,
                    changes,
                    original,
                    dedup,
                }) => {
                    let mut outcome = Outcome {
                        id,
                        version,
                        message: summary(&changes),
                        changes,
                        submission: None,
                    };
                    if submission {
                        new.case_id = case.map(|c| c.id.clone());
                        let queue_id = uuid::Uuid::new_v4().to_string();
                        outcome.submission = Some(queue_id.clone());
                        let entry = NewSubmission {
                            id: queue_id,
                            stix_id: new.id.clone(),
                            object_type: new.object_type.clone(),
                            tlp: new.access.tlp,
                            pap: new.access.pap,
                            provider: caller.organisation.id.clone(),
                            submitted_by: caller.principal.id.clone(),
                            case_id: new.case_id.clone(),
                            submitted_at: now,
                            dedup_key: dedup,
                            report: outcome.changes.clone(),
                            original,
                        };
                        queued.push((new, entry));
                    } else {
                        accepted.push(new);
                    }
                    results.push(Fate::Stored(outcome));
                }
                Err(Refused { message, awaiting }) => {
                    // Without an id to name it by, its position in the envelope does.
                    let message = match &id {
                        Some(_) => message,
                        None => format!("object {} of the envelope: {message}", i + 1),
                    };
                    let outcome = Outcome {
                        id,
                        version: stated_version,
                        message: Some(message),
                        changes: Vec::new(),
                        submission: None,
                    };
                    results.push(if awaiting.is_empty() {
                        Fate::Failed(outcome)
                    } else {
                        Fate::Waiting { outcome, awaiting }
                    });
                }
            }
        }
        Ok(Batch {
            results,
            accepted,
            queued,
            remarks: standing.remarks,
        })
    }

    /// Writes a batch in one transaction with its audit entries: the batch's, and one per
    /// version that changes an object's markings.
    #[allow(clippy::too_many_arguments)]
    async fn write_batch(
        &self,
        caller: &RegistryRecord,
        collection: &Collection,
        case: Option<&Case>,
        batch: Batch,
        now: OffsetDateTime,
        reason: &str,
        pending: &PendingWrites,
    ) -> Result<Vec<crate::domain::stix::stored::Inserted>, IngestError> {
        let submission = collection.id == SUBMISSIONS.id;
        let stored: Vec<&NewObject> = if submission {
            batch.queued.iter().map(|(o, _)| o).collect()
        } else {
            batch.accepted.iter().collect()
        };
        let audit = AuditRecord::by(
            caller,
            if submission {
                "submission.add"
            } else {
                "objects.add"
            },
            now,
        )
        .objects(std::iter::once(collection.id).chain(case.map(|c| c.id.as_str())))
        .objects(stored.iter().map(|o| o.id.as_str()))
        .markings(stored.iter().flat_map(|o| o.access.marking_names()))
        .reason(reason);
        // A version that changes an object's markings is recorded as such, beside the
        // batch's entry, with what they were and what they became.
        let mut audits = vec![audit];
        audits.extend(batch.remarks.iter().map(|r| {
            AuditRecord::by(caller, "objects.remark", now)
                .objects([collection.id, r.id.as_str()])
                .markings(r.from.marking_names().chain(r.to.marking_names()))
                .reason(format!(
                    "{} -> {}",
                    marking_names(&r.from),
                    marking_names(&r.to)
                ))
        }));
        Ok(if submission {
            self.store
                .insert_submissions(&batch.queued, &audits, pending)
                .await?
        } else {
            self.store
                .insert_objects(&batch.accepted, &audits, pending)
                .await?
        })
    }

    /// Takes in again, as the principals that posted them, the objects waiting for marking
    /// definitions: stored once what they cite is held, refused once their wait is over.
    /// Returns how many were resolved.
    #[tracing::instrument(skip_all)]
    pub async fn resume_pending(&self, now: OffsetDateTime) -> Result<usize, IngestError> {
        const BATCH: u32 = 10_000;
        let open = self.store.open_pending(BATCH).await?;
        // Only what can change is taken again: its wait is over, or every definition it
        // waits for is stored now (whether the poster may read it is judged as at first).
        let mut held: HashMap<String, bool> = HashMap::new();
        let mut groups: BTreeMap<(String, String, String, Option<String>), Vec<StoredPending>> =
            BTreeMap::new();
        for p in open {
            let mut due = p.expires_at <= now;
            if !due {
                due = true;
                for id in &p.waiting_for {
                    let stored = match held.get(id) {
                        Some(h) => *h,
                        None => {
                            let h = !self.store.marking_definitions(id).await?.is_empty();
                            held.insert(id.clone(), h);
                            h
                        }
                    };
                    due &= stored;
                }
            }
            if due {
                let key = (
                    p.status_id.clone(),
                    p.fingerprint.clone(),
                    p.collection.clone(),
                    p.case_id.clone(),
                );
                groups.entry(key).or_default().push(p);
            }
        }
        let mut resolved = 0;
        for ((_, fingerprint, collection, case), rows) in groups {
            match self
                .resume_group(&fingerprint, &collection, case.as_deref(), &rows, now)
                .await
            {
                Ok(n) => resolved += n,
                // Another instance resolved them first.
                Err(IngestError::Store(StoreError::Conflict(_))) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(resolved)
    }

    /// One envelope's waiting objects of one poster, collection and case.
    async fn resume_group(
        &self,
        fingerprint: &str,
        collection_id: &str,
        case: Option<&str>,
        rows: &[StoredPending],
        now: OffsetDateTime,
    ) -> Result<usize, IngestError> {
        let fail_all = |why: &str| PendingWrites {
            new: Vec::new(),
            resolved: rows
                .iter()
                .map(|r| (r.key, Resolution::Failed(why.to_owned())))
                .collect(),
        };
        // The poster must still have access, as for any request of its own.
        let record = match fingerprint.parse() {
            Ok(f) => self.store.registry_record(&f).await?,
            Err(_) => None,
        };
        let Some(caller) =
            record.filter(|r| crate::domain::access::authorise(Some(r), now).is_ok())
        else {
            let write = fail_all("the principal that posted it no longer has access");
            self.store.insert_objects(&[], &[], &write).await?;
            return Ok(rows.len());
        };
        let collection = writable_collection(&caller, collection_id)?;
        let case = match case {
            None => None,
            Some(id) => match self.named_case(&caller, id).await {
                Ok(c) => Some(c),
                Err(IngestError::UnknownCase) => {
                    self.store
                        .insert_objects(&[], &[], &fail_all("no such case"))
                        .await?;
                    return Ok(rows.len());
                }
                Err(e) => return Err(e),
            },
        };
        // An open row always has its text; one without would be refused as no STIX object.
        let texts: Vec<&str> = rows
            .iter()
            .map(|r| r.raw.as_deref().unwrap_or("{}"))
            .collect();
        let envelope = format!("{{\"objects\":[{}]}}", texts.join(","));
        let objects = envelope_objects(envelope.as_bytes(), &JsonLimits::default())?;
        let batch = self
            .take_batch(&caller, collection.id, case.as_ref(), &objects, now)
            .await?;
        let mut write = PendingWrites::default();
        for (row, result) in rows.iter().zip(&batch.results) {
            let resolution = match result {
                Fate::Stored(_) => Resolution::Stored,
                Fate::Failed(o) => Resolution::Failed(o.message.clone().unwrap_or_default()),
                Fate::Waiting { outcome, .. } if row.expires_at <= now => {
                    Resolution::Failed(outcome.message.clone().unwrap_or_default())
                }
                Fate::Waiting { .. } => continue,
            };
            write.resolved.push((row.key, resolution));
        }
        let count = write.resolved.len();
        let stored = write
            .resolved
            .iter()
            .filter(|(_, r)| *r == Resolution::Stored)
            .count();
        let reason = format!(
            "{stored} stored, {} refused after waiting for marking definitions",
            count - stored
        );
        self.write_batch(
            &caller,
            collection,
            case.as_ref(),
            batch,
            now,
            &reason,
            &write,
        )
        .await?;
        Ok(count)
    }

    /// The case a submission names: only the provider it was handed to (or an analyst) may
    /// name it; anyone else is told it does not exist.
    async fn named_case(&self, caller: &RegistryRecord, id: &str) -> Result<Case, IngestError> {
        let case = self.store.case(id).await?.ok_or(IngestError::UnknownCase)?;
        if may_see_case(caller, &case) {
            Ok(case)
        } else {
            Err(IngestError::UnknownCase)
        }
    }

    /// One object of an envelope: validated, anonymised if it is a submission, checked
    /// against the marking rules.
    #[allow(clippy::too_many_arguments)]
    async fn take(
        &self,
        caller: &RegistryRecord,
        collection: &str,
        raw: &str,
        value: &serde_json::Value,
        anonymising: Option<&Anonymising<'_>>,
        local: &HashMap<String, Result<Meaning, String>>,
        standing: &mut Standing,
        date_added: OffsetDateTime,
    ) -> Result<Taken, Refused> {
        // Validated before anonymisation, so that the reasons given for an invalid object are
        // about what was sent.
        let stix = validate(raw, value).map_err(|errors| Refused(join_errors(&errors)))?;
        // An indicator that would make blocking tools block everything is refused from
        // anyone, before anonymisation, so that the reason is about what was sent.
        crate::domain::blocklist::check_indicator(value, &self.exports.networks)?;
        let (stix, changes, original, dedup, rewritten) = if let Some(Anonymising {
            victim,
            key,
            renamed,
        }) = anonymising
        {
            let anonymised = anonymise(value, self.anonymisation, victim, key)
                .map_err(|refused| Refused(refused.to_string()))?;
            let mut changes: Vec<ReportedChange> = anonymised
                .changes
                .iter()
                .map(|c| ReportedChange {
                    object: c.object_id.clone(),
                    field: c.field.clone(),
                    rule: c.rule.as_str().to_owned(),
                    action: c.action.as_str().to_owned(),
                })
                .collect();
            let mut rewritten = anonymised.rewritten;
            // Ids derived from a value the anonymiser rewrote (observables) are replaced,
            // here and wherever this envelope refers to them.
            let mut renaming = rewritten.clone().unwrap_or_else(|| value.clone());
            let fields = rename_ids(&mut renaming, renamed, "");
            if !fields.is_empty() {
                let object = value.get("id").and_then(|v| v.as_str()).unwrap_or_default();
                for field in fields {
                    changes.push(ReportedChange {
                        object: object.to_owned(),
                        field,
                        rule: "value_derived_id".into(),
                        action: "replaced".into(),
                    });
                }
                rewritten = Some(renaming);
            }
            let dedup = dedup_key(rewritten.as_ref().unwrap_or(value));
            match rewritten {
                None => (stix, changes, None, dedup, None),
                Some(rewritten) => {
                    let text = serde_json::to_string(&rewritten)?;
                    // The rewritten object must still be valid STIX; if not, it is refused
                    // rather than stored half-anonymised.
                    let stix = validate(&text, &rewritten).map_err(|errors| {
                        Refused(format!(
                            "the anonymised object is not valid: {}",
                            join_errors(&errors)
                        ))
                    })?;
                    (stix, changes, Some(raw.to_owned()), dedup, Some(rewritten))
                }
            }
        } else {
            (stix, Vec::new(), None, String::new(), None)
        };
        // What is stored, and judged from here on.
        let stored = rewritten.as_ref().unwrap_or(value);
        let (mut new, version) = self
            .prepare(
                caller, collection, &stix, stored, local, standing, date_added,
            )
            .await?;
        new.refs = referenced_ids(stored);
        Ok(Taken {
            new,
            version,
            changes,
            original,
            dedup,
        })
    }

    /// Resolves non-standard marking ids: from the envelope, else from stored definitions the
    /// caller may read. A definition it may not read counts as unknown, so that the answer
    /// says nothing about what others stored.
    async fn resolve(
        &self,
        caller: &RegistryRecord,
        local: &HashMap<String, Result<Meaning, String>>,
        refs: &[&str],
    ) -> Result<HashMap<String, Meaning>, Refused> {
        let reader = self.federation.reader(caller);
        let mut known = HashMap::new();
        for id in refs {
            if definitions::standard(id).is_some() {
                continue;
            }
            let meaning = match local.get(*id) {
                Some(Ok(m)) => *m,
                Some(Err(e)) => return Err(Refused(e.clone())),
                None => {
                    // What the caller may read of it, through the one decision. A marking
                    // definition names nothing the reference rule governs.
                    let readable = self
                        .store
                        .marking_definitions(id)
                        .await?
                        .into_iter()
                        .find_map(|d| release(self.policy, &reader, d, &ReadableSet::default()));
                    match readable.and_then(|d| d.json()) {
                        Some(value) => definitions::interpret(&value)?,
                        None => continue,
                    }
                }
            };
            known.insert((*id).to_owned(), meaning);
        }
        Ok(known)
    }

    /// Checks one valid object against the marking rules and builds what the store takes,
    /// with the version text to report.
    #[allow(clippy::too_many_arguments)]
    async fn prepare(
        &self,
        caller: &RegistryRecord,
        collection: &str,
        stix: &StixObject,
        value: &serde_json::Value,
        local: &HashMap<String, Result<Meaning, String>>,
        standing: &mut Standing,
        date_added: OffsetDateTime,
    ) -> Result<(NewObject, Option<String>), Refused> {
        if stix.object_type == "marking-definition" {
            // Refuse a lying or unknown definition before it can be stored.
            if let Some(Err(e)) = local.get(stix.id.as_str()) {
                return Err(Refused(e.clone()));
            }
        }
        let object_refs: Vec<&str> = stix
            .object_marking_refs
            .iter()
            .map(|r| r.as_str())
            .collect();
        let granular_refs: Vec<&str> = stix
            .granular_markings
            .iter()
            .filter_map(|g| g.marking_ref.as_ref().map(|r| r.as_str()))
            .collect();
        let all_refs: Vec<&str> = object_refs.iter().chain(&granular_refs).copied().collect();
        let known = self.resolve(caller, local, &all_refs).await?;
        // A definition the hub does not hold (or not for this poster: the same answer) may
        // still come, ATT&CK bundles send theirs last: the object may wait for it.
        let mut unknown: Vec<String> = all_refs
            .iter()
            .filter(|id| definitions::standard(id).is_none() && !known.contains_key(**id))
            .map(|id| (*id).to_owned())
            .collect();
        if let Some(first) = unknown.first() {
            let message = format!("marking {first} is unknown to this hub");
            unknown.sort();
            unknown.dedup();
            return Err(Refused {
                message,
                awaiting: unknown,
            });
        }
        let lookup = |id: &str| known.get(id).copied();
        // TLP and PAP written as labels count as markings (misp-stix #77).
        let markings: ObjectMarkings = definitions::with_labels(
            definitions::normalise(&object_refs, lookup)?,
            &definitions::label_markings(value)?,
        )?;

        let mut granular = Vec::new();
        for g in &stix.granular_markings {
            let Some(r) = &g.marking_ref else { continue };
            let level = definitions::standard(r.as_str()).or_else(|| match lookup(r.as_str()) {
                Some(Meaning::Level(l)) => Some(l),
                _ => None,
            });
            match (level, lookup(r.as_str())) {
                (Some(Level::Tlp(tlp)), _) => granular.push(GranularTlp {
                    tlp,
                    selectors: g.selectors.clone(),
                }),
                // PAP and statements on parts of an object restrict no reader.
                (Some(Level::Pap(_)), _) | (None, Some(Meaning::Statement)) => {}
                (None, _) => {
                    return Err(Refused(format!("marking {r} is unknown to this hub")));
                }
            }
        }

        let (tlp, tlp_defaulted) = match markings.tlp {
            Some(t) => (t, false),
            None => (self.policy.default_tlp, true),
        };
        let key = stix
            .version()
            .map(|t| version_key(t.time()))
            .unwrap_or_default();
        let poster = Poster {
            organisation: &caller.organisation.id,
            csirt: caller.principal.kind == PrincipalKind::Analyst,
            relays: matches!(
                caller.principal.kind,
                PrincipalKind::Analyst | PrincipalKind::Peer
            ),
        };
        let submission = collection == SUBMISSIONS.id;
        let previous = standing.lineages.get(stix.id.as_str());
        let (producer, scoped) = match previous {
            Some(p) => {
                check_new_version(poster, &p.access, tlp, markings.pap)?;
                (p.access.producer.clone(), p.scoped)
            }
            None => (
                caller.organisation.id.clone(),
                submission || standing.hidden.contains(stix.id.as_str()),
            ),
        };
        check_attribution(
            stix.created_by_ref.as_ref().map(|r| r.as_str()),
            &producer,
            poster,
            |id| standing.members.contains(id),
        )?;
        let access = ObjectAccess {
            tlp,
            pap: markings.pap,
            producer,
            shared_with: Vec::new(),
            recipients: Vec::new(),
            granular,
            confined: new_version_confined(submission, previous.map(|p| p.access.confined)),
            submission,
            origin_peer: (caller.principal.kind == PrincipalKind::Peer)
                .then(|| caller.principal.id.clone()),
        };
        let newer = previous.is_none_or(|p| key > p.version);
        if let Some(p) = previous
            && newer
            && (p.access.tlp, p.access.pap) != (tlp, markings.pap)
        {
            standing.remarks.push(Remark {
                id: stix.id.as_str().to_owned(),
                from: p.access.clone(),
                to: access.clone(),
            });
        }
        if previous.is_none_or(|p| key >= p.version) {
            standing.lineages.insert(
                stix.id.as_str().to_owned(),
                Lineage {
                    version: key.clone(),
                    access: access.clone(),
                    scoped,
                },
            );
        }
        let version = if scoped {
            scoped_version(&key, access.producer.as_str())
        } else {
            key
        };
        let new = NewObject {
            collection: collection.to_owned(),
            id: stix.id.as_str().to_owned(),
            object_type: stix.object_type.clone(),
            spec_version: stix.spec_version.clone().unwrap_or_else(|| "2.1".into()),
            version,
            date_added,
            access,
            tlp_defaulted,
            submitted_by: caller.principal.id.clone(),
            raw: stix.raw.clone(),
            case_id: None,
            refs: Vec::new(),
        };
        Ok((new, stix.version().map(|t| t.as_str().to_owned())))
    }
}

/// What a page pulled from a peer came to: what to store with its audit records, and what
/// was refused, with why.
#[derive(Debug, Default)]
pub struct FederatedBatch {
    pub accepted: Vec<NewObject>,
    pub audits: Vec<AuditRecord>,
    pub refused: Vec<Outcome>,
}

impl Ingest<'_> {
    /// Takes in objects a peer delivered, as that peer (`peer` is its registry record): the
    /// same strict validation and marking normalisation as a local write, object by object,
    /// so one bad object does not stop the page. `provenance` refuses first what the peer may
    /// not deliver (someone else's object). Objects citing a marking definition the hub does
    /// not hold are refused, not set aside: the peer sends the definition, then the object
    /// again.
    pub async fn take_federated(
        &self,
        peer: &RegistryRecord,
        collection: &str,
        remote: &str,
        objects: &[crate::domain::stix::json::RawObject<'_>],
        now: OffsetDateTime,
        provenance: impl Fn(&serde_json::Value) -> Option<String>,
    ) -> Result<FederatedBatch, IngestError> {
        let mut refused = Vec::new();
        let mut kept = Vec::with_capacity(objects.len());
        for object in objects {
            let value = object.value.as_ref().ok();
            match value.and_then(&provenance) {
                Some(message) => refused.push(Outcome {
                    id: value
                        .and_then(|v| v.get("id"))
                        .and_then(|v| v.as_str())
                        .map(str::to_owned),
                    version: None,
                    message: Some(message),
                    changes: Vec::new(),
                    submission: None,
                }),
                None => kept.push(object.clone()),
            }
        }
        let batch = self.take_batch(peer, collection, None, &kept, now).await?;
        for fate in batch.results {
            match fate {
                Fate::Stored(_) => {}
                Fate::Failed(o) | Fate::Waiting { outcome: o, .. } => refused.push(o),
            }
        }
        let reason = format!(
            "{} taken, {} refused from the peer's collection {remote}",
            batch.accepted.len(),
            refused.len()
        );
        let mut audits = vec![
            AuditRecord::by(peer, "federation.pull", now)
                .objects([collection])
                .objects(batch.accepted.iter().map(|o| o.id.as_str()))
                .markings(batch.accepted.iter().flat_map(|o| o.access.marking_names()))
                .reason(reason),
        ];
        audits.extend(batch.remarks.iter().map(|r| {
            AuditRecord::by(peer, "objects.remark", now)
                .objects([collection, r.id.as_str()])
                .markings(r.from.marking_names().chain(r.to.marking_names()))
                .reason(format!(
                    "{} -> {}",
                    marking_names(&r.from),
                    marking_names(&r.to)
                ))
        }));
        Ok(FederatedBatch {
            accepted: batch.accepted,
            audits,
            refused,
        })
    }
}

/// What a `DELETE` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    Versions(u64),
    /// The caller sees the object but did not produce it.
    NotProducer,
    /// Nothing the caller may see matched: missing and hidden alike.
    NotFound,
    /// A submission the CSIRT has published, merged or rejected: kept as the record.
    Decided,
}

impl Ingest<'_> {
    /// Deletes versions of an object, for its producer only. `versions` holds version keys;
    /// empty: every version.
    pub async fn delete(
        &self,
        caller: &RegistryRecord,
        reader: &crate::domain::markings::release::Reader,
        collection_id: &str,
        object_id: &str,
        versions: &[String],
        now: OffsetDateTime,
    ) -> Result<Deleted, IngestError> {
        let collection = writable_collection(caller, collection_id)?;
        let stored = self
            .store
            .versions_of_many(collection.id, &[object_id.to_owned()])
            .await?;
        let visible: Vec<_> = stored
            .into_iter()
            .filter(|o| versions.is_empty() || versions.contains(&o.version))
            .filter(|o| {
                crate::domain::markings::release::decide(self.policy, reader, &o.access)
                    != crate::domain::markings::release::Decision::Withhold
            })
            .collect();
        if visible.is_empty() {
            return Ok(Deleted::NotFound);
        }
        // Deleting "the object" removes the caller's own versions: the same id may hold another
        // organisation's lineage (see `Standing::hidden`), which is not the caller's to remove.
        // Versions named one by one must all be the caller's.
        let own: Vec<_> = visible
            .iter()
            .filter(|o| o.access.producer == caller.organisation.id)
            .collect();
        if own.is_empty() || (!versions.is_empty() && own.len() < visible.len()) {
            return Ok(Deleted::NotProducer);
        }
        let visible = own;
        let seqs: Vec<i64> = visible.iter().map(|o| o.seq).collect();
        if collection.id == SUBMISSIONS.id && self.store.decided_among(&seqs).await? {
            return Ok(Deleted::Decided);
        }
        let audit = AuditRecord::by(caller, "objects.delete", now)
            .objects([collection.id, object_id])
            .markings(visible.iter().flat_map(|o| o.access.marking_names()))
            .reason(format!("{} versions", seqs.len()));
        Ok(Deleted::Versions(
            self.store.delete_objects(&seqs, &audit).await?,
        ))
    }
}

/// `tlp:green pap:red`: how a remark names the markings it changed.
fn marking_names(access: &ObjectAccess) -> String {
    let names: Vec<String> = access.marking_names().collect();
    match access.pap {
        Some(_) => names.join(" "),
        None => format!("{} (no PAP)", names.join(" ")),
    }
}

fn join_errors(errors: &[crate::domain::stix::validate::ValidationError]) -> String {
    let mut parts: Vec<String> = errors
        .iter()
        .take(ERRORS_PER_MESSAGE)
        .map(|e| e.to_string())
        .collect();
    if errors.len() > ERRORS_PER_MESSAGE {
        parts.push(format!("and {} more", errors.len() - ERRORS_PER_MESSAGE));
    }
    parts.join("; ")
}
