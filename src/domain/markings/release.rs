//! The one decision: may this reader have this object, and in what form.
//!
//! `decide` is the in-memory rule; `VisibilityFilter` is the same rule as a predicate over the
//! stored columns, which the store turns into SQL. Both are derived from the policy's audiences
//! by the same function (`audience_condition`), and a property test proves they agree.
//! Only `release` builds a `Releasable`, and only a `Releasable` can leave the hub.

use std::borrow::Cow;
use std::collections::HashSet;

use serde_json::Value;
use serde_json::value::RawValue;

use super::policy::{Audience, GranularRule, MarkingPolicy};
use super::sealed::Sealed;
use super::{Pap, Tlp};
use crate::domain::principal::{OrganisationId, PrincipalId, PrincipalKind};
use crate::domain::stix::prune::{Pruning, parse_selector};
use crate::domain::stix::references::references;
use crate::domain::stix::validate::validate;

/// Who is reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    pub principal: PrincipalId,
    pub kind: PrincipalKind,
    pub organisation: OrganisationId,
    /// For a peer hub: the highest TLP its federation agreement allows. `None` for others.
    pub peer_max_tlp: Option<Tlp>,
    /// For a peer hub: the highest PAP it may receive (`None`: any).
    pub peer_max_pap: Option<Pap>,
    /// For a peer hub: the peers whose material may be served on to it (their entries say
    /// `reshare`); material from any other peer is withheld from it.
    pub reshared_from: Vec<PrincipalId>,
}

/// A granular marking of an object, normalised: these selectors are at this TLP.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GranularTlp {
    pub tlp: Tlp,
    pub selectors: Vec<String>,
}

/// The access-relevant facts of a stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectAccess {
    pub tlp: Tlp,
    pub pap: Option<Pap>,
    /// The organisation that produced the object.
    pub producer: OrganisationId,
    pub shared_with: Vec<OrganisationId>,
    pub recipients: Vec<PrincipalId>,
    pub granular: Vec<GranularTlp>,
    /// Confined to the CSIRT and the producing organisation, whatever the markings say: a
    /// provider submission waiting for triage, or material from a case whose beneficiary has
    /// not consented to sharing (Convention art. 4).
    pub confined: bool,
    /// A provider's submission (the submissions collection): addressed to the CSIRT, whose
    /// analysts read it whatever its markings.
    pub submission: bool,
    /// The peer hub that delivered it, for federated material; `None` for what was produced
    /// here.
    pub origin_peer: Option<PrincipalId>,
}

impl ObjectAccess {
    /// The marking names an audit entry lists for an object: its TLP and PAP.
    pub fn marking_names(&self) -> impl Iterator<Item = String> + '_ {
        std::iter::once(format!("tlp:{}", self.tlp.as_str()))
            .chain(self.pap.map(|p| format!("pap:{}", p.as_str())))
    }

    /// The most restrictive granular TLP above the object's own, if any.
    pub fn granular_max(&self) -> Option<Tlp> {
        self.granular
            .iter()
            .map(|g| g.tlp)
            .filter(|t| *t > self.tlp)
            .max()
    }
}

/// A condition on an object for one reader, as the policy's audiences reduce to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Always,
    /// The object's producer is this organisation.
    ProducerIs(OrganisationId),
    /// The object is shared with this organisation.
    SharedWith(OrganisationId),
    /// This principal is a named recipient.
    Recipient(PrincipalId),
    Any(Vec<Condition>),
}

impl Condition {
    pub fn holds(&self, access: &ObjectAccess) -> bool {
        match self {
            Condition::Always => true,
            Condition::ProducerIs(org) => access.producer == *org,
            Condition::SharedWith(org) => access.shared_with.contains(org),
            Condition::Recipient(p) => access.recipients.contains(p),
            Condition::Any(all) => all.iter().any(|c| c.holds(access)),
        }
    }
}

/// What the reader's membership in `audiences` requires of an object at `level`: `None` when
/// nothing can make it readable.
fn audience_condition(
    policy: &MarkingPolicy,
    audiences: &[Audience],
    reader: &Reader,
    level: Tlp,
) -> Option<Condition> {
    let mut any = Vec::new();
    for audience in audiences {
        let condition = match audience {
            Audience::Everyone => Some(Condition::Always),
            Audience::Csirt => (reader.kind == PrincipalKind::Analyst).then_some(Condition::Always),
            Audience::Providers => {
                (reader.kind == PrincipalKind::Provider).then_some(Condition::Always)
            }
            Audience::Peers => (reader.kind == PrincipalKind::Peer
                && policy.federate(level)
                && reader.peer_max_tlp.is_some_and(|max| level <= max))
            .then_some(Condition::Always),
            Audience::Producer => Some(Condition::ProducerIs(reader.organisation.clone())),
            Audience::SharedWith => Some(Condition::SharedWith(reader.organisation.clone())),
            Audience::Recipients => Some(Condition::Recipient(reader.principal.clone())),
        };
        match condition {
            Some(Condition::Always) => return Some(Condition::Always),
            Some(c) => any.push(c),
            None => {}
        }
    }
    match any.len() {
        0 => None,
        1 => any.pop(),
        _ => Some(Condition::Any(any)),
    }
}

