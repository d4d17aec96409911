//! Removing parts of a STIX object without breaking it: properties, list items, and the
//! granular markings that point into what moved or went.
//!
//! Paths are written as STIX granular-marking selectors (`description`,
//! `external_references.[1].url`). List items are removed, not blanked (`[null]` is not STIX),
//! so the selectors of the granular markings that stay are renumbered to follow their items: a
//! marking must never end up on a neighbour, or the reader would take a restricted field for an
//! unrestricted one. A list left empty goes with its property (STIX forbids empty lists).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// One step of a path: a property name or a list position.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Segment {
    Key(String),
    Index(usize),
}

pub type Path = Vec<Segment>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed selector {0:?}")]
pub struct BadSelector(pub String);

/// Parses a granular-marking selector (`a.b.[0].c`).
pub fn parse_selector(selector: &str) -> Result<Path, BadSelector> {
    let bad = || BadSelector(selector.chars().take(80).collect());
    let mut path = Vec::new();
    for (i, part) in selector.split('.').enumerate() {
        match part.strip_prefix('[').and_then(|p| p.strip_suffix(']')) {
            // A selector starts with a property: a list position needs a list before it.
            Some(_) if i == 0 => return Err(bad()),
            Some(n) => path.push(Segment::Index(n.parse().map_err(|_| bad())?)),
            None if part.is_empty() => return Err(bad()),
            None => path.push(Segment::Key(part.to_owned())),
        }
    }
    if path.is_empty() {
        return Err(bad());
    }
    Ok(path)
}

/// Writes a path back as a selector.
pub fn selector(path: &[Segment]) -> String {
    let parts: Vec<String> = path
        .iter()
        .map(|s| match s {
            Segment::Key(k) => k.clone(),
            Segment::Index(i) => format!("[{i}]"),
        })
        .collect();
    parts.join(".")
}

fn get_mut<'a>(mut node: &'a mut Value, path: &[Segment]) -> Option<&'a mut Value> {
    for segment in path {
        node = match segment {
            Segment::Key(k) => node.as_object_mut()?.get_mut(k)?,
            Segment::Index(i) => node.as_array_mut()?.get_mut(*i)?,
        };
    }
    Some(node)
}

/// Parts of one object to remove, all given in the object's own (original) positions.
#[derive(Debug, Clone, Default)]
pub struct Pruning {
    paths: BTreeSet<Path>,
}

impl Pruning {
    pub fn remove(&mut self, path: Path) {
        self.paths.insert(path);
    }

    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// Removes every part named (a part already gone with an enclosing one is nothing to do),
    /// then renumbers or drops the selectors of the remaining granular markings.
    pub fn apply(&self, object: &mut Value) {
        // Only the outermost of nested removals matters.
        let paths: Vec<&Path> = self
            .paths
            .iter()
            .filter(|p| {
                !self
                    .paths
                    .iter()
                    .any(|q| q.len() < p.len() && p.starts_with(q))
            })
            .collect();
        let mut removed_keys: BTreeSet<Path> = BTreeSet::new();
        let mut removed_items: BTreeMap<Path, BTreeSet<usize>> = BTreeMap::new();
        for path in paths {
            let Some((last, parent)) = path.split_last() else {
                continue;
            };
            match last {
                Segment::Key(k) => {
                    // Keys first: list positions are still the original ones.
                    if let Some(Value::Object(map)) = get_mut(object, parent)
                        && map.remove(k).is_some()
                    {
                        removed_keys.insert(path.clone());
                    }
                }
                Segment::Index(i) => {
                    removed_items.entry(parent.to_vec()).or_default().insert(*i);
                }
            }
        }
        // Deepest lists first, so that the positions on the way to each are still original.
        let mut lists: Vec<(&Path, &BTreeSet<usize>)> = removed_items.iter().collect();
        lists.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        for (list, gone) in lists {
            let Some(Value::Array(items)) = get_mut(object, list) else {
                continue;
            };
            let mut position = 0;
            items.retain(|_| {
                let keep = !gone.contains(&position);
                position += 1;
                keep
            });
            if items.is_empty()
                && let Some((Segment::Key(k), parent)) = list.split_last()
                && let Some(Value::Object(map)) = get_mut(object, parent)
            {
                map.remove(k);
                removed_keys.insert(list.clone());
            }
        }
        renumber_granular_markings(object, &removed_keys, &removed_items);
    }
}

