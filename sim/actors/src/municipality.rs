//! The municipality (保険者) and its care-insurance administration system: a mock of the
//! 標準準拠 介護保険事務システム that migrates, uploads, certifies and reads its inbox
//! (DOMAIN §3, §4, §5).
//!
//! - **Migration** ([`crate::migration`]): nothing is uploaded before the system sends
//!   (`sending` or `sharing`); items made earlier wait in the outbox.
//! - **Uploads** ([`Municipality::sync`]): the insured persons of this insurer (with the
//!   opaque card link J-LIS gives for card holders, asked through [`JlisMock::link_for`] — the
//!   My Number stays here), their insurance cards, certification applications and their
//!   progress, and surveys, in batches of at most `batch_size` items under an
//!   `Idempotency-Key` each. A batch that failed is resent later with the same key and the
//!   same bytes, so it is applied once. Items about a person who is not on the platform yet
//!   (no certification, hence no insurance card to upload) are held until the person is.
//! - **Certification** ([`crate::certification`]): applications (new, renewal, change), the
//!   survey, the physician-opinion request to the attending doctor, primary judgement, board
//!   and decision, driven by [`Municipality::advance`] with the date; a decision uploads the
//!   new insurance card.
//! - **Consent**: comprehensive consent is recorded at each new and renewal application
//!   (`PUT …/consent`, occasion `application` / `renewal`), once the person is on the
//!   platform and the insurer shares; until then it stays pending.
//! - **Inbox** ([`Municipality::poll_inbox`]): physician opinions and care-plan request
//!   notices are processed once each and acknowledged; a message whose acknowledgement was
//!   lost comes back and is only acknowledged again.
//! - **Without a card** ([`Municipality::register_without_card`]): the documented fallback —
//!   the person (or their family) is verified at the counter and the municipality registers
//!   the office.
//! - **Representatives** ([`Municipality::register_representative`]): a family member or
//!   guardian presents their own card at the counter; the municipality names them to the
//!   platform by their card link.
//!
//! Assumptions of the mock (each a parameter or stated here): people enrolled with a care
//! level were certified at some day of the last 11 months for 12 months; the 負担割合証 runs
//! 1 August – 31 July (domain-facts §4.7); a physician opinion counts as received the day
//! the inbox is polled.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

use kiban_core::id::{InsuredNumber, InsurerNumber, MunicipalityCode};
use kiban_core::time::Date;
use kiban_core::vocab::{CareLevel, InfoClass};
use kiban_platform::model::{
    AccessLogEntry, ConsentReceipt, CopayCertificate, InboxMessage, IngestResult, InsuranceCard,
};
use kiban_platform::platform::{RepresentativeEntry, RepresentativeKind};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::card::Card;
use crate::certification::{
    Application, ApplicationKind, Case, CaseId, Certification, Decision, Step, ValidityRules,
    WorkflowError, WorkflowTimes, application_kind,
};
use crate::client::{ApiRequest, PlatformClient, RetryPolicy};
use crate::counter::MunicipalityCounter;
use crate::jlis::{CardLink, JlisMock};
use crate::medical::OpinionRequest;
use crate::migration::{Migration, MigrationError, MigrationState};
use crate::outcome::{ActorError, ReadOutcome, Reason};
use crate::people::Person;
use crate::wire::{PersonRef, send};

/// The largest batch the platform takes.
pub const MAX_BATCH: usize = kiban_platform::platform::MAX_BATCH_ITEMS;

/// How a municipality's system behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct MunicipalityConfig {
    /// Items per ingestion batch (1 to [`MAX_BATCH`]).
    pub batch_size: usize,
    /// Step durations of the certification workflow.
    pub times: WorkflowTimes,
    /// Validity periods it sets.
    pub rules: ValidityRules,
    /// Seeds enrolment dates and surveys.
    pub seed: u64,
    /// Retries of safe requests.
    pub retry: RetryPolicy,
}

