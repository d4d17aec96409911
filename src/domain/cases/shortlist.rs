//! The fair shortlist (Convention art. 6.3, 9): several referenced providers proposed to the
//! beneficiary, none favoured by size, sector or place, because none of these enters the
//! decision. Eligibility is about the case (services, hours, conflicts); order is about
//! rotation only: the least recently proposed first; among those last proposed in the same
//! shortlist, the least often proposed; then a draw from a recorded seed. (Recency alone lets
//! equally eligible providers drift apart by several proposals when a draw keeps favouring the
//! same ones; with the count as the tie-break they never differ by more than one.) The function is pure, so anyone holding the recorded inputs replays it and gets the
//! same list.

use serde::{Deserialize, Serialize};

use crate::domain::principal::{OrganisationId, OrganisationStatus};
use crate::domain::registry::file::{Service, ServiceOffer};

/// What the case needs of a provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Needs {
    pub services: Vec<Service>,
    pub outside_business_hours: bool,
}

/// A provider of the registry as the shortlist sees it: recorded with the shortlist, so the
/// draw can be replayed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub provider: OrganisationId,
    pub name: String,
    pub status: OrganisationStatus,
    /// Referenced today under the registry's lifecycle (`Referencing::is_referenced`).
    pub referenced: bool,
    pub offers: Vec<ServiceOffer>,
    /// It declared a conflict of interest with this beneficiary (art. 6.2).
    pub conflict: bool,
    /// Its registered OpenPGP key can receive an encrypted handoff.
    pub can_receive: bool,
    /// It already answered this case with a decline or a conflict: the beneficiary is not
    /// offered it again.
    pub withdrew: bool,
    /// The number of the last shortlist, of any case, that proposed it.
    pub last_proposed: Option<i64>,
    /// How many shortlists proposed it.
    #[serde(default)]
    pub proposals: u64,
}

/// Why a provider is not on the shortlist. Shown to analysts only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason", content = "detail")]
pub enum Exclusion {
    NotReferenced(OrganisationStatus),
    MissingServices(Vec<Service>),
    NotOutsideBusinessHours(Vec<Service>),
    ConflictOfInterest,
    NoEncryptionKey,
    WithdrewFromThisCase,
}

