//! The STIX pattern parser against third-party data: the OASIS `stix2-patterns` validator's
//! verdicts on 128 patterns, and every STIX-pattern indicator of the example bundles and the
//! ATT&CK bundles. Needs `RELAIS_TEST_SHARED_DATA` (the directory holding `stix/`); without it
//! the tests say they did not run.

use std::path::{Path, PathBuf};

use relais::domain::stix::pattern::{self, PatternLimits};
use serde_json::Value;

use crate::common::not_run;

const DATA_VAR: &str = "RELAIS_TEST_SHARED_DATA";

fn shared_data(test: &str) -> Option<PathBuf> {
    match std::env::var(DATA_VAR) {
        Ok(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
        _ => {
            not_run(&format!("{test}: {DATA_VAR} is not set"));
            None
        }
    }
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "{DATA_VAR} is set but {} is unreadable: {e}",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn verdicts_agree_with_the_oasis_validator_on_the_corpus() {
    let Some(data) = shared_data("STIX pattern corpus") else {
        return;
    };
    let corpus = read_json(&data.join("stix/patterns-corpus.json"));
    let entries = corpus.as_array().expect("the corpus is a JSON list");
    assert_eq!(entries.len(), 128, "the corpus should hold 128 entries");

    let limits = PatternLimits::default();
    let mut mismatches = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let text = entry["pattern"].as_str().expect("pattern is a string");
        let valid = entry["valid"].as_bool().expect("valid is a boolean");
        let source = entry["source"].as_str().unwrap_or("?");
        let verdict = pattern::parse(text, &limits);
        // What relais accepts, it can write back: the same pattern, spaced its own way.
        if let Ok(parsed) = &verdict {
            let written = parsed.to_string();
            match pattern::parse(&written, &limits) {
                Ok(again) if &again == parsed => {}
                other => mismatches.push(format!(
                    "#{i} [{source}] written back as {written:?}, which reads back as {other:?}"
                )),
            }
        }
        if verdict.is_ok() != valid {
            let ours = match &verdict {
                Ok(_) => "accepted".to_owned(),
                Err(e) => format!("rejected ({e})"),
            };
            mismatches.push(format!(
                "#{i} [{source}] validator says valid={valid}, relais {ours}: {text}"
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} verdicts differ:\n{}",
        mismatches.len(),
        entries.len(),
        mismatches.join("\n")
    );
}

/// Every indicator with `pattern_type` "stix" in the bundles under `dir`.
fn stix_indicator_patterns(dir: &Path) -> Vec<(String, String, String)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let doc = read_json(&file);
        let objects = match doc.get("objects").and_then(Value::as_array) {
            Some(objects) => objects.clone(),
            None => vec![doc],
        };
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        for object in objects {
            if object["type"] == "indicator" && object["pattern_type"] == "stix" {
                let id = object["id"].as_str().unwrap_or("?").to_owned();
                let text = object["pattern"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{name}: {id} has no pattern string"))
                    .to_owned();
                found.push((name.clone(), id, text));
            }
        }
    }
    found
}

#[test]
fn every_stix_indicator_in_the_example_and_attack_bundles_parses() {
    let Some(data) = shared_data("STIX example indicators") else {
        return;
    };
    let limits = PatternLimits::default();
    let mut failures = Vec::new();
    let mut total = 0;
    for dir in ["stix/examples", "stix/attack"] {
        for (file, id, text) in stix_indicator_patterns(&data.join(dir)) {
            total += 1;
            match pattern::parse(&text, &limits) {
                Ok(p) => {
                    assert!(p.observation_count() >= 1, "{file} {id}: no observation");
                    assert_eq!(p.comparisons().count(), p.comparison_count());
                }
                Err(e) => failures.push(format!("{dir}/{file} {id}: {e}: {text}")),
            }
        }
    }
    // apt1 (12), poisonivy (25), C2 and e-mail examples: the ATT&CK bundles hold none.
    assert!(total >= 40, "only {total} STIX indicators found");
    assert!(
        failures.is_empty(),
        "{} of {total} indicator patterns were refused:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn blocklist_values_come_out_of_the_example_indicators() {
    let Some(data) = shared_data("STIX blocklist extraction") else {
        return;
    };
    let limits = PatternLimits::default();
    let mut ipv4 = Vec::new();
    for (_, _, text) in stix_indicator_patterns(&data.join("stix/examples")) {
        let parsed = pattern::parse(&text, &limits).unwrap();
        for c in parsed.comparisons() {
            if c.object_type == "ipv4-addr" && c.property_path() == "value" {
                let value = c.value.as_ref().and_then(|v| v.as_str()).unwrap();
                ipv4.push(value.to_owned());
            }
        }
    }
    for expected in ["219.76.208.163", "223.166.0.0/15", "10.0.0.0"] {
        assert!(
            ipv4.iter().any(|v| v == expected),
            "{expected} not among {ipv4:?}"
        );
    }
}