impl MunicipalityConfig {
    /// Batches of 500, the standard workflow and validity rules, seed `seed`.
    pub fn standard(seed: u64) -> MunicipalityConfig {
        MunicipalityConfig {
            batch_size: 500,
            times: WorkflowTimes::standard(),
            rules: ValidityRules::standard(),
            seed,
            retry: RetryPolicy::default(),
        }
    }
}

/// How the municipality verified a person without a card at its counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CounterCheck {
    /// One photo ID (driving licence, 身体障害者手帳, …).
    PhotoId,
    /// Two documents without a photo (insurance card and pension book, …).
    TwoDocuments,
    /// A home visit by municipal staff (bedridden persons).
    HomeVisit,
}

impl CounterCheck {
    /// The method as the platform's audit log records it.
    pub const fn as_str(self) -> &'static str {
        match self {
            CounterCheck::PhotoId => "counter-photo-id",
            CounterCheck::TwoDocuments => "counter-two-documents",
            CounterCheck::HomeVisit => "home-visit",
        }
    }
}

/// What a new application opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The case.
    pub case: CaseId,
    /// The kind actually applied for (a late renewal is new).
    pub kind: ApplicationKind,
    /// The opinion request to the attending doctor.
    pub opinion_request: OpinionRequest,
}

/// What one [`Municipality::sync`] did.
#[derive(Debug, Default)]
pub struct SyncReport {
    /// Batches applied (or replayed) by the platform.
    pub batches: usize,
    /// Items in those batches.
    pub items: usize,
    /// Persons the platform created.
    pub persons_created: usize,
    /// Consents recorded.
    pub consents_recorded: usize,
    /// Consents still pending (the person is not on the platform, or the insurer does not
    /// share yet).
    pub consents_pending: usize,
    /// Consents the platform refused for another reason (dropped).
    pub consent_refusals: Vec<(InsuredNumber, Reason)>,
    /// Items held because their person is not on the platform yet.
    pub held: usize,
}

/// A care-plan creation request notice received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarePlanNotice {
    /// The inbox message id.
    pub message: u64,
    /// The filing office.
    pub office: String,
    /// About whom.
    pub person: PersonRef,
    /// When filed (RFC 3339).
    pub submitted_at: String,
}

/// What one [`Municipality::poll_inbox`] did.
#[derive(Debug, Default)]
pub struct InboxReport {
    /// Messages processed for the first time, by id.
    pub processed: Vec<u64>,
    /// Opinions matched to their case.
    pub opinions: Vec<CaseId>,
    /// Care-plan request notices.
    pub care_plan_notices: Vec<CarePlanNotice>,
    /// Messages that matched nothing (kept for staff; still acknowledged).
    pub unmatched: Vec<u64>,
    /// Messages acknowledged.
    pub acknowledged: Vec<u64>,
    /// Acknowledgements that failed (the message comes back next time).
    pub ack_failures: Vec<(u64, ActorError)>,
}

