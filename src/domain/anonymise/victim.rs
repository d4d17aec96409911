//! What the CSIRT recorded about the beneficiary a submission is tied to.

use super::fold::{Needle, fold};

/// The beneficiary's identifiers, as recorded on the case (or registered by an analyst for
/// its organisation). All matching ignores case (and accents); empty entries are ignored.
///
/// - `domains` also match their sub-domains (`victim.re` finds `mail.victim.re`), but not a
///   longer name that merely contains them (`victim.re.evil.example` is the attacker's);
/// - `emails` match anywhere; besides them, any address at one of `domains` (or under an
///   internal suffix) is a victim's address;
/// - `hostnames` match as whole names (`DC01` finds `\\DC01\C$` and `DC01.corp`, not `DC012`);
/// - `organisations` match as whole words, whatever separates the words (`Bois-Rouge`,
///   `Bois Rouge`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VictimContext {
    pub domains: Vec<String>,
    pub emails: Vec<String>,
    pub hostnames: Vec<String>,
    pub organisations: Vec<String>,
}

impl VictimContext {
    /// A submission tied to no case: only the generic rules apply.
    pub fn none() -> Self {
        Self::default()
    }
}

/// The context prepared for one anonymisation.
#[derive(Debug)]
pub(super) struct Victim {
    /// Folded, without a leading `*.` or `.` nor a trailing `.`.
    pub(super) domains: Vec<(String, Needle)>,
    pub(super) emails: Vec<Needle>,
    pub(super) hostnames: Vec<Needle>,
    pub(super) organisations: Vec<Needle>,
}

impl Victim {
    pub(super) fn new(ctx: &VictimContext) -> Self {
        let domains = ctx
            .domains
            .iter()
            .filter_map(|d| {
                let d = d.trim();
                let d = d.strip_prefix("*.").unwrap_or(d);
                let d = d.trim_matches('.');
                let folded = fold(d);
                (!folded.is_empty()).then(|| (folded, Needle::exact(d)))
            })
            .collect();
        let exact = |values: &[String]| {
            values
                .iter()
                .map(|v| Needle::exact(v.trim()))
                .filter(|n| !n.is_empty())
                .collect()
        };
        Self {
            domains,
            emails: exact(&ctx.emails),
            hostnames: exact(&ctx.hostnames),
            organisations: ctx
                .organisations
                .iter()
                .map(|o| Needle::flexible(o))
                .filter(|n| !n.is_empty())
                .collect(),
        }
    }

    /// Whether `domain` (folded) is one of the victim's domains or under one.
    pub(super) fn owns_domain(&self, domain: &str) -> bool {
        let domain = domain.trim_end_matches('.');
        self.domains.iter().any(|(d, _)| {
            domain == d
                || domain
                    .strip_suffix(d.as_str())
                    .is_some_and(|head| head.ends_with('.'))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_cleaned_and_own_their_sub_domains() {
        let v = Victim::new(&VictimContext {
            domains: vec![" *.Victim.RE. ".into(), "".into(), "..".into()],
            ..VictimContext::none()
        });
        assert_eq!(v.domains.len(), 1);
        assert!(v.owns_domain("victim.re"));
        assert!(v.owns_domain("mail.victim.re."));
        assert!(!v.owns_domain("notvictim.re"));
        assert!(!v.owns_domain("victim.re.evil.example"));
    }
}
