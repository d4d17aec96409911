//! The anonymiser on realistic submissions.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::domain::stix::validate::validate;

const KEY_A: [u8; KEY_LEN] = [0xa5; KEY_LEN];
const KEY_B: [u8; KEY_LEN] = [0x5a; KEY_LEN];
const C2: &str = "185.220.101.4";

fn shipped() -> AnonymisationPolicy {
    AnonymisationPolicy::shipped().unwrap()
}

/// The shipped policy with one rule changed.
fn with_rule(kind: FindingKind, action: &str, in_indicator: &str) -> AnonymisationPolicy {
    let header = format!("[rules.{kind}]\n");
    let start = SHIPPED.find(&header).unwrap();
    let body_end = SHIPPED[start + header.len()..]
        .find("\n\n")
        .map_or(SHIPPED.len(), |i| start + header.len() + i);
    let text = format!(
        "{}{header}action = \"{action}\"\nin_indicator = \"{in_indicator}\"{}",
        &SHIPPED[..start],
        &SHIPPED[body_end..]
    );
    let policy = AnonymisationPolicy::parse(&text).unwrap();
    assert_eq!(
        policy.rule(kind),
        Rule {
            action: serde_json::from_value(json!(action)).unwrap(),
            in_indicator: serde_json::from_value(json!(in_indicator)).unwrap(),
        }
    );
    policy
}

fn victim() -> VictimContext {
    VictimContext {
        domains: vec!["victim.re".into(), "sucrerie-br.fr".into()],
        emails: vec!["daf.sucrerie@gmail.com".into()],
        hostnames: vec!["DC01".into(), "SRV-COMPTA".into()],
        organisations: vec!["Sucrerie de Bois-Rouge".into()],
    }
}

fn indicator(pattern: &str) -> Value {
    json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2024-03-05T06:12:00.000Z",
        "modified": "2024-03-05T06:12:00.000Z",
        "name": "Cobalt Strike beacon",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2024-03-05T06:12:00Z",
        "indicator_types": ["malicious-activity"]
    })
}

fn report(description: &str) -> Value {
    json!({
        "type": "report",
        "spec_version": "2.1",
        "id": "report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3",
        "created": "2024-03-05T06:12:00.000Z",
        "modified": "2024-03-05T06:12:00.000Z",
        "name": "Intrusion, March 2024",
        "description": description,
        "report_types": ["campaign"],
        "published": "2024-03-05T06:12:00Z",
        "object_refs": ["indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]
    })
}

fn run(
    object: &Value,
    policy: &AnonymisationPolicy,
    ctx: &VictimContext,
) -> Result<Anonymised, Refused> {
    anonymise(object, policy, ctx, &PseudonymKey::new(&KEY_A))
}

fn rewritten(
    object: &Value,
    policy: &AnonymisationPolicy,
    ctx: &VictimContext,
) -> (Value, Vec<Change>) {
    let out = run(object, policy, ctx).unwrap();
    assert!(!out.is_unchanged());
    (out.rewritten.unwrap(), out.changes)
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap()
}

/// The object is still valid STIX, as the hub will store it.
fn assert_valid(v: &Value) {
    let raw = serde_json::to_string(v).unwrap();
    if let Err(errors) = validate(&raw, v) {
        panic!("{errors:?}");
    }
}

fn pseudonym(kind: FindingKind, value: &str) -> String {
    PseudonymKey::new(&KEY_A).pseudonym(&shipped(), kind, value)
}

// --- The cases -------------------------------------------------------------------

#[test]
fn a_private_address_as_the_indicator_is_refused_by_default() {
    let object = indicator("[ipv4-addr:value = '10.1.2.3']");
    let refused = run(&object, &shipped(), &VictimContext::none()).unwrap_err();
    assert_eq!(
        refused,
        Refused {
            object_id: "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f".into(),
            field: "/pattern".into(),
            rule: FindingKind::PrivateIp,
            reason: RefusalReason::Policy,
        }
    );
    // The message says where and why, never the value.
    let message = refused.to_string();
    assert!(
        message.contains("/pattern") && message.contains("private_ip"),
        "{message}"
    );
    assert!(!message.contains("10.1.2.3"), "{message}");
}

#[test]
fn a_private_address_as_the_indicator_is_rewritten_when_the_policy_says_so() {
    for (action, expected) in [
        (
            "pseudonymise",
            pseudonym(FindingKind::PrivateIp, "10.1.2.3"),
        ),
        ("redact", "[redacted]".to_owned()),
    ] {
        let policy = with_rule(FindingKind::PrivateIp, action, action);
        let object =
            indicator("[ipv4-addr:value = '10.1.2.3'] AND [network-traffic:dst_port = 445]");
        let (v, changes) = rewritten(&object, &policy, &VictimContext::none());
        let p = str_at(&v, "/pattern");
        assert_eq!(
            p,
            format!("[ipv4-addr:value = '{expected}'] AND [network-traffic:dst_port = 445]")
        );
        assert!(pattern::parse(p, &PatternLimits::default()).is_ok());
        assert_valid(&v);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].field, "/pattern");
        assert_eq!(changes[0].rule, FindingKind::PrivateIp);
    }
}

