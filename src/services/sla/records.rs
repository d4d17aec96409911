//! The contract rules, kept under a contract: asset reviews, operational committees and their
//! minutes, prepaid incident-response credits, and the contract's term. The analysts and the
//! contract's SOC provider record and read them; the decisions are `domain::sla::rules`'.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::{Sla, SlaError, iso_date};
use crate::domain::access::RegistryRecord;
use crate::domain::audit::record::AuditRecord;
use crate::domain::principal::PrincipalKind;
use crate::domain::sla::access::{Disclosed, is_soc_of};
use crate::domain::sla::rules::{
    self, AssetReview, CommitteeStatus, CreditBalance, Minutes, MinutesGap, Purchase, RuleError,
    Term, Usage,
};
use crate::store::StoreError;
use crate::store::sla::{ContractRecord, RecordKind};

/// Largest amount of one credit purchase or usage, and of monitored or subscribed assets: far
/// above any contract, and exact in every JSON reader.
pub const MAX_CREDIT_AMOUNT: u64 = 1_000_000_000;
/// Most entries one committee's minutes hold, all sections together.
const MAX_MINUTES_ENTRIES: usize = 1000;
/// Most purchases (and usages) one contract keeps.
const MAX_CREDIT_RECORDS: usize = 10_000;

/// One line of free text the SOC or an analyst files: trimmed, without control characters.
fn entry(field: &str, text: &str) -> Result<String, SlaError> {
    let t = text.trim();
    if t.len() > crate::domain::sla::contract::MAX_TEXT || t.chars().any(char::is_control) {
        return Err(SlaError::Invalid(format!(
            "{field}: at most {} bytes, without control characters",
            crate::domain::sla::contract::MAX_TEXT
        )));
    }
    Ok(t.to_owned())
}

fn corrupt(e: serde_json::Error) -> SlaError {
    SlaError::Store(StoreError::Corrupt(format!("contract record: {e}")))
}

fn to_doc<T: Serialize>(value: &T) -> Result<serde_json::Value, SlaError> {
    serde_json::to_value(value).map_err(|e| SlaError::Render(e.to_string()))
}

fn from_doc<T: for<'de> Deserialize<'de>>(r: &ContractRecord) -> Result<T, SlaError> {
    serde_json::from_value(r.document.clone()).map_err(corrupt)
}

