//! The federation policy (`policies/federation.toml`): per partner hub, how far it may read
//! here (egress) and what this hub pulls from it (ingress). The marking policy decides who
//! reads a level; this file caps what a peer may get and says where its material goes.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::domain::access::RegistryRecord;
use crate::domain::markings::release::Reader;
use crate::domain::markings::{Pap, Tlp};
use crate::domain::principal::{PrincipalId, PrincipalKind};

/// The policy shipped in `policies/federation.toml`, compiled in so the hub always has one.
pub const SHIPPED: &str = include_str!("../../../policies/federation.toml");

/// Bounds of what one poll of a peer may take, so that a peer serving a huge page, an endless
/// `more: true` or a slow trickle cannot hold the worker (MISP's sync failed whole events past
/// 10,000 attributes and resynced for hours).
pub const MAX_PAGE_BYTES: u64 = 64 * 1024 * 1024;
pub const MAX_PAGES_PER_POLL: u32 = 10_000;
pub const MAX_POLL_SECS: u64 = 3_600;
/// TAXII `limit` asked of a peer per page.
pub const MAX_PAGE_SIZE: u32 = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FederationPolicyError {
    #[error("{0}")]
    Parse(String),
    #[error("peer {0}: TLP:RED is never federated; max_tlp may be at most amber_strict")]
    RedForPeer(String),
    #[error(
        "peer {0:?}: name a peer by its principal id (principal--…) or as \"organisation/principal\""
    )]
    NotAPeerName(String),
    #[error("peer {peer}: ingress.{field}: {problem}")]
    Ingress {
        peer: String,
        field: &'static str,
        problem: String,
    },
    #[error("peer {peer}: {field}: {problem}")]
    Egress {
        peer: String,
        field: &'static str,
        problem: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    peers: BTreeMap<String, PeerEntry>,
}

fn default_collections() -> Vec<String> {
    vec![crate::domain::collections::COMMUNITY.alias.to_owned()]
}

/// One partner hub's entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerEntry {
    /// The highest TLP the peer may read here (never RED).
    pub max_tlp: Tlp,
    /// The highest PAP the peer may read here; objects above it stay here. Absent: any.
    #[serde(default)]
    pub max_pap: Option<Pap>,
    /// Which of this hub's collections the peer reads (aliases or ids); default the community.
    #[serde(default = "default_collections")]
    pub collections: Vec<String>,
    /// Whether what this peer delivers may be served on to other peers (never above the
    /// markings it arrived with, and never back to it). Off by default.
    #[serde(default)]
    pub reshare: bool,
    /// STIX identities the peer hub produces as (`created_by_ref`): objects claiming one of
    /// them are accepted from this peer only.
    #[serde(default)]
    pub identities: Vec<String>,
    /// The origin line of the peer's audit checkpoints, to witness its log.
    #[serde(default)]
    pub audit_origin: Option<String>,
    /// The peer's witness verifier key (C2SP vkey): cosignatures of our checkpoints it sends
    /// back are checked against it.
    #[serde(default)]
    pub witness_key: Option<String>,
    /// What this hub pulls from the peer; absent: nothing.
    #[serde(default)]
    pub ingress: Option<Ingress>,
}

/// The egress part of an entry, as the marking rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerEgress {
    pub max_tlp: Tlp,
    pub max_pap: Option<Pap>,
}

fn default_poll_secs() -> u64 {
    300
}
fn default_true() -> bool {
    true
}
fn default_page_size() -> u32 {
    1_000
}
fn default_max_pages() -> u32 {
    100
}
fn default_max_objects() -> u64 {
    100_000
}
fn default_max_poll_secs() -> u64 {
    120
}
fn default_max_page_bytes() -> u64 {
    16 * 1024 * 1024
}
fn default_max_backoff_secs() -> u64 {
    3_600
}
fn default_timeout_secs() -> u64 {
    30
}

