//! The validator's tests: objects of every category, and each rule refused where it applies.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Map, Value, json};

use super::*;
use crate::domain::stix::pattern::{self, PatternLimits};

const UUID4: &str = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
const IDENTITY: &str = "identity--311b2d2d-f010-4473-83ec-1edf84858f4c";
const TLP_GREEN: &str = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";
const TS: &str = "2016-04-06T20:03:48.000Z";

fn ok(value: Value) -> StixObject {
    let raw = value.to_string();
    match validate(&raw, &value) {
        Ok(o) => {
            assert_eq!(o.raw, raw);
            o
        }
        Err(errors) => panic!("{value:#}\n{errors:#?}"),
    }
}

fn errors(value: Value) -> Vec<(String, String)> {
    match validate(&value.to_string(), &value) {
        Ok(_) => panic!("accepted: {value:#}"),
        Err(errors) => errors.into_iter().map(|e| (e.path, e.message)).collect(),
    }
}

/// The object is refused with an error at `path` whose message contains `text`.
fn refused(value: Value, path: &str, text: &str) {
    let errors = errors(value);
    assert!(
        errors.iter().any(|(p, m)| p == path && m.contains(text)),
        "expected {path:?} ~ {text:?} in {errors:#?}"
    );
}

fn with(mut base: Value, changes: Value) -> Value {
    let (Value::Object(b), Value::Object(c)) = (&mut base, changes) else {
        panic!("objects only");
    };
    for (k, v) in c {
        if v.is_null() {
            b.remove(&k);
        } else {
            b.insert(k, v);
        }
    }
    base
}

fn indicator() -> Value {
    json!({
        "type": "indicator", "spec_version": "2.1",
        "id": format!("indicator--{UUID4}"),
        "created": TS, "modified": TS,
        "created_by_ref": IDENTITY,
        "pattern": "[ipv4-addr:value = '198.51.100.1']",
        "pattern_type": "stix",
        "valid_from": "2016-04-06T20:03:48Z",
        "object_marking_refs": [TLP_GREEN],
        "labels": ["x"],
        "external_references": [{"source_name": "capec", "external_id": "CAPEC-163"}],
        "granular_markings": [{"marking_ref": TLP_GREEN, "selectors": ["description", "labels.[0]", "external_references.[0].source_name"]}],
        "description": "d",
        "x_custom_thing": {"nested": [1, 2]},
    })
}

#[test]
fn a_valid_sdo_and_its_columns() {
    let o = ok(indicator());
    assert_eq!(o.kind, ObjectKind::Sdo);
    assert_eq!(o.object_type, "indicator");
    assert_eq!(o.id.as_str(), format!("indicator--{UUID4}"));
    assert_eq!(o.id.object_type(), "indicator");
    assert_eq!(o.id.uuid().to_string(), UUID4);
    assert_eq!(o.spec_version.as_deref(), Some("2.1"));
    let created = o.created.as_ref().unwrap();
    assert_eq!(created.as_str(), TS);
    assert_eq!(
        created.time(),
        time::macros::datetime!(2016-04-06 20:03:48 UTC)
    );
    assert_eq!(o.version().unwrap().as_str(), TS);
    assert_eq!(o.created_by_ref.as_ref().unwrap().as_str(), IDENTITY);
    assert!(!o.revoked);
    assert_eq!(o.object_marking_refs.len(), 1);
    assert_eq!(o.object_marking_refs[0].as_str(), TLP_GREEN);
    assert_eq!(o.granular_markings.len(), 1);
    assert_eq!(o.granular_markings[0].selectors.len(), 3);
    assert_eq!(
        o.granular_markings[0]
            .marking_ref
            .as_ref()
            .unwrap()
            .as_str(),
        TLP_GREEN
    );
    assert_eq!(o.external_references[0].source_name, "capec");
    assert_eq!(
        o.external_references[0].external_id.as_deref(),
        Some("CAPEC-163")
    );
}