/// The selector in the pruned object's positions, or `None` if what it selected is gone.
fn moved(
    path: &[Segment],
    removed_keys: &BTreeSet<Path>,
    removed_items: &BTreeMap<Path, BTreeSet<usize>>,
) -> Option<Path> {
    let mut out = Vec::with_capacity(path.len());
    for (depth, segment) in path.iter().enumerate() {
        let original = &path[..=depth];
        if removed_keys.contains(original) {
            return None;
        }
        out.push(match segment {
            Segment::Key(k) => Segment::Key(k.clone()),
            Segment::Index(i) => match removed_items.get(&path[..depth]) {
                Some(gone) if gone.contains(i) => return None,
                Some(gone) => Segment::Index(i - gone.range(..i).count()),
                None => Segment::Index(*i),
            },
        });
    }
    Some(out)
}

fn renumber_granular_markings(
    object: &mut Value,
    removed_keys: &BTreeSet<Path>,
    removed_items: &BTreeMap<Path, BTreeSet<usize>>,
) {
    if removed_keys.is_empty() && removed_items.is_empty() {
        return;
    }
    let Some(Value::Array(markings)) = object.get_mut("granular_markings") else {
        return;
    };
    for marking in markings.iter_mut() {
        let Some(Value::Array(selectors)) = marking.get_mut("selectors") else {
            continue;
        };
        selectors.retain_mut(|s| {
            let Some(text) = s.as_str() else { return true };
            // A malformed selector was refused at ingest; one here is kept as it is and the
            // validation of the result decides.
            let Ok(path) = parse_selector(text) else {
                return true;
            };
            match moved(&path, removed_keys, removed_items) {
                Some(p) => {
                    *s = Value::from(selector(&p));
                    true
                }
                None => false,
            }
        });
    }
    markings.retain(|m| {
        m.get("selectors")
            .and_then(Value::as_array)
            .is_none_or(|s| !s.is_empty())
    });
    if markings.is_empty()
        && let Some(map) = object.as_object_mut()
    {
        map.remove("granular_markings");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn prune(object: &mut Value, selectors: &[&str]) {
        let mut p = Pruning::default();
        for s in selectors {
            p.remove(parse_selector(s).unwrap());
        }
        p.apply(object);
    }

    #[test]
    fn selectors_parse_and_print_back() {
        for s in ["description", "external_references.[1].url", "a.b.[0].[2]"] {
            assert_eq!(selector(&parse_selector(s).unwrap()), s);
        }
        for bad in ["", "[0]", "a..b", "a.[x]", "a.[-1]"] {
            assert!(parse_selector(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn list_items_go_and_the_markings_that_stay_follow_their_items() {
        let red = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
        let amber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
        let mut o = json!({
            "external_references": [{"source_name": "a"}, {"source_name": "b"}, {"source_name": "c"}],
            "granular_markings": [
                {"marking_ref": red, "selectors": ["external_references.[0]"]},
                {"marking_ref": amber, "selectors": ["external_references.[2].source_name", "name"]}
            ],
            "name": "x"
        });
        prune(&mut o, &["external_references.[0]"]);
        assert_eq!(
            o["external_references"],
            json!([{"source_name": "b"}, {"source_name": "c"}])
        );
        assert_eq!(
            o["granular_markings"],
            json!([{"marking_ref": amber, "selectors": ["external_references.[1].source_name", "name"]}])
        );
    }

    #[test]
    fn an_emptied_list_goes_with_its_property_and_its_markings() {
        let amber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
        let mut o = json!({
            "where_sighted_refs": ["identity--1", "identity--2"],
            "granular_markings": [{"marking_ref": amber, "selectors": ["where_sighted_refs.[1]"]}],
            "count": 2
        });
        prune(
            &mut o,
            &["where_sighted_refs.[0]", "where_sighted_refs.[1]"],
        );
        assert_eq!(o, json!({"count": 2}));
    }

    #[test]
    fn nested_removals_and_missing_parts_are_harmless() {
        let mut o = json!({"a": {"b": [1, 2, 3]}, "c": 1});
        prune(&mut o, &["a", "a.b.[1]", "nothing.[3]", "c"]);
        assert_eq!(o, json!({}));
        let mut o = json!({"l": [[1, 2], [3, 4]]});
        prune(&mut o, &["l.[0].[0]", "l.[1]"]);
        assert_eq!(o, json!({"l": [[2]]}));
    }
}
