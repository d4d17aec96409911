//! What a valid object comes back as: its exact text and the columns relais indexes (id, type,
//! kind, versions, markings, external references), read from a value the engine has already
//! accepted, so that reading them never fails.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::table::ObjectKind;
use super::timestamp::Timestamp;
use crate::domain::stix::id::StixId;

/// One granular marking: a marking-definition or a language, and what it applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GranularMarking {
    pub marking_ref: Option<StixId>,
    pub lang: Option<String>,
    pub selectors: Vec<String>,
}

/// One external reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalReference {
    pub source_name: String,
    pub description: Option<String>,
    pub url: Option<String>,
    pub external_id: Option<String>,
    pub hashes: BTreeMap<String, String>,
}

/// A valid STIX object: the exact text, and the columns relais indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StixObject {
    /// The object exactly as received.
    pub raw: String,
    pub id: StixId,
    pub object_type: String,
    pub kind: ObjectKind,
    /// `None` only for SCOs (and SCO-like custom objects) that omit it.
    pub spec_version: Option<String>,
    /// `None` for SCOs.
    pub created: Option<Timestamp>,
    /// `None` for SCOs and marking-definitions.
    pub modified: Option<Timestamp>,
    /// `None` for SCOs.
    pub created_by_ref: Option<StixId>,
    /// `false` for SCOs.
    pub revoked: bool,
    pub object_marking_refs: Vec<StixId>,
    pub granular_markings: Vec<GranularMarking>,
    pub external_references: Vec<ExternalReference>,
}

impl StixObject {
    /// What tells versions of this object apart: `modified`, else `created` (marking
    /// definitions never change), else nothing (SCOs have no versions).
    pub fn version(&self) -> Option<&Timestamp> {
        self.modified.as_ref().or(self.created.as_ref())
    }
}

pub(super) fn ids(value: Option<&Value>) -> Vec<StixId> {
    let Some(Value::Array(items)) = value else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(Value::as_str)
        .filter_map(|s| StixId::parse(s).ok())
        .collect()
}

fn strings(value: Option<&Value>) -> Vec<String> {
    let Some(Value::Array(items)) = value else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

fn string(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key).and_then(Value::as_str).map(str::to_owned)
}

pub(super) fn granular_markings(value: Option<&Value>) -> Vec<GranularMarking> {
    let Some(Value::Array(items)) = value else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(Value::as_object)
        .map(|m| GranularMarking {
            marking_ref: m
                .get("marking_ref")
                .and_then(Value::as_str)
                .and_then(|s| StixId::parse(s).ok()),
            lang: string(m, "lang"),
            selectors: strings(m.get("selectors")),
        })
        .collect()
}

pub(super) fn external_references(value: Option<&Value>) -> Vec<ExternalReference> {
    let Some(Value::Array(items)) = value else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(Value::as_object)
        .map(|m| ExternalReference {
            source_name: string(m, "source_name").unwrap_or_default(),
            description: string(m, "description"),
            url: string(m, "url"),
            external_id: string(m, "external_id"),
            hashes: m
                .get("hashes")
                .and_then(Value::as_object)
                .map(|h| {
                    h.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect()
}