#[test]
fn valid_objects_of_each_category() {
    let relationship = ok(json!({
        "type": "relationship", "spec_version": "2.1",
        "id": "relationship--81f12913-1372-4c96-85ec-E9034ac98aba",
        "created": TS, "modified": "2017-04-06T20:03:48.123456Z",
        "relationship_type": "indicates",
        "source_ref": format!("indicator--{UUID4}"),
        "target_ref": format!("ipv4-addr--{UUID4}"),
        "revoked": true,
    }));
    assert_eq!(relationship.kind, ObjectKind::Sro);
    assert!(relationship.revoked);

    let sighting = ok(json!({
        "type": "sighting", "spec_version": "2.1", "id": format!("sighting--{UUID4}"),
        "created": TS, "modified": TS,
        "sighting_of_ref": format!("x-mitre-tactic--{UUID4}"),
        "where_sighted_refs": [IDENTITY], "count": 0,
    }));
    assert_eq!(sighting.kind, ObjectKind::Sro);

    let sco = ok(
        json!({"type": "ipv4-addr", "id": format!("ipv4-addr--{UUID4}"), "value": "198.51.100.3"}),
    );
    assert_eq!(sco.kind, ObjectKind::Sco);
    assert_eq!(sco.spec_version, None);
    assert_eq!(sco.created, None);
    assert_eq!(sco.version(), None);

    let file = ok(json!({
        "type": "file", "spec_version": "2.1", "id": format!("file--{UUID4}"),
        "hashes": {"SHA-256": "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c", "x-custom": "anything"},
        "extensions": {"archive-ext": {"contains_refs": [format!("file--{UUID4}")]},
                       format!("extension-definition--{UUID4}"): {"extension_type": "property-extension", "x_ref": IDENTITY}},
        "object_marking_refs": [TLP_GREEN], "defanged": false,
    }));
    assert_eq!(file.kind, ObjectKind::Sco);

    let marking = ok(json!({
        "type": "marking-definition", "spec_version": "2.1",
        "id": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        "created": "2017-01-20T00:00:00.000Z",
        "definition_type": "tlp", "name": "TLP:GREEN", "definition": {"tlp": "green"},
    }));
    assert_eq!(marking.kind, ObjectKind::MarkingDefinition);
    assert!(marking.kind.is_meta());
    assert_eq!(marking.modified, None);
    assert_eq!(
        marking.version().unwrap().as_str(),
        "2017-01-20T00:00:00.000Z"
    );

    // TLP 2.0 (an extension, no definition_type), second-precision created.
    ok(json!({"type": "marking-definition", "spec_version": "2.1",
        "id": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        "created": "2022-10-01T00:00:00Z", "name": "TLP:AMBER+STRICT",
        "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":
            {"extension_type": "property-extension", "tlp_2_0": "amber+strict"}}}));

    let statement = ok(json!({"type": "marking-definition", "spec_version": "2.1",
        "id": "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168",
        "created": "2017-06-01T00:00:00.000Z", "created_by_ref": IDENTITY,
        "definition_type": "statement", "definition": {"statement": "Copyright"}}));
    assert_eq!(statement.created_by_ref.unwrap().as_str(), IDENTITY);

    let lc = ok(json!({"type": "language-content", "spec_version": "2.1",
        "id": format!("language-content--{UUID4}"), "created": TS, "modified": TS,
        "object_ref": format!("campaign--{UUID4}"), "object_modified": TS,
        "contents": {"de": {"name": "Bank Angriff", "x_odd_ref": "not an id"}}}));
    assert_eq!(lc.kind, ObjectKind::LanguageContent);

    let ed = ok(
        json!({"type": "extension-definition", "spec_version": "2.1",
        "id": format!("extension-definition--{UUID4}"), "created": TS, "modified": TS,
        "created_by_ref": IDENTITY, "name": "x", "schema": "https://example.com", "version": "1.0",
        "extension_types": ["toplevel-property-extension"], "extension_properties": ["rank"]}),
    );
    assert_eq!(ed.kind, ObjectKind::ExtensionDefinition);

    let custom = ok(json!({"type": "x-mitre-tactic", "spec_version": "2.1",
        "id": format!("x-mitre-tactic--{UUID4}"), "created": TS, "modified": TS,
        "x_mitre_shortname": "collection", "tactic_refs": [format!("x-mitre-tactic--{UUID4}")],
        "x_mitre_contents": [{"object_ref": IDENTITY, "object_modified": TS}]}));
    assert_eq!(custom.kind, ObjectKind::Custom);

    let custom_sco =
        ok(json!({"type": "my-observable", "id": format!("my-observable--{UUID4}"), "value": 1}));
    assert_eq!(custom_sco.kind, ObjectKind::Custom);
    assert_eq!(custom_sco.created, None);

    let observed = ok(json!({"type": "observed-data", "spec_version": "2.1",
        "id": format!("observed-data--{UUID4}"), "created": TS, "modified": TS,
        "first_observed": TS, "last_observed": TS, "number_observed": 1,
        "objects": {"0": {"type": "ipv4-addr", "value": "10.0.0.1"},
                    "1": {"type": "network-traffic", "src_ref": "0", "protocols": ["tcp"]}}}));
    assert_eq!(observed.kind, ObjectKind::Sdo);

    ok(
        json!({"type": "report", "spec_version": "2.1", "id": format!("report--{UUID4}"),
        "created": TS, "modified": TS, "name": "r", "published": TS,
        "object_refs": [format!("indicator--{UUID4}"), format!("x-foo--{UUID4}")]}),
    );
    ok(
        json!({"type": "location", "spec_version": "2.1", "id": format!("location--{UUID4}"),
        "created": TS, "modified": TS, "latitude": 48.8566, "longitude": 2.3522, "precision": 1000.0}),
    );
    ok(
        json!({"type": "malware", "spec_version": "2.1", "id": format!("malware--{UUID4}"),
        "created": TS, "modified": TS, "is_family": false}),
    );
    ok(
        json!({"type": "opinion", "spec_version": "2.1", "id": format!("opinion--{UUID4}"),
        "created": TS, "modified": TS, "opinion": "agree", "object_refs": [IDENTITY]}),
    );
    ok(
        json!({"type": "note", "spec_version": "2.1", "id": format!("note--{UUID4}"),
        "created": TS, "modified": TS, "content": "c", "object_refs": [IDENTITY]}),
    );
    ok(
        json!({"type": "grouping", "spec_version": "2.1", "id": format!("grouping--{UUID4}"),
        "created": TS, "modified": TS, "context": "suspicious-activity", "object_refs": [IDENTITY]}),
    );
    ok(
        json!({"type": "vulnerability", "spec_version": "2.1", "id": format!("vulnerability--{UUID4}"),
        "created": TS, "modified": TS, "name": "CVE-2012-0158",
        "external_references": [{"source_name": "cve", "external_id": "CVE-2012-0158"}]}),
    );
    ok(
        json!({"type": "email-message", "spec_version": "2.1", "id": format!("email-message--{UUID4}"),
        "is_multipart": true, "body_multipart": [{"body_raw_ref": format!("artifact--{UUID4}")}]}),
    );
    ok(
        json!({"type": "artifact", "id": format!("artifact--{UUID4}"),
        "url": "https://example.com/x", "hashes": {"MD5": "001dd76872d80801692ff942308c64e6"}}),
    );
}

