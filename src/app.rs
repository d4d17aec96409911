//! The running hub: two listeners and the background jobs, started together and stopped
//! together.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument as _;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::crypto::cursor::CursorKey;
use crate::domain::anonymise::{AnonymisationPolicy, PseudonymKey};
use crate::domain::exports::ExportPolicy;
use crate::domain::federation::FederationPolicy;
use crate::domain::markings::policy::MarkingPolicy;
use crate::domain::registry::survey::SurveyPolicy;
use crate::http::tls::{ReloadingConfig, TlsError, TlsMaterial};
use crate::http::{self, AppState, server};
use crate::services::checkpoints::Checkpointer;
use crate::services::jobs::Periodic;
use crate::services::revocation::Revocations;
use crate::services::{Services, ServicesParts, secrets};
use crate::store::SharedStore;

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error(transparent)]
    Federation(#[from] crate::services::federation::FederationError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// A calendar file with a mistake, or the SLA policy's default calendar missing.
    #[error("{0}")]
    Calendars(String),
    #[error("{path}: {source}")]
    Policy {
        path: std::path::PathBuf,
        #[source]
        source: PolicyLoadError,
    },
    #[error(transparent)]
    Secret(#[from] crate::services::secrets::SecretError),
    #[error("the stored hub secret {0} is not 32 bytes; the database was edited")]
    CorruptSecret(&'static str),
    #[error("audit log: {0}")]
    Checkpoint(#[from] crate::services::checkpoints::CheckpointError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("cases.csirt_key {path}: {message}")]
    CsirtKey {
        path: std::path::PathBuf,
        message: String,
    },
}

/// The CSIRT's key that handoff packages are encrypted to: the configured public key, or one
/// the hub generates and keeps (its secret written for the demo analyst in demo mode).
async fn csirt_key(
    config: &Config,
    data_dir: &Path,
    store: &SharedStore,
    now: time::OffsetDateTime,
) -> Result<crate::crypto::openpgp::PublicKey, HubError> {
    use crate::crypto::openpgp::PublicKey;
    if !config.cases.csirt_key.as_os_str().is_empty() {
        let path = config.resolve(data_dir, &config.cases.csirt_key);
        let failed = |message: String| HubError::CsirtKey {
            path: path.clone(),
            message,
        };
        let bytes = std::fs::read(&path).map_err(|e| failed(e.to_string()))?;
        let key = PublicKey::from_bytes(&bytes).map_err(|e| failed(e.to_string()))?;
        if !crate::crypto::envelope::can_receive(&key, now) {
            return Err(failed(
                "the key has no valid encryption subkey; handoffs could not be encrypted to it"
                    .into(),
            ));
        }
        return Ok(key);
    }
    let key = secrets::ensure_case_key(
        store.as_ref(),
        &format!("{} cases <csirt@relais.invalid>", config.hub.organisation),
        now,
    )
    .await?;
    if !config.pki.demo {
        // The CSIRT's copy of every package would open only with a secret the hub keeps next
        // to the packages, and no analyst holds.
        tracing::warn!(
            "cases.csirt_key is not set: handoff packages are encrypted to a key the hub \
             generated and keeps; set the CSIRT's own public key"
        );
    }
    if config.pki.demo {
        let path = crate::services::bootstrap::demo_dir(data_dir).join("csirt-openpgp.asc");
        if !path.exists() {
            let armored = key
                .to_armored_secret()
                .map_err(secrets::SecretError::from)?;
            crate::pki::files::write_private(&path, armored.as_bytes()).map_err(|e| {
                HubError::CsirtKey {
                    path: path.clone(),
                    message: e.to_string(),
                }
            })?;
        }
    }
    Ok(key.public_key())
}

/// Why a policy file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PolicyLoadError {
    #[error(transparent)]
    Read(#[from] std::io::Error),
    #[error(transparent)]
    Invalid(#[from] crate::domain::markings::policy::PolicyError),
    #[error(transparent)]
    Federation(#[from] crate::domain::federation::FederationPolicyError),
    #[error(transparent)]
    Anonymisation(#[from] crate::domain::anonymise::PolicyError),
    #[error(transparent)]
    Survey(#[from] crate::domain::registry::survey::SurveyPolicyError),
    #[error(transparent)]
    Exports(#[from] crate::domain::exports::ExportPolicyError),
    #[error(transparent)]
    Sla(#[from] crate::domain::sla::policy::SlaPolicyError),
}

/// Reads and checks one policy file; errors name the file.
fn load_policy<T, E>(
    config: &Config,
    data_dir: &Path,
    file: &Path,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, HubError>
where
    PolicyLoadError: From<E>,
{
    let path = config.resolve(data_dir, file);
    let read = || -> Result<T, PolicyLoadError> { Ok(parse(&std::fs::read_to_string(&path)?)?) };
    read().map_err(|source| HubError::Policy {
        path: path.clone(),
        source,
    })
}

/// A hub whose listeners are bound but not yet serving: tests bind port 0 and read the
/// addresses before calling `run`.
#[derive(Debug)]
pub struct Hub {
    main: TcpListener,
    public: TcpListener,
    main_tls: Arc<ReloadingConfig>,
    public_tls: Arc<ServerConfig>,
    state: AppState,
    /// The inbound federation: its supervisor and workers run beside the listeners.
    federation: Arc<crate::services::federation::worker::Federation>,
    /// For the jobs the hub wires up itself; handlers reach it only through the services.
    store: SharedStore,
    config: Config,
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, HubError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| HubError::Bind { addr, source })
}

impl Hub {
    pub async fn build(
        config: &Config,
        data_dir: &Path,
        store: SharedStore,
        clock: SharedClock,
    ) -> Result<Self, HubError> {
        let material = TlsMaterial::load(config, data_dir)?;
        let public_tls = material.public_config()?;
        let main_tls =
            ReloadingConfig::new(material, &Revocations::new(Arc::clone(&store))).await?;
        let policies = &config.policies;
        let policy = Arc::new(load_policy(
            config,
            data_dir,
            &policies.markings,
            MarkingPolicy::parse,
        )?);
        let federation = load_policy(
            config,
            data_dir,
            &policies.federation,
            FederationPolicy::parse,
        )?;
        // Peers named by "organisation/principal" are found in the registry now, and again
        // at each reload; a peer's certificate files are checked before the hub listens.
        let federation = crate::services::federation::resolve(store.as_ref(), federation)
            .await
            .map_err(crate::services::federation::FederationError::from)?;
        crate::services::federation::worker::check_clients(&federation, data_dir)?;
        let federation = Arc::new(arc_swap::ArcSwap::from_pointee(federation));
        let anonymisation = Arc::new(load_policy(
            config,
            data_dir,
            &policies.anonymisation,
            AnonymisationPolicy::parse,
        )?);
        let survey_policy = Arc::new(load_policy(
            config,
            data_dir,
            &policies.survey,
            SurveyPolicy::parse,
        )?);
        let exports = Arc::new(load_policy(
            config,
            data_dir,
            &policies.exports,
            ExportPolicy::parse,
        )?);
        let sla_policy = Arc::new(load_policy(
            config,
            data_dir,
            &policies.sla,
            crate::domain::sla::policy::SlaPolicy::parse,
        )?);
        let calendars =
            crate::services::sla::Calendars::load(&config.resolve(data_dir, &policies.calendars))
                .map_err(HubError::Calendars)?;
        if calendars.get(&sla_policy.default_calendar).is_none() {
            return Err(HubError::Calendars(format!(
                "sla policy: default_calendar {:?} is not a file of {}",
                sla_policy.default_calendar,
                config.resolve(data_dir, &policies.calendars).display()
            )));
        }
        let case_calendar: Arc<dyn crate::domain::cases::hours::BusinessCalendar> = calendars
            .get(&sla_policy.default_calendar)
            .map(|c| Arc::new(c.as_ref().clone()) as Arc<_>)
            .ok_or_else(|| HubError::Calendars("no default calendar".to_owned()))?;
        let calendars = Arc::new(calendars);
        let pseudonym_secret =
            secrets::ensure(store.as_ref(), secrets::PSEUDONYM_KEY, clock.now()).await?;
        let pseudonyms = Arc::new(
            PseudonymKey::from_slice(&pseudonym_secret)
                .map_err(|_| HubError::CorruptSecret(secrets::PSEUDONYM_KEY))?,
        );
        let cursor_secret =
            secrets::ensure(store.as_ref(), secrets::CURSOR_KEY, clock.now()).await?;
        let origin = config.audit_origin();
        let audit_key = secrets::ensure_audit_key(
            store.as_ref(),
            &format!("relais audit log <{origin}>"),
            clock.now(),
        )
        .await?;
        let registry_key = secrets::ensure_openpgp_key(
            store.as_ref(),
            secrets::REGISTRY_KEY,
            &format!("{} registry <{}>", config.hub.organisation, origin),
            clock.now(),
        )
        .await?;
        let survey_key = secrets::ensure(store.as_ref(), secrets::SURVEY_KEY, clock.now()).await?;
        let witness_key = Arc::new(
            crate::services::federation::witness::hub_witness_key(
                store.as_ref(),
                &origin,
                clock.now(),
            )
            .await?,
        );
        let csirt_key = csirt_key(config, data_dir, &store, clock.now()).await?;
        let case_settings = crate::services::cases::CaseSettings {
            shortlist_size: config.cases.shortlist_size,
            answer_within: crate::config::parse_duration(&config.cases.answer_within)
                .ok_or_else(|| crate::config::ConfigError::Invalid("cases.answer_within".into()))?,
            choice_link_validity: crate::config::parse_duration(&config.cases.choice_link_valid)
                .ok_or_else(|| {
                    crate::config::ConfigError::Invalid("cases.choice_link_valid".into())
                })?,
        };
        let main = bind(config.listen.main).await?;
        let public = bind(config.listen.public).await?;
        let public_port = public
            .local_addr()
            .map_or(config.listen.public.port(), |a| a.port());
        // The bound port, not the configured one: a test (or an operator) may ask for port 0.
        let taxii_url = config.taxii_url(
            main.local_addr()
                .map_or(config.listen.main.port(), |a| a.port()),
        )?;
        let checkpoints = Arc::new(Checkpointer {
            store: Arc::clone(&store),
            clock: Arc::clone(&clock),
            key: Arc::new(audit_key),
            origin,
            every_entries: config.audit.checkpoint_entries,
            every: time::Duration::seconds(
                i64::try_from(config.audit.checkpoint_secs).unwrap_or(i64::MAX),
            ),
        });
        // A running hub always serves a checkpoint: the first is signed before listening.
        if store
            .latest_checkpoint()
            .await
            .map_err(crate::services::checkpoints::CheckpointError::from)?
            .is_none()
        {
            checkpoints.checkpoint_now().await?;
        }
        let services = Arc::new(Services::new(ServicesParts {
            store: Arc::clone(&store),
            policy,
            federation: Arc::clone(&federation),
            anonymisation,
            exports,
            pseudonyms,
            cursors: CursorKey::new(&cursor_secret)
                .map_err(|_| HubError::CorruptSecret(secrets::CURSOR_KEY))?,
            checkpoints,
            registry_key: Arc::new(registry_key),
            survey_key: Arc::from(survey_key),
            survey_policy,
            organisation: Arc::from(config.hub.organisation.as_str()),
            case_settings: Arc::new(case_settings),
            // The cases' business hours are the SLA's default calendar, holidays included.
            calendar: case_calendar,
            csirt_key: Arc::new(csirt_key),
            report_settings: Arc::new(report_settings(config)),
            sla_policy,
            calendars,
        }));
        let federation = Arc::new(crate::services::federation::worker::Federation {
            services: Arc::clone(&services),
            store: Arc::clone(&store),
            policy: federation,
            policy_path: config.resolve(data_dir, &policies.federation),
            data_dir: data_dir.to_owned(),
            clock: Arc::clone(&clock),
            holder: uuid::Uuid::new_v4().to_string(),
            pull: config.federation.pull,
            witness: witness_key,
        });
        Ok(Self {
            main,
            public,
            main_tls,
            public_tls,
            federation,
            state: AppState {
                services,
                clock,
                limits: config.limits.clone(),
                public_url: Arc::from(config.public_url(public_port)),
                taxii_url: Arc::from(taxii_url),
            },
            store,
            config: config.clone(),
        })
    }

    /// The inbound federation, for a test (or an embedding program) to poll a peer now.
    pub fn federation(&self) -> Arc<crate::services::federation::worker::Federation> {
        Arc::clone(&self.federation)
    }

    pub fn main_addr(&self) -> SocketAddr {
        self.main.local_addr().unwrap_or(self.config.listen.main)
    }

    pub fn public_addr(&self) -> SocketAddr {
        self.public
            .local_addr()
            .unwrap_or(self.config.listen.public)
    }

    /// Serves until `shutdown` is cancelled, then drains: no new connections, in-flight
    /// requests get `limits.shutdown_grace_secs` to finish, jobs are joined.
    pub async fn run(self, shutdown: CancellationToken) {
        let connections = TaskTracker::new();
        let jobs = TaskTracker::new();
        let limits = self.config.limits.clone();

        self.main_tls.spawn_refresher(
            Revocations::new(Arc::clone(&self.store)),
            Duration::from_secs(self.config.tls.crl_refresh_secs.max(1)),
            shutdown.clone(),
            &jobs,
        );
        Arc::clone(&self.state.services.checkpoints).spawn(shutdown.clone(), &jobs);
        let (refusals, refusal_writer) = crate::services::tls_refusals::queue();
        refusal_writer.spawn(
            Arc::clone(&self.store),
            Arc::clone(&self.state.clock),
            shutdown.clone(),
            &jobs,
        );
        spawn_deadlines(
            self.state.clone(),
            Duration::from_secs(self.config.registry.deadline_check_secs.max(1)),
            shutdown.clone(),
            &jobs,
        );
        spawn_pending(self.state.clone(), shutdown.clone(), &jobs);
        let reload = Arc::new(tokio::sync::Notify::new());
        spawn_sighup(Arc::clone(&reload), shutdown.clone(), &jobs);
        Arc::clone(&self.federation).spawn(shutdown.clone(), &jobs, reload);
        spawn_report_deadlines(
            self.state.clone(),
            Duration::from_secs(self.config.reports.deadline_check_secs.max(1)),
            shutdown.clone(),
            &jobs,
        );
        spawn_handoff_check(
            self.state.clone(),
            Duration::from_secs(self.config.cases.handoff_check_secs.max(1)),
            shutdown.clone(),
            &jobs,
        );
        spawn_sla_breaches(self.state.clone(), shutdown.clone(), &jobs);
        let main = server::Listener {
            name: "main",
            socket: self.main,
            tls: Arc::clone(&self.main_tls),
            router: http::main_router(self.state.clone()),
            refusals: Some(refusals),
        };
        jobs.spawn(server::serve(
            main,
            limits.clone(),
            shutdown.clone(),
            connections.clone(),
        ));
        let public = server::Listener {
            name: "public",
            socket: self.public,
            tls: self.public_tls,
            router: http::public_router(self.state.clone()),
            // It asks for no certificate, so refuses none.
            refusals: None,
        };
        jobs.spawn(server::serve(
            public,
            limits.clone(),
            shutdown.clone(),
            connections.clone(),
        ));
        jobs.close();

        shutdown.cancelled().await;
        tracing::info!("shutting down");
        let grace = Duration::from_secs(limits.shutdown_grace_secs);
        if tokio::time::timeout(grace, jobs.wait()).await.is_err() {
            tracing::warn!("background jobs did not stop within the grace period");
        }
        connections.close();
        if tokio::time::timeout(grace, connections.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                open = connections.len(),
                "connections still open after the grace period; closing them"
            );
        }
        self.store.close().await;
        tracing::info!("stopped");
    }
}

/// SIGHUP reloads the federation policy (the other policies are read at start).
fn spawn_sighup(reload: Arc<tokio::sync::Notify>, shutdown: CancellationToken, jobs: &TaskTracker) {
    let Ok(mut hangups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
    else {
        tracing::warn!("SIGHUP cannot be listened for; use `relais federation reload`");
        return;
    };
    jobs.spawn(
        async move {
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    got = hangups.recv() => match got {
                        Some(()) => {
                            tracing::info!("SIGHUP: reloading the federation policy");
                            reload.notify_one();
                        }
                        None => break,
                    },
                }
            }
        }
        .instrument(tracing::info_span!("job", name = "sighup")),
    );
}

/// How often objects waiting for marking definitions are taken again: those whose wait is over
/// are refused, those whose definitions arrived through another instance are stored.
const PENDING_CHECK: Duration = Duration::from_secs(5);

/// Resolves pending objects on the hub's clock. Every instance runs it; a row another instance
/// resolved first makes this one's write a conflict, and it moves on.
fn spawn_pending(state: AppState, shutdown: CancellationToken, jobs: &TaskTracker) {
    Periodic::new("pending_markings", PENDING_CHECK).spawn(shutdown, jobs, move || {
        let state = state.clone();
        async move {
            match state.ingest().resume_pending(state.clock.now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(resolved = n, "pending objects resolved"),
                Err(e) => tracing::warn!(error = %e, "resolving pending objects failed"),
            }
        }
    });
}

/// What `[reports]` and `[statistics]` set, checked when the configuration was read.
fn report_settings(config: &Config) -> crate::services::reports::ReportSettings {
    let defaults = crate::services::reports::ReportSettings::default();
    crate::services::reports::ReportSettings {
        summary_due: crate::domain::reports::deadlines::parse_month_day(
            &config.reports.annual_summary_due,
        )
        .unwrap_or(defaults.summary_due),
        min_group: config.statistics.min_group,
    }
}

/// Records REX and annual-summary reminders, overdue states and breach candidates on the
/// hub's clock. Every instance runs it; each notice is recorded once, by whichever instance
/// gets there first.
fn spawn_report_deadlines(
    state: AppState,
    every: Duration,
    shutdown: CancellationToken,
    jobs: &TaskTracker,
) {
    Periodic::new("report_deadlines", every).spawn(shutdown, jobs, move || {
        let state = state.clone();
        async move {
            match state.services.reports().tick(state.clock.now()).await {
                Ok(round) if round.recorded == 0 => {}
                Ok(round) => tracing::info!(recorded = round.recorded, "report notices recorded"),
                Err(e) => tracing::warn!(error = %e, "report deadlines failed"),
            }
        }
    });
}

/// Records SOC alerts whose take-in delay ran out (`sla.toml` `breach_check_secs`). Every
/// instance runs it; a breach is recorded once, by whichever instance gets there first.
fn spawn_sla_breaches(state: AppState, shutdown: CancellationToken, jobs: &TaskTracker) {
    let every = Duration::from_secs(state.services.sla_policy.breach_check_secs.max(1));
    Periodic::new("sla_breaches", every).spawn(shutdown, jobs, move || {
        let state = state.clone();
        async move {
            match state
                .services
                .sla()
                .record_breaches(state.clock.now())
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(recorded = n, "SLA breaches recorded"),
                Err(e) => tracing::warn!(error = %e, "SLA breach check failed"),
            }
        }
    });
}

/// Flags handoffs whose answer did not come within `cases.answer_within`. Every instance
/// runs it; a handoff is flagged once, by whichever instance gets there first.
fn spawn_handoff_check(
    state: AppState,
    every: Duration,
    shutdown: CancellationToken,
    jobs: &TaskTracker,
) {
    Periodic::new("case_handoffs", every).spawn(shutdown, jobs, move || {
        let state = state.clone();
        async move {
            match state.services.cases().flag_overdue(state.clock.now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(flagged = n, "handoffs overdue"),
                Err(e) => tracing::warn!(error = %e, "checking handoffs failed"),
            }
        }
    });
}

/// Applies the registry's due transitions (renewals, expiries, notices, unsigned convention
/// versions) on the hub's clock. Every instance runs it; a change another instance wrote
/// first is refused as a conflict and picked up on the next round.
fn spawn_deadlines(
    state: AppState,
    every: Duration,
    shutdown: CancellationToken,
    jobs: &TaskTracker,
) {
    Periodic::new("registry_deadlines", every).spawn(shutdown, jobs, move || {
        let state = state.clone();
        async move {
            match state.registry().deadlines().tick(state.clock.now()).await {
                Ok(round) if round.changes == 0 => {}
                Ok(round) => tracing::info!(changes = round.changes, "registry deadlines applied"),
                Err(e) => tracing::warn!(error = %e, "registry deadlines failed"),
            }
        }
    });
}