struct Resident {
    person: Person,
    certification: Option<Certification>,
    card_link: Option<CardLink>,
    on_platform: bool,
    held: Vec<Value>,
    open_case: Option<CaseId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Occasion {
    Application,
    Renewal,
}

impl Occasion {
    const fn as_str(self) -> &'static str {
        match self {
            Occasion::Application => "application",
            Occasion::Renewal => "renewal",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PendingConsent {
    insured: InsuredNumber,
    occasion: Occasion,
    certification_end: Option<Date>,
}

/// A batch sent but not confirmed: resent with the same key and bytes.
struct InFlight {
    key: String,
    body: Vec<u8>,
    items: usize,
}

/// A municipality's care-insurance system.
pub struct Municipality {
    code: MunicipalityCode,
    insurer: InsurerNumber,
    client: PlatformClient,
    jlis: JlisMock,
    migration: Migration,
    config: MunicipalityConfig,
    rng: ChaCha8Rng,
    residents: BTreeMap<InsuredNumber, Resident>,
    outbox: VecDeque<Value>,
    in_flight: Option<InFlight>,
    batches: u64,
    consents: Vec<PendingConsent>,
    cases: BTreeMap<CaseId, Case>,
    requests: BTreeMap<String, OpinionRequest>,
    processed: BTreeSet<u64>,
    notices: Vec<CarePlanNotice>,
}

impl fmt::Debug for Municipality {
    /// Counts and states; never a resident's My Number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Municipality")
            .field("code", &self.code)
            .field("state", &self.migration.state())
            .field("residents", &self.residents.len())
            .field("outbox", &self.outbox.len())
            .field("cases", &self.cases.len())
            .field("pending_consents", &self.consents.len())
            .finish_non_exhaustive()
    }
}

impl Municipality {
    /// The system of municipality `code`, calling through `client` (a municipality
    /// certificate), asking `jlis` for card links, still on its legacy system.
    pub fn new(
        code: MunicipalityCode,
        client: PlatformClient,
        jlis: JlisMock,
        config: MunicipalityConfig,
    ) -> Result<Municipality, ActorError> {
        config.rules.validate()?;
        if !(1..=MAX_BATCH).contains(&config.batch_size) {
            return Err(WorkflowError::Rules("batch_size must be 1-10000").into());
        }
        Ok(Municipality {
            code,
            insurer: InsurerNumber::for_municipality(code),
            client,
            jlis,
            migration: Migration::new(),
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            config,
            residents: BTreeMap::new(),
            outbox: VecDeque::new(),
            in_flight: None,
            batches: 0,
            consents: Vec::new(),
            cases: BTreeMap::new(),
            requests: BTreeMap::new(),
            processed: BTreeSet::new(),
            notices: Vec::new(),
        })
    }

    /// The municipality code.
    pub fn code(&self) -> MunicipalityCode {
        self.code
    }

    /// Its insurer number.
    pub fn insurer(&self) -> InsurerNumber {
        self.insurer
    }

    /// The migration of its system.
    pub fn migration(&self) -> &Migration {
        &self.migration
    }

    /// Moves the migration on (see [`Migration::advance`]).
    pub fn migrate(&mut self, to: MigrationState, on: Date) -> Result<(), MigrationError> {
        self.migration.advance(to, on)
    }

    /// The counter for card operations (PIN unlock, releasing a hold, renewals).
    pub fn counter(&self) -> MunicipalityCounter {
        MunicipalityCounter::new(self.code)
    }

    /// The reference of an insured person here.
    pub fn person_ref(&self, insured: InsuredNumber) -> PersonRef {
        PersonRef {
            insurer: self.insurer,
            insured,
        }
    }

    /// The certification of an insured person.
    pub fn certification_of(&self, insured: InsuredNumber) -> Option<Certification> {
        self.residents.get(&insured)?.certification
    }

    /// The card link J-LIS gave for an insured person, if they hold a card.
    pub fn card_link_of(&self, insured: InsuredNumber) -> Option<&CardLink> {
        self.residents.get(&insured)?.card_link.as_ref()
    }

    /// Whether the person has been uploaded (or queued for upload).
    pub fn is_on_platform(&self, insured: InsuredNumber) -> bool {
        self.residents.get(&insured).is_some_and(|r| r.on_platform)
    }

    /// A case.
    pub fn case(&self, id: CaseId) -> Option<&Case> {
        self.cases.get(&id)
    }

    /// Every case, by id.
    pub fn cases(&self) -> impl Iterator<Item = &Case> {
        self.cases.values()
    }

    /// Opinion requests still waiting for their opinion.
    pub fn open_opinion_requests(&self) -> impl Iterator<Item = &OpinionRequest> {
        self.requests.values()
    }

    /// Care-plan request notices received so far.
    pub fn care_plan_notices(&self) -> &[CarePlanNotice] {
        &self.notices
    }

