//! References count (MARKINGS.md): a released object never names an object its reader may not
//! read. Which referenced objects a reader may read depends on their own references in turn
//! (a report lists a relationship whose target is TLP:RED), so it is decided over every
//! candidate at once: the objects of a page and the stored versions, visible by markings,
//! of everything they reference, to a bounded depth.

use std::collections::HashSet;

use super::policy::MarkingPolicy;
use super::release::{Content, Marked, ReadableSet, Reader, Verdict, cut, verdict};

/// How many hops of references are followed from a page. Anything further counts as
/// unreadable, so the bound can only withhold more, never release more.
pub const MAX_REFERENCE_DEPTH: usize = 6;

/// An object version the reference rule weighs: what the markings remove of it for the
/// reader, `None` if they withhold it.
pub trait Candidate: Content {
    fn verdict(&self, policy: &MarkingPolicy, reader: &Reader) -> Option<Verdict>;
}

impl<T: Marked> Candidate for T {
    fn verdict(&self, policy: &MarkingPolicy, reader: &Reader) -> Option<Verdict> {
        verdict(policy, reader, self.access())
    }
}

/// A candidate the markings let through, and what they remove of it.
struct Pending<'a, T> {
    candidate: &'a T,
    verdict: Verdict,
}

fn visible<'a, T: Candidate>(
    policy: &MarkingPolicy,
    reader: &Reader,
    candidates: &'a [T],
) -> Vec<Pending<'a, T>> {
    candidates
        .iter()
        .filter_map(|c| {
            c.verdict(policy, reader).map(|verdict| Pending {
                candidate: c,
                verdict,
            })
        })
        .collect()
}

/// Releases, without reading their text, the candidates whose markings remove nothing and
/// whose references are all readable already, until no more are.
fn cheap_rounds<T: Candidate>(set: &mut ReadableSet, pending: &mut Vec<Pending<'_, T>>) {
    loop {
        let before = pending.len();
        pending.retain(|p| {
            let c = p.candidate;
            if set.contains(c.stix_id()) {
                return false;
            }
            let grounded =
                !p.verdict.judge_references || c.references().iter().all(|id| set.contains(id));
            if p.verdict.redact.is_empty() && grounded {
                set.insert(c.stix_id());
                return false;
            }
            true
        });
        if pending.len() == before {
            return;
        }
    }
}

/// The candidates whose text `readable` needs: those it cannot settle from markings and
/// references alone. The others may come without their text.
pub fn needing_text<'a, T: Candidate>(
    policy: &MarkingPolicy,
    reader: &Reader,
    candidates: &'a [T],
) -> Vec<&'a T> {
    let mut set = ReadableSet::default();
    let mut pending = visible(policy, reader, candidates);
    cheap_rounds(&mut set, &mut pending);
    pending.into_iter().map(|p| p.candidate).collect()
}