/// How this hub pulls from a peer over TAXII 2.1 with mutual TLS.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ingress {
    /// The peer's TAXII API root (…/taxii2/api/), or its discovery URL (…/taxii2/), whose
    /// `default` API root is then used.
    pub url: String,
    /// The peer's collection ids to pull.
    pub collections: Vec<String>,
    #[serde(default = "default_poll_secs")]
    pub poll_secs: u64,
    /// PEM file of the CA that signed the peer's server certificate (relative paths: the data
    /// directory).
    #[serde(default)]
    pub ca: Option<String>,
    /// PEM certificate and key this hub presents to the peer (issued by the peer's CA).
    #[serde(default)]
    pub cert: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Loopback, link-local and private addresses are refused unless this says true.
    #[serde(default)]
    pub allow_private: bool,
    /// Plain http is refused unless this says true (a test server without TLS).
    #[serde(default)]
    pub allow_http: bool,
    /// Redirects are not followed unless this says true; each hop is checked like the first.
    #[serde(default)]
    pub follow_redirects: bool,
    /// HTTP basic authentication, for a server that wants it besides (or instead of) mTLS:
    /// the user, and a file holding the password.
    #[serde(default)]
    pub basic_user: Option<String>,
    #[serde(default)]
    pub basic_password_file: Option<String>,
    /// Objects asked per page (TAXII `limit`).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Budgets of one poll: pages, objects, seconds.
    #[serde(default = "default_max_pages")]
    pub max_pages: u32,
    #[serde(default = "default_max_objects")]
    pub max_objects: u64,
    #[serde(default = "default_max_poll_secs")]
    pub max_poll_secs: u64,
    /// A page larger than this is refused (and the poll fails), read as it streams in.
    #[serde(default = "default_max_page_bytes")]
    pub max_page_bytes: u64,
    /// Backoff after failures doubles from `poll_secs` up to this.
    #[serde(default = "default_max_backoff_secs")]
    pub max_backoff_secs: u64,
    /// One request's timeout.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// Whether to fetch, check and cosign the peer's audit checkpoints.
    #[serde(default = "default_true")]
    pub witness: bool,
}

/// The policy, by the name each entry was written with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FederationPolicy {
    peers: BTreeMap<String, PeerEntry>,
    /// Entry names resolved to principal ids (`resolve`): what workers and the re-sharing rule
    /// need. An entry whose principal does not exist (yet) is absent here.
    resolved: BTreeMap<PrincipalId, String>,
}

fn one_line(e: impl std::fmt::Display) -> String {
    e.to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

impl Ingress {
    fn check(&self, peer: &str) -> Result<(), FederationPolicyError> {
        let bad = |field: &'static str, problem: &str| FederationPolicyError::Ingress {
            peer: peer.to_owned(),
            field,
            problem: problem.to_owned(),
        };
        let (scheme, rest) = self
            .url
            .split_once("://")
            .ok_or_else(|| bad("url", "not an absolute URL"))?;
        crate::domain::federation::address::check_scheme(
            &scheme.to_ascii_lowercase(),
            self.allow_http,
        )
        .map_err(|e| bad("url", &e.to_string()))?;
        if rest.is_empty() || rest.starts_with('/') {
            return Err(bad("url", "no host"));
        }
        if self.collections.is_empty() {
            return Err(bad(
                "collections",
                "name at least one of the peer's collection ids",
            ));
        }
        if self.poll_secs == 0 {
            return Err(bad("poll_secs", "at least 1"));
        }
        if !(1..=MAX_PAGE_SIZE).contains(&self.page_size) {
            return Err(bad("page_size", &format!("1 to {MAX_PAGE_SIZE}")));
        }
        if !(1..=MAX_PAGES_PER_POLL).contains(&self.max_pages) {
            return Err(bad("max_pages", &format!("1 to {MAX_PAGES_PER_POLL}")));
        }
        if self.max_objects == 0 {
            return Err(bad("max_objects", "at least 1"));
        }
        if !(1..=MAX_POLL_SECS).contains(&self.max_poll_secs) {
            return Err(bad("max_poll_secs", &format!("1 to {MAX_POLL_SECS}")));
        }
        if !(1024..=MAX_PAGE_BYTES).contains(&self.max_page_bytes) {
            return Err(bad("max_page_bytes", &format!("1024 to {MAX_PAGE_BYTES}")));
        }
        if self.max_backoff_secs < self.poll_secs {
            return Err(bad("max_backoff_secs", "at least poll_secs"));
        }
        if self.timeout_secs == 0 {
            return Err(bad("timeout_secs", "at least 1"));
        }
        if self.cert.is_some() != self.key.is_some() {
            return Err(bad("cert", "cert and key go together"));
        }
        if self.basic_user.is_some() != self.basic_password_file.is_some() {
            return Err(bad(
                "basic_user",
                "basic_user and basic_password_file go together",
            ));
        }
        Ok(())
    }
}

