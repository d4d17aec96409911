//! `relais registry …`: the provider registry's administration from a terminal, as the
//! operator (every change is in the audit log as the operator's).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand, ValueEnum};

use super::CliError;
use super::context::Context;
use crate::clock::{Clock, SystemClock};
use crate::crypto::openpgp::AuditKey;
use crate::domain::principal::{Organisation, OrganisationId};
use crate::domain::registry::file::ProviderFile;
use crate::domain::registry::import::{ImportError, SheetFormat, read_applications};
use crate::domain::registry::lifecycle::{DereferencingCause, Event, NoticeKind, Party};
use crate::domain::registry::survey::SurveyPolicy;
use crate::services::registry::{Csirt, Registry, RegistryError, Who};
use crate::services::secrets;
use crate::store::{SharedStore, Store};

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// List the providers in the registry.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One provider's entry (by organisation id or name), as JSON.
    Show { provider: String },
    /// A provider's history: every change, who, when, why.
    History { provider: String },
    /// Import applications from the CSIRT's spreadsheet (XLSX or CSV; template in
    /// templates/). Evidence and key files named in it are read from --evidence-dir.
    Import(ImportArgs),
    /// Record one application from a JSON provider file.
    Apply { file: PathBuf },
    /// Store an evidence file; prints its SHA-256, which a provider file names.
    Evidence {
        file: PathBuf,
        /// The provider it belongs to.
        #[arg(long)]
        provider: Option<String>,
    },
    /// Replace a provider's file with a JSON provider file.
    Update { provider: String, file: PathBuf },
    /// A lifecycle transition, with its reason.
    Transition(TransitionArgs),
    /// Reference a provider under review, with its detached signature of the latest
    /// convention version.
    Reference {
        provider: String,
        #[arg(long)]
        signature: PathBuf,
    },
    /// Record a provider's signature of a convention version.
    Sign {
        provider: String,
        #[arg(long)]
        version: u32,
        #[arg(long)]
        signature: PathBuf,
    },
    /// Convention versions.
    #[command(subcommand)]
    Convention(ConventionCommand),
    /// Apply every due transition now (the hub does it every registry.deadline_check_secs).
    Deadlines,
    /// What is due or overdue, provider by provider.
    Dashboard,
    /// Issue the satisfaction-survey link of a case, for its beneficiary.
    Survey { case: String },
    /// Issue a provider's badge (clear-signed statement of referencing).
    Badge {
        provider: String,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConventionCommand {
    /// Publish a new version (the next number); providers in force must sign it within 15
    /// days.
    Publish {
        file: PathBuf,
    },
    List,
    /// Print (or write) a version's text, exactly as signed.
    Show {
        version: u32,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    pub spreadsheet: PathBuf,
    /// Where the evidence and key files the spreadsheet names are (default: its directory).
    #[arg(long)]
    pub evidence_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TransitionName {
    StartReview,
    Suspend,
    Reinstate,
    /// Termination notice by the CSIRT.
    Terminate,
    /// Termination notice received from the provider.
    ProviderTerminates,
    /// A recorded breach: opens the de-referencing procedure.
    Breach,
    CancelNotice,
    Evaluate,
}

#[derive(Debug, Args)]
pub struct TransitionArgs {
    pub provider: String,
    #[arg(value_enum)]
    pub event: TransitionName,
    #[arg(long, default_value = "")]
    pub reason: String,
}

/// Everything the registry service needs, loaded for one command.
struct Loaded {
    store: SharedStore,
    key: AuditKey,
    survey_key: Vec<u8>,
    policy: SurveyPolicy,
    organisation: String,
    public_url: String,
}

impl Loaded {
    fn registry(&self) -> Registry<'_> {
        Registry {
            store: self.store.as_ref(),
            signing_key: &self.key,
            survey_key: &self.survey_key,
            survey_policy: &self.policy,
            csirt: &self.organisation,
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|source| CliError::Io {
        path: path.to_owned(),
        source,
    })
}

fn read_text(path: &Path) -> Result<String, CliError> {
    String::from_utf8(read(path)?)
        .map_err(|_| CliError::Usage(format!("{} is not UTF-8 text", path.display())))
}

fn provider_file(path: &Path) -> Result<ProviderFile, CliError> {
    serde_json::from_str(&read_text(path)?)
        .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))
}

fn json<T: serde::Serialize>(value: &T) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::Usage(e.to_string()))?;
    println!("{text}");
    Ok(())
}

