//! What a case is and what it works with: [`CaseDef`] (id, area, requirements, needs),
//! [`Ctx`] (the clients, the fixtures a case seeds for itself through the public API, and the
//! assertions that turn a wrong answer into a [`Failure`] naming the requirement, the expected
//! and actual result and the exchange that showed it).
//!
//! Independence: every case makes its own persons (insured numbers unique to the run and the
//! case), its own staff accounts, cards and files; the offices and municipalities of the
//! target's slots are shared and only set up once, before any case runs.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use kiban_actors::card::{Card, CardHolder, Pin as CardPin};
use kiban_actors::jlis::{CardRequest, JlisMock};
use kiban_actors::reader::{CardReader, Presence, ReaderChecks, ReaderConfig};
use kiban_certs::store::PkiDir;
use kiban_certs::{Clock, ManualClock, Organisation};
use kiban_core::id::{InsurerNumber, MunicipalityCode, MyNumber};
use kiban_core::rules::{ConsentModel, Policy};
use kiban_core::time::{Date, Timestamp};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use serde_json::{Value, json};

use crate::catalogue::Area;
use crate::http::{Client, Exchange, Req};
use crate::target::Slot;

/// The password the runner gives every office's administrator user.
pub(crate) const ADMIN_PASSWORD: &str = "conformance-admin-1";

/// A capability or setting a case needs; without it the case is skipped with a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// A certificate for the slot.
    Slot(Slot),
    /// The operator may set the clock.
    SimClock,
    /// The runner may issue and revoke certificates (the operator PKI folder).
    Issuer,
    /// J-LIS (identity verification and the portal).
    Jlis,
    /// The platform runs this consent model.
    ConsentModel(ConsentModel),
    /// Consent expires with the certification period.
    ConsentExpiresWithCertification,
    /// Registrations lapse after a period without service records.
    LapseAfterInactivity,
}

impl fmt::Display for Need {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Need::Slot(s) => write!(f, "a client certificate for slot {s}"),
            Need::SimClock => f.write_str("a settable clock (capabilities.sim_clock)"),
            Need::Issuer => {
                f.write_str("the operator PKI folder ([pki]) to issue and revoke certificates")
            }
            Need::Jlis => f.write_str("J-LIS ([jlis]) for card verification"),
            Need::ConsentModel(ConsentModel::Comprehensive) => {
                f.write_str("the comprehensive consent model (policy.consent.model)")
            }
            Need::ConsentModel(ConsentModel::PerOffice) => {
                f.write_str("the per-office consent model (policy.consent.model)")
            }
            Need::ConsentExpiresWithCertification => {
                f.write_str("consent expiry with-certification-period (policy.consent.expiry)")
            }
            Need::LapseAfterInactivity => {
                f.write_str("registration lapse after-inactivity (policy.lapse)")
            }
        }
    }
}

/// Why a case stopped short of passing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The target broke a requirement.
    Fail(Failure),
    /// The case cannot run against this target.
    Skip(String),
    /// The runner could not do its part (not the target's fault).
    Error(String),
}

/// A broken requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The requirement id.
    pub requirement: String,
    /// What was checked.
    pub check: String,
    /// What the requirement expects.
    pub expected: String,
    /// What happened.
    pub actual: String,
    /// The exchange that showed it, as text.
    pub exchange: Option<String>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: expected {}, got {}",
            self.requirement, self.check, self.expected, self.actual
        )?;
        if let Some(ex) = &self.exchange {
            write!(f, "\n{ex}")?;
        }
        Ok(())
    }
}

/// The result of a case body.
pub type Verdict = Result<(), Stop>;

/// A case body.
pub type CaseFn = fn(Ctx) -> Pin<Box<dyn Future<Output = Verdict> + Send>>;

