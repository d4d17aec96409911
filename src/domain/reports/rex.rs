//! The REX (retour d'expérience) a provider returns after a mission (Convention art. 4):
//! structured fields checked here, then anonymised with the case's victim identifiers as one
//! document, exactly as a submission is.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::domain::cases::qualification::{MAX_LONG_TEXT, long_text, short_text};
use crate::domain::ioc::Technique;
pub use crate::domain::ioc::parse_tlp;
use crate::domain::markings::Pap;

/// Most events of a timeline, and most entries of any list field.
pub const MAX_ITEMS: usize = 200;
/// Most ATT&CK techniques one REX names.
pub const MAX_TECHNIQUES: usize = 100;
/// Most versions of one case's REX (the first and its amendments).
pub const MAX_VERSIONS: usize = 50;
/// The STIX type of the envelope the anonymiser reads a REX as: not a STIX object that exists
/// anywhere else, so no rule of the anonymiser treats it as an observable or a pattern.
pub const REX_TYPE: &str = "x-relais-rex";

/// One dated event of the mission's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimelineEvent {
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    /// What happened (1 to 20000 bytes).
    pub event: String,
}

/// The structured part of a REX, as the provider writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RexFields {
    /// The mission's timeline, at most 200 events (stored in time order).
    pub timeline: Vec<TimelineEvent>,
    /// How the attacker got in (1 to 200 bytes).
    pub initial_access: String,
    /// ATT&CK technique ids (`T1486`, `T1566.001`), at most 100.
    #[serde(default)]
    pub techniques: Vec<String>,
    pub impact: String,
    pub detection: String,
    #[serde(default)]
    pub containment: Vec<String>,
    #[serde(default)]
    pub remediation: Vec<String>,
    #[serde(default)]
    pub root_causes: Vec<String>,
    #[serde(default)]
    pub lessons: Vec<String>,
    #[serde(default)]
    pub recommendations: Vec<String>,
}

/// What a provider posts: the fields, optionally the STIX part, and the markings.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RexRequest {
    pub report: RexFields,
    /// A STIX 2.1 bundle: a `report` that refers to an `incident`, and the indicators. Its
    /// objects go to the triage queue as a submission of the case.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub bundle: Option<Value>,
    /// Default `amber`: the CSIRT only.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "amber")]
    pub tlp: Option<String>,
    /// Default `amber`.
    #[serde(default)]
    pub pap: Option<Pap>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RexError {
    pub field: String,
    pub message: String,
}

fn bad(field: impl Into<String>, message: impl Into<String>) -> RexError {
    RexError {
        field: field.into(),
        message: message.into(),
    }
}

fn list(field: &str, values: &[String]) -> Result<Vec<String>, RexError> {
    if values.len() > MAX_ITEMS {
        return Err(bad(field, format!("at most {MAX_ITEMS} entries")));
    }
    values
        .iter()
        .enumerate()
        .map(|(i, v)| long_text(&format!("{field}/{i}"), v).map_err(|e| bad(field, e.to_string())))
        .collect()
}

/// The fields, checked and normalised: texts trimmed and bounded, techniques in the ATT&CK id
/// format and deduplicated, the timeline in time order.
pub fn check(fields: RexFields) -> Result<RexFields, RexError> {
    if fields.timeline.is_empty() {
        return Err(bad("timeline", "at least one event"));
    }
    if fields.timeline.len() > MAX_ITEMS {
        return Err(bad("timeline", format!("at most {MAX_ITEMS} events")));
    }
    let mut timeline = Vec::with_capacity(fields.timeline.len());
    for (i, e) in fields.timeline.into_iter().enumerate() {
        let event = long_text(&format!("timeline/{i}/event"), &e.event)
            .map_err(|e| bad("timeline", e.to_string()))?;
        timeline.push(TimelineEvent { at: e.at, event });
    }
    timeline.sort_by_key(|e| e.at);
    if fields.techniques.len() > MAX_TECHNIQUES {
        return Err(bad("techniques", format!("at most {MAX_TECHNIQUES} ids")));
    }
    let mut techniques: Vec<String> = Vec::with_capacity(fields.techniques.len());
    for t in &fields.techniques {
        let t = Technique::parse(t.trim()).map_err(|e| bad("techniques", e.to_string()))?;
        if !techniques.iter().any(|k| k == t.as_str()) {
            techniques.push(t.as_str().to_owned());
        }
    }
    let text = |field: &str, v: &str| long_text(field, v).map_err(|e| bad(field, e.to_string()));
    Ok(RexFields {
        timeline,
        initial_access: short_text("initial_access", &fields.initial_access)
            .map_err(|e| bad("initial_access", e.to_string()))?,
        techniques,
        impact: text("impact", &fields.impact)?,
        detection: text("detection", &fields.detection)?,
        containment: list("containment", &fields.containment)?,
        remediation: list("remediation", &fields.remediation)?,
        root_causes: list("root_causes", &fields.root_causes)?,
        lessons: list("lessons", &fields.lessons)?,
        recommendations: list("recommendations", &fields.recommendations)?,
    })
}

