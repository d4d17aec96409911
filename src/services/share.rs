//! Reading shared intelligence: one collection, one reader, one page at a time. Every object
//! that leaves goes through the SQL visibility filter and then through `release` again.

use time::OffsetDateTime;

use crate::crypto::cursor::{BadCursor, CursorKey};
use crate::domain::access::RegistryRecord;
use crate::domain::audit::record::AuditRecord;
use crate::domain::collections::Collection;
use crate::domain::federation::FederationPolicy;
use crate::domain::markings::Tlp;
use crate::domain::markings::policy::MarkingPolicy;
use crate::domain::markings::release::{
    ObjectAccess, Reader, Releasable, VisibilityFilter, release,
};
use crate::domain::principal::PrincipalKind;
use crate::domain::stix::stored::{ObjectQuery, StoredObject, VersionSelector};
use crate::services::ingest::object_markings;
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
#[derive(Debug, Clone, Copy)]
pub struct Sharing<'a> {
    pub store: &'a dyn Store,
    pub policy: &'a MarkingPolicy,
    pub federation: &'a FederationPolicy,
    pub cursors: &'a CursorKey,
    /// Bounds what the blocklist export emits.
    pub exports: &'a crate::domain::exports::ExportPolicy,
}

/// The reader the marking rules see for an authenticated caller; a partner hub is capped by
/// its entry in the federation policy.
pub fn reader_of(caller: &RegistryRecord, federation: &FederationPolicy) -> Reader {
    Reader {
        principal: caller.principal.id.clone(),
        kind: caller.principal.kind,
        organisation: caller.organisation.id.clone(),
        peer_max_tlp: (caller.principal.kind == PrincipalKind::Peer).then(|| {
            federation.max_tlp(
                caller.principal.id.as_str(),
                &caller.organisation.name,
                &caller.principal.name,
            )
        }),
    }
}

/// The collection, if the caller may read it.
pub fn readable_collection(
    caller: &RegistryRecord,
    collection_id: &str,
) -> Result<&'static Collection, ShareError> {
    let collection = Collection::by_id(collection_id)
        .filter(|c| c.visible_to(caller.principal.kind))
        .ok_or(ShareError::CollectionNotFound)?;
    if !collection.can_read(caller.principal.kind) {
        return Err(ShareError::NotReadable);
    }
    Ok(collection)
}

/// Whether reading this object goes on the record: AMBER+STRICT or RED (anywhere in it), or
/// submission material, which only the CSIRT and its provider read.
fn read_on_record(access: &ObjectAccess) -> bool {
    access.confined
        || access.tlp >= Tlp::AmberStrict
        || access.granular_max().is_some_and(|t| t >= Tlp::AmberStrict)
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
        collection: &Collection,
        objects: &[Releasable<StoredObject>],
        now: OffsetDateTime,
    ) -> Result<(), ShareError> {
        let on_record: Vec<&StoredObject> = objects
            .iter()
            .map(Releasable::item)
            .filter(|o| read_on_record(&o.access))
            .collect();
        if on_record.is_empty() {
            return Ok(());
        }
        let record = AuditRecord::by(caller, "objects.read", now)
            .objects(std::iter::once(collection.id).chain(on_record.iter().map(|o| o.id.as_str())))
            .markings(on_record.iter().flat_map(|o| object_markings(&o.access)));
        self.store.append_audit(&record).await?;
        Ok(())
    }

    /// One page of `collection_id` for `reader`, with `default_versions` when the request
    /// names none.
    pub async fn read(
        &self,
        caller: &RegistryRecord,
        reader: &Reader,
        collection_id: &str,
        request: ReadRequest,
        default_versions: VersionSelector,
        now: OffsetDateTime,
    ) -> Result<Page, ShareError> {
        let collection = readable_collection(caller, collection_id)?;
        let limit = request
            .limit
            .unwrap_or(DEFAULT_PAGE_SIZE)
            .clamp(1, MAX_PAGE_SIZE);
        let versions = if request.versions.is_empty() {
            vec![default_versions]
        } else {
            request.versions
        };
        let mut query = ObjectQuery {
            collection: collection.id.to_owned(),
            visibility: VisibilityFilter::for_reader(self.policy, reader),
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
        let mut rows = self.store.objects(&query).await?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next = match (more, rows.last()) {
            (true, Some(last)) => Some(
                self.cursors
                    .seal(principal, &text, last.seq)
                    .ok_or(ShareError::Random)?,
            ),
            _ => None,
        };
        let objects = rows
            .into_iter()
            .filter_map(|row| {
                let seq = row.seq;
                let released = release(self.policy, reader, row);
                if released.is_none() {
                    // The SQL filter and `decide` are proven to agree; if they ever do not,
                    // the stricter one wins and someone must look.
                    tracing::error!(seq, "object passed the SQL filter but not release");
                }
                released
            })
            .collect::<Vec<_>>();
        self.record_sensitive_reads(caller, collection, &objects, now)
            .await?;
        Ok(Page {
            objects,
            more,
            next,
        })
    }
}
