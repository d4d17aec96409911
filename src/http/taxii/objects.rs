//! TAXII read endpoints. Handlers parse the request, call `services::share`, and write the
//! envelope; objects are written exactly as stored unless the policy redacted fields.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::extract::{EnvelopeBytes, TaxiiCaller, TaxiiPath};
use super::{API_ROOT, TaxiiError};
use crate::domain::access::RegistryRecord;
use crate::domain::collections::CollectionRef;
use crate::domain::markings::release::Releasable;
use crate::domain::stix::stored::{StoredObject, VersionSelector, utc_timestamp, version_key};
use crate::http::AppState;
use crate::services::ingest::Deleted;
use crate::services::share::{MAX_PAGE_SIZE, Page, ReadRequest};

const STIX_MEDIA_TYPE: &str = "application/stix+json;version=2.1";

/// Discovery's absolute URLs come from the configuration: the request's `Host` (absent over
/// HTTP/2, where the port went with it, and whatever the client sent over HTTP/1.1) must not
/// decide where a client that follows `api_roots` goes next.
pub async fn discovery(_caller: TaxiiCaller, State(state): State<AppState>) -> Json<Value> {
    let root = format!("{}{API_ROOT}", state.taxii_url);
    Json(json!({
        "title": "relais",
        "description": "Threat-intelligence sharing hub: STIX 2.1 under enforced TLP 2.0 and PAP.",
        "default": root,
        "api_roots": [root],
    }))
}

pub async fn api_root(_caller: TaxiiCaller, State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "title": "relais",
        "description": "Collections of the hub.",
        "versions": ["application/taxii+json;version=2.1"],
        "max_content_length": state.limits.body_bytes,
        "x_relais_max_page_size": MAX_PAGE_SIZE,
    }))
}

#[derive(Serialize)]
pub struct CollectionView {
    id: String,
    title: String,
    description: String,
    alias: String,
    can_read: bool,
    can_write: bool,
    media_types: [&'static str; 1],
}

fn view(c: &CollectionRef, caller: &RegistryRecord) -> CollectionView {
    let kind = caller.principal.kind;
    match c {
        CollectionRef::Shipped(c) => CollectionView {
            id: c.id.to_owned(),
            title: c.title.to_owned(),
            description: c.description.to_owned(),
            alias: c.alias.to_owned(),
            can_read: c.can_read(kind),
            can_write: c.can_write(kind),
            media_types: [STIX_MEDIA_TYPE],
        },
        CollectionRef::Peer(p) => CollectionView {
            id: p.id.clone(),
            title: p.title.clone(),
            description: "Intelligence a partner hub delivered, with its markings and \
                          provenance; only the federation worker writes here."
                .to_owned(),
            alias: p.alias.clone(),
            can_read: true,
            can_write: false,
            media_types: [STIX_MEDIA_TYPE],
        },
    }
}

pub async fn collections(
    TaxiiCaller(caller): TaxiiCaller,
    State(state): State<AppState>,
) -> Json<Value> {
    let visible: Vec<CollectionView> = state
        .services
        .sharing()
        .collections(&caller)
        .iter()
        .map(|c| view(c, &caller))
        .collect();
    Json(json!({ "collections": visible }))
}

pub async fn collection(
    TaxiiCaller(caller): TaxiiCaller,
    State(state): State<AppState>,
    TaxiiPath(id): TaxiiPath<String>,
) -> Result<Json<CollectionView>, TaxiiError> {
    state
        .services
        .sharing()
        .collections(&caller)
        .iter()
        .find(|c| c.id() == id)
        .map(|c| Json(view(c, &caller)))
        .ok_or_else(TaxiiError::not_found)
}

/// TAXII timestamps: UTC, microseconds.
pub fn taxii_timestamp(at: OffsetDateTime) -> String {
    utc_timestamp(at, 6)
}

/// Parses the TAXII filters of a query string. Unknown parameters are refused, so that a
/// misspelt filter does not silently return everything.
fn parse_request(query: Option<&str>, allow_id_filter: bool) -> Result<ReadRequest, TaxiiError> {
    let mut request = ReadRequest::default();
    let list = |v: &str| {
        v.split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
    };
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "added_after" => {
                let at = OffsetDateTime::parse(&value, &Rfc3339).map_err(|_| {
                    TaxiiError::bad_request("added_after is not an RFC 3339 timestamp")
                })?;
                request.added_after = Some(at);
            }
            "limit" => {
                let n: u32 = value
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| TaxiiError::bad_request("limit is a positive integer"))?;
                request.limit = Some(n);
            }
            "next" => request.next = Some(value.into_owned()),
            "match[type]" => request.types.extend(list(&value)),
            "match[id]" if allow_id_filter => request.ids.extend(list(&value)),
            "match[version]" => {
                for v in list(&value) {
                    request.versions.push(match v.as_str() {
                        "all" => VersionSelector::All,
                        "first" => VersionSelector::First,
                        "last" => VersionSelector::Last,
                        other => VersionSelector::At(version_key(
                            OffsetDateTime::parse(other, &Rfc3339).map_err(|_| {
                                TaxiiError::bad_request(
                                    "match[version] is first, last, all or a timestamp",
                                )
                            })?,
                        )),
                    });
                }
            }
            "match[spec_version]" => {
                if !list(&value).iter().any(|v| v == "2.1") {
                    // relais stores STIX 2.1 only: nothing else can match.
                    request.types = vec![String::new()];
                }
            }
            other => {
                return Err(TaxiiError::bad_request(format!(
                    "unsupported query parameter {:?}",
                    other.chars().take(64).collect::<String>()
                )));
            }
        }
    }
    Ok(request)
}

