//! `relais case …`: victim cases from an analyst's terminal. Every subcommand is one or two
//! calls of the REST API over mutual TLS with the analyst's certificate, so the CLI meets the
//! same rules as any other client: the hub decides, the CLI only asks and prints.

mod render;

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use clap::{ArgGroup, Args, Subcommand, ValueEnum};
use serde_json::{Value, json};

use super::CliError;
use super::api_client::{Endpoint, HubClient, read_input};
use super::context::Context;
use crate::services::bootstrap::{CredentialFiles, demo_dir};

/// The demo analyst of a new data directory: the credential a first try runs with.
const DEMO_ANALYST: &str = "csirt-analyst";

#[derive(Debug, Args)]
pub struct CaseCommand {
    #[command(flatten)]
    pub connection: Connection,
    #[command(subcommand)]
    pub action: CaseAction,
}

/// How to reach the hub; each default comes from the data directory and its configuration.
#[derive(Debug, Args)]
pub struct Connection {
    /// The hub's main listener (default: https://localhost:PORT, PORT of `listen.main`).
    #[arg(long, global = true, value_name = "URL")]
    pub hub: Option<String>,
    /// The client certificate, PEM (default: DATA/certs/demo/csirt-analyst.pem).
    #[arg(long, global = true, value_name = "PEM")]
    pub cert: Option<PathBuf>,
    /// Its private key, PEM (default: DATA/certs/demo/csirt-analyst-key.pem).
    #[arg(long, global = true, value_name = "PEM")]
    pub key: Option<PathBuf>,
    /// The CA the hub's server certificate chains to (default: `tls.ca_cert`, DATA/certs/ca.pem).
    #[arg(long, global = true, value_name = "PEM")]
    pub ca: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum CaseAction {
    /// Open a case from a JSON file (`-`: standard input); prints its id, then the case.
    Open {
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
    /// One case as JSON, or without ID every case: id, reference, status, provider.
    Show { id: Option<String> },
    /// Draw a new shortlist for the case and print it.
    Shortlist {
        id: String,
        /// The shortlist as the hub returned it.
        #[arg(long)]
        json: bool,
    },
    /// Record the beneficiary's choice from the shortlist, or issue the beneficiary's link.
    #[command(group(ArgGroup::new("how").required(true).args(["provider", "link"])))]
    Choose {
        id: String,
        /// The chosen provider's organisation id, from the current shortlist.
        #[arg(long, value_name = "ORG_ID", requires = "channel")]
        provider: Option<String>,
        /// How the beneficiary told its choice.
        #[arg(long, value_enum, requires = "provider")]
        channel: Option<Channel>,
        /// Issue the single-use link through which the beneficiary chooses.
        #[arg(long, conflicts_with_all = ["provider", "channel"])]
        link: bool,
    },
    /// The case's handoffs, or one handoff's encrypted package.
    Handoff {
        id: String,
        /// Fetch this handoff's armored OpenPGP package.
        #[arg(long, value_name = "HANDOFF_ID")]
        package: Option<String>,
        /// Where to write the package (default: standard output).
        #[arg(long, value_name = "FILE", requires = "package")]
        out: Option<PathBuf>,
    },
    /// The case's journal, or append an entry (--add), or its clear-signed text (--signed).
    Journal(JournalArgs),
    /// Close the case with the day the service ended.
    Close {
        id: String,
        /// YYYY-MM-DD, on the hub's calendar.
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
        end_date: String,
        /// The service delivered, in a few words.
        #[arg(long, default_value = "")]
        summary: String,
    },
}

#[derive(Debug, Args)]
pub struct JournalArgs {
    pub id: String,
    /// Append an entry (needs --kind and --text).
    #[arg(long, requires_all = ["kind", "text"], conflicts_with = "signed")]
    pub add: bool,
    #[arg(long, value_enum, requires = "add")]
    pub kind: Option<EntryKind>,
    #[arg(long, requires = "add")]
    pub text: Option<String>,
    /// Someone at the meeting (repeat for each).
    #[arg(long = "participant", value_name = "NAME", requires = "add")]
    pub participants: Vec<String>,
    /// A file the entry refers to, by its digest (repeat for each).
    #[arg(long = "attachment", value_name = "NAME=SHA256", value_parser = parse_attachment, requires = "add")]
    pub attachments: Vec<(String, String)>,
    /// The number of the entry this one corrects.
    #[arg(long, value_name = "N", requires = "add")]
    pub corrects: Option<u64>,
    /// The journal as text signed in clear by the hub (check it with `gpg --verify`).
    #[arg(long)]
    pub signed: bool,
    /// Where to write the signed text (default: standard output).
    #[arg(long, value_name = "FILE", requires = "signed")]
    pub out: Option<PathBuf>,
    /// The journal as the hub returned it.
    #[arg(long, conflicts_with_all = ["add", "signed"])]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Channel {
    Phone,
    Email,
    #[value(name = "in_person")]
    InPerson,
}

impl Channel {
    fn as_str(self) -> &'static str {
        match self {
            Channel::Phone => "phone",
            Channel::Email => "email",
            Channel::InPerson => "in_person",
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum EntryKind {
    Action,
    Finding,
    Communication,
    Meeting,
    Decision,
}

impl EntryKind {
    fn as_str(self) -> &'static str {
        match self {
            EntryKind::Action => "action",
            EntryKind::Finding => "finding",
            EntryKind::Communication => "communication",
            EntryKind::Meeting => "meeting",
            EntryKind::Decision => "decision",
        }
    }
}

/// Checked here so that a typo is told at once, in the CLI's words; the hub checks the date
/// against the case and its calendar.
fn parse_date(s: &str) -> Result<String, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &format)
        .map(|_| s.to_owned())
        .map_err(|_| "expected a date as YYYY-MM-DD".to_owned())
}

fn parse_attachment(s: &str) -> Result<(String, String), String> {
    match s.rsplit_once('=') {
        Some((name, sha)) if !name.is_empty() && !sha.is_empty() => {
            Ok((name.to_owned(), sha.to_owned()))
        }
        _ => Err("expected NAME=SHA256".to_owned()),
    }
}

/// The connection with every default filled in. The configuration is read only for what
/// was not given, so an analyst away from the hub's host needs no data directory.
fn endpoint(
    connection: Connection,
    data: &Path,
    config: Option<&Path>,
) -> Result<Endpoint, CliError> {
    let ctx = if connection.hub.is_none() || connection.ca.is_none() {
        Some(Context::load(data, config, false)?)
    } else {
        None
    };
    let hub = match (connection.hub, &ctx) {
        (Some(hub), _) => hub,
        (None, Some(ctx)) => ctx.config.taxii_url(ctx.config.listen.main.port())?,
        (None, None) => return Err(CliError::Usage("give --hub".into())),
    };
    let ca = match (connection.ca, &ctx) {
        (Some(ca), _) => ca,
        (None, Some(ctx)) => ctx.path(&ctx.config.tls.ca_cert),
        (None, None) => return Err(CliError::Usage("give --ca".into())),
    };
    let demo = CredentialFiles::in_dir(&demo_dir(data), DEMO_ANALYST);
    Ok(Endpoint {
        hub,
        cert: connection.cert.unwrap_or(demo.cert),
        key: connection.key.unwrap_or(demo.key),
        ca,
    })
}

pub async fn run(cmd: CaseCommand, data: &Path, config: Option<&Path>) -> Result<(), CliError> {
    let endpoint = endpoint(cmd.connection, data, config)?;
    let client = HubClient::new(&endpoint)?;
    execute(cmd.action, &client).await
}

fn pretty(value: &Value) -> Result<String, CliError> {
    serde_json::to_string_pretty(value).map_err(|e| CliError::Usage(e.to_string()))
}

fn id_of(value: &Value) -> &str {
    value.get("id").and_then(Value::as_str).unwrap_or("-")
}

async fn execute(action: CaseAction, client: &HubClient) -> Result<(), CliError> {
    match action {
        CaseAction::Open { file } => {
            let bytes = read_input(&file).map_err(|source| CliError::Io {
                path: file.clone(),
                source,
            })?;
            // Only its syntax is checked here: the fields are the hub's to judge.
            let request: Value = serde_json::from_slice(&bytes)
                .map_err(|e| CliError::Usage(format!("{}: not JSON: {e}", file.display())))?;
            let case: Value = client.post_json(&["cases"], Some(&request)).await?;
            println!("{}", id_of(&case));
            println!("{}", pretty(&case)?);
        }
        CaseAction::Show { id: None } => {
            let cases: Vec<Value> = client.get_json(&["cases"]).await?;
            print!("{}", render::case_lines(&cases));
        }
        CaseAction::Show { id: Some(id) } => {
            let case: Value = client.get_json(&["cases", &id]).await?;
            println!("{}", pretty(&case)?);
        }
        CaseAction::Shortlist { id, json } => {
            let list: Value = client
                .post_json(&["cases", &id, "shortlist"], None::<&()>)
                .await?;
            if json {
                println!("{}", pretty(&list)?);
            } else {
                print!("{}", render::shortlist(&list));
            }
        }
        CaseAction::Choose {
            id,
            provider,
            channel,
            link,
        } => choose(client, &id, provider, channel, link).await?,
        CaseAction::Handoff { id, package, out } => handoff(client, &id, package, out).await?,
        CaseAction::Journal(args) => journal(client, args).await?,
        CaseAction::Close {
            id,
            end_date,
            summary,
        } => {
            let closed: Value = client
                .post_json(
                    &["cases", &id, "close"],
                    Some(&json!({"end_date": end_date, "summary": summary})),
                )
                .await?;
            print!("{}", render::closed(&closed));
        }
    }
    Ok(())
}

async fn choose(
    client: &HubClient,
    id: &str,
    provider: Option<String>,
    channel: Option<Channel>,
    link: bool,
) -> Result<(), CliError> {
    if link {
        let issued: Value = client
            .post_json(&["cases", id, "choice-link"], None::<&()>)
            .await?;
        println!("{}", field(&issued, "url"));
        println!("valid until {}", field(&issued, "expires_at"));
        return Ok(());
    }
    // clap requires both when --link is absent.
    let (Some(provider), Some(channel)) = (provider, channel) else {
        return Err(CliError::Usage(
            "give --provider and --channel, or --link".into(),
        ));
    };
    let handoff: Value = client
        .post_json(
            &["cases", id, "choice"],
            Some(&json!({"provider": provider, "channel": channel.as_str()})),
        )
        .await?;
    println!("{}", id_of(&handoff));
    println!(
        "handed to {}; answer due {}",
        field(&handoff, "provider"),
        field(&handoff, "answer_due")
    );
    Ok(())
}

fn field(v: &Value, key: &str) -> String {
    super::api_client::one_line(v.get(key).and_then(Value::as_str).unwrap_or("-"))
}

async fn handoff(
    client: &HubClient,
    id: &str,
    package: Option<String>,
    out: Option<PathBuf>,
) -> Result<(), CliError> {
    let all: Vec<Value> = client.get_json(&["handoffs"]).await?;
    let of_case: Vec<Value> = all
        .into_iter()
        .filter(|h| h.get("case_id").and_then(Value::as_str) == Some(id))
        .collect();
    let Some(package) = package else {
        print!("{}", render::handoff_lines(&of_case));
        return Ok(());
    };
    // A package saved under the wrong case's name would go to the wrong people; the hub
    // would serve it all the same, to an analyst.
    if !of_case.iter().any(|h| id_of(h) == package) {
        return Err(CliError::Usage(format!(
            "handoff {package} is not one of case {id}'s (see `relais case handoff {id}`)"
        )));
    }
    let armored = client.get_text(&["handoffs", &package, "package"]).await?;
    emit(&armored, out.as_deref())
}

async fn journal(client: &HubClient, args: JournalArgs) -> Result<(), CliError> {
    let id = args.id.as_str();
    if args.signed {
        let text = client.get_text(&["cases", id, "journal", "signed"]).await?;
        return emit(&text, args.out.as_deref());
    }
    if args.add {
        let (Some(kind), Some(text)) = (args.kind, args.text) else {
            return Err(CliError::Usage("--add needs --kind and --text".into()));
        };
        let attachments: Vec<Value> = args
            .attachments
            .into_iter()
            .map(|(name, sha256)| json!({"name": name, "sha256": sha256}))
            .collect();
        let mut entry = json!({
            "kind": kind.as_str(),
            "text": text,
            "participants": args.participants,
            "attachments": attachments,
        });
        if let (Some(n), Some(map)) = (args.corrects, entry.as_object_mut()) {
            map.insert("corrects".into(), json!(n));
        }
        let added: Value = client
            .post_json(&["cases", id, "journal"], Some(&entry))
            .await?;
        println!(
            "#{}",
            added.get("number").and_then(Value::as_u64).unwrap_or(0)
        );
        println!("hash {}", field(&added, "hash"));
        return Ok(());
    }
    let export: Value = client.get_json(&["cases", id, "journal"]).await?;
    if args.json {
        println!("{}", pretty(&export)?);
    } else {
        print!("{}", render::journal(&export));
    }
    if render::verified(&export) {
        Ok(())
    } else {
        Err(CliError::JournalUnverified(id.to_owned()))
    }
}

/// Writes what the hub sent to `out`, or to standard output. A file is created owner-only:
/// a signed journal is in clear, and a package names its recipients.
fn emit(text: &str, out: Option<&Path>) -> Result<(), CliError> {
    let Some(path) = out else {
        print!("{text}");
        return Ok(());
    };
    let io = |source| CliError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)?;
    println!("{} ({} bytes)", path.display(), text.len());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    fn parse(args: &[&str]) -> Result<crate::cli::Cli, clap::Error> {
        crate::cli::Cli::try_parse_from(std::iter::once("relais").chain(args.iter().copied()))
    }