    /// Items waiting to be uploaded (the outbox and a batch in flight).
    pub fn pending_items(&self) -> usize {
        self.outbox.len() + self.in_flight.as_ref().map_or(0, |b| b.items)
    }

    /// Consents waiting to be recorded.
    pub fn pending_consents(&self) -> usize {
        self.consents.len()
    }

    /// Residents whose renewal window is open on `today` and who have no open case.
    pub fn renewals_due(&self, today: Date) -> Vec<InsuredNumber> {
        self.residents
            .iter()
            .filter(|(_, r)| {
                r.open_case.is_none() && r.certification.is_some_and(|c| c.renewal_open_on(today))
            })
            .map(|(n, _)| *n)
            .collect()
    }

    // ------------------------------------------------------------ residents

    /// Takes the insured persons of this insurer from `people` into the register (others are
    /// ignored) and queues their upload; returns how many were new. A person with a care
    /// level was certified on a day of the last 11 months for 12 months (an assumption);
    /// card holders are linked through J-LIS.
    pub fn enrol(&mut self, people: &[Person], today: Date) -> usize {
        let mut added = 0;
        let insurer = self.insurer;
        for person in people.iter().filter(|p| p.insurer == insurer) {
            if self.residents.contains_key(&person.insured) {
                continue;
            }
            let certification = person.care_level.is_certified().then(|| {
                let valid_from = today.plus_days(-self.rng.random_range(0..=330i64));
                Certification {
                    level: person.care_level,
                    valid_from,
                    valid_until: valid_from.plus_months(12).plus_days(-1),
                    decided_on: valid_from,
                }
            });
            let card_link = self.jlis.link_for(person.my_number());
            self.residents.insert(
                person.insured,
                Resident {
                    person: person.clone(),
                    certification,
                    card_link,
                    on_platform: false,
                    held: Vec::new(),
                    open_case: None,
                },
            );
            self.queue_person(person.insured, today);
            added += 1;
        }
        added
    }

    /// Asks J-LIS again for the card links of residents who had none (a card issued since)
    /// and queues their updated records; returns how many were linked.
    pub fn refresh_card_links(&mut self, today: Date) -> usize {
        let mut linked = Vec::new();
        for (insured, r) in &mut self.residents {
            if r.card_link.is_none() {
                if let Some(link) = self.jlis.link_for(r.person.my_number()) {
                    r.card_link = Some(link);
                    linked.push(*insured);
                }
            }
        }
        for insured in &linked {
            self.queue_person(*insured, today);
        }
        linked.len()
    }

    /// The insurance card of a resident as uploaded, if certified.
    fn insurance_card(&self, r: &Resident, today: Date) -> Option<InsuranceCard> {
        let c = r.certification?;
        // The 負担割合証 year runs 1 August – 31 July (domain-facts §4.7).
        let year = if today.month() >= 8 {
            today.year()
        } else {
            today.year() - 1
        };
        let valid_from = Date::new(year, 8, 1)?;
        Some(InsuranceCard {
            care_level: c.level,
            certification_valid_from: c.valid_from,
            certification_valid_until: c.valid_until,
            copay: CopayCertificate {
                ratio: r.person.copay,
                valid_from,
                valid_until: valid_from.plus_months(12).plus_days(-1),
            },
            limit_certificate: None,
        })
    }

    /// Queues the insured-person item of a certified resident, followed by whatever was
    /// held for them.
    fn queue_person(&mut self, insured: InsuredNumber, today: Date) {
        let Some(r) = self.residents.get(&insured) else {
            return;
        };
        let Some(card) = self.insurance_card(r, today) else {
            return;
        };
        let mut item =
            json!({"kind": "insured-person", "insured": insured, "insurance_card": card});
        if let Some(link) = &r.card_link {
            item["card_link"] = json!(link.as_str());
        }
        self.outbox.push_back(item);
        if let Some(r) = self.residents.get_mut(&insured) {
            r.on_platform = true;
            self.outbox.extend(r.held.drain(..));
        }
    }