impl Exclusion {
    pub fn describe(&self) -> String {
        let list = |s: &[Service]| s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
        match self {
            Exclusion::NotReferenced(status) => format!("not referenced ({status})"),
            Exclusion::MissingServices(s) => format!("does not offer {}", list(s)),
            Exclusion::NotOutsideBusinessHours(s) => {
                format!("does not offer {} outside business hours", list(s))
            }
            Exclusion::ConflictOfInterest => {
                "declared a conflict of interest with this beneficiary".into()
            }
            Exclusion::NoEncryptionKey => {
                "its registered OpenPGP key cannot receive an encrypted handoff".into()
            }
            Exclusion::WithdrewFromThisCase => {
                "declined this case already, or did not answer it in time".into()
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub rank: usize,
    pub provider: OrganisationId,
    pub name: String,
    pub last_proposed: Option<i64>,
    /// SHA-256(seed ‖ provider id), lower-case hex: the tie-break.
    pub draw: String,
    /// Why it is there, in words.
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Excluded {
    pub provider: OrganisationId,
    pub name: String,
    pub reasons: Vec<Exclusion>,
}

/// The outcome, with everything needed to replay it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shortlist {
    /// 32 bytes, lower-case hex.
    pub seed: String,
    pub size: usize,
    pub needs: Needs,
    pub candidates: Vec<Candidate>,
    pub entries: Vec<Entry>,
    pub excluded: Vec<Excluded>,
    /// How many providers were eligible.
    pub eligible: usize,
    /// Fewer eligible providers than `size`: every eligible one is proposed.
    pub short: bool,
}

fn exclusions(needs: &Needs, c: &Candidate) -> Vec<Exclusion> {
    let mut out = Vec::new();
    if !c.referenced {
        out.push(Exclusion::NotReferenced(c.status));
    }
    let offer = |s: Service| c.offers.iter().find(|o| o.service == s);
    let missing: Vec<Service> = needs
        .services
        .iter()
        .copied()
        .filter(|s| !offer(*s).is_some_and(|o| o.jho || o.jhno))
        .collect();
    if !missing.is_empty() {
        out.push(Exclusion::MissingServices(missing));
    }
    if needs.outside_business_hours {
        let not_jhno: Vec<Service> = needs
            .services
            .iter()
            .copied()
            .filter(|s| offer(*s).is_some_and(|o| !o.jhno && o.jho))
            .collect();
        if !not_jhno.is_empty() {
            out.push(Exclusion::NotOutsideBusinessHours(not_jhno));
        }
    }
    if c.conflict {
        out.push(Exclusion::ConflictOfInterest);
    }
    if !c.can_receive {
        out.push(Exclusion::NoEncryptionKey);
    }
    if c.withdrew {
        out.push(Exclusion::WithdrewFromThisCase);
    }
    out
}

/// The tie-break of one provider under one seed.
pub fn draw(seed: &[u8], provider: &OrganisationId) -> String {
    let mut input = Vec::with_capacity(seed.len() + provider.as_str().len());
    input.extend_from_slice(seed);
    input.extend_from_slice(provider.as_str().as_bytes());
    crate::crypto::sha256_hex(&input)
}

/// The shortlist of `size` for `needs` among `candidates`, under `seed`.
pub fn shortlist(needs: &Needs, candidates: &[Candidate], size: usize, seed: &[u8]) -> Shortlist {
    let mut eligible = Vec::new();
    let mut excluded = Vec::new();
    for c in candidates {
        let reasons = exclusions(needs, c);
        if reasons.is_empty() {
            eligible.push((c, draw(seed, &c.provider)));
        } else {
            excluded.push(Excluded {
                provider: c.provider.clone(),
                name: c.name.clone(),
                reasons,
            });
        }
    }
    // Never proposed sorts before any number; then the oldest proposal, the fewest proposals,
    // the draw.
    eligible.sort_by(|(a, da), (b, db)| {
        (a.last_proposed.is_some(), a.last_proposed, a.proposals, da).cmp(&(
            b.last_proposed.is_some(),
            b.last_proposed,
            b.proposals,
            db,
        ))
    });
    let services = needs
        .services
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let count = eligible.len();
    let entries = eligible
        .into_iter()
        .take(size)
        .enumerate()
        .map(|(i, (c, d))| {
            let mut reasons = vec![format!(
                "referenced; offers {services}{}",
                if needs.outside_business_hours {
                    " outside business hours"
                } else {
                    ""
                }
            )];
            reasons.push("no declared conflict of interest with this beneficiary".into());
            reasons.push(match c.last_proposed {
                None => "never proposed before".into(),
                Some(n) => format!(
                    "last proposed in shortlist #{n} ({} proposal{} so far)",
                    c.proposals,
                    if c.proposals == 1 { "" } else { "s" }
                ),
            });
            Entry {
                rank: i + 1,
                provider: c.provider.clone(),
                name: c.name.clone(),
                last_proposed: c.last_proposed,
                draw: d,
                reasons,
            }
        })
        .collect();
    Shortlist {
        seed: hex::encode(seed),
        size,
        needs: needs.clone(),
        candidates: candidates.to_vec(),
        entries,
        excluded,
        eligible: count,
        short: count < size,
    }
}

/// The same computation from what was recorded: equal to `recorded` unless it was altered.
pub fn replay(recorded: &Shortlist) -> Option<Shortlist> {
    let seed = hex::decode(&recorded.seed).ok()?;
    Some(shortlist(
        &recorded.needs,
        &recorded.candidates,
        recorded.size,
        &seed,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn candidate(n: usize) -> Candidate {
        Candidate {
            provider: OrganisationId::from_stored(format!("org-{n}")),
            name: format!("Provider {n}"),
            status: OrganisationStatus::Referenced,
            referenced: true,
            offers: Service::ALL
                .into_iter()
                .map(|service| ServiceOffer {
                    service,
                    jho: true,
                    jhno: n.is_multiple_of(2),
                })
                .collect(),
            conflict: false,
            can_receive: true,
            withdrew: false,
            last_proposed: None,
            proposals: 0,
        }
    }

    fn needs(outside: bool) -> Needs {
        Needs {
            services: vec![Service::Analysis, Service::Containment],
            outside_business_hours: outside,
        }
    }

    #[test]
    fn rotation_keeps_equally_eligible_providers_within_one_proposal() {
        for run in 0..20u8 {
            let mut candidates: Vec<Candidate> = (0..4).map(candidate).collect();
            let mut counts: BTreeMap<String, usize> = BTreeMap::new();
            for number in 1..=30i64 {
                let seed = [run, number as u8, 7, 7];
                let list = shortlist(&needs(false), &candidates, 3, &seed);
                assert_eq!(list.entries.len(), 3);
                for e in &list.entries {
                    *counts.entry(e.provider.to_string()).or_default() += 1;
                    let c = candidates
                        .iter_mut()
                        .find(|c| c.provider == e.provider)
                        .unwrap();
                    c.last_proposed = Some(number);
                    c.proposals += 1;
                }
                let max = counts.values().max().unwrap();
                let min = (0..4)
                    .map(|n| counts.get(&format!("org-{n}")).copied().unwrap_or(0))
                    .min()
                    .unwrap();
                assert!(max - min <= 1, "after {number}: {counts:?}");
            }
        }
    }

    #[test]
    fn ties_are_broken_by_the_seed_and_replay_gives_the_same_list() {
        let candidates: Vec<Candidate> = (0..6).map(candidate).collect();
        let a = shortlist(&needs(false), &candidates, 3, b"seed-one");
        let b = shortlist(&needs(false), &candidates, 3, b"seed-two");
        assert_ne!(
            a.entries.iter().map(|e| &e.provider).collect::<Vec<_>>(),
            b.entries.iter().map(|e| &e.provider).collect::<Vec<_>>()
        );
        assert_eq!(replay(&a).unwrap(), a);
        let mut forged = a.clone();
        forged.entries.swap(0, 1);
        assert_ne!(replay(&forged).unwrap(), forged);
    }

    #[test]
    fn outside_business_hours_only_jhno_providers_and_the_list_says_when_it_is_short() {
        let mut candidates: Vec<Candidate> = (0..4).map(candidate).collect();
        candidates[2].status = OrganisationStatus::Suspended;
        candidates[2].referenced = false;
        let list = shortlist(&needs(true), &candidates, 3, b"s");
        assert_eq!(list.eligible, 1);
        assert!(list.short);
        assert_eq!(list.entries[0].provider.as_str(), "org-0");
        assert!(list.entries[0].reasons[0].contains("outside business hours"));
        let reasons: Vec<_> = list.excluded.iter().map(|e| &e.reasons).collect();
        assert!(reasons.iter().any(|r| {
            r.iter()
                .any(|x| matches!(x, Exclusion::NotReferenced(OrganisationStatus::Suspended)))
        }));
        assert!(reasons.iter().any(|r| {
            r.iter()
                .any(|x| matches!(x, Exclusion::NotOutsideBusinessHours(_)))
        }));
    }

    #[test]
    fn conflicts_withdrawals_keys_and_services_exclude() {
        let mut candidates: Vec<Candidate> = (0..5).map(candidate).collect();
        candidates[0].conflict = true;
        candidates[1].can_receive = false;
        candidates[2].withdrew = true;
        candidates[3]
            .offers
            .retain(|o| o.service != Service::Containment);
        let list = shortlist(&needs(false), &candidates, 3, b"s");
        assert_eq!(list.entries.len(), 1);
        assert_eq!(list.entries[0].provider.as_str(), "org-4");
        assert_eq!(list.excluded.len(), 4);
        assert_eq!(
            list.excluded[3].reasons,
            [Exclusion::MissingServices(vec![Service::Containment])]
        );
    }

    #[test]
    fn size_and_sector_never_enter_the_order() {
        // The candidate carries no size, sector or place: the type itself shows it. The
        // order of the registry does not matter either.
        let candidates: Vec<Candidate> = (0..5).map(candidate).collect();
        let mut reversed = candidates.clone();
        reversed.reverse();
        let a = shortlist(&needs(false), &candidates, 3, b"s");
        let b = shortlist(&needs(false), &reversed, 3, b"s");
        assert_eq!(a.entries, b.entries);
    }
}