#[test]
fn a_description_naming_the_victims_domain_is_redacted() {
    let object = report(
        "The actor phished accounting staff with a fake invoice portal mimicking \
         extranet.VICTIM.re, then exfiltrated to 185.220.101.4.",
    );
    let (v, changes) = rewritten(&object, &shipped(), &victim());
    assert_eq!(
        str_at(&v, "/description"),
        "The actor phished accounting staff with a fake invoice portal mimicking \
         [redacted], then exfiltrated to 185.220.101.4."
    );
    assert_eq!(
        changes,
        [Change {
            object_id: "report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3".into(),
            field: "/description".into(),
            rule: FindingKind::VictimDomain,
            action: ChangeAction::Redacted,
            occurrences: 1,
        }]
    );
    // Nothing else moved.
    let mut back = v.clone();
    back["description"] = object["description"].clone();
    assert_eq!(back, object);
    assert_valid(&v);
}

#[test]
fn a_public_c2_address_passes_untouched() {
    let ctx = victim();
    for object in [
        indicator(&format!("[ipv4-addr:value = '{C2}']")),
        indicator(
            "[ipv6-addr:value = '2a0b:f4c2::4'] OR [domain-name:value = 'cdn-update.example']",
        ),
        report(&format!(
            "Beaconing to {C2}:443 every 60 s, C2 https://{C2}/jquery.min.js"
        )),
        json!({"type": "ipv4-addr", "spec_version": "2.1",
               "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value": C2}),
    ] {
        let out = run(&object, &shipped(), &ctx).unwrap();
        assert!(out.is_unchanged(), "{object}");
        assert_eq!(out.rewritten, None);
        assert!(out.changes.is_empty());
        assert!(std::ptr::eq(out.value(&object), &object));
    }
}

#[test]
fn pseudonyms_are_stable_across_submissions_and_differ_between_hubs() {
    let ctx = victim();
    let first = report("Lateral movement from SRV-COMPTA to DC01 with PsExec.");
    let mut second = indicator("[x-host:name = 'dc01'] AND [x-host:name = 'srv-compta']");
    second["id"] = json!("indicator--1d7a1c39-9f5b-4c55-8d35-01c5f9d67a48");
    let key_a = PseudonymKey::new(&KEY_A);
    let key_a_again = PseudonymKey::new(&KEY_A);
    let key_b = PseudonymKey::new(&KEY_B);

    let one = anonymise(&first, &shipped(), &ctx, &key_a)
        .unwrap()
        .rewritten
        .unwrap();
    let two = anonymise(&second, &shipped(), &ctx, &key_a_again)
        .unwrap()
        .rewritten
        .unwrap();
    let dc01 = pseudonym(FindingKind::VictimHostname, "DC01");
    let compta = pseudonym(FindingKind::VictimHostname, "srv-compta");
    assert!(dc01.starts_with("anon-host-") && dc01.len() == "anon-host-".len() + 12);
    assert_ne!(dc01, compta);
    assert_eq!(
        str_at(&one, "/description"),
        format!("Lateral movement from {compta} to {dc01} with PsExec.")
    );
    assert_eq!(
        str_at(&two, "/pattern"),
        format!("[x-host:name = '{dc01}'] AND [x-host:name = '{compta}']")
    );

    let other_hub = anonymise(&first, &shipped(), &ctx, &key_b)
        .unwrap()
        .rewritten
        .unwrap();
    let text = str_at(&other_hub, "/description");
    assert!(!text.contains(&dc01) && !text.contains(&compta), "{text}");
    assert!(text.contains("anon-host-"), "{text}");
}

// --- Each kind of finding -----------------------------------------------------------------

