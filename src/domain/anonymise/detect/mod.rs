//! Finding victim identifiers in a piece of text.
//!
//! Each detector reports what it finds with byte offsets into the text; overlapping findings
//! are allowed here and settled when the text is rewritten (see `rewrite`), after the policy
//! has said which findings matter.

pub(super) mod ip;
mod names;
mod paths;
mod urls;

use super::defang::{Refanged, refang, unescape_regex};
use super::policy::{AnonymisationPolicy, FindingKind};
use super::victim::{Victim, VictimContext};

/// One victim identifier in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Finding {
    /// Byte range in the text, on character boundaries.
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) kind: FindingKind,
    /// The value as it is hashed into a pseudonym (see `pseudonym::normalise`). Never
    /// reported, never logged.
    pub(super) value: String,
}

/// The detectors, prepared for one submission.
#[derive(Debug)]
pub(super) struct Detector<'a> {
    policy: &'a AnonymisationPolicy,
    victim: Victim,
}

impl<'a> Detector<'a> {
    pub(super) fn new(policy: &'a AnonymisationPolicy, ctx: &VictimContext) -> Self {
        Self {
            policy,
            victim: Victim::new(ctx),
        }
    }

    /// Every finding in `text`.
    pub(super) fn find(&self, text: &str) -> Vec<Finding> {
        let mut out = Vec::new();
        // Paths and SIDs are read as written: refanging `\.` would eat a path's separator.
        paths::find_user_names(text, self.policy, &mut out);
        paths::find_sids(text, &mut out);
        self.find_refangable(text, &mut out);
        if let Some(refanged) = refang(text) {
            let mut more = Vec::new();
            self.find_refangable(&refanged.text, &mut more);
            out.extend(mapped(more, &refanged));
        }
        out
    }

    /// Every finding in a regular expression (the operand of MATCHES): as written, and as
    /// the text it matches once its escapes are removed (`j\.doe` is the user `j.doe`).
    pub(super) fn find_in_regex(&self, text: &str) -> Vec<Finding> {
        let mut out = self.find(text);
        if let Some(plain) = unescape_regex(text) {
            out.extend(mapped(self.find(&plain.text), &plain));
        }
        out
    }

    fn find_refangable(&self, text: &str, out: &mut Vec<Finding>) {
        urls::find(text, self.policy, out);
        ip::find(text, out);
        names::find(text, &self.victim, self.policy, out);
    }
}

/// Findings in a transformed copy of a text, with their ranges in the original.
fn mapped(findings: Vec<Finding>, copy: &Refanged) -> impl Iterator<Item = Finding> + '_ {
    findings.into_iter().map(|f| {
        let (start, end) = copy.original(f.start, f.end);
        Finding { start, end, ..f }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defanged_values_are_found_where_they_are_written() {
        let policy = AnonymisationPolicy::shipped().unwrap();
        let ctx = VictimContext {
            domains: vec!["victim.re".into()],
            ..VictimContext::none()
        };
        let d = Detector::new(&policy, &ctx);
        let text = "beacon to 10[.]1[.]2[.]3 from hxxp://intranet[.]corp/x and jdoe[@]victim[.]re";
        let mut got: Vec<_> = d
            .find(text)
            .into_iter()
            .map(|f| (text[f.start..f.end].to_owned(), f.kind, f.value))
            .collect();
        got.sort();
        got.dedup();
        assert!(
            got.contains(&(
                "10[.]1[.]2[.]3".into(),
                FindingKind::PrivateIp,
                "10.1.2.3".into()
            )),
            "{got:?}"
        );
        assert!(
            got.iter()
                .any(|(s, k, _)| s == "hxxp://intranet[.]corp/x" && *k == FindingKind::InternalUrl),
            "{got:?}"
        );
        assert!(
            got.contains(&(
                "jdoe[@]victim[.]re".into(),
                FindingKind::VictimEmail,
                "jdoe@victim.re".into()
            )),
            "{got:?}"
        );
        // A regular expression's escaped dots.
        let text = "^(.+\\.)?victim\\.re$";
        let got = d.find(text);
        assert!(
            got.iter()
                .any(|f| &text[f.start..f.end] == "victim\\.re"
                    && f.kind == FindingKind::VictimDomain),
            "{got:?}"
        );
    }
}
