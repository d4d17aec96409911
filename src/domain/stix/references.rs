//! The references of an object that the marking rule on references governs: every `*_ref`
//! and every item of a `*_refs` list, at any depth (extensions and custom `x_` properties
//! included), that holds a STIX identifier.
//!
//! Not governed: `created_by_ref` (attribution is checked at ingest), marking references
//! (`object_marking_refs`, `granular_markings`: marking definitions are public), and the
//! free-form places where such keys are data (`hashes`, `observed-data.objects`, …).

use serde_json::Value;

use super::id::StixId;
use super::prune::{Path, Segment};
use super::validate::{DICTIONARIES, free_form_properties};

/// Top-level properties whose references the rule leaves alone.
const NOT_GOVERNED: &[&str] = &["created_by_ref", "object_marking_refs", "granular_markings"];

/// One reference, where it stands in the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub path: Path,
    pub id: String,
}

/// Every governed reference of `object`, in document order.
pub fn references(object: &Value) -> Vec<Reference> {
    let Value::Object(map) = object else {
        return Vec::new();
    };
    let free_form = map
        .get("type")
        .and_then(Value::as_str)
        .map_or(&[][..], free_form_properties);
    let mut out = Vec::new();
    // Iterative: depth is bounded by the JSON reader, but this does not rely on it.
    let mut stack: Vec<(Path, &Value)> = Vec::new();
    for (key, value) in map.iter().rev() {
        if NOT_GOVERNED.contains(&key.as_str()) || free_form.contains(&key.as_str()) {
            continue;
        }
        stack.push((vec![Segment::Key(key.clone())], value));
    }
    while let Some((path, value)) = stack.pop() {
        let key = match path.last() {
            Some(Segment::Key(k)) => Some(k.as_str()),
            _ => None,
        };
        match (key, value) {
            (Some(k), Value::String(s)) if k.ends_with("_ref") => push_id(&mut out, path, s),
            (Some(k), Value::Array(items)) if k.ends_with("_refs") => {
                for (i, item) in items.iter().enumerate() {
                    if let Value::String(s) = item {
                        let mut at = path.clone();
                        at.push(Segment::Index(i));
                        push_id(&mut out, at, s);
                    }
                }
            }
            (Some(k), _) if DICTIONARIES.contains(&k) => {}
            (_, Value::Object(m)) => {
                for (k, v) in m.iter().rev() {
                    let mut at = path.clone();
                    at.push(Segment::Key(k.clone()));
                    stack.push((at, v));
                }
            }
            (_, Value::Array(items)) => {
                for (i, v) in items.iter().enumerate().rev() {
                    if v.is_object() || v.is_array() {
                        let mut at = path.clone();
                        at.push(Segment::Index(i));
                        stack.push((at, v));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn push_id(out: &mut Vec<Reference>, path: Path, s: &str) {
    // Only an identifier can name a stored object; anything else a custom property holds is
    // the producer's own data.
    if StixId::parse(s).is_ok() {
        out.push(Reference {
            path,
            id: s.to_owned(),
        });
    }
}

/// The distinct ids `object` references, sorted: what the store keeps beside the object.
pub fn referenced_ids(object: &Value) -> Vec<String> {
    let mut ids: Vec<String> = references(object).into_iter().map(|r| r.id).collect();
    ids.sort();
    ids.dedup();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::stix::prune::selector;
    use serde_json::json;

    const IND: &str = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
    const ID: &str = "identity--311b2d2d-f010-4473-83ec-1edf84858f4c";
    const MAL: &str = "malware--31b940d4-6f7f-459a-80ea-9c1f17b58abc";

    fn paths(o: &Value) -> Vec<(String, String)> {
        references(o)
            .into_iter()
            .map(|r| (selector(&r.path), r.id))
            .collect()
    }

    #[test]
    fn required_optional_nested_and_custom_references_are_found() {
        let o = json!({
            "type": "sighting", "id": "sighting--1", "created_by_ref": ID,
            "object_marking_refs": ["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"],
            "sighting_of_ref": IND,
            "where_sighted_refs": [ID, "not an id"],
            "extensions": {"x-ext": {"sample_ref": MAL}},
            "x_links": [{"target_ref": MAL}],
            "x_mitre_modified_by_ref": ID,
            "hashes": {"weird_ref": MAL}
        });
        assert_eq!(
            paths(&o),
            [
                ("extensions.x-ext.sample_ref".into(), MAL.into()),
                ("sighting_of_ref".into(), IND.into()),
                ("where_sighted_refs.[0]".into(), ID.into()),
                ("x_links.[0].target_ref".into(), MAL.into()),
                ("x_mitre_modified_by_ref".into(), ID.into()),
            ]
        );
        assert_eq!(referenced_ids(&o), [ID, IND, MAL]);
    }

    #[test]
    fn free_form_properties_hold_no_references() {
        let o = json!({
            "type": "observed-data", "objects": {"0": {"type": "file", "parent_directory_ref": "1"}},
            "object_refs": [MAL]
        });
        assert_eq!(paths(&o), [("object_refs.[0]".into(), MAL.into())]);
    }
}