#[test]
fn user_names_in_windows_and_unix_paths_are_pseudonymised() {
    let object = report(
        "Persistence in C:\\Users\\j.payet\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\\
         Programs\\Startup\\update.lnk; on the web server, /home/deploy/.ssh/authorized_keys was \
         modified. C:\\Users\\Public\\Libraries is a shared folder.",
    );
    let (v, changes) = rewritten(&object, &shipped(), &VictimContext::none());
    let payet = pseudonym(FindingKind::PathUserName, "J.Payet");
    let deploy = pseudonym(FindingKind::PathUserName, "deploy");
    assert!(payet.starts_with("anon-user-"));
    assert_eq!(
        str_at(&v, "/description"),
        format!(
            "Persistence in C:\\Users\\{payet}\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\\
             Programs\\Startup\\update.lnk; on the web server, /home/{deploy}/.ssh/authorized_keys \
             was modified. C:\\Users\\Public\\Libraries is a shared folder."
        )
    );
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].occurrences, 2);
    assert_eq!(changes[0].action, ChangeAction::Pseudonymised);

    // In a pattern, as a literal and as a regular expression (doubled separators).
    let object = indicator(
        "[file:parent_directory_ref.path = 'C:\\\\Users\\\\j.payet\\\\AppData\\\\Local\\\\Temp'] \
         AND [file:name MATCHES '^C:\\\\\\\\Users\\\\\\\\j\\\\.payet\\\\\\\\.*\\\\.ps1$']",
    );
    let (v, _) = rewritten(&object, &shipped(), &VictimContext::none());
    let p = str_at(&v, "/pattern");
    assert_eq!(
        p,
        format!(
            "[file:parent_directory_ref.path = 'C:\\\\Users\\\\{payet}\\\\AppData\\\\Local\\\\Temp'] \
             AND [file:name MATCHES '^C:\\\\\\\\Users\\\\\\\\{payet}\\\\\\\\.*\\\\.ps1$']"
        )
    );
    assert!(pattern::parse(p, &PatternLimits::default()).is_ok());
    assert_valid(&v);

    // In a directory observable.
    let object = json!({"type": "directory", "spec_version": "2.1",
        "id": "directory--93c0a9b0-520d-545d-9094-1a08ddf46b05",
        "path": "/home/jpayet/.config/autostart"});
    let (v, _) = rewritten(&object, &shipped(), &VictimContext::none());
    assert_eq!(
        str_at(&v, "/path"),
        format!(
            "/home/{}/.config/autostart",
            pseudonym(FindingKind::PathUserName, "jpayet")
        )
    );
}

#[test]
fn account_sids_are_pseudonymised_and_well_known_ones_kept() {
    let sid = "S-1-5-21-1004336348-1177238915-682003330-1105";
    let object = report(&format!(
        "Golden ticket for {sid}; the actor added it to S-1-5-32-544 and ran as S-1-5-18."
    ));
    let (v, changes) = rewritten(&object, &shipped(), &VictimContext::none());
    let p = pseudonym(FindingKind::WindowsSid, &sid.to_lowercase());
    assert!(p.starts_with("anon-sid-"));
    assert_eq!(
        str_at(&v, "/description"),
        format!("Golden ticket for {p}; the actor added it to S-1-5-32-544 and ran as S-1-5-18.")
    );
    assert_eq!(changes[0].rule, FindingKind::WindowsSid);
    // A registry key observable under the user's hive.
    let object = json!({"type": "windows-registry-key", "spec_version": "2.1",
        "id": "windows-registry-key--2ba37ae7-2745-5082-9dfd-9486dad41016",
        "key": format!("HKEY_USERS\\{sid}\\Software\\Microsoft\\Windows\\CurrentVersion\\Run")});
    let (v, _) = rewritten(&object, &shipped(), &VictimContext::none());
    assert_eq!(
        str_at(&v, "/key"),
        format!("HKEY_USERS\\{p}\\Software\\Microsoft\\Windows\\CurrentVersion\\Run")
    );
}

#[test]
fn internal_urls_are_redacted_in_text_and_refused_as_indicators() {
    let object = report(
        "Credentials harvested from http://intranet.sucrerie.local/rh/login.aspx and \
         https://10.20.0.15:8443/owa; the loader came from https://cdn-update.example/a.bin \
         and was staged on \\\\FS01\\partage\\tmp\\a.exe.",
    );
    let (v, changes) = rewritten(&object, &shipped(), &VictimContext::none());
    assert_eq!(
        str_at(&v, "/description"),
        "Credentials harvested from [redacted] and [redacted]; the loader came from \
         https://cdn-update.example/a.bin and was staged on [redacted]."
    );
    assert_eq!(
        changes,
        [Change {
            object_id: "report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3".into(),
            field: "/description".into(),
            rule: FindingKind::InternalUrl,
            action: ChangeAction::Redacted,
            occurrences: 3,
        }]
    );
    let object = indicator("[url:value = 'http://intranet/payload.ps1']");
    let refused = run(&object, &shipped(), &VictimContext::none()).unwrap_err();
    assert_eq!(refused.rule, FindingKind::InternalUrl);
}

