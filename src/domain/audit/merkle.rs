//! The Merkle tree of RFC 9162 §2.1 over the entries' canonical bytes: its root (MTH), an
//! append-only frontier for the writer, and inclusion and consistency proofs with their
//! verification.
//!
//! Leaves and interior nodes are hashed with different prefixes (0x00 and 0x01), so no
//! interior node can be presented as an entry: its 64-byte preimage hashes to something else
//! as a leaf. Verification takes the sizes as well as the hashes, and the shape of the tree is
//! a function of its size, so a proof of the wrong length is refused before any hashing.

use ring::digest::{Context, SHA256};

/// A SHA-256 value: a leaf hash, an interior node or a root.
pub type Hash = [u8; 32];

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf index {index} is not below the tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("the proof has {got} hashes where {expected} are expected")]
    WrongPathLength { expected: usize, got: usize },
    #[error("a consistency proof from the empty tree proves nothing")]
    FromEmptyTree,
    #[error("old tree size {old} is larger than the new size {new}")]
    OldLargerThanNew { old: u64, new: u64 },
    #[error("the proof does not lead to the expected root")]
    RootMismatch,
    /// Building a proof: the tree size asked for is larger than the leaves given.
    #[error("tree size {size} is beyond the {available} leaves given")]
    NotEnoughLeaves { size: u64, available: u64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a frontier of a tree of size {size} has {expected} hashes, not {got}")]
pub struct BadFrontier {
    pub size: u64,
    pub expected: usize,
    pub got: usize,
}

/// `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut ctx = Context::new(&SHA256);
    ctx.update(&[0x00]);
    ctx.update(data);
    finish(ctx)
}

/// [`leaf_hash`] of data given in pieces, for entries read as a stream.
#[derive(Clone)]
pub struct LeafHasher(Context);

impl Default for LeafHasher {
    fn default() -> Self {
        let mut ctx = Context::new(&SHA256);
        ctx.update(&[0x00]);
        Self(ctx)
    }
}

impl LeafHasher {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    pub fn finish(self) -> Hash {
        finish(self.0)
    }
}

/// `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut ctx = Context::new(&SHA256);
    ctx.update(&[0x01]);
    ctx.update(left);
    ctx.update(right);
    finish(ctx)
}

/// The root of the empty tree: SHA-256 of the empty string.
pub fn empty_root() -> Hash {
    finish(Context::new(&SHA256))
}

fn finish(ctx: Context) -> Hash {
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// The largest power of two strictly below `n` (n ≥ 2): where MTH splits a tree of size n.
pub fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

fn as_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// MTH over leaf hashes (RFC 9162 §2.1.1).
pub fn root(leaves: &[Hash]) -> Hash {
    let mut range = CompactRange::new();
    for leaf in leaves {
        range.push(*leaf);
    }
    range.root()
}

/// Recursive MTH, for proofs over sub-ranges; `leaves` is never empty here.
fn subtree(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => empty_root(),
        [one] => *one,
        _ => {
            let (l, r) = leaves.split_at(split_len(leaves.len()));
            node_hash(&subtree(l), &subtree(r))
        }
    }
}

fn split_len(n: usize) -> usize {
    usize::try_from(split(as_u64(n))).unwrap_or(n / 2)
}

/// The right edge of a growing tree: one hash per perfect subtree, largest first (one per set
/// bit of the size). Appending is O(log n) and needs no earlier leaf, so the writer never
/// re-reads the log; persisting `size` and `frontier` lets it resume.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompactRange {
    size: u64,
    frontier: Vec<Hash>,
}

impl CompactRange {
    pub fn new() -> Self {
        Self::default()
    }