/// One case of the suite.
#[derive(Clone, Copy)]
pub struct CaseDef {
    /// Stable id, e.g. `TLS-01`.
    pub id: &'static str,
    /// The area.
    pub area: Area,
    /// What it shows, one line.
    pub title: &'static str,
    /// The requirements it tests.
    pub requirements: &'static [&'static str],
    /// Free tags for filtering (e.g. `negative`, `fault:consent-not-checked`).
    pub tags: &'static [&'static str],
    /// What the target must offer.
    pub needs: &'static [Need],
    /// Runs alone, after the others (it moves the platform clock).
    pub exclusive: bool,
    /// The body.
    pub run: CaseFn,
}

impl fmt::Debug for CaseDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaseDef")
            .field("id", &self.id)
            .field("area", &self.area)
            .finish_non_exhaustive()
    }
}

/// What every case of a run shares.
pub(crate) struct Shared {
    pub(crate) clients: BTreeMap<Slot, Client>,
    pub(crate) orgs: BTreeMap<Slot, String>,
    pub(crate) target: crate::target::Target,
    pub(crate) run_tag: String,
    pub(crate) policy: Policy,
    pub(crate) tls_clock: Arc<dyn Clock>,
    pub(crate) sim_clock: Option<Arc<ManualClock>>,
    pub(crate) issuer: Option<Mutex<PkiDir>>,
    pub(crate) jlis: Option<JlisMock>,
    pub(crate) timeout: Duration,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("run_tag", &self.run_tag)
            .finish_non_exhaustive()
    }
}

/// A person a case seeded.
#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub(crate) insurer: String,
    pub(crate) insured: String,
}

impl Person {
    /// `/v1/persons/{insurer}/{insured}`.
    pub(crate) fn path(&self) -> String {
        format!("/v1/persons/{}/{}", self.insurer, self.insured)
    }

    /// `/v1/persons/{insurer}/{insured}/classes/{class}`.
    pub(crate) fn class(&self, class: &str) -> String {
        format!("{}/classes/{class}", self.path())
    }
}

/// A card a case issued, with its holder's My Number kept only to look for it in answers.
pub(crate) struct HeldCard {
    pub(crate) card: Card,
    pub(crate) pin: CardPin,
    pub(crate) link: String,
    pub(crate) my_number: String,
}

/// The context of one case.
pub struct Ctx {
    pub(crate) shared: Arc<Shared>,
    index: usize,
    next: u32,
    rng: ChaCha8Rng,
}

impl fmt::Debug for Ctx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ctx")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

/// A failure of `requirement` with the exchange that showed it.
pub(crate) fn fail(
    requirement: &str,
    check: impl Into<String>,
    expected: impl Into<String>,
    actual: impl Into<String>,
    exchange: Option<&Exchange>,
) -> Stop {
    Stop::Fail(Failure {
        requirement: requirement.to_owned(),
        check: check.into(),
        expected: expected.into(),
        actual: actual.into(),
        exchange: exchange.map(ToString::to_string),
    })
}

/// Expects `status` (and the problem `code`, when given) from `ex`.
pub(crate) fn expect(
    ex: &Exchange,
    requirement: &str,
    check: &str,
    status: u16,
    code: Option<&str>,
) -> Verdict {
    let status_ok = ex.status() == status;
    let code_ok = code.is_none_or(|c| ex.code().as_deref() == Some(c));
    if status_ok && code_ok {
        return Ok(());
    }
    let expected = match code {
        Some(c) => format!("{status} {c}"),
        None => status.to_string(),
    };
    Err(fail(requirement, check, expected, ex.summary(), Some(ex)))
}

/// Expects a 2xx answer.
pub(crate) fn ok(ex: &Exchange, requirement: &str, check: &str) -> Verdict {
    if (200..300).contains(&ex.status()) {
        Ok(())
    } else {
        Err(fail(requirement, check, "2xx", ex.summary(), Some(ex)))
    }
}

