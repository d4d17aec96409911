//! What a peer would read here today, computed by the same release decision as the TAXII
//! endpoints (it pages through them as the peer), for `relais federation preview PEER`.

use std::collections::BTreeMap;

use serde::Serialize;
use time::OffsetDateTime;

use crate::domain::access::RegistryRecord;
use crate::domain::collections::CollectionRef;
use crate::domain::stix::stored::VersionSelector;
use crate::services::share::{MAX_PAGE_SIZE, ReadRequest, ShareError, Sharing};

/// How many ids a preview shows per collection.
pub const SAMPLE: usize = 10;

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct CollectionPreview {
    pub id: String,
    pub alias: String,
    pub objects: u64,
    pub by_tlp: BTreeMap<String, u64>,
    pub by_type: BTreeMap<String, u64>,
    pub sample: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Preview {
    pub peer: String,
    pub collections: Vec<CollectionPreview>,
}

/// Pages through every collection `peer` may read, as `peer`, the latest version of each
/// object (what a TAXII read gives by default).
pub async fn preview(
    sharing: &Sharing<'_>,
    peer: &RegistryRecord,
    now: OffsetDateTime,
) -> Result<Preview, ShareError> {
    let mut out = Preview {
        peer: format!("{}/{}", peer.organisation.name, peer.principal.name),
        collections: Vec::new(),
    };
    for collection in sharing.collections(peer) {
        if let CollectionRef::Shipped(c) = &collection
            && !c.can_read(peer.principal.kind)
        {
            continue;
        }
        let mut seen = CollectionPreview {
            id: collection.id().to_owned(),
            alias: collection.alias().to_owned(),
            ..CollectionPreview::default()
        };
        let mut next = None;
        loop {
            let request = ReadRequest {
                limit: Some(MAX_PAGE_SIZE),
                next: next.take(),
                ..ReadRequest::default()
            };
            let page = sharing
                .read(peer, collection.id(), request, VersionSelector::Last, now)
                .await?;
            for released in &page.objects {
                let object = released.item();
                seen.objects += 1;
                *seen
                    .by_tlp
                    .entry(object.access.tlp.as_str().to_owned())
                    .or_default() += 1;
                *seen.by_type.entry(object.object_type.clone()).or_default() += 1;
                if seen.sample.len() < SAMPLE {
                    seen.sample.push(object.id.clone());
                }
            }
            match page.next {
                Some(n) if page.more => next = Some(n),
                _ => break,
            }
        }
        out.collections.push(seen);
    }
    Ok(out)
}