/// The bundle's objects, if it is the STIX part a REX may carry: a bundle holding a `report`
/// that refers to an `incident` of the same bundle. The objects themselves are checked by the
/// ingest path, one by one, like any submission.
pub fn bundle_objects(bundle: &Value) -> Result<&[Value], RexError> {
    if bundle.get("type").and_then(Value::as_str) != Some("bundle") {
        return Err(bad("bundle", "a STIX bundle (type \"bundle\") is expected"));
    }
    let objects = bundle
        .get("objects")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("bundle", "the bundle has no objects"))?;
    let of_type = |t: &str| -> Vec<&Value> {
        objects
            .iter()
            .filter(|o| o.get("type").and_then(Value::as_str) == Some(t))
            .collect()
    };
    let incidents: Vec<&str> = of_type("incident")
        .iter()
        .filter_map(|o| o.get("id").and_then(Value::as_str))
        .collect();
    let reports = of_type("report");
    if reports.is_empty() {
        return Err(bad("bundle", "the bundle holds no report"));
    }
    let linked = reports.iter().any(|r| {
        r.get("object_refs")
            .and_then(Value::as_array)
            .is_some_and(|refs| {
                refs.iter()
                    .filter_map(Value::as_str)
                    .any(|id| incidents.contains(&id))
            })
    });
    if !linked {
        return Err(bad(
            "bundle",
            "the bundle's report must refer to an incident of the bundle",
        ));
    }
    Ok(objects)
}

/// The REX as one document the anonymiser reads (`anonymise` takes STIX-shaped objects: the
/// id and type are syntax it leaves alone).
pub fn as_document<T: Serialize>(case_uuid: &str, fields: &T) -> Result<Value, serde_json::Error> {
    let mut doc = serde_json::to_value(fields)?;
    if let Value::Object(map) = &mut doc {
        map.insert("type".into(), Value::String(REX_TYPE.into()));
        map.insert(
            "id".into(),
            Value::String(format!("{REX_TYPE}--{case_uuid}")),
        );
    }
    Ok(doc)
}

/// Any report's fields back from the document [`as_document`] made.
pub fn strip_document<T: serde::de::DeserializeOwned>(mut doc: Value) -> Result<T, RexError> {
    if let Value::Object(map) = &mut doc {
        map.remove("type");
        map.remove("id");
    }
    serde_json::from_value(doc).map_err(|e| bad("report", e.to_string()))
}

/// The fields back from the anonymised document. Every rewritten string is still bounded:
/// a redaction or pseudonym may be longer than what it replaced, so the bound is checked again.
pub fn from_document(doc: Value) -> Result<RexFields, RexError> {
    let fields: RexFields = strip_document(doc)?;
    let too_long = fields
        .timeline
        .iter()
        .map(|e| &e.event)
        .chain([&fields.impact, &fields.detection])
        .chain(fields.containment.iter())
        .chain(fields.remediation.iter())
        .chain(fields.root_causes.iter())
        .chain(fields.lessons.iter())
        .chain(fields.recommendations.iter())
        .any(|t| t.len() > MAX_LONG_TEXT * 2);
    if too_long {
        return Err(bad("report", "a text grew too long once anonymised"));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    fn fields() -> RexFields {
        RexFields {
            timeline: vec![
                TimelineEvent {
                    at: datetime!(2026-03-02 10:00 UTC),
                    event: "containment".into(),
                },
                TimelineEvent {
                    at: datetime!(2026-03-01 09:00 UTC),
                    event: " first call ".into(),
                },
            ],
            initial_access: "phishing".into(),
            techniques: vec!["T1566.001".into(), "T1486".into(), "T1486".into()],
            impact: "files encrypted".into(),
            detection: "the beneficiary's staff".into(),
            containment: vec!["isolated the file server".into()],
            remediation: vec![],
            root_causes: vec!["no MFA".into()],
            lessons: vec![],
            recommendations: vec!["MFA".into()],
        }
    }

    #[test]
    fn fields_are_normalised() {
        let f = check(fields()).unwrap();
        assert_eq!(f.timeline[0].event, "first call");
        assert_eq!(f.techniques, ["T1566.001", "T1486"]);
    }

    #[test]
    fn techniques_follow_the_attack_format() {
        for wrong in ["T12", "t1486", "T1486.1", "TA0001", "T1486.0011", ""] {
            let mut f = fields();
            f.techniques = vec![wrong.into()];
            assert_eq!(check(f).unwrap_err().field, "techniques", "{wrong}");
        }
    }

    #[test]
    fn empty_texts_and_timelines_are_refused() {
        let mut f = fields();
        f.timeline.clear();
        assert!(check(f).is_err());
        let mut f = fields();
        f.impact = "  ".into();
        assert_eq!(check(f).unwrap_err().field, "impact");
        let mut f = fields();
        f.lessons = vec!["x".into(); MAX_ITEMS + 1];
        assert_eq!(check(f).unwrap_err().field, "lessons");
    }

    #[test]
    fn the_document_round_trips() {
        let f = check(fields()).unwrap();
        let doc = as_document("0b0d6e3e-8d1b-4a4e-9a53-1d2e2f9f5b11", &f).unwrap();
        assert_eq!(doc["type"], REX_TYPE);
        assert_eq!(from_document(doc).unwrap(), f);
    }

    #[test]
    fn a_bundle_needs_a_report_on_an_incident() {
        let incident = json!({"type": "incident", "id": "incident--1"});
        let ok = json!({"type": "bundle", "objects": [
            incident, {"type": "report", "id": "report--1", "object_refs": ["incident--1"]}]});
        assert_eq!(bundle_objects(&ok).unwrap().len(), 2);
        let unlinked = json!({"type": "bundle", "objects": [
            {"type": "incident", "id": "incident--1"},
            {"type": "report", "id": "report--1", "object_refs": ["indicator--1"]}]});
        assert!(bundle_objects(&unlinked).is_err());
        assert!(bundle_objects(&json!({"type": "bundle", "objects": []})).is_err());
        assert!(bundle_objects(&json!({"objects": []})).is_err());
    }
}