/// Expects `cond`, else fails with `expected`/`actual` and the exchange.
pub(crate) fn ensure(
    cond: bool,
    requirement: &str,
    check: &str,
    expected: impl Into<String>,
    actual: impl Into<String>,
    ex: Option<&Exchange>,
) -> Verdict {
    if cond {
        Ok(())
    } else {
        Err(fail(requirement, check, expected, actual, ex))
    }
}

/// A runner-side problem.
pub(crate) fn runner_error(what: impl fmt::Display) -> Stop {
    Stop::Error(what.to_string())
}

impl Ctx {
    pub(crate) fn new(shared: Arc<Shared>, index: usize) -> Ctx {
        let seed = shared.run_tag.bytes().fold(index as u64, |acc, b| {
            acc.wrapping_mul(31).wrapping_add(u64::from(b))
        });
        Ctx {
            shared,
            index,
            next: 0,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// The client of `slot` (the runner checked the case's needs before running it).
    pub(crate) fn client(&self, slot: Slot) -> Result<&Client, Stop> {
        self.shared
            .clients
            .get(&slot)
            .ok_or_else(|| Stop::Skip(format!("needs {}", Need::Slot(slot))))
    }

    /// Sends `req` as `slot`.
    pub(crate) async fn send(&self, slot: Slot, req: Req) -> Result<Exchange, Stop> {
        Ok(self.client(slot)?.send(&req).await)
    }

    /// The organisation number (or municipality code) of `slot`.
    pub(crate) fn org(&self, slot: Slot) -> String {
        self.shared.orgs.get(&slot).cloned().unwrap_or_default()
    }

    /// The platform's time as the runner knows it.
    pub(crate) fn now(&self) -> Timestamp {
        self.shared.tls_clock.now()
    }

    /// Today (JST) on the platform.
    pub(crate) fn today(&self) -> Date {
        self.now().date_jst()
    }

    /// A run- and case-unique 10-digit token: 5 digits of the run, 3 of the case, 2 of the
    /// call (used as insured numbers, staff ids, keys, terminals).
    pub(crate) fn unique(&mut self) -> String {
        self.next += 1;
        format!(
            "{}{:03}{:02}",
            self.shared.run_tag,
            self.index % 1000,
            self.next % 100
        )
    }

    /// The policy the target enforces.
    pub(crate) fn policy(&self) -> Policy {
        self.shared.policy
    }

    /// The case's own seeded generator (card serials, PINs, My Numbers).
    pub(crate) fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.rng
    }

    // ------------------------------------------------------------------ fixtures

    /// The insurer number of the municipality in `slot`.
    pub(crate) fn insurer_of(&self, slot: Slot) -> String {
        self.org(slot)
            .parse::<MunicipalityCode>()
            .map(|code| InsurerNumber::for_municipality(code).to_string())
            .unwrap_or_default()
    }

    /// An insurance card valid around today.
    pub(crate) fn insurance_card(&self) -> Value {
        let today = self.today();
        json!({"care_level": "care-2",
            "certification_valid_from": today.plus_months(-1).to_string(),
            "certification_valid_until": today.plus_months(11).to_string(),
            "copay": {"ratio": "10-percent", "valid_from": today.plus_months(-2).to_string(), "valid_until": today.plus_months(10).to_string()}})
    }

    /// The items that give a new person a record of every class a municipality ingests.
    pub(crate) fn full_items(&self, insured: &str, link: Option<&str>) -> Vec<Value> {
        let day = self.today().plus_days(-10).to_string();
        let mut person = json!({"kind": "insured-person", "insured": insured, "insurance_card": self.insurance_card()});
        if let Some(link) = link {
            person["card_link"] = json!(link);
        }
        vec![
            person,
            json!({"kind": "certification-application", "insured": insured, "document": {"application_type": "renewal", "applied_on": day, "status": "decided"}}),
            json!({"kind": "certification-survey", "insured": insured, "document": {"surveyed_on": day, "basic_items": [1, 2, 1, 3]}}),
            json!({"kind": "home-modification", "insured": insured, "document": {"date": day, "cost_yen": 180000, "description": "handrail"}}),
            json!({"kind": "welfare-equipment", "insured": insured, "document": {"date": day, "cost_yen": 42000, "description": "bath chair"}}),
        ]
    }

    /// Ingests `items` as municipality `slot` under a fresh key; expects 201.
    pub(crate) async fn ingest(&mut self, slot: Slot, items: Vec<Value>) -> Result<Exchange, Stop> {
        let key = format!("ingest-{}", self.unique());
        let ex = self
            .send(
                slot,
                Req::post("/v1/municipality/ingest")
                    .key(&key)
                    .json(&json!({ "items": items })),
            )
            .await?;
        expect(
            &ex,
            "KIBAN-ING-005",
            "fixture: ingest a valid batch",
            201,
            None,
        )?;
        Ok(ex)
    }

    /// A new person insured by the municipality in `slot`, with a record of every ingested
    /// class and, optionally, a card link.
    pub(crate) async fn person_in(
        &mut self,
        slot: Slot,
        link: Option<&str>,
    ) -> Result<Person, Stop> {
        let insured = self.unique();
        let items = self.full_items(&insured, link);
        self.ingest(slot, items).await?;
        Ok(Person {
            insurer: self.insurer_of(slot),
            insured,
        })
    }

    /// A new person insured by the live municipality.
    pub(crate) async fn person(&mut self) -> Result<Person, Stop> {
        self.person_in(Slot::Municipality, None).await
    }

    /// Signs the office's administrator in; returns the token.
    pub(crate) async fn login(&self, slot: Slot) -> Result<String, Stop> {
        self.login_as(slot, "admin", ADMIN_PASSWORD).await
    }

    /// Signs `staff` in on `slot`'s terminal; returns the token.
    pub(crate) async fn login_as(
        &self,
        slot: Slot,
        staff: &str,
        password: &str,
    ) -> Result<String, Stop> {
        let ex = self
            .send(
                slot,
                Req::post("/v1/session").json(&json!({"staff_id": staff, "password": password})),
            )
            .await?;
        expect(
            &ex,
            "KIBAN-STF-001",
            "fixture: a staff member signs in",
            201,
            None,
        )?;
        ex.json()["token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| {
                fail(
                    "KIBAN-STF-001",
                    "fixture: sign-in answer",
                    "a token",
                    ex.summary(),
                    Some(&ex),
                )
            })
    }