#[test]
fn not_an_object() {
    let e = errors(json!([1]));
    assert_eq!(
        e,
        [(
            "".to_owned(),
            "a STIX object must be a JSON object".to_owned()
        )]
    );
}

#[test]
fn common_properties_by_category() {
    let e = errors(json!({}));
    for p in ["/type", "/id"] {
        assert!(e.iter().any(|(path, _)| path == p), "{p}: {e:?}");
    }
    let bare = json!({"type": "campaign", "id": format!("campaign--{UUID4}"), "name": "c"});
    let e = errors(bare);
    for p in ["/spec_version", "/created", "/modified"] {
        assert!(
            e.contains(&(p.to_owned(), "required property is missing".to_owned())),
            "{p}: {e:?}"
        );
    }
    // A marking-definition needs created but not modified.
    let e = errors(json!({"type": "marking-definition", "spec_version": "2.1",
        "id": format!("marking-definition--{UUID4}"), "definition_type": "statement",
        "definition": {"statement": "s"}}));
    assert_eq!(
        e,
        [(
            "/created".to_owned(),
            "required property is missing".to_owned()
        )]
    );
    // An SCO needs neither; spec_version may be absent but if present is 2.1.
    refused(
        json!({"type": "url", "id": format!("url--{UUID4}"), "value": "x", "spec_version": "2.0"}),
        "/spec_version",
        "must be \"2.1\"",
    );
    // A custom object with created is read like an SDO.
    let e = errors(json!({"type": "x-thing", "id": format!("x-thing--{UUID4}"), "created": TS}));
    assert!(e.iter().any(|(p, _)| p == "/modified"), "{e:?}");
    assert!(e.iter().any(|(p, _)| p == "/spec_version"), "{e:?}");
    refused(
        json!({"type": "bundle", "id": format!("bundle--{UUID4}")}),
        "/type",
        "container",
    );
}

