//! The audit log from outside: RFC 9162 vectors computed independently (a stdlib-only Python
//! script, and the roots and proofs published with Certificate Transparency's test data), and
//! `relais audit verify` run as a user runs it on an export, intact and after each way of
//! tampering with it.

use std::path::{Path, PathBuf};
use std::process::Command;

use relais::crypto::openpgp::AuditKey;
use relais::domain::audit::checkpoint::{Checkpoint, SignedCheckpoint};
use relais::domain::audit::entry::{Actor, AuditEntry, Decision, parse_canonical};
use relais::domain::audit::merkle::{
    CompactRange, Hash, consistency_proof, inclusion_proof, leaf_hash, root, verify_consistency,
    verify_inclusion,
};
use relais::services::audit_verify::{
    CHECKPOINTS_DIR, ENTRIES_FILE, PUBLIC_KEY_FILE, checkpoint_file_name, write_export,
};
use serde_json::Value;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::common::have;

// ---------------------------------------------------------------------------------------------
// RFC 9162 vectors.

const VECTORS_SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/python/rfc9162_vectors.py"
);

/// The RFC 6962 reference leaves used by Certificate Transparency implementations.
const CT_LEAVES: [&[u8]; 8] = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
];

/// The published roots of the first 1..=8 of those leaves.
const CT_ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

fn ct_leaf_hashes() -> Vec<Hash> {
    CT_LEAVES.iter().map(|l| leaf_hash(l)).collect()
}

fn hexes(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(hex::encode).collect()
}

fn unhex(text: &str) -> Hash {
    hex::decode(text).unwrap().try_into().unwrap()
}