impl FederationPolicy {
    pub fn parse(text: &str) -> Result<Self, FederationPolicyError> {
        let file: PolicyFile =
            toml::from_str(text).map_err(|e| FederationPolicyError::Parse(one_line(e)))?;
        for (name, entry) in &file.peers {
            let is_id = name
                .strip_prefix("principal--")
                .is_some_and(|u| uuid::Uuid::parse_str(u).is_ok());
            let is_qualified = name.split_once('/').is_some_and(|(org, principal)| {
                !org.trim().is_empty() && !principal.trim().is_empty()
            });
            if !is_id && !is_qualified {
                return Err(FederationPolicyError::NotAPeerName(name.clone()));
            }
            if entry.max_tlp == Tlp::Red {
                return Err(FederationPolicyError::RedForPeer(name.clone()));
            }
            for collection in &entry.collections {
                if crate::domain::collections::Collection::by_alias_or_id(collection)
                    .is_none_or(|c| !c.can_read(PrincipalKind::Peer))
                    && uuid::Uuid::parse_str(collection).is_err()
                {
                    return Err(FederationPolicyError::Egress {
                        peer: name.clone(),
                        field: "collections",
                        problem: format!(
                            "{collection:?} is not a collection peers may read (community, or \
                             another peer's collection id)"
                        ),
                    });
                }
            }
            for identity in &entry.identities {
                if !identity.starts_with("identity--") {
                    return Err(FederationPolicyError::Egress {
                        peer: name.clone(),
                        field: "identities",
                        problem: format!("{identity:?} is not a STIX identity id"),
                    });
                }
            }
            if let Some(ingress) = &entry.ingress {
                ingress.check(name)?;
            }
        }
        Ok(Self {
            peers: file.peers,
            resolved: BTreeMap::new(),
        })
    }

    /// Names each entry's principal id, found by `lookup` from the entry's name (an id, or
    /// "organisation/principal"); entries `lookup` cannot find are left unresolved.
    pub fn resolve(mut self, lookup: impl Fn(&str) -> Option<PrincipalId>) -> Self {
        self.resolved = self
            .peers
            .keys()
            .filter_map(|name| lookup(name).map(|id| (id, name.clone())))
            .collect();
        self
    }