    /// The municipality registers the office of `office` for `person` (no card).
    pub(crate) async fn register(&self, office: Slot, person: &Person) -> Result<(), Stop> {
        let ex = self
            .send(
                Slot::Municipality,
                Req::put(format!(
                    "{}/registrations/{}",
                    person.path(),
                    self.org(office)
                ))
                .json(&json!({"verified_by": "counter-photo-id"})),
            )
            .await?;
        expect(
            &ex,
            "KIBAN-IDV-005",
            "fixture: the municipality registers an office for a person it verified",
            204,
            None,
        )
    }

    /// The municipality records comprehensive consent (at application).
    pub(crate) async fn consent(&self, person: &Person) -> Result<(), Stop> {
        let ex = self
            .send(
                Slot::Municipality,
                Req::put(format!("{}/consent", person.path()))
                    .json(&json!({"occasion": "application"})),
            )
            .await?;
        expect(
            &ex,
            "KIBAN-CON-002",
            "fixture: the municipality records consent",
            200,
            None,
        )
    }

    /// The office records its own consent (per-office model).
    pub(crate) async fn office_consent(
        &self,
        office: Slot,
        token: &str,
        person: &Person,
    ) -> Result<(), Stop> {
        let ex = self
            .send(
                office,
                Req::put(format!("{}/consent", person.path()))
                    .bearer(token)
                    .json(&json!({"occasion": "office-own"})),
            )
            .await?;
        expect(
            &ex,
            "KIBAN-CON-005",
            "fixture: the office records its own consent",
            200,
            None,
        )
    }

