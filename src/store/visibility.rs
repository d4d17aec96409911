//! The visibility filter as SQL, for both backends. It is the domain's `VisibilityFilter`
//! rendered clause by clause, so the database never returns a row that `decide` would
//! withhold (an integration test checks the two agree on real databases).

use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::domain::collections::SUBMISSIONS;
use crate::domain::markings::release::{Condition, FederatedRule, VisibilityFilter};
use crate::domain::stix::stored::{ObjectQuery, VersionSelector};

/// A table alias; always one of the literals below, never input.
type Alias = &'static str;

/// Appends a boolean SQL expression over the `stix_objects` row named `t` (an alias).
pub(super) fn push_visibility<DB>(qb: &mut QueryBuilder<DB>, filter: &VisibilityFilter, t: Alias)
where
    DB: Database,
    String: for<'t> Encode<'t, DB> + Type<DB>,
{
    qb.push("(");
    if filter.all_submissions {
        // `ObjectAccess::submission` is exactly "in the submissions collection".
        qb.push(format_args!("{t}.collection_id = "));
        qb.push_bind(SUBMISSIONS.id.to_owned());
        qb.push(" OR (");
    }
    push_levels(qb, t, "tlp", &filter.tlp);
    for (pap, condition) in &filter.pap {
        qb.push(format_args!(" AND ({t}.pap IS NULL OR {t}.pap <> "));
        qb.push_bind(pap.as_str().to_owned());
        if let Some(condition) = condition {
            qb.push(" OR ");
            push_condition(qb, condition, t);
        }
        qb.push(")");
    }
    if let Some(rows) = &filter.granular {
        qb.push(format_args!(" AND ({t}.granular_max IS NULL OR ("));
        push_levels(qb, t, "granular_max", rows);
        if let FederatedRule::Levels(levels) = &filter.federated {
            // A granular part of federated material, like the object, only at these levels.
            qb.push(format_args!(
                " AND ({t}.origin_peer IS NULL OR {t}.granular_max IN ("
            ));
            push_list(qb, levels.iter().map(|l| l.as_str()));
            qb.push("))");
        }
        qb.push("))");
    }
    qb.push(format_args!(" AND (NOT {t}.confined OR "));
    push_condition(qb, &filter.confined, t);
    qb.push(")");
    match &filter.federated {
        FederatedRule::Markings => {}
        FederatedRule::Levels(levels) => {
            qb.push(format_args!(
                " AND ({t}.origin_peer IS NULL OR {t}.tlp IN ("
            ));
            push_list(qb, levels.iter().map(|l| l.as_str()));
            qb.push("))");
        }
        FederatedRule::Origins(peers) => {
            qb.push(format_args!(
                " AND ({t}.origin_peer IS NULL OR {t}.origin_peer IN ("
            ));
            push_list(qb, peers.iter().map(|p| p.as_str()));
            qb.push("))");
        }
    }
    if let Some(allowed) = &filter.pap_at_most {
        qb.push(format_args!(" AND ({t}.pap IS NULL OR {t}.pap IN ("));
        push_list(qb, allowed.iter().map(|p| p.as_str()));
        qb.push("))");
    }
    if filter.all_submissions {
        qb.push(")");
    }
    qb.push(")");
}

/// A bound list for `IN (…)`; an empty list becomes `NULL`, which matches nothing.
fn push_list<'v, DB>(qb: &mut QueryBuilder<DB>, values: impl Iterator<Item = &'v str>)
where
    DB: Database,
    String: for<'t> Encode<'t, DB> + Type<DB>,
{
    let mut any = false;
    for (i, v) in values.enumerate() {
        if i > 0 {
            qb.push(", ");
        }
        qb.push_bind(v.to_owned());
        any = true;
    }
    if !any {
        qb.push("NULL");
    }
}

fn push_levels<DB>(
    qb: &mut QueryBuilder<DB>,
    t: Alias,
    column: &'static str,
    rows: &[(crate::domain::markings::Tlp, Condition)],
) where
    DB: Database,
    String: for<'t> Encode<'t, DB> + Type<DB>,
{
    if rows.is_empty() {
        qb.push("1 = 0");
        return;
    }
    qb.push("(");
    for (i, (tlp, condition)) in rows.iter().enumerate() {
        if i > 0 {
            qb.push(" OR ");
        }
        qb.push(format_args!("({t}.{column} = "));
        qb.push_bind(tlp.as_str().to_owned());
        qb.push(" AND ");
        push_condition(qb, condition, t);
        qb.push(")");
    }
    qb.push(")");
}

