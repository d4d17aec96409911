//! `relais federation reload|status|preview`: the operator's view of the partner hubs, run on
//! the hub's host against its database and policy files (no running hub needed for status
//! and preview; reload reaches every running instance through the database).

use std::path::Path;

use clap::Subcommand;

use super::context::{CliError, Context};
use crate::clock::{Clock, SystemClock};
use crate::domain::audit::record::AuditRecord;
use crate::domain::exports::ExportPolicy;
use crate::domain::markings::policy::MarkingPolicy;
use crate::services::federation::preview::preview;
use crate::services::federation::status::status;
use crate::services::federation::worker::check_clients;
use crate::services::federation::{FederationError, peer_record, read_policy, resolve};
use crate::services::share::Sharing;

#[derive(Debug, Subcommand)]
pub enum FederationCommand {
    /// Check policies/federation.toml, then have every running instance load it (within a
    /// few seconds). SIGHUP does the same for one process.
    Reload,
    /// Per peer: last success, cursor, lag, objects in and out, errors, backoff, witnessing.
    /// Exits 2 when a peer's log raised a witness alarm.
    Status {
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// What PEER (its principal id or "organisation/principal") reads here today: counts by
    /// collection, TLP and type, and a sample of ids, by the same decision as TAXII.
    Preview {
        peer: String,
        #[arg(long)]
        json: bool,
    },
}

fn federation_error(e: FederationError) -> CliError {
    CliError::Usage(e.to_string())
}

fn read_text_policy<T, E: std::fmt::Display>(
    path: &Path,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, CliError> {
    let text = std::fs::read_to_string(path).map_err(|source| CliError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse(&text).map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))
}

pub async fn run(
    cmd: FederationCommand,
    data: &Path,
    config: Option<&Path>,
) -> Result<(), CliError> {
    let ctx = Context::load(data, config, false)?;
    let policy_path = ctx.path(&ctx.config.policies.federation);
    let store = ctx.open_store().await?;
    let policy = resolve(
        store.as_ref(),
        read_policy(&policy_path).map_err(federation_error)?,
    )
    .await?;
    let now = SystemClock.now();
    match cmd {
        FederationCommand::Reload => {
            check_clients(&policy, &ctx.data_dir).map_err(federation_error)?;
            let generation = store.bump_federation_reload(now).await?;
            println!(
                "{}: {} peer entries checked; reload {generation} requested",
                policy_path.display(),
                policy.entries().count()
            );
            Ok(())
        }
        FederationCommand::Status { json } => {
            let peers = status(store.as_ref(), &policy, now).await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&peers)
                        .map_err(|e| CliError::Usage(e.to_string()))?
                );
            } else if peers.is_empty() {
                println!("no peers in {}", policy_path.display());
            }
            if !json {
                for p in &peers {
                    println!("{}", p.name);
                    println!(
                        "  principal     {}",
                        p.principal.as_deref().unwrap_or("(not in the registry)")
                    );
                    let when = |t: Option<time::OffsetDateTime>| {
                        t.map_or("never".to_owned(), |t| {
                            crate::domain::stix::stored::utc_timestamp(t, 0)
                        })
                    };
                    println!(
                        "  pull          {}",
                        if p.pulled { "enabled" } else { "off" }
                    );
                    println!("  last success  {}", when(p.last_success));
                    if let Some(lag) = p.lag_secs {
                        println!("  lag           {lag} s");
                    }
                    println!(
                        "  objects       {} in, {} refused, {} out",
                        p.objects_in, p.refused_in, p.objects_out
                    );
                    if p.failures > 0 {
                        println!(
                            "  errors        {} in a row, last: {}",
                            p.failures,
                            p.last_error.as_deref().unwrap_or("")
                        );
                        println!("  backoff until {}", when(p.next_poll));
                    } else if p.pulled {
                        println!("  next poll     {}", when(p.next_poll));
                    }
                    for c in &p.cursors {
                        println!(
                            "  cursor        {}: added_after {}{}, {} pages",
                            c.collection,
                            c.added_after.as_deref().unwrap_or("(start)"),
                            if c.next {
                                " (inside a run of pages)"
                            } else {
                                ""
                            },
                            c.pages
                        );
                    }
                    match (&p.witness_alarm, p.witnessed_size) {
                        (Some(alarm), _) => println!("  WITNESS ALARM {alarm}"),
                        (None, Some(size)) => println!("  witnessed     its log at size {size}"),
                        (None, None) => {}
                    }
                }
            }
            if peers.iter().any(|p| p.alarming()) {
                return Err(CliError::WitnessAlarm);
            }
            Ok(())
        }
        FederationCommand::Preview { peer, json } => {
            let id = policy
                .resolved()
                .find(|(id, name, _)| *name == peer || id.as_str() == peer)
                .map(|(id, _, _)| id.clone());
            let id = match id {
                Some(id) => id,
                None => {
                    // A peer not in the policy reads as an unlisted peer: CLEAR, community.
                    let lookup = resolve(
                        store.as_ref(),
                        crate::domain::federation::FederationPolicy::parse(&format!(
                            "[peers.{:?}]\nmax_tlp = \"clear\"\n",
                            peer
                        ))
                        .map_err(|e| CliError::Usage(e.to_string()))?,
                    )
                    .await?;
                    lookup
                        .resolved()
                        .next()
                        .map(|(id, _, _)| id.clone())
                        .ok_or_else(|| {
                            CliError::Usage(format!("{peer}: no peer principal of that name or id"))
                        })?
                }
            };
            let record = peer_record(store.as_ref(), &id).await?.ok_or_else(|| {
                CliError::Usage(format!("{peer}: the peer has no valid certificate"))
            })?;
            let markings = read_text_policy(
                &ctx.path(&ctx.config.policies.markings),
                MarkingPolicy::parse,
            )?;
            let exports =
                read_text_policy(&ctx.path(&ctx.config.policies.exports), ExportPolicy::parse)?;
            let cursor_secret = crate::services::secrets::ensure(
                store.as_ref(),
                crate::services::secrets::CURSOR_KEY,
                now,
            )
            .await
            .map_err(|e| CliError::Usage(e.to_string()))?;
            let cursors = crate::crypto::cursor::CursorKey::new(&cursor_secret)
                .map_err(|_| CliError::Usage("the cursor key in the database is corrupt".into()))?;
            let sharing = Sharing {
                store: store.as_ref(),
                policy: &markings,
                federation: std::sync::Arc::new(policy),
                cursors: &cursors,
                exports: &exports,
                recorded: false,
            };
            let seen = preview(&sharing, &record, now)
                .await
                .map_err(|e| CliError::Usage(e.to_string()))?;
            store
                .append_audit(
                    &AuditRecord::operator("federation.preview", now)
                        .objects([id.as_str().to_owned()])
                        .reason(format!(
                            "{} objects in {} collections",
                            seen.collections.iter().map(|c| c.objects).sum::<u64>(),
                            seen.collections.len()
                        )),
                )
                .await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&seen)
                        .map_err(|e| CliError::Usage(e.to_string()))?
                );
                return Ok(());
            }
            println!("{} reads here today:", seen.peer);
            for c in &seen.collections {
                println!("  {} ({}): {} objects", c.alias, c.id, c.objects);
                let list = |m: &std::collections::BTreeMap<String, u64>| {
                    m.iter()
                        .map(|(k, v)| format!("{k} {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                if c.objects > 0 {
                    println!("    by TLP   {}", list(&c.by_tlp));
                    println!("    by type  {}", list(&c.by_type));
                    println!("    sample   {}", c.sample.join(" "));
                }
            }
            Ok(())
        }
    }
}
