//! Turning a checked IOC into STIX 2.1: one indicator, and for each ATT&CK technique an
//! attack-pattern and an `indicates` relationship to it.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::request::ValidIoc;
use super::value::{IocType, Technique};
use crate::domain::markings::Tlp;
use crate::domain::markings::definitions::pap_id;
use crate::domain::stix::id::StixId;
use crate::domain::stix::pattern::push_quoted;
use crate::domain::stix::stored::utc_timestamp;

/// The namespace of attack-pattern ids: UUIDv5 of the URL namespace and
/// `urn:relais:attack-pattern`. An attack-pattern's id is the UUIDv5 of the technique id
/// (`T1059.001`) in it, so the same technique sent by any provider, any number of times, is
/// one object. Changing it would split every technique in two: never do.
pub const ATTACK_PATTERN_NAMESPACE: Uuid = Uuid::from_u128(0xe18bb474_f98e_5c4f_af61_0f0ea0715480);

/// `created` and `modified` of every attack-pattern made here. Fixed, so a technique sent
/// again is the same version, stored once, whoever sends it; arbitrary otherwise.
pub const ATTACK_PATTERN_VERSION: &str = "2020-01-01T00:00:00.000Z";

/// Longest indicator `name`, in characters; the full value is in the pattern.
const MAX_NAME_CHARS: usize = 120;

/// Where random ids come from, so tests can pin them.
pub trait IdSource {
    /// A fresh random (version 4) UUID.
    fn uuid_v4(&mut self) -> Uuid;
}

/// Ids from the system's random number generator.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomIds;

impl IdSource for RandomIds {
    fn uuid_v4(&mut self) -> Uuid {
        Uuid::new_v4()
    }
}

/// The STIX form of one IOC.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvertedIoc {
    /// The id of the indicator (the first object).
    pub indicator_id: String,
    /// The indicator, then per technique its attack-pattern and the relationship to it.
    pub objects: Vec<Value>,
    /// The case the item named, kept out of the objects: whether they may leave the CSIRT
    /// depends on the beneficiary's consent, which only the hub knows.
    pub case: Option<String>,
}

/// Converts one checked IOC.
///
/// - `producer_identity`: the provider's `identity` object, set as `created_by_ref` on the
///   indicator and the relationships (not on attack-patterns, which belong to no one).
/// - `now`: `created` and `modified` (to the millisecond), and `valid_from` when the item
///   has no `first_seen`.
///
/// The indicator carries the item's TLP and PAP markings; without a TLP the hub's default
/// policy applies at ingest, as for any object sent without one. Relationships carry the
/// indicator's markings (they reveal that the indicator exists); attack-patterns carry
/// TLP:CLEAR only (an ATT&CK id is public).
pub fn to_stix(
    item: &ValidIoc,
    producer_identity: Option<&StixId>,
    now: OffsetDateTime,
    ids: &mut (impl IdSource + ?Sized),
) -> ConvertedIoc {
    let now = utc_timestamp(now, 3);
    let indicator_id = format!("indicator--{}", ids.uuid_v4());
    let markings: Vec<&str> = item
        .tlp
        .map(Tlp::marking_definition_id)
        .into_iter()
        .chain(item.pap.map(pap_id))
        .collect();

    let mut indicator = common(
        "indicator",
        &indicator_id,
        &now,
        producer_identity,
        &markings,
    );
    indicator.insert("name".into(), name(item).into());
    if let Some(d) = &item.description {
        indicator.insert("description".into(), d.as_str().into());
    }
    indicator.insert("indicator_types".into(), json!(["malicious-activity"]));
    indicator.insert("pattern".into(), pattern(item.kind, &item.value).into());
    indicator.insert("pattern_type".into(), "stix".into());
    let valid_from = item
        .first_seen
        .map_or_else(|| now.clone(), |t| utc_timestamp(t, 3));
    indicator.insert("valid_from".into(), valid_from.into());

    let mut objects = vec![Value::Object(indicator)];
    for technique in &item.techniques {
        let relationship_id = format!("relationship--{}", ids.uuid_v4());
        let mut relationship = common(
            "relationship",
            &relationship_id,
            &now,
            producer_identity,
            &markings,
        );
        relationship.insert("relationship_type".into(), "indicates".into());
        relationship.insert("source_ref".into(), indicator_id.as_str().into());
        relationship.insert("target_ref".into(), attack_pattern_id(technique).into());
        objects.push(attack_pattern(technique));
        objects.push(Value::Object(relationship));
    }
    ConvertedIoc {
        indicator_id,
        objects,
        case: item.case.clone(),
    }
}

/// The properties every SDO and SRO made here has.
fn common(
    object_type: &str,
    id: &str,
    now: &str,
    producer_identity: Option<&StixId>,
    markings: &[&str],
) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("type".into(), object_type.into());
    o.insert("spec_version".into(), "2.1".into());
    o.insert("id".into(), id.into());
    o.insert("created".into(), now.into());
    o.insert("modified".into(), now.into());
    if let Some(identity) = producer_identity {
        o.insert("created_by_ref".into(), identity.as_str().into());
    }
    // STIX forbids an empty list of references.
    if !markings.is_empty() {
        o.insert("object_marking_refs".into(), json!(markings));
    }
    o
}

/// The attack-pattern of a technique: the same object, byte for byte, every time.
pub fn attack_pattern(technique: &Technique) -> Value {
    json!({
        "type": "attack-pattern",
        "spec_version": "2.1",
        "id": attack_pattern_id(technique),
        "created": ATTACK_PATTERN_VERSION,
        "modified": ATTACK_PATTERN_VERSION,
        // No offline table of ATT&CK names: the id is the name, and the reference says where
        // the real name is.
        "name": technique.as_str(),
        "external_references": [{
            "source_name": "mitre-attack",
            "external_id": technique.as_str(),
            "url": technique.url(),
        }],
        "object_marking_refs": [Tlp::Clear.marking_definition_id()],
    })
}

/// `attack-pattern--` and the UUIDv5 of the technique id under [`ATTACK_PATTERN_NAMESPACE`].
pub fn attack_pattern_id(technique: &Technique) -> String {
    let uuid = Uuid::new_v5(&ATTACK_PATTERN_NAMESPACE, technique.as_str().as_bytes());
    format!("attack-pattern--{uuid}")
}

/// The STIX pattern matching the value: one comparison on the observable's property.
pub fn pattern(kind: IocType, value: &str) -> String {
    let path = match kind {
        IocType::Ipv4 => "ipv4-addr:value",
        IocType::Ipv6 => "ipv6-addr:value",
        IocType::Domain => "domain-name:value",
        IocType::Url => "url:value",
        IocType::Email => "email-addr:value",
        IocType::Md5 => "file:hashes.MD5",
        IocType::Sha1 => "file:hashes.'SHA-1'",
        IocType::Sha256 => "file:hashes.'SHA-256'",
        IocType::FileName => "file:name",
    };
    let mut out = String::with_capacity(path.len() + value.len() + 8);
    out.push('[');
    out.push_str(path);
    out.push_str(" = ");
    push_quoted(&mut out, value);
    out.push(']');
    out
}

/// "URL http://…", cut to [`MAX_NAME_CHARS`].
fn name(item: &ValidIoc) -> String {
    let full = format!("{} {}", item.kind.label(), item.value);
    match full.char_indices().nth(MAX_NAME_CHARS) {
        Some((i, _)) => format!("{}…", &full[..i]),
        None => full,
    }
}
