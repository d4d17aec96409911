//! First start: a data directory with a development CA, the server certificate, the hub's own
//! organisation and the demo principals. Later starts reuse what is there.

use std::path::{Path, PathBuf};

use time::{Duration, OffsetDateTime};

use super::pki::{self, PkiPaths, PkiServiceError};
use crate::config::Config;
use crate::domain::audit::record::Acting;
use crate::domain::principal::{OrganisationKind, PrincipalKind};
use crate::pki::ca::ClientUsage;
use crate::pki::files::{pkcs12, write_private, write_public};
use crate::pki::{CertificateAuthority, ClientSubject, PkiError};
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error(transparent)]
    Service(#[from] PkiServiceError),
    #[error(
        "{cert} exists but neither {key} nor the server certificate does: restore the CA key or \
         the server certificate"
    )]
    MissingKey { cert: PathBuf, key: PathBuf },
    #[error("demo registry: {0}")]
    Demo(#[from] crate::services::registry_demo::DemoError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Records what the objects stored before the hub kept their references refer to, so that
/// reading them needs no parse (migration 0010). Idempotent: instances starting together
/// write the same values.
#[tracing::instrument(skip_all)]
pub async fn fill_references(store: &dyn Store) -> Result<u64, StoreError> {
    const BATCH: u32 = 1000;
    let mut filled = 0;
    loop {
        let n = store.fill_references(BATCH).await?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    if filled > 0 {
        tracing::info!(filled, "references recorded for objects stored before");
    }
    Ok(filled)
}

/// A demo principal created on first start, with one certificate.
#[derive(Debug, Clone, Copy)]
pub struct DemoPrincipal {
    pub name: &'static str,
    pub kind: PrincipalKind,
    /// `None`: the hub's own CSIRT.
    pub organisation: Option<&'static str>,
}

pub const DEMO_PRINCIPALS: [DemoPrincipal; 6] = [
    DemoPrincipal {
        name: "csirt-analyst",
        kind: PrincipalKind::Analyst,
        organisation: None,
    },
    DemoPrincipal {
        name: "provider-a",
        kind: PrincipalKind::Provider,
        organisation: Some("Provider A (demo)"),
    },
    DemoPrincipal {
        name: "provider-b",
        kind: PrincipalKind::Provider,
        organisation: Some("Provider B (demo)"),
    },
    DemoPrincipal {
        name: "provider-c",
        kind: PrincipalKind::Provider,
        organisation: Some("Provider C (demo)"),
    },
    DemoPrincipal {
        name: "provider-d",
        kind: PrincipalKind::Provider,
        organisation: Some("Provider D (demo)"),
    },
    DemoPrincipal {
        name: "partner-csirt",
        kind: PrincipalKind::Peer,
        organisation: Some("Partner CSIRT (demo)"),
    },
];

/// Where a demo principal's files are: `certs/demo/NAME.pem`, `NAME-key.pem`, `NAME.p12`.
#[derive(Debug, Clone)]
pub struct CredentialFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub p12: PathBuf,
}

impl CredentialFiles {
    pub fn in_dir(dir: &Path, name: &str) -> Self {
        Self {
            cert: dir.join(format!("{name}.pem")),
            key: dir.join(format!("{name}-key.pem")),
            p12: dir.join(format!("{name}.p12")),
        }
    }

    /// Writes a certificate, its key (0600) and a PKCS#12 bundle of both with the CA.
    pub fn write(
        &self,
        issued: &crate::pki::IssuedCertificate,
        ca: &CertificateAuthority,
        alias: &str,
        p12_password: &str,
    ) -> Result<(), PkiError> {
        write_private(&self.key, issued.key_pem.as_bytes())?;
        write_public(&self.cert, issued.cert_pem.as_bytes())?;
        let bundle = pkcs12(
            alias,
            &issued.key_pkcs8_der,
            &issued.cert_der,
            ca.cert_der(),
            p12_password,
        )?;
        write_private(&self.p12, &bundle)
    }
}

#[derive(Debug, Clone)]
pub struct Prepared {
    /// A CA was generated in this run.
    pub created_ca: bool,
    pub ca_cert: PathBuf,
    /// Demo credentials present in the data directory (empty outside demo mode).
    pub demo: Vec<(DemoPrincipal, CredentialFiles)>,
}

pub fn demo_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("certs").join("demo")
}

pub fn crl_path(data_dir: &Path) -> PathBuf {
    data_dir.join("certs").join("crl.pem")
}

