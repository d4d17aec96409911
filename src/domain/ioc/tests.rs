//! End-to-end tests of the conversion: requests in, objects that the hub's own validator and
//! pattern parser accept out.

use proptest::prelude::*;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;
use uuid::Uuid;

use super::*;
use crate::domain::stix::id::StixId;
use crate::domain::stix::pattern::{self, Literal, PatternLimits};
use crate::domain::stix::validate::validate;

/// The ids of MARKINGS.md, copied from there rather than from the code under test.
const TLP_CLEAR: &str = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";
const TLP_GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
const TLP_AMBER: &str = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
const TLP_AMBER_STRICT: &str = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003";
const TLP_RED: &str = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
const PAP_CLEAR: &str = "marking-definition--ad15a0cd-55b6-4588-a14c-a66105329b92";
const PAP_GREEN: &str = "marking-definition--c43594d1-4b11-4c59-93ab-1c9b14d53ce9";
const PAP_AMBER: &str = "marking-definition--60f8932b-e51e-4458-b265-a2e8be9a80ab";
const PAP_RED: &str = "marking-definition--740d36e5-7714-4c30-961a-3ae632ceee0e";

const IDENTITY: &str = "identity--8f2a1c3e-5b7d-4e9f-a1b2-c3d4e5f60718";
const NOW: OffsetDateTime = datetime!(2025-03-01 06:07:08.123456789 UTC);
const SHA256: &str = "AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F";

/// Version-4 UUIDs from a counter, so that runs are repeatable.
struct SeqIds(u64);

