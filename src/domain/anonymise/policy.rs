//! The anonymisation policy (`policies/anonymisation.toml`), parsed and checked.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// What kind of victim identifier a finding is; one rule of the policy each.
///
/// The order is the order of precedence when two findings cover the same text: the more
/// specific first (a recorded host name before the victim's domain it sits in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    InternalUrl,
    VictimEmail,
    WindowsSid,
    PathUserName,
    VictimHostname,
    VictimDomain,
    InternalHostname,
    VictimOrganisation,
    PrivateIp,
    LoopbackIp,
    LinkLocalIp,
    CgnatIp,
    DocumentationIp,
    UniqueLocalIpv6,
    UnspecifiedIp,
}

impl FindingKind {
    pub const ALL: [FindingKind; 15] = [
        Self::InternalUrl,
        Self::VictimEmail,
        Self::WindowsSid,
        Self::PathUserName,
        Self::VictimHostname,
        Self::VictimDomain,
        Self::InternalHostname,
        Self::VictimOrganisation,
        Self::PrivateIp,
        Self::LoopbackIp,
        Self::LinkLocalIp,
        Self::CgnatIp,
        Self::DocumentationIp,
        Self::UniqueLocalIpv6,
        Self::UnspecifiedIp,
    ];

    /// The rule's name in the policy file and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InternalUrl => "internal_url",
            Self::VictimEmail => "victim_email",
            Self::WindowsSid => "windows_sid",
            Self::PathUserName => "path_user_name",
            Self::VictimHostname => "victim_hostname",
            Self::VictimDomain => "victim_domain",
            Self::InternalHostname => "internal_hostname",
            Self::VictimOrganisation => "victim_organisation",
            Self::PrivateIp => "private_ip",
            Self::LoopbackIp => "loopback_ip",
            Self::LinkLocalIp => "link_local_ip",
            Self::CgnatIp => "cgnat_ip",
            Self::DocumentationIp => "documentation_ip",
            Self::UniqueLocalIpv6 => "unique_local_ipv6",
            Self::UnspecifiedIp => "unspecified_ip",
        }
    }

    /// What the value is, as a pseudonym shows it and as its keyed hash is domain-separated.
    /// Kinds of one class share pseudonyms: a host recorded on the case after an earlier
    /// submission named it under `.corp` keeps the pseudonym it had.
    pub fn class(self) -> &'static str {
        match self {
            Self::InternalUrl => "url",
            Self::VictimEmail => "email",
            Self::WindowsSid => "sid",
            Self::PathUserName => "user",
            Self::VictimHostname | Self::InternalHostname => "host",
            Self::VictimDomain => "domain",
            Self::VictimOrganisation => "org",
            Self::PrivateIp
            | Self::LoopbackIp
            | Self::LinkLocalIp
            | Self::CgnatIp
            | Self::DocumentationIp
            | Self::UniqueLocalIpv6
            | Self::UnspecifiedIp => "ip",
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the policy does with a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Refuse,
    Redact,
    Pseudonymise,
    Keep,
}

/// Where in an object a finding is (see the policy file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// Names, descriptions, references, custom properties, pattern comments.
    Text,
    /// A STIX pattern's literal, a pattern in another language, an observable's property.
    Indicator,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    action: Action,
    in_indicator: Option<Action>,
}

/// The actions of one kind of finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub action: Action,
    pub in_indicator: Action,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    redaction: String,
    pseudonym_prefix: String,
    internal_suffixes: Vec<String>,
    generic_user_names: Vec<String>,
    rules: BTreeMap<FindingKind, RuleFile>,
}

/// The checked policy: every kind of finding has a rule, and the replacement texts are safe to
/// put in a pattern literal, a LIKE or MATCHES operand or a pattern comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnonymisationPolicy {
    redaction: String,
    pseudonym_prefix: String,
    /// Lower-case, each beginning with `.`.
    internal_suffixes: Vec<String>,
    /// Lower-case.
    generic_user_names: Vec<String>,
    rules: BTreeMap<FindingKind, Rule>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("anonymisation policy: {0}")]
    Parse(String),
    #[error("anonymisation policy: no rule for {0}")]
    MissingRule(FindingKind),
    #[error(
        "anonymisation policy: redaction must be 1 to {MAX_REDACTION_LEN} printable ASCII \
         characters, none of ' \" \\ % _ *"
    )]
    Redaction,
    #[error(
        "anonymisation policy: pseudonym_prefix must be at most {MAX_PREFIX_LEN} lower-case \
         letters, digits or '-'"
    )]
    PseudonymPrefix,
    #[error(
        "anonymisation policy: internal suffix {0:?} must be '.' then dot-separated labels of \
         letters, digits and '-'"
    )]
    InternalSuffix(String),
    #[error("anonymisation policy: a generic user name is empty")]
    GenericUserName,
}