/// The ids of `candidates` that `reader` may read: an id is readable when one of its versions
/// would be released, judged against the ids already found readable.
///
/// It is the least fixpoint: an object counts only once what it needs is grounded in objects
/// that count, so references in a cycle never vouch for each other, and the answer is the same
/// whatever the order of the candidates. Removing references never makes an invalid object
/// valid, so the rule is monotone and the iteration stops.
pub fn readable<T: Candidate>(
    policy: &MarkingPolicy,
    reader: &Reader,
    candidates: &[T],
) -> ReadableSet {
    let mut set = ReadableSet::default();
    let mut pending = visible(policy, reader, candidates);
    loop {
        cheap_rounds(&mut set, &mut pending);
        // Then the objects that would lose parts: released if what is left stands. All are
        // judged against the same set, so that the order of the candidates does not matter.
        let mut found: HashSet<&str> = HashSet::new();
        pending.retain(|p| {
            let c = p.candidate;
            if found.contains(c.stix_id()) {
                return false;
            }
            if cut(c, &p.verdict, &set).is_some() {
                found.insert(c.stix_id());
                return false;
            }
            true
        });
        if found.is_empty() {
            return set;
        }
        for id in found {
            set.insert(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;
    use crate::domain::markings::release::{
        Content, Decision, GranularTlp, Marked, ObjectAccess, Reader, decide, released_form,
    };
    use crate::domain::markings::sealed::Sealed;
    use crate::domain::markings::{Pap, Tlp};
    use crate::domain::principal::{OrganisationId, PrincipalId, PrincipalKind};
    use crate::domain::stix::references::references;

    #[derive(Debug, Clone)]
    struct Obj {
        access: ObjectAccess,
        json: Value,
        id: String,
        refs: Vec<String>,
        text: Sealed,
    }

    impl Marked for Obj {
        fn access(&self) -> &ObjectAccess {
            &self.access
        }
    }

    impl Content for Obj {
        fn stix_id(&self) -> &str {
            &self.id
        }
        fn references(&self) -> Cow<'_, [String]> {
            Cow::Borrowed(&self.refs)
        }
        fn text(&self) -> Option<&Sealed> {
            Some(&self.text)
        }
    }

    const KINDS: [&str; 7] = [
        "indicator",
        "malware",
        "identity",
        "relationship",
        "report",
        "sighting",
        "grouping",
    ];

    fn org(n: u8) -> OrganisationId {
        OrganisationId::from_stored(format!("org--{n}"))
    }

    fn uid(kind: &str, n: usize) -> String {
        format!("{kind}--00000000-0000-4000-8000-{n:012}")
    }

    /// One generated object: kind, markings, producer, and references given as numbers that
    /// pick among the universe (or, past its end, ids that were never stored).
    type Spec = (usize, Tlp, Option<Pap>, u8, Vec<usize>, Option<Tlp>);

    fn build(specs: &[Spec]) -> Vec<Obj> {
        let n = specs.len();
        let kind_of = |i: usize| KINDS[specs[i].0];
        // What a reference number names: an object of the universe if one of the right kinds
        // is there, else an id of the right kind nobody stored.
        let pick = |r: usize, allowed: &[&str]| -> String {
            let candidates: Vec<usize> =
                (0..n).filter(|i| allowed.contains(&kind_of(*i))).collect();
            if r < candidates.len() * 3 && !candidates.is_empty() {
                uid(
                    kind_of(candidates[r % candidates.len()]),
                    candidates[r % candidates.len()],
                )
            } else {
                uid(allowed[0], 1000 + r)
            }
        };
        let sdo = ["indicator", "malware", "identity"];
        specs
            .iter()
            .enumerate()
            .map(|(i, (k, tlp, pap, producer, refs, granular))| {
                let kind = KINDS[*k];
                let id = uid(kind, i);
                let mut o = json!({"type": kind, "spec_version": "2.1", "id": id,
                    "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z"});
                let r = |j: usize| refs.get(j).copied().unwrap_or(j);
                match kind {
                    "indicator" => {
                        o["pattern"] = json!("[ipv4-addr:value = '185.220.101.1']");
                        o["pattern_type"] = json!("stix");
                        o["valid_from"] = json!("2026-01-01T00:00:00Z");
                    }
                    "malware" => {
                        o["name"] = json!("m");
                        o["is_family"] = json!(false);
                    }
                    "identity" => o["name"] = json!("i"),
                    "relationship" => {
                        o["relationship_type"] = json!("related-to");
                        o["source_ref"] = json!(pick(r(0), &sdo));
                        o["target_ref"] = json!(pick(r(1), &sdo));
                    }
                    "sighting" => {
                        o["sighting_of_ref"] = json!(pick(r(0), &["indicator", "malware"]));
                        if refs.len() > 1 {
                            let w: Vec<String> =
                                refs[1..].iter().map(|x| pick(*x, &["identity"])).collect();
                            o["where_sighted_refs"] = json!(w);
                        }
                    }
                    _ => {
                        let all: Vec<String> =
                            (0..refs.len().max(1)).map(|j| pick(r(j), &KINDS)).collect();
                        o["object_refs"] = json!(all);
                        if kind == "report" {
                            o["name"] = json!("r");
                            o["published"] = json!("2026-01-01T00:00:00Z");
                        } else {
                            o["context"] = json!("unspecified");
                        }
                    }
                }
                let mut access = ObjectAccess {
                    tlp: *tlp,
                    pap: *pap,
                    producer: org(*producer),
                    shared_with: vec![],
                    recipients: vec![],
                    granular: vec![],
                    confined: false,
                    submission: false,
                    origin_peer: None,
                };
                if let Some(g) = granular {
                    o["description"] = json!("d");
                    o["granular_markings"] = json!([{
                        "marking_ref": g.marking_definition_id(), "selectors": ["description"]}]);
                    access.granular.push(GranularTlp {
                        tlp: *g,
                        selectors: vec!["description".into()],
                    });
                }
                let refs = crate::domain::stix::references::referenced_ids(&o);
                Obj {
                    access,
                    text: Sealed::new(o.to_string()),
                    json: o,
                    id,
                    refs,
                }
            })
            .collect()
    }

    fn arb_spec() -> impl Strategy<Value = Spec> {
        (
            0..KINDS.len(),
            prop::sample::select(Tlp::ALL.to_vec()),
            prop::option::of(prop::sample::select(Pap::ALL.to_vec())),
            0u8..3,
            prop::collection::vec(0usize..40, 0..4),
            prop::option::of(prop::sample::select(Tlp::ALL.to_vec())),
        )
    }

    fn arb_reader() -> impl Strategy<Value = Reader> {
        (
            prop::sample::select(PrincipalKind::ALL.to_vec()),
            0u8..3,
            prop::option::of(prop::sample::select(Tlp::ALL.to_vec())),
        )
            .prop_map(|(kind, o, max)| Reader {
                principal: PrincipalId::from_stored(format!("principal--{o}")),
                kind,
                organisation: org(o),
                peer_max_tlp: if kind == PrincipalKind::Peer {
                    max
                } else {
                    None
                },
                peer_max_pap: None,
                reshared_from: Vec::new(),
            })
    }

    fn policies() -> Vec<MarkingPolicy> {
        let shipped = crate::domain::markings::policy::SHIPPED;
        vec![
            MarkingPolicy::parse(shipped).unwrap_or_else(|e| panic!("{e}")),
            MarkingPolicy::parse(&format!(
                "{shipped}\n[pap.readers]\nred = [\"csirt\", \"producer\"]\namber = [\"producer\", \"shared_with\"]\n"
            ))
            .unwrap_or_else(|e| panic!("{e}")),
        ]
    }

    /// What the reader receives of the universe: each released object as it leaves.
    fn output(policy: &MarkingPolicy, reader: &Reader, universe: &[Obj]) -> Vec<(String, Value)> {
        let set = readable(policy, reader, universe);
        universe
            .iter()
            .filter_map(|o| {
                released_form(policy, reader, o, &set)
                    .map(|form| (o.id.clone(), form.unwrap_or_else(|| o.json.clone())))
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(600))]

        /// Nothing released names an object its reader may not read, nothing above its
        /// clearance is released, and what it may not read changes nothing it receives:
        /// hidden objects, and references to them, look exactly like missing ones.
        #[test]
        fn references_never_leak_and_hidden_objects_change_nothing(
            specs in prop::collection::vec(arb_spec(), 1..12),
            reader in arb_reader(),
        ) {
            let universe = build(&specs);
            for policy in policies() {
                let out = output(&policy, &reader, &universe);
                let released: std::collections::HashSet<&str> =
                    out.iter().map(|(id, _)| id.as_str()).collect();
                for (id, json) in &out {
                    let object = universe.iter().find(|o| &o.id == id).unwrap();
                    prop_assert!(decide(&policy, &reader, &object.access) != Decision::Withhold);
                    for r in references(json) {
                        prop_assert!(released.contains(r.id.as_str()), "{id} names {}", r.id);
                    }
                }
                let visible: Vec<Obj> = universe
                    .iter()
                    .filter(|o| decide(&policy, &reader, &o.access) != Decision::Withhold)
                    .cloned()
                    .collect();
                prop_assert_eq!(&output(&policy, &reader, &visible), &out);
            }
        }
    }
}
