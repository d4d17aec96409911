//! Plain IOC items for providers who do not speak STIX (`POST /api/v1/iocs`). Each item becomes
//! an indicator (with attack-patterns for its ATT&CK techniques) and follows the same path as
//! a TAXII submission: anonymised, confined, queued for triage. Each item succeeds or fails
//! on its own.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::ingest::{Ingest, IngestError, Outcome};
use crate::domain::access::RegistryRecord;
use crate::domain::collections::SUBMISSIONS;
use crate::domain::ioc::{ConvertedIoc, RandomIds, convert_request};
use crate::domain::stix::id::StixId;
use crate::domain::triage::ReportedChange;
use crate::store::StoreError;

/// The outcome of one item, at its position in the request.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemOutcome {
    pub index: usize,
    /// `accepted` (queued for triage) or `refused`.
    #[schema(value_type = String, pattern = "^(accepted|refused)$")]
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indicator: Option<String>,
    /// The triage queue entry, for `GET /api/v1/submissions/{id}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submission: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<ReportedChange>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IocResponse {
    pub accepted: usize,
    pub refused: usize,
    pub items: Vec<ItemOutcome>,
}

fn refused(index: usize, errors: Vec<String>) -> ItemOutcome {
    ItemOutcome {
        index,
        status: "refused",
        indicator: None,
        submission: None,
        changes: Vec::new(),
        errors,
    }
}

impl Ingest<'_> {
    /// Takes a request's IOC items in, as submissions of `caller`.
    pub async fn iocs(
        &self,
        caller: &RegistryRecord,
        body: &Value,
        now: OffsetDateTime,
    ) -> Result<IocResponse, IngestError> {
        // The hub attributes what it builds to the submitting organisation.
        // Derived from the organisation's stored id: one that gives no identifier is corrupt.
        let identity = StixId::parse(&caller.organisation.id.stix_identity())
            .map_err(|e| IngestError::Store(StoreError::Corrupt(e.to_string())))?;
        let converted = convert_request(
            body,
            Some(&identity),
            now,
            &self.exports.networks,
            &mut RandomIds,
        )
        .map_err(|e| IngestError::Items(e.to_string()))?;
        let mut outcomes: Vec<Option<ItemOutcome>> = (0..converted.len()).map(|_| None).collect();
        // Items naming the same case go in one envelope, so that each is anonymised against its
        // own beneficiary's identifiers.
        let mut groups: BTreeMap<Option<String>, Vec<(usize, ConvertedIoc)>> = BTreeMap::new();
        for (index, item) in converted.into_iter().enumerate() {
            match item {
                Ok(ioc) => groups
                    .entry(ioc.case.clone())
                    .or_default()
                    .push((index, ioc)),
                Err(errors) => {
                    outcomes[index] = Some(refused(
                        index,
                        errors
                            .iter()
                            .map(|e| format!("{}: {}", e.pointer(index), e.error))
                            .collect(),
                    ))
                }
            }
        }
        for (case, mut items) in groups {
            for (_, ioc) in &mut items {
                fresh_attack_pattern_ids(&mut ioc.objects);
            }
            let objects: Vec<&Value> = items.iter().flat_map(|(_, i)| &i.objects).collect();
            let envelope = serde_json::to_vec(&json!({ "objects": objects }))
                .map_err(|e| IngestError::Items(e.to_string()))?;
            let report = match self
                // An IOC item names only standard markings: nothing of it waits.
                .envelope(
                    caller,
                    SUBMISSIONS.id,
                    &envelope,
                    now,
                    case.as_deref(),
                    None,
                )
                .await
            {
                Ok(report) => report,
                Err(IngestError::UnknownCase) => {
                    for (index, _) in items {
                        outcomes[index] =
                            Some(refused(index, vec![format!("/{index}/case: no such case")]));
                    }
                    continue;
                }
                Err(e) => return Err(e),
            };
            let by_id = |list: &[Outcome], id: &str| -> Option<Outcome> {
                list.iter().find(|o| o.id.as_deref() == Some(id)).cloned()
            };
            for (index, ioc) in items {
                // The item stands or falls with its indicator; its attack-patterns and
                // relationships are context for the analyst.
                outcomes[index] = Some(match by_id(&report.successes, &ioc.indicator_id) {
                    Some(ok) => ItemOutcome {
                        index,
                        status: "accepted",
                        indicator: Some(ioc.indicator_id.clone()),
                        submission: ok.submission,
                        changes: ok.changes,
                        errors: Vec::new(),
                    },
                    None => refused(
                        index,
                        by_id(&report.failures, &ioc.indicator_id)
                            .and_then(|o| o.message)
                            .into_iter()
                            .collect(),
                    ),
                });
            }
        }
        let items: Vec<ItemOutcome> = outcomes.into_iter().flatten().collect();
        let accepted = items.iter().filter(|i| i.status == "accepted").count();
        Ok(IocResponse {
            accepted,
            refused: items.len() - accepted,
            items,
        })
    }
}

/// Gives the converter's attack-patterns ids of this submission's own. Their ids are derived
/// from the technique alone, so a second provider sending the same technique would otherwise
/// post a version of the first one's confined submission and learn from the refusal that
/// someone had sent it; an id derived from the organisation instead would let readers of
/// published relationships tell which ones came from the same provider. Random ids say
/// nothing; the triage queue still shows them as one item (same name).
fn fresh_attack_pattern_ids(objects: &mut [Value]) {
    let mut renamed: Vec<(String, String)> = Vec::new();
    for object in objects.iter_mut() {
        if object.get("type").and_then(Value::as_str) != Some("attack-pattern") {
            continue;
        }
        let Some(id) = object.get("id").and_then(Value::as_str).map(str::to_owned) else {
            continue;
        };
        let scoped = format!("attack-pattern--{}", uuid::Uuid::new_v4());
        object["id"] = Value::from(scoped.clone());
        renamed.push((id, scoped));
    }
    for object in objects.iter_mut() {
        if let Some(target) = object.get("target_ref").and_then(Value::as_str)
            && let Some((_, scoped)) = renamed.iter().find(|(old, _)| old == target)
        {
            object["target_ref"] = Value::from(scoped.clone());
        }
    }
}