    #[test]
    fn connection_flags_go_anywhere_after_case() {
        let cli = parse(&["case", "show", "--hub", "https://h:1", "--cert", "c.pem"]).unwrap();
        let crate::cli::Command::Case(cmd) = cli.command else {
            panic!("not a case command");
        };
        assert_eq!(cmd.connection.hub.as_deref(), Some("https://h:1"));
        assert_eq!(cmd.connection.cert, Some(PathBuf::from("c.pem")));
    }

    #[test]
    fn choose_takes_a_provider_and_channel_or_a_link() {
        assert!(
            parse(&[
                "case",
                "choose",
                "c",
                "--provider",
                "p",
                "--channel",
                "in_person"
            ])
            .is_ok()
        );
        assert!(parse(&["case", "choose", "c", "--link"]).is_ok());
        assert!(parse(&["case", "choose", "c"]).is_err());
        assert!(parse(&["case", "choose", "c", "--provider", "p"]).is_err());
        assert!(
            parse(&[
                "case",
                "choose",
                "c",
                "--link",
                "--provider",
                "p",
                "--channel",
                "email"
            ])
            .is_err()
        );
    }

    #[test]
    fn journal_options_belong_to_their_mode() {
        assert!(
            parse(&[
                "case",
                "journal",
                "c",
                "--add",
                "--kind",
                "action",
                "--text",
                "t",
                "--participant",
                "A",
                "--attachment",
                "log.txt=ab",
                "--corrects",
                "1"
            ])
            .is_ok()
        );
        assert!(parse(&["case", "journal", "c", "--add", "--kind", "action"]).is_err());
        assert!(parse(&["case", "journal", "c", "--text", "t"]).is_err());
        assert!(parse(&["case", "journal", "c", "--signed", "--out", "j.asc"]).is_ok());
        assert!(parse(&["case", "journal", "c", "--out", "j.asc"]).is_err());
        assert!(
            parse(&[
                "case",
                "journal",
                "c",
                "--add",
                "--kind",
                "action",
                "--text",
                "t",
                "--attachment",
                "nodigest"
            ])
            .is_err()
        );
        assert!(parse(&["case", "close", "c", "--end-date", "03/12/2026"]).is_err());
        assert!(parse(&["case", "close", "c", "--end-date", "2026-12-03"]).is_ok());
    }
}