fn push_condition<DB>(qb: &mut QueryBuilder<DB>, condition: &Condition, t: Alias)
where
    DB: Database,
    String: for<'t> Encode<'t, DB> + Type<DB>,
{
    match condition {
        Condition::Always => {
            qb.push("1 = 1");
        }
        Condition::ProducerIs(org) => {
            qb.push(format_args!("{t}.producer = "));
            qb.push_bind(org.as_str().to_owned());
        }
        Condition::SharedWith(org) => {
            qb.push(format_args!(
                "EXISTS (SELECT 1 FROM stix_object_shares s \
                 WHERE s.object_seq = {t}.seq AND s.organisation_id = "
            ));
            qb.push_bind(org.as_str().to_owned());
            qb.push(")");
        }
        Condition::Recipient(principal) => {
            qb.push(format_args!(
                "EXISTS (SELECT 1 FROM stix_object_recipients r \
                 WHERE r.object_seq = {t}.seq AND r.principal_id = "
            ));
            qb.push_bind(principal.as_str().to_owned());
            qb.push(")");
        }
        Condition::Any(all) => {
            qb.push("(");
            for (i, c) in all.iter().enumerate() {
                if i > 0 {
                    qb.push(" OR ");
                }
                push_condition(qb, c, t);
            }
            qb.push(")");
        }
    }
}

/// Appends ` WHERE …` for an object query: collection, visibility, `match[type]`, `match[id]`,
/// `added_after` and, with `paged`, the cursor.
pub(super) fn push_object_filters<DB>(qb: &mut QueryBuilder<DB>, query: &ObjectQuery, paged: bool)
where
    DB: Database,
    String: for<'t> Encode<'t, DB> + Type<DB>,
    i64: for<'t> Encode<'t, DB> + Type<DB>,
{
    qb.push(" WHERE o.collection_id = ");
    qb.push_bind(query.collection.clone());
    qb.push(" AND ");
    push_visibility(qb, &query.visibility, "o");
    push_versions(qb, query);
    for (column, values) in [("o.type", &query.types), ("o.id", &query.ids)] {
        if values.is_empty() {
            continue;
        }
        qb.push(" AND ").push(column).push(" IN (");
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                qb.push(", ");
            }
            qb.push_bind(v.clone());
        }
        qb.push(")");
    }
    if let Some(after) = query.added_after {
        let after = super::codec::micros(after);
        // date_added grows strictly with seq (one writer at a time, see `insert_objects`), so
        // "added after T" is exactly "after the last row added at or before T": one index seek,
        // then the page walks (collection, seq). Repeating `date_added > T` here would lead
        // PostgreSQL's planner to intersect two ranges over the whole collection.
        qb.push(" AND o.seq > COALESCE((SELECT d.seq FROM stix_objects d WHERE d.date_added <= ");
        qb.push_bind(after);
        qb.push(" ORDER BY d.date_added DESC LIMIT 1), 0)");
    }
    if paged && let Some(seq) = query.after_seq {
        qb.push(" AND o.seq > ");
        qb.push_bind(seq);
    }
}

/// `match[version]`: first, last, given versions. Which versions are first and last is judged
/// among the versions this reader may see, so that a hidden newer version changes nothing.
fn push_versions<DB>(qb: &mut QueryBuilder<DB>, query: &ObjectQuery)
where
    DB: Database,
    String: for<'t> Encode<'t, DB> + Type<DB>,
{
    if query.versions.is_empty() || query.versions.contains(&VersionSelector::All) {
        return;
    }
    qb.push(" AND (");
    for (i, selector) in query.versions.iter().enumerate() {
        if i > 0 {
            qb.push(" OR ");
        }
        match selector {
            VersionSelector::First | VersionSelector::Last => {
                let aggregate = if *selector == VersionSelector::First {
                    "MIN"
                } else {
                    "MAX"
                };
                qb.push(format_args!(
                    "o.version = (SELECT {aggregate}(v.version) FROM stix_objects v \
                     WHERE v.collection_id = o.collection_id AND v.id = o.id AND "
                ));
                push_visibility(qb, &query.visibility, "v");
                qb.push(")");
            }
            VersionSelector::At(version) => {
                // Submissions store the key scoped to their organisation (`key#org`).
                qb.push("(o.version = ");
                qb.push_bind(version.clone());
                qb.push(" OR o.version LIKE ");
                qb.push_bind(format!(
                    "{version}{}%",
                    crate::domain::stix::stored::VERSION_SCOPE
                ));
                qb.push(")");
            }
            VersionSelector::All => {
                qb.push("1 = 1");
            }
        }
    }
    qb.push(")");
}