#[test]
fn a_victim_address_in_a_nested_custom_property_is_pseudonymised() {
    let mut object = report("Phishing campaign.");
    object["x_csirt_re_case"] = json!({
        "recipients": [
            {"address": "Marie.Hoarau@victim.re", "clicked": true},
            {"address": "attacker@evil.example"}
        ],
        "notes": ["forwarded by daf.sucrerie@GMAIL.com", 42, null]
    });
    let (v, changes) = rewritten(&object, &shipped(), &victim());
    let marie = pseudonym(FindingKind::VictimEmail, "marie.hoarau@victim.re");
    let daf = pseudonym(FindingKind::VictimEmail, "daf.sucrerie@gmail.com");
    assert!(marie.starts_with("anon-email-"));
    assert_eq!(str_at(&v, "/x_csirt_re_case/recipients/0/address"), marie);
    assert_eq!(
        str_at(&v, "/x_csirt_re_case/recipients/1/address"),
        "attacker@evil.example"
    );
    assert_eq!(
        str_at(&v, "/x_csirt_re_case/notes/0"),
        format!("forwarded by {daf}")
    );
    assert_eq!(v["x_csirt_re_case"]["notes"][1], 42);
    let fields: Vec<_> = changes.iter().map(|c| (c.field.as_str(), c.rule)).collect();
    assert_eq!(
        fields,
        [
            ("/x_csirt_re_case/notes/0", FindingKind::VictimEmail),
            (
                "/x_csirt_re_case/recipients/0/address",
                FindingKind::VictimEmail
            ),
        ]
    );
}

#[test]
fn the_victims_name_in_a_description_is_redacted() {
    let object = report(
        "La SUCRERIE DE BOIS ROUGE a été victime d'un rançongiciel ; \
         la sucrerie de Bois-Rouge-Sud voisine n'est pas touchée.",
    );
    let (v, changes) = rewritten(&object, &shipped(), &victim());
    assert_eq!(
        str_at(&v, "/description"),
        "La [redacted] a été victime d'un rançongiciel ; \
         la [redacted]-Sud voisine n'est pas touchée."
    );
    assert_eq!(changes[0].rule, FindingKind::VictimOrganisation);
    assert_eq!(changes[0].occurrences, 2);
    // Whole words only.
    let object = report("Sucrerie de Bois-Rougeville is another company.");
    assert!(run(&object, &shipped(), &victim()).unwrap().is_unchanged());
}

#[test]
fn a_pattern_naming_the_victims_domain_is_rewritten_and_still_parses() {
    // The shipped policy refuses it…
    let object = indicator(
        "[domain-name:value = 'vpn.victim.re' OR url:value LIKE 'https://%.victim.re/%'] \
         /* seen on the VPN of victim.re */",
    );
    let refused = run(&object, &shipped(), &victim()).unwrap_err();
    assert_eq!(refused.rule, FindingKind::VictimDomain);
    // …a policy that redacts rewrites every literal and the comment, keeping the pattern valid.
    let policy = with_rule(FindingKind::VictimDomain, "redact", "redact");
    let (v, changes) = rewritten(&object, &policy, &victim());
    let p = str_at(&v, "/pattern");
    assert_eq!(
        p,
        "[domain-name:value = '[redacted]' OR url:value LIKE 'https://%.[redacted]/%'] \
         /* seen on the VPN of [redacted] */"
    );
    assert!(pattern::parse(p, &PatternLimits::default()).is_ok());
    assert_valid(&v);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].occurrences, 3);

    // A host name (pseudonymised in indicators by default), in a regular expression and
    // beside a quote.
    let object = indicator(
        "[x-host:name MATCHES '^(?i)dc01\\\\.victim\\\\.re$' AND x-host:note = 'it\\'s DC01\\'s']",
    );
    let policy = with_rule(FindingKind::VictimDomain, "redact", "pseudonymise");
    let (v, _) = rewritten(&object, &policy, &victim());
    let p = str_at(&v, "/pattern");
    let dc01 = pseudonym(FindingKind::VictimHostname, "dc01");
    let domain = pseudonym(FindingKind::VictimDomain, "dc01.victim.re");
    assert_eq!(
        p,
        format!("[x-host:name MATCHES '^(?i){domain}$' AND x-host:note = 'it\\'s {dc01}\\'s']")
    );
    assert!(pattern::parse(p, &PatternLimits::default()).is_ok());
}

#[test]
fn pattern_syntax_hashes_and_typed_literals_are_left_alone() {
    let sha = "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f";
    // A custom object type and property that happen to hold a host name stay as they are.
    let ctx = VictimContext {
        hostnames: vec!["value".into(), sha[..8].to_owned()],
        ..VictimContext::none()
    };
    let object = indicator(&format!(
        "[file:hashes.'SHA-256' = '{sha}'] AND [ipv4-addr:value = '{C2}'] \
         START t'2024-03-01T00:00:00Z' STOP t'2024-03-02T00:00:00Z'"
    ));
    assert!(run(&object, &shipped(), &ctx).unwrap().is_unchanged());
}