    /// Queues an item about a resident, or holds it until the resident is on the platform.
    fn queue(&mut self, insured: InsuredNumber, item: Value) {
        match self.residents.get_mut(&insured) {
            Some(r) if !r.on_platform => r.held.push(item),
            _ => self.outbox.push_back(item),
        }
    }

    // ------------------------------------------------------------ uploads

    /// Uploads what is waiting, in batches, then records pending consents. Refused before
    /// the system sends.
    pub async fn sync(&mut self) -> Result<SyncReport, ActorError> {
        self.migration.check_upload()?;
        let mut report = SyncReport::default();
        loop {
            if self.in_flight.is_none() {
                if self.outbox.is_empty() {
                    break;
                }
                let take = self.outbox.len().min(self.config.batch_size);
                let items: Vec<Value> = self.outbox.drain(..take).collect();
                self.batches += 1;
                let key = format!("{}-{:x}-{:08}", self.code, self.config.seed, self.batches);
                let body = serde_json::to_vec(&json!({ "items": items }))
                    .map_err(|e| ActorError::Unexpected(e.to_string()))?;
                self.in_flight = Some(InFlight {
                    key,
                    body,
                    items: take,
                });
            }
            let Some(batch) = &self.in_flight else {
                break;
            };
            let request = ApiRequest::post("/v1/municipality/ingest")
                .bytes("application/json", batch.body.clone())
                .idempotency_key(batch.key.clone());
            let result: IngestResult = send(&self.client, &request, &self.config.retry)
                .await?
                .json()?;
            report.batches += 1;
            report.items += batch.items;
            report.persons_created += result.persons_created;
            self.in_flight = None;
        }
        self.record_consents(&mut report).await;
        report.held = self.residents.values().map(|r| r.held.len()).sum();
        Ok(report)
    }

    async fn record_consents(&mut self, report: &mut SyncReport) {
        let pending = std::mem::take(&mut self.consents);
        for consent in pending {
            if !self.is_on_platform(consent.insured) {
                self.consents.push(consent);
                continue;
            }
            let request = ApiRequest::put(self.person_ref(consent.insured).path("consent")).json(
                &json!({"occasion": consent.occasion.as_str(), "certification_end": consent.certification_end}),
            );
            let result = match request {
                Ok(request) => send(&self.client, &request, &self.config.retry).await,
                Err(e) => Err(e.into()),
            };
            match result {
                Ok(_) => report.consents_recorded += 1,
                Err(e) => match e.reason() {
                    // Not sharing yet, or not on the platform yet: try again next time.
                    Some(Reason::Denied(
                        kiban_core::decide::DenyReason::InsurerNotLive
                        | kiban_core::decide::DenyReason::UnknownSubject,
                    ))
                    | None => self.consents.push(consent),
                    Some(reason) => report.consent_refusals.push((consent.insured, reason)),
                },
            }
        }
        report.consents_pending = self.consents.len();
    }

    // ------------------------------------------------------------ certification