    /// A range saved earlier with [`CompactRange::size`] and [`CompactRange::frontier`].
    pub fn from_frontier(size: u64, frontier: Vec<Hash>) -> Result<Self, BadFrontier> {
        let expected = size.count_ones() as usize;
        if frontier.len() != expected {
            return Err(BadFrontier {
                size,
                expected,
                got: frontier.len(),
            });
        }
        Ok(Self { size, frontier })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn frontier(&self) -> &[Hash] {
        &self.frontier
    }

    /// Appends one leaf hash ([`leaf_hash`] of the entry's canonical bytes).
    pub fn push(&mut self, leaf: Hash) {
        let mut hash = leaf;
        let mut size = self.size;
        // Like a binary counter: each trailing 1 bit of the size is a perfect subtree of the
        // same height as the one being carried, and merges with it.
        while size & 1 == 1 {
            match self.frontier.pop() {
                Some(left) => hash = node_hash(&left, &hash),
                None => break,
            }
            size >>= 1;
        }
        self.frontier.push(hash);
        self.size += 1;
    }

    /// MTH of the leaves pushed so far: the perfect subtrees folded from the smallest up,
    /// which is how MTH's largest-power-of-two split decomposes the size.
    pub fn root(&self) -> Hash {
        let mut hashes = self.frontier.iter().rev();
        let Some(first) = hashes.next() else {
            return empty_root();
        };
        hashes.fold(*first, |acc, left| node_hash(left, &acc))
    }
}

fn leaves_for(leaves: &[Hash], size: u64) -> Result<&[Hash], ProofError> {
    let available = as_u64(leaves.len());
    if size > available {
        return Err(ProofError::NotEnoughLeaves { size, available });
    }
    Ok(leaves
        .get(..usize::try_from(size).unwrap_or(usize::MAX))
        .unwrap_or(leaves))
}

/// The audit path of leaf `index` in the tree of the first `size` leaves (RFC 9162 §2.1.3.1),
/// nearest the leaf first.
pub fn inclusion_proof(leaves: &[Hash], index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let tree = leaves_for(leaves, size)?;
    let mut proof = Vec::new();
    path(index, tree, &mut proof);
    Ok(proof)
}

fn path(m: u64, tree: &[Hash], proof: &mut Vec<Hash>) {
    if tree.len() <= 1 {
        return;
    }
    let k = split_len(tree.len());
    let (left, right) = tree.split_at(k);
    if m < as_u64(k) {
        path(m, left, proof);
        proof.push(subtree(right));
    } else {
        path(m - as_u64(k), right, proof);
        proof.push(subtree(left));
    }
}

/// The proof that the tree of `old_size` leaves is a prefix of the tree of `new_size`
/// (RFC 9162 §2.1.4.1). Empty when the sizes are equal.
pub fn consistency_proof(
    leaves: &[Hash],
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Hash>, ProofError> {
    if old_size == 0 {
        return Err(ProofError::FromEmptyTree);
    }
    if old_size > new_size {
        return Err(ProofError::OldLargerThanNew {
            old: old_size,
            new: new_size,
        });
    }
    let tree = leaves_for(leaves, new_size)?;
    let mut proof = Vec::new();
    subproof(old_size, tree, true, &mut proof);
    Ok(proof)
}

fn subproof(m: u64, tree: &[Hash], complete: bool, proof: &mut Vec<Hash>) {
    let n = as_u64(tree.len());
    if m == n {
        if !complete {
            proof.push(subtree(tree));
        }
        return;
    }
    let k = split_len(tree.len());
    let (left, right) = tree.split_at(k);
    if m <= as_u64(k) {
        subproof(m, left, complete, proof);
        proof.push(subtree(right));
    } else {
        subproof(m - as_u64(k), right, false, proof);
        proof.push(subtree(left));
    }
}

/// How many hashes an inclusion proof for `index` in a tree of `size` has: the levels below
/// where the paths of `index` and of the last leaf part, plus one for each perfect subtree to
/// the left above that.
fn inclusion_length(index: u64, size: u64) -> usize {
    let inner = (64 - (index ^ (size - 1)).leading_zeros()) as usize;
    let border = (index >> inner).count_ones() as usize;
    inner + border
}

/// Checks that `leaf` (a [`leaf_hash`]) is leaf `index` of the tree of `size` leaves whose
/// root is `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let expected = inclusion_length(index, size);
    if proof.len() != expected {
        return Err(ProofError::WrongPathLength {
            expected,
            got: proof.len(),
        });
    }
    let mut fn_ = index;
    let mut sn = size - 1;
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(ProofError::RootMismatch);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn == 0 && r == *root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// [`verify_inclusion`] of an entry given by its canonical bytes: the form to use when the
/// entry comes from someone else, since it cannot be an interior node in disguise.
pub fn verify_entry_inclusion(
    entry: &[u8],
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    verify_inclusion(&leaf_hash(entry), index, size, proof, root)
}

/// How many hashes a consistency proof from `old` to `new` (0 < old < new) has.
fn consistency_length(old: u64, new: u64) -> usize {
    let level = old.trailing_zeros();
    let index = (old - 1) >> level;
    let seed = usize::from(index != 0);
    seed + inclusion_length(index, ((new - 1) >> level) + 1)
}

/// Checks that the tree of `old_size` leaves with root `old_root` is a prefix of the tree of
/// `new_size` leaves with root `new_root` (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size == 0 {
        return Err(ProofError::FromEmptyTree);
    }
    if old_size > new_size {
        return Err(ProofError::OldLargerThanNew {
            old: old_size,
            new: new_size,
        });
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofError::WrongPathLength {
                expected: 0,
                got: proof.len(),
            });
        }
        return if old_root == new_root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    let expected = consistency_length(old_size, new_size);
    if proof.len() != expected {
        return Err(ProofError::WrongPathLength {
            expected,
            got: proof.len(),
        });
    }
    // Step 2: when the old tree is a perfect subtree, its root is the first node of the path.
    let mut path: Vec<&Hash> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(old_root);
    }
    path.extend(proof);
    let mut fn_ = old_size - 1;
    let mut sn = new_size - 1;
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let Some((first, rest)) = path.split_first() else {
        return Err(ProofError::RootMismatch);
    };
    let mut fr = **first;
    let mut sr = **first;
    for c in rest {
        if sn == 0 {
            return Err(ProofError::RootMismatch);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if fr == *old_root && sr == *new_root && sn == 0 {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// A subtree of the log: leaves `start..start + len`.
pub type Span = (u64, u64);

/// The subtrees whose hashes form the inclusion proof of leaf `index` in the tree of `size`
/// leaves, in proof order: what [`inclusion_proof`] hashes, without needing the leaves, so
/// that a store can answer each from precomputed subtree roots.
pub fn inclusion_spans(index: u64, size: u64) -> Result<Vec<Span>, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut out = Vec::new();
    path_spans(index, 0, size, &mut out);
    Ok(out)
}

fn path_spans(m: u64, start: u64, len: u64, out: &mut Vec<Span>) {
    if len <= 1 {
        return;
    }
    let k = split(len);
    if m < k {
        path_spans(m, start, k, out);
        out.push((start + k, len - k));
    } else {
        path_spans(m - k, start + k, len - k, out);
        out.push((start, k));
    }
}

/// The subtrees whose hashes form the consistency proof from `old_size` to `new_size`, in
/// proof order (see [`inclusion_spans`]).
pub fn consistency_spans(old_size: u64, new_size: u64) -> Result<Vec<Span>, ProofError> {
    if old_size == 0 {
        return Err(ProofError::FromEmptyTree);
    }
    if old_size > new_size {
        return Err(ProofError::OldLargerThanNew {
            old: old_size,
            new: new_size,
        });
    }
    let mut out = Vec::new();
    subproof_spans(old_size, 0, new_size, true, &mut out);
    Ok(out)
}

fn subproof_spans(m: u64, start: u64, len: u64, complete: bool, out: &mut Vec<Span>) {
    if m == len {
        if !complete {
            out.push((start, len));
        }
        return;
    }
    let k = split(len);
    if m <= k {
        subproof_spans(m, start, k, complete, out);
        out.push((start + k, len - k));
    } else {
        subproof_spans(m - k, start + k, len - k, false, out);
        out.push((start, k));
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn spans_name_exactly_the_subtrees_the_proofs_hash() {
        let leaves: Vec<Hash> = (0u32..300).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let hash = |(start, len): Span| subtree(&leaves[start as usize..(start + len) as usize]);
        for size in 1..=leaves.len() as u64 {
            for index in (0..size).step_by(7) {
                let spans = inclusion_spans(index, size).unwrap();
                let proof = inclusion_proof(&leaves, index, size).unwrap();
                assert_eq!(spans.into_iter().map(hash).collect::<Vec<_>>(), proof);
            }
            for old in (1..=size).step_by(11) {
                let spans = consistency_spans(old, size).unwrap();
                let proof = consistency_proof(&leaves, old, size).unwrap();
                assert_eq!(spans.into_iter().map(hash).collect::<Vec<_>>(), proof);
            }
        }
        assert!(inclusion_spans(5, 5).is_err());
        assert!(consistency_spans(0, 5).is_err());
        assert!(consistency_spans(6, 5).is_err());
    }

    use super::*;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn domain_separation_and_empty_root() {
        assert_eq!(
            hex::encode(empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        // SHA-256 of the single byte 0x00: the leaf hash of empty data.
        assert_eq!(
            hex::encode(leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        let mut pieces = LeafHasher::new();
        pieces.update(b"audit ");
        pieces.update(b"entry");
        assert_eq!(pieces.finish(), leaf_hash(b"audit entry"));
        let (a, b) = (leaf_hash(b"a"), leaf_hash(b"b"));
        let mut concat = a.to_vec();
        concat.extend_from_slice(&b);
        assert_ne!(node_hash(&a, &b), leaf_hash(&concat));
    }

    #[test]
    fn compact_range_agrees_with_recursive_mth_and_resumes() {
        let all = leaves(130);
        let mut range = CompactRange::new();
        assert_eq!(range.root(), empty_root());
        for n in 1..=all.len() {
            range.push(all[n - 1]);
            assert_eq!(range.size(), n as u64);
            assert_eq!(range.frontier().len(), (n as u64).count_ones() as usize);
            assert_eq!(range.root(), subtree(&all[..n]), "size {n}");
            assert_eq!(root(&all[..n]), range.root());
        }
        let saved = CompactRange::from_frontier(range.size(), range.frontier().to_vec()).unwrap();
        assert_eq!(saved, range);
        assert!(CompactRange::from_frontier(3, vec![[0; 32]]).is_err());
    }

    #[test]
    fn every_proof_up_to_64_leaves_round_trips() {
        let all = leaves(64);
        let roots: Vec<Hash> = (0..=64).map(|n| root(&all[..n])).collect();
        for size in 1..=64u64 {
            let r = roots[size as usize];
            for index in 0..size {
                let proof = inclusion_proof(&all, index, size).unwrap();
                assert_eq!(proof.len(), inclusion_length(index, size));
                verify_inclusion(&all[index as usize], index, size, &proof, &r).unwrap();
                // Another leaf, another index, another root: refused.
                let other = (index + 1) % size;
                if other != index {
                    assert_eq!(
                        verify_inclusion(&all[other as usize], index, size, &proof, &r),
                        Err(ProofError::RootMismatch)
                    );
                }
                assert!(
                    verify_inclusion(&all[index as usize], index, size, &proof, &roots[0]).is_err()
                );
            }
            for old in 1..=size {
                let proof = consistency_proof(&all, old, size).unwrap();
                if old < size {
                    assert_eq!(proof.len(), consistency_length(old, size), "{old} {size}");
                }
                let old_root = roots[old as usize];
                verify_consistency(old, size, &old_root, &r, &proof).unwrap();
                if old < size {
                    assert_eq!(
                        verify_consistency(old, size, &roots[old as usize - 1], &r, &proof),
                        Err(ProofError::RootMismatch),
                        "{old} {size}"
                    );
                    assert!(
                        verify_consistency(old, size, &old_root, &roots[size as usize - 1], &proof)
                            .is_err()
                    );
                }
            }
        }
    }

    #[test]
    fn malformed_inclusion_proofs_are_refused() {
        let all = leaves(10);
        let r = root(&all);
        let proof = inclusion_proof(&all, 3, 10).unwrap();
        assert_eq!(
            verify_inclusion(&all[3], 10, 10, &proof, &r),
            Err(ProofError::IndexOutOfRange {
                index: 10,
                size: 10
            })
        );
        assert_eq!(
            verify_inclusion(&all[3], 11, 10, &proof, &r),
            Err(ProofError::IndexOutOfRange {
                index: 11,
                size: 10
            })
        );
        assert!(matches!(
            verify_inclusion(&all[3], 0, 0, &[], &empty_root()),
            Err(ProofError::IndexOutOfRange { .. })
        ));
        let mut longer = proof.clone();
        longer.push(r);
        assert_eq!(
            verify_inclusion(&all[3], 3, 10, &longer, &r),
            Err(ProofError::WrongPathLength {
                expected: proof.len(),
                got: proof.len() + 1
            })
        );
        assert!(matches!(
            verify_inclusion(&all[3], 3, 10, &proof[1..], &r),
            Err(ProofError::WrongPathLength { .. })
        ));
        assert!(matches!(
            verify_inclusion(&all[3], 3, 10, &[], &r),
            Err(ProofError::WrongPathLength { .. })
        ));
        let mut edited = proof.clone();
        edited[1][0] ^= 1;
        assert_eq!(
            verify_inclusion(&all[3], 3, 10, &edited, &r),
            Err(ProofError::RootMismatch)
        );
        assert_eq!(
            inclusion_proof(&all, 10, 10),
            Err(ProofError::IndexOutOfRange {
                index: 10,
                size: 10
            })
        );
        assert_eq!(
            inclusion_proof(&all, 3, 11),
            Err(ProofError::NotEnoughLeaves {
                size: 11,
                available: 10
            })
        );
    }

    #[test]
    fn malformed_consistency_proofs_are_refused() {
        let all = leaves(10);
        let (r6, r10) = (root(&all[..6]), root(&all));
        let proof = consistency_proof(&all, 6, 10).unwrap();
        verify_consistency(6, 10, &r6, &r10, &proof).unwrap();
        assert_eq!(
            verify_consistency(0, 10, &empty_root(), &r10, &proof),
            Err(ProofError::FromEmptyTree)
        );
        assert_eq!(
            verify_consistency(0, 0, &empty_root(), &empty_root(), &[]),
            Err(ProofError::FromEmptyTree)
        );
        assert_eq!(
            consistency_proof(&all, 0, 10),
            Err(ProofError::FromEmptyTree)
        );
        assert_eq!(
            verify_consistency(10, 6, &r10, &r6, &proof),
            Err(ProofError::OldLargerThanNew { old: 10, new: 6 })
        );
        assert_eq!(
            consistency_proof(&all, 10, 6),
            Err(ProofError::OldLargerThanNew { old: 10, new: 6 })
        );
        assert!(matches!(
            verify_consistency(6, 10, &r6, &r10, &proof[1..]),
            Err(ProofError::WrongPathLength { .. })
        ));
        let mut longer = proof.clone();
        longer.push(r10);
        assert!(matches!(
            verify_consistency(6, 10, &r6, &r10, &longer),
            Err(ProofError::WrongPathLength { .. })
        ));
        assert!(matches!(
            verify_consistency(6, 10, &r6, &r10, &[]),
            Err(ProofError::WrongPathLength { .. })
        ));
        // Equal sizes: no proof, and the same root.
        verify_consistency(10, 10, &r10, &r10, &[]).unwrap();
        assert_eq!(
            verify_consistency(10, 10, &r10, &r6, &[]),
            Err(ProofError::RootMismatch)
        );
        assert!(matches!(
            verify_consistency(10, 10, &r10, &r10, &[r10]),
            Err(ProofError::WrongPathLength { .. })
        ));
        // A fork: another sixth leaf, the same proof.
        let mut forked = all.clone();
        forked[5] = leaf_hash(b"forged");
        assert_eq!(
            verify_consistency(6, 10, &root(&forked[..6]), &r10, &proof),
            Err(ProofError::RootMismatch)
        );
    }

    /// Interior nodes of a real tree, presented as leaves at every index and size, with every
    /// path that could be cut from the genuine proofs: all refused. And the node's 64-byte
    /// preimage, presented as an entry, hashes to something else.
    #[test]
    fn an_interior_node_cannot_pass_as_a_leaf() {
        let all = leaves(16);
        let full = root(&all);
        let interior = [
            node_hash(&all[0], &all[1]),
            subtree(&all[0..4]),
            subtree(&all[8..16]),
            subtree(&all[0..8]),
        ];
        for node in interior {
            for size in 1..=16u64 {
                let r = root(&all[..size as usize]);
                for index in 0..size {
                    let genuine = inclusion_proof(&all, index, size).unwrap();
                    for cut in 0..=genuine.len() {
                        let result = verify_inclusion(&node, index, size, &genuine[cut..], &r);
                        assert!(result.is_err(), "node at {index}/{size} cut {cut}");
                        assert!(
                            verify_inclusion(&node, index, 16, &genuine[cut..], &full).is_err()
                        );
                    }
                }
            }
        }
        // The node over leaves 0 and 1, claimed as leaf 0 of a one-leaf "tree" whose root the
        // verifier takes from the real log: not the same root.
        assert_eq!(
            verify_inclusion(&interior[0], 0, 1, &[], &root(&all[..1])),
            Err(ProofError::RootMismatch)
        );
        // Its preimage as an entry: leaf hashing separates it from the node.
        let mut preimage = all[0].to_vec();
        preimage.extend_from_slice(&all[1]);
        let proof = inclusion_proof(&all, 0, 8).unwrap();
        // The path of leaf 0 above the first pair proves the pair's node at level 1.
        assert!(verify_entry_inclusion(&preimage, 0, 4, &proof[1..3], &root(&all[..4])).is_err());
        assert!(verify_entry_inclusion(&preimage, 0, 8, &proof, &root(&all[..8])).is_err());
        assert_ne!(leaf_hash(&preimage), interior[0]);
    }
}