#[test]
fn ipv6_unique_local_and_link_local_and_cgnat() {
    let object = report(
        "The implant reached fd12:3456:789a::15 and fe80::a00:27ff:fe4e:66a1%eth0, then \
         100.96.12.7 (Tailscale), then 2001:db8::1 as in the vendor's example, then 2a0b:f4c2::4.",
    );
    let (v, changes) = rewritten(&object, &shipped(), &VictimContext::none());
    let ula = pseudonym(FindingKind::UniqueLocalIpv6, "fd12:3456:789a::15");
    let ll = pseudonym(FindingKind::LinkLocalIp, "fe80::a00:27ff:fe4e:66a1");
    let cgnat = pseudonym(FindingKind::CgnatIp, "100.96.12.7");
    assert!(ula.starts_with("anon-ip-"));
    assert_eq!(
        str_at(&v, "/description"),
        format!(
            "The implant reached {ula} and {ll}%eth0, then {cgnat} (Tailscale), then \
             2001:db8::1 as in the vendor's example, then 2a0b:f4c2::4."
        )
    );
    let rules: Vec<_> = changes.iter().map(|c| c.rule).collect();
    assert_eq!(
        rules,
        [
            FindingKind::UniqueLocalIpv6,
            FindingKind::LinkLocalIp,
            FindingKind::CgnatIp
        ]
    );
    for pattern in [
        "[ipv6-addr:value = 'fd00::1']",
        "[ipv6-addr:value ISSUBSET 'fe80::/10']",
        "[ipv4-addr:value ISSUBSET '100.64.0.0/10']",
        "[ipv4-addr:value ISSUBSET '10.0.0.0/8']",
        "[ipv4-addr:value = '127.0.0.1']",
    ] {
        assert!(
            run(&indicator(pattern), &shipped(), &VictimContext::none()).is_err(),
            "{pattern}"
        );
    }
    // Documentation addresses as an indicator: a template was submitted.
    let e = run(
        &indicator("[ipv4-addr:value = '198.51.100.7']"),
        &shipped(),
        &VictimContext::none(),
    )
    .unwrap_err();
    assert_eq!(e.rule, FindingKind::DocumentationIp);
    let e = run(
        &indicator(&format!("[ipv4-addr:value IN ('{C2}', '192.168.1.20')]")),
        &shipped(),
        &VictimContext::none(),
    )
    .unwrap_err();
    assert_eq!(e.rule, FindingKind::PrivateIp);
}

#[test]
fn matching_ignores_case() {
    let ctx = VictimContext {
        domains: vec!["VICTIM.re".into()],
        hostnames: vec!["dc01".into()],
        ..VictimContext::none()
    };
    for text in ["see victim.re", "see VICTIM.RE", "see Victim.Re"] {
        let (v, _) = rewritten(&report(text), &shipped(), &ctx);
        assert_eq!(str_at(&v, "/description"), "see [redacted]", "{text}");
    }
    let a = rewritten(&report("on DC01"), &shipped(), &ctx).0;
    let b = rewritten(&report("on dc01"), &shipped(), &ctx).0;
    assert_eq!(a["description"], b["description"]);
}

#[test]
fn an_unchanged_object_reports_nothing() {
    let object = report(
        "Emotet loader; C2 185.220.101.4, listens on 127.0.0.1:8080, see RFC 5737 192.0.2.1.",
    );
    let out = run(&object, &shipped(), &victim()).unwrap();
    assert!(out.is_unchanged());
    assert_eq!(
        out,
        Anonymised {
            rewritten: None,
            changes: vec![]
        }
    );
}

// --- What is never touched, never shown -----------------------------------------------------