/// A provider's submission is addressed to the CSIRT: its analysts read every one, whatever
/// the TLP says (the TLP governs what the CSIRT may do with it at triage). A rule of the hub,
/// not of the policy file: triage is the CSIRT's job and cannot work on what it cannot read.
fn reads_all_submissions(reader: &Reader) -> bool {
    reader.kind == PrincipalKind::Analyst
}

/// Who may read a confined object besides the CSIRT: its producing organisation.
fn confined_condition(reader: &Reader) -> Condition {
    if reader.kind == PrincipalKind::Analyst {
        Condition::Always
    } else {
        Condition::ProducerIs(reader.organisation.clone())
    }
}

/// The visibility rule for one reader as a predicate over stored columns: an object is visible
/// when its TLP row holds, its PAP row holds (or its PAP restricts no one), under the
/// `withhold` rule the row of its most restrictive granular TLP holds, and, if it is confined,
/// the confinement condition holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisibilityFilter {
    /// Levels absent from the list are never visible.
    pub tlp: Vec<(Tlp, Condition)>,
    /// PAP levels that restrict readers, with what they require; an absent level restricts no
    /// one, a level mapped to `None` is never visible.
    pub pap: Vec<(Pap, Option<Condition>)>,
    /// `Some` under the `withhold` rule: conditions on the most restrictive granular TLP.
    pub granular: Option<Vec<(Tlp, Condition)>>,
    /// What a confined object requires of this reader.
    pub confined: Condition,
    /// The reader reads every submission, whatever its markings (the CSIRT).
    pub all_submissions: bool,
    /// What federated material (an object with an origin peer) must satisfy besides.
    pub federated: FederatedRule,
    /// `Some` for a peer capped by PAP: the PAP levels it may receive (objects without PAP
    /// pass).
    pub pap_at_most: Option<Vec<Pap>>,
}

/// Who reads material another hub delivered, besides its markings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FederatedRule {
    /// The CSIRT: as its markings allow.
    Markings,
    /// Providers: only at these levels.
    Levels(Vec<Tlp>),
    /// Peers: only what these peers delivered (their material may be re-shared); never what
    /// the reader itself delivered.
    Origins(Vec<PrincipalId>),
}

impl FederatedRule {
    fn for_reader(policy: &MarkingPolicy, reader: &Reader) -> Self {
        match reader.kind {
            PrincipalKind::Analyst => FederatedRule::Markings,
            PrincipalKind::Provider => FederatedRule::Levels(
                Tlp::ALL
                    .into_iter()
                    .filter(|t| policy.providers_read_federated(*t))
                    .collect(),
            ),
            PrincipalKind::Peer => FederatedRule::Origins(
                reader
                    .reshared_from
                    .iter()
                    .filter(|p| **p != reader.principal)
                    .cloned()
                    .collect(),
            ),
        }
    }

    fn holds(&self, access: &ObjectAccess) -> bool {
        self.holds_at(access, access.tlp)
    }

    /// Whether the part of `access` marked `tlp` (the object, or a granular part) passes.
    fn holds_at(&self, access: &ObjectAccess, tlp: Tlp) -> bool {
        let Some(origin) = &access.origin_peer else {
            return true;
        };
        match self {
            FederatedRule::Markings => true,
            FederatedRule::Levels(levels) => levels.contains(&tlp),
            FederatedRule::Origins(peers) => peers.contains(origin),
        }
    }
}

fn pap_within(max: Option<Pap>, pap: Option<Pap>) -> bool {
    match (max, pap) {
        (Some(max), Some(pap)) => pap <= max,
        _ => true,
    }
}

impl VisibilityFilter {
    pub fn for_reader(policy: &MarkingPolicy, reader: &Reader) -> Self {
        let tlp_rows: Vec<(Tlp, Condition)> = Tlp::ALL
            .into_iter()
            .filter_map(|t| {
                audience_condition(policy, policy.tlp_readers(t), reader, t).map(|c| (t, c))
            })
            .collect();
        let pap = Pap::ALL
            .into_iter()
            .filter_map(|p| {
                policy.pap_readers(p).map(|audiences| {
                    // PAP audiences are not tied to a TLP level; peers qualify when they may
                    // receive anything at all.
                    (p, audience_condition(policy, audiences, reader, Tlp::Clear))
                })
            })
            .collect();
        let granular = (policy.granular == GranularRule::Withhold).then(|| tlp_rows.clone());
        Self {
            tlp: tlp_rows,
            pap,
            granular,
            confined: confined_condition(reader),
            all_submissions: reads_all_submissions(reader),
            federated: FederatedRule::for_reader(policy, reader),
            pap_at_most: reader
                .peer_max_pap
                .map(|max| Pap::ALL.into_iter().filter(|p| *p <= max).collect()),
        }
    }

    fn tlp_holds(rows: &[(Tlp, Condition)], tlp: Tlp, access: &ObjectAccess) -> bool {
        rows.iter()
            .find(|(t, _)| *t == tlp)
            .is_some_and(|(_, c)| c.holds(access))
    }

