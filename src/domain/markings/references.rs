//! References count (MARKINGS.md): a released object never names an object its reader may not
//! read. Which referenced objects a reader may read depends on their own references in turn
//! (a report lists a relationship whose target is TLP:RED), so it is decided over every
//! candidate at once: the objects of a page and the stored versions, visible by markings,
//! of everything they reference, to a bounded depth.

use std::collections::HashSet;

use super::policy::MarkingPolicy;
use super::release::{Marked, ReadableSet, Reader, released_form};

/// How many hops of references are followed from a page. Anything further counts as
/// unreadable, so the bound can only withhold more, never release more.
pub const MAX_REFERENCE_DEPTH: usize = 6;

/// The ids of `candidates` that `reader` may read: an id is readable when one of its versions
/// would be released, judged against the ids already found readable.
///
/// It is the least fixpoint: an object counts only once what it needs is grounded in objects
/// that count, so references in a cycle never vouch for each other, and the answer is the same
/// whatever the order of the candidates. Removing references never makes an invalid object
/// valid, so the rule is monotone and the iteration stops.
pub fn readable<T: Marked>(
    policy: &MarkingPolicy,
    reader: &Reader,
    candidates: &[T],
) -> ReadableSet {
    let mut set = ReadableSet::default();
    let mut pending: Vec<&T> = candidates
        .iter()
        .filter(|c| {
            super::release::decide(policy, reader, c.access()) != super::release::Decision::Withhold
        })
        .collect();
    loop {
        // Cheap rounds first: objects whose references are all readable already are released
        // without looking at their JSON.
        loop {
            let before = pending.len();
            pending.retain(|c| {
                let all_readable = c.references().iter().all(|id| set.contains(id));
                if all_readable && released_form(policy, reader, *c, &set).is_some() {
                    set.insert(c.stix_id());
                    false
                } else {
                    !set.contains(c.stix_id())
                }
            });
            if pending.len() == before {
                break;
            }
        }
        // Then the objects that would lose some references: released if what is left stands.
        let mut grew = false;
        let mut known: HashSet<&str> = HashSet::new();
        pending.retain(|c| {
            if set.contains(c.stix_id()) || known.contains(c.stix_id()) {
                return false;
            }
            if released_form(policy, reader, *c, &set).is_some() {
                known.insert(c.stix_id());
                grew = true;
                false
            } else {
                true
            }
        });
        for id in known {
            set.insert(id);
        }
        if !grew {
            return set;
        }
    }
}
