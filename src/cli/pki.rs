//! `relais pki …`: the CA's administration from a terminal.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::CliError;
use super::context::Context;
use crate::clock::{Clock, SystemClock};
use crate::domain::audit::record::Acting;
use crate::domain::principal::{PrincipalKind, SpkiFingerprint};
use crate::http::tls::TlsMaterial;
use crate::pki::ca::ClientUsage;
use crate::pki::certificate::read_pem_certificates;
use crate::pki::{CertificateAuthority, ClientSubject};
use crate::services::bootstrap::{CredentialFiles, crl_path};
use crate::services::pki::{self, CertificateSelector, PkiPaths};

#[derive(Debug, Subcommand)]
pub enum PkiCommand {
    /// Issue a client certificate from the hub's CA and bind it to a principal (created if
    /// needed).
    Issue(IssueArgs),
    /// Revoke a certificate: the hub refuses it at its next connection and it goes on the CRL.
    Revoke(RevokeArgs),
    /// List the certificates bound to principals.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Sign a fresh CRL and write it (default: DATA/certs/crl.pem).
    Crl {
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Bind a certificate issued elsewhere (from the hub's CA or a CA in tls.extra_client_cas)
    /// to a principal, by its public key.
    Bind(BindArgs),
}

#[derive(Debug, Args)]
pub struct PrincipalArgs {
    /// analyst, provider or peer.
    #[arg(long)]
    pub kind: PrincipalKind,
    /// Organisation name (analysts default to the hub's own CSIRT).
    #[arg(long)]
    pub org: Option<String>,
    /// Name of the principal (a person or a tool) within its organisation.
    #[arg(long)]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct IssueArgs {
    #[command(flatten)]
    pub principal: PrincipalArgs,
    /// Validity in days (default: pki.client_validity_days).
    #[arg(long)]
    pub days: Option<u32>,
    /// Directory for NAME.pem, NAME-key.pem and NAME.p12 (default: DATA/certs/issued/ORG).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// File holding the PKCS#12 password (default: empty password).
    #[arg(long)]
    pub p12_password_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// Serial number in hex, as `relais pki list` shows it.
    #[arg(
        long,
        conflicts_with = "fingerprint",
        required_unless_present = "fingerprint"
    )]
    pub serial: Option<String>,
    /// SHA-256 of the certificate's public key, in hex.
    #[arg(long)]
    pub fingerprint: Option<SpkiFingerprint>,
    #[arg(long, default_value = "unspecified")]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct BindArgs {
    /// PEM certificate to bind.
    #[arg(long)]
    pub cert: PathBuf,
    #[command(flatten)]
    pub principal: PrincipalArgs,
}

fn subject(ctx: &Context, args: &PrincipalArgs) -> Result<ClientSubject, CliError> {
    let organisation =
        pki::analyst_organisation(args.kind, &ctx.config.hub.organisation, args.org.as_deref())
            .ok_or_else(|| {
                CliError::Usage(format!("--org is required for a {} principal", args.kind))
            })?;
    Ok(ClientSubject {
        kind: args.kind,
        organisation,
        name: args.name.clone(),
    })
}

fn load_ca(ctx: &Context) -> Result<CertificateAuthority, CliError> {
    Ok(CertificateAuthority::load(
        &ctx.path(&ctx.config.tls.ca_cert),
        &ctx.path(&ctx.config.tls.ca_key),
    )?)
}

/// A file-system-safe form of an organisation name.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