    /// A resident applies (or an office applies for them) on `today`. `need` is the
    /// person's actual state, which the survey will observe (by default the level they were
    /// enrolled with); `institution` is the attending doctor's 医療機関コード, asked for the
    /// opinion.
    pub fn apply(
        &mut self,
        insured: InsuredNumber,
        wanted: ApplicationKind,
        today: Date,
        need: Option<CareLevel>,
        institution: &str,
    ) -> Result<Applied, ActorError> {
        let seed = self.rng.random();
        let r = self
            .residents
            .get(&insured)
            .ok_or(ActorError::NotInsuredHere(insured))?;
        if let Some(open) = r.open_case.and_then(|id| self.cases.get(&id)) {
            return Err(WorkflowError::ApplicationOpen {
                applied_on: open.applied_on(),
            }
            .into());
        }
        let kind = application_kind(wanted, r.certification.as_ref(), today)?;
        let previous = r.certification.filter(|c| c.in_force_on(today));
        let need = need.unwrap_or(r.person.care_level);
        let id = CaseId(u64::try_from(self.cases.len()).unwrap_or(u64::MAX) + 1);
        let case = Case::open(
            Application {
                id,
                insured,
                kind,
                applied_on: today,
                previous,
                need,
                seed,
            },
            self.config.times,
            self.config.rules,
        )?;
        let request = OpinionRequest {
            reference: format!("{}-{}", self.insurer, id),
            case: id,
            person: self.person_ref(insured),
            institution: institution.to_owned(),
            requested_on: today,
            expected_by: case.opinion_expected(),
        };
        self.queue(insured, application_item(&case));
        match kind {
            ApplicationKind::New => self.consents.push(PendingConsent {
                insured,
                occasion: Occasion::Application,
                certification_end: None,
            }),
            ApplicationKind::Renewal => self.consents.push(PendingConsent {
                insured,
                occasion: Occasion::Renewal,
                certification_end: previous.map(|c| c.valid_until),
            }),
            ApplicationKind::Change => {}
        }
        if let Some(r) = self.residents.get_mut(&insured) {
            r.open_case = Some(id);
        }
        self.cases.insert(id, case);
        self.requests
            .insert(request.reference.clone(), request.clone());
        Ok(Applied {
            case: id,
            kind,
            opinion_request: request,
        })
    }

    /// Moves every open case to `today` and queues what changed: progress, surveys and, for
    /// decisions, the new insurance card. Returns the steps taken.
    pub fn advance(&mut self, today: Date) -> Vec<(CaseId, Step)> {
        let mut taken = Vec::new();
        let ids: Vec<CaseId> = self.cases.keys().copied().collect();
        for id in ids {
            let Some(case) = self.cases.get_mut(&id) else {
                continue;
            };
            let steps = case.advance(today);
            if steps.is_empty() {
                continue;
            }
            let insured = case.insured();
            let progress = application_item(case);
            let survey = case.survey().cloned();
            for step in steps {
                match &step {
                    Step::Surveyed(_) => {
                        if let Some(s) = &survey {
                            self.queue(
                                insured,
                                json!({"kind": "certification-survey", "insured": insured, "document": {
                                    "surveyed_on": s.on, "basic_items": s.basic_items,
                                    "special_notes": format!("基準時間 {} 分", s.minutes)}}),
                            );
                        }
                    }
                    Step::Decided(decision) => {
                        if let Some(r) = self.residents.get_mut(&insured) {
                            r.open_case = None;
                            if let Decision::Certified(c) = decision {
                                r.certification = Some(*c);
                            }
                        }
                        self.requests.retain(|_, q| q.case != id);
                    }
                    Step::PrimaryJudged(..) | Step::BoardReviewed(..) => {}
                }
                taken.push((id, step));
            }
            self.queue(insured, progress);
            if taken
                .iter()
                .any(|(c, s)| *c == id && matches!(s, Step::Decided(Decision::Certified(_))))
            {
                self.queue_person(insured, today);
            }
        }
        taken
    }

    /// The opinion for `case` arrived outside the platform on `on` (by post or fax: the
    /// dual operation while doctors, or the person, are not on the platform — a first-time
    /// applicant is not on it before the decision, so no opinion about them can be
    /// submitted electronically).
    pub fn receive_opinion_outside(&mut self, case: CaseId, on: Date) -> Result<(), ActorError> {
        let c = self
            .cases
            .get_mut(&case)
            .ok_or(ActorError::UnknownCase(case))?;
        c.receive_opinion(on)?;
        self.requests.retain(|_, r| r.case != case);
        Ok(())
    }

