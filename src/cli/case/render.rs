//! The hub's answers as an analyst reads them in a terminal. The CLI takes the answers as
//! JSON values rather than the server's types: a field the hub adds later does not break an
//! older CLI, and a missing one prints as `-`.

use serde_json::Value;

use crate::cli::api_client::one_line;

/// A string field, or `-` when absent or null.
fn field<'a>(v: &'a Value, key: &str) -> std::borrow::Cow<'a, str> {
    match v.get(key) {
        Some(Value::String(s)) => std::borrow::Cow::Owned(one_line(s)),
        Some(Value::Null) | None => std::borrow::Cow::Borrowed("-"),
        Some(other) => std::borrow::Cow::Owned(one_line(&other.to_string())),
    }
}

fn items<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Multi-line text the hub stores as written (journal entries): lines kept, indented, every
/// other control character replaced, since a terminal would act on it.
fn block(text: &str, indent: &str) -> String {
    text.lines()
        .map(|l| format!("{indent}{}", one_line(l)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `relais case show`: one line a case.
pub fn case_lines(cases: &[Value]) -> String {
    let mut out = String::new();
    for c in cases {
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\n",
            field(c, "id"),
            field(c, "reference"),
            field(c, "status"),
            field(c, "provider"),
        ));
    }
    out
}

pub fn shortlist(list: &Value) -> String {
    let mut out = format!(
        "shortlist {} of {}\n",
        field(list, "number"),
        field(list, "case_id")
    );
    for e in items(list, "entries") {
        let reasons: Vec<String> = items(e, "reasons")
            .iter()
            .map(|r| r.as_str().map_or_else(|| r.to_string(), one_line))
            .collect();
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\n",
            field(e, "rank"),
            field(e, "name"),
            field(e, "provider"),
            reasons.join("; "),
        ));
    }
    let short = list.get("short").and_then(Value::as_bool).unwrap_or(false);
    out.push_str(&format!(
        "short: {} ({} eligible, size {})\n",
        if short { "yes" } else { "no" },
        field(list, "eligible"),
        field(list, "size"),
    ));
    out.push_str(&format!("seed: {}\n", field(list, "seed")));
    out
}

pub fn handoff_lines(handoffs: &[Value]) -> String {
    let mut out = String::new();
    for h in handoffs {
        let overdue = h.get("overdue").and_then(Value::as_bool).unwrap_or(false);
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\n",
            field(h, "id"),
            field(h, "provider"),
            field(h, "status"),
            if overdue { "overdue" } else { "in time" },
            field(h, "answer_due"),
        ));
    }
    out
}

/// The journal, entry by entry, and whether its hash chain held when the hub read it.
pub fn journal(export: &Value) -> String {
    let mut out = String::new();
    for e in items(export, "entries") {
        out.push_str(&format!(
            "#{}\t{}\t{}\t{} ({})\t{}\n",
            field(e, "number"),
            field(e, "at"),
            field(e, "kind"),
            field(e, "author_name"),
            field(e, "organisation"),
            field(e, "hash"),
        ));
        if let Some(n) = e.get("corrects").and_then(Value::as_u64) {
            out.push_str(&format!("    corrects #{n}\n"));
        }
        let participants: Vec<String> = items(e, "participants")
            .iter()
            .filter_map(Value::as_str)
            .map(one_line)
            .collect();
        if !participants.is_empty() {
            out.push_str(&format!("    participants: {}\n", participants.join(", ")));
        }
        for a in items(e, "attachments") {
            out.push_str(&format!(
                "    attachment: {} sha256:{}\n",
                field(a, "name"),
                field(a, "sha256")
            ));
        }
        let text = e.get("text").and_then(Value::as_str).unwrap_or("");
        out.push_str(&block(text, "    "));
        out.push('\n');
    }
    out.push_str(&format!(
        "{} entries; chain {} (head {})\n",
        items(export, "entries").len(),
        if verified(export) {
            "verified"
        } else {
            "NOT VERIFIED"
        },
        field(export, "head"),
    ));
    out
}

pub fn verified(export: &Value) -> bool {
    export
        .get("verified")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

pub fn closed(closed: &Value) -> String {
    let closure = closed.get("closure").unwrap_or(&Value::Null);
    let mut out = format!(
        "closed {} (service ended {})\n",
        field(closed, "case_id"),
        field(closure, "end_date")
    );
    match closure.get("rex_due").and_then(Value::as_str) {
        Some(due) => out.push_str(&format!("REX due {}\n", one_line(due))),
        None => out.push_str("no REX due: no provider served\n"),
    }
    if let Some(url) = closed.get("survey_url").and_then(Value::as_str) {
        out.push_str(&format!(
            "survey {} (valid until {})\n",
            one_line(url),
            field(closed, "survey_expires_at")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_journal_says_whether_it_verified_and_keeps_text_lines() {
        let export = json!({
            "entries": [{
                "number": 1, "at": "2026-12-03T10:00:00Z", "kind": "meeting",
                "author_name": "csirt-analyst", "organisation": "CSIRT", "hash": "ab",
                "text": "first\nsecond\u{1b}[2J", "participants": ["Marie"], "attachments": [],
                "corrects": null
            }],
            "head": "ab",
            "verified": true
        });
        let text = journal(&export);
        assert!(text.contains("#1\t2026-12-03T10:00:00Z\tmeeting\tcsirt-analyst (CSIRT)\tab\n"));
        assert!(text.contains("    participants: Marie\n"));
        assert!(text.contains("    first\n    second [2J\n"), "{text}");
        assert!(text.ends_with("1 entries; chain verified (head ab)\n"));
        assert!(!verified(&json!({"verified": false})));
        assert!(journal(&json!({"entries": []})).contains("NOT VERIFIED"));
    }

    #[test]
    fn missing_fields_print_as_a_dash() {
        assert_eq!(
            case_lines(&[
                json!({"id": "case--1", "reference": "R", "status": "open", "provider": null})
            ]),
            "case--1\tR\topen\t-\n"
        );
        let text = closed(&json!({"case_id": "case--1", "closure": {"end_date": "2026-12-03"}}));
        assert!(text.contains("no REX due"), "{text}");
    }
}
