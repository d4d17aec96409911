//! One poll of one peer: each configured collection, page by page from the stored cursor,
//! within the entry's page, object and time budgets. Each page's objects, its audit records
//! and the cursor after it are stored in one transaction, so a restart resumes exactly where
//! the last stored page ended, and a page fetched twice is stored once (versions are unique).

use std::collections::HashMap;

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::client::{ClientError, PeerClient, TAXII_MEDIA_TYPE};
use crate::domain::access::RegistryRecord;
use crate::domain::federation::FederationPolicy;
use crate::domain::federation::provenance::{Holder, may_deliver};
use crate::domain::principal::PrincipalId;
use crate::domain::stix::json::{Container, JsonLimits, read_stix};
use crate::services::ingest::{Ingest, IngestError};
use crate::store::federation::{PullCursor, PulledPage};
use crate::store::{Store, StoreError};

const DATE_ADDED_LAST: &str = "x-taxii-date-added-last";

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("{url}: {problem}")]
    Envelope { url: String, problem: String },
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one poll did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollReport {
    pub pages: u32,
    pub stored: u64,
    /// Objects already held (a page served again).
    pub duplicates: u64,
    pub refused: u64,
    /// A budget ran out before the peer had nothing more: the next poll goes on at once.
    pub budget_spent: bool,
    /// Why objects were refused (the first few), for the log.
    pub refusals: Vec<String>,
}

/// Everything one poll needs.
pub struct Pull<'a> {
    pub store: &'a dyn Store,
    pub ingest: Ingest<'a>,
    pub policy: &'a FederationPolicy,
    pub peer: &'a RegistryRecord,
    /// Our collection the peer's material lands in.
    pub collection: &'a str,
    pub client: &'a PeerClient,
    pub now: &'a (dyn Fn() -> OffsetDateTime + Send + Sync),
}