/// Makes the data directory ready to serve. Idempotent: only what is missing is created.
pub async fn prepare(
    data_dir: &Path,
    config: &Config,
    store: &dyn Store,
    now: OffsetDateTime,
) -> Result<Prepared, BootstrapError> {
    let ca_cert = config.resolve(data_dir, &config.tls.ca_cert);
    let ca_key = config.resolve(data_dir, &config.tls.ca_key);
    let server_cert = config.resolve(data_dir, &config.tls.server_cert);
    let server_key = config.resolve(data_dir, &config.tls.server_key);
    let paths = PkiPaths {
        crl: crl_path(data_dir),
    };
    let acting = Acting::hub(now);

    let mut created_ca = false;
    let ca = if ca_cert.exists() {
        if ca_key.exists() {
            Some(CertificateAuthority::load(&ca_cert, &ca_key)?)
        } else {
            None
        }
    } else {
        let ca = CertificateAuthority::generate(
            &format!("relais development CA ({})", config.hub.organisation),
            now,
            Duration::days(config.pki.ca_validity_days.into()),
        )?;
        write_private(&ca_key, ca.key_pem().as_bytes())?;
        write_public(&ca_cert, ca.cert_pem().as_bytes())?;
        created_ca = true;
        Some(ca)
    };

    if !server_cert.exists() || !server_key.exists() {
        let Some(ca) = &ca else {
            return Err(BootstrapError::MissingKey {
                cert: ca_cert,
                key: ca_key,
            });
        };
        let issued = ca.issue_server(
            &config.pki.server_names,
            now,
            Duration::days(config.pki.server_validity_days.into()),
        )?;
        write_private(&server_key, issued.key_pem.as_bytes())?;
        write_public(&server_cert, issued.cert_pem.as_bytes())?;
    }

    pki::ensure_organisation(
        store,
        &config.hub.organisation,
        OrganisationKind::Csirt,
        &acting,
    )
    .await?;
    if created_ca {
        // The CA lives in files, not in the store: its creation still belongs in the log.
        store
            .append_audit(
                &acting
                    .record("ca.create")
                    .reason("development CA generated at first start"),
            )
            .await
            .map_err(PkiServiceError::from)?;
    }

    if let Some(ca) = &ca
        && store
            .latest_crl()
            .await
            .map_err(PkiServiceError::from)?
            .is_none()
    {
        pki::publish_crl(store, ca, &paths, &acting).await?;
    }

    let markings = config.resolve(data_dir, &config.policies.markings);
    if !markings.exists() {
        write_public(
            &markings,
            crate::domain::markings::policy::SHIPPED.as_bytes(),
        )?;
    }
    let federation = config.resolve(data_dir, &config.policies.federation);
    if !federation.exists() {
        write_public(&federation, crate::domain::federation::SHIPPED.as_bytes())?;
    }
    let anonymisation = config.resolve(data_dir, &config.policies.anonymisation);
    if !anonymisation.exists() {
        write_public(&anonymisation, crate::domain::anonymise::SHIPPED.as_bytes())?;
    }
    let survey = config.resolve(data_dir, &config.policies.survey);
    if !survey.exists() {
        write_public(&survey, crate::domain::registry::survey::SHIPPED.as_bytes())?;
    }
    let exports = config.resolve(data_dir, &config.policies.exports);
    if !exports.exists() {
        write_public(&exports, crate::domain::exports::SHIPPED.as_bytes())?;
    }
    let sla = config.resolve(data_dir, &config.policies.sla);
    if !sla.exists() {
        write_public(&sla, crate::domain::sla::policy::SHIPPED.as_bytes())?;
    }
    let reunion = config
        .resolve(data_dir, &config.policies.calendars)
        .join("reunion.toml");
    if !reunion.exists() {
        write_public(
            &reunion,
            crate::domain::sla::calendar::SHIPPED_REUNION.as_bytes(),
        )?;
    }

    let mut demo = Vec::new();
    if config.pki.demo {
        let dir = demo_dir(data_dir);
        for principal in DEMO_PRINCIPALS {
            let files = CredentialFiles::in_dir(&dir, principal.name);
            if !files.cert.exists()
                && let Some(ca) = &ca
            {
                let subject = ClientSubject {
                    kind: principal.kind,
                    organisation: principal
                        .organisation
                        .unwrap_or(&config.hub.organisation)
                        .to_owned(),
                    name: principal.name.to_owned(),
                };
                let (_, issued) = pki::issue(
                    store,
                    ca,
                    &subject,
                    ClientUsage::ClientAuth,
                    config.pki.client_validity_days,
                    &acting,
                )
                .await?;
                files.write(&issued, ca, principal.name, "")?;
            }
            if files.cert.exists() {
                demo.push((principal, files));
            }
        }
    }

    if config.pki.demo {
        crate::services::registry_demo::seed(store, &demo_dir(data_dir), now).await?;
    }
    fill_references(store).await?;

    Ok(Prepared {
        created_ca,
        ca_cert,
        demo,
    })
}
