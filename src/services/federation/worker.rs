//! The inbound side at run time: one task per peer with an enabled ingress, as Lemmy runs
//! one per outgoing peer. Each takes a lease in the database before it polls, so one instance
//! of a deployment polls a peer; failures back off (doubling, capped, jittered); the next
//! poll's time is stored, so a restart does not hammer a failing peer. A supervisor reloads
//! the policy when asked (SIGHUP, or `relais federation reload` through the database) and
//! starts, restarts or stops workers to match it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use ring::rand::SecureRandom as _;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument as _;

use super::client::PeerClient;
use super::pull::{PollReport, Pull};
use super::witness::{Round, witness_round};
use super::{FederationError, peer_record, read_policy, resolve};
use crate::clock::SharedClock;
use crate::domain::audit::cosignature::WitnessKey;
use crate::domain::federation::backoff::next_delay;
use crate::domain::federation::collection::peer_collection_id;
use crate::domain::federation::{FederationPolicy, Ingress};
use crate::domain::principal::PrincipalId;
use crate::services::Services;
use crate::store::SharedStore;
use crate::store::federation::PollEnd;

/// How often the supervisor looks for a reload request.
const SUPERVISE_EVERY: Duration = Duration::from_secs(2);
/// A worker looks again at least this often (a poll due earlier, a cancellation).
const MAX_NAP: Duration = Duration::from_secs(5);

/// The hub's federation: policy, store, and where its files are.
#[derive(Debug)]
pub struct Federation {
    pub services: Arc<Services>,
    pub store: SharedStore,
    pub policy: Arc<ArcSwap<FederationPolicy>>,
    pub policy_path: PathBuf,
    pub data_dir: PathBuf,
    pub clock: SharedClock,
    /// This instance's name in leases.
    pub holder: String,
    /// Whether this instance runs pull workers (`federation.pull`).
    pub pull: bool,
    /// The key this hub cosigns its peers' checkpoints with.
    pub witness: Arc<WitnessKey>,
}

fn jitter() -> f64 {
    let mut bytes = [0u8; 8];
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        return 0.5;
    }
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

impl Federation {
    /// Reads the policy file again, resolves it against the registry and checks that every
    /// enabled ingress can be built (its files exist and parse); only then is it swapped in.
    /// The number of entries.
    pub async fn reload(&self) -> Result<usize, FederationError> {
        let policy = resolve(self.store.as_ref(), read_policy(&self.policy_path)?).await?;
        check_clients(&policy, &self.data_dir)?;
        let n = policy.entries().count();
        self.policy.store(Arc::new(policy));
        tracing::info!(peers = n, "federation policy loaded");
        Ok(n)
    }

    /// One poll of `peer` now, whatever its schedule and lease: the worker's round, and what
    /// tests call. Records how it ended and when the next poll is due.
    pub async fn poll_peer(&self, peer: &PrincipalId) -> Result<PollReport, FederationError> {
        let policy = self.policy.load_full();
        let ingress = policy
            .entry_of(peer)
            .and_then(|e| e.ingress.clone())
            .filter(|i| i.enabled)
            .ok_or_else(|| FederationError::NotPulled(peer.to_string()))?;
        let started = self.clock.now();
        let result = self.pull(&policy, peer, &ingress).await;
        let failures = match &result {
            Ok(_) => 0,
            Err(_) => self
                .store
                .peer_states()
                .await?
                .iter()
                .find(|s| s.peer == peer.as_str())
                .map_or(0, |s| s.failures)
                .saturating_add(1),
        };
        let delay = match &result {
            // A budget ran out: the peer has more, go on at once.
            Ok(r) if r.budget_spent => Duration::ZERO,
            _ => next_delay(
                ingress.poll_secs,
                ingress.max_backoff_secs,
                u32::try_from(failures).unwrap_or(u32::MAX),
                jitter(),
            ),
        };
        let end = match &result {
            Ok(_) => PollEnd::Success,
            Err(e) => PollEnd::Failure(e.to_string()),
        };
        let now = self.clock.now();
        self.store
            .record_poll(
                peer,
                &end,
                now,
                now + time::Duration::try_from(delay).unwrap_or(time::Duration::HOUR),
            )
            .await?;
        match &result {
            Ok(r) => tracing::info!(
                pages = r.pages,
                stored = r.stored,
                duplicates = r.duplicates,
                refused = r.refused,
                took_ms = (now - started).whole_milliseconds() as i64,
                "peer polled"
            ),
            Err(e) => {
                tracing::warn!(error = %e, failures, next_in_s = delay.as_secs(), "peer poll failed")
            }
        }
        result
    }

    /// One witnessing round for `peer` now: its latest checkpoint judged against the last
    /// one cosigned, cosigned or alarmed, the cosignature sent back.
    pub async fn witness_peer(&self, peer: &PrincipalId) -> Result<Round, FederationError> {
        let policy = self.policy.load_full();
        let entry = policy
            .entry_of(peer)
            .cloned()
            .ok_or_else(|| FederationError::NotPulled(peer.to_string()))?;
        let ingress = entry
            .ingress
            .clone()
            .filter(|i| i.enabled)
            .ok_or_else(|| FederationError::NotPulled(peer.to_string()))?;
        let client = PeerClient::new(&ingress, &self.data_dir).map_err(|source| {
            FederationError::Client {
                peer: peer.to_string(),
                source,
            }
        })?;
        witness_round(
            self.store.as_ref(),
            &self.witness,
            &client,
            peer,
            &entry,
            self.clock.now(),
        )
        .await
        .map_err(|source| FederationError::Witness {
            peer: peer.to_string(),
            source,
        })
    }