    /// The entries, by the name they were written with.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &PeerEntry)> {
        self.peers.iter().map(|(n, e)| (n.as_str(), e))
    }

    /// Resolved entries: principal id, name, entry.
    pub fn resolved(&self) -> impl Iterator<Item = (&PrincipalId, &str, &PeerEntry)> {
        self.resolved
            .iter()
            .filter_map(|(id, name)| self.peers.get(name).map(|e| (id, name.as_str(), e)))
    }

    /// The entry of a peer, by its principal id or by "organisation name/principal name".
    pub fn entry(&self, id: &str, organisation: &str, name: &str) -> Option<&PeerEntry> {
        self.peers
            .get(id)
            .or_else(|| self.peers.get(&format!("{organisation}/{name}")))
    }

    /// The entry of a resolved peer.
    pub fn entry_of(&self, id: &PrincipalId) -> Option<&PeerEntry> {
        self.resolved.get(id).and_then(|n| self.peers.get(n))
    }

    /// The highest TLP a peer may read: CLEAR unless the policy says more.
    pub fn max_tlp(&self, id: &str, organisation: &str, name: &str) -> Tlp {
        self.entry(id, organisation, name)
            .map_or(Tlp::Clear, |p| p.max_tlp)
    }

    /// The peer that declared `identity` as its own, if any.
    pub fn declared_by(&self, identity: &str) -> Option<&PrincipalId> {
        self.resolved()
            .find(|(_, _, e)| e.identities.iter().any(|i| i == identity))
            .map(|(id, _, _)| id)
    }

    /// The reader the marking rules see for an authenticated caller; a partner hub is capped
    /// by its entry in this policy and reads other peers' material only where their entries
    /// allow re-sharing.
    pub fn reader(&self, caller: &RegistryRecord) -> Reader {
        let peer = caller.principal.kind == PrincipalKind::Peer;
        let entry = peer
            .then(|| {
                self.entry(
                    caller.principal.id.as_str(),
                    &caller.organisation.name,
                    &caller.principal.name,
                )
            })
            .flatten();
        Reader {
            principal: caller.principal.id.clone(),
            kind: caller.principal.kind,
            organisation: caller.organisation.id.clone(),
            peer_max_tlp: peer.then(|| entry.map_or(Tlp::Clear, |e| e.max_tlp)),
            peer_max_pap: entry.and_then(|e| e.max_pap),
            reshared_from: if peer {
                self.resolved()
                    .filter(|(id, _, e)| e.reshare && **id != caller.principal.id)
                    .map(|(id, _, _)| id.clone())
                    .collect()
            } else {
                Vec::new()
            },
        }
    }

    /// Whether a peer may read the collection `id` here (its entry's `collections`; the
    /// community by default).
    pub fn peer_reads_collection(&self, caller: &RegistryRecord, id: &str, alias: &str) -> bool {
        let listed = |e: &PeerEntry| e.collections.iter().any(|c| c == id || c == alias);
        match self.entry(
            caller.principal.id.as_str(),
            &caller.organisation.name,
            &caller.principal.name,
        ) {
            Some(e) => listed(e),
            None => default_collections().iter().any(|c| c == id || c == alias),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEER: &str = "principal--0b6f1c9e-8d2a-4c3b-9e7f-5a4d3c2b1a09";

    #[test]
    fn shipped_policy_lets_unlisted_peers_read_clear_only() {
        let policy = FederationPolicy::parse(SHIPPED).unwrap();
        assert_eq!(policy.max_tlp(PEER, "Partner", "p"), Tlp::Clear);
    }

    #[test]
    fn listed_peers_get_their_level() {
        let policy =
            FederationPolicy::parse(&format!("[peers.\"{PEER}\"]\nmax_tlp = \"green\"\n")).unwrap();
        assert_eq!(policy.max_tlp(PEER, "Partner", "p"), Tlp::Green);
        assert_eq!(
            policy.max_tlp(
                "principal--00000000-0000-4000-8000-000000000000",
                "Partner",
                "p"
            ),
            Tlp::Clear
        );
        let by_name =
            FederationPolicy::parse("[peers.\"CERT-XX/taxii\"]\nmax_tlp = \"green\"\n").unwrap();
        assert_eq!(by_name.max_tlp(PEER, "CERT-XX", "taxii"), Tlp::Green);
        assert_eq!(by_name.max_tlp(PEER, "CERT-YY", "taxii"), Tlp::Clear);
    }

    #[test]
    fn red_names_unknown_keys_and_bad_levels_are_refused() {
        assert_eq!(
            FederationPolicy::parse(&format!("[peers.\"{PEER}\"]\nmax_tlp = \"red\"\n")),
            Err(FederationPolicyError::RedForPeer(PEER.into()))
        );
        assert!(
            FederationPolicy::parse(&format!(
                "[peers.\"{PEER}\"]\nmax_tlp = \"green\"\nextra = 1\n"
            ))
            .is_err()
        );
        assert!(
            FederationPolicy::parse(&format!("[peers.\"{PEER}\"]\nmax_tlp = \"purple\"\n"))
                .is_err()
        );
        assert_eq!(
            FederationPolicy::parse("[peers.partner-csirt]\nmax_tlp = \"clear\"\n"),
            Err(FederationPolicyError::NotAPeerName("partner-csirt".into()))
        );
    }

    fn with_ingress(lines: &str) -> Result<FederationPolicy, FederationPolicyError> {
        FederationPolicy::parse(&format!(
            "[peers.\"{PEER}\"]\nmax_tlp = \"green\"\n[peers.\"{PEER}\".ingress]\n{lines}\n"
        ))
    }

    #[test]
    fn ingress_defaults_are_the_documented_ones() {
        let policy = with_ingress(
            "url = \"https://hub-b.example.org/taxii2/\"\ncollections = [\"c\"]\nca = \"ca.pem\"",
        )
        .unwrap();
        let entry = policy.entries().next().unwrap().1;
        let i = entry.ingress.as_ref().unwrap();
        assert_eq!(entry.collections, ["community"]);
        assert!(!entry.reshare);
        assert_eq!(
            (
                i.poll_secs,
                i.page_size,
                i.max_pages,
                i.max_objects,
                i.max_poll_secs
            ),
            (300, 1_000, 100, 100_000, 120)
        );
        assert_eq!(i.max_page_bytes, 16 * 1024 * 1024);
        assert!(i.enabled && i.witness);
        assert!(!i.allow_private && !i.allow_http && !i.follow_redirects);
    }

    #[test]
    fn bad_ingress_entries_are_refused_with_the_key_named() {
        for (lines, key) in [
            ("url = \"file:///etc/passwd\"\ncollections = [\"c\"]", "url"),
            (
                "url = \"http://hub-b/taxii2/\"\ncollections = [\"c\"]",
                "url",
            ),
            ("url = \"https:///taxii2/\"\ncollections = [\"c\"]", "url"),
            ("url = \"https://b/\"\ncollections = []", "collections"),
            (
                "url = \"https://b/\"\ncollections = [\"c\"]\npage_size = 0",
                "page_size",
            ),
            (
                "url = \"https://b/\"\ncollections = [\"c\"]\npage_size = 10001",
                "page_size",
            ),
            (
                "url = \"https://b/\"\ncollections = [\"c\"]\nmax_page_bytes = 999999999",
                "max_page_bytes",
            ),
            (
                "url = \"https://b/\"\ncollections = [\"c\"]\ncert = \"c.pem\"",
                "cert",
            ),
            (
                "url = \"https://b/\"\ncollections = [\"c\"]\npoll_secs = 600\nmax_backoff_secs = 60",
                "max_backoff_secs",
            ),
        ] {
            let e = with_ingress(lines).unwrap_err().to_string();
            assert!(e.contains(key), "{lines}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
        assert!(
            with_ingress("url = \"http://b/\"\ncollections = [\"c\"]\nallow_http = true").is_ok()
        );
    }
}