#[test]
fn every_error_is_listed() {
    let bad = with(
        indicator(),
        json!({
            "spec_version": "2.0",
            "created": "2016-04-06 20:03:48.000Z",
            "modified": "2016-04-06T20:03:48Z",
            "valid_from": null,
            "labels": [],
            "confidence": 101,
            "created_by_ref": "identity--nope",
            "object_marking_refs": [IDENTITY],
        }),
    );
    let e = errors(bad);
    let paths: Vec<&str> = e.iter().map(|(p, _)| p.as_str()).collect();
    for p in [
        "/spec_version",
        "/created",
        "/modified",
        "/valid_from",
        "/labels",
        "/confidence",
        "/created_by_ref",
        "/object_marking_refs/0",
    ] {
        assert!(paths.contains(&p), "{p} missing from {e:#?}");
    }
}

#[test]
fn identifiers() {
    for (id, text) in [
        (
            "indicator-8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "<type>--<UUID>",
        ),
        ("indicator--8e2e2d2b17d44cbf938f98ee46b3cd3f", "8-4-4-4-12"),
        (
            "indicator--{8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f}",
            "8-4-4-4-12",
        ),
        ("indicator--8e2e2d2b-17d4-4cbf-138f-98ee46b3cd3f", "variant"),
        (
            "indicator--8e2e2d2b-17d4-0cbf-938f-98ee46b3cd3f",
            "version 0",
        ),
        (
            "indicator--8e2e2d2b-17d4-7cbf-938f-98ee46b3cd3f",
            "version 7",
        ),
        ("indicator--00000000-0000-0000-0000-000000000000", "variant"),
    ] {
        refused(with(indicator(), json!({"id": id})), "/id", text);
    }
    refused(
        with(indicator(), json!({"id": format!("malware--{UUID4}")})),
        "/id",
        "differs from the object's type",
    );
    refused(
        with(indicator(), json!({"type": "Indicator"})),
        "/type",
        "lowercase",
    );
}

#[test]
fn timestamps() {
    refused(
        with(
            indicator(),
            json!({"created": "2016-04-06T20:03:48Z", "modified": "2016-04-06T20:03:48Z"}),
        ),
        "/created",
        "millisecond",
    );
    refused(
        with(indicator(), json!({"modified": "2016-04-06T20:03:47.999Z"})),
        "/modified",
        "earlier than created",
    );
    refused(
        with(indicator(), json!({"valid_until": "2016-04-06T20:03:48Z"})),
        "/valid_until",
        "later than valid_from",
    );
    refused(
        with(indicator(), json!({"valid_from": "yesterday"})),
        "/valid_from",
        "RFC 3339",
    );
    refused(
        with(indicator(), json!({"created": 1})),
        "/created",
        "timestamp string",
    );
}