impl IdSource for SeqIds {
    fn uuid_v4(&mut self) -> Uuid {
        self.0 += 1;
        let mut bytes = [0u8; 16];
        bytes[8..].copy_from_slice(&self.0.to_be_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
}

fn identity() -> StixId {
    StixId::parse(IDENTITY).unwrap()
}

fn convert(body: Value) -> Vec<Result<ConvertedIoc, Vec<FieldError>>> {
    convert_request(
        &body,
        Some(&identity()),
        NOW,
        &NetworkBounds::DEFAULT,
        &mut SeqIds(0),
    )
    .unwrap()
}

fn convert_one(item: Value) -> ConvertedIoc {
    let mut out = convert(json!([item]));
    match out.pop() {
        Some(Ok(c)) => c,
        other => panic!("{other:?}"),
    }
}

/// The errors of a single bad item, as (field, error).
fn errors_of(item: Value) -> Vec<(String, IocError)> {
    match parse_item(&item, NOW, &NetworkBounds::DEFAULT) {
        Ok(v) => panic!("accepted: {v:?}"),
        Err(errors) => errors.into_iter().map(|e| (e.field, e.error)).collect(),
    }
}

fn value_error(item: Value) -> value::ValueError {
    match errors_of(item).as_slice() {
        [(field, IocError::Value { error, .. })] if field == "/value" => error.clone(),
        other => panic!("{other:?}"),
    }
}

/// Every object passes `validate` on its serialised text; every indicator's pattern parses
/// to one equality whose literal is `value` (so quoting round-trips); every relationship
/// joins objects of the same conversion.
fn assert_valid(c: &ConvertedIoc, value: &str) {
    let ids: Vec<&str> = c.objects.iter().filter_map(|o| o["id"].as_str()).collect();
    for o in &c.objects {
        let raw = serde_json::to_string(o).unwrap();
        if let Err(errors) = validate(&raw, o) {
            panic!("{raw}\n{errors:#?}");
        }
        match o["type"].as_str() {
            Some("indicator") => {
                let p = pattern::parse(o["pattern"].as_str().unwrap(), &PatternLimits::default())
                    .unwrap();
                let comparisons: Vec<_> = p.comparisons().collect();
                assert_eq!(comparisons.len(), 1);
                assert_eq!(
                    comparisons[0].value,
                    Some(Literal::String(value.to_owned())),
                    "{}",
                    o["pattern"]
                );
            }
            Some("relationship") => {
                assert!(ids.contains(&o["source_ref"].as_str().unwrap()));
                assert!(ids.contains(&o["target_ref"].as_str().unwrap()));
            }
            Some("attack-pattern") => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(c.objects[0]["id"].as_str(), Some(c.indicator_id.as_str()));
}

fn markings(o: &Value) -> Vec<&str> {
    o["object_marking_refs"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn every_type_converts_to_valid_stix_with_the_right_pattern() {
    let cases = [
        (
            "ipv4",
            " 198.51.100.7 ",
            "198.51.100.7",
            "[ipv4-addr:value = '198.51.100.7']",
        ),
        (
            "ipv4",
            "198.51.100.0/24",
            "198.51.100.0/24",
            "[ipv4-addr:value = '198.51.100.0/24']",
        ),
        (
            "ipv6",
            "2001:DB8:0:0:0:0:0:1",
            "2001:db8::1",
            "[ipv6-addr:value = '2001:db8::1']",
        ),
        (
            "ipv6",
            "2001:db8:0:0::/64",
            "2001:db8::/64",
            "[ipv6-addr:value = '2001:db8::/64']",
        ),
        (
            "domain",
            "Evil.Example.",
            "evil.example",
            "[domain-name:value = 'evil.example']",
        ),
        (
            "url",
            "http://evil.example/it's\\here?a=1",
            "http://evil.example/it's\\here?a=1",
            "[url:value = 'http://evil.example/it\\'s\\\\here?a=1']",
        ),
        (
            "email",
            "o'brien@Evil.Example",
            "o'brien@evil.example",
            "[email-addr:value = 'o\\'brien@evil.example']",
        ),
        (
            "md5",
            "D41D8CD98F00B204E9800998ECF8427E",
            "d41d8cd98f00b204e9800998ecf8427e",
            "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
        ),
        (
            "sha1",
            "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709",
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']",
        ),
        (
            "sha256",
            SHA256,
            "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f",
            "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
        ),
        (
            "file_name",
            "it's a \\ trap.exe",
            "it's a \\ trap.exe",
            "[file:name = 'it\\'s a \\\\ trap.exe']",
        ),
        (
            "file name",
            "cv\u{202e}fdp.exe",
            "cv\u{202e}fdp.exe",
            "[file:name = 'cv\u{202e}fdp.exe']",
        ),
        ("file_name", "\\'", "\\'", "[file:name = '\\\\\\'']"),
    ];
    for (kind, value, normal, expected_pattern) in cases {
        let c = convert_one(json!({"type": kind, "value": value}));
        assert_valid(&c, normal);
        let indicator = &c.objects[0];
        assert_eq!(indicator["pattern"], expected_pattern, "{kind} {value}");
        assert_eq!(indicator["pattern_type"], "stix");
        assert_eq!(indicator["indicator_types"], json!(["malicious-activity"]));
        assert_eq!(indicator["spec_version"], "2.1");
        assert_eq!(c.objects.len(), 1);
    }
}

#[test]
fn the_indicator_carries_time_markings_producer_and_description() {
    let c = convert_one(json!({
        "type": "domain", "value": "evil.example", "tlp": "AMBER+STRICT", "pap": "pap:green",
        "description": "C2 of the dropper", "first_seen": "2025-02-27T10:00:00.5+04:00",
    }));
    assert_valid(&c, "evil.example");
    let i = &c.objects[0];
    assert_eq!(i["created"], "2025-03-01T06:07:08.123Z");
    assert_eq!(i["modified"], "2025-03-01T06:07:08.123Z");
    assert_eq!(i["valid_from"], "2025-02-27T06:00:00.500Z");
    assert_eq!(i["created_by_ref"], IDENTITY);
    assert_eq!(i["description"], "C2 of the dropper");
    assert_eq!(i["name"], "Domain name evil.example");
    assert_eq!(markings(i), [TLP_AMBER_STRICT, PAP_GREEN]);
    let id = StixId::parse(i["id"].as_str().unwrap()).unwrap();
    assert_eq!(id.object_type(), "indicator");
    assert_eq!(id.uuid().get_version_num(), 4);

    // Without first_seen the indicator is valid from now; without producer, no created_by_ref.
    let item = parse_item(
        &json!({"type": "domain", "value": "evil.example"}),
        NOW,
        &NetworkBounds::DEFAULT,
    )
    .unwrap();
    let c = to_stix(&item, None, NOW, &mut RandomIds);
    assert_valid(&c, "evil.example");
    assert_eq!(c.objects[0]["valid_from"], "2025-03-01T06:07:08.123Z");
    assert!(c.objects[0].get("created_by_ref").is_none());
    assert!(c.objects[0].get("description").is_none());
}

#[test]
fn marking_refs_are_the_exact_ids_of_markings_md() {
    let tlps = [
        ("clear", TLP_CLEAR),
        ("white", TLP_CLEAR),
        ("TLP:WHITE", TLP_CLEAR),
        ("green", TLP_GREEN),
        ("Amber", TLP_AMBER),
        ("amber+strict", TLP_AMBER_STRICT),
        ("TLP:RED", TLP_RED),
    ];
    for (tlp, id) in tlps {
        let c = convert_one(
            json!({"type": "md5", "value": "d41d8cd98f00b204e9800998ecf8427e", "tlp": tlp}),
        );
        assert_eq!(markings(&c.objects[0]), [id], "{tlp}");
    }
    let paps = [
        ("clear", PAP_CLEAR),
        ("white", PAP_CLEAR),
        ("GREEN", PAP_GREEN),
        ("amber", PAP_AMBER),
        ("PAP:RED", PAP_RED),
    ];
    for (pap, id) in paps {
        let c = convert_one(
            json!({"type": "md5", "value": "d41d8cd98f00b204e9800998ecf8427e", "pap": pap}),
        );
        // No TLP given: no TLP marking, the hub's default policy decides and records it.
        assert_eq!(markings(&c.objects[0]), [id], "{pap}");
    }
    let c = convert_one(
        json!({"type": "md5", "value": "d41d8cd98f00b204e9800998ecf8427e", "tlp": null}),
    );
    assert!(c.objects[0].get("object_marking_refs").is_none());
    assert_valid(&c, "d41d8cd98f00b204e9800998ecf8427e");
}

#[test]
fn techniques_become_shared_attack_patterns_and_indicates_relationships() {
    let item = json!({
        "type": "sha256", "value": SHA256, "tlp": "red", "pap": "amber",
        "attack_techniques": ["T1059.001", "T1566", "T1059.001"],
    });
    let c = convert_one(item.clone());
    assert_valid(&c, &SHA256.to_ascii_lowercase());
    let types: Vec<&str> = c
        .objects
        .iter()
        .map(|o| o["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "indicator",
            "attack-pattern",
            "relationship",
            "attack-pattern",
            "relationship"
        ]
    );
    // The reference implementation's uuid5 (Python) gives these ids.
    let ap = &c.objects[1];
    assert_eq!(
        ap["id"],
        "attack-pattern--dcc0cde2-4d23-5a64-aec2-ed2482c2888e"
    );
    assert_eq!(
        c.objects[3]["id"],
        "attack-pattern--9e404c7f-0f88-51c3-8f4e-1fef5d0b9f77"
    );
    assert_eq!(ap["name"], "T1059.001");
    assert_eq!(
        ap["external_references"],
        json!([{
            "source_name": "mitre-attack",
            "external_id": "T1059.001",
            "url": "https://attack.mitre.org/techniques/T1059/001/",
        }])
    );
    assert_eq!(ap["created"], ATTACK_PATTERN_VERSION);
    assert_eq!(ap["modified"], ATTACK_PATTERN_VERSION);
    assert_eq!(markings(ap), [TLP_CLEAR]);
    assert!(ap.get("created_by_ref").is_none());

    let rel = &c.objects[2];
    assert_eq!(rel["relationship_type"], "indicates");
    assert_eq!(rel["source_ref"].as_str(), Some(c.indicator_id.as_str()));
    assert_eq!(rel["target_ref"], ap["id"]);
    assert_eq!(rel["created_by_ref"], IDENTITY);
    assert_eq!(markings(rel), [TLP_RED, PAP_AMBER]);
    assert_eq!(markings(rel), markings(&c.objects[0]));
    let rel_id = StixId::parse(rel["id"].as_str().unwrap()).unwrap();
    assert_eq!(rel_id.uuid().get_version_num(), 4);

    // Another provider, another time: the same attack-pattern, byte for byte; new indicator
    // and relationship ids.
    let item = parse_item(&item, NOW, &NetworkBounds::DEFAULT).unwrap();
    let later = to_stix(&item, None, NOW + time::Duration::days(3), &mut RandomIds);
    assert_eq!(later.objects[1], c.objects[1]);
    assert_eq!(later.objects[3], c.objects[3]);
    assert_ne!(later.indicator_id, c.indicator_id);
    assert_ne!(later.objects[2]["id"], c.objects[2]["id"]);
}

#[test]
fn the_namespace_is_derived_as_documented() {
    assert_eq!(
        Uuid::new_v5(&Uuid::NAMESPACE_URL, b"urn:relais:attack-pattern"),
        ATTACK_PATTERN_NAMESPACE
    );
}

#[test]
fn the_case_is_returned_apart_and_never_written_into_stix() {
    let case = "CASE-2025-0042 victim Mairie de Saint-Denis";
    let c = convert_one(json!({
        "type": "ipv4", "value": "198.51.100.7", "case": case, "attack_techniques": ["T1190"],
    }));
    assert_eq!(c.case.as_deref(), Some(case));
    let text = serde_json::to_string(&c.objects).unwrap();
    assert!(!text.contains("CASE-2025-0042"), "{text}");
    assert!(!text.contains("Mairie"), "{text}");
    assert!(
        convert_one(json!({"type": "ipv4", "value": "198.51.100.7"}))
            .case
            .is_none()
    );
}

#[test]
fn bad_items_get_their_own_errors_and_the_others_still_convert() {
    let body = json!([
        {"type": "md5", "value": "d41d8cd98f00b204e9800998ecf8427"},
        {"type": "ipv4", "value": "198.51.100.7"},
        {"type": "md5", "value": "g41d8cd98f00b204e9800998ecf8427e"},
        {"type": "ipv4", "value": "198.51.100.777"},
        {"type": "domain", "value": "evil..example"},
        {"type": "email", "value": "nobody.example"},
        {"type": "url", "value": "evil.example/x"},
        {"type": "sha256", "value": SHA256, "attack_techniques": ["T1059", "t1059.001"]},
        {"type": "hash", "value": "x"},
        {"type": "domain", "value": "evil.example", "severity": "high"},
        {"type": "url", "value": format!("http://evil.example/{}", "a".repeat(MAX_VALUE_LEN))},
        {"type": "domain", "value": "evil.example", "tlp": "amber-strict"},
        {"type": "domain", "value": "evil.example", "pap": "yellow"},
        {"type": "domain", "value": "evil.example", "first_seen": "2025-03-01 10:00"},
        {"type": "file_name", "value": "ok.exe", "tlp": "green"},
        "evil.example",
        {"value": "evil.example"},
        {"type": 4, "value": ["x"], "tlp": 1, "attack_techniques": "T1059"},
        {"type": "domain", "value": "evil.example", "description": "x".repeat(MAX_DESCRIPTION_LEN + 1)},
        {"type": "domain", "value": "evil.example", "attack_techniques": vec!["T1059"; MAX_TECHNIQUES + 1]},
        {"type": "domain", "value": "evil.example", "first_seen": "2025-03-01T07:00:00Z"},
        {"type": "domain", "value": "evil.example", "first_seen": "1969-12-31T23:59:59Z"},
        {"type": "domain", "value": "evil.example", "case": " "},
        {"type": "domain", "value": "evil.example", "case": "a\nb"},
        {"type": "domain", "value": "evil.example", "case": "c".repeat(MAX_CASE_LEN + 1)},
        {"type": "domain", "value": "evil.example", "attack_techniques": ["T1059", 7]},
    ]);
    let out = parse_request(&body, NOW, &NetworkBounds::DEFAULT).unwrap();
    assert_eq!(out.len(), body.as_array().unwrap().len());
    let errors: Vec<Vec<(String, IocError)>> = out
        .iter()
        .map(|r| match r {
            Ok(_) => Vec::new(),
            Err(e) => e
                .iter()
                .map(|e| (e.field.clone(), e.error.clone()))
                .collect(),
        })
        .collect();
    let one = |i: usize| -> (&str, &IocError) {
        assert_eq!(errors[i].len(), 1, "item {i}: {:?}", errors[i]);
        (errors[i][0].0.as_str(), &errors[i][0].1)
    };
    use value::{DomainError, ValueError as V};
    let value_err = |i: usize| match one(i) {
        ("/value", IocError::Value { error, .. }) => error.clone(),
        other => panic!("item {i}: {other:?}"),
    };
    assert_eq!(
        value_err(0),
        V::HashLength {
            algorithm: "MD5",
            expected: 32,
            found: 31
        }
    );
    assert!(errors[1].is_empty());
    assert_eq!(value_err(2), V::HashDigits);
    assert_eq!(value_err(3), V::Ipv4);
    assert_eq!(value_err(4), V::Domain(DomainError::EmptyLabel));
    assert_eq!(value_err(5), V::EmailShape);
    assert_eq!(value_err(6), V::UrlScheme);
    assert!(matches!(
        one(7),
        ("/attack_techniques/1", IocError::Technique(_))
    ));
    assert!(matches!(one(8), ("/type", IocError::UnknownType(_))));
    assert_eq!(one(9), ("/severity", &IocError::UnknownField));
    assert!(matches!(
        one(10),
        (
            "/value",
            IocError::TooLong {
                max: MAX_VALUE_LEN,
                ..
            }
        )
    ));
    assert!(matches!(one(11), ("/tlp", IocError::Tlp(_))));
    assert!(matches!(one(12), ("/pap", IocError::Pap(_))));
    assert_eq!(one(13), ("/first_seen", &IocError::TimestampFormat));
    assert!(errors[14].is_empty());
    assert_eq!(one(15), ("", &IocError::NotAnObject));
    assert_eq!(one(16), ("/type", &IocError::Missing));
    let mut shape: Vec<&str> = errors[17].iter().map(|(f, _)| f.as_str()).collect();
    shape.sort_unstable();
    assert_eq!(shape, ["/attack_techniques", "/tlp", "/type", "/value"]);
    assert!(
        errors[17]
            .iter()
            .all(|(_, e)| matches!(e, IocError::WrongType { .. }))
    );
    assert!(matches!(
        one(18),
        ("/description", IocError::TooLong { .. })
    ));
    assert!(matches!(
        one(19),
        (
            "/attack_techniques",
            IocError::TooManyTechniques { count: 51, max: 50 }
        )
    ));
    assert_eq!(one(20), ("/first_seen", &IocError::TimestampFuture));
    assert_eq!(one(21), ("/first_seen", &IocError::TimestampTooEarly));
    assert_eq!(one(22), ("/case", &IocError::Blank));
    assert_eq!(one(23), ("/case", &IocError::ControlCharacters));
    assert!(matches!(one(24), ("/case", IocError::TooLong { .. })));
    assert!(matches!(
        one(25),
        ("/attack_techniques/1", IocError::WrongType { .. })
    ));

    // The valid ones convert, in place.
    let converted = convert(body);
    let ok: Vec<usize> = (0..converted.len())
        .filter(|i| converted[*i].is_ok())
        .collect();
    assert_eq!(ok, [1, 14]);
    if let Ok(c) = &converted[14] {
        assert_valid(c, "ok.exe");
    }
}

#[test]
fn every_problem_of_an_item_is_listed_with_its_pointer() {
    let item = json!({"type": "sha1", "value": "abc", "tlp": "purple", "first_seen": "soon",
                      "attack_techniques": ["T1", "T1059", "X"], "a/b": 1});
    let fields: Vec<String> = errors_of(item).into_iter().map(|(f, _)| f).collect();
    for expected in [
        "/value",
        "/tlp",
        "/first_seen",
        "/attack_techniques/0",
        "/attack_techniques/2",
        "/a~1b",
    ] {
        assert!(
            fields.iter().any(|f| f == expected),
            "{expected} in {fields:?}"
        );
    }
    let e = FieldError {
        field: "/value".into(),
        error: IocError::Missing,
    };
    assert_eq!(e.pointer(7), "/7/value");
    assert_eq!(e.to_string(), "/value: missing");
}

#[test]
fn tricky_but_valid_values() {
    assert_eq!(
        value_error(json!({"type": "ipv6", "value": "2001:db8::1/64"})),
        value::ValueError::HostBits {
            network: "2001:db8::/64".into()
        }
    );
    for (v, normal) in [
        ("::", "::"),
        ("0:0:0:0:0:0:0:1", "::1"),
        ("FE80::0:0:1", "fe80::1"),
        ("2001:db8:0:1:0:0:0:0", "2001:db8:0:1::"),
    ] {
        let c = convert_one(json!({"type": "ipv6", "value": v}));
        assert_valid(&c, normal);
    }
    let url = "https://evil.example/a'b'/'%27?q=\\'";
    let c = convert_one(json!({"type": "url", "value": url, "tlp": "green"}));
    assert_valid(&c, url);
    // A value whose name would be long is cut in the name only.
    let long = format!("https://evil.example/{}", "p".repeat(500));
    let c = convert_one(json!({"type": "url", "value": long}));
    assert_valid(&c, &long);
    assert_eq!(c.objects[0]["name"].as_str().unwrap().chars().count(), 121);
}

#[test]
fn whole_request_errors() {
    assert_eq!(
        parse_request(&json!({"iocs": []}), NOW, &NetworkBounds::DEFAULT).err(),
        Some(RequestError::NotAList)
    );
    assert_eq!(
        parse_request(&json!([]), NOW, &NetworkBounds::DEFAULT).err(),
        Some(RequestError::Empty)
    );
    let many = Value::Array(vec![
        json!({"type": "ipv4", "value": "198.51.100.7"});
        MAX_ITEMS + 1
    ]);
    assert_eq!(
        parse_request(&many, NOW, &NetworkBounds::DEFAULT).err(),
        Some(RequestError::TooManyItems {
            count: MAX_ITEMS + 1,
            max: MAX_ITEMS
        })
    );
    let full = Value::Array(vec![
        json!({"type": "ipv4", "value": "198.51.100.7"});
        MAX_ITEMS
    ]);
    assert!(
        parse_request(&full, NOW, &NetworkBounds::DEFAULT)
            .unwrap()
            .iter()
            .all(Result::is_ok)
    );
}

#[test]
fn the_documented_struct_reads_the_same_shape() {
    let item = json!({"type": "file name", "value": "x", "tlp": null, "attack_techniques": []});
    let read = read_item(&item).unwrap();
    assert_eq!(serde_json::from_value::<IocItem>(item).unwrap(), read);
    assert_eq!(read.kind, IocType::FileName);
    assert_eq!(
        serde_json::to_value(&read).unwrap(),
        json!({"type": "file_name", "value": "x"})
    );
}

// ---------------------------------------------------------------------------------------------
// Properties

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("type".to_owned()),
                    Just("value".to_owned()),
                    Just("tlp".to_owned()),
                    Just("attack_techniques".to_owned()),
                    ".{0,8}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn arb_domain() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "([a-zA-Z0-9_]([a-zA-Z0-9_-]{0,10}[a-zA-Z0-9_])?\\.){1,3}[a-zA-Z]([a-zA-Z0-9-]{0,6}[a-zA-Z0-9])?\\.?",
        1 => "([a-zA-Z0-9_-]{1,12}\\.){1,3}[a-zA-Z0-9-]{1,8}\\.?",
    ]
}

/// Values that are often valid for some type, with the characters that need care.
fn arb_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|b| format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])),
        (any::<[u8; 4]>(), 0u8..40)
            .prop_map(|(b, p)| format!("{}.{}.{}.{}/{p}", b[0], b[1], b[2], b[3])),
        any::<u128>().prop_map(|n| std::net::Ipv6Addr::from(n).to_string()),
        (any::<u128>(), 0u8..140).prop_map(|(n, p)| format!(
            "{}/{p}",
            std::net::Ipv6Addr::from(n).to_string().to_uppercase()
        )),
        arb_domain(),
        (arb_domain(), "[ -~]{0,30}").prop_map(|(d, p)| format!("https://{d}/{p}")),
        (arb_domain(), "[a-zA-Z0-9.'+_\\\\-]{1,12}").prop_map(|(d, l)| format!("{l}@{d}")),
        "[0-9a-fA-F]{30,66}",
        "[^/]{0,24}",
        "[\\\\' a-z.]{1,12}",
        ".{0,40}",
    ]
}

