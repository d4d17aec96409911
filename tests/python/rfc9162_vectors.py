#!/usr/bin/env python3
"""RFC 9162 Merkle tree test vectors, computed from the RFC's recursive definitions with
nothing but hashlib: an independent check of relais' iterative implementation.

Leaves are the eight inputs of the RFC 6962 test data used by Certificate Transparency
implementations. Prints JSON: the leaf hashes, the root (MTH) of every prefix of 0..8 leaves,
the inclusion path (PATH, §2.1.3.1) of every leaf in every prefix, and the consistency proof
(PROOF, §2.1.4.1) between every pair of prefixes 1 <= m <= n <= 8.
"""

import hashlib
import json

LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]


def sha256(data):
    return hashlib.sha256(data).digest()


def split(n):
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d):
    """MTH(D[n]), §2.1.1, over the leaf inputs themselves."""
    n = len(d)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return sha256(b"\x00" + d[0])
    k = split(n)
    return sha256(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m, d):
    """PATH(m, D[n]), §2.1.3.1."""
    n = len(d)
    if n == 1:
        return []
    k = split(n)
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m, d, b):
    """SUBPROOF(m, D[n], b), §2.1.4.1."""
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = split(n)
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def main():
    hexes = lambda hs: [h.hex() for h in hs]
    out = {
        "leaves": [leaf.hex() for leaf in LEAVES],
        "leaf_hashes": [sha256(b"\x00" + leaf).hex() for leaf in LEAVES],
        "roots": [mth(LEAVES[:n]).hex() for n in range(len(LEAVES) + 1)],
        "inclusion": [
            {"index": m, "size": n, "path": hexes(path(m, LEAVES[:n]))}
            for n in range(1, len(LEAVES) + 1)
            for m in range(n)
        ],
        "consistency": [
            {"old": m, "new": n, "path": hexes(subproof(m, LEAVES[:n], True))}
            for n in range(1, len(LEAVES) + 1)
            for m in range(1, n + 1)
        ],
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