async fn organisation(store: &dyn Store, name_or_id: &str) -> Result<Organisation, CliError> {
    if let Some(org) = store
        .organisation(&OrganisationId::from_stored(name_or_id.to_owned()))
        .await?
    {
        return Ok(org);
    }
    store
        .organisation_by_name(name_or_id)
        .await?
        .ok_or_else(|| CliError::Usage(format!("no organisation {name_or_id:?}")))
}

fn failed(e: RegistryError) -> CliError {
    CliError::Usage(e.to_string())
}

pub async fn run(cmd: RegistryCommand, data: &Path, config: Option<&Path>) -> Result<(), CliError> {
    let ctx = Context::load(data, config, false)?;
    let store = ctx.open_store().await?;
    let now = SystemClock.now();
    let origin = ctx.config.audit_origin();
    let loaded = async {
        let key = secrets::ensure_openpgp_key(
            store.as_ref(),
            secrets::REGISTRY_KEY,
            &format!("{} registry <{origin}>", ctx.config.hub.organisation),
            now,
        )
        .await
        .map_err(|e| CliError::Usage(e.to_string()))?;
        let survey_key = secrets::ensure(store.as_ref(), secrets::SURVEY_KEY, now)
            .await
            .map_err(|e| CliError::Usage(e.to_string()))?;
        let policy_path = ctx.path(&ctx.config.policies.survey);
        let policy_text = match std::fs::read_to_string(&policy_path) {
            Ok(text) => text,
            Err(_) => crate::domain::registry::survey::SHIPPED.to_owned(),
        };
        let policy = SurveyPolicy::parse(&policy_text)
            .map_err(|e| CliError::Usage(format!("{}: {e}", policy_path.display())))?;
        Ok::<_, CliError>(Loaded {
            store: Arc::clone(&store),
            key,
            survey_key,
            policy,
            organisation: ctx.config.hub.organisation.clone(),
            public_url: ctx.config.public_url(ctx.config.listen.public.port()),
        })
    }
    .await;
    let result = match loaded {
        Ok(loaded) => execute(cmd, &loaded, now).await,
        Err(e) => Err(e),
    };
    store.close().await;
    result
}