    /// Reads the inbox, processes each new message once (opinions go to their case,
    /// care-plan notices are kept) and acknowledges every message read.
    pub async fn poll_inbox(&mut self, today: Date) -> Result<InboxReport, ActorError> {
        let mut report = InboxReport::default();
        let mut messages: Vec<InboxMessage> = Vec::new();
        loop {
            let after = messages.last().map_or(0, |m| m.id);
            let page: Vec<InboxMessage> = send(
                &self.client,
                &ApiRequest::get(format!("/v1/municipality/inbox?after={after}&limit=100")),
                &self.config.retry,
            )
            .await?
            .json()?;
            let full = page.len() == 100;
            messages.extend(page);
            if !full {
                break;
            }
        }
        for message in messages {
            if self.processed.insert(message.id) {
                report.processed.push(message.id);
                self.process(&message, today, &mut report);
            }
            // An acknowledgement is sent once; if it is lost the message comes back and is
            // only acknowledged again (processing happened above, once).
            let ack = ApiRequest::post(format!("/v1/municipality/inbox/{}/ack", message.id));
            match send(&self.client, &ack, &self.config.retry).await {
                Ok(_) => report.acknowledged.push(message.id),
                Err(e) => report.ack_failures.push((message.id, e)),
            }
        }
        Ok(report)
    }

    fn process(&mut self, message: &InboxMessage, today: Date, report: &mut InboxReport) {
        let person = person_of(&message.body, self.insurer);
        match message.kind.as_str() {
            "physician-opinion" => {
                let reference = message.body["content"]["request"]
                    .as_str()
                    .unwrap_or_default();
                let matched = self.requests.get(reference).map(|r| r.case);
                let received = matched
                    .and_then(|id| self.cases.get_mut(&id).map(|c| (id, c)))
                    .filter(|(_, c)| Some(c.insured()) == person.map(|p| p.insured))
                    .map(|(id, c)| c.receive_opinion(today).map(|()| id));
                match received {
                    Some(Ok(id)) => {
                        self.requests.remove(reference);
                        report.opinions.push(id);
                    }
                    _ => report.unmatched.push(message.id),
                }
            }
            "care-plan-request" => match person {
                Some(person) => {
                    let notice = CarePlanNotice {
                        message: message.id,
                        office: message.sender.clone(),
                        person,
                        submitted_at: message.submitted_at.clone(),
                    };
                    self.notices.push(notice.clone());
                    report.care_plan_notices.push(notice);
                }
                None => report.unmatched.push(message.id),
            },
            _ => report.unmatched.push(message.id),
        }
    }

    // ------------------------------------------------------------ the counter

    /// The documented fallback for a person without a My Number card: verified at the
    /// counter by `check`, the municipality registers `office` as their responsible office.
    /// Refused locally for card holders, whom offices verify with the card.
    pub async fn register_without_card(
        &self,
        insured: InsuredNumber,
        office: &str,
        check: CounterCheck,
    ) -> Result<(), ActorError> {
        let r = self
            .residents
            .get(&insured)
            .ok_or(ActorError::NotInsuredHere(insured))?;
        if r.person.holds_card {
            return Err(ActorError::FallbackForCardHolder);
        }
        let request = ApiRequest::put(
            self.person_ref(insured)
                .path(&format!("registrations/{office}")),
        )
        .json(&json!({"verified_by": check.as_str()}))?;
        send(&self.client, &request, &self.config.retry).await?;
        Ok(())
    }

    /// Registers the holder of `agent_card`, presented at the counter with the proof of the
    /// relation (family register, guardianship registration), as the representative of an
    /// insured person, named to the platform by the agent's card link.
    pub async fn register_representative(
        &self,
        insured: InsuredNumber,
        agent_card: &Card,
        kind: RepresentativeKind,
        valid_from: Option<Date>,
        valid_until: Option<Date>,
    ) -> Result<RepresentativeEntry, ActorError> {
        if !self.residents.contains_key(&insured) {
            return Err(ActorError::NotInsuredHere(insured));
        }
        if agent_card.is_lost() {
            return Err(crate::card::CardError::Lost.into());
        }
        let link = self
            .jlis
            .link_for(agent_card.my_number())
            .ok_or(ActorError::NoCardLink)?;
        let request = ApiRequest::put(
            self.person_ref(insured)
                .path(&format!("representatives/{}", link.as_str())),
        )
        .json(&json!({"kind": kind, "valid_from": valid_from, "valid_until": valid_until}))?;
        Ok(send(&self.client, &request, &self.config.retry)
            .await?
            .json()?)
    }