#[test]
fn identifiers_timestamps_refs_and_hashes_are_never_rewritten() {
    let ctx = VictimContext {
        // Values that would match inside those properties if they were read.
        hostnames: vec![
            "8e2e2d2b".into(),
            "2024".into(),
            "indicator".into(),
            "d41d8cd9".into(),
        ],
        ..VictimContext::none()
    };
    let mut object = report("nothing here");
    object["name"] = json!("Intrusion");
    object["external_references"] = json!([{
        "source_name": "vendor",
        "hashes": {"MD5": "d41d8cd98f00b204e9800998ecf8427e"}
    }]);
    object["x_first_seen"] = json!("2024-03-05T06:12:00Z");
    object["x_sample_ref"] = json!("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
    let out = run(&object, &shipped(), &ctx).unwrap();
    assert!(out.is_unchanged(), "{:?}", out.changes);
    // A *_ref that is not an identifier is data, and is read.
    object["x_sample_ref"] = json!("see indicator 2024");
    let (v, _) = rewritten(&object, &shipped(), &ctx);
    assert!(str_at(&v, "/x_sample_ref").starts_with("see anon-host-"));
}

#[test]
fn external_references_and_names_are_read() {
    let mut object = report("x");
    object["name"] = json!("Intrusion at Sucrerie de Bois-Rouge");
    object["external_references"] = json!([{
        "source_name": "csirt-re",
        "description": "ticket opened by it@sucrerie-br.fr",
        "url": "https://glpi.sucrerie-br.fr/front/ticket.form.php?id=4411",
        "external_id": "INC-4411 SRV-COMPTA"
    }]);
    let (v, changes) = rewritten(&object, &shipped(), &victim());
    assert_eq!(str_at(&v, "/name"), "Intrusion at [redacted]");
    assert_eq!(
        str_at(&v, "/external_references/0/description"),
        format!(
            "ticket opened by {}",
            pseudonym(FindingKind::VictimEmail, "it@sucrerie-br.fr")
        )
    );
    assert_eq!(
        str_at(&v, "/external_references/0/url"),
        "https://[redacted]/front/ticket.form.php?id=4411"
    );
    assert_eq!(
        str_at(&v, "/external_references/0/external_id"),
        format!(
            "INC-4411 {}",
            pseudonym(FindingKind::VictimHostname, "srv-compta")
        )
    );
    assert_eq!(changes.len(), 4);
    assert_valid(&v);
}

#[test]
fn reports_and_refusals_never_carry_the_value() {
    let ctx = victim();
    let mut object = report(
        "DC01 at 10.1.2.3 in victim.re, mail daf.sucrerie@gmail.com, C:\\Users\\jpayet\\x, \
         http://intranet/x, S-1-5-21-1-2-3-1105, Sucrerie de Bois-Rouge",
    );
    object["x_n"] = json!(["DC01", {"y": "srv-compta.victim.re"}]);
    let (v, changes) = rewritten(&object, &shipped(), &ctx);
    let report_text = serde_json::to_string(&changes).unwrap().to_lowercase();
    let stored = serde_json::to_string(&v).unwrap().to_lowercase();
    for secret in [
        "dc01",
        "10.1.2.3",
        "victim.re",
        "daf.sucrerie",
        "jpayet",
        "intranet",
        "s-1-5-21-1-2-3",
        "sucrerie de bois",
        "srv-compta",
    ] {
        assert!(!report_text.contains(secret), "{secret} in {report_text}");
        assert!(!stored.contains(secret), "{secret} in {stored}");
    }
    assert!(report_text.contains("\"pseudonymised\"") && report_text.contains("\"redacted\""));
    let refused = run(
        &indicator("[ipv4-addr:value = '10.1.2.3']"),
        &shipped(),
        &ctx,
    )
    .unwrap_err();
    let shown = format!(
        "{refused} {refused:?} {}",
        serde_json::to_string(&refused).unwrap()
    );
    assert!(!shown.contains("10.1.2.3"), "{shown}");
}

#[test]
fn observables_are_indicators() {
    let ctx = victim();
    // An observable whose value is the victim's own address: refused.
    let object = json!({"type": "ipv4-addr", "spec_version": "2.1",
        "id": "ipv4-addr--cb2fbb5d-9e2c-5e8d-9c0e-5a3c5a3c5a3c", "value": "192.168.10.5"});
    assert_eq!(run(&object, &shipped(), &ctx).unwrap_err().field, "/value");
    let object = json!({"type": "email-addr", "spec_version": "2.1",
        "id": "email-addr--2d77a846-6264-5d51-b586-e43822ea1ea3", "value": "compta@victim.re",
        "display_name": "Comptabilité"});
    assert_eq!(
        run(&object, &shipped(), &ctx).unwrap_err().rule,
        FindingKind::VictimEmail
    );
    // Embedded in observed-data (STIX 2.0 style): the same.
    let object = json!({"type": "observed-data", "spec_version": "2.1",
        "id": "observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf",
        "created": "2024-03-05T06:12:00.000Z", "modified": "2024-03-05T06:12:00.000Z",
        "first_observed": "2024-03-05T06:12:00Z", "last_observed": "2024-03-05T06:12:00Z",
        "number_observed": 1,
        "objects": {"0": {"type": "ipv4-addr", "value": "10.9.8.7"}}});
    let e = run(&object, &shipped(), &ctx).unwrap_err();
    assert_eq!(
        (e.field.as_str(), e.rule),
        ("/objects/0/value", FindingKind::PrivateIp)
    );
    // While in free text the same address is pseudonymised.
    let (v, _) = rewritten(&report("pivot via 10.9.8.7"), &shipped(), &ctx);
    assert_eq!(
        str_at(&v, "/description"),
        format!(
            "pivot via {}",
            pseudonym(FindingKind::PrivateIp, "10.9.8.7")
        )
    );
}

#[test]
fn a_finding_in_a_property_name_refuses() {
    let mut object = report("x");
    object["x_hosts"] = json!({"DC01": "domain controller", "ws-042": "patient zero"});
    let e = run(&object, &shipped(), &victim()).unwrap_err();
    assert_eq!(
        (e.field.as_str(), e.rule, e.reason),
        (
            "/x_hosts/DC01",
            FindingKind::VictimHostname,
            RefusalReason::PropertyName
        )
    );
    // Unless the policy keeps that finding.
    let mut object = report("x");
    object["x_listeners"] = json!({"127.0.0.1": 4444});
    assert!(run(&object, &shipped(), &victim()).unwrap().is_unchanged());
}

#[test]
fn patterns_in_other_languages_are_checked_never_rewritten() {
    let mut object = indicator("alert tcp 10.1.2.3 any -> $EXTERNAL_NET 443 (msg:\"beacon\";)");
    object["pattern_type"] = json!("snort");
    let e = run(&object, &shipped(), &victim()).unwrap_err();
    assert_eq!(
        (e.rule, e.reason),
        (FindingKind::PrivateIp, RefusalReason::OpaquePattern)
    );
    // Even a finding the policy would pseudonymise in an indicator.
    object["pattern"] = json!("rule x { strings: $a = \"\\\\\\\\DC01\\\\admin$\" condition: $a }");
    object["pattern_type"] = json!("yara");
    assert_eq!(
        run(&object, &shipped(), &victim()).unwrap_err().reason,
        RefusalReason::OpaquePattern
    );
    object["pattern"] = json!(format!("alert tcp any any -> {C2} 443 (msg:\"c2\";)"));
    assert!(run(&object, &shipped(), &victim()).unwrap().is_unchanged());
}

#[test]
fn a_rewrite_that_would_break_the_pattern_is_refused() {
    // A pattern at the length limit cannot grow by a pseudonym.
    let limit = PatternLimits::default().max_len;
    let head = "[x-host:name = 'DC01'] AND [x-a:b = '";
    let tail = "']";
    let filler = "x".repeat(limit - head.len() - tail.len());
    let object = indicator(&format!("{head}{filler}{tail}"));
    assert!(
        pattern::parse(
            object["pattern"].as_str().unwrap(),
            &PatternLimits::default()
        )
        .is_ok()
    );
    let e = run(&object, &shipped(), &victim()).unwrap_err();
    assert_eq!(
        (e.rule, e.reason),
        (FindingKind::VictimHostname, RefusalReason::PatternRewrite)
    );
}

#[test]
fn the_pseudonym_of_a_known_value_can_be_computed() {
    // What an analyst does to find a host of the case in what was shared.
    let key = PseudonymKey::new(&KEY_A);
    let (v, _) = rewritten(&report("on DC01"), &shipped(), &victim());
    let p = key.pseudonym(&shipped(), FindingKind::VictimHostname, "dc01");
    assert_eq!(str_at(&v, "/description"), format!("on {p}"));
}

// --- Property tests -------------------------------------------------------------------------

fn text_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9 .,;:/\\\\@'()\\[\\]%_-]{0,40}",
        prop::collection::vec(
            prop::sample::select(vec![
                "10.1.2.3",
                "::1",
                "fe80::",
                "C:\\Users\\",
                "/home/",
                "S-1-5-21-",
                "http://",
                "\\\\",
                "[.]",
                "hxxp",
                "@",
                ".local",
                "'",
                "\\",
                "*/",
                "//",
                "\n",
                "é",
                "İ",
                "œ",
                "victim",
                ".re",
                "dc01",
                " ",
                "-",
                "_",
                "%",
                "$",
                "[",
                "]",
            ]),
            0..12
        )
        .prop_map(|v| v.concat()),
    ]
}

