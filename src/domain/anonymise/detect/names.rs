//! The beneficiary's recorded names (domains, e-mail addresses, host names, organisation
//! names), addresses at its domains, and host names under internal suffixes.

use super::Finding;
use crate::domain::anonymise::fold::{Needle, char_at, char_before, fold};
use crate::domain::anonymise::policy::{AnonymisationPolicy, FindingKind};
use crate::domain::anonymise::pseudonym::normalise;
use crate::domain::anonymise::victim::Victim;

/// A character of a DNS label (or of a host name as people write it).
pub(super) fn is_label_char(c: char) -> bool {
    c.is_alphanumeric() || c == '-' || c == '_'
}

fn push(text: &str, start: usize, end: usize, kind: FindingKind, out: &mut Vec<Finding>) {
    if let Some(span) = text.get(start..end) {
        out.push(Finding {
            start,
            end,
            kind,
            value: normalise(kind, span),
        });
    }
}

/// A domain name ends at `end`: not followed by more of a label, nor by `.label` (then the
/// name goes on: `victim.re.evil.example` is another domain).
fn domain_ends_at(text: &str, end: usize) -> bool {
    match char_at(text, end) {
        Some(c) if is_label_char(c) => false,
        Some('.') => !char_at(text, end + 1).is_some_and(is_label_char),
        _ => true,
    }
}

/// Where the name a domain match at `start` belongs to begins: before its sub-domain labels.
/// `None` when the match is inside a label (`notvictim.re`).
fn domain_start(text: &str, start: usize) -> Option<usize> {
    match char_before(text, start) {
        Some(c) if is_label_char(c) => None,
        Some('.') => {
            let mut k = start;
            while let Some(c) = char_before(text, k) {
                if !(is_label_char(c) || c == '.') {
                    break;
                }
                k -= c.len_utf8();
            }
            // Leading dots belong to the sentence, not the name.
            let head = text.get(k..start).unwrap_or("");
            Some(k + (head.len() - head.trim_start_matches(['.', '-']).len()))
        }
        _ => Some(start),
    }
}

pub(super) fn find(
    text: &str,
    victim: &Victim,
    policy: &AnonymisationPolicy,
    out: &mut Vec<Finding>,
) {
    for (_, needle) in &victim.domains {
        for (s, e) in needle.find_all(text, |t, s, e| {
            domain_ends_at(t, e)
                .then(|| domain_start(t, s))
                .flatten()
                .map(|s| (s, e))
        }) {
            push(text, s, e, FindingKind::VictimDomain, out);
        }
    }
    // A listed address matches anywhere: nothing around it makes it someone else's.
    for needle in &victim.emails {
        for (s, e) in needle.find_all(text, |_, s, e| Some((s, e))) {
            push(text, s, e, FindingKind::VictimEmail, out);
        }
    }
    find_addresses(text, victim, policy, out);
    let whole = |t: &str, s: usize, e: usize| {
        let inside = char_before(t, s).is_some_and(is_label_char)
            || char_at(t, e).is_some_and(is_label_char);
        (!inside).then_some((s, e))
    };
    for needle in &victim.hostnames {
        for (s, e) in needle.find_all(text, whole) {
            push(text, s, e, FindingKind::VictimHostname, out);
        }
    }
    for needle in &victim.organisations {
        for (s, e) in needle.find_all(text, |t, s, e| {
            let inside = char_before(t, s).is_some_and(char::is_alphanumeric)
                || char_at(t, e).is_some_and(char::is_alphanumeric);
            (!inside).then_some((s, e))
        }) {
            push(text, s, e, FindingKind::VictimOrganisation, out);
        }
    }
    for suffix in policy.internal_suffixes() {
        // A name under the suffix: at least one label before it.
        for (s, e) in Needle::exact(suffix).find_all(text, |t, s, e| {
            let labelled = char_before(t, s).is_some_and(is_label_char);
            (labelled && domain_ends_at(t, e))
                .then(|| domain_start(t, s + 1))
                .flatten()
                .map(|s| (s, e))
        }) {
            push(text, s, e, FindingKind::InternalHostname, out);
        }
    }
}

/// Whether a domain (folded) is under one of the policy's internal suffixes.
pub(super) fn is_internal_domain(domain: &str, policy: &AnonymisationPolicy) -> bool {
    let domain = domain.trim_end_matches('.');
    policy
        .internal_suffixes()
        .iter()
        .any(|s| domain.ends_with(s.as_str()) && domain.len() > s.len())
}

fn is_local_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-')
}