    /// Ends a representation now.
    pub async fn end_representative(
        &self,
        insured: InsuredNumber,
        agent: &CardLink,
    ) -> Result<RepresentativeEntry, ActorError> {
        let request = ApiRequest::delete(
            self.person_ref(insured)
                .path(&format!("representatives/{}", agent.as_str())),
        );
        Ok(send(&self.client, &request, &self.config.retry)
            .await?
            .json()?)
    }

    /// Records the comprehensive consent an insured person gives now, with an application
    /// at the counter (occasion `application`), at once rather than at the next
    /// [`Municipality::sync`]. Refused by the platform before the insurer shares.
    pub async fn record_consent(
        &self,
        insured: InsuredNumber,
        certification_end: Option<Date>,
    ) -> Result<ConsentReceipt, ActorError> {
        if !self.residents.contains_key(&insured) {
            return Err(ActorError::NotInsuredHere(insured));
        }
        let request = ApiRequest::put(self.person_ref(insured).path("consent")).json(
            &json!({"occasion": Occasion::Application.as_str(), "certification_end": certification_end}),
        )?;
        Ok(send(&self.client, &request, &self.config.retry)
            .await?
            .json()?)
    }

    /// Records a withdrawal of consent the person made at the counter.
    pub async fn withdraw_consent(
        &self,
        insured: InsuredNumber,
    ) -> Result<ConsentReceipt, ActorError> {
        let request = ApiRequest::delete(self.person_ref(insured).path("consent"));
        Ok(send(&self.client, &request, &self.config.retry)
            .await?
            .json()?)
    }

    /// Reads a class of an insured person's information (as insurer).
    pub async fn read(
        &self,
        insured: InsuredNumber,
        class: InfoClass,
    ) -> Result<ReadOutcome, ActorError> {
        let request = ApiRequest::get(self.person_ref(insured).path(&format!("classes/{class}")));
        ReadOutcome::from_result(send(&self.client, &request, &self.config.retry).await)
    }

    /// The person's consent receipts.
    pub async fn consent_receipts(
        &self,
        insured: InsuredNumber,
    ) -> Result<Vec<ConsentReceipt>, ActorError> {
        let request = ApiRequest::get(self.person_ref(insured).path("consent-receipts"));
        Ok(send(&self.client, &request, &self.config.retry)
            .await?
            .json()?)
    }

    /// The person's access log, in full (the insurer's view).
    pub async fn access_log(
        &self,
        insured: InsuredNumber,
    ) -> Result<Vec<AccessLogEntry>, ActorError> {
        let request = ApiRequest::get(self.person_ref(insured).path("access-log"));
        Ok(send(&self.client, &request, &self.config.retry)
            .await?
            .json()?)
    }
}

/// The certification-application item of a case as it stands.
fn application_item(case: &Case) -> Value {
    json!({"kind": "certification-application", "insured": case.insured(), "document": {
        "application_type": case.kind().wire(),
        "applied_on": case.applied_on(),
        "status": case.stage().wire(),
    }})
}

/// The person an inbox message is about, if it is one of this insurer's.
fn person_of(body: &Value, insurer: InsurerNumber) -> Option<PersonRef> {
    let insured = InsuredNumber::parse(body["insured"].as_str()?).ok()?;
    let theirs = InsurerNumber::parse(body["insurer"].as_str()?).ok()?;
    (theirs == insurer).then_some(PersonRef { insurer, insured })
}
