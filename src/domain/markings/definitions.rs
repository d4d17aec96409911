//! Recognising marking definitions and normalising the markings of an object.
//!
//! Marking definitions are matched by id against the exact OASIS table; a well-known id whose
//! content says something else, a copy of a TLP 2.0 definition under another id, or a marking
//! relais does not understand is refused: an object is never treated as less restricted than
//! its author meant (fail closed).

use serde_json::Value;

use super::{Pap, Tlp};

pub const TLP2_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";
pub const PAP_EXTENSION: &str = "extension-definition--f8d78575-edfd-406e-8e84-6162a8450f5b";

/// TLP 2.0 definitions: (level, id, value of `tlp_2_0`).
const TLP2: [(Tlp, &str, &str); 5] = [
    (
        Tlp::Clear,
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        "clear",
    ),
    (
        Tlp::Green,
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        "green",
    ),
    (
        Tlp::Amber,
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        "amber",
    ),
    (
        Tlp::AmberStrict,
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        "amber+strict",
    ),
    (
        Tlp::Red,
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
        "red",
    ),
];

/// TLP 1.0 definitions predefined by STIX 2.1: (level it maps to, id, value of `definition.tlp`).
const TLP1: [(Tlp, &str, &str); 4] = [
    (
        Tlp::Clear,
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
        "white",
    ),
    (
        Tlp::Green,
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        "green",
    ),
    (
        Tlp::Amber,
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
        "amber",
    ),
    (
        Tlp::Red,
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
        "red",
    ),
];

/// PAP definitions: (level, id, value of `pap`).
const PAP: [(Pap, &str, &str); 5] = [
    (
        Pap::Clear,
        "marking-definition--ad15a0cd-55b6-4588-a14c-a66105329b92",
        "clear",
    ),
    (
        Pap::Green,
        "marking-definition--c43594d1-4b11-4c59-93ab-1c9b14d53ce9",
        "green",
    ),
    (
        Pap::Amber,
        "marking-definition--60f8932b-e51e-4458-b265-a2e8be9a80ab",
        "amber",
    ),
    (
        Pap::Red,
        "marking-definition--740d36e5-7714-4c30-961a-3ae632ceee0e",
        "red",
    ),
    (
        Pap::Clear,
        "marking-definition--a3bea94c-b469-41dc-9cfe-d6e7daba7730",
        "white",
    ),
];

pub(super) fn tlp2_id(tlp: Tlp) -> &'static str {
    TLP2.iter()
        .find(|(t, _, _)| *t == tlp)
        .map(|(_, id, _)| *id)
        .unwrap_or(TLP2[4].1)
}

/// The OASIS PAP marking definition of a level (the CLEAR one, not the old WHITE one).
pub fn pap_id(pap: Pap) -> &'static str {
    PAP.iter()
        .find(|(p, _, _)| *p == pap)
        .map(|(_, id, _)| *id)
        .unwrap_or(PAP[3].1)
}

/// What a marking means to the access rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Tlp(Tlp),
    Pap(Pap),
}

/// The meaning of a marking definition relais accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    Level(Level),
    /// A statement (copyright, terms of use): informative, restricts no reader.
    Statement,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarkingError {
    #[error("{id} is the OASIS id of {expected} but its content says otherwise")]
    IdContentMismatch { id: String, expected: String },
    #[error("{id} copies a TLP 2.0 or PAP definition under a non-standard id")]
    NonStandardId { id: String },
    #[error("marking {id} is unknown to this hub")]
    Unknown { id: String },
    #[error("marking definition {id} is malformed: {reason}")]
    Malformed { id: String, reason: &'static str },
    #[error("contradictory {what} markings: {first} and {second}")]
    Contradictory {
        what: &'static str,
        first: String,
        second: String,
    },
    #[error("the label {label:?} is not a {what} level this hub knows")]
    UnknownLabel { what: &'static str, label: String },
    #[error("the label {label} says less than the object's marking {marking}")]
    LabelBelowMarking { label: String, marking: String },
}

/// The level of one of the standard OASIS marking definition ids (TLP 2.0, TLP 1.0, PAP).
pub fn standard(id: &str) -> Option<Level> {
    TLP2.iter()
        .chain(TLP1.iter())
        .find(|(_, i, _)| *i == id)
        .map(|(t, _, _)| Level::Tlp(*t))
        .or_else(|| {
            PAP.iter()
                .find(|(_, i, _)| *i == id)
                .map(|(p, _, _)| Level::Pap(*p))
        })
}

fn ext_value<'a>(def: &'a Value, ext: &str, field: &str) -> Option<&'a str> {
    def.get("extensions")?.get(ext)?.get(field)?.as_str()
}