/// Adds `X-TAXII-Date-Added-First` / `-Last` for a non-empty page.
fn with_date_headers(mut response: Response, page: &Page) -> Response {
    let dates = (page.objects.first(), page.objects.last());
    if let (Some(first), Some(last)) = dates {
        for (name, at) in [
            ("x-taxii-date-added-first", first.item().date_added),
            ("x-taxii-date-added-last", last.item().date_added),
        ] {
            if let Ok(v) = HeaderValue::from_str(&taxii_timestamp(at)) {
                response.headers_mut().insert(name, v);
            }
        }
    }
    response
}

/// A TAXII envelope whose objects are the released texts, embedded as they are.
#[derive(Serialize)]
struct Envelope<'a> {
    more: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    objects: Vec<Box<RawValue>>,
}

/// `{"more":…, "next":…, "objects":[…]}`. A stored text that is not one JSON value (a corrupt
/// row) is left out and logged rather than breaking the envelope.
fn envelope(page: &Page) -> Result<String, TaxiiError> {
    let objects = page
        .objects
        .iter()
        .filter_map(|o| {
            let raw = o.raw_json();
            if raw.is_none() {
                tracing::error!(seq = o.item().seq, "stored object is not JSON");
            }
            raw
        })
        .collect();
    let body = serde_json::to_string(&Envelope {
        more: page.more,
        next: page.next.as_deref(),
        objects,
    })
    .map_err(|e| TaxiiError::from(crate::http::error::ApiError::Internal(Box::new(e))))?;
    Ok(body)
}

async fn read_page(
    state: &AppState,
    caller: &RegistryRecord,
    collection: &str,
    request: ReadRequest,
    default_versions: VersionSelector,
) -> Result<Page, TaxiiError> {
    Ok(state
        .sharing()
        .read(
            caller,
            collection,
            request,
            default_versions,
            state.clock.now(),
        )
        .await?)
}