/// Addresses at a victim's domain, or at an internal domain, whatever the local part.
fn find_addresses(
    text: &str,
    victim: &Victim,
    policy: &AnonymisationPolicy,
    out: &mut Vec<Finding>,
) {
    for (at, _) in text.match_indices('@') {
        let mut start = at;
        while let Some(c) = char_before(text, start) {
            if !is_local_char(c) {
                break;
            }
            start -= c.len_utf8();
        }
        let local = text.get(start..at).unwrap_or("");
        start += local.len() - local.trim_start_matches('.').len();
        let mut end = at + 1;
        while let Some(c) = char_at(text, end) {
            if !(is_label_char(c) || c == '.') {
                break;
            }
            end += c.len_utf8();
        }
        let domain = text.get(at + 1..end).unwrap_or("");
        end -= domain.len() - domain.trim_end_matches(['.', '-']).len();
        let domain = fold(text.get(at + 1..end).unwrap_or(""));
        if start == at || !domain.contains('.') {
            continue;
        }
        if victim.owns_domain(&domain) || is_internal_domain(&domain, policy) {
            push(text, start, end, FindingKind::VictimEmail, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::anonymise::victim::VictimContext;
    use FindingKind::*;

    fn found(text: &str, ctx: &VictimContext) -> Vec<(String, FindingKind)> {
        let policy = AnonymisationPolicy::shipped().unwrap();
        let mut out = Vec::new();
        find(text, &Victim::new(ctx), &policy, &mut out);
        out.sort_by_key(|f| (f.start, f.kind));
        out.into_iter()
            .map(|f| (text[f.start..f.end].to_owned(), f.kind))
            .collect()
    }

    fn ctx() -> VictimContext {
        VictimContext {
            domains: vec!["victim.re".into()],
            emails: vec!["boss.victim@gmail.com".into()],
            hostnames: vec!["DC01".into(), "srv-file-02".into()],
            organisations: vec!["Sucrerie de Bois-Rouge".into(), "ACME".into()],
        }
    }

    fn pairs(items: &[(&str, FindingKind)]) -> Vec<(String, FindingKind)> {
        items.iter().map(|(s, k)| ((*s).to_owned(), *k)).collect()
    }

    #[test]
    fn victim_domains_with_their_sub_domains_only() {
        let c = ctx();
        assert_eq!(
            found("VPN at vpn.Victim.RE, site victim.re. mail.", &c),
            pairs(&[("vpn.Victim.RE", VictimDomain), ("victim.re", VictimDomain)])
        );
        assert!(found("notvictim.re victim.re.evil.example victim.reunion", &c).is_empty());
        assert_eq!(
            found("https://owa.victim.re/owa", &c),
            pairs(&[("owa.victim.re", VictimDomain)])
        );
        assert_eq!(
            found(" .victim.re", &c),
            pairs(&[("victim.re", VictimDomain)])
        );
    }

    #[test]
    fn victim_addresses() {
        let c = ctx();
        assert_eq!(
            found("to j.doe@victim.re and J.Doe@HR.Victim.re;", &c),
            pairs(&[
                ("j.doe@victim.re", VictimEmail),
                ("victim.re", VictimDomain),
                ("J.Doe@HR.Victim.re", VictimEmail),
                ("HR.Victim.re", VictimDomain),
            ])
        );
        assert_eq!(
            found("from xBOSS.victim@Gmail.com", &c),
            pairs(&[("BOSS.victim@Gmail.com", VictimEmail)])
        );
        // An address at an internal domain belongs to a victim too.
        assert_eq!(
            found("admin@corp.local", &VictimContext::none()),
            pairs(&[
                ("admin@corp.local", VictimEmail),
                ("corp.local", InternalHostname)
            ])
        );
        assert!(found("phisher@evil.example x@ @victim", &c).is_empty());
    }

    #[test]
    fn host_names_are_whole_names() {
        let c = ctx();
        assert_eq!(
            found("\\\\DC01\\C$ and dc01.corp and SRV-FILE-02$", &c),
            pairs(&[
                ("DC01", VictimHostname),
                ("dc01", VictimHostname),
                ("dc01.corp", InternalHostname),
                ("SRV-FILE-02", VictimHostname),
            ])
        );
        assert!(found("DC012 XDC01 srv-file-02b", &c).is_empty());
    }

    #[test]
    fn organisations_are_whole_words_with_any_separator() {
        let c = ctx();
        assert_eq!(
            found("La SUCRERIE DE BOIS ROUGE (Acme) a été", &c),
            pairs(&[
                ("SUCRERIE DE BOIS ROUGE", VictimOrganisation),
                ("Acme", VictimOrganisation),
            ])
        );
        assert!(found("acmecorp and Macme", &c).is_empty());
    }

    #[test]
    fn internal_host_names() {
        let none = VictimContext::none();
        assert_eq!(
            found("from FS01.ad.corp.LOCAL. to nas.home.arpa", &none),
            pairs(&[
                ("FS01.ad.corp.LOCAL", InternalHostname),
                ("nas.home.arpa", InternalHostname),
            ])
        );
        assert!(found("the .local zone, x.localhosts, a.home.arpa2", &none).is_empty());
    }
}
