//! Reading shared intelligence: one collection, one reader, one page at a time. Every object
//! that leaves goes through the SQL visibility filter and then through `release` again.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use time::OffsetDateTime;

use crate::crypto::cursor::{BadCursor, CursorKey};
use crate::domain::access::RegistryRecord;
use crate::domain::audit::reads::{Material, on_record};
use crate::domain::audit::record::AuditRecord;
use crate::domain::collections::{COLLECTIONS, CollectionRef, PeerCollection};
use crate::domain::federation::FederationPolicy;
use crate::domain::federation::collection::peer_collection_id;
use crate::domain::markings::policy::MarkingPolicy;
use crate::domain::markings::references::{self, MAX_REFERENCE_DEPTH};
use crate::domain::markings::release::{
    Content, Decision, ReadableSet, Reader, Releasable, VisibilityFilter, decide, release,
};
use crate::domain::markings::sealed::Sealed;
use crate::domain::principal::PrincipalKind;
use crate::domain::stix::stored::{ObjectQuery, ReferencedObject, StoredObject, VersionSelector};
use crate::store::{Store, StoreError};

/// Largest page a client can ask for; larger `limit`s are cut to it (advertised in the API
/// root as `x_relais_max_page_size`).
pub const MAX_PAGE_SIZE: u32 = 1000;
/// Page size when the client gives no `limit`.
pub const DEFAULT_PAGE_SIZE: u32 = 100;

#[derive(Debug, thiserror::Error)]
pub enum ShareError {
    /// No such collection, or one the caller may not see at all.
    #[error("collection not found")]
    CollectionNotFound,
    #[error("the caller may not read this collection")]
    NotReadable,
    #[error(transparent)]
    BadCursor(#[from] BadCursor),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the system random number generator failed")]
    Random,
}

/// What a client asked for, filters already parsed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadRequest {
    pub types: Vec<String>,
    pub ids: Vec<String>,
    pub added_after: Option<OffsetDateTime>,
    /// Empty: the endpoint's default.
    pub versions: Vec<VersionSelector>,
    pub limit: Option<u32>,
    pub next: Option<String>,
}

#[derive(Debug)]
pub struct Page {
    pub objects: Vec<Releasable<StoredObject>>,
    pub more: bool,
    pub next: Option<String>,
}

/// Everything reading needs from the running hub.
#[derive(Debug, Clone)]
pub struct Sharing<'a> {
    pub store: &'a dyn Store,
    pub policy: &'a MarkingPolicy,
    pub federation: Arc<FederationPolicy>,
    pub cursors: &'a CursorKey,
    /// Bounds what the blocklist export emits.
    pub exports: &'a crate::domain::exports::ExportPolicy,
    /// Reads go on the record (sensitive reads in the audit log, what each peer took out).
    /// Off only for an operator's preview of what a peer would read, which records one
    /// entry of its own instead of reads the peer never made.
    pub recorded: bool,
}

impl Sharing<'_> {
    /// The collections `caller` may see: the shipped ones its kind sees (for a peer, those
    /// its federation entry lists), then one per configured peer, for the CSIRT and
    /// providers, and for a peer only those its entry lists.
    pub fn collections(&self, caller: &RegistryRecord) -> Vec<CollectionRef> {
        let kind = caller.principal.kind;
        let peer = kind == PrincipalKind::Peer;
        let listed = |id: &str, alias: &str| {
            !peer || self.federation.peer_reads_collection(caller, id, alias)
        };
        let mut out: Vec<CollectionRef> = COLLECTIONS
            .iter()
            .filter(|c| c.visible_to(kind) && listed(c.id, c.alias))
            .map(CollectionRef::Shipped)
            .collect();
        for (id, name, _) in self.federation.resolved() {
            if *id == caller.principal.id {
                continue;
            }
            let collection = PeerCollection {
                id: peer_collection_id(id),
                alias: format!("peer-{}", name.rsplit('/').next().unwrap_or(name)),
                title: format!("From {name}"),
                peer: id.clone(),
            };
            if listed(&collection.id, &collection.alias) {
                out.push(CollectionRef::Peer(collection));
            }
        }
        out
    }

    /// The collection, if the caller may read it.
    pub fn readable_collection(
        &self,
        caller: &RegistryRecord,
        collection_id: &str,
    ) -> Result<CollectionRef, ShareError> {
        let found = self
            .collections(caller)
            .into_iter()
            .find(|c| c.id() == collection_id)
            .ok_or(ShareError::CollectionNotFound)?;
        if let CollectionRef::Shipped(c) = &found
            && !c.can_read(caller.principal.kind)
        {
            return Err(ShareError::NotReadable);
        }
        Ok(found)
    }
}