async fn execute(
    cmd: RegistryCommand,
    loaded: &Loaded,
    now: time::OffsetDateTime,
) -> Result<(), CliError> {
    let registry = loaded.registry();
    let store = loaded.store.as_ref();
    let who = Who::Operator;
    let csirt = Csirt::Operator;
    match cmd {
        RegistryCommand::List { json: as_json } => {
            let all = registry.list(csirt).await.map_err(failed)?;
            if as_json {
                let rows: Vec<_> = all
                    .iter()
                    .map(|r| {
                        serde_json::json!({
                            "id": r.organisation.id.as_str(),
                            "name": r.organisation.name,
                            "status": r.referencing.status,
                            "term_ends": r.referencing.term_ends.map(|t| t.to_string()),
                            "renewals": r.referencing.renewals,
                        })
                    })
                    .collect();
                return json(&rows);
            }
            for r in &all {
                println!(
                    "{:<40} {:<14} {}",
                    r.organisation.name,
                    r.referencing.status.as_str(),
                    r.organisation.id.as_str()
                );
            }
            Ok(())
        }
        RegistryCommand::Show { provider } => {
            let org = organisation(store, &provider).await?;
            let r = registry.get(who, &org.id).await.map_err(failed)?;
            json(&serde_json::json!({
                "id": r.organisation.id.as_str(),
                "name": r.organisation.name,
                "file": r.file,
                "referencing": r.referencing,
                "conditions": r.conditions,
            }))
        }
        RegistryCommand::History { provider } => {
            let org = organisation(store, &provider).await?;
            for h in registry.history(who, &org.id).await.map_err(failed)? {
                println!(
                    "{} {:<10} {:<28} {} -> {}  {}",
                    h.at,
                    h.actor,
                    h.action,
                    h.from_status.map_or("-", |s| s.as_str()),
                    h.to_status.as_str(),
                    h.reason
                );
            }
            Ok(())
        }
        RegistryCommand::Import(args) => import(&registry, &args, now).await,
        RegistryCommand::Apply { file } => {
            let r = registry
                .apply(csirt, provider_file(&file)?, now)
                .await
                .map_err(failed)?;
            println!(
                "{} {} applied",
                r.organisation.id.as_str(),
                r.organisation.name
            );
            Ok(())
        }
        RegistryCommand::Evidence { file, provider } => {
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let content = read(&file)?;
            let sha = match provider {
                Some(p) => {
                    let org = organisation(store, &p).await?.id;
                    registry
                        .upload_provider_evidence(who, &org, &name, content, now)
                        .await
                }
                None => registry.upload_evidence(csirt, &name, content, now).await,
            }
            .map_err(failed)?;
            println!("{sha}");
            Ok(())
        }
        RegistryCommand::Update { provider, file } => {
            let org = organisation(store, &provider).await?;
            registry
                .update_file(who, &org.id, provider_file(&file)?, now)
                .await
                .map_err(failed)?;
            println!("{} updated", org.name);
            Ok(())
        }
        RegistryCommand::Transition(args) => {
            let org = organisation(store, &args.provider).await?;
            let event = match args.event {
                TransitionName::StartReview => Event::StartReview,
                TransitionName::Suspend => Event::Suspend,
                TransitionName::Reinstate => Event::Reinstate,
                TransitionName::Terminate => {
                    Event::GiveNotice(NoticeKind::Termination { by: Party::Csirt })
                }
                TransitionName::ProviderTerminates => Event::GiveNotice(NoticeKind::Termination {
                    by: Party::Provider,
                }),
                TransitionName::Breach => Event::GiveNotice(NoticeKind::Dereferencing {
                    cause: DereferencingCause::Breach,
                }),
                TransitionName::CancelNotice => Event::CancelNotice,
                TransitionName::Evaluate => Event::Evaluate,
            };
            let r = registry
                .transition(who, &org.id, event, &args.reason, now)
                .await
                .map_err(failed)?;
            println!("{}: {}", org.name, r.referencing.status.as_str());
            Ok(())
        }
        RegistryCommand::Reference {
            provider,
            signature,
        } => {
            let org = organisation(store, &provider).await?;
            let r = registry
                .reference(csirt, &org.id, &read_text(&signature)?, now)
                .await
                .map_err(failed)?;
            println!("{}: {}", org.name, r.referencing.status.as_str());
            Ok(())
        }
        RegistryCommand::Sign {
            provider,
            version,
            signature,
        } => {
            let org = organisation(store, &provider).await?;
            registry
                .sign_convention(who, &org.id, version, &read_text(&signature)?, now)
                .await
                .map_err(failed)?;
            println!("{}: convention version {version} signed", org.name);
            Ok(())
        }
        RegistryCommand::Convention(ConventionCommand::Publish { file }) => {
            let c = registry
                .publish_convention(csirt, &read_text(&file)?, now)
                .await
                .map_err(failed)?;
            println!(
                "convention version {} published; providers in force must sign it by {}",
                c.version,
                c.published_at + crate::domain::registry::lifecycle::RESIGN_WITHIN
            );
            Ok(())
        }
        RegistryCommand::Convention(ConventionCommand::List) => {
            for c in registry.conventions().await.map_err(failed)? {
                println!(
                    "{:>4}  {}  {} bytes",
                    c.version,
                    c.published_at,
                    c.text.len()
                );
            }
            Ok(())
        }
        RegistryCommand::Convention(ConventionCommand::Show { version, out }) => {
            let c = registry
                .conventions()
                .await
                .map_err(failed)?
                .into_iter()
                .find(|c| c.version == version)
                .ok_or_else(|| CliError::Usage(format!("no convention version {version}")))?;
            match out {
                Some(path) => std::fs::write(&path, c.text.as_bytes())
                    .map_err(|source| CliError::Io { path, source }),
                None => {
                    print!("{}", c.text);
                    Ok(())
                }
            }
        }
        RegistryCommand::Deadlines => {
            let round = registry.deadlines().tick(now).await.map_err(failed)?;
            println!("{} changes applied", round.changes);
            Ok(())
        }
        RegistryCommand::Dashboard => json(&registry.dashboard(csirt, now).await.map_err(failed)?),
        RegistryCommand::Survey { case } => {
            let (token, expires) = registry
                .issue_survey(csirt, &case, now)
                .await
                .map_err(failed)?;
            println!("{}/survey?token={token}", loaded.public_url);
            eprintln!("valid until {expires}");
            Ok(())
        }
        RegistryCommand::Badge { provider, out } => {
            let org = organisation(store, &provider).await?;
            let verify = format!("{}/badge/verify", loaded.public_url);
            let badge = registry
                .issue_badge(who, &org.id, &verify, now)
                .await
                .map_err(failed)?;
            match out {
                Some(path) => std::fs::write(&path, badge.text.as_bytes())
                    .map_err(|source| CliError::Io { path, source }),
                None => {
                    print!("{}", badge.text);
                    Ok(())
                }
            }
        }
    }
}

