//! Command line: `relais serve`, `relais init`, `relais pki …`, `relais registry …`,
//! `relais config …`, `relais audit …`, `relais case …` (a client of the REST API). The load
//! generator is another binary, `relais-bench`.

mod api_client;
mod audit;
mod case;
mod context;
mod federation;
mod pki;
mod registry;
mod report;
mod serve;
mod sla;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub use context::CliError;

#[derive(Debug, Parser)]
#[command(
    name = "relais",
    version,
    about = "Federated threat-intelligence sharing hub for CSIRTs"
)]
pub struct Cli {
    /// Data directory: configuration, database, PKI.
    #[arg(
        long,
        global = true,
        env = "RELAIS_DATA",
        default_value = "relais-data"
    )]
    pub data: PathBuf,
    /// Configuration file (default: DATA/relais.toml).
    #[arg(long, global = true, env = "RELAIS_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the hub (creating the data directory, development PKI and demo principals on first
    /// run).
    Serve,
    /// Create the data directory, PKI and demo principals without serving.
    Init,
    /// Manage the hub's certificate authority and certificate bindings.
    #[command(subcommand)]
    Pki(pki::PkiCommand),
    /// The provider registry: applications, files, the referencing lifecycle, conventions,
    /// surveys and badges.
    #[command(subcommand)]
    Registry(registry::RegistryCommand),
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// The tamper-evident audit log: export it from the database, verify an export offline.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Victim cases from an analyst's terminal: open, shortlist, choice, handoff, journal,
    /// closure, through the hub's REST API with the analyst's certificate.
    Case(case::CaseCommand),
    /// Reports: the CSIRT's annual statistics for its meeting with the providers.
    #[command(subcommand)]
    Report(report::ReportCommand),
    /// Partner hubs: reload the federation policy, each peer's status, what a peer reads.
    #[command(subcommand)]
    Federation(federation::FederationCommand),
    /// SOC service levels: when an alert's take-in delay runs out.
    #[command(subcommand)]
    Sla(sla::SlaCommand),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// List the environment variables that override configuration keys.
    Env,
    /// Load and check the configuration, then print it as the hub would use it.
    Check,
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Serve => serve::serve(&cli.data, cli.config.as_deref()).await,
        Command::Init => serve::init(&cli.data, cli.config.as_deref()).await,
        Command::Pki(cmd) => pki::run(cmd, &cli.data, cli.config.as_deref()).await,
        Command::Registry(cmd) => registry::run(cmd, &cli.data, cli.config.as_deref()).await,
        Command::Audit(cmd) => audit::run(cmd, &cli.data, cli.config.as_deref()).await,
        Command::Case(cmd) => case::run(cmd, &cli.data, cli.config.as_deref()).await,
        Command::Report(cmd) => report::run(cmd, &cli.data, cli.config.as_deref()).await,
        Command::Federation(cmd) => federation::run(cmd, &cli.data, cli.config.as_deref()).await,
        Command::Sla(cmd) => sla::run(cmd, &cli.data, cli.config.as_deref()).await,
        Command::Config(ConfigCommand::Env) => {
            for (var, key) in crate::config::Config::env_variables() {
                println!("{var:<40} {key}");
            }
            Ok(())
        }
        Command::Config(ConfigCommand::Check) => {
            let mut ctx = context::Context::load(&cli.data, cli.config.as_deref(), false)?;
            // The URL may carry a password; this output is for reading, not for reuse.
            ctx.config.database.url = crate::store::redact_url(&ctx.config.database.url);
            let text =
                toml::to_string_pretty(&ctx.config).map_err(|e| CliError::Usage(e.to_string()))?;
            print!("{text}");
            Ok(())
        }
    }
}