#[test]
fn audit_merkle_matches_the_published_ct_vectors() {
    let leaves = ct_leaf_hashes();
    for (n, expected) in CT_ROOTS.iter().enumerate() {
        assert_eq!(
            hex::encode(root(&leaves[..=n])),
            *expected,
            "size {}",
            n + 1
        );
    }
    // Proofs published with the same data (leaf index from 0).
    let published_inclusion: [(u64, u64, &[&str]); 3] = [
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            3,
            &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        ),
        (
            1,
            5,
            &[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    for (index, size, path) in published_inclusion {
        let proof = inclusion_proof(&leaves, index, size).unwrap();
        assert_eq!(hexes(&proof), path, "inclusion {index}/{size}");
        verify_inclusion(
            &leaves[index as usize],
            index,
            size,
            &proof,
            &unhex(CT_ROOTS[size as usize - 1]),
        )
        .unwrap();
    }
    let published_consistency: [(u64, u64, &[&str]); 3] = [
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    for (old, new, path) in published_consistency {
        let proof = consistency_proof(&leaves, old, new).unwrap();
        assert_eq!(hexes(&proof), path, "consistency {old}->{new}");
        verify_consistency(
            old,
            new,
            &unhex(CT_ROOTS[old as usize - 1]),
            &unhex(CT_ROOTS[new as usize - 1]),
            &proof,
        )
        .unwrap();
    }
}

#[test]
fn audit_merkle_matches_an_independent_python_implementation() {
    if !have("python3") {
        return;
    }
    let out = Command::new("python3")
        .arg(VECTORS_SCRIPT)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{VECTORS_SCRIPT}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let vectors: Value = serde_json::from_slice(&out.stdout).unwrap();
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect()
    };
    let inputs: Vec<String> = CT_LEAVES.iter().map(hex::encode).collect();
    assert_eq!(strings(&vectors["leaves"]), inputs);
    let leaves = ct_leaf_hashes();
    assert_eq!(strings(&vectors["leaf_hashes"]), hexes(&leaves));

    let roots = strings(&vectors["roots"]);
    assert_eq!(roots.len(), 9);
    for (n, expected) in roots.iter().enumerate() {
        assert_eq!(&hex::encode(root(&leaves[..n])), expected, "root of {n}");
    }
    assert_eq!(roots[8], CT_ROOTS[7]);

    let inclusion = vectors["inclusion"].as_array().unwrap();
    assert_eq!(inclusion.len(), 36);
    for case in inclusion {
        let (index, size) = (
            case["index"].as_u64().unwrap(),
            case["size"].as_u64().unwrap(),
        );
        let proof = inclusion_proof(&leaves, index, size).unwrap();
        assert_eq!(
            hexes(&proof),
            strings(&case["path"]),
            "inclusion {index}/{size}"
        );
        verify_inclusion(
            &leaves[index as usize],
            index,
            size,
            &proof,
            &unhex(&roots[size as usize]),
        )
        .unwrap();
    }

    let consistency = vectors["consistency"].as_array().unwrap();
    assert_eq!(consistency.len(), 36);
    for case in consistency {
        let (old, new) = (case["old"].as_u64().unwrap(), case["new"].as_u64().unwrap());
        let proof = consistency_proof(&leaves, old, new).unwrap();
        assert_eq!(
            hexes(&proof),
            strings(&case["path"]),
            "consistency {old}->{new}"
        );
        verify_consistency(
            old,
            new,
            &unhex(&roots[old as usize]),
            &unhex(&roots[new as usize]),
            &proof,
        )
        .unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// `relais audit verify` on a real export.

const ENTRIES: u64 = 200;
const EVERY: u64 = 50;
const ORIGIN: &str = "hub.test.invalid/audit";
const KEY_CREATED: OffsetDateTime = datetime!(2026-01-01 00:00:00 UTC);
const FIRST_ENTRY: OffsetDateTime = datetime!(2026-02-01 08:00:00 UTC);

fn entry(seq: u64) -> AuditEntry {
    let deny = seq % 7 == 3;
    AuditEntry {
        seq,
        time: FIRST_ENTRY + Duration::seconds(seq as i64),
        actor: Actor {
            principal: format!("principal--{:04}", seq % 5),
            fingerprint: format!("{:064x}", seq % 5),
        },
        action: if seq.is_multiple_of(2) {
            "object.read".into()
        } else {
            "object.write".into()
        },
        objects: vec![format!("indicator--{seq:08}")],
        markings: vec!["TLP:AMBER+STRICT".into()],
        decision: if deny {
            Decision::Deny
        } else {
            Decision::Allow
        },
        // A denied request's reason may carry what the requester sent: escaped, it can
        // neither break the line nor reach a terminal raw.
        reason: if deny {
            "refused \u{1b}[31m\nforged line\u{2028}\u{0}".into()
        } else {
            String::new()
        },
    }
}

/// When the checkpoint of `size` is signed: after its entries, in size order.
fn signed_at(size: u64) -> OffsetDateTime {
    FIRST_ENTRY + Duration::seconds(size as i64) + Duration::milliseconds(500)
}

/// Signed checkpoints of the first `size` entries of `lines` (as they are in the file).
fn checkpoint_of(lines: &[String], size: u64, key: &AuditKey, at: OffsetDateTime) -> String {
    let leaves: Vec<Hash> = lines[..size as usize]
        .iter()
        .map(|l| leaf_hash(l.as_bytes()))
        .collect();
    let checkpoint = Checkpoint {
        origin: ORIGIN.into(),
        size,
        root: root(&leaves),
    };
    SignedCheckpoint::sign(checkpoint, key, at)
        .unwrap()
        .to_text()
}

/// An intact export and, outside it, what an auditor keeps: the hub's public key and copies
/// of two genuine checkpoints.
struct Fixture {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    export: PathBuf,
    trusted_key: PathBuf,
    kept_150: PathBuf,
    kept_200: PathBuf,
    key: AuditKey,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let root_dir = tmp.path().to_owned();
    let key = AuditKey::generate("relais audit test hub", KEY_CREATED).unwrap();
    // What the hub's writer does: a frontier, a checkpoint every EVERY entries.
    let mut tree = CompactRange::new();
    let mut checkpoints = Vec::new();
    for seq in 0..ENTRIES {
        tree.push(leaf_hash(&entry(seq).to_canonical()));
        if tree.size().is_multiple_of(EVERY) {
            let checkpoint = Checkpoint {
                origin: ORIGIN.into(),
                size: tree.size(),
                root: tree.root(),
            };
            checkpoints
                .push(SignedCheckpoint::sign(checkpoint, &key, signed_at(tree.size())).unwrap());
        }
    }
    let export = root_dir.join("export");
    let written = write_export(
        &export,
        (0..ENTRIES).map(entry),
        &checkpoints,
        &key.public_key(),
    )
    .unwrap();
    assert_eq!(written, ENTRIES);
    let trusted_key = root_dir.join("trusted-key.asc");
    std::fs::write(&trusted_key, key.public_armored().unwrap()).unwrap();
    let kept_150 = root_dir.join("kept-150.checkpoint");
    std::fs::write(&kept_150, checkpoints[2].to_text()).unwrap();
    let kept_200 = root_dir.join("kept-200.checkpoint");
    std::fs::write(&kept_200, checkpoints[3].to_text()).unwrap();
    Fixture {
        _tmp: tmp,
        root: root_dir,
        export,
        trusted_key,
        kept_150,
        kept_200,
        key,
    }
}

impl Fixture {
    /// A fresh copy of the intact export, to tamper with.
    fn copy(&self, name: &str) -> PathBuf {
        let to = self.root.join(name);
        std::fs::create_dir_all(to.join(CHECKPOINTS_DIR)).unwrap();
        for file in [ENTRIES_FILE, PUBLIC_KEY_FILE] {
            std::fs::copy(self.export.join(file), to.join(file)).unwrap();
        }
        for item in std::fs::read_dir(self.export.join(CHECKPOINTS_DIR)).unwrap() {
            let item = item.unwrap();
            std::fs::copy(item.path(), to.join(CHECKPOINTS_DIR).join(item.file_name())).unwrap();
        }
        to
    }
}

fn lines(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join(ENTRIES_FILE))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write_lines(dir: &Path, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(dir.join(ENTRIES_FILE), text).unwrap();
}

fn checkpoint_path(dir: &Path, size: u64) -> PathBuf {
    dir.join(CHECKPOINTS_DIR).join(checkpoint_file_name(size))
}

struct Run {
    ok: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Failed, and said each of `expected` on a line of its own (as a prefix).
    fn fails_with(&self, expected: &[&str]) {
        assert!(!self.ok, "verify passed:\n{}\n{}", self.stdout, self.stderr);
        assert_eq!(self.code, Some(1));
        for line in expected {
            assert!(
                self.stdout.lines().any(|l| l.starts_with(line)),
                "missing {line:?} in:\n{}",
                self.stdout
            );
        }
        let last = self.stdout.lines().last().unwrap_or_default();
        assert!(last.starts_with("FAILED: "), "{last}");
        assert!(self.stderr.contains("did not verify"), "{}", self.stderr);
    }

    fn never_says(&self, text: &str) {
        assert!(!self.stdout.contains(text), "{text:?} in:\n{}", self.stdout);
    }

    /// Verified against a key given with `--key`: one line, exit 0.
    fn passes(&self) -> &str {
        assert!(self.ok, "verify failed:\n{}\n{}", self.stdout, self.stderr);
        let lines: Vec<&str> = self.stdout.lines().collect();
        assert_eq!(lines.len(), 1, "{}", self.stdout);
        assert!(lines[0].starts_with("ok: "), "{}", self.stdout);
        lines[0]
    }

    /// Intact against the key the export carries, which nothing pinned: the same summary,
    /// then a last line saying so, and exit status 3.
    fn passes_unpinned(&self) -> &str {
        assert_eq!(self.code, Some(3), "{}\n{}", self.stdout, self.stderr);
        let lines: Vec<&str> = self.stdout.lines().collect();
        assert_eq!(lines.len(), 2, "{}", self.stdout);
        assert!(lines[0].starts_with("ok: "), "{}", self.stdout);
        assert!(lines[1].starts_with("NOT PINNED: "), "{}", self.stdout);
        assert!(self.stderr.contains("not pinned"), "{}", self.stderr);
        lines[0]
    }
}

fn verify(dir: &Path, extra: &[&Path], flags: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_relais"));
    for (name, _) in std::env::vars() {
        if name.starts_with("RELAIS_") || name == "RUST_LOG" {
            cmd.env_remove(name);
        }
    }
    cmd.arg("audit").arg("verify").arg(dir);
    let mut extra = extra.iter();
    for flag in flags {
        cmd.arg(flag);
        if *flag == "--checkpoint" || *flag == "--key" {
            cmd.arg(extra.next().unwrap());
        }
    }
    let out = cmd.output().unwrap();
    Run {
        ok: out.status.success(),
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

const CP50: &str = "checkpoint 00000000000000000050";
const CP100: &str = "checkpoint 00000000000000000100";
const CP150: &str = "checkpoint 00000000000000000150";
const CP200: &str = "checkpoint 00000000000000000200";

#[test]
fn audit_verify_passes_an_intact_export() {
    let f = fixture();
    let text = lines(&f.export);
    assert_eq!(text.len(), ENTRIES as usize);
    // The hostile reason stayed on its line, escaped.
    assert!(text[3].contains("refused \\u001b[31m\\u000aforged line\\u2028\\u0000"));
    assert_eq!(parse_canonical(text[3].as_bytes()).unwrap(), entry(3));

    let run = verify(&f.export, &[], &[]);
    let ok = run.passes_unpinned();
    assert!(
        ok.starts_with("ok: 200 entries, 4 checkpoints, latest size 200 root "),
        "{ok}"
    );
    assert!(ok.contains(&format!("key {} (from the export)", f.key.fingerprint())));
    let run = verify(&f.export, &[&f.trusted_key], &["--key"]);
    assert!(run.passes().contains("(trusted)"));
    // With everything an auditor keeps outside the hub.
    let run = verify(
        &f.export,
        &[&f.trusted_key, &f.kept_150],
        &["--key", "--checkpoint"],
    );
    let ok = run.passes();
    assert!(
        ok.contains("extends the external checkpoint of size 150"),
        "{ok}"
    );
    assert!(ok.contains("(trusted)"), "{ok}");
}

#[test]
fn audit_verify_catches_a_deleted_entry() {
    let f = fixture();
    let dir = f.copy("deleted");
    let mut text = lines(&dir);
    text.remove(17);
    write_lines(&dir, &text);
    let run = verify(&dir, &[], &[]);
    run.fails_with(&[
        "entries.log line 18: seq 18 where 17 is expected (entry missing)",
        &format!("{CP50}: root does not match the first 50 entries"),
        &format!("{CP200}: size 200 but entries.log has only 199 entries (tail truncated)"),
    ]);
}

#[test]
fn audit_verify_catches_two_swapped_entries() {
    let f = fixture();
    let dir = f.copy("swapped");
    let mut text = lines(&dir);
    text.swap(29, 30);
    write_lines(&dir, &text);
    let run = verify(&dir, &[], &[]);
    run.fails_with(&[
        "entries.log line 30: seq 30 where 29 is expected (entry missing)",
        "entries.log line 31: seq 29 where 31 is expected (out of order or repeated)",
        "entries.log line 31: time goes back (2026-02-01T08:00:29.000000Z after \
         2026-02-01T08:00:30.000000Z)",
        &format!("{CP50}: root does not match the first 50 entries"),
        &format!("{CP200}: root does not match the first 200 entries"),
    ]);
    // One swap, two problems in the entries: nothing reported after it.
    run.never_says("line 32");
}

/// The attacker rewrites one entry in canonical form (so every line is well-formed and every
/// hash he could recompute agrees), but cannot sign.
#[test]
fn audit_verify_catches_an_edited_entry() {
    let f = fixture();
    let dir = f.copy("edited");
    let mut text = lines(&dir);
    let mut edited = entry(120);
    edited.action = "object.delete".into();
    text[120] = String::from_utf8(edited.to_canonical()).unwrap();
    write_lines(&dir, &text);
    let run = verify(&dir, &[], &[]);
    run.fails_with(&[
        &format!("{CP150}: root does not match the first 150 entries"),
        &format!("{CP200}: root does not match the first 200 entries"),
    ]);
    // What came before the edit still verifies.
    run.never_says(CP50);
    run.never_says(CP100);
    run.never_says("entries.log");
}

/// The attacker rewrites an entry, replaces the key with his own and re-signs every
/// checkpoint: the export is consistent in itself, and only something kept outside it — the
/// hub's real key, or a genuine checkpoint — shows the forgery.
#[test]
fn audit_verify_catches_a_re_signed_export_with_a_trust_anchor() {
    let f = fixture();
    let dir = f.copy("re-signed");
    let mut text = lines(&dir);
    let mut edited = entry(120);
    edited.reason = "nothing to see".into();
    text[120] = String::from_utf8(edited.to_canonical()).unwrap();
    write_lines(&dir, &text);
    let forger = AuditKey::generate("relais audit test hub", KEY_CREATED).unwrap();
    std::fs::write(dir.join(PUBLIC_KEY_FILE), forger.public_armored().unwrap()).unwrap();
    for size in (EVERY..=ENTRIES).step_by(EVERY as usize) {
        std::fs::write(
            checkpoint_path(&dir, size),
            checkpoint_of(&text, size, &forger, signed_at(size)),
        )
        .unwrap();
    }
    // Alone, the export cannot tell: it names the forger's key, which the summary shows, and
    // the verdict is not "ok" (unpinned_key_verify_exits_distinct_code).
    let run = verify(&dir, &[], &[]);
    assert!(run.passes_unpinned().contains(&forger.fingerprint()));

    let run = verify(&dir, &[&f.trusted_key], &["--key"]);
    run.fails_with(&[
        &format!(
            "key public-key.asc: fingerprint {}, not the trusted key {}",
            forger.fingerprint(),
            f.key.fingerprint()
        ),
        &format!("{CP50}: bad signature"),
        &format!("{CP200}: bad signature"),
    ]);

    // A genuine checkpoint kept elsewhere: not signed by the export's key, and not a prefix
    // of the rewritten log.
    let run = verify(&dir, &[&f.kept_150], &["--checkpoint"]);
    run.fails_with(&[
        "external checkpoint: bad signature",
        "external checkpoint: the log does not extend it (the first 150 entries have another \
         root)",
    ]);
}

/// Point 10 of issue 11: without `--key`, a log rewritten and re-signed with an attacker's key
/// passed with "ok" and exit 0. The checks still run and print as before, but the last line
/// says the key was not pinned and the exit status is 3, neither success nor "problems found".
#[test]
fn unpinned_key_verify_exits_distinct_code() {
    let f = fixture();
    let dir = f.copy("re-signed-unpinned");
    let text = lines(&dir);
    let forger = AuditKey::generate("relais audit test hub", KEY_CREATED).unwrap();
    std::fs::write(dir.join(PUBLIC_KEY_FILE), forger.public_armored().unwrap()).unwrap();
    for size in (EVERY..=ENTRIES).step_by(EVERY as usize) {
        std::fs::write(
            checkpoint_path(&dir, size),
            checkpoint_of(&text, size, &forger, signed_at(size)),
        )
        .unwrap();
    }
    for export in [&dir, &f.export] {
        let run = verify(export, &[], &[]);
        assert!(!run.ok);
        run.passes_unpinned();
        let last = run.stdout.lines().last().unwrap();
        assert!(last.contains("--key"), "{last}");
    }
    // With an external checkpoint but no --key, the key is still the export's own.
    verify(&f.export, &[&f.kept_150], &["--checkpoint"]).passes_unpinned();
    // Problems found keep their own status, with or without --key.
    let broken = f.copy("broken-unpinned");
    std::fs::remove_file(checkpoint_path(&broken, 50)).unwrap();
    let mut text = lines(&broken);
    text.remove(120);
    write_lines(&broken, &text);
    verify(&broken, &[], &[]).fails_with(&[&format!("{CP150}: root does not match")]);
    // The status is documented where users look.
    let help = Command::new(env!("CARGO_BIN_EXE_relais"))
        .args(["audit", "verify", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(help.contains("3 when the export is intact"), "{help}");
    assert!(help.contains("--key"), "{help}");
}

#[test]
fn audit_verify_catches_a_truncated_tail() {
    let f = fixture();
    // Lines dropped, checkpoints kept: the last checkpoint reaches past the end.
    let dir = f.copy("truncated");
    let text = lines(&dir);
    write_lines(&dir, &text[..170]);
    let run = verify(&dir, &[], &[]);
    run.fails_with(&[&format!(
        "{CP200}: size 200 but entries.log has only 170 entries (tail truncated)"
    )]);
    run.never_says(CP150);

    // Lines dropped and the checkpoints past the end deleted: the export is a valid shorter
    // log, and the summary says its last entries are unsigned...
    std::fs::remove_file(checkpoint_path(&dir, 200)).unwrap();
    let run = verify(&dir, &[&f.trusted_key], &["--key"]);
    let ok = run.passes();
    assert!(ok.contains("latest size 150"), "{ok}");
    assert!(ok.contains("(20 later entries not yet signed)"), "{ok}");
    // ...but a checkpoint kept outside the hub proves the log was longer.
    let run = verify(&dir, &[&f.kept_200], &["--checkpoint"]);
    run.fails_with(&[
        "external checkpoint: the log does not extend it (size 200, but the log has only 170 \
         entries)",
    ]);
    // The entry cut mid-line (a crash, or a careless cut) is reported too.
    let dir = f.copy("cut");
    let text = std::fs::read_to_string(dir.join(ENTRIES_FILE)).unwrap();
    std::fs::write(dir.join(ENTRIES_FILE), &text[..text.len() - 10]).unwrap();
    let run = verify(&dir, &[], &[]);
    run.fails_with(&[
        "entries.log line 200: not an audit entry",
        "entries.log line 200: no newline at the end",
        &format!("{CP200}: root does not match the first 200 entries"),
    ]);
}

#[test]
fn audit_verify_catches_a_replaced_signing_key() {
    let f = fixture();
    let dir = f.copy("other-key");
    let other = AuditKey::generate("relais audit test hub", KEY_CREATED).unwrap();
    std::fs::write(dir.join(PUBLIC_KEY_FILE), other.public_armored().unwrap()).unwrap();
    let run = verify(&dir, &[], &[]);
    run.fails_with(&[
        &format!("{CP50}: bad signature"),
        &format!("{CP100}: bad signature"),
        &format!("{CP150}: bad signature"),
        &format!("{CP200}: bad signature"),
    ]);
    run.never_says("root does not match");
    // A file that is no key at all.
    std::fs::write(dir.join(PUBLIC_KEY_FILE), "not a key").unwrap();
    let run = verify(&dir, &[], &[]);
    run.fails_with(&[
        "key public-key.asc: cannot read",
        &format!("{CP50}: signature not checked: no usable key"),
    ]);
}

#[test]
fn audit_verify_catches_forged_checkpoints() {
    let f = fixture();
    let text = lines(&f.export);

    // The body of a genuine checkpoint edited, its signature kept.
    let dir = f.copy("edited-checkpoint");
    let path = checkpoint_path(&dir, 100);
    let genuine = std::fs::read_to_string(&path).unwrap();
    let signed = SignedCheckpoint::parse(&genuine).unwrap();
    let mut forged = signed.clone();
    forged.checkpoint.root = root(&[leaf_hash(b"forged")]);
    std::fs::write(&path, forged.to_text()).unwrap();
    let run = verify(&dir, &[], &[]);
    run.fails_with(&[
        &format!("{CP100}: bad signature"),
        &format!("{CP100}: root does not match the first 100 entries"),
    ]);
    let mut resized = signed;
    resized.checkpoint.size = 99;
    std::fs::write(&path, resized.to_text()).unwrap();
    let run = verify(&dir, &[], &[]);
    run.fails_with(&[
        &format!("{CP100}: the file name does not match its size 99"),
        &format!("{CP100}: bad signature"),
    ]);

    // A new checkpoint, correct for the entries, signed by someone else.
    let dir = f.copy("foreign-checkpoint");
    let forger = AuditKey::generate("relais audit test hub", KEY_CREATED).unwrap();
    std::fs::write(
        checkpoint_path(&dir, 120),
        checkpoint_of(&text, 120, &forger, signed_at(120)),
    )
    .unwrap();
    let run = verify(&dir, &[], &[]);
    run.fails_with(&["checkpoint 00000000000000000120: bad signature"]);
    run.never_says("root does not match");

    // A forged external checkpoint.
    let forged_external = f.root.join("forged-external.checkpoint");
    std::fs::write(
        &forged_external,
        checkpoint_of(&text, 200, &forger, signed_at(200)),
    )
    .unwrap();
    let run = verify(&f.export, &[&forged_external], &["--checkpoint"]);
    run.fails_with(&["external checkpoint: bad signature"]);

    // Garbage where checkpoints go.
    let dir = f.copy("garbage-checkpoint");
    std::fs::write(checkpoint_path(&dir, 10), "relais\n10\nnot base64\n").unwrap();
    std::fs::write(dir.join(CHECKPOINTS_DIR).join("notes\u{1b}[2J.txt"), "hi").unwrap();
    let run = verify(&dir, &[], &[]);
    run.fails_with(&[
        "checkpoint 00000000000000000010: not a signed checkpoint",
        "checkpoints/: unexpected file notes\\u{1b}[2J.txt",
    ]);
    assert!(!run.stdout.contains('\u{1b}'));
}

/// Point 10 of issue 11: a genuine checkpoint followed by trailing data, or by a second
/// signature block, was taken as `--checkpoint`. Only the note and its one signature are.
#[test]
fn checkpoint_with_trailing_data_is_refused() {
    let f = fixture();
    let genuine = std::fs::read_to_string(&f.kept_150).unwrap();
    let forger = AuditKey::generate("relais audit test hub", KEY_CREATED).unwrap();
    let text = lines(&f.export);
    let foreign = checkpoint_of(&text, 150, &forger, signed_at(150));
    let foreign_block = &foreign[foreign.find("-----BEGIN").unwrap()..];
    let own_block = &genuine[genuine.find("-----BEGIN").unwrap()..];
    for (name, tampered) in [
        ("trailing", format!("{genuine}the hub is fine, trust me\n")),
        ("foreign-block", format!("{genuine}{foreign_block}")),
        ("second-block", format!("{genuine}{own_block}")),
    ] {
        let path = f.root.join(format!("{name}.checkpoint"));
        std::fs::write(&path, tampered).unwrap();
        let run = verify(
            &f.export,
            &[&f.trusted_key, &path],
            &["--key", "--checkpoint"],
        );
        run.fails_with(&[
            "external checkpoint: not a signed checkpoint: after the body, one armored \
             signature and nothing else",
        ]);
        let problems: Vec<&str> = run
            .stdout
            .lines()
            .filter(|l| l.starts_with("external checkpoint"))
            .collect();
        assert_eq!(problems.len(), 1, "{}", run.stdout);
    }
    // The genuine file itself passes.
    verify(
        &f.export,
        &[&f.trusted_key, &f.kept_150],
        &["--key", "--checkpoint"],
    )
    .passes();
}

/// A hub that rolled its log back and signed a smaller tree after a larger one, with its own
/// key: the signatures are good, the shrinking is not.
#[test]
fn audit_verify_catches_a_log_that_shrank() {
    let f = fixture();
    let dir = f.copy("shrank");
    let text = lines(&dir);
    std::fs::write(
        checkpoint_path(&dir, 100),
        checkpoint_of(&text, 100, &f.key, signed_at(200) + Duration::hours(1)),
    )
    .unwrap();
    let run = verify(&dir, &[], &[]);
    run.fails_with(&[&format!(
        "{CP100}: size 100 signed after size 200 (log shrank)"
    )]);
    run.never_says("root does not match");
}

#[test]
fn audit_verify_catches_non_canonical_and_misnumbered_entries() {
    let f = fixture();
    let dir = f.copy("non-canonical");
    let mut text = lines(&dir);
    text[8] = text[8].replacen("\"seq\":8,", "\"seq\": 8,", 1);
    text[9] = text[9].replacen("\"action\":", "\"action\":\"x\",\"action\":", 1);
    text[10] = text[10].replacen("\"seq\":10,", "\"seq\":11,", 1);
    write_lines(&dir, &text);
    let run = verify(&dir, &[], &[]);
    run.fails_with(&[
        "entries.log line 9: not canonical",
        "entries.log line 10: not an audit entry: duplicate field `action`",
        "entries.log line 11: seq 11 where 10 is expected (entry missing)",
        "entries.log line 12: seq 11 where 12 is expected (out of order or repeated)",
        &format!("{CP50}: root does not match the first 50 entries"),
    ]);
}

#[test]
fn audit_verify_reports_a_missing_export() {
    let f = fixture();
    let run = verify(&f.root.join("nowhere"), &[], &[]);
    run.fails_with(&[
        "key public-key.asc: cannot read",
        "checkpoints/: cannot read",
        "checkpoints/: no checkpoint: nothing in the export is signed",
        "entries.log: cannot read",
    ]);
}