    /// The in-memory evaluation of the filter (what the SQL computes).
    pub fn matches(&self, access: &ObjectAccess) -> bool {
        if access.submission && self.all_submissions {
            return true;
        }
        if !Self::tlp_holds(&self.tlp, access.tlp, access) {
            return false;
        }
        if access.confined && !self.confined.holds(access) {
            return false;
        }
        if !self.federated.holds(access) {
            return false;
        }
        if let (Some(allowed), Some(pap)) = (&self.pap_at_most, access.pap)
            && !allowed.contains(&pap)
        {
            return false;
        }
        if let Some(pap) = access.pap
            && let Some((_, condition)) = self.pap.iter().find(|(p, _)| *p == pap)
            && !condition.as_ref().is_some_and(|c| c.holds(access))
        {
            return false;
        }
        if let Some(rows) = &self.granular
            && let Some(max) = access.granular_max()
            && !(Self::tlp_holds(rows, max, access) && self.federated.holds_at(access, max))
        {
            return false;
        }
        true
    }
}

/// What `decide` concludes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Withhold,
    /// Release, after removing the fields these selectors name (empty: as stored).
    Release {
        redact: Vec<String>,
    },
}

/// May `reader` have an object with these markings? The in-memory form of the rule.
pub fn decide(policy: &MarkingPolicy, reader: &Reader, access: &ObjectAccess) -> Decision {
    if access.submission && reads_all_submissions(reader) {
        return Decision::Release { redact: Vec::new() };
    }
    let federated = FederatedRule::for_reader(policy, reader);
    let readable = |tlp: Tlp| {
        audience_condition(policy, policy.tlp_readers(tlp), reader, tlp)
            .is_some_and(|c| c.holds(access))
            && federated.holds_at(access, tlp)
    };
    if !readable(access.tlp) {
        return Decision::Withhold;
    }
    if access.confined && !confined_condition(reader).holds(access) {
        return Decision::Withhold;
    }
    if !federated.holds(access) {
        return Decision::Withhold;
    }
    if !pap_within(reader.peer_max_pap, access.pap) {
        return Decision::Withhold;
    }
    if let Some(pap) = access.pap
        && let Some(audiences) = policy.pap_readers(pap)
        && !audience_condition(policy, audiences, reader, Tlp::Clear)
            .is_some_and(|c| c.holds(access))
    {
        return Decision::Withhold;
    }
    let mut redact = Vec::new();
    for marking in &access.granular {
        if marking.tlp > access.tlp && !readable(marking.tlp) {
            match policy.granular {
                GranularRule::Withhold => return Decision::Withhold,
                GranularRule::Redact => redact.extend(marking.selectors.iter().cloned()),
            }
        }
    }
    Decision::Release { redact }
}

/// An object the policy released to one reader: the only thing a response, an export, a count
/// or the federation outbox may be built from. It cannot be built outside this module.
#[derive(Debug, Clone, PartialEq)]
pub struct Releasable<T> {
    item: T,
    /// The object with parts removed, when granular markings or references required it.
    redacted: Option<Value>,
}

impl<T> Releasable<T> {
    pub fn item(&self) -> &T {
        &self.item
    }

    /// Whether parts were removed for this reader.
    pub fn is_cut(&self) -> bool {
        self.redacted.is_some()
    }
}

impl<T: Content> Releasable<T> {
    /// The object as its reader may have it: the stored bytes exactly, or, when parts were
    /// removed, the JSON that is left. Empty if the stored text was not at hand.
    pub fn text(&self) -> Cow<'_, str> {
        match &self.redacted {
            Some(v) => Cow::Owned(v.to_string()),
            None => self
                .item
                .text()
                .map_or(Cow::Borrowed(""), |t| Cow::Borrowed(t.text())),
        }
    }

    /// The object as its reader may have it, to embed verbatim in a larger document (a TAXII
    /// envelope): checked to be one JSON value, so that a corrupt row cannot break the
    /// document around it.
    pub fn raw_json(&self) -> Option<Box<RawValue>> {
        RawValue::from_string(self.text().into_owned()).ok()
    }

    /// The object as its reader may have it, parsed.
    pub fn json(&self) -> Option<Value> {
        match &self.redacted {
            Some(v) => Some(v.clone()),
            None => self.item.text()?.json(),
        }
    }
}

/// What the policy needs of an object besides its markings.
pub trait Content {
    /// The STIX id.
    fn stix_id(&self) -> &str;
    /// The distinct ids the object references under the reference rule (see
    /// `stix::references`).
    fn references(&self) -> Cow<'_, [String]>;
    /// The object's stored text, if it is at hand: needed to send it, and to cut it.
    fn text(&self) -> Option<&Sealed>;
}

/// Something whose markings the policy can inspect.
pub trait Marked: Content {
    fn access(&self) -> &ObjectAccess;
}

/// The ids among those a page references that its reader may read: built by
/// `references::readable`, from the objects themselves, never from the ids alone, so that a
/// reference to a missing object and one to a hidden object are the same to everyone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadableSet {
    ids: HashSet<String>,
}

impl ReadableSet {
    pub fn contains(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    pub(super) fn insert(&mut self, id: &str) -> bool {
        self.ids.insert(id.to_owned())
    }
}

/// The form in which `item` may leave for `reader`: `None` withheld, `Some(None)` as stored,
/// `Some(Some(json))` with parts removed.
///
/// Parts go when a granular marking above the reader's clearance covers them, and references
/// go when they name an object the reader may not read (a list loses the item, a single
/// reference its property). What is left must still be a valid STIX object of its type: an
/// object whose required properties, required references (`source_ref`, `sighting_of_ref`,
/// a report's only `object_refs`…) or required identity fields went is withheld whole.
pub(super) fn released_form<T: Marked>(
    policy: &MarkingPolicy,
    reader: &Reader,
    item: &T,
    readable: &ReadableSet,
) -> Option<Option<Value>> {
    cut(item, &verdict(policy, reader, item.access())?, readable)
}

/// What the markings let one reader have of an object: withheld (`None`), or these fields
/// removed and, unless the object is addressed to the reader whole, its references judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub redact: Vec<String>,
    pub judge_references: bool,
}