pub async fn run(cmd: PkiCommand, data: &Path, config: Option<&Path>) -> Result<(), CliError> {
    let ctx = Context::load(data, config, false)?;
    let store = ctx.open_store().await?;
    let now = SystemClock.now();
    let acting = Acting::operator(now);
    let paths = PkiPaths {
        crl: crl_path(&ctx.data_dir),
    };
    let result = async {
        match cmd {
            PkiCommand::Issue(args) => {
                let ca = load_ca(&ctx)?;
                let subject = subject(&ctx, &args.principal)?;
                let password = match &args.p12_password_file {
                    Some(p) => std::fs::read_to_string(p)
                        .map_err(|source| CliError::Io { path: p.clone(), source })?
                        .trim_end_matches(['\r', '\n'])
                        .to_owned(),
                    None => String::new(),
                };
                let days = args.days.unwrap_or(ctx.config.pki.client_validity_days);
                let (principal, issued) =
                    pki::issue(store.as_ref(), &ca, &subject, ClientUsage::ClientAuth, days, &acting).await?;
                let dir = args.out.unwrap_or_else(|| {
                    ctx.data_dir.join("certs").join("issued").join(slug(&subject.organisation))
                });
                let files = CredentialFiles::in_dir(&dir, &slug(&subject.name));
                files.write(&issued, &ca, &subject.name, &password)?;
                println!("issued a certificate to {} ({} {:?} of {:?})", principal.id, subject.kind, subject.name, subject.organisation);
                println!("  serial       {}", issued.info.serial);
                println!("  fingerprint  {}", issued.info.fingerprint);
                println!("  valid until  {}", issued.info.not_after);
                println!("  certificate  {}", files.cert.display());
                println!("  key          {} (mode 0600)", files.key.display());
                println!(
                    "  PKCS#12      {} ({})",
                    files.p12.display(),
                    if password.is_empty() { "empty password" } else { "password from file" }
                );
                Ok(())
            }
            PkiCommand::Revoke(args) => {
                let selector = match (args.serial, args.fingerprint) {
                    (Some(s), _) => CertificateSelector::Serial(s),
                    (None, Some(f)) => CertificateSelector::Fingerprint(f),
                    (None, None) => return Err(CliError::Usage("give --serial or --fingerprint".into())),
                };
                let ca = load_ca(&ctx).ok();
                let (binding, crl) =
                    pki::revoke(store.as_ref(), ca.as_ref(), &paths, &selector, &args.reason, &acting).await?;
                println!("revoked certificate {} (fingerprint {})", binding.serial, binding.fingerprint);
                match crl {
                    Some(crl) => println!("  CRL number {} written to {}", crl.number, paths.crl.display()),
                    None if binding.issued_by_hub => println!("  no CA key here: the CRL was not re-signed; the registry refuses the key already"),
                    None => println!("  not issued by the hub's CA: refused through the registry binding"),
                }
                Ok(())
            }
            PkiCommand::List { json } => {
                let rows = pki::list(store.as_ref()).await?;
                if json {
                    let text = serde_json::to_string_pretty(&rows).map_err(|e| CliError::Usage(e.to_string()))?;
                    println!("{text}");
                    return Ok(());
                }
                println!("{:<34} {:<9} {:<24} {:<24} {:<10} {:<20} STATE", "SERIAL", "KIND", "ORGANISATION", "NAME", "STATUS", "NOT AFTER");
                for row in rows {
                    let b = &row.binding;
                    let state = if b.is_revoked() { "revoked" } else if b.not_after < now { "expired" } else { "valid" };
                    println!(
                        "{:<34} {:<9} {:<24} {:<24} {:<10} {:<20} {state}",
                        b.serial,
                        row.principal.as_ref().map(|p| p.kind.as_str()).unwrap_or("?"),
                        row.organisation.as_ref().map(|o| o.name.as_str()).unwrap_or("?"),
                        row.principal.as_ref().map(|p| p.name.as_str()).unwrap_or("?"),
                        row.principal.as_ref().map(|p| p.status.as_str()).unwrap_or("?"),
                        b.not_after.date(),
                    );
                }
                Ok(())
            }
            PkiCommand::Crl { out } => {
                let ca = load_ca(&ctx)?;
                let paths = PkiPaths { crl: out.unwrap_or(paths.crl.clone()) };
                let crl = pki::publish_crl(store.as_ref(), &ca, &paths, &acting).await?;
                println!("CRL number {} written to {}", crl.number, paths.crl.display());
                Ok(())
            }
            PkiCommand::Bind(args) => {
                let der = read_pem_certificates(&args.cert)?
                    .into_iter()
                    .next()
                    .ok_or_else(|| CliError::Usage("no certificate in the file".into()))?;
                let material = TlsMaterial::load(&ctx.config, &ctx.data_dir)?;
                let subject = subject(&ctx, &args.principal)?;
                let (principal, binding) = pki::bind_external(
                    store.as_ref(),
                    &der,
                    |d| material.verify_client_certificate(d),
                    &subject,
                    &acting,
                )
                .await?;
                println!("bound certificate {} to {}", binding.serial, principal.id);
                println!("  fingerprint  {}", binding.fingerprint);
                println!("  issuer       {}", binding.issuer);
                Ok(())
            }
        }
    }
    .await;
    store.close().await;
    result
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs_are_path_safe() {
        assert_eq!(super::slug("CSIRT La Réunion"), "csirt-la-r-union");
        assert_eq!(super::slug("../etc"), "etc");
    }
}