    /// Registers `office` for `person`, records the consent the policy's model needs, signs
    /// the administrator in and returns the token: the office may then read every class the
    /// matrix grants its role.
    pub(crate) async fn standing(&self, office: Slot, person: &Person) -> Result<String, Stop> {
        self.register(office, person).await?;
        self.consent(person).await?;
        let token = self.login(office).await?;
        if self.policy().consent.model == ConsentModel::PerOffice {
            self.office_consent(office, &token, person).await?;
        }
        Ok(token)
    }

    /// A read of `class` by `slot` (with a staff token for offices).
    pub(crate) async fn read(
        &self,
        slot: Slot,
        token: Option<&str>,
        person: &Person,
        class: &str,
    ) -> Result<Exchange, Stop> {
        let mut req = Req::get(person.class(class));
        if let Some(token) = token {
            req = req.bearer(token);
        }
        self.send(slot, req).await
    }

    /// Adds a staff account to `slot`'s office (as its administrator).
    pub(crate) async fn add_staff(
        &self,
        slot: Slot,
        admin: &str,
        staff: &str,
        password: &str,
    ) -> Result<(), Stop> {
        let ex = self
            .send(
                slot,
                Req::post("/v1/office/staff")
                    .bearer(admin)
                    .json(&json!({"staff_id": staff, "password": password})),
            )
            .await?;
        expect(
            &ex,
            "KIBAN-STF-003",
            "fixture: the administrator adds a staff account",
            201,
            None,
        )
    }

    // ------------------------------------------------------------------ cards

    /// The J-LIS mock (the case needs `Need::Jlis`).
    pub(crate) fn jlis(&self) -> Result<&JlisMock, Stop> {
        self.shared
            .jlis
            .as_ref()
            .ok_or_else(|| Stop::Skip(format!("needs {}", Need::Jlis)))
    }

    /// Issues a virtual card for a new holder living in the live municipality.
    pub(crate) fn issue_card(&mut self) -> Result<HeldCard, Stop> {
        let residence = self
            .org(Slot::Municipality)
            .parse::<MunicipalityCode>()
            .map_err(runner_error)?;
        let my_number = MyNumber::random(self.rng());
        let pin = CardPin::random(self.rng());
        let now = self.now();
        let jlis = self.jlis()?.clone();
        let holder = CardHolder {
            name: "適合 花子".to_owned(),
            birth_date: Date::new(1946, 5, 12).ok_or_else(|| runner_error("birth date"))?,
            residence,
        };
        let card = jlis
            .issue_card(
                CardRequest {
                    holder,
                    my_number,
                    pin: Some(pin),
                },
                now.plus_days(-30),
                self.rng(),
            )
            .map_err(runner_error)?;
        let link = jlis
            .link_for(&my_number)
            .ok_or_else(|| runner_error("J-LIS issued a card without a link"))?;
        Ok(HeldCard {
            card,
            pin,
            link: link.as_str().to_owned(),
            my_number: my_number.expose().to_owned(),
        })
    }

    /// A nonce for `slot`'s terminal (with the staff token for offices).
    pub(crate) async fn nonce(&self, slot: Slot, token: Option<&str>) -> Result<String, Stop> {
        let mut req = Req::post("/v1/identity/nonce");
        if let Some(token) = token {
            req = req.bearer(token);
        }
        let ex = self.send(slot, req).await?;
        expect(
            &ex,
            "KIBAN-IDV-002",
            "fixture: the terminal asks for a nonce",
            201,
            None,
        )?;
        ex.json()["nonce"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| {
                fail(
                    "KIBAN-IDV-002",
                    "fixture: nonce answer",
                    "a nonce",
                    ex.summary(),
                    Some(&ex),
                )
            })
    }