pub fn verdict(policy: &MarkingPolicy, reader: &Reader, access: &ObjectAccess) -> Option<Verdict> {
    match decide(policy, reader, access) {
        Decision::Withhold => None,
        Decision::Release { redact } => Some(Verdict {
            redact,
            judge_references: !addressed_whole(access.submission, reader),
        }),
    }
}

/// A submission reaches the CSIRT whole: what it names is what its provider wrote, not
/// something the hub reveals of its store.
pub fn addressed_whole(submission: bool, reader: &Reader) -> bool {
    submission && reads_all_submissions(reader)
}

/// `item` without the fields `verdict` names and, if it says so, the references `readable`
/// lacks, if what is left is still a valid STIX object (see `released_form`).
pub(super) fn cut<T: Content + ?Sized>(
    item: &T,
    verdict: &Verdict,
    readable: &ReadableSet,
) -> Option<Option<Value>> {
    let redact = &verdict.redact;
    let refs = item.references();
    let hides_references = verdict.judge_references && refs.iter().any(|id| !readable.contains(id));
    if redact.is_empty() && !hides_references {
        return Some(None);
    }
    let mut json = item.text()?.json()?;
    let mut pruning = Pruning::default();
    for s in redact {
        // A selector that cannot be read withholds the object rather than sending it whole.
        pruning.remove(parse_selector(s).ok()?);
    }
    if hides_references {
        for r in references(&json) {
            if !readable.contains(&r.id) {
                pruning.remove(r.path);
            }
        }
    }
    pruning.apply(&mut json);
    let text = json.to_string();
    validate(&text, &json).ok()?;
    Some(Some(json))
}