/// A review as the analysts or the SOC send it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReview {
    #[serde(with = "iso_date")]
    #[schema(value_type = String, format = Date)]
    pub reviewed_on: Date,
    pub monitored_assets: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredReview {
    #[serde(with = "iso_date")]
    reviewed_on: Date,
    monitored_assets: u64,
    by: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReviewView {
    pub seq: i64,
    #[serde(with = "iso_date")]
    #[schema(value_type = String, format = Date)]
    pub reviewed_on: Date,
    pub by: String,
    /// Baseline, change and, from 5 % more, the prorated regularisation.
    #[schema(value_type = Object)]
    pub review: AssetReview,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCommittee {
    #[serde(with = "iso_date")]
    #[schema(value_type = String, format = Date)]
    pub held_on: Date,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredCommittee {
    #[serde(with = "iso_date")]
    held_on: Date,
    #[serde(with = "iso_date")]
    minutes_due: Date,
    minutes: Option<Minutes>,
    #[serde(with = "iso_date::option")]
    minutes_received_on: Option<Date>,
    by: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CommitteeView {
    pub seq: i64,
    #[serde(with = "iso_date")]
    #[schema(value_type = String, format = Date)]
    pub held_on: Date,
    /// The 10th working day after the committee, on the contract's calendar.
    #[serde(with = "iso_date")]
    #[schema(value_type = String, format = Date)]
    pub minutes_due: Date,
    #[serde(with = "iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub minutes_received_on: Option<Date>,
    /// `pending`, `overdue`, `complete`, `late` or `incomplete`.
    #[schema(value_type = String)]
    pub status: CommitteeStatus,
    /// What the minutes lack, each with a sentence.
    pub gaps: Vec<GapView>,
    #[schema(value_type = Option<Object>)]
    pub minutes: Option<Minutes>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GapView {
    #[schema(value_type = String)]
    pub section: MinutesGap,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPurchase {
    #[serde(with = "iso_date")]
    #[schema(value_type = String, format = Date)]
    pub bought_on: Date,
    /// Credits (the unit the contract counts them in: days, hours).
    pub amount: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUsage {
    #[serde(with = "iso_date")]
    #[schema(value_type = String, format = Date)]
    pub used_on: Date,
    pub amount: u64,
    /// What the credits were used for (a case id, a mission).
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreditsView {
    /// Balance at the date asked (default: today on the contract's calendar), lot by lot,
    /// first in first out; a lot expires three years after purchase.
    #[schema(value_type = Object)]
    pub balance: CreditBalance,
    #[schema(value_type = Vec<Object>)]
    pub purchases: Vec<NewPurchase>,
    #[schema(value_type = Vec<Object>)]
    pub usages: Vec<NewUsage>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TermView {
    pub contract: String,
    #[serde(with = "iso_date")]
    #[schema(value_type = String, format = Date)]
    pub at: Date,
    /// The current period, its term, how many tacit renewals led to it, the last day to end
    /// it by registered letter (3 months before term) and, with a notice date, when it ends.
    #[schema(value_type = Object)]
    pub term: Term,
}

impl Sla<'_> {
    /// The contract, for a caller that may record under it: the analysts and its SOC.
    async fn for_records(&self, caller: &RegistryRecord, id: &str) -> Result<Disclosed, SlaError> {
        let d = self.disclosed(caller, id).await?;
        if caller.principal.kind == PrincipalKind::Analyst || is_soc_of(caller, &d) {
            Ok(d)
        } else {
            Err(SlaError::NotFound)
        }
    }

    fn today(&self, d: &Disclosed, now: OffsetDateTime) -> Result<Date, SlaError> {
        let calendar = self.calendar(&d.contract().calendar)?;
        Ok(calendar.local_date(now).unwrap_or(now.date()))
    }

    fn review_views(
        &self,
        d: &Disclosed,
        records: &[ContractRecord],
    ) -> Result<Vec<ReviewView>, SlaError> {
        let c = d.contract();
        let mut baseline = c.subscribed_assets;
        let mut out = Vec::new();
        for r in records {
            let s: StoredReview = from_doc(r)?;
            let review = rules::review_assets(
                baseline,
                s.monitored_assets,
                s.reviewed_on,
                c.subscription_start,
            )?;
            baseline = s.monitored_assets;
            out.push(ReviewView {
                seq: r.seq,
                reviewed_on: s.reviewed_on,
                by: s.by,
                review,
            });
        }
        Ok(out)
    }

    pub async fn reviews(
        &self,
        caller: &RegistryRecord,
        id: &str,
    ) -> Result<Vec<ReviewView>, SlaError> {
        let d = self.for_records(caller, id).await?;
        let records = self
            .store
            .records(&d.contract().id, RecordKind::Review)
            .await?;
        self.review_views(&d, &records)
    }

    /// Records a review of the monitored assets: compared with the previous review (the
    /// subscribed assets at the first), 5 % more or above requires a regularisation.
    pub async fn add_review(
        &self,
        caller: &RegistryRecord,
        id: &str,
        request: NewReview,
        now: OffsetDateTime,
    ) -> Result<ReviewView, SlaError> {
        if request.monitored_assets > MAX_CREDIT_AMOUNT {
            return Err(SlaError::Invalid(format!(
                "monitored_assets must be at most {MAX_CREDIT_AMOUNT}"
            )));
        }
        let d = self.for_records(caller, id).await?;
        let c = d.contract();
        let mut records = self.store.records(&c.id, RecordKind::Review).await?;
        if let Some(last) = records.last() {
            let last: StoredReview = from_doc(last)?;
            if request.reviewed_on < last.reviewed_on {
                return Err(SlaError::Invalid(format!(
                    "reviewed_on is before the previous review ({})",
                    last.reviewed_on
                )));
            }
        }
        let stored = StoredReview {
            reviewed_on: request.reviewed_on,
            monitored_assets: request.monitored_assets,
            by: caller.principal.id.as_str().to_owned(),
        };
        // Checked before it is stored: a review before the subscription is refused.
        let mut check = records.clone();
        let doc = to_doc(&stored)?;
        check.push(ContractRecord {
            contract: c.id.clone(),
            kind: RecordKind::Review,
            seq: 0,
            created_at: now,
            document: doc.clone(),
        });
        self.review_views(&d, &check)?;
        let audit = AuditRecord::by(caller, "soc.review.create", now).objects([c.id.clone()]);
        let seq = self
            .store
            .insert_record(&c.id, RecordKind::Review, &doc, now, &audit)
            .await?;
        records.push(ContractRecord {
            contract: c.id.clone(),
            kind: RecordKind::Review,
            seq,
            created_at: now,
            document: doc,
        });
        let mut views = self.review_views(&d, &records)?;
        views.pop().ok_or(SlaError::NotFound)
    }

    fn committee_view(&self, r: &ContractRecord, today: Date) -> Result<CommitteeView, SlaError> {
        let s: StoredCommittee = from_doc(r)?;
        let gaps = s
            .minutes
            .as_ref()
            .map(rules::check_minutes)
            .unwrap_or_default();
        Ok(CommitteeView {
            seq: r.seq,
            held_on: s.held_on,
            minutes_due: s.minutes_due,
            minutes_received_on: s.minutes_received_on,
            status: rules::committee_status(
                s.held_on,
                s.minutes_due,
                s.minutes_received_on,
                &gaps,
                today,
            ),
            gaps: gaps
                .into_iter()
                .map(|g| GapView {
                    message: g.to_string(),
                    section: g,
                })
                .collect(),
            minutes: s.minutes,
        })
    }

    pub async fn committees(
        &self,
        caller: &RegistryRecord,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<CommitteeView>, SlaError> {
        let d = self.for_records(caller, id).await?;
        let today = self.today(&d, now)?;
        self.store
            .records(&d.contract().id, RecordKind::Committee)
            .await?
            .iter()
            .map(|r| self.committee_view(r, today))
            .collect()
    }

    /// Records that an operational committee was held: its minutes are due on the 10th
    /// working day after, on the contract's calendar.
    pub async fn add_committee(
        &self,
        caller: &RegistryRecord,
        id: &str,
        request: NewCommittee,
        now: OffsetDateTime,
    ) -> Result<CommitteeView, SlaError> {
        let d = self.for_records(caller, id).await?;
        let c = d.contract();
        let calendar = self.calendar(&c.calendar)?;
        let today = self.today(&d, now)?;
        if request.held_on > today {
            return Err(SlaError::Invalid(
                "held_on is in the future: record a committee once it was held".to_owned(),
            ));
        }
        let due = rules::minutes_due(request.held_on, |day| calendar.is_working_day(day))?;
        let stored = StoredCommittee {
            held_on: request.held_on,
            minutes_due: due,
            minutes: None,
            minutes_received_on: None,
            by: caller.principal.id.as_str().to_owned(),
        };
        let doc = to_doc(&stored)?;
        let audit = AuditRecord::by(caller, "soc.committee.create", now).objects([c.id.clone()]);
        let seq = self
            .store
            .insert_record(&c.id, RecordKind::Committee, &doc, now, &audit)
            .await?;
        self.committee_view(
            &ContractRecord {
                contract: c.id.clone(),
                kind: RecordKind::Committee,
                seq,
                created_at: now,
                document: doc,
            },
            today,
        )
    }

    /// Files the minutes of a committee (again, to complete them: the date received is that
    /// of the latest filing).
    pub async fn file_minutes(
        &self,
        caller: &RegistryRecord,
        id: &str,
        seq: i64,
        minutes: Minutes,
        now: OffsetDateTime,
    ) -> Result<CommitteeView, SlaError> {
        let d = self.for_records(caller, id).await?;
        let c = d.contract();
        let today = self.today(&d, now)?;
        let mut minutes = minutes;
        let mut total = 0usize;
        let lists = [
            &mut minutes.participants,
            &mut minutes.indicators,
            &mut minutes.decisions,
            &mut minutes.action_plan,
        ];
        let incidents = minutes.incidents.as_mut().into_iter();
        for list in lists.into_iter().chain(incidents) {
            total += list.len();
            if total > MAX_MINUTES_ENTRIES {
                return Err(SlaError::Invalid(format!(
                    "minutes hold at most {MAX_MINUTES_ENTRIES} entries"
                )));
            }
            for e in list.iter_mut() {
                *e = entry("minutes entry", e)?;
            }
        }
        let mut record = self
            .store
            .records(&c.id, RecordKind::Committee)
            .await?
            .into_iter()
            .find(|r| r.seq == seq)
            .ok_or(SlaError::NotFound)?;
        let mut stored: StoredCommittee = from_doc(&record)?;
        // Minutes count as received the day they were first filed complete: a correction
        // afterwards does not make minutes filed on time late.
        let complete_before = stored.minutes_received_on.is_some()
            && stored
                .minutes
                .as_ref()
                .is_some_and(|m| rules::check_minutes(m).is_empty());
        if !complete_before {
            stored.minutes_received_on = Some(today);
        }
        stored.minutes = Some(minutes);
        record.document = to_doc(&stored)?;
        let audit = AuditRecord::by(caller, "soc.committee.minutes", now)
            .objects([c.id.clone(), format!("committee {seq}")]);
        self.store.update_record(&record, &audit).await?;
        self.committee_view(&record, today)
    }

    async fn credit_lists(
        &self,
        contract: &str,
    ) -> Result<(Vec<NewPurchase>, Vec<NewUsage>), SlaError> {
        let purchases = self
            .store
            .records(contract, RecordKind::Purchase)
            .await?
            .iter()
            .map(from_doc)
            .collect::<Result<Vec<NewPurchase>, _>>()?;
        let usages = self
            .store
            .records(contract, RecordKind::Usage)
            .await?
            .iter()
            .map(from_doc)
            .collect::<Result<Vec<NewUsage>, _>>()?;
        Ok((purchases, usages))
    }

    fn lots(purchases: &[NewPurchase], usages: &[NewUsage]) -> (Vec<Purchase>, Vec<Usage>) {
        (
            purchases
                .iter()
                .map(|p| Purchase {
                    bought_on: p.bought_on,
                    amount: p.amount,
                })
                .collect(),
            usages
                .iter()
                .map(|u| Usage {
                    used_on: u.used_on,
                    amount: u.amount,
                })
                .collect(),
        )
    }

    pub async fn credits(
        &self,
        caller: &RegistryRecord,
        id: &str,
        at: Option<Date>,
        now: OffsetDateTime,
    ) -> Result<CreditsView, SlaError> {
        let d = self.for_records(caller, id).await?;
        let at = match at {
            Some(at) => at,
            None => self.today(&d, now)?,
        };
        let (purchases, usages) = self.credit_lists(&d.contract().id).await?;
        let (p, u) = Self::lots(&purchases, &usages);
        Ok(CreditsView {
            balance: rules::credits_at(&p, &u, at)?,
            purchases,
            usages,
        })
    }

    /// Stores a purchase or a usage if the ledger, read inside the write transaction,
    /// allows it (`allow` sees the purchases and usages with the new one added).
    async fn record_credits(
        &self,
        d: &Disclosed,
        kind: RecordKind,
        doc: serde_json::Value,
        audit: AuditRecord,
        now: OffsetDateTime,
        allow: impl Fn(&[Purchase], &[Usage]) -> Result<(), RuleError> + Send + Sync,
    ) -> Result<(), SlaError> {
        let new = doc.clone();
        let check = move |p: &[ContractRecord], u: &[ContractRecord]| -> Result<(), String> {
            if p.len().max(u.len()) >= MAX_CREDIT_RECORDS {
                return Err(format!(
                    "a contract keeps at most {MAX_CREDIT_RECORDS} purchases and usages of each"
                ));
            }
            let parse = |r: &ContractRecord| r.document.clone();
            let mut purchases: Vec<NewPurchase> = p
                .iter()
                .map(|r| serde_json::from_value(parse(r)).map_err(|e| e.to_string()))
                .collect::<Result<_, _>>()?;
            let mut usages: Vec<NewUsage> = u
                .iter()
                .map(|r| serde_json::from_value(parse(r)).map_err(|e| e.to_string()))
                .collect::<Result<_, _>>()?;
            match kind {
                RecordKind::Purchase => {
                    purchases.push(serde_json::from_value(new.clone()).map_err(|e| e.to_string())?)
                }
                _ => usages.push(serde_json::from_value(new.clone()).map_err(|e| e.to_string())?),
            }
            let (p, u) = Self::lots(&purchases, &usages);
            allow(&p, &u).map_err(|e| e.to_string())
        };
        self.store
            .insert_credit_record(&d.contract().id, kind, &doc, now, &audit, &check)
            .await?
            .map(|_| ())
            .map_err(SlaError::Invalid)
    }

    pub async fn buy_credits(
        &self,
        caller: &RegistryRecord,
        id: &str,
        request: NewPurchase,
        now: OffsetDateTime,
    ) -> Result<CreditsView, SlaError> {
        let d = self.for_records(caller, id).await?;
        if request.amount == 0 || request.amount > MAX_CREDIT_AMOUNT {
            return Err(SlaError::Invalid(format!(
                "amount must be 1 to {MAX_CREDIT_AMOUNT}"
            )));
        }
        rules::expires_on(request.bought_on)?;
        let audit =
            AuditRecord::by(caller, "soc.credits.purchase", now).objects([d.contract().id.clone()]);
        self.record_credits(
            &d,
            RecordKind::Purchase,
            to_doc(&request)?,
            audit,
            now,
            |_, _| Ok(()),
        )
        .await?;
        self.credits(caller, id, None, now).await
    }

    /// Draws credits, oldest lot still valid that day first; refused if the lots valid on
    /// that day do not cover it, checked inside the write so that two usages that each fit
    /// are not both stored when together they do not.
    pub async fn use_credits(
        &self,
        caller: &RegistryRecord,
        id: &str,
        mut request: NewUsage,
        now: OffsetDateTime,
    ) -> Result<CreditsView, SlaError> {
        let d = self.for_records(caller, id).await?;
        if request.amount == 0 || request.amount > MAX_CREDIT_AMOUNT {
            return Err(SlaError::Invalid(format!(
                "amount must be 1 to {MAX_CREDIT_AMOUNT}"
            )));
        }
        request.note = request
            .note
            .as_deref()
            .map(|n| entry("note", n))
            .transpose()?;
        let audit =
            AuditRecord::by(caller, "soc.credits.use", now).objects([d.contract().id.clone()]);
        self.record_credits(
            &d,
            RecordKind::Usage,
            to_doc(&request)?,
            audit,
            now,
            |p, u| {
                // The whole ledger again, with the new usage in date order: a usage dated
                // between earlier ones may leave a later one short.
                rules::credits_at(p, u, Date::MAX).map(|_| ())
            },
        )
        .await?;
        self.credits(caller, id, None, now).await
    }

    /// The contract's current period and its notice deadline (tacit renewal for the same
    /// length unless ended by registered letter 3 months before term).
    pub async fn term(
        &self,
        caller: &RegistryRecord,
        id: &str,
        at: Option<Date>,
        notice_sent_on: Option<Date>,
        now: OffsetDateTime,
    ) -> Result<TermView, SlaError> {
        let d = self.for_records(caller, id).await?;
        let c = d.contract();
        let at = match at {
            Some(at) => at,
            None => self.today(&d, now)?,
        };
        Ok(TermView {
            contract: c.id.clone(),
            at,
            term: rules::contract_term(
                c.subscription_start,
                c.subscription_months,
                at,
                notice_sent_on,
            )?,
        })
    }
}