pub async fn objects(
    TaxiiCaller(caller): TaxiiCaller,
    State(state): State<AppState>,
    TaxiiPath(collection): TaxiiPath<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, TaxiiError> {
    let request = parse_request(query.as_deref(), true)?;
    let page = read_page(&state, &caller, &collection, request, VersionSelector::Last).await?;
    Ok(with_date_headers(envelope(&page)?.into_response(), &page))
}

/// The versions of one object the caller may see; none is a 404, for missing and hidden alike.
async fn read_object(
    state: &AppState,
    caller: &RegistryRecord,
    collection: &str,
    object: String,
    query: Option<&str>,
    default_versions: VersionSelector,
) -> Result<Page, TaxiiError> {
    let mut request = parse_request(query, false)?;
    request.ids = vec![object];
    let page = read_page(state, caller, collection, request, default_versions).await?;
    if page.objects.is_empty() {
        return Err(TaxiiError::not_found());
    }
    Ok(page)
}

pub async fn object(
    TaxiiCaller(caller): TaxiiCaller,
    State(state): State<AppState>,
    TaxiiPath((collection, object)): TaxiiPath<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, TaxiiError> {
    let page = read_object(
        &state,
        &caller,
        &collection,
        object,
        query.as_deref(),
        VersionSelector::Last,
    )
    .await?;
    Ok(with_date_headers(envelope(&page)?.into_response(), &page))
}

/// The `modified` (or `created`) text of a released version, read from what the caller may see:
/// a granular marking can remove even these fields.
fn version_text(o: &Releasable<StoredObject>) -> Option<String> {
    let v = o.json()?;
    v.get("modified")
        .or_else(|| v.get("created"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

pub async fn versions(
    TaxiiCaller(caller): TaxiiCaller,
    State(state): State<AppState>,
    TaxiiPath((collection, object)): TaxiiPath<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, TaxiiError> {
    let page = read_object(
        &state,
        &caller,
        &collection,
        object,
        query.as_deref(),
        VersionSelector::All,
    )
    .await?;
    let versions: Vec<String> = page.objects.iter().filter_map(version_text).collect();
    let body = json!({ "more": page.more, "versions": versions });
    Ok(with_date_headers(Json(body).into_response(), &page))
}

pub async fn manifest(
    TaxiiCaller(caller): TaxiiCaller,
    State(state): State<AppState>,
    TaxiiPath(collection): TaxiiPath<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, TaxiiError> {
    let request = parse_request(query.as_deref(), true)?;
    let page = read_page(&state, &caller, &collection, request, VersionSelector::Last).await?;
    let records: Vec<Value> = page
        .objects
        .iter()
        .map(|o| {
            let item = o.item();
            json!({
                "id": item.id,
                "date_added": taxii_timestamp(item.date_added),
                "version": version_text(o).unwrap_or_default(),
                "media_type": STIX_MEDIA_TYPE,
            })
        })
        .collect();
    let mut body = json!({ "more": page.more });
    if let Some(next) = &page.next {
        body["next"] = json!(next);
    }
    if !records.is_empty() {
        body["objects"] = Value::Array(records);
    }
    Ok(with_date_headers(Json(body).into_response(), &page))
}

/// The request header naming the victim case of a submission.
pub const CASE_HEADER: &str = "x-relais-case";

/// `POST …/objects/`: stores what is valid, answers the status resource (202).
pub async fn add_objects(
    TaxiiCaller(caller): TaxiiCaller,
    State(state): State<AppState>,
    TaxiiPath(collection): TaxiiPath<String>,
    headers: axum::http::HeaderMap,
    EnvelopeBytes(body): EnvelopeBytes,
) -> Result<Response, TaxiiError> {
    let now = state.clock.now();
    // A submission names the victim case it comes from in a header, so that the objects
    // themselves carry nothing about the case.
    let case = match headers.get(CASE_HEADER) {
        None => None,
        Some(v) => Some(v.to_str().map_err(|_| {
            TaxiiError::from(crate::http::error::ApiError::BadRequest(format!(
                "{CASE_HEADER} must be a case id"
            )))
        })?),
    };
    let wait = time::Duration::seconds(
        i64::try_from(state.limits.pending_marking_secs).unwrap_or(i64::MAX),
    );
    let text = state
        .services
        .post_envelope(&caller, &collection, &body, case, wait, now)
        .await?;
    Ok((axum::http::StatusCode::ACCEPTED, text).into_response())
}

/// `GET /taxii2/api/status/{id}/`: only the principal that posted sees it.
pub async fn status(
    TaxiiCaller(caller): TaxiiCaller,
    State(state): State<AppState>,
    TaxiiPath(id): TaxiiPath<String>,
) -> Result<Response, TaxiiError> {
    let body = state
        .services
        .status(&caller, &id)
        .await
        .map_err(|e| TaxiiError::from(crate::http::error::ApiError::from(e)))?
        .ok_or_else(TaxiiError::not_found)?;
    Ok(body.into_response())
}

/// `DELETE …/objects/{id}/`: the producer removes versions of its object (`match[version]`:
/// a timestamp list, `all`, `first` or `last`; all versions by default).
pub async fn delete_object(
    TaxiiCaller(caller): TaxiiCaller,
    State(state): State<AppState>,
    TaxiiPath((collection, object)): TaxiiPath<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, TaxiiError> {
    let request = parse_request(query.as_deref(), false)?;
    let deleted = state
        .services
        .delete_versions(
            &caller,
            &collection,
            &object,
            request.versions,
            state.clock.now(),
        )
        .await?;
    match deleted {
        Deleted::Versions(_) => Ok(axum::http::StatusCode::OK.into_response()),
        Deleted::NotProducer => Err(TaxiiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "Forbidden",
            "only the producer of an object may delete it",
        )),
        Deleted::NotFound => Err(TaxiiError::not_found()),
        Deleted::Decided => Err(TaxiiError::new(
            axum::http::StatusCode::CONFLICT,
            "Conflict",
            "the CSIRT has decided on this submission; it is kept and cannot be deleted",
        )),
    }
}