async fn import(
    registry: &Registry<'_>,
    args: &ImportArgs,
    now: time::OffsetDateTime,
) -> Result<(), CliError> {
    let format = SheetFormat::from_path(&args.spreadsheet).ok_or_else(|| {
        CliError::Usage(format!(
            "{}: give an .xlsx or .csv file",
            args.spreadsheet.display()
        ))
    })?;
    let bytes = read(&args.spreadsheet)?;
    let dir = args.evidence_dir.clone().unwrap_or_else(|| {
        args.spreadsheet
            .parent()
            .map(Path::to_owned)
            .unwrap_or_default()
    });
    // Names are plain file names (the reader refuses paths), looked up in one directory.
    let lookup = |name: &str| std::fs::read(dir.join(name)).ok();
    let applications = read_applications(&bytes, format, &lookup).map_err(|e| match e {
        ImportError::Rows(problems) => CliError::Usage(
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        ),
        other => CliError::Usage(format!("{}: {other}", args.spreadsheet.display())),
    })?;
    // Nothing is written if any row names an organisation or a SIREN the registry holds.
    let registered = registry.store.providers().await?;
    for a in &applications {
        if let Some(p) = registered.iter().find(|p| p.file.siren == a.file.siren) {
            return Err(CliError::Usage(format!(
                "row {}: SIREN {} is already in the registry ({})",
                a.row, a.file.siren, p.organisation.name
            )));
        }
        if registry
            .store
            .organisation_by_name(&a.file.legal_name)
            .await?
            .is_some()
        {
            return Err(CliError::Usage(format!(
                "row {}: an organisation named {:?} exists",
                a.row, a.file.legal_name
            )));
        }
    }
    for a in applications {
        for e in a.evidence {
            registry
                .upload_evidence(Csirt::Operator, &e.name, e.bytes, now)
                .await
                .map_err(failed)?;
        }
        let row = a.row;
        let r = registry
            .apply(Csirt::Operator, a.file, now)
            .await
            .map_err(|e| CliError::Usage(format!("row {row}: {e}")))?;
        println!(
            "row {row}: {} {} applied",
            r.organisation.id.as_str(),
            r.organisation.name
        );
    }
    Ok(())
}