#[test]
fn references() {
    refused(
        with(
            indicator(),
            json!({"thing": {"deep": [{"sample_ref": "nope"}]}}),
        ),
        "/thing/deep/0/sample_ref",
        "invalid identifier \"nope\"",
    );
    refused(
        with(indicator(), json!({"related_refs": []})),
        "/related_refs",
        "empty",
    );
    refused(
        with(indicator(), json!({"related_refs": "identity"})),
        "/related_refs",
        "list of identifiers",
    );
    refused(
        with(indicator(), json!({"related_refs": [IDENTITY, 3]})),
        "/related_refs/1",
        "identifier string",
    );
    refused(
        with(indicator(), json!({"owner_ref": 3})),
        "/owner_ref",
        "identifier string",
    );
    // A custom `x_` property is the producer's own and kept as it is.
    ok(with(
        indicator(),
        json!({"x_mitre_data_source_ref": "", "x_target_refs": [], "x_owner_ref": 3}),
    ));
    // Inside extensions too.
    refused(
        with(
            indicator(),
            json!({"extensions": {format!("extension-definition--{UUID4}"):
            {"extension_type": "property-extension", "owner_ref": "x"}}}),
        ),
        &format!("/extensions/extension-definition--{UUID4}/owner_ref"),
        "invalid identifier",
    );
    // But not inside dictionaries.
    ok(with(
        indicator(),
        json!({"x_ext": {"hashes": {"foo_ref": "MD5"}}}),
    ));
    refused(
        with(
            indicator(),
            json!({"created_by_ref": format!("malware--{UUID4}")}),
        ),
        "/created_by_ref",
        "must reference an object of type identity, not \"malware\"",
    );
    let rel = json!({"type": "relationship", "spec_version": "2.1", "id": format!("relationship--{UUID4}"),
        "created": TS, "modified": TS, "relationship_type": "related-to",
        "source_ref": format!("sighting--{UUID4}"), "target_ref": format!("malware--{UUID4}")});
    refused(rel.clone(), "/source_ref", "other than relationship");
    refused(
        with(rel.clone(), json!({"target_ref": null})),
        "/target_ref",
        "missing",
    );
    refused(
        with(rel, json!({"start_time": TS, "stop_time": TS})),
        "/stop_time",
        "later than start_time",
    );
    let sighting = json!({"type": "sighting", "spec_version": "2.1", "id": format!("sighting--{UUID4}"),
        "created": TS, "modified": TS, "sighting_of_ref": format!("relationship--{UUID4}"),
        "where_sighted_refs": [format!("malware--{UUID4}")], "count": 1_000_000_000u64});
    refused(sighting.clone(), "/sighting_of_ref", "an SDO");
    refused(
        sighting.clone(),
        "/where_sighted_refs/0",
        "identity or location",
    );
    refused(sighting, "/count", "between 0 and 999999999");
}

#[test]
fn markings() {
    refused(
        with(indicator(), json!({"object_marking_refs": [IDENTITY]})),
        "/object_marking_refs/0",
        "marking-definition",
    );
    refused(
        with(indicator(), json!({"object_marking_refs": []})),
        "/object_marking_refs",
        "empty",
    );
    let gm = |m: Value| with(indicator(), json!({"granular_markings": [m]}));
    refused(
        gm(json!({"marking_ref": IDENTITY, "selectors": ["description"]})),
        "/granular_markings/0/marking_ref",
        "marking-definition",
    );
    refused(
        gm(json!({"marking_ref": TLP_GREEN, "selectors": []})),
        "/granular_markings/0/selectors",
        "empty",
    );
    refused(
        gm(json!({"marking_ref": TLP_GREEN})),
        "/granular_markings/0/selectors",
        "missing",
    );
    refused(
        gm(json!({"selectors": ["description"]})),
        "/granular_markings/0",
        "one of marking_ref or lang",
    );
    refused(
        gm(json!({"marking_ref": TLP_GREEN, "lang": "en", "selectors": ["description"]})),
        "/granular_markings/0",
        "mutually exclusive",
    );
    refused(
        gm(json!({"marking_ref": TLP_GREEN, "selectors": ["labels.[3]"]})),
        "/granular_markings/0/selectors/0",
        "selects nothing in this object (no labels.[3])",
    );
    refused(
        gm(json!({"marking_ref": TLP_GREEN, "selectors": ["name"]})),
        "/granular_markings/0/selectors/0",
        "selects nothing",
    );
    refused(
        gm(json!({"marking_ref": TLP_GREEN, "selectors": ["labels..x"]})),
        "/granular_markings/0/selectors/0",
        "not a valid selector",
    );
    ok(gm(
        json!({"lang": "fr", "selectors": ["x_custom_thing.nested.[1]"]}),
    ));

    let tlp = json!({"type": "marking-definition", "spec_version": "2.1",
        "id": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp", "name": "TLP:GREEN",
        "definition": {"tlp": "green"}});
    refused(
        with(
            tlp.clone(),
            json!({"id": "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ec"}),
        ),
        "/id",
        "TLP:GREEN marking-definition is marking-definition--34098fce",
    );
    refused(
        with(tlp.clone(), json!({"definition": {"tlp": "clear"}})),
        "/definition/tlp",
        "one of",
    );
    refused(
        with(tlp.clone(), json!({"name": "TLP:RED"})),
        "/name",
        "TLP:GREEN",
    );
    refused(
        with(tlp.clone(), json!({"created": TS})),
        "/created",
        "2017-01-20",
    );
    let e = errors(with(
        tlp,
        json!({"definition_type": null, "definition": null}),
    ));
    assert!(e.iter().any(|(p, _)| p == "/definition_type"), "{e:?}");
    assert!(e.iter().any(|(p, _)| p == "/definition"), "{e:?}");
    refused(
        json!({"type": "marking-definition", "spec_version": "2.1",
            "id": format!("marking-definition--{UUID4}"), "created": TS,
            "definition_type": "statement", "definition": {"text": "s"}}),
        "/definition/statement",
        "string",
    );
}

