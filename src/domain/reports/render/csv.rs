//! The statistics as one CSV table, `section,group,missions,beneficiaries,value`: counts in
//! their own columns so that a spreadsheet sums a section (a dimension's missions add up to
//! the `total` row when nothing in it is suppressed), everything else in `value`.

use super::{duration_value, number};
use crate::domain::reports::statistics::{AnnualStatistics, DurationStats, GroupRow};

const HEADER: [&str; 5] = ["section", "group", "missions", "beneficiaries", "value"];
const SUPPRESSED: &str = "suppressed";
const MERGED: &str = "merged into other";

/// One line of the table.
struct Line {
    section: &'static str,
    group: String,
    missions: Option<u32>,
    beneficiaries: Option<u32>,
    value: String,
}

fn line(section: &'static str, group: impl Into<String>) -> Line {
    Line {
        section,
        group: group.into(),
        missions: None,
        beneficiaries: None,
        value: String::new(),
    }
}

impl Line {
    fn counts(mut self, missions: Option<u32>, beneficiaries: Option<u32>) -> Self {
        self.missions = missions;
        self.beneficiaries = beneficiaries;
        self
    }

    fn value(mut self, value: impl Into<String>) -> Self {
        self.value = value.into();
        self
    }
}

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, or a leading tab or
/// return) is given a leading `'`: sector and provider names are typed by people.
fn inert(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn group_lines(section: &'static str, rows: &[GroupRow]) -> impl Iterator<Item = Line> {
    rows.iter().map(move |r| {
        let l = line(section, &r.group).counts(r.missions, r.beneficiaries);
        match (r.suppressed, r.merged) {
            (true, _) => l.value(SUPPRESSED),
            (_, true) => l.value(MERGED),
            _ => l,
        }
    })
}

fn duration_lines(section: &'static str, d: &DurationStats) -> [Line; 3] {
    [
        line(section, "count").counts(Some(d.count), None),
        line(section, "median_hours").value(duration_value(d, d.median_hours)),
        line(section, "p90_hours").value(duration_value(d, d.p90_hours)),
    ]
}

fn optional(value: Option<u32>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

fn lines(s: &AnnualStatistics) -> Vec<Line> {
    let mut out = vec![
        line("meta", "year").value(s.year.to_string()),
        line("meta", "audience").value(match s.audience {
            crate::domain::reports::statistics::Audience::Csirt => "csirt",
            crate::domain::reports::statistics::Audience::Providers => "providers",
        }),
        line("meta", "min_group").value(s.min_group.to_string()),
        line("total", "all").counts(Some(s.missions), Some(s.beneficiaries)),
        line("total", "handed_off").value(s.handed_off.to_string()),
        line("total", "closed").value(s.closed.to_string()),
    ];
    out.extend(s.by_month.iter().map(|m| {
        let l = line("month", format!("{:04}-{:02}", s.year, m.month))
            .counts(m.missions, m.beneficiaries);
        if m.suppressed { l.value(SUPPRESSED) } else { l }
    }));
    out.extend(group_lines("category", &s.by_category));
    out.extend(group_lines("beneficiary_kind", &s.by_beneficiary_kind));
    out.extend(group_lines("sector", &s.by_sector));
    out.extend(group_lines("size", &s.by_size));
    out.extend(duration_lines("time_to_handoff", &s.time_to_handoff));
    out.extend(duration_lines("time_to_closure", &s.time_to_closure));
    let r = &s.rex;
    out.push(line("rex", "due").value(r.due.to_string()));
    for (group, n) in [
        ("pending", r.pending),
        ("on_time", r.on_time),
        ("late", r.late),
        ("missing", r.missing),
    ] {
        out.push(line("rex", group).counts(Some(n), None));
    }
    out.push(
        line("rex", "on_time_percent").value(r.on_time_percent.map(number).unwrap_or_default()),
    );
    out.push(line("satisfaction", "answered").counts(Some(s.satisfaction.answered), None));
    let average = match s.satisfaction.average {
        Some(a) => number(a),
        None if s.satisfaction.answered > 0 => SUPPRESSED.to_owned(),
        None => String::new(),
    };
    out.push(line("satisfaction", "average").value(average));
    out.extend(
        s.techniques.iter().map(|t| {
            line("technique", &t.technique).counts(Some(t.missions), Some(t.beneficiaries))
        }),
    );
    for p in &s.rotation.providers {
        out.push(line("rotation_proposals", &p.name).value(p.proposals.to_string()));
        out.push(line("rotation_choices", &p.name).value(p.choices.to_string()));
    }
    let sum = &s.rotation.summary;
    out.push(line("rotation_summary", "providers").value(sum.providers.to_string()));
    for (group, v) in [
        ("proposals_min", sum.proposals_min),
        ("proposals_max", sum.proposals_max),
        ("choices_min", sum.choices_min),
        ("choices_max", sum.choices_max),
    ] {
        out.push(line("rotation_summary", group).value(optional(v)));
    }
    out.extend(s.suppressed.iter().map(|n| line("note", "").value(n)));
    out
}

fn write(s: &AnnualStatistics) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER)?;
    for l in lines(s) {
        w.write_record([
            l.section.to_owned(),
            inert(&l.group),
            optional(l.missions),
            optional(l.beneficiaries),
            inert(&l.value),
        ])?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// The statistics as CSV (UTF-8, comma-separated, header line first).
pub fn csv(stats: &AnnualStatistics) -> String {
    // The writer writes to memory and every field is a `String`: neither an I/O error nor
    // invalid UTF-8 can occur, so there is no error to hand on.
    let bytes = write(stats).unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reports::statistics::tests::{busy_year, mission};
    use crate::domain::reports::statistics::{Audience, compute};

    fn records(text: &str) -> Vec<Vec<String>> {
        csv::Reader::from_reader(text.as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect()
    }

    #[test]
    fn a_section_sums_to_the_total() {
        let s = compute(2026, &busy_year(), &[], 3, Audience::Csirt);
        let rows = records(&csv(&s));
        let sum = |section: &str| -> u32 {
            rows.iter()
                .filter(|r| r[0] == section)
                .filter_map(|r| r[2].parse::<u32>().ok())
                .sum()
        };
        let total = rows
            .iter()
            .find(|r| r[0] == "total" && r[1] == "all")
            .unwrap();
        assert_eq!(total[2], "12");
        for section in ["month", "category", "beneficiary_kind", "sector", "size"] {
            assert_eq!(sum(section), 12, "{section}");
        }
        assert!(rows.iter().all(|r| r.len() == 5));
    }

    #[test]
    fn suppressed_cells_are_empty_and_marked() {
        let s = compute(2026, &[mission("b", "santé")], &[], 3, Audience::Csirt);
        let rows = records(&csv(&s));
        let other = rows
            .iter()
            .find(|r| r[0] == "sector" && r[1] == "other")
            .unwrap();
        assert_eq!(other[2..], ["", "", "suppressed"]);
        assert!(rows.iter().any(|r| r[0] == "note"));
    }

    #[test]
    fn a_formula_is_not_a_formula() {
        let missions: Vec<_> = (0..3)
            .map(|i| mission(&format!("b{i}"), "=HYPERLINK(\"x\")"))
            .collect();
        let s = compute(2026, &missions, &[], 3, Audience::Csirt);
        let rows = records(&csv(&s));
        assert!(rows.iter().any(|r| r[1] == "'=HYPERLINK(\"x\")"));
        assert!(rows.iter().all(|r| !r[1].starts_with('=')));
    }
}
