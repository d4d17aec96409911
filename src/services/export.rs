//! Exports for blocking tools. What leaves is what `release` gives the caller, then only
//! indicators whose PAP permits active use (CLEAR, GREEN) and whose TLP may be exported in
//! bulk, still valid and not revoked.

use std::collections::BTreeMap;

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::share::{MAX_PAGE_SIZE, ReadRequest, ShareError, Sharing};
use crate::domain::access::RegistryRecord;
use crate::domain::blocklist::{self, Entry};
use crate::domain::collections::CollectionRef;
use crate::domain::markings::{Pap, Tlp};
use crate::domain::stix::pattern::{PatternLimits, parse};
use crate::domain::stix::stored::VersionSelector;

/// One line of the blocklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlocklistRow {
    pub entry: Entry,
    /// The first indicator (in arrival order) that named this value.
    pub indicator: String,
    pub tlp: Tlp,
    pub pap: Pap,
}

/// One value per line, for tools that take a plain list.
pub fn text(rows: &[BlocklistRow]) -> String {
    rows.iter()
        .map(|r| format!("{}\n", r.entry.value))
        .collect()
}

/// RFC 4180 CSV (CRLF line ends, fields quoted when they must be), with a header row.
pub fn csv(rows: &[BlocklistRow]) -> Result<String, csv::Error> {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    out.write_record(["type", "value", "indicator_id", "tlp", "pap"])?;
    for r in rows {
        out.write_record([
            r.entry.kind.to_string().as_str(),
            &r.entry.value,
            &r.indicator,
            r.tlp.label(),
            r.pap.label(),
        ])?;
    }
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    // Every field written is a `str`.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Whether an indicator is in force at `now`: not revoked, and `valid_until` (if any) ahead.
fn in_force(object: &Value, now: OffsetDateTime) -> bool {
    if object.get("revoked").and_then(Value::as_bool) == Some(true) {
        return false;
    }
    match object.get("valid_until").and_then(Value::as_str) {
        Some(until) => OffsetDateTime::parse(until, &Rfc3339).is_ok_and(|t| t > now),
        None => true,
    }
}

impl Sharing<'_> {
    /// Every blockable value the caller may act on, one row per distinct value.
    pub async fn blocklist(
        &self,
        caller: &RegistryRecord,
        now: OffsetDateTime,
    ) -> Result<Vec<BlocklistRow>, ShareError> {
        let mut rows: BTreeMap<Entry, BlocklistRow> = BTreeMap::new();
        for collection in self.collections(caller).into_iter().filter(|c| match c {
            CollectionRef::Shipped(s) => s.can_read(caller.principal.kind),
            CollectionRef::Peer(_) => true,
        }) {
            let mut next = None;
            loop {
                let request = ReadRequest {
                    types: vec!["indicator".into()],
                    limit: Some(MAX_PAGE_SIZE),
                    next: next.take(),
                    ..ReadRequest::default()
                };
                let page = self
                    .read(caller, collection.id(), request, VersionSelector::Last, now)
                    .await?;
                for released in &page.objects {
                    let access = &released.item().access;
                    let Some(pap) = access
                        .pap
                        .filter(|p| self.policy.permits_active_use(Some(*p)))
                    else {
                        continue;
                    };
                    if !self.policy.bulk_export(access.tlp) {
                        continue;
                    }
                    let Some(object) = released.json() else {
                        continue;
                    };
                    if !in_force(&object, now)
                        || object.get("pattern_type").and_then(Value::as_str) != Some("stix")
                    {
                        continue;
                    }
                    let Some(pattern) = object.get("pattern").and_then(Value::as_str) else {
                        continue;
                    };
                    let Ok(pattern) = parse(pattern, &PatternLimits::default()) else {
                        continue;
                    };
                    // Checked again on the way out: an object stored before the bound, or
                    // under a looser policy, is never exported either.
                    for entry in blocklist::entries(&pattern, &self.exports.networks) {
                        rows.entry(entry.clone()).or_insert_with(|| BlocklistRow {
                            entry,
                            indicator: released.item().id.clone(),
                            tlp: access.tlp,
                            pap,
                        });
                    }
                }
                match page.next {
                    Some(n) => next = Some(n),
                    None => break,
                }
            }
        }
        Ok(rows.into_values().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::blocklist::EntryKind;

    fn row(kind: EntryKind, value: &str) -> BlocklistRow {
        BlocklistRow {
            entry: Entry {
                kind,
                value: value.into(),
            },
            indicator: "indicator--1".into(),
            tlp: Tlp::Clear,
            pap: Pap::Green,
        }
    }

    #[test]
    fn csv_quotes_only_what_it_must() {
        let rows = [
            row(EntryKind::Domain, "evil.example"),
            row(EntryKind::Url, "https://evil.example/a,b?q=\"x\""),
        ];
        let out = csv(&rows).unwrap();
        let lines: Vec<&str> = out.split("\r\n").collect();
        assert_eq!(lines[0], "type,value,indicator_id,tlp,pap");
        assert!(lines[1].starts_with(&format!("{},evil.example,", EntryKind::Domain)));
        assert!(
            lines[2].contains(",\"https://evil.example/a,b?q=\"\"x\"\"\","),
            "{}",
            lines[2]
        );
        assert_eq!(lines.len(), 4, "CRLF after every record");
        assert_eq!(
            text(&rows),
            "evil.example\nhttps://evil.example/a,b?q=\"x\"\n"
        );
    }
}