#[test]
fn extensions() {
    let ext = |e: Value| with(indicator(), json!({"extensions": e}));
    refused(ext(json!({})), "/extensions", "empty");
    refused(
        ext(json!({"my-extension": {"a": 1}})),
        "/extensions/my-extension",
        "-ext",
    );
    refused(
        ext(json!({"extension-definition--1234": {"extension_type": "property-extension"}})),
        "/extensions/extension-definition--1234",
        "invalid extension-definition identifier",
    );
    refused(
        ext(json!({format!("extension-definition--{UUID4}"): {"rank": 1}})),
        &format!("/extensions/extension-definition--{UUID4}/extension_type"),
        "missing",
    );
    refused(
        ext(json!({"x-acme-ext": {"a": 1}})),
        "/extensions/x-acme-ext/a",
        "invalid property name",
    );
    refused(
        ext(json!({format!("extension-definition--{UUID4}"): {"extension_type": "new-thing"}})),
        &format!("/extensions/extension-definition--{UUID4}/extension_type"),
        "not one of",
    );
    refused(
        ext(json!({"x-acme-ext": {}})),
        "/extensions/x-acme-ext",
        "empty",
    );
    refused(
        ext(json!({"ntfs-ext": 1})),
        "/extensions/ntfs-ext",
        "object",
    );
    ok(ext(json!({"x-acme-ext": {"rank": 1}})));
    refused(
        json!({"type": "extension-definition", "spec_version": "2.1",
            "id": format!("extension-definition--{UUID4}"), "created": TS, "modified": TS,
            "name": "x", "schema": "s", "version": "1", "extension_types": ["new-sdo"],
            "extension_properties": ["a"]}),
        "/extension_properties",
        "toplevel-property-extension",
    );
    refused(
        json!({"type": "extension-definition", "spec_version": "2.1",
            "id": format!("extension-definition--{UUID4}"), "created": TS, "modified": TS,
            "name": "x", "schema": "s", "version": "1", "extension_types": ["new-sdo"]}),
        "/created_by_ref",
        "missing",
    );
}

#[test]
fn property_names_and_custom_content() {
    refused(
        with(indicator(), json!({"x": 1})),
        "/x",
        "invalid property name",
    );
    refused(
        with(indicator(), json!({"x-foo": 1})),
        "/x-foo",
        "invalid property name",
    );
    refused(
        with(indicator(), json!({"_foo": 1})),
        "/_foo",
        "invalid property name",
    );
    refused(
        with(indicator(), json!({"severity": "high"})),
        "/severity",
        "reserved",
    );
    refused(
        with(indicator(), json!({"x_list": []})),
        "/x_list",
        "empty list",
    );
    refused(
        with(indicator(), json!({"X_Acme_Score": 3})),
        "/X_Acme_Score",
        "invalid property name",
    );
    // Nested custom content is left alone.
    ok(with(
        indicator(),
        json!({"x_acme_score": 3, "x_list": [{"sectors": [], "Odd-Key": 1}]}),
    ));
    let e = errors(with(indicator(), json!({"a\nb": 1})));
    let message = ValidationError::new(&e[0].0, &e[0].1).to_string();
    assert!(!message.contains('\n'), "{message}");
}