/// A type and a value that is usually valid for it, with the characters that need care.
fn arb_typed_value() -> impl Strategy<Value = (String, String)> {
    let hex = |n: usize| proptest::string::string_regex(&format!("[0-9a-fA-F]{{{n}}}")).unwrap();
    let host = prop_oneof![
        arb_domain(),
        any::<[u8; 4]>().prop_map(|b| format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])),
        any::<u128>().prop_map(|n| format!("[{}]", std::net::Ipv6Addr::from(n))),
    ];
    let typed = prop_oneof![
        (any::<u32>(), 16u32..=32)
            .prop_map(|(a, p)| {
                let net = a & !(u32::MAX.checked_shr(p).unwrap_or(0));
                format!("{}/{p}", std::net::Ipv4Addr::from(net))
            })
            .prop_map(|v| ("ipv4", v)),
        any::<u32>().prop_map(|a| ("ipv4", std::net::Ipv4Addr::from(a).to_string())),
        (any::<u128>(), 32u32..=128, any::<bool>()).prop_map(|(a, p, upper)| {
            let net = a & !(u128::MAX.checked_shr(p).unwrap_or(0));
            let text = format!("{}/{p}", std::net::Ipv6Addr::from(net));
            ("ipv6", if upper { text.to_uppercase() } else { text })
        }),
        arb_domain().prop_map(|d| ("domain", d)),
        (
            prop::sample::select(vec!["http", "https", "ftp", "ldap", "HTTP"]),
            host,
            prop::option::of(any::<u16>()),
            "[!-~]{0,30}",
        )
            .prop_map(|(scheme, host, port, path)| {
                let port = port.map(|p| format!(":{p}")).unwrap_or_default();
                ("url", format!("{scheme}://{host}{port}/{path}"))
            }),
        (
            arb_domain(),
            "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]{1,10}(\\.[a-zA-Z0-9'+_-]{1,8})?"
        )
            .prop_map(|(d, l)| ("email", format!("{l}@{d}"))),
        hex(32).prop_map(|h| ("md5", h)),
        hex(40).prop_map(|h| ("sha1", h)),
        hex(64).prop_map(|h| ("sha256", h)),
        "[^/\\x00-\\x1f]{1,24}".prop_map(|f| ("file_name", f)),
        "[\\\\' a-z.]{1,12}".prop_map(|f| ("file name", f)),
    ];
    let kind = prop_oneof![
        4 => prop::sample::select(IocType::ALL.map(IocType::as_str).to_vec()).prop_map(str::to_owned),
        1 => ".{0,10}",
    ];
    prop_oneof![
        4 => typed.prop_map(|(k, v)| (k.to_owned(), v)),
        1 => (kind, arb_value()),
    ]
}