const MAX_REDACTION_LEN: usize = 64;
const MAX_PREFIX_LEN: usize = 16;

/// The policy shipped in `policies/anonymisation.toml`, compiled in so the hub always has one.
pub const SHIPPED: &str = include_str!("../../../policies/anonymisation.toml");

impl AnonymisationPolicy {
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let file: PolicyFile =
            toml::from_str(text).map_err(|e| PolicyError::Parse(one_line(&e.to_string())))?;
        let mut rules = BTreeMap::new();
        for kind in FindingKind::ALL {
            let rule = file
                .rules
                .get(&kind)
                .ok_or(PolicyError::MissingRule(kind))?;
            rules.insert(
                kind,
                Rule {
                    action: rule.action,
                    in_indicator: rule.in_indicator.unwrap_or(rule.action),
                },
            );
        }
        // The redaction text goes verbatim into pattern literals, LIKE operands and comments:
        // none of its characters may need escaping there or change the operand's meaning.
        let redaction_ok = (1..=MAX_REDACTION_LEN).contains(&file.redaction.len())
            && file
                .redaction
                .bytes()
                .all(|b| (b' '..=b'~').contains(&b) && !b"'\"\\%_*".contains(&b));
        if !redaction_ok {
            return Err(PolicyError::Redaction);
        }
        let prefix_ok = file.pseudonym_prefix.len() <= MAX_PREFIX_LEN
            && file
                .pseudonym_prefix
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !prefix_ok {
            return Err(PolicyError::PseudonymPrefix);
        }
        let mut internal_suffixes = Vec::with_capacity(file.internal_suffixes.len());
        for suffix in file.internal_suffixes {
            let lower = suffix.to_ascii_lowercase();
            let labels_ok = lower.strip_prefix('.').is_some_and(|rest| {
                rest.split('.').all(|label| {
                    !label.is_empty()
                        && label
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                })
            });
            if !labels_ok {
                return Err(PolicyError::InternalSuffix(suffix));
            }
            internal_suffixes.push(lower);
        }
        let mut generic_user_names = Vec::with_capacity(file.generic_user_names.len());
        for name in file.generic_user_names {
            let name = name.trim().to_lowercase();
            if name.is_empty() {
                return Err(PolicyError::GenericUserName);
            }
            generic_user_names.push(name);
        }
        Ok(Self {
            redaction: file.redaction,
            pseudonym_prefix: file.pseudonym_prefix,
            internal_suffixes,
            generic_user_names,
            rules,
        })
    }

    pub fn shipped() -> Result<Self, PolicyError> {
        Self::parse(SHIPPED)
    }

    pub fn rule(&self, kind: FindingKind) -> Rule {
        // Every kind has a rule (checked by `parse`); refusing is the safe answer otherwise.
        self.rules.get(&kind).copied().unwrap_or(Rule {
            action: Action::Refuse,
            in_indicator: Action::Refuse,
        })
    }

    pub fn action(&self, kind: FindingKind, location: Location) -> Action {
        let rule = self.rule(kind);
        match location {
            Location::Text => rule.action,
            Location::Indicator => rule.in_indicator,
        }
    }

    pub fn redaction(&self) -> &str {
        &self.redaction
    }

    pub fn pseudonym_prefix(&self) -> &str {
        &self.pseudonym_prefix
    }

    pub fn internal_suffixes(&self) -> &[String] {
        &self.internal_suffixes
    }

    pub fn is_generic_user_name(&self, folded: &str) -> bool {
        self.generic_user_names.iter().any(|n| n == folded)
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_policy_parses_and_says_what_its_comments_say() {
        use Action::*;
        use FindingKind::*;
        let p = AnonymisationPolicy::shipped().unwrap();
        for ip in [PrivateIp, LinkLocalIp, CgnatIp, UniqueLocalIpv6] {
            assert_eq!(
                p.rule(ip),
                Rule {
                    action: Pseudonymise,
                    in_indicator: Refuse
                },
                "{ip}"
            );
        }
        for ip in [LoopbackIp, DocumentationIp, UnspecifiedIp] {
            assert_eq!(
                p.rule(ip),
                Rule {
                    action: Keep,
                    in_indicator: Refuse
                },
                "{ip}"
            );
        }
        assert_eq!(
            p.rule(VictimDomain),
            Rule {
                action: Redact,
                in_indicator: Refuse
            }
        );
        assert_eq!(
            p.rule(VictimOrganisation),
            Rule {
                action: Redact,
                in_indicator: Refuse
            }
        );
        assert_eq!(
            p.rule(VictimEmail),
            Rule {
                action: Pseudonymise,
                in_indicator: Refuse
            }
        );
        assert_eq!(
            p.rule(InternalUrl),
            Rule {
                action: Redact,
                in_indicator: Refuse
            }
        );
        for k in [VictimHostname, InternalHostname, PathUserName, WindowsSid] {
            assert_eq!(
                p.rule(k),
                Rule {
                    action: Pseudonymise,
                    in_indicator: Pseudonymise
                },
                "{k}"
            );
        }
        assert_eq!(p.redaction(), "[redacted]");
        assert_eq!(p.pseudonym_prefix(), "anon-");
        assert!(p.internal_suffixes().iter().any(|s| s == ".home.arpa"));
        assert!(p.is_generic_user_name("public"));
        assert!(!p.is_generic_user_name("jdoe"));
    }

    #[test]
    fn every_kind_has_a_distinct_name_that_the_file_uses() {
        let mut names: Vec<_> = FindingKind::ALL.iter().map(|k| k.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FindingKind::ALL.len());
        for name in names {
            assert!(SHIPPED.contains(&format!("[rules.{name}]")), "{name}");
        }
    }

    #[test]
    fn in_indicator_defaults_to_action() {
        let text = SHIPPED.replace(
            "action = \"pseudonymise\"\nin_indicator = \"refuse\"\n\n# 127/8",
            "action = \"redact\"\n\n# 127/8",
        );
        assert_ne!(text, SHIPPED);
        let p = AnonymisationPolicy::parse(&text).unwrap();
        assert_eq!(
            p.rule(FindingKind::PrivateIp),
            Rule {
                action: Action::Redact,
                in_indicator: Action::Redact
            }
        );
    }

    #[test]
    fn bad_policies_are_refused_in_one_line() {
        let missing = SHIPPED.replace("[rules.windows_sid]", "[rules.windows_sids]");
        let e = AnonymisationPolicy::parse(&missing).unwrap_err();
        assert!(matches!(e, PolicyError::Parse(_)), "{e}");
        assert!(!e.to_string().contains('\n'), "{e}");

        let without = SHIPPED.replace(
            "[rules.windows_sid]\naction = \"pseudonymise\"\nin_indicator = \"pseudonymise\"\n",
            "",
        );
        assert_ne!(without, SHIPPED);
        assert_eq!(
            AnonymisationPolicy::parse(&without),
            Err(PolicyError::MissingRule(FindingKind::WindowsSid))
        );

        let unknown_action = SHIPPED.replace(
            "[rules.windows_sid]\naction = \"pseudonymise\"",
            "[rules.windows_sid]\naction = \"hash\"",
        );
        assert!(matches!(
            AnonymisationPolicy::parse(&unknown_action),
            Err(PolicyError::Parse(_))
        ));
        let unknown_field = SHIPPED.replace(
            "[rules.windows_sid]\n",
            "[rules.windows_sid]\nin_text = \"keep\"\n",
        );
        assert!(matches!(
            AnonymisationPolicy::parse(&unknown_field),
            Err(PolicyError::Parse(_))
        ));
        assert!(matches!(
            AnonymisationPolicy::parse(&format!("{SHIPPED}\nsecret = 1\n")),
            Err(PolicyError::Parse(_))
        ));

        for bad in ["", "x'y", "50%", "a_b", "*/", "é", "tab\there"] {
            let text = SHIPPED.replace(
                "redaction = \"[redacted]\"",
                &format!("redaction = {bad:?}"),
            );
            assert_eq!(
                AnonymisationPolicy::parse(&text),
                Err(PolicyError::Redaction),
                "{bad}"
            );
        }
        for bad in ["Anon-", "anon_", "a-very-long-prefix-", "anon "] {
            let text = SHIPPED.replace(
                "pseudonym_prefix = \"anon-\"",
                &format!("pseudonym_prefix = {bad:?}"),
            );
            assert_eq!(
                AnonymisationPolicy::parse(&text),
                Err(PolicyError::PseudonymPrefix),
                "{bad}"
            );
        }
        for bad in ["local", ".", ".corp.", "..lan", ".in ternal"] {
            let text = SHIPPED.replace("\".local\", ", &format!("{bad:?}, "));
            assert_eq!(
                AnonymisationPolicy::parse(&text),
                Err(PolicyError::InternalSuffix(bad.to_owned())),
                "{bad}"
            );
        }
        let text = SHIPPED.replace("\"public\", ", "\" \", ");
        assert_eq!(
            AnonymisationPolicy::parse(&text),
            Err(PolicyError::GenericUserName)
        );
    }

    #[test]
    fn suffixes_are_lowered() {
        let text = SHIPPED.replace("\".local\", ", "\".LOCAL\", ");
        let p = AnonymisationPolicy::parse(&text).unwrap();
        assert!(p.internal_suffixes().iter().any(|s| s == ".local"));
    }
}