    /// The reader's assertion body over `nonce` with the card's PIN.
    pub(crate) fn assertion(&mut self, held: &mut HeldCard, nonce: &str) -> Result<Value, Stop> {
        let now = self.now();
        let config = ReaderConfig {
            face_match_rate: 1.0,
            checks: ReaderChecks::PlatformOnly,
        };
        let seed = self.index as u64;
        let mut reader =
            CardReader::new(config, ChaCha8Rng::seed_from_u64(seed)).map_err(runner_error)?;
        let assertion = reader
            .assert(&mut held.card, nonce, Presence::Pin(held.pin), now)
            .map_err(runner_error)?;
        Ok(assertion.to_json())
    }

    /// The office on `slot` verifies the card holder (nonce, reader, verify).
    pub(crate) async fn verify_card(
        &mut self,
        slot: Slot,
        token: &str,
        held: &mut HeldCard,
    ) -> Result<Exchange, Stop> {
        let nonce = self.nonce(slot, Some(token)).await?;
        let body = self.assertion(held, &nonce)?;
        self.send(
            slot,
            Req::post("/v1/identity/verify").bearer(token).json(&body),
        )
        .await
    }

    /// The マイナポータル relay signs the card holder in; returns the answer.
    pub(crate) async fn portal_sign_in(&mut self, held: &mut HeldCard) -> Result<Exchange, Stop> {
        let nonce = self.nonce(Slot::Person, None).await?;
        let body = self.assertion(held, &nonce)?;
        self.send(Slot::Person, Req::post("/v1/portal/session").json(&body))
            .await
    }

    /// A portal session token for the card holder (expects the sign-in to succeed).
    pub(crate) async fn portal_token(&mut self, held: &mut HeldCard) -> Result<String, Stop> {
        let ex = self.portal_sign_in(held).await?;
        expect(
            &ex,
            "KIBAN-AUD-002",
            "fixture: the card holder signs in through the portal",
            200,
            None,
        )?;
        ex.json()["token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| {
                fail(
                    "KIBAN-AUD-002",
                    "fixture: portal sign-in answer",
                    "a token",
                    ex.summary(),
                    Some(&ex),
                )
            })
    }

    /// A new insured person with a card (the card link ingested by the municipality).
    pub(crate) async fn person_with_card(&mut self) -> Result<(Person, HeldCard), Stop> {
        let held = self.issue_card()?;
        let person = self
            .person_in(Slot::Municipality, Some(&held.link.clone()))
            .await?;
        Ok((person, held))
    }

    // ------------------------------------------------------------------ clock

    /// Sets the platform clock (and the runner's) to `to`.
    pub(crate) async fn set_clock(&self, to: Timestamp) -> Result<(), Stop> {
        let Some(clock) = &self.shared.sim_clock else {
            return Err(Stop::Skip(format!("needs {}", Need::SimClock)));
        };
        let ex = self
            .send(
                Slot::Operator,
                Req::put("/v1/operator/clock").json(&json!({"unix_seconds": to.unix_seconds()})),
            )
            .await?;
        if ex.status() != 204 {
            return Err(runner_error(format!(
                "the platform clock could not be set: {}",
                ex.summary()
            )));
        }
        clock.set(to);
        Ok(())
    }

    /// The organisation of `slot` as the platform's JSON shows it.
    pub(crate) fn organisation(&self, slot: Slot) -> Option<Organisation> {
        self.shared
            .target
            .client(slot)
            .map(|c| *c.identity.principal.organisation())
    }

    /// The shared PKI folder (the case needs `Need::Issuer`).
    pub(crate) fn issuer(&self) -> Result<std::sync::MutexGuard<'_, PkiDir>, Stop> {
        self.shared
            .issuer
            .as_ref()
            .map(|m| m.lock().unwrap_or_else(PoisonError::into_inner))
            .ok_or_else(|| Stop::Skip(format!("needs {}", Need::Issuer)))
    }
}