/// Interprets a `marking-definition` object received from a client or a peer.
pub fn interpret(def: &Value) -> Result<Meaning, MarkingError> {
    let id = def.get("id").and_then(Value::as_str).unwrap_or_default();
    let malformed = |reason| MarkingError::Malformed {
        id: id.to_owned(),
        reason,
    };
    let mismatch = |expected: &str| MarkingError::IdContentMismatch {
        id: id.to_owned(),
        expected: expected.to_owned(),
    };

    if let Some((tlp, _, value)) = TLP2.iter().find(|(_, i, _)| *i == id) {
        let ok = ext_value(def, TLP2_EXTENSION, "tlp_2_0") == Some(value)
            && ext_value(def, TLP2_EXTENSION, "extension_type") == Some("property-extension");
        return if ok {
            Ok(Meaning::Level(Level::Tlp(*tlp)))
        } else {
            Err(mismatch(tlp.label()))
        };
    }
    if let Some((tlp, _, value)) = TLP1.iter().find(|(_, i, _)| *i == id) {
        let ok = def.get("definition_type").and_then(Value::as_str) == Some("tlp")
            && def
                .get("definition")
                .and_then(|d| d.get("tlp"))
                .and_then(Value::as_str)
                == Some(value);
        return if ok {
            Ok(Meaning::Level(Level::Tlp(*tlp)))
        } else {
            Err(mismatch(&format!("TLP 1.0 {value}")))
        };
    }
    if let Some((pap, _, value)) = PAP.iter().find(|(_, i, _)| *i == id) {
        let ok = ext_value(def, PAP_EXTENSION, "pap") == Some(value)
            && def.get("definition_type").is_none()
            && def.get("definition").is_none();
        return if ok {
            Ok(Meaning::Level(Level::Pap(*pap)))
        } else {
            Err(mismatch(pap.label()))
        };
    }
    let extensions = def.get("extensions");
    if extensions.and_then(|e| e.get(TLP2_EXTENSION)).is_some()
        || extensions.and_then(|e| e.get(PAP_EXTENSION)).is_some()
    {
        return Err(MarkingError::NonStandardId { id: id.to_owned() });
    }

    let definition_type = def.get("definition_type").and_then(Value::as_str);
    match definition_type {
        Some("statement") => {
            def.get("definition")
                .and_then(|d| d.get("statement"))
                .and_then(Value::as_str)
                .ok_or_else(|| malformed("a statement marking needs definition.statement"))?;
            Ok(Meaning::Statement)
        }
        // OpenCTI exports its own definitions: recognised by (definition_type, definition).
        Some(t) if t.eq_ignore_ascii_case("tlp") || t.eq_ignore_ascii_case("pap") => {
            let text = def
                .get("definition")
                .and_then(Value::as_str)
                .or_else(|| def.get("x_opencti_definition").and_then(Value::as_str))
                .ok_or(MarkingError::Unknown { id: id.to_owned() })?;
            if t == "tlp" {
                // A lower-case `tlp` definition under another id is a TLP 1.0 copy.
                return Err(MarkingError::NonStandardId { id: id.to_owned() });
            }
            if t.eq_ignore_ascii_case("tlp") {
                text.parse::<Tlp>()
                    .map(|l| Meaning::Level(Level::Tlp(l)))
                    .map_err(|_| MarkingError::Unknown { id: id.to_owned() })
            } else {
                text.parse::<Pap>()
                    .map(|l| Meaning::Level(Level::Pap(l)))
                    .map_err(|_| MarkingError::Unknown { id: id.to_owned() })
            }
        }
        _ => Err(MarkingError::Unknown { id: id.to_owned() }),
    }
}

/// The markings of one object after normalisation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObjectMarkings {
    pub tlp: Option<Tlp>,
    pub pap: Option<Pap>,
    /// Statement markings, kept for display; they restrict no one.
    pub statements: Vec<String>,
}