#[test]
fn indicator_patterns() {
    let _ = pattern::parse("[ipv4-addr:value = '1.2.3.4']", &PatternLimits::default());
    // Other pattern languages are not parsed.
    ok(with(
        indicator(),
        json!({"pattern_type": "snort", "pattern": "alert tcp any any"}),
    ));
    refused(
        with(indicator(), json!({"pattern": 3})),
        "/pattern",
        "string",
    );
    refused(
        with(indicator(), json!({"pattern_type": null})),
        "/pattern_type",
        "missing",
    );
    // The message of the pattern parser is passed on, whatever the parser says.
    let bad = with(indicator(), json!({"pattern": "[ipv4-addr:value = "}));
    if let Err(e) = pattern::parse("[ipv4-addr:value = ", &PatternLimits::default()) {
        refused(bad, "/pattern", &format!("invalid STIX pattern: {e}"));
    }
}

#[test]
fn type_specific_rules() {
    let base = |t: &str, extra: Value| {
        with(
            json!({"type": t, "spec_version": "2.1", "id": format!("{t}--{UUID4}"),
                "created": TS, "modified": TS}),
            extra,
        )
    };
    refused(
        base("malware", json!({"is_family": true})),
        "/name",
        "is_family",
    );
    refused(base("malware", json!({})), "/is_family", "missing");
    refused(
        base("malware", json!({"is_family": "yes"})),
        "/is_family",
        "boolean",
    );
    refused(
        base("report", json!({"name": "r", "object_refs": [IDENTITY]})),
        "/published",
        "missing",
    );
    refused(
        base("grouping", json!({"object_refs": [IDENTITY]})),
        "/context",
        "missing",
    );
    refused(
        base("note", json!({"object_refs": [IDENTITY]})),
        "/content",
        "missing",
    );
    refused(
        base(
            "opinion",
            json!({"opinion": "meh", "object_refs": [IDENTITY]}),
        ),
        "/opinion",
        "not one of",
    );
    refused(base("identity", json!({})), "/name", "missing");
    refused(
        base("location", json!({"name": "x"})),
        "",
        "region, country or latitude",
    );
    refused(
        base("location", json!({"latitude": 91.0, "longitude": 0})),
        "/latitude",
        "between -90 and 90",
    );
    refused(
        base("location", json!({"latitude": 1.0})),
        "/latitude",
        "requires longitude",
    );
    refused(
        base(
            "observed-data",
            json!({"first_observed": TS, "last_observed": "2015-01-01T00:00:00Z",
            "number_observed": 0, "object_refs": [format!("malware--{UUID4}")]}),
        ),
        "/last_observed",
        "earlier than first_observed",
    );
    refused(
        base(
            "observed-data",
            json!({"first_observed": TS, "last_observed": TS, "number_observed": 0,
            "object_refs": [format!("ipv4-addr--{UUID4}")]}),
        ),
        "/number_observed",
        "between 1 and",
    );
    refused(
        base(
            "observed-data",
            json!({"first_observed": TS, "last_observed": TS, "number_observed": 1,
            "object_refs": [format!("malware--{UUID4}")]}),
        ),
        "/object_refs/0",
        "an SCO or an SRO",
    );
    refused(
        base(
            "observed-data",
            json!({"first_observed": TS, "last_observed": TS, "number_observed": 1}),
        ),
        "",
        "one of objects or object_refs",
    );
    refused(
        base(
            "campaign",
            json!({"name": "c", "first_seen": TS, "last_seen": "2010-01-01T00:00:00Z"}),
        ),
        "/last_seen",
        "earlier than first_seen",
    );
    refused(
        base(
            "vulnerability",
            json!({"name": "v", "external_references": [{"source_name": "cve", "external_id": "CVE-12-1"}]}),
        ),
        "/external_references/0/external_id",
        "CVE-YYYY-NNNN",
    );
    refused(
        base(
            "vulnerability",
            json!({"name": "v", "external_references": [{"source_name": "x"}]}),
        ),
        "/external_references/0",
        "description, url or external_id",
    );
    refused(
        base(
            "attack-pattern",
            json!({"name": "a", "kill_chain_phases": [{"kill_chain_name": "k"}]}),
        ),
        "/kill_chain_phases/0/phase_name",
        "missing",
    );
    let sco =
        |t: &str, extra: Value| with(json!({"type": t, "id": format!("{t}--{UUID4}")}), extra);
    refused(sco("file", json!({"size": 1})), "", "hashes or name");
    refused(
        sco("file", json!({"name": "a", "size": -1})),
        "/size",
        "between 0",
    );
    refused(
        sco("file", json!({"hashes": {"MD5": "abc"}})),
        "/hashes/MD5",
        "MD5 hash",
    );
    refused(
        sco(
            "file",
            json!({"name": "a", "parent_directory_ref": format!("file--{UUID4}")}),
        ),
        "/parent_directory_ref",
        "directory",
    );
    refused(
        sco("artifact", json!({"url": "u"})),
        "/url",
        "requires hashes",
    );
    refused(sco("artifact", json!({})), "", "one of payload_bin or url");
    refused(
        sco("email-message", json!({"is_multipart": true, "body": "b"})),
        "/body",
        "is_multipart",
    );
    // A MIME part holds its body, inline or by reference, once.
    refused(
        sco(
            "email-message",
            json!({"is_multipart": true, "body_multipart": [{"body": "b"}, {"content_type": "text/plain"}]}),
        ),
        "/body_multipart/1",
        "must have body or body_raw_ref",
    );
    refused(
        sco(
            "email-message",
            json!({"is_multipart": true, "body_multipart": [{"body": "b", "body_raw_ref": format!("artifact--{UUID4}")}]}),
        ),
        "/body_multipart/0",
        "not both",
    );
    refused(
        sco(
            "email-message",
            json!({"is_multipart": true, "body_multipart": [{"body_raw_ref": format!("ipv4-addr--{UUID4}")}]}),
        ),
        "/body_multipart/0/body_raw_ref",
        "artifact",
    );
    refused(
        sco(
            "network-traffic",
            json!({"protocols": ["tcp"], "src_ref": format!("ipv4-addr--{UUID4}"),
        "is_active": true, "end": TS}),
        ),
        "/end",
        "is_active",
    );
    refused(
        sco("network-traffic", json!({"protocols": ["tcp"]})),
        "",
        "src_ref or dst_ref",
    );
    refused(
        sco(
            "network-traffic",
            json!({"protocols": ["tcp"], "dst_ref": format!("file--{UUID4}"), "dst_port": 70000}),
        ),
        "/dst_port",
        "between 0 and 65535",
    );
    refused(sco("process", json!({})), "", "at least one of extensions");
    refused(
        sco("autonomous-system", json!({"number": 1.5})),
        "/number",
        "integer",
    );
    refused(sco("ipv4-addr", json!({})), "/value", "missing");
}

#[test]
fn deep_values_do_not_recurse() {
    // Deeper than the JSON reader allows, built by hand (`json!` would copy it through
    // serde, recursively).
    let mut v = json!({"leaf_ref": "bad"});
    for _ in 0..5_000 {
        let mut m = Map::new();
        m.insert("x".into(), Value::Array(vec![v]));
        v = Value::Object(m);
    }
    let Value::Object(mut obj) = indicator() else {
        unreachable!()
    };
    obj.insert("deep_data".into(), v);
    let obj = Value::Object(obj);
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let n = validate("{}", &obj).err().map(|e| e.len());
            // Dropping the value recurses: leak it here, this thread's stack is small.
            std::mem::forget(obj);
            n
        })
        .unwrap();
    assert_eq!(handle.join().unwrap(), Some(1));
}