/// The canonical text of a query, which a cursor is bound to.
fn query_text(q: &ObjectQuery) -> String {
    let mut types = q.types.clone();
    types.sort();
    let mut ids = q.ids.clone();
    ids.sort();
    format!(
        "{}\n{}\n{}\n{:?}\n{:?}",
        q.collection,
        types.join(","),
        ids.join(","),
        q.added_after.map(|t| t.unix_timestamp_nanos()),
        q.versions
    )
}

impl Sharing<'_> {
    /// Logs, before they are sent, the objects of a page whose reading goes on the record.
    async fn record_sensitive_reads(
        &self,
        caller: &RegistryRecord,
        collection: &CollectionRef,
        objects: &[Releasable<StoredObject>],
        now: OffsetDateTime,
    ) -> Result<(), ShareError> {
        let on_record: Vec<&StoredObject> = objects
            .iter()
            .map(Releasable::item)
            .filter(|o| on_record(Material::Object(&o.access)))
            .collect();
        if on_record.is_empty() {
            return Ok(());
        }
        let record = AuditRecord::by(caller, "objects.read", now)
            .objects(
                std::iter::once(collection.id()).chain(on_record.iter().map(|o| o.id.as_str())),
            )
            .markings(on_record.iter().flat_map(|o| o.access.marking_names()));
        self.store.append_audit(&record).await?;
        Ok(())
    }

    /// Which of the objects `rows` reference `reader` may read: every version of them the SQL
    /// filter passes, in the collections the reader's kind reads, and of what those reference
    /// in turn, one batched lookup per hop; their text is read only for the few the rule must
    /// look inside.
    async fn readable_references(
        &self,
        caller: &RegistryRecord,
        reader: &Reader,
        visibility: &VisibilityFilter,
        rows: &[StoredObject],
    ) -> Result<ReadableSet, StoreError> {
        let mut frontier: Vec<String> = rows
            .iter()
            .flat_map(|r| r.references().into_owned())
            .collect();
        if frontier.is_empty() {
            return Ok(ReadableSet::default());
        }
        let readable: Vec<String> = self
            .collections(caller)
            .iter()
            .filter(|c| match c {
                CollectionRef::Shipped(s) => s.can_read(caller.principal.kind),
                CollectionRef::Peer(_) => true,
            })
            .map(|c| c.id().to_owned())
            .collect();
        let collections: Vec<&str> = readable.iter().map(String::as_str).collect();
        let mut fetched: HashSet<String> = HashSet::new();
        let mut candidates: Vec<ReferencedObject> = Vec::new();
        for _ in 0..MAX_REFERENCE_DEPTH {
            frontier.sort();
            frontier.dedup();
            frontier.retain(|id| fetched.insert(id.clone()));
            if frontier.is_empty() {
                break;
            }
            let found = self
                .store
                .referenced_objects(&collections, &frontier, visibility)
                .await?;
            frontier = found
                .iter()
                .flat_map(|o| o.refs.iter().cloned())
                .filter(|id| !fetched.contains(id))
                .collect();
            candidates.extend(found);
        }
        let needed: Vec<i64> = references::needing_text(self.policy, reader, &candidates)
            .iter()
            .map(|c| c.seq)
            .collect();
        if !needed.is_empty() {
            let texts: HashMap<i64, Sealed> = self
                .store
                .object_texts(&needed)
                .await?
                .into_iter()
                .collect();
            for c in &mut candidates {
                c.raw = texts.get(&c.seq).cloned();
            }
        }
        Ok(references::readable(self.policy, reader, &candidates))
    }

    /// What `caller` may have of `objects`, each released (or not) by the one decision, with
    /// its references judged as on a page.
    pub async fn release_objects(
        &self,
        caller: &RegistryRecord,
        objects: Vec<StoredObject>,
    ) -> Result<Vec<Releasable<StoredObject>>, StoreError> {
        let reader = self.federation.reader(caller);
        let visibility = VisibilityFilter::for_reader(self.policy, &reader);
        let readable = self
            .readable_references(caller, &reader, &visibility, &objects)
            .await?;
        Ok(objects
            .into_iter()
            .filter_map(|o| release(self.policy, &reader, o, &readable))
            .collect())
    }

    /// One page of `collection_id` for `reader`, with `default_versions` when the request
    /// names none.
    pub async fn read(
        &self,
        caller: &RegistryRecord,
        collection_id: &str,
        request: ReadRequest,
        default_versions: VersionSelector,
        now: OffsetDateTime,
    ) -> Result<Page, ShareError> {
        let collection = self.readable_collection(caller, collection_id)?;
        let reader = &self.federation.reader(caller);
        let limit = request
            .limit
            .unwrap_or(DEFAULT_PAGE_SIZE)
            .clamp(1, MAX_PAGE_SIZE);
        let versions = if request.versions.is_empty() {
            vec![default_versions]
        } else {
            request.versions
        };
        let visibility = VisibilityFilter::for_reader(self.policy, reader);
        let mut query = ObjectQuery {
            collection: collection.id().to_owned(),
            visibility: visibility.clone(),
            types: request.types,
            ids: request.ids,
            added_after: request.added_after,
            versions,
            after_seq: None,
            limit: limit + 1,
        };
        let principal = reader.principal.as_str();
        let text = query_text(&query);
        if let Some(next) = &request.next {
            query.after_seq = Some(self.cursors.open(principal, &text, next)?);
        }
        // `release` withholds some rows the SQL filter passes (references to what the reader
        // may not read, required fields under a stricter marking): read on until the page
        // holds one object more than it shows, so that the objects, `more`, `next` and the
        // date headers are exactly what they would be had those rows never been stored.
        let mut objects: Vec<Releasable<StoredObject>> = Vec::new();
        while objects.len() <= limit as usize {
            let rows = self.store.objects(&query).await?;
            let exhausted = rows.len() < query.limit as usize;
            let Some(last) = rows.last() else { break };
            query.after_seq = Some(last.seq);
            let readable = self
                .readable_references(caller, reader, &visibility, &rows)
                .await?;
            for row in rows {
                if decide(self.policy, reader, &row.access) == Decision::Withhold {
                    // The SQL filter and `decide` are proven to agree; if they ever do not,
                    // the stricter one wins and someone must look.
                    tracing::error!(seq = row.seq, "object passed the SQL filter but not decide");
                    continue;
                }
                objects.extend(release(self.policy, reader, row, &readable));
            }
            if exhausted {
                break;
            }
        }
        let more = objects.len() > limit as usize;
        objects.truncate(limit as usize);
        let next = match (more, objects.last()) {
            (true, Some(last)) => Some(
                self.cursors
                    .seal(principal, &text, last.item().seq)
                    .ok_or(ShareError::Random)?,
            ),
            _ => None,
        };
        if self.recorded {
            self.record_sensitive_reads(caller, &collection, &objects, now)
                .await?;
        }
        if self.recorded && caller.principal.kind == PrincipalKind::Peer && !objects.is_empty() {
            // What each peer took out, for `relais federation status`.
            self.store
                .count_objects_out(&caller.principal.id, objects.len() as u64)
                .await?;
        }
        Ok(Page {
            objects,
            more,
            next,
        })
    }
}
