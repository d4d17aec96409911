//! Applying the policy to the findings of one piece of text.

use super::ChangeAction;
use super::detect::Finding;
use super::policy::{Action, AnonymisationPolicy, FindingKind, Location};
use super::pseudonym::PseudonymKey;

/// How a replacement is written into the text around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Context {
    Plain,
    /// The operand of MATCHES: the replacement must match itself literally.
    Regex,
}

/// What became of one piece of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Outcome {
    Unchanged,
    Rewritten {
        text: String,
        /// One entry per value replaced, in text order.
        applied: Vec<(FindingKind, ChangeAction)>,
    },
    Refused(FindingKind),
}

/// Applies `policy` to the `findings` of `text` found at `location`.
///
/// Findings the policy keeps are dropped first, so that a kept finding never shields a
/// finding inside it. Any refused finding refuses, even when a longer one covers it. With
/// `rewritable` false (a pattern in another language), any finding not kept refuses. Of
/// overlapping findings, the longest is replaced (then the most specific kind).
pub(super) fn apply(
    text: &str,
    findings: Vec<Finding>,
    location: Location,
    rewritable: bool,
    context: Context,
    policy: &AnonymisationPolicy,
    key: &PseudonymKey,
) -> Outcome {
    let mut acted: Vec<(Finding, Action)> = findings
        .into_iter()
        .map(|f| {
            let action = policy.action(f.kind, location);
            (f, action)
        })
        .filter(|(_, a)| *a != Action::Keep)
        .collect();
    if acted.is_empty() {
        return Outcome::Unchanged;
    }
    acted.sort_by(|(a, _), (b, _)| {
        (a.start, std::cmp::Reverse(a.end), a.kind).cmp(&(
            b.start,
            std::cmp::Reverse(b.end),
            b.kind,
        ))
    });
    if let Some((f, _)) = acted
        .iter()
        .find(|(_, a)| *a == Action::Refuse || !rewritable)
    {
        return Outcome::Refused(f.kind);
    }
    let mut out = String::with_capacity(text.len());
    let mut applied = Vec::new();
    let mut last = 0;
    for (f, action) in acted {
        if f.start < last {
            continue;
        }
        let (replacement, change) = match action {
            Action::Pseudonymise => (
                key.pseudonym_of_normalised(policy.pseudonym_prefix(), f.kind, &f.value),
                ChangeAction::Pseudonymised,
            ),
            _ => (policy.redaction().to_owned(), ChangeAction::Redacted),
        };
        out.push_str(text.get(last..f.start).unwrap_or(""));
        match context {
            Context::Plain => out.push_str(&replacement),
            Context::Regex => push_regex_escaped(&mut out, &replacement),
        }
        applied.push((f.kind, change));
        last = f.end;
    }
    out.push_str(text.get(last..).unwrap_or(""));
    Outcome::Rewritten { text: out, applied }
}

fn push_regex_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        if "\\.^$|?*+()[]{}".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::anonymise::pseudonym::KEY_LEN;

    fn f(start: usize, end: usize, kind: FindingKind) -> Finding {
        Finding {
            start,
            end,
            kind,
            value: "v".into(),
        }
    }

    #[test]
    fn longest_wins_kept_findings_shield_nothing_and_refusal_is_total() {
        let policy = AnonymisationPolicy::shipped().unwrap();
        let key = PseudonymKey::new(&[3; KEY_LEN]);
        let text = "0123456789";
        let run = |findings, location| {
            apply(
                text,
                findings,
                location,
                true,
                Context::Plain,
                &policy,
                &key,
            )
        };
        // Organisation (redact) inside a domain (redact): one replacement.
        let out = run(
            vec![
                f(2, 4, FindingKind::VictimOrganisation),
                f(0, 6, FindingKind::VictimDomain),
            ],
            Location::Text,
        );
        assert_eq!(
            out,
            Outcome::Rewritten {
                text: "[redacted]6789".into(),
                applied: vec![(FindingKind::VictimDomain, ChangeAction::Redacted)]
            }
        );
        // A kept documentation address around a domain does not protect it.
        let out = run(
            vec![
                f(0, 10, FindingKind::DocumentationIp),
                f(2, 4, FindingKind::VictimDomain),
            ],
            Location::Text,
        );
        assert_eq!(
            out,
            Outcome::Rewritten {
                text: "01[redacted]456789".into(),
                applied: vec![(FindingKind::VictimDomain, ChangeAction::Redacted)]
            }
        );
        // In an indicator, a private address refuses even under a pseudonymised host name.
        let out = run(
            vec![
                f(0, 10, FindingKind::VictimHostname),
                f(2, 4, FindingKind::PrivateIp),
            ],
            Location::Indicator,
        );
        assert_eq!(out, Outcome::Refused(FindingKind::PrivateIp));
        assert_eq!(run(vec![], Location::Text), Outcome::Unchanged);
        assert_eq!(
            run(vec![f(0, 3, FindingKind::LoopbackIp)], Location::Text),
            Outcome::Unchanged
        );
        // Not rewritable: whatever is not kept refuses.
        assert_eq!(
            apply(
                text,
                vec![f(0, 3, FindingKind::VictimHostname)],
                Location::Indicator,
                false,
                Context::Plain,
                &policy,
                &key
            ),
            Outcome::Refused(FindingKind::VictimHostname)
        );
    }

    #[test]
    fn regex_context_escapes_the_replacement() {
        let policy = AnonymisationPolicy::shipped().unwrap();
        let key = PseudonymKey::new(&[3; KEY_LEN]);
        let out = apply(
            "^a$",
            vec![f(1, 2, FindingKind::VictimDomain)],
            Location::Text,
            true,
            Context::Regex,
            &policy,
            &key,
        );
        assert_eq!(
            out,
            Outcome::Rewritten {
                text: "^\\[redacted\\]$".into(),
                applied: vec![(FindingKind::VictimDomain, ChangeAction::Redacted)]
            }
        );
    }
}