    async fn pull(
        &self,
        policy: &FederationPolicy,
        peer: &PrincipalId,
        ingress: &Ingress,
    ) -> Result<PollReport, FederationError> {
        let client =
            PeerClient::new(ingress, &self.data_dir).map_err(|source| FederationError::Client {
                peer: peer.to_string(),
                source,
            })?;
        let record = peer_record(self.store.as_ref(), peer)
            .await?
            .ok_or_else(|| FederationError::UnknownPeer(peer.to_string()))?;
        let collection = peer_collection_id(peer);
        let clock = Arc::clone(&self.clock);
        let now = move || clock.now();
        let pull = Pull {
            store: self.store.as_ref(),
            ingest: self.services.ingest(),
            policy,
            peer: &record,
            collection: &collection,
            client: &client,
            now: &now,
        };
        Ok(pull.run().await?)
    }

    /// One worker's loop for `peer`, until `stop`.
    async fn work(self: Arc<Self>, peer: PrincipalId, ingress: Ingress, stop: CancellationToken) {
        let lease = format!("federation.pull:{peer}");
        loop {
            let now = self.clock.now();
            let due = match self.store.peer_states().await {
                Ok(states) => states
                    .iter()
                    .find(|s| s.peer == peer.as_str())
                    .and_then(|s| s.next_poll),
                Err(e) => {
                    tracing::warn!(error = %e, "reading the peer's state failed");
                    Some(now + time::Duration::seconds(5))
                }
            };
            let nap = match due {
                Some(due) if due > now => Duration::try_from(due - now)
                    .unwrap_or(MAX_NAP)
                    .min(MAX_NAP),
                _ => Duration::ZERO,
            };
            if !nap.is_zero() {
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(nap) => continue,
                }
            }
            let until = now + time::Duration::seconds(ingress.max_poll_secs as i64 + 30);
            match self
                .store
                .take_lease(&lease, &self.holder, now, until)
                .await
            {
                Ok(true) => {
                    let round = async {
                        if self.poll_peer(&peer).await.is_ok() && ingress.witness {
                            match self.witness_peer(&peer).await {
                                Ok(r) => tracing::debug!(round = ?r, "witnessed"),
                                Err(e) => tracing::warn!(error = %e, "witnessing failed"),
                            }
                        }
                    };
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = round => {}
                    }
                }
                Ok(false) => {
                    // Another instance polls this peer; look again later.
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(MAX_NAP) => {}
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "taking the peer's lease failed");
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(MAX_NAP) => {}
                    }
                }
            }
        }
    }

    /// Starts the supervisor: workers for the policy as it is, then a look every two
    /// seconds for a reload request; `reload_now` (SIGHUP) reloads at once.
    pub fn spawn(
        self: Arc<Self>,
        shutdown: CancellationToken,
        jobs: &TaskTracker,
        reload_now: Arc<tokio::sync::Notify>,
    ) {
        let tracker = jobs.clone();
        let span = tracing::info_span!("job", name = "federation");
        jobs.spawn(
            async move {
                let mut running: HashMap<PrincipalId, (Ingress, CancellationToken)> =
                    HashMap::new();
                let mut generation = self.store.federation_reload_generation().await.unwrap_or(0);
                loop {
                    self.converge(&mut running, &shutdown, &tracker);
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = reload_now.notified() => {
                            if let Err(e) = self.reload().await {
                                tracing::error!(error = %e, "federation reload refused; the previous policy stays");
                            }
                        }
                        () = tokio::time::sleep(SUPERVISE_EVERY) => {
                            match self.store.federation_reload_generation().await {
                                Ok(g) if g != generation => {
                                    generation = g;
                                    if let Err(e) = self.reload().await {
                                        tracing::error!(error = %e, "federation reload refused; the previous policy stays");
                                    }
                                }
                                Ok(_) => {}
                                Err(e) => tracing::warn!(error = %e, "reading the reload generation failed"),
                            }
                        }
                    }
                }
                for (_, (_, stop)) in running {
                    stop.cancel();
                }
            }
            .instrument(span),
        );
    }

    /// Makes the running workers those the policy asks for.
    fn converge(
        self: &Arc<Self>,
        running: &mut HashMap<PrincipalId, (Ingress, CancellationToken)>,
        shutdown: &CancellationToken,
        tracker: &TaskTracker,
    ) {
        let policy = self.policy.load();
        let wanted: HashMap<PrincipalId, Ingress> = policy
            .resolved()
            .filter(|_| self.pull)
            .filter_map(|(id, _, e)| {
                e.ingress
                    .clone()
                    .filter(|i| i.enabled)
                    .map(|i| (id.clone(), i))
            })
            .collect();
        running.retain(|id, (ingress, stop)| {
            let keep = wanted.get(id) == Some(ingress);
            if !keep {
                stop.cancel();
            }
            keep
        });
        for (id, ingress) in wanted {
            if running.contains_key(&id) {
                continue;
            }
            let stop = shutdown.child_token();
            let span = tracing::info_span!("job", name = "federation_pull", peer = %id);
            tracker.spawn(
                Arc::clone(self)
                    .work(id.clone(), ingress.clone(), stop.clone())
                    .instrument(span),
            );
            running.insert(id, (ingress, stop));
        }
    }
}

/// Every enabled ingress of `policy` can be built: a reload with a missing certificate is
/// refused with its one-line reason, not discovered at the next poll.
pub fn check_clients(
    policy: &FederationPolicy,
    data_dir: &std::path::Path,
) -> Result<(), FederationError> {
    for (name, entry) in policy.entries() {
        if let Some(ingress) = entry.ingress.as_ref().filter(|i| i.enabled) {
            PeerClient::new(ingress, data_dir).map_err(|source| FederationError::Client {
                peer: name.to_owned(),
                source,
            })?;
        }
    }
    Ok(())
}