/// Normalises an object's `object_marking_refs`. Standard ids are resolved from the table;
/// any other id through `lookup` (definitions already stored, or sent in the same envelope).
/// An unresolvable id, or two TLP (or two PAP) markings of different levels, refuse the object.
pub fn normalise(
    refs: &[&str],
    lookup: impl Fn(&str) -> Option<Meaning>,
) -> Result<ObjectMarkings, MarkingError> {
    let mut out = ObjectMarkings::default();
    for id in refs {
        let meaning = match standard(id) {
            Some(level) => Meaning::Level(level),
            None => lookup(id).ok_or_else(|| MarkingError::Unknown {
                id: (*id).to_owned(),
            })?,
        };
        match meaning {
            Meaning::Level(Level::Tlp(t)) => merge("TLP", &mut out.tlp, t, Tlp::label)?,
            Meaning::Level(Level::Pap(p)) => merge("PAP", &mut out.pap, p, Pap::label)?,
            Meaning::Statement => out.statements.push((*id).to_owned()),
        }
    }
    Ok(out)
}

/// Properties other tools state TLP and PAP in, besides markings: MISP exports them as plain
/// labels (misp-stix #77), OpenCTI lists its markings' names in `x_opencti_markings`.
const LABEL_PROPERTIES: [&str; 2] = ["labels", "x_opencti_markings"];

/// The level a label names, if it is a TLP or PAP label: `tlp:red`, `TLP:AMBER+STRICT`,
/// `tlp:white` (TLP 1.0), `PAP:GREEN`. `Ok(None)` for a label about something else; an unknown
/// level after `tlp:` or `pap:` is an error, since its author meant a restriction.
fn label_level(label: &str) -> Result<Option<Level>, MarkingError> {
    let lower = label.trim().to_ascii_lowercase();
    let unknown = |what| MarkingError::UnknownLabel {
        what,
        label: label.chars().take(64).collect(),
    };
    if let Some(level) = lower.strip_prefix("tlp:") {
        let level = level.trim().trim_matches('"');
        let tlp = match level {
            "white" | "clear" => Tlp::Clear,
            "green" => Tlp::Green,
            "amber" => Tlp::Amber,
            "amber+strict" | "amber_strict" => Tlp::AmberStrict,
            "red" => Tlp::Red,
            _ => return Err(unknown("TLP")),
        };
        return Ok(Some(Level::Tlp(tlp)));
    }
    if let Some(level) = lower.strip_prefix("pap:") {
        let level = level.trim().trim_matches('"');
        return level
            .parse::<Pap>()
            .map(|p| Some(Level::Pap(p)))
            .map_err(|_| unknown("PAP"));
    }
    Ok(None)
}

/// The TLP and PAP an object states outside its markings (see `LABEL_PROPERTIES`). Two labels
/// of different levels contradict each other and refuse the object.
pub fn label_markings(object: &Value) -> Result<ObjectMarkings, MarkingError> {
    let mut out = ObjectMarkings::default();
    for property in LABEL_PROPERTIES {
        let items: Vec<&str> = match object.get(property) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|i| match i {
                    Value::String(s) => Some(s.as_str()),
                    // OpenCTI may list definitions rather than names.
                    Value::Object(m) => m
                        .get("definition")
                        .or_else(|| m.get("name"))
                        .and_then(Value::as_str),
                    _ => None,
                })
                .collect(),
            Some(Value::String(s)) => vec![s.as_str()],
            _ => continue,
        };
        for label in items {
            match label_level(label)? {
                Some(Level::Tlp(t)) => merge("TLP", &mut out.tlp, t, Tlp::label)?,
                Some(Level::Pap(p)) => merge("PAP", &mut out.pap, p, Pap::label)?,
                None => {}
            }
        }
    }
    Ok(out)
}

/// The markings of an object once its labels are heard: a label that agrees with the
/// markings changes nothing, a stricter one wins, a looser one contradicts them and refuses
/// the object; without a marking, the label is the level (the hub's default never goes below
/// what the author wrote).
pub fn with_labels(
    markings: ObjectMarkings,
    labels: &ObjectMarkings,
) -> Result<ObjectMarkings, MarkingError> {
    fn stricter<L: Copy + Ord>(
        marking: Option<L>,
        label: Option<L>,
        name: fn(L) -> &'static str,
    ) -> Result<Option<L>, MarkingError> {
        match (marking, label) {
            (Some(m), Some(l)) if l < m => Err(MarkingError::LabelBelowMarking {
                label: name(l).to_owned(),
                marking: name(m).to_owned(),
            }),
            (m, l) => Ok(l.or(m)),
        }
    }
    Ok(ObjectMarkings {
        tlp: stricter(markings.tlp, labels.tlp, Tlp::label)?,
        pap: stricter(markings.pap, labels.pap, Pap::label)?,
        statements: markings.statements,
    })
}

