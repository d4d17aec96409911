//! `relais audit …`: the tamper-evident audit log seen from outside the hub.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::CliError;
use super::context::Context;
use crate::clock::{Clock, SystemClock};
use crate::services::audit_export;
use crate::services::audit_verify::{VerifyOptions, verify_export};

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check an exported audit log offline: signatures, roots, sequence and time order,
    /// canonical form. Prints one line per problem and exits non-zero on any.
    ///
    /// Exit status: 0 when the export is intact and was checked against a key given with
    /// --key; 1 when a problem was found; 3 when the export is intact but was checked only
    /// against the key it carries (no --key): whoever rewrote the log could have re-signed it
    /// with a key of their own. Keep a copy of the key and a recent checkpoint off the hub.
    Verify(VerifyArgs),
    /// Write the log (entries, signed checkpoints, public key) from the hub's database to a
    /// new directory. Only reads: safe while the hub runs.
    Export(ExportArgs),
    /// Witnessing of partner hubs' logs (policies/federation.toml) and by them.
    #[command(subcommand)]
    Witness(WitnessCommand),
}

#[derive(Debug, clap::Subcommand)]
pub enum WitnessCommand {
    /// One line per witnessed peer log: the size last cosigned, or its alarm. Exits 2 when
    /// any peer's log raised an alarm (a fork, a shrink, a rewrite), 0 otherwise.
    Check,
    /// Print this hub's witness verifier key (C2SP vkey), for partners' `witness_key`.
    Key,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The directory to create; existing export files in it are never overwritten.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The export directory (entries.log, checkpoints/, public-key.asc).
    pub dir: PathBuf,
    /// A signed checkpoint kept outside the hub: the log must still extend it.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// A trusted copy of the hub's audit key (armored OpenPGP certificate), checked instead of
    /// the export's own public-key.asc, which whoever rewrote the export could have replaced.
    #[arg(long)]
    pub key: Option<PathBuf>,
}

pub async fn run(cmd: AuditCommand, data: &Path, config: Option<&Path>) -> Result<(), CliError> {
    match cmd {
        AuditCommand::Verify(args) => verify(args).await,
        AuditCommand::Export(args) => export(args, data, config).await,
        AuditCommand::Witness(cmd) => witness(cmd, data, config).await,
    }
}

async fn witness(cmd: WitnessCommand, data: &Path, config: Option<&Path>) -> Result<(), CliError> {
    use crate::clock::{Clock, SystemClock};
    let ctx = Context::load(data, config, false)?;
    let store = ctx.open_store().await?;
    let outcome = match cmd {
        WitnessCommand::Key => crate::services::federation::witness::hub_witness_key(
            store.as_ref(),
            &ctx.config.audit_origin(),
            SystemClock.now(),
        )
        .await
        .map(|key| println!("{}", key.verifier().to_vkey()))
        .map_err(|e| CliError::Usage(format!("witness key: {e}"))),
        WitnessCommand::Check => match store.all_witnessed().await {
            Err(e) => Err(CliError::Usage(format!("witness check: {e}"))),
            Ok(rows) => {
                if rows.is_empty() {
                    println!("no peer log witnessed yet");
                }
                for r in &rows {
                    match &r.alarm {
                        Some(alarm) => println!("{} {}: ALARM {alarm}", r.peer, r.origin),
                        None => println!("{} {}: cosigned at size {}", r.peer, r.origin, r.size),
                    }
                }
                if rows.iter().any(|r| r.alarm.is_some()) {
                    Err(CliError::WitnessAlarm)
                } else {
                    Ok(())
                }
            }
        },
    };
    store.close().await;
    outcome
}

async fn export(args: ExportArgs, data: &Path, config: Option<&Path>) -> Result<(), CliError> {
    let ctx = Context::load(data, config, false)?;
    let store = ctx.open_store().await?;
    let outcome = audit_export::export(store.as_ref(), &args.out).await;
    store.close().await;
    let exported = outcome.map_err(|e| CliError::Usage(format!("audit export: {e}")))?;
    println!(
        "exported {} entries and {} checkpoints to {}",
        exported.entries,
        exported.checkpoints,
        args.out.display()
    );
    Ok(())
}

async fn verify(args: VerifyArgs) -> Result<(), CliError> {
    // A long sequential read: off the async workers.
    let VerifyArgs {
        dir,
        checkpoint,
        key,
    } = args;
    let shown = dir.display().to_string();
    let outcome = tokio::task::spawn_blocking(move || {
        verify_export(
            &dir,
            &VerifyOptions {
                now: SystemClock.now(),
                external_checkpoint: checkpoint.as_deref(),
                trusted_key: key.as_deref(),
            },
        )
    })
    .await
    .map_err(|e| CliError::Usage(format!("audit verify failed: {e}")))?;

    for problem in &outcome.problems {
        println!("{problem}");
    }
    if !outcome.is_ok() {
        let n = outcome.problems.len();
        println!("FAILED: {n} problem{}", if n == 1 { "" } else { "s" });
        return Err(CliError::Usage(format!(
            "the audit log in {shown} did not verify"
        )));
    }
    let mut summary = format!(
        "ok: {} entries, {} checkpoints",
        outcome.entries, outcome.checkpoints
    );
    if let Some(latest) = &outcome.latest {
        summary.push_str(&format!(
            ", latest size {} root {}",
            latest.size,
            latest.root_base64()
        ));
        if outcome.entries > latest.size {
            summary.push_str(&format!(
                " ({} later entries not yet signed)",
                outcome.entries - latest.size
            ));
        }
    }
    if let Some(size) = outcome.external_size {
        summary.push_str(&format!(", extends the external checkpoint of size {size}"));
    }
    if let Some(key) = &outcome.key {
        let origin = if outcome.key_trusted {
            "trusted"
        } else {
            "from the export"
        };
        summary.push_str(&format!(", key {key} ({origin})"));
    }
    println!("{summary}");
    if !outcome.key_trusted {
        // Intact in itself proves nothing against someone who rewrote and re-signed it all.
        println!(
            "NOT PINNED: checked only against the key in the export; pass --key with a copy \
             of the hub's key kept off the hub"
        );
        return Err(CliError::Unpinned(shown));
    }
    Ok(())
}
