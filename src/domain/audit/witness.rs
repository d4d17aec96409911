//! What a witness decides about a peer's checkpoint: cosign it, skip it (already cosigned),
//! or raise an alarm. A log that shows two roots for one size, shrinks, or whose new
//! checkpoint is not an extension of the last one witnessed has been rewritten, or shows
//! different histories to different readers (a split view); the witness then stops
//! cosigning that log until an operator looks.

use super::checkpoint::Checkpoint;
use super::merkle::{Hash, verify_consistency};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Alarm {
    #[error("the log's origin changed from {expected:?} to {shown:?}")]
    OriginChanged { expected: String, shown: String },
    #[error("two different roots for size {size} (a fork)")]
    Fork { size: u64 },
    #[error("the log shrank from {from} to {to} entries")]
    Shrunk { from: u64, to: u64 },
    #[error("the checkpoint of size {to} does not extend the one of size {from} witnessed")]
    Inconsistent { from: u64, to: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Cosign,
    AlreadyCosigned,
    Alarm(Alarm),
}

/// Judges `shown`, given the origin the policy expects (if it names one), the last checkpoint
/// of that log this witness cosigned, and a consistency proof from it to `shown`. The first
/// checkpoint seen is taken on trust (there is nothing to compare it with).
pub fn judge(
    expected_origin: Option<&str>,
    last: Option<&Checkpoint>,
    shown: &Checkpoint,
    proof: &[Hash],
) -> Verdict {
    let expected = expected_origin.or(last.map(|l| l.origin.as_str()));
    if let Some(expected) = expected
        && expected != shown.origin
    {
        return Verdict::Alarm(Alarm::OriginChanged {
            expected: expected.to_owned(),
            shown: shown.origin.clone(),
        });
    }
    let Some(last) = last else {
        return Verdict::Cosign;
    };
    if shown.size < last.size {
        return Verdict::Alarm(Alarm::Shrunk {
            from: last.size,
            to: shown.size,
        });
    }
    if shown.size == last.size {
        return if shown.root == last.root {
            Verdict::AlreadyCosigned
        } else {
            Verdict::Alarm(Alarm::Fork { size: shown.size })
        };
    }
    // An empty tree is a prefix of every tree: nothing to prove.
    if last.size == 0 {
        return Verdict::Cosign;
    }
    match verify_consistency(last.size, shown.size, &last.root, &shown.root, proof) {
        Ok(()) => Verdict::Cosign,
        Err(_) => Verdict::Alarm(Alarm::Inconsistent {
            from: last.size,
            to: shown.size,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::audit::merkle::{consistency_proof, leaf_hash, root};

    fn leaves(n: u64, salt: &str) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("{salt}{i}").as_bytes()))
            .collect()
    }

    fn head(leaves: &[Hash]) -> Checkpoint {
        Checkpoint {
            origin: "hub-a/audit".into(),
            size: leaves.len() as u64,
            root: root(leaves),
        }
    }

    #[test]
    fn an_extension_is_cosigned_and_a_repeat_skipped() {
        let all = leaves(13, "e");
        let old = head(&all[..5]);
        let new = head(&all);
        let proof = consistency_proof(&all, 5, 13).unwrap();
        assert_eq!(judge(None, None, &old, &[]), Verdict::Cosign);
        assert_eq!(
            judge(Some("hub-a/audit"), Some(&old), &new, &proof),
            Verdict::Cosign
        );
        assert_eq!(judge(None, Some(&new), &new, &[]), Verdict::AlreadyCosigned);
    }

    #[test]
    fn forks_shrinks_rewrites_and_renames_raise_alarms() {
        let all = leaves(13, "e");
        let old = head(&all[..5]);
        let mut rewritten = all.clone();
        rewritten[2] = leaf_hash(b"rewritten");
        let forked = head(&rewritten[..5]);
        assert_eq!(
            judge(None, Some(&old), &forked, &[]),
            Verdict::Alarm(Alarm::Fork { size: 5 })
        );
        assert_eq!(
            judge(None, Some(&head(&all)), &old, &[]),
            Verdict::Alarm(Alarm::Shrunk { from: 13, to: 5 })
        );
        // The rewritten log's proof is consistent with itself, not with what was witnessed.
        let proof = consistency_proof(&rewritten, 5, 13).unwrap();
        assert_eq!(
            judge(None, Some(&old), &head(&rewritten), &proof),
            Verdict::Alarm(Alarm::Inconsistent { from: 5, to: 13 })
        );
        let mut renamed = head(&all);
        renamed.origin = "elsewhere/audit".into();
        assert!(matches!(
            judge(None, Some(&old), &renamed, &[]),
            Verdict::Alarm(Alarm::OriginChanged { .. })
        ));
        assert!(matches!(
            judge(Some("hub-a/audit"), None, &renamed, &[]),
            Verdict::Alarm(Alarm::OriginChanged { .. })
        ));
    }
}