fn merge<L: Copy + PartialEq>(
    what: &'static str,
    slot: &mut Option<L>,
    level: L,
    label: fn(L) -> &'static str,
) -> Result<(), MarkingError> {
    match *slot {
        Some(existing) if existing != level => Err(MarkingError::Contradictory {
            what,
            first: label(existing).to_owned(),
            second: label(level).to_owned(),
        }),
        _ => {
            *slot = Some(level);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tlp2(id: &str, value: &str) -> Value {
        json!({"type": "marking-definition", "spec_version": "2.1", "id": id,
               "created": "2022-10-01T00:00:00.000Z", "name": "x",
               "extensions": {TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": value}}})
    }

    #[test]
    fn tlp_and_pap_labels_are_read_as_markings() {
        let o = json!({"labels": ["tlp:red", "malicious-activity"], "x_opencti_markings": ["PAP:AMBER"]});
        let l = label_markings(&o).unwrap();
        assert_eq!((l.tlp, l.pap), (Some(Tlp::Red), Some(Pap::Amber)));
        for (label, tlp) in [
            ("TLP:WHITE", Tlp::Clear),
            ("tlp:clear", Tlp::Clear),
            ("TLP:AMBER+STRICT", Tlp::AmberStrict),
            ("tlp:amber", Tlp::Amber),
            ("Tlp:Green", Tlp::Green),
        ] {
            assert_eq!(
                label_markings(&json!({ "labels": [label] })).unwrap().tlp,
                Some(tlp),
                "{label}"
            );
        }
        assert!(matches!(
            label_markings(&json!({"labels": ["tlp:red", "tlp:green"]})),
            Err(MarkingError::Contradictory { .. })
        ));
        assert!(matches!(
            label_markings(&json!({"labels": ["tlp:ex:chr"]})),
            Err(MarkingError::UnknownLabel { .. })
        ));
        assert_eq!(
            label_markings(&json!({"labels": ["apt"]})).unwrap(),
            ObjectMarkings::default()
        );
    }

    #[test]
    fn a_stricter_label_wins_and_a_looser_one_refuses() {
        let marked = |tlp, pap| ObjectMarkings {
            tlp,
            pap,
            statements: vec![],
        };
        let green = marked(Some(Tlp::Green), Some(Pap::Green));
        let red_label = marked(Some(Tlp::Red), None);
        assert_eq!(
            with_labels(green.clone(), &red_label).unwrap(),
            marked(Some(Tlp::Red), Some(Pap::Green))
        );
        assert_eq!(with_labels(green.clone(), &green).unwrap(), green);
        assert!(matches!(
            with_labels(
                marked(Some(Tlp::Red), None),
                &marked(Some(Tlp::Clear), None)
            ),
            Err(MarkingError::LabelBelowMarking { .. })
        ));
        assert!(matches!(
            with_labels(green.clone(), &marked(None, Some(Pap::Clear))),
            Err(MarkingError::LabelBelowMarking { .. })
        ));
        // No marking: the label is the level, never the hub's default below it.
        assert_eq!(
            with_labels(ObjectMarkings::default(), &red_label)
                .unwrap()
                .tlp,
            Some(Tlp::Red)
        );
    }

    #[test]
    fn oasis_tlp2_definitions_are_recognised_by_id_and_content() {
        for (tlp, id, value) in TLP2 {
            assert_eq!(
                interpret(&tlp2(id, value)),
                Ok(Meaning::Level(Level::Tlp(tlp)))
            );
            assert_eq!(tlp.marking_definition_id(), id);
        }
    }

    #[test]
    fn a_standard_id_with_other_content_is_refused() {
        let amber_strict_id = TLP2[3].1;
        assert!(matches!(
            interpret(&tlp2(amber_strict_id, "clear")),
            Err(MarkingError::IdContentMismatch { .. })
        ));
    }

    #[test]
    fn a_tlp2_copy_under_another_id_is_refused() {
        let copy = tlp2(
            "marking-definition--00000000-0000-4000-8000-000000000000",
            "red",
        );
        assert!(matches!(
            interpret(&copy),
            Err(MarkingError::NonStandardId { .. })
        ));
    }

    #[test]
    fn tlp1_maps_white_to_clear() {
        let white = json!({"type": "marking-definition", "id": TLP1[0].1,
            "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp",
            "definition": {"tlp": "white"}});
        assert_eq!(
            interpret(&white),
            Ok(Meaning::Level(Level::Tlp(Tlp::Clear)))
        );
        assert_eq!(standard(TLP1[0].1), Some(Level::Tlp(Tlp::Clear)));
        let lying = json!({"type": "marking-definition", "id": TLP1[0].1,
            "definition_type": "tlp", "definition": {"tlp": "red"}});
        assert!(interpret(&lying).is_err());
    }

    #[test]
    fn pap_definitions_must_not_carry_definition_fields() {
        let (_, id, value) = PAP[1];
        let good = json!({"type": "marking-definition", "id": id,
            "extensions": {PAP_EXTENSION: {"extension_type": "property-extension", "pap": value}}});
        assert_eq!(interpret(&good), Ok(Meaning::Level(Level::Pap(Pap::Green))));
        let mut bad = good.clone();
        bad["definition_type"] = json!("pap");
        assert!(interpret(&bad).is_err());
        assert_eq!(
            standard(PAP[4].1),
            Some(Level::Pap(Pap::Clear)),
            "PAP:WHITE is CLEAR"
        );
    }

    #[test]
    fn opencti_definitions_are_normalised() {
        let strict = json!({"type": "marking-definition",
            "id": "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37",
            "definition_type": "TLP", "definition": "TLP:AMBER+STRICT",
            "x_opencti_definition_type": "TLP", "x_opencti_definition": "TLP:AMBER+STRICT"});
        assert_eq!(
            interpret(&strict),
            Ok(Meaning::Level(Level::Tlp(Tlp::AmberStrict)))
        );
        let pap = json!({"type": "marking-definition",
            "id": "marking-definition--11111111-1111-4111-8111-111111111111",
            "definition_type": "PAP", "definition": "PAP:GREEN"});
        assert_eq!(interpret(&pap), Ok(Meaning::Level(Level::Pap(Pap::Green))));
        let nonsense = json!({"type": "marking-definition",
            "id": "marking-definition--11111111-1111-4111-8111-111111111112",
            "definition_type": "TLP", "definition": "TLP:BLUE"});
        assert!(interpret(&nonsense).is_err());
    }

    #[test]
    fn statements_pass_and_unknown_kinds_are_refused() {
        let statement = json!({"type": "marking-definition",
            "id": "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168",
            "definition_type": "statement",
            "definition": {"statement": "Copyright 2015-2025, The MITRE Corporation."}});
        assert_eq!(interpret(&statement), Ok(Meaning::Statement));
        let weird = json!({"type": "marking-definition",
            "id": "marking-definition--22222222-2222-4222-8222-222222222222",
            "definition_type": "secret-sauce", "definition": {}});
        assert!(matches!(
            interpret(&weird),
            Err(MarkingError::Unknown { .. })
        ));
    }

    #[test]
    fn normalisation_fails_closed() {
        let none = |_: &str| None;
        let m = normalise(&[TLP2[2].1, PAP[2].1], none).unwrap();
        assert_eq!((m.tlp, m.pap), (Some(Tlp::Amber), Some(Pap::Amber)));
        // TLP 1.0 GREEN and TLP 2.0 GREEN agree.
        assert_eq!(
            normalise(&[TLP1[1].1, TLP2[1].1], none).unwrap().tlp,
            Some(Tlp::Green)
        );
        assert!(matches!(
            normalise(&[TLP2[1].1, TLP2[4].1], none),
            Err(MarkingError::Contradictory { what: "TLP", .. })
        ));
        assert!(matches!(
            normalise(&[PAP[0].1, PAP[3].1], none),
            Err(MarkingError::Contradictory { what: "PAP", .. })
        ));
        assert!(matches!(
            normalise(
                &["marking-definition--33333333-3333-4333-8333-333333333333"],
                none
            ),
            Err(MarkingError::Unknown { .. })
        ));
        let statement_id = "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168";
        let known = |id: &str| (id == statement_id).then_some(Meaning::Statement);
        let m = normalise(&[statement_id], known).unwrap();
        assert_eq!(m.tlp, None);
        assert_eq!(m.statements, [statement_id]);
    }
}
