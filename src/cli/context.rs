//! What every command starts from: the data directory, the loaded configuration, the store.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::app::HubError;
use crate::config::{Config, ConfigError};
use crate::http::tls::TlsError;
use crate::pki::PkiError;
use crate::services::bootstrap::BootstrapError;
use crate::services::pki::PkiServiceError;
use crate::store::{self, SharedStore, StoreError};

/// Every failure a command can end with; printed as one line by `main`.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Bootstrap(#[from] BootstrapError),
    #[error(transparent)]
    Hub(#[from] HubError),
    #[error(transparent)]
    Pki(#[from] PkiServiceError),
    #[error(transparent)]
    PkiFile(#[from] PkiError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "no data directory at {0}; run `relais init` (or `relais serve`) first, or pass --data"
    )]
    NoDataDir(PathBuf),
    #[error("{0}")]
    Usage(String),
    /// A request of `relais case …` that the hub refused or never answered.
    #[error(transparent)]
    Api(#[from] super::api_client::ApiClientError),
    /// The hub read the case's journal and its hash chain did not hold: what was printed
    /// cannot be relied on.
    #[error("the journal of {0} does not verify: its hash chain is broken")]
    JournalUnverified(String),
    /// `relais audit verify` found the export intact, but against the key the export carries.
    #[error(
        "the audit log in {0} is intact against its own key only: the key was not pinned (--key)"
    )]
    Unpinned(String),
    #[error("a peer's audit log raised a witness alarm")]
    WitnessAlarm,
}

impl CliError {
    /// The process's exit status: 1 for every failure, except a verification that could not
    /// rule out a re-signed log, which scripts must tell apart from both success and failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Unpinned(_) => 3,
            CliError::WitnessAlarm => 2,
            _ => 1,
        }
    }
}

#[derive(Debug)]
pub struct Context {
    pub data_dir: PathBuf,
    pub config: Config,
}

impl Context {
    /// Loads the configuration. With `create`, a missing data directory is created (mode 0700)
    /// and a default `relais.toml` written into it.
    pub fn load(data_dir: &Path, config: Option<&Path>, create: bool) -> Result<Self, CliError> {
        if !data_dir.is_dir() {
            if !create {
                return Err(CliError::NoDataDir(data_dir.to_owned()));
            }
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(data_dir)
                .map_err(|source| CliError::Io {
                    path: data_dir.to_owned(),
                    source,
                })?;
        }
        let default_path = data_dir.join("relais.toml");
        let path = config.map(Path::to_owned).unwrap_or(default_path.clone());
        if create && config.is_none() && !path.exists() {
            std::fs::write(&path, crate::config::default_file_text()).map_err(|source| {
                CliError::Io {
                    path: path.clone(),
                    source,
                }
            })?;
        }
        if config.is_some() && !path.exists() {
            return Err(CliError::Io {
                path,
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            });
        }
        let config = Config::load(&path, std::env::vars())?;
        config.check(data_dir)?;
        Ok(Self {
            data_dir: data_dir.to_owned(),
            config,
        })
    }

    pub async fn open_store(&self) -> Result<SharedStore, CliError> {
        Ok(store::open(
            &self.config.database.url,
            &self.data_dir,
            self.config.database.max_connections,
        )
        .await?)
    }

    pub fn path(&self, p: &Path) -> PathBuf {
        self.config.resolve(&self.data_dir, p)
    }
}