/// Releases `item` to `reader` if the policy allows, removing what it must. `readable` holds
/// the referenced objects the reader may read (see `references::readable`).
pub fn release<T: Marked>(
    policy: &MarkingPolicy,
    reader: &Reader,
    item: T,
    readable: &ReadableSet,
) -> Option<Releasable<T>> {
    let redacted = released_form(policy, reader, &item, readable)?;
    Some(Releasable { item, redacted })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn org(n: u8) -> OrganisationId {
        OrganisationId::from_stored(format!("org--{n}"))
    }

    fn principal(n: u8) -> PrincipalId {
        PrincipalId::from_stored(format!("principal--{n}"))
    }

    fn reader(kind: PrincipalKind, o: u8, p: u8, peer_max: Option<Tlp>) -> Reader {
        Reader {
            principal: principal(p),
            kind,
            organisation: org(o),
            peer_max_tlp: peer_max,
            peer_max_pap: None,
            reshared_from: Vec::new(),
        }
    }

    fn access(tlp: Tlp, producer: u8) -> ObjectAccess {
        ObjectAccess {
            tlp,
            pap: Some(Pap::Green),
            producer: org(producer),
            shared_with: vec![],
            recipients: vec![],
            granular: vec![],
            confined: false,
            submission: false,
            origin_peer: None,
        }
    }

    fn shipped() -> MarkingPolicy {
        MarkingPolicy::shipped().unwrap()
    }

    fn released(r: &Reader, a: &ObjectAccess) -> bool {
        decide(&shipped(), r, a) != Decision::Withhold
    }

    const CSIRT: u8 = 0;

    #[test]
    fn shipped_policy_table() {
        let analyst = reader(PrincipalKind::Analyst, CSIRT, 1, None);
        let provider_a = reader(PrincipalKind::Provider, 10, 2, None);
        let provider_b = reader(PrincipalKind::Provider, 11, 3, None);
        let peer_green = reader(PrincipalKind::Peer, 20, 4, Some(Tlp::Green));
        let peer_clear = reader(PrincipalKind::Peer, 21, 5, Some(Tlp::Clear));

        // CLEAR: everyone.
        for r in [&analyst, &provider_a, &provider_b, &peer_green, &peer_clear] {
            assert!(released(r, &access(Tlp::Clear, 10)));
        }
        // GREEN: CSIRT, providers, peers allowing GREEN.
        let green = access(Tlp::Green, 10);
        assert!(released(&analyst, &green) && released(&provider_b, &green));
        assert!(released(&peer_green, &green) && !released(&peer_clear, &green));
        // AMBER: CSIRT, producer, shared-with organisations.
        let mut amber = access(Tlp::Amber, 10);
        assert!(released(&analyst, &amber) && released(&provider_a, &amber));
        assert!(!released(&provider_b, &amber) && !released(&peer_green, &amber));
        amber.shared_with.push(org(11));
        assert!(released(&provider_b, &amber));
        // AMBER+STRICT: sharing with an organisation is not enough, naming a principal is.
        let mut strict = access(Tlp::AmberStrict, 10);
        strict.shared_with.push(org(11));
        assert!(released(&analyst, &strict) && released(&provider_a, &strict));
        assert!(!released(&provider_b, &strict));
        strict.recipients.push(principal(3));
        assert!(released(&provider_b, &strict));
        // RED: producer and named recipients only, not even the CSIRT.
        let mut red = access(Tlp::Red, 10);
        assert!(released(&provider_a, &red) && !released(&analyst, &red));
        red.recipients.push(principal(1));
        assert!(released(&analyst, &red));
    }

    /// A test object: its markings and its JSON.
    struct Obj(ObjectAccess, Value, Sealed);

    fn obj(access: ObjectAccess, json: Value) -> Obj {
        let text = Sealed::new(json.to_string());
        Obj(access, json, text)
    }

    impl Marked for Obj {
        fn access(&self) -> &ObjectAccess {
            &self.0
        }
    }

    impl Content for Obj {
        fn stix_id(&self) -> &str {
            self.1["id"].as_str().unwrap_or_default()
        }
        fn references(&self) -> Cow<'_, [String]> {
            Cow::Owned(crate::domain::stix::references::referenced_ids(&self.1))
        }
        fn text(&self) -> Option<&Sealed> {
            Some(&self.2)
        }
    }

    const AMBER: &str = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
    const RED: &str = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";

    fn indicator(extra: Value) -> Value {
        let mut o = json!({
            "type": "indicator", "spec_version": "2.1",
            "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
            "name": "C2", "pattern": "[ipv4-addr:value = '198.51.100.7']",
            "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"
        });
        for (k, v) in extra.as_object().unwrap() {
            o[k] = v.clone();
        }
        o
    }

    #[test]
    fn granular_markings_redact_fields_above_clearance() {
        let policy = shipped();
        let provider_b = reader(PrincipalKind::Provider, 11, 3, None);
        let mut a = access(Tlp::Green, 10);
        a.granular.push(GranularTlp {
            tlp: Tlp::Amber,
            selectors: vec!["description".into(), "external_references.[1]".into()],
        });
        let json = indicator(json!({
            "description": "seen at the victim's site",
            "external_references": [{"source_name": "a", "external_id": "1"},
                                    {"source_name": "internal", "external_id": "2"},
                                    {"source_name": "c", "external_id": "3"}],
            "granular_markings": [
                {"marking_ref": AMBER, "selectors": ["description", "external_references.[1]"]},
                {"marking_ref": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
                 "selectors": ["external_references.[2]"]}
            ]
        }));
        let none = ReadableSet::default();
        let out = release(&policy, &provider_b, obj(a.clone(), json.clone()), &none).unwrap();
        let redacted = out.redacted.as_ref().unwrap();
        assert!(redacted.get("description").is_none());
        // The item goes (no null left behind) and the GREEN marking follows its item.
        assert_eq!(
            redacted["external_references"],
            json!([{"source_name": "a", "external_id": "1"}, {"source_name": "c", "external_id": "3"}])
        );
        assert_eq!(
            redacted["granular_markings"],
            json!([{"marking_ref": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
                    "selectors": ["external_references.[1]"]}])
        );
        assert_eq!(redacted["name"], "C2");
        // The producer sees everything, as stored.
        let provider_a = reader(PrincipalKind::Provider, 10, 2, None);
        assert!(
            release(&policy, &provider_a, obj(a, json), &none)
                .unwrap()
                .redacted
                .as_ref()
                .is_none()
        );
    }

    #[test]
    fn a_required_property_under_a_hidden_marking_withholds_the_object() {
        let policy = shipped();
        let provider_b = reader(PrincipalKind::Provider, 11, 3, None);
        for required in [
            "id",
            "modified",
            "created",
            "pattern",
            "spec_version",
            "type",
        ] {
            let mut a = access(Tlp::Green, 10);
            a.granular.push(GranularTlp {
                tlp: Tlp::Red,
                selectors: vec![required.into()],
            });
            let json = indicator(json!({
                "granular_markings": [{"marking_ref": RED, "selectors": [required]}]
            }));
            assert!(
                release(&policy, &provider_b, obj(a, json), &ReadableSet::default()).is_none(),
                "{required}"
            );
        }
    }

    fn relationship(source: &str, target: &str) -> Value {
        json!({
            "type": "relationship", "spec_version": "2.1",
            "id": "relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad",
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
            "relationship_type": "indicates", "source_ref": source, "target_ref": target
        })
    }

    const IND: &str = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
    const MAL: &str = "malware--31b940d4-6f7f-459a-80ea-9c1f17b58abc";

    #[test]
    fn references_the_reader_may_not_read_withhold_or_are_removed() {
        let policy = shipped();
        let b = reader(PrincipalKind::Provider, 11, 3, None);
        let green = access(Tlp::Green, 10);
        let mut readable = ReadableSet::default();
        readable.insert(MAL);
        // A required reference to what B may not read: withheld.
        let rel = obj(green.clone(), relationship(IND, MAL));
        assert!(release(&policy, &b, rel, &readable).is_none());
        // Both readable: as stored.
        readable.insert(IND);
        let rel = obj(green.clone(), relationship(IND, MAL));
        assert!(
            release(&policy, &b, rel, &readable)
                .unwrap()
                .redacted
                .as_ref()
                .is_none()
        );
        // An optional list loses what B may not read; emptied, the object is withheld when
        // the list is required (a report), kept without it otherwise (a sighting).
        let hidden = "indicator--00000000-0000-4000-8000-000000000001";
        let report = json!({
            "type": "report", "spec_version": "2.1",
            "id": "report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3",
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
            "name": "r", "published": "2026-01-01T00:00:00Z", "object_refs": [hidden, MAL]
        });
        let out = release(&policy, &b, obj(green.clone(), report.clone()), &readable).unwrap();
        assert_eq!(out.redacted.as_ref().unwrap()["object_refs"], json!([MAL]));
        let mut only_hidden = report;
        only_hidden["object_refs"] = json!([hidden]);
        assert!(release(&policy, &b, obj(green.clone(), only_hidden), &readable).is_none());
        let sighting = json!({
            "type": "sighting", "spec_version": "2.1",
            "id": "sighting--ee20065d-2555-424f-ad9e-0f8fd5b6fa2a",
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
            "sighting_of_ref": IND, "where_sighted_refs": ["identity--00000000-0000-4000-8000-000000000002"]
        });
        let out = release(&policy, &b, obj(green, sighting), &readable).unwrap();
        assert!(
            out.redacted
                .as_ref()
                .unwrap()
                .get("where_sighted_refs")
                .is_none()
        );
    }

    #[test]
    fn readable_references_are_a_least_fixpoint() {
        use crate::domain::markings::references::readable;
        let policy = shipped();
        let b = reader(PrincipalKind::Provider, 11, 3, None);
        let green = || access(Tlp::Green, 10);
        let rel = |id: &str, s: &str, t: &str| {
            let mut r = relationship(s, t);
            r["id"] = json!(id);
            obj(green(), r)
        };
        let r1 = "relationship--00000000-0000-4000-8000-000000000001";
        let r2 = "relationship--00000000-0000-4000-8000-000000000002";
        let r3 = "relationship--00000000-0000-4000-8000-000000000003";
        let report = |id: &str, refs: &[&str]| {
            obj(
                green(),
                json!({
                    "type": "report", "spec_version": "2.1", "id": id,
                    "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                    "name": "r", "published": "2026-01-01T00:00:00Z", "object_refs": refs
                }),
            )
        };
        let report_id = "report--00000000-0000-4000-8000-000000000004";
        let candidates = vec![
            obj(green(), indicator(json!({}))),
            // Its target is not among the candidates: hidden or missing, the same.
            rel(r1, IND, MAL),
            // Grounded in the indicator and in r1, which is not.
            rel(r2, IND, r1),
            // A cycle vouches for nothing.
            rel(r3, r3, IND),
            report(report_id, &[r2, IND]),
            obj(access(Tlp::Red, 10), indicator(json!({"id": MAL}))),
        ];
        let set = readable(&policy, &b, &candidates);
        assert!(set.contains(IND) && set.contains(report_id));
        for id in [MAL, r1, r2, r3] {
            assert!(!set.contains(id), "{id}");
        }
        // The same whatever the order.
        let reversed: Vec<Obj> = candidates.into_iter().rev().collect();
        assert_eq!(readable(&policy, &b, &reversed), set);
    }

    #[test]
    fn withhold_rule_withholds_instead_of_redacting() {
        let text = crate::domain::markings::policy::SHIPPED.replace(
            "granular_above_clearance = \"redact\"",
            "granular_above_clearance = \"withhold\"",
        );
        let policy = MarkingPolicy::parse(&text).unwrap();
        let provider_b = reader(PrincipalKind::Provider, 11, 3, None);
        let mut a = access(Tlp::Green, 10);
        a.granular.push(GranularTlp {
            tlp: Tlp::Red,
            selectors: vec!["description".into()],
        });
        assert_eq!(decide(&policy, &provider_b, &a), Decision::Withhold);
        assert!(!VisibilityFilter::for_reader(&policy, &provider_b).matches(&a));
    }

    fn arb_tlp() -> impl Strategy<Value = Tlp> {
        prop::sample::select(Tlp::ALL.to_vec())
    }

    fn arb_pap() -> impl Strategy<Value = Option<Pap>> {
        prop::option::of(arb_pap_level())
    }

    fn arb_pap_level() -> impl Strategy<Value = Pap> {
        prop::sample::select(Pap::ALL.to_vec())
    }

    fn arb_kind() -> impl Strategy<Value = PrincipalKind> {
        prop::sample::select(PrincipalKind::ALL.to_vec())
    }

    prop_compose! {
        fn arb_reader()(
            kind in arb_kind(), o in 0u8..4, p in 0u8..6, max in prop::option::of(arb_tlp()),
            max_pap in prop::option::of(arb_pap_level()),
            reshared in prop::collection::vec(0u8..6, 0..3),
        ) -> Reader {
            let peer = kind == PrincipalKind::Peer;
            Reader {
                peer_max_pap: if peer { max_pap } else { None },
                reshared_from: if peer { reshared.into_iter().map(principal).collect() } else { Vec::new() },
                ..reader(kind, o, p, if peer { max } else { None })
            }
        }
    }

    prop_compose! {
        fn arb_access()(
            tlp in arb_tlp(), pap in arb_pap(), producer in 0u8..4,
            shared in prop::collection::vec(0u8..4, 0..3),
            recipients in prop::collection::vec(0u8..6, 0..3),
            granular in prop::collection::vec(arb_tlp(), 0..2),
            confined in any::<bool>(),
            submission in any::<bool>(),
            origin in prop::option::of(0u8..6),
        ) -> ObjectAccess {
            ObjectAccess {
                tlp, pap, producer: org(producer),
                shared_with: shared.into_iter().map(org).collect(),
                recipients: recipients.into_iter().map(principal).collect(),
                granular: granular.into_iter().map(|tlp| GranularTlp { tlp, selectors: vec!["description".into()] }).collect(),
                // A submission is always confined to the CSIRT and its producer.
                confined: confined || submission,
                submission,
                // Federated material never sits in the submissions collection.
                origin_peer: origin.filter(|_| !submission).map(principal),
            }
        }
    }

    /// The shipped rules restated from the issue text, independently of the policy file.
    fn clearance_oracle(r: &Reader, a: &ObjectAccess) -> bool {
        let csirt = r.kind == PrincipalKind::Analyst;
        let producer = a.producer == r.organisation;
        let shared = a.shared_with.contains(&r.organisation);
        let named = a.recipients.contains(&r.principal);
        if a.submission && csirt {
            return true;
        }
        if a.confined && !(csirt || producer) {
            return false;
        }
        // Federated material: providers at CLEAR and GREEN only; peers only what another
        // peer delivered and may be re-shared; never above a peer's PAP cap.
        if let Some(origin) = &a.origin_peer {
            match r.kind {
                PrincipalKind::Analyst => {}
                PrincipalKind::Provider if a.tlp > Tlp::Green => return false,
                PrincipalKind::Provider => {}
                PrincipalKind::Peer => {
                    if *origin == r.principal || !r.reshared_from.contains(origin) {
                        return false;
                    }
                }
            }
        }
        if let (Some(max), Some(pap)) = (r.peer_max_pap, a.pap)
            && pap > max
        {
            return false;
        }
        match a.tlp {
            Tlp::Clear => true,
            Tlp::Green => {
                csirt
                    || r.kind == PrincipalKind::Provider
                    || (r.kind == PrincipalKind::Peer && r.peer_max_tlp >= Some(Tlp::Green))
                    || producer
                    || shared
                    || named
            }
            Tlp::Amber => {
                csirt
                    || (r.kind == PrincipalKind::Peer && r.peer_max_tlp >= Some(Tlp::Amber))
                    || producer
                    || shared
                    || named
            }
            Tlp::AmberStrict => csirt || producer || named,
            Tlp::Red => producer || named,
        }
    }

    fn policies() -> Vec<MarkingPolicy> {
        let withhold = crate::domain::markings::policy::SHIPPED.replace(
            "granular_above_clearance = \"redact\"",
            "granular_above_clearance = \"withhold\"",
        );
        let pap_red_csirt_only = format!(
            "{}\n[pap.readers]\nred = [\"csirt\", \"producer\"]\n",
            crate::domain::markings::policy::SHIPPED
        );
        vec![
            shipped(),
            MarkingPolicy::parse(&withhold).unwrap(),
            MarkingPolicy::parse(&pap_red_csirt_only).unwrap(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn filter_and_decision_always_agree(r in arb_reader(), a in arb_access()) {
            for policy in policies() {
                let filter = VisibilityFilter::for_reader(&policy, &r);
                let decided = decide(&policy, &r, &a) != Decision::Withhold;
                prop_assert_eq!(filter.matches(&a), decided, "policy {:?}", policy.granular);
            }
        }

        #[test]
        fn nothing_is_released_above_clearance(r in arb_reader(), a in arb_access()) {
            match decide(&shipped(), &r, &a) {
                Decision::Withhold => {}
                Decision::Release { redact } => {
                    prop_assert!(clearance_oracle(&r, &a));
                    // Every granular part the reader could not read at the object level is redacted.
                    for g in &a.granular {
                        let object_at = ObjectAccess { tlp: g.tlp, granular: vec![], ..a.clone() };
                        if g.tlp > a.tlp && !clearance_oracle(&r, &object_at) {
                            prop_assert!(g.selectors.iter().all(|s| redact.contains(s)));
                        }
                    }
                }
            }
        }
    }

    /// The strings found in `v` and everything under it.
    fn strings_in(v: &Value, out: &mut HashSet<String>) {
        match v {
            Value::String(s) => {
                out.insert(s.clone());
            }
            Value::Array(items) => items.iter().for_each(|x| strings_in(x, out)),
            Value::Object(m) => m.values().for_each(|x| strings_in(x, out)),
            _ => {}
        }
    }

    /// The value a granular selector names, if it names one.
    fn at<'v>(v: &'v Value, selector: &str) -> Option<&'v Value> {
        use crate::domain::stix::prune::Segment;
        let mut node = v;
        for segment in parse_selector(selector).ok()? {
            node = match segment {
                Segment::Key(k) => node.get(k.as_str())?,
                Segment::Index(i) => node.get(i)?,
            };
        }
        Some(node)
    }

    /// The strings each marking definition covers through the granular markings of `v`.
    fn covered(v: &Value) -> Vec<(String, HashSet<String>)> {
        let mut out: Vec<(String, HashSet<String>)> = Vec::new();
        for g in v["granular_markings"].as_array().into_iter().flatten() {
            let marking = g["marking_ref"].as_str().unwrap_or_default().to_owned();
            let mut strings = HashSet::new();
            for s in g["selectors"].as_array().into_iter().flatten() {
                let target = at(v, s.as_str().unwrap_or_default());
                assert!(target.is_some(), "selector {s} names nothing in {v}");
                strings_in(target.unwrap_or(&Value::Null), &mut strings);
            }
            match out.iter_mut().find(|(m, _)| *m == marking) {
                Some((_, all)) => all.extend(strings),
                None => out.push((marking, strings)),
            }
        }
        out
    }

    prop_compose! {
        /// A TLP:CLEAR indicator with `n` external references and `m` labels, every string
        /// in them unique, and granular markings of random levels on random parts of them.
        fn arb_granular_indicator()(n in 1usize..6, m in 1usize..4)(
            markings in prop::collection::vec(
                (arb_tlp(), prop::collection::btree_set(0..(2 * n + m + 1), 1..4)),
                0..5,
            ),
            n in Just(n),
            m in Just(m),
        ) -> (Value, Vec<GranularTlp>) {
            let mut parts: Vec<String> = (0..n).map(|i| format!("external_references.[{i}]")).collect();
            parts.extend((0..n).map(|i| format!("external_references.[{i}].url")));
            parts.extend((0..m).map(|j| format!("labels.[{j}]")));
            parts.push("description".into());
            let granular: Vec<GranularTlp> = markings
                .into_iter()
                .map(|(tlp, picked)| GranularTlp {
                    tlp,
                    selectors: picked.into_iter().map(|k| parts[k].clone()).collect(),
                })
                .collect();
            let object = indicator(json!({
                "description": "the description",
                "labels": (0..m).map(|j| format!("label {j}")).collect::<Vec<_>>(),
                "external_references": (0..n)
                    .map(|i| json!({"source_name": format!("source {i}"), "url": format!("https://example.org/{i}")}))
                    .collect::<Vec<_>>(),
                "granular_markings": granular
                    .iter()
                    .map(|g| json!({"marking_ref": g.tlp.marking_definition_id(), "selectors": g.selectors}))
                    .collect::<Vec<_>>(),
            }));
            (object, granular)
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Granular markings cut exactly what the reader may not read, and the markings left
        /// cover exactly what they covered before, minus what went: a marking renumbered onto
        /// a neighbour would still be valid STIX, so no validator would see it.
        #[test]
        fn granular_cuts_take_what_is_hidden_and_leave_markings_on_their_own_parts(
            (object, granular) in arb_granular_indicator()
        ) {
            let policy = shipped();
            let provider_b = reader(PrincipalKind::Provider, 11, 3, None);
            let mut a = access(Tlp::Clear, 10);
            a.granular = granular;
            let hidden_refs: HashSet<&str> = [Tlp::Amber, Tlp::AmberStrict, Tlp::Red]
                .into_iter()
                .map(Tlp::marking_definition_id)
                .collect();
            let before = covered(&object);
            let hidden: HashSet<String> = before
                .iter()
                .filter(|(m, _)| hidden_refs.contains(m.as_str()))
                .flat_map(|(_, s)| s.iter().cloned())
                .collect();
            let hidden_selectors: HashSet<&str> = a
                .granular
                .iter()
                .filter(|g| hidden_refs.contains(g.tlp.marking_definition_id()))
                .flat_map(|g| g.selectors.iter().map(String::as_str))
                .collect();
            // Every part here is optional, but an external reference needs more than its
            // source's name: one left with nothing else withholds the object.
            let broken = (0..object["external_references"].as_array().map_or(0, Vec::len)).any(|i| {
                hidden_selectors.contains(format!("external_references.[{i}].url").as_str())
                    && !hidden_selectors.contains(format!("external_references.[{i}]").as_str())
            });
            let out = release(&policy, &provider_b, obj(a, object.clone()), &ReadableSet::default());
            prop_assert_eq!(out.is_none(), broken, "{}", object);
            let Some(out) = out else { return Ok(()) };
            let released = out.redacted.as_ref().cloned().unwrap_or_else(|| object.clone());
            let mut all = HashSet::new();
            let mut left = HashSet::new();
            for field in ["description", "labels", "external_references"] {
                strings_in(&object[field], &mut all);
                strings_in(&released[field], &mut left);
            }
            let expected: HashSet<String> = all.difference(&hidden).cloned().collect();
            prop_assert_eq!(&left, &expected, "{} released as {}", object, released);
            for (marking, strings) in covered(&released) {
                prop_assert!(!hidden_refs.contains(marking.as_str()), "{} left in {}", marking, released);
                let was = before
                    .iter()
                    .find(|(m, _)| *m == marking)
                    .map(|(_, s)| s.difference(&hidden).cloned().collect::<HashSet<_>>())
                    .unwrap_or_default();
                prop_assert_eq!(&strings, &was, "{} moved in {}", marking, released);
            }
            // And a visible marking that still covers something is still there.
            for (marking, strings) in &before {
                let survives = strings.difference(&hidden).next().is_some();
                if !hidden_refs.contains(marking.as_str()) && survives {
                    prop_assert!(covered(&released).iter().any(|(m, _)| m == marking),
                        "{} lost in {}", marking, released);
                }
            }
        }
    }
}
