//! `relais-bench audit-verify`: the offline verifier's rate on a synthetic export.
//!
//! Writes `--entries` entries shaped like the hub's (principal id, certificate fingerprint,
//! action, one object id, one marking, decision, reason) into a fresh directory under the
//! system temporary directory, with a checkpoint signed every 10,000 entries and one at the
//! end, then times `verify_export` on it, prints the rate and the export's size, and removes
//! the directory. Only the verification is timed.

use std::path::{Path, PathBuf};
use std::time::Instant;

use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use relais::crypto::openpgp::AuditKey;
use relais::domain::audit::checkpoint::{Checkpoint, SignedCheckpoint};
use relais::domain::audit::entry::{Actor, AuditEntry, Decision};
use relais::domain::audit::merkle::{CompactRange, leaf_hash};
use relais::services::audit_verify::{ExportWriter, VerifyOptions, verify_export};

const CHECKPOINT_EVERY: u64 = 10_000;
const ORIGIN: &str = "relais.bench.invalid/audit";
/// A fixed past start, so that every signature is dated before now and the export is the
/// same from run to run but for the key.
const START: OffsetDateTime = datetime!(2026-01-01 00:00:00 UTC);
const TLP_AMBER_STRICT: &str = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003";

fn synthetic(seq: u64) -> AuditEntry {
    let deny = seq.is_multiple_of(17);
    AuditEntry {
        seq,
        time: START + Duration::milliseconds(i64::try_from(seq).unwrap_or(i64::MAX)),
        actor: Actor {
            principal: format!(
                "principal--{:08x}-0000-4000-8000-{:012x}",
                seq % 97,
                seq % 97
            ),
            fingerprint: format!("{:064x}", (seq % 97).wrapping_mul(0x9e37_79b9_7f4a_7c15)),
        },
        action: if seq.is_multiple_of(3) {
            "object.write".into()
        } else {
            "object.read".into()
        },
        objects: vec![format!(
            "indicator--{:08x}-{:04x}-4000-8000-{:012x}",
            seq,
            seq % 0xffff,
            seq
        )],
        markings: vec![TLP_AMBER_STRICT.into()],
        decision: if deny {
            Decision::Deny
        } else {
            Decision::Allow
        },
        reason: if deny {
            "above the principal's clearance".into()
        } else {
            String::new()
        },
    }
}

fn write(dir: &Path, entries: u64) -> Result<usize, String> {
    let key = AuditKey::generate("relais audit bench", START).map_err(|e| e.to_string())?;
    let mut writer = ExportWriter::create(dir, &key.public_key()).map_err(|e| e.to_string())?;
    let mut tree = CompactRange::new();
    let mut checkpoints = 0;
    for seq in 0..entries {
        let bytes = synthetic(seq).to_canonical();
        writer.append_canonical(&bytes).map_err(|e| e.to_string())?;
        tree.push(leaf_hash(&bytes));
        if tree.size().is_multiple_of(CHECKPOINT_EVERY) || tree.size() == entries {
            let checkpoint = Checkpoint {
                origin: ORIGIN.into(),
                size: tree.size(),
                root: tree.root(),
            };
            let at = START + Duration::seconds(i64::try_from(tree.size()).unwrap_or(0) / 1000);
            let signed = SignedCheckpoint::sign(checkpoint, &key, at).map_err(|e| e.to_string())?;
            writer.add_checkpoint(&signed).map_err(|e| e.to_string())?;
            checkpoints += 1;
        }
    }
    writer.finish().map_err(|e| e.to_string())?;
    Ok(checkpoints)
}

fn size_of(dir: &Path) -> u64 {
    let files = std::fs::read_dir(dir.join("checkpoints"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .chain([dir.join("entries.log"), dir.join("public-key.asc")]);
    files
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

fn peak_memory_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    crate::host::status_kb(&status, "VmHWM:")
}

fn bench(dir: &Path, entries: u64) -> Result<(), String> {
    let started = Instant::now();
    let checkpoints = write(dir, entries)?;
    let written = started.elapsed().as_secs_f64();
    let bytes = size_of(dir);
    let started = Instant::now();
    let outcome = verify_export(dir, &VerifyOptions::new(OffsetDateTime::now_utc()));
    let verified = started.elapsed().as_secs_f64();
    if let Some(problem) = outcome.problems.first() {
        return Err(format!(
            "the synthetic export did not verify ({} problems), first: {problem}",
            outcome.problems.len()
        ));
    }
    println!("mode         audit-verify (offline verification of an exported audit log)");
    println!(
        "export       {} entries, {checkpoints} signed checkpoints (every {CHECKPOINT_EVERY}), \
         {:.1} MB ({:.0} bytes per entry)",
        outcome.entries,
        bytes as f64 / 1e6,
        bytes as f64 / entries.max(1) as f64
    );
    println!("write        {written:.2} s (not part of the rate)");
    println!("verify       {verified:.2} s");
    println!(
        "rate         {:.0} entries/s ({:.1} MB/s)",
        entries as f64 / verified,
        bytes as f64 / 1e6 / verified
    );
    if let Some(kb) = peak_memory_kb() {
        println!(
            "memory       VmHWM {:.1} MB (whole process)",
            kb as f64 / 1024.0
        );
    }
    Ok(())
}

pub async fn run(entries: u64) -> Result<(), String> {
    if entries == 0 {
        return Err("--entries must be above 0".into());
    }
    let dir: PathBuf =
        std::env::temp_dir().join(format!("relais-bench-audit-{}", uuid::Uuid::new_v4()));
    let work = dir.clone();
    let result = tokio::task::spawn_blocking(move || bench(&work, entries))
        .await
        .unwrap_or_else(|e| Err(crate::task_failed(e)));
    let _ = std::fs::remove_dir_all(&dir);
    result
}