fn object_strategy() -> impl Strategy<Value = Value> {
    (
        text_strategy(),
        text_strategy(),
        text_strategy(),
        text_strategy(),
        any::<bool>(),
    )
        .prop_map(|(a, b, c, d, stix)| {
            let mut o = indicator(&a);
            if stix {
                o["pattern"] = json!(format!(
                    "[file:name = '{}'] // {}",
                    b.replace(['\\', '\''], ""),
                    c.replace(['\n', '\r'], "")
                ));
            } else {
                o["pattern_type"] = json!("sigma");
            }
            o["description"] = json!(b);
            o["x_nested"] = json!({"list": [c, {"deep": d}]});
            o
        })
}

fn victim_strategy() -> impl Strategy<Value = VictimContext> {
    (
        prop::collection::vec("[a-z]{3,10}\\.(re|fr|com)", 0..3),
        prop::collection::vec("[a-z]{2,8}\\.[a-z]{2,8}@[a-z]{3,8}\\.(net|org)", 0..2),
        prop::collection::vec("(srv|ws|pc)-[g-z]{2,5}[0-9]{2}", 0..3),
        prop::collection::vec("[A-Z][a-z]{3,8}( [A-Z][a-z]{3,8}){0,2}", 0..2),
    )
        .prop_map(
            |(domains, emails, hostnames, organisations)| VictimContext {
                domains,
                emails,
                hostnames,
                organisations,
            },
        )
}