fn timestamp(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// The later of two `X-TAXII-Date-Added-Last` values: a peer that replays old pages never
/// moves the cursor back.
fn later(old: Option<&str>, new: Option<&str>) -> Option<String> {
    match (old, new.filter(|n| timestamp(n).is_some())) {
        (Some(o), Some(n)) => match (timestamp(o), timestamp(n)) {
            (Some(to), Some(tn)) if tn <= to => Some(o.to_owned()),
            _ => Some(n.to_owned()),
        },
        (o, n) => n.or(o).map(str::to_owned),
    }
}

/// Joins a base URL ending in `/` and a relative path.
fn join(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

fn query_value(v: &str) -> String {
    form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

/// The URL of the page `cursor` points at in the peer's collection `remote`.
fn page_url(root: &str, remote: &str, page_size: u32, cursor: &PullCursor) -> String {
    let mut url = join(
        root,
        &format!(
            "collections/{}/objects/?limit={page_size}",
            query_value(remote)
        ),
    );
    if let Some(after) = &cursor.added_after {
        url.push_str(&format!("&added_after={}", query_value(after)));
    }
    if let Some(next) = &cursor.next {
        url.push_str(&format!("&next={}", query_value(next)));
    }
    url
}

/// Whether an error answer to a request carrying a `next` stored by an earlier poll says the
/// peer no longer knows it. TAXII leaves `next` to the server, and servers keep paging
/// sessions for a while only: medallion forgets one after 30 s, and all of them when it
/// restarts, and answers 400. The run then starts again from `added_after`, the last point
/// the cursor holds for sure; what comes twice is stored once. Any other error stays one.
fn forgot_next(status: u16) -> bool {
    matches!(status, 400 | 404 | 410)
}

/// What a page held, to tell a peer that serves the same page again from one that keeps
/// paging under one `next`: its objects' ids and versions.
type PageMark = Vec<(String, String)>;

fn page_mark(objects: &[crate::domain::stix::json::RawObject<'_>]) -> PageMark {
    let field = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let mut mark: PageMark = objects
        .iter()
        .filter_map(|o| {
            let v = o.value.as_ref().ok()?;
            Some((
                field(v, "id")?,
                field(v, "modified")
                    .or_else(|| field(v, "created"))
                    .unwrap_or_default(),
            ))
        })
        .collect();
    mark.sort();
    mark
}

/// Whether the peer is stuck: it answered the `next` it was asked with, and the same objects
/// as the page before. The same `next` alone is no sign of a loop: TAXII does not say `next`
/// changes from page to page, and medallion hands out one per paging session, serving the
/// following page under it each time. A peer that starts again after a resumed `next` (no
/// page before in this poll) is caught on the page after.
fn stuck(asked: Option<&str>, answered: &str, before: Option<&PageMark>, page: &PageMark) -> bool {
    asked == Some(answered) && before == Some(page)
}

impl Pull<'_> {
    /// The peer's API root: the configured URL, or the `default` (else the first) API root a
    /// discovery document there names.
    async fn api_root(&self) -> Result<String, PullError> {
        let url = self.client.ingress().url.clone();
        let fetched = self.client.get(&url, TAXII_MEDIA_TYPE).await?;
        let doc: Value =
            serde_json::from_slice(&fetched.body).map_err(|e| PullError::Envelope {
                url: url.clone(),
                problem: format!("not JSON: {e}"),
            })?;
        let Some(roots) = doc.get("api_roots") else {
            return Ok(url);
        };
        let chosen = doc
            .get("default")
            .and_then(Value::as_str)
            .or_else(|| roots.get(0).and_then(Value::as_str))
            .ok_or_else(|| PullError::Envelope {
                url: url.clone(),
                problem: "a discovery document without an API root".into(),
            })?;
        // A discovery document may name a root elsewhere: it is fetched through the same
        // checks as everything else (`PeerClient::get`), never trusted as an address.
        let absolute = if chosen.contains("://") {
            chosen.to_owned()
        } else {
            let base = reqwest::Url::parse(&url).and_then(|u| u.join(chosen));
            base.map(|u| u.to_string())
                .map_err(|e| PullError::Envelope {
                    url: url.clone(),
                    problem: e.to_string(),
                })?
        };
        Ok(absolute)
    }

    /// Polls every collection of the entry once, within its budgets.
    pub async fn run(&self) -> Result<PollReport, PullError> {
        let ingress = self.client.ingress().clone();
        let started = (self.now)();
        let deadline = started + time::Duration::seconds(ingress.max_poll_secs as i64);
        let root = self.api_root().await?;
        let mut report = PollReport::default();
        for remote in &ingress.collections {
            let mut cursor = self
                .store
                .pull_cursor(&self.peer.principal.id, remote)
                .await?
                .unwrap_or_default();
            // The page before, in this poll: a peer is stuck only if it serves it again.
            let mut before = None;
            loop {
                if report.pages >= ingress.max_pages
                    || report.stored + report.duplicates + report.refused >= ingress.max_objects
                    || (self.now)() >= deadline
                {
                    report.budget_spent = true;
                    return Ok(report);
                }
                let more = self
                    .page(&root, remote, &mut cursor, &mut before, &mut report)
                    .await?;
                if !more {
                    break;
                }
            }
        }
        Ok(report)
    }

    /// Fetches, takes in and stores one page; true if the peer has more after it.
    async fn page(
        &self,
        root: &str,
        remote: &str,
        cursor: &mut PullCursor,
        before: &mut Option<PageMark>,
        report: &mut PollReport,
    ) -> Result<bool, PullError> {
        let ingress = self.client.ingress();
        let mut url = page_url(root, remote, ingress.page_size, cursor);
        let fetched = match self.client.get(&url, TAXII_MEDIA_TYPE).await {
            // Only a `next` stored by an earlier poll: one the peer gave in this poll and
            // refuses at once is its error, and fails the poll (which then backs off).
            Err(ClientError::Status { status, .. })
                if cursor.next.is_some() && before.is_none() && forgot_next(status) =>
            {
                tracing::warn!(
                    status,
                    collection = remote,
                    "the peer no longer knows the stored `next`: the run starts again"
                );
                cursor.next = None;
                *before = None;
                url = page_url(root, remote, ingress.page_size, cursor);
                self.client.get(&url, TAXII_MEDIA_TYPE).await?
            }
            fetched => fetched?,
        };
        let doc =
            read_stix(&fetched.body, &JsonLimits::DEFAULT).map_err(|e| PullError::Envelope {
                url: url.clone(),
                problem: e.to_string(),
            })?;
        let Container::Envelope { more, next } = doc.container else {
            return Err(PullError::Envelope {
                url,
                problem: "expected a TAXII envelope".into(),
            });
        };
        let more = more.unwrap_or(false);
        let mark = page_mark(&doc.objects);
        let last = fetched
            .headers
            .get(DATE_ADDED_LAST)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let now = (self.now)();
        // The provenance rule needs where the page's ids are held already: one query a page.
        let ids: Vec<String> = doc
            .objects
            .iter()
            .filter_map(|o| {
                o.value
                    .as_ref()
                    .ok()?
                    .get("id")?
                    .as_str()
                    .map(str::to_owned)
            })
            .collect();
        let held = self.held(&ids).await?;
        let batch = self
            .ingest
            .take_federated(
                self.peer,
                self.collection,
                remote,
                &doc.objects,
                now,
                |value| {
                    let id = value.get("id").and_then(Value::as_str)?;
                    may_deliver(
                        &self.peer.principal.id,
                        id,
                        value.get("created_by_ref").and_then(Value::as_str),
                        held.get(id).map(Vec::as_slice).unwrap_or(&[]),
                        |identity| self.policy.declared_by(identity),
                    )
                    .err()
                    .map(|e| e.to_string())
                },
            )
            .await?;
        let mut after = cursor.clone();
        after.pages += 1;
        match (more, next) {
            (true, Some(next)) => {
                if stuck(cursor.next.as_deref(), &next, before.as_ref(), &mark) {
                    return Err(PullError::Envelope {
                        url,
                        problem: "the peer answered the same `next` with the same page again"
                            .into(),
                    });
                }
                after.next = Some(next);
            }
            (true, None) => {
                // TAXII's other way of paging: the next page is what was added after the last
                // object of this one.
                let moved = later(cursor.added_after.as_deref(), last.as_deref());
                if moved == cursor.added_after {
                    return Err(PullError::Envelope {
                        url,
                        problem: "the peer says more but gives neither `next` nor a later \
                                  X-TAXII-Date-Added-Last"
                            .into(),
                    });
                }
                after.added_after = moved;
                after.next = None;
            }
            (false, _) => {
                after.added_after = later(cursor.added_after.as_deref(), last.as_deref());
                after.next = None;
            }
        }
        let refused = batch.refused.len() as u64;
        let inserted = self
            .store
            .store_pulled_page(&PulledPage {
                peer: &self.peer.principal.id,
                collection: remote,
                objects: &batch.accepted,
                audits: &batch.audits,
                cursor: &after,
                refused,
                at: now,
            })
            .await?;
        let new = inserted
            .iter()
            .filter(|i| matches!(i, crate::domain::stix::stored::Inserted::New(_)))
            .count() as u64;
        report.pages += 1;
        report.stored += new;
        report.duplicates += inserted.len() as u64 - new;
        report.refused += refused;
        for r in batch
            .refused
            .iter()
            .take(5usize.saturating_sub(report.refusals.len()))
        {
            report.refusals.push(format!(
                "{}: {}",
                r.id.as_deref().unwrap_or("?"),
                r.message.as_deref().unwrap_or("refused")
            ));
        }
        *cursor = after;
        *before = Some(mark);
        Ok(more)
    }

    /// Where the versions held of `ids` came from.
    async fn held(&self, ids: &[String]) -> Result<HashMap<String, Vec<Holder>>, PullError> {
        let mut held: HashMap<String, Vec<Holder>> = HashMap::new();
        for (id, origin) in self.store.object_origins(ids).await? {
            held.entry(id).or_default().push(match origin {
                Some(p) => Holder::Peer(PrincipalId::from_stored(p)),
                None => Holder::Local,
            });
        }
        Ok(held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_never_moves_back() {
        let a = "2026-01-01T00:00:00.000000Z";
        let b = "2026-01-02T00:00:00.000000Z";
        assert_eq!(later(None, Some(a)).as_deref(), Some(a));
        assert_eq!(later(Some(a), Some(b)).as_deref(), Some(b));
        assert_eq!(later(Some(b), Some(a)).as_deref(), Some(b));
        assert_eq!(later(Some(b), None).as_deref(), Some(b));
        assert_eq!(later(Some(b), Some("yesterday")).as_deref(), Some(b));
        assert_eq!(later(None, None), None);
    }

    fn mark(pairs: &[(&str, &str)]) -> PageMark {
        pairs
            .iter()
            .map(|(i, v)| ((*i).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn one_next_for_a_whole_session_is_no_loop() {
        let p1 = mark(&[("indicator--a", "1"), ("indicator--b", "1")]);
        let p2 = mark(&[("indicator--c", "1")]);
        // medallion: the same `next` each page, the following objects under it.
        assert!(!stuck(Some("n"), "n", Some(&p1), &p2));
        // Resumed from a stored `next`: nothing to compare with yet.
        assert!(!stuck(Some("n"), "n", None, &p1));
        // A new `next` each page.
        assert!(!stuck(Some("n1"), "n2", Some(&p1), &p1));
        assert!(!stuck(None, "n", Some(&p1), &p1));
        // The same `next` and the same page: stuck.
        assert!(stuck(Some("n"), "n", Some(&p1), &p1));
        assert!(stuck(Some("n"), "n", Some(&mark(&[])), &mark(&[])));
    }

    #[test]
    fn a_page_is_marked_by_its_ids_and_versions() {
        let body = br#"{"more": true, "next": "n", "objects": [
            {"type": "indicator", "id": "indicator--b", "modified": "2026-01-02T00:00:00Z"},
            {"type": "indicator", "id": "indicator--a", "created": "2026-01-01T00:00:00Z"},
            {"type": "ipv4-addr", "id": "ipv4-addr--c", "value": "192.0.2.1"}]}"#;
        let doc = read_stix(body, &JsonLimits::DEFAULT).unwrap();
        assert_eq!(
            page_mark(&doc.objects),
            mark(&[
                ("indicator--a", "2026-01-01T00:00:00Z"),
                ("indicator--b", "2026-01-02T00:00:00Z"),
                ("ipv4-addr--c", ""),
            ])
        );
    }

    #[test]
    fn a_forgotten_next_restarts_from_added_after() {
        let mut cursor = PullCursor {
            added_after: Some("2026-01-01T00:00:00.000000Z".into()),
            next: Some("a b".into()),
            pages: 3,
        };
        assert_eq!(
            page_url("http://h/api1/", "c 1", 2, &cursor),
            "http://h/api1/collections/c+1/objects/?limit=2\
             &added_after=2026-01-01T00%3A00%3A00.000000Z&next=a+b"
        );
        // What `page` asks once the peer said it no longer knows the `next`.
        assert!(forgot_next(400) && forgot_next(404) && forgot_next(410));
        for status in [401, 403, 406, 429, 500, 503] {
            assert!(!forgot_next(status), "{status}");
        }
        cursor.next = None;
        assert_eq!(
            page_url("http://h/api1/", "c 1", 2, &cursor),
            "http://h/api1/collections/c+1/objects/?limit=2\
             &added_after=2026-01-01T00%3A00%3A00.000000Z"
        );
    }

    #[test]
    fn urls_join_once() {
        assert_eq!(
            join("https://h/api/", "collections/x/"),
            "https://h/api/collections/x/"
        );
        assert_eq!(
            join("https://h/api", "/collections/x/"),
            "https://h/api/collections/x/"
        );
    }
}
