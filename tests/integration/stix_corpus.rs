//! The STIX corpora in `shared/data/stix` (MITRE ATT&CK bundles and the OASIS examples): every
//! object parses strictly, validates without a single error, and comes back as exactly the text
//! it has in the file. Runs when `RELAIS_TEST_SHARED_DATA` points at the shared data folder.

use std::path::{Path, PathBuf};

use relais::domain::stix::json::{Container, JsonLimits, read_stix};
use relais::domain::stix::validate::validate;
use serde_json::Value;

const SHARED_DATA_VAR: &str = "RELAIS_TEST_SHARED_DATA";

/// The corpus files: `stix/attack/*.json` and `stix/examples/*.json`, sorted.
fn corpus_files(shared: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for sub in ["attack", "examples"] {
        let dir = shared.join("stix").join(sub);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
            panic!(
                "{SHARED_DATA_VAR} is set but {} is unreadable: {e}",
                dir.display()
            )
        });
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|x| x == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn is_json_whitespace(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

/// Checks the raw slices against the file independently of the reader's own bookkeeping:
/// each one is where it says it is, the slices tile the `objects` array (only whitespace and
/// one comma between two of them, only whitespace after the `[` and before the `]`), and
/// serde_json reads the same value from the slice as from the whole file.
fn check_slices(
    name: &str,
    text: &str,
    container: &Container,
    slices: &[(usize, &str, Option<String>)],
    failures: &mut Vec<String>,
) {
    let whole: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            failures.push(format!("{name}: serde_json cannot read the file: {e}"));
            return;
        }
    };
    let expected: Vec<&Value> = match container {
        Container::Object => vec![&whole],
        _ => whole["objects"]
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default(),
    };
    if expected.len() != slices.len() {
        failures.push(format!(
            "{name}: {} objects read, serde_json sees {}",
            slices.len(),
            expected.len()
        ));
        return;
    }
    if let Container::Object = container {
        if let [(offset, raw, _)] = slices
            && (!is_json_whitespace(&text[..*offset])
                || !is_json_whitespace(&text[offset + raw.len()..]))
        {
            failures.push(format!("{name}: the lone object is not the whole file"));
        }
    } else {
        let mut previous_end: Option<usize> = None;
        for (i, (offset, raw, id)) in slices.iter().enumerate() {
            let label = format!("{name}: object {i} ({})", id.as_deref().unwrap_or("no id"));
            if text.get(*offset..offset + raw.len()) != Some(*raw) {
                failures.push(format!("{label}: the raw slice is not at its offset"));
                continue;
            }
            if !(raw.starts_with('{') && raw.ends_with('}')) {
                failures.push(format!("{label}: the raw slice is not one object"));
            }
            let gap = match previous_end {
                None => text[..*offset].trim_end_matches([' ', '\t', '\n', '\r']),
                Some(end) => &text[end..*offset],
            };
            let tiles = match previous_end {
                None => gap.ends_with('['),
                Some(_) => gap.trim_matches([' ', '\t', '\n', '\r']) == ",",
            };
            if !tiles {
                failures.push(format!(
                    "{label}: unexpected text before the object: {:?}",
                    gap.chars().rev().take(40).collect::<String>()
                ));
            }
            previous_end = Some(offset + raw.len());
        }
        if let Some(end) = previous_end
            && !text[end..]
                .trim_start_matches([' ', '\t', '\n', '\r'])
                .starts_with(']')
        {
            failures.push(format!("{name}: unexpected text after the last object"));
        }
    }
    for ((_, raw, id), expected) in slices.iter().zip(expected) {
        match serde_json::from_str::<Value>(raw) {
            Ok(v) if &v == expected => {}
            Ok(_) => failures.push(format!(
                "{name}: {}: the raw slice holds another object",
                id.as_deref().unwrap_or("no id")
            )),
            Err(e) => failures.push(format!(
                "{name}: {}: serde_json cannot read the raw slice: {e}",
                id.as_deref().unwrap_or("no id")
            )),
        }
    }
}

#[test]
fn every_corpus_object_parses_validates_and_keeps_its_text() {
    let shared = match std::env::var(SHARED_DATA_VAR) {
        Ok(v) if !v.is_empty() => PathBuf::from(v),
        _ => {
            crate::common::not_run(&format!(
                "STIX corpus test skipped: {SHARED_DATA_VAR} is not set"
            ));
            return;
        }
    };
    let files = corpus_files(&shared);
    assert!(
        !files.is_empty(),
        "{SHARED_DATA_VAR} is set but {} holds no corpus file",
        shared.join("stix").display()
    );

    let mut failures: Vec<String> = Vec::new();
    let mut report: Vec<String> = Vec::new();
    let mut total = 0usize;
    for path in &files {
        let name = path
            .strip_prefix(shared.join("stix"))
            .unwrap_or(path)
            .display()
            .to_string();
        let bytes = std::fs::read(path).unwrap();
        let text = std::str::from_utf8(&bytes).unwrap_or_default();
        let doc = match read_stix(&bytes, &JsonLimits::default()) {
            Ok(doc) => doc,
            Err(e) => {
                failures.push(format!("{name}: refused by the strict reader: {e}"));
                continue;
            }
        };
        let mut valid = 0usize;
        let mut slices = Vec::new();
        for object in &doc.objects {
            let id = object
                .value
                .as_ref()
                .ok()
                .and_then(|v| v.get("id"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            slices.push((object.offset, object.raw, id.clone()));
            let label = format!(
                "{name}: object {} ({})",
                object.index,
                id.as_deref().unwrap_or("no id")
            );
            let value = match &object.value {
                Ok(v) => v,
                Err(e) => {
                    failures.push(format!("{label}: refused by the strict reader: {e}"));
                    continue;
                }
            };
            match validate(object.raw, value) {
                Ok(stix) if stix.raw != object.raw => failures.push(format!(
                    "{label}: the validated text differs from the raw slice"
                )),
                Ok(stix) if Some(stix.id.as_str()) != id.as_deref() => {
                    failures.push(format!("{label}: extracted id {}", stix.id))
                }
                Ok(_) => valid += 1,
                Err(errors) => {
                    for e in errors {
                        failures.push(format!("{label}: {e}"));
                    }
                }
            }
        }
        check_slices(&name, text, &doc.container, &slices, &mut failures);
        total += valid;
        report.push(format!(
            "{name}: {valid}/{} objects valid",
            doc.objects.len()
        ));
    }
    eprintln!(
        "STIX corpus:\n  {}\n  total: {total} objects valid",
        report.join("\n  ")
    );
    assert!(
        failures.is_empty(),
        "{} corpus failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