/// What sits between a planted value and the random text around it.
const SEPARATORS: &[&str] = &[" ", "\n", ", ", " (", ") ", "\"", "'", ": ", "/"];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_objects_never_panic(object in object_strategy(), ctx in victim_strategy(), key in any::<[u8; 32]>()) {
        let key = PseudonymKey::new(&key);
        match anonymise(&object, &shipped(), &ctx, &key) {
            Ok(out) => {
                prop_assert_eq!(out.rewritten.is_none(), out.changes.is_empty());
                if let Some(v) = &out.rewritten {
                    // A rewritten STIX pattern still parses.
                    if v["pattern_type"] == "stix" && pattern::parse(object["pattern"].as_str().unwrap(), &PatternLimits::default()).is_ok() {
                        prop_assert!(pattern::parse(v["pattern"].as_str().unwrap(), &PatternLimits::default()).is_ok());
                    }
                }
            }
            Err(refused) => prop_assert!(!refused.field.is_empty()),
        }
    }

    #[test]
    fn planted_victim_values_never_come_out(
        ctx in victim_strategy(),
        noise in prop::collection::vec("[a-zA-Z0-9 .,;:!?()-]{0,12}", 8),
        picks in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), any::<prop::sample::Index>()), 8),
        upper in any::<bool>(),
    ) {
        let values: Vec<String> = ctx
            .domains
            .iter()
            .chain(&ctx.emails)
            .chain(&ctx.hostnames)
            .chain(&ctx.organisations)
            .cloned()
            .collect();
        prop_assume!(!values.is_empty());
        // A value that is a word of the object's fixed parts (an organisation called
        // "Campaign") or of a replacement could not be told apart from them.
        let skeleton = format!(
            "{} [redacted] anon-domain- anon-email- anon-host- anon-org-",
            serde_json::to_string(&report("")).unwrap()
        )
        .to_lowercase();
        prop_assume!(values.iter().all(|v| !skeleton.contains(&v.to_lowercase())));
        // Plant values (sometimes as sub-domains or addresses at a victim domain) in text.
        let mut texts = Vec::new();
        for (i, (which, left, right)) in picks.iter().enumerate() {
            let mut value = which.get(&values).clone();
            if i % 3 == 1 && ctx.domains.contains(&value) {
                value = format!("mail.{value}");
            } else if i % 3 == 2 && ctx.domains.contains(&value) {
                value = format!("j.doe@{value}");
            }
            if upper {
                value = value.to_uppercase();
            }
            let n = &noise[i];
            texts.push(format!("{n}{}{value}{}{n}", left.get(SEPARATORS), right.get(SEPARATORS)));
        }
        let mut object = report(&texts[0]);
        object["name"] = json!(texts[1]);
        object["labels"] = json!([texts[2], texts[3]]);
        object["x_case"] = json!({"notes": [texts[4], {"more": texts[5]}]});
        object["external_references"] = json!([{"source_name": texts[6], "description": texts[7]}]);
        let out = anonymise(&object, &shipped(), &ctx, &PseudonymKey::new(&KEY_A));
        // Nothing in the shipped policy refuses victim values in free text.
        let out = out.map_err(|e| TestCaseError::fail(e.to_string()))?;
        let stored = serde_json::to_string(out.value(&object)).unwrap().to_lowercase();
        for value in &values {
            prop_assert!(!stored.contains(&value.to_lowercase()), "{} in {}", value, stored);
        }
    }
}

#[test]
fn long_adversarial_texts_take_linear_time() {
    let ctx = victim();
    let pieces = [
        "a://",
        "/users/",
        "\\\\a",
        "x@",
        "a.",
        "victim.re.",
        "1.",
        "1:",
        "S-1-5-21-1-",
        "[.]",
        "\\.",
        "Sucrerie de ",
        "dc01-",
        ".local",
        "C:\\Users\\a b ",
    ];
    // Linear time is judged by how the time grows with the text, not by a wall-clock bound
    // that a loaded machine misses: eight times the text must take far less than the 64 times
    // a quadratic scan would (the faster of two runs each, against scheduling noise).
    let time = |text: &str| {
        (0..2)
            .map(|_| {
                let started = std::time::Instant::now();
                drop(run(&report(text), &shipped(), &ctx));
                started.elapsed()
            })
            .min()
            .unwrap_or_default()
    };
    for piece in pieces {
        let small = time(&piece.repeat(12_500 / piece.len()));
        let large = time(&piece.repeat(100_000 / piece.len()));
        let ratio = large.as_secs_f64() / small.as_secs_f64().max(1e-4);
        assert!(
            ratio < 24.0,
            "{piece:?}: {small:?} then {large:?} (x{ratio:.1})"
        );
    }
}