fn arb_item() -> impl Strategy<Value = Value> {
    let level = || {
        prop::option::of(prop_oneof![
            4 => prop::sample::select(vec!["clear", "white", "GREEN", "amber", "amber+strict", "TLP:RED", "red"])
                .prop_map(str::to_owned),
            1 => ".{0,8}",
        ])
    };
    let time = prop::option::of(prop_oneof![
        1 => Just("2024-12-31T23:59:60Z".to_owned()),
        1 => Just("9999-12-31T23:59:59-23:59".to_owned()),
        1 => Just("0000-01-01T00:00:00+23:59".to_owned()),
        6 => (0i64..1_740_000_000, 0u32..1_000_000_000, -86_399i32..86_399).prop_map(|(s, ns, off)| {
            let offset = time::UtcOffset::from_whole_seconds(off / 60 * 60).unwrap();
            (OffsetDateTime::from_unix_timestamp(s).unwrap() + time::Duration::nanoseconds(ns.into()))
                .to_offset(offset)
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap()
        }),
        1 => ".{0,30}",
    ]);
    let technique = prop_oneof![4 => "T[0-9]{4}", 4 => "T[0-9]{4}\\.[0-9]{3}", 1 => ".{0,10}"];
    (
        arb_typed_value(),
        level(),
        level(),
        prop::option::of(".{0,40}"),
        time,
        prop::collection::vec(technique, 0..4),
        prop::option::of(prop_oneof![4 => "[ -~]{1,20}", 1 => ".{0,20}"]),
        prop::option::weighted(0.1, (".{1,6}", arb_json())),
    )
        .prop_map(
            |((kind, value), tlp, pap, description, first_seen, techniques, case, extra)| {
                let mut o = serde_json::Map::new();
                o.insert("type".into(), kind.into());
                o.insert("value".into(), value.into());
                let mut opt = |k: &str, v: Option<String>| {
                    if let Some(v) = v {
                        o.insert(k.into(), v.into());
                    }
                };
                opt("tlp", tlp);
                opt("pap", pap);
                opt("description", description);
                opt("first_seen", first_seen);
                opt("case", case);
                if !techniques.is_empty() {
                    o.insert("attack_techniques".into(), json!(techniques));
                }
                if let Some((k, v)) = extra {
                    o.insert(k, v);
                }
                Value::Object(o)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    /// Whatever an item holds, reading it never panics, and what is accepted converts to
    /// objects the hub's own validator accepts, with a pattern that matches the value.
    #[test]
    fn any_item_is_refused_or_converts_to_valid_stix(
        item in prop_oneof![3 => arb_item(), 1 => arb_json()],
        with_producer in any::<bool>(),
    ) {
        let producer = with_producer.then(identity);
        match parse_item(&item, NOW, &NetworkBounds::DEFAULT) {
            Ok(valid) => {
                let c = to_stix(&valid, producer.as_ref(), NOW, &mut SeqIds(7));
                assert_valid(&c, valid.value());
                prop_assert_eq!(c.objects.len(), 1 + 2 * valid.techniques().len());
            }
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                for e in errors {
                    prop_assert!(!e.to_string().is_empty());
                }
            }
        }
    }

    /// The reader agrees with serde on the documented struct: same items accepted, same
    /// result.
    #[test]
    fn the_reader_and_the_documented_struct_agree(
        item in prop_oneof![arb_item(), arb_json()],
    ) {
        let serde = serde_json::from_value::<IocItem>(item.clone()).ok();
        prop_assert_eq!(read_item(&item).ok(), serde);
    }
}
