//! The bench world and its request corpus, built from a seed through the public `View` API
//! only.
//!
//! **World.** 1,741 municipalities in go-live waves (monthly from 2026-04-01; every 25th is
//! late, going live after [`NOW`], and every 25th not scheduled at all), one office per 20
//! persons (30 % care management, 50 % care service, 15 % facilities, 5 % medical
//! institutions) in random municipalities, one valid client certificate per office and per
//! municipality and one for the operator, persons insured in random municipalities with a
//! comprehensive consent (85 %, a few withdrawn) and sometimes a hospital or short stay, about
//! [`Spec::registrations_per_person`] responsible-office registrations each (some ended, with
//! service and claim records and an office's own consent), and one agent per ten persons
//! representing someone.
//!
//! **Corpus.** [`Spec::requests`] requests, each with its own `now`: about 60 % are meant to be
//! permits and 40 % denials, cycling through [`Case::ALL`] (every one of the 18 deny reasons,
//! and every boundary instant the rules name: `now` equal to a go-live, a certificate's start,
//! end and revocation, a registration's start, end and lapse, a consent's grant, withdrawal
//! and expiry, a representation's start and end), then shuffled. Every case takes fresh
//! persons (never two cases on one person) and sets all the rows its outcome depends on, so
//! the expected decision is known by construction; [`build`] checks it against `decide` and
//! fails with [`BuildError::Unexpected`] if the two differ, so a corpus can never silently
//! measure something else than it says. Cases whose outcome the policy cannot produce (a
//! lapse when registrations never lapse) are left out under that policy.

use std::fmt;

use kiban_core::decide::{Decision, DenyReason, Principal, Request, consent_expiry, decide};
use kiban_core::id::MunicipalityCode;
use kiban_core::rules::{
    Access, ConsentExpiry, ConsentModel, ConsentPolicy, LapsePolicy, Policy, RolloutPolicy, Rules,
};
use kiban_core::time::{Date, Timestamp};
use kiban_core::view::{
    AgentId, Consent, Credential, CredentialId, Holder, MunicipalityId, OfficeId, PersonId,
    Registration, Representation, Stay, StayKind, View, ViewError,
};
use kiban_core::vocab::{InfoClass, Role};
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rustc_hash::FxHashSet;

/// The number of municipalities (市町村 and 特別区) in Japan.
pub const MUNICIPALITIES: usize = 1_741;

/// The first go-live wave: 2026-04-01 00:00 JST.
pub fn first_go_live() -> Timestamp {
    jst(2026, 4, 1)
}

/// The instant most requests are decided at: 2028-06-01 10:00 JST, after every scheduled
/// wave except the late ones.
pub const NOW: Timestamp = Timestamp::from_unix_seconds(1_843_434_000);

/// What to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// Persons in the view.
    pub persons: usize,
    /// Responsible-office registrations per person (distinct offices drawn at random, so a
    /// rare repeat makes the count slightly lower).
    pub registrations_per_person: usize,
    /// Requests in the corpus.
    pub requests: usize,
    /// Seed of every draw.
    pub seed: u64,
    /// The policy the view decides under (the matrix is always the published one).
    pub policy: Policy,
}

impl Spec {
    /// `persons` persons with 3 registrations each, 4,096 requests, seed 1, the 2025 proposal.
    pub const fn new(persons: usize) -> Spec {
        Spec {
            persons,
            registrations_per_person: 3,
            requests: 4_096,
            seed: 1,
            policy: Policy::proposal_2025(),
        }
    }

    /// The same spec under another policy.
    pub const fn with_policy(self, policy: Policy) -> Spec {
        Spec { policy, ..self }
    }

    /// The same spec with another corpus length.
    pub const fn with_requests(self, requests: usize) -> Spec {
        Spec { requests, ..self }
    }
}

/// The policy variants the consent and lapse rules are measured under: the 2025 proposal,
/// then one axis changed at a time.
pub fn policy_variants() -> Vec<(&'static str, Policy)> {
    let base = Policy::proposal_2025();
    let consent = |model, expiry| Policy {
        consent: ConsentPolicy { model, expiry },
        ..base
    };
    vec![
        ("proposal-2025", base),
        (
            "per-office-consent",
            consent(ConsentModel::PerOffice, ConsentExpiry::Never),
        ),
        (
            "consent-with-certification-period",
            consent(
                ConsentModel::Comprehensive,
                ConsentExpiry::WithCertificationPeriod,
            ),
        ),
        (
            "consent-24-months",
            consent(ConsentModel::Comprehensive, ConsentExpiry::AfterMonths(24)),
        ),
        (
            "lapse-3-months-inactive",
            Policy {
                lapse: LapsePolicy::AfterInactivity {
                    months: 3,
                    exempt_hospital_stays: true,
                    exempt_short_stays: false,
                },
                ..base
            },
        ),
        (
            "lapse-2-months-after-claims",
            Policy {
                lapse: LapsePolicy::TiedToClaims { grace_months: 2 },
                ..base
            },
        ),
        (
            "no-cross-municipality-rule",
            Policy {
                rollout: RolloutPolicy {
                    cross_municipality_rule: false,
                },
                ..base
            },
        ),
    ]
}

/// The decision state every engine is given: the view, plus the two things the view keeps
/// but does not hand out (the certificate rows and the number of agents).
#[derive(Debug, Clone)]
pub struct World {
    view: View,
    credentials: Vec<Credential>,
    agents: u32,
    sample: Vec<(PersonId, OfficeId)>,
    office_credentials: Vec<CredentialId>,
}

impl World {
    /// The view `decide` reads.
    pub fn view(&self) -> &View {
        &self.view
    }

    /// The certificate row of `id`, as added to the view.
    pub fn credential(&self, id: CredentialId) -> Option<&Credential> {
        self.credentials.get(id.0 as usize)
    }

    /// Agents handed out by the view (ids `0..agents`).
    pub fn agents(&self) -> u32 {
        self.agents
    }

    /// The office's own valid certificate.
    pub fn office_credential(&self, office: OfficeId) -> Option<CredentialId> {
        self.office_credentials.get(office.0 as usize).copied()
    }
}

/// One request of the corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// What the request exercises.
    pub case: Case,
    /// The request.
    pub request: Request,
    /// When it is decided.
    pub now: Timestamp,
    /// The decision the case was built to produce (checked against `decide` by [`build`]).
    pub expected: Decision,
}

/// The request corpus.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// The requests, shuffled.
    pub entries: Vec<Entry>,
}

impl Corpus {
    /// Whether each entry is expected to be a permit, by index.
    pub fn expected_permits(&self) -> Vec<bool> {
        self.entries
            .iter()
            .map(|e| e.expected.is_permit())
            .collect()
    }
}

/// Why a world or corpus could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The spec cannot be built (too few persons for the corpus, no requests).
    #[error("spec not buildable: {0}")]
    Spec(String),
    /// The view refused a change (a bug in the builder).
    #[error("view refused a change: {0}")]
    View(#[from] ViewError),
    /// A case found no rows to use after many draws (the world is too small for the corpus).
    #[error("case {case} found no suitable rows after {tries} draws")]
    Exhausted {
        /// The case.
        case: &'static str,
        /// Draws made.
        tries: u32,
    },
    /// `decide` does not give the decision a case was built for.
    #[error("case {case}: built for {expected} but decide says {got} ({request:?} at {now:?})")]
    Unexpected {
        /// The case.
        case: &'static str,
        /// What the case was built for.
        expected: Decision,
        /// What `decide` answered.
        got: Decision,
        /// The request.
        request: Request,
        /// When.
        now: Timestamp,
    },
}

/// What a corpus request exercises. The first group is built to be permitted (under the
/// 2025 proposal), the second to be denied; `name` is the stable id used in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Case {
    /// An office reads a class it may read without consent.
    OfficeRead,
    /// An office reads a class that needs consent, with consent.
    OfficeWithConsent,
    /// The insurer reads a class without consent.
    MunicipalityRead,
    /// The insurer reads a class that needs consent, with consent.
    MunicipalityWithConsent,
    /// A person reads their own record.
    OwnRecord,
    /// An agent reads for the person they represent.
    Representative,
    /// `now` is the insurer's go-live.
    AtInsurerGoLive,
    /// `now` is the go-live of the office's own municipality.
    AtOfficeMunicipalityGoLive,
    /// `now` is the certificate's start.
    AtCredentialStart,
    /// `now` is the registration's start.
    AtRegistrationStart,
    /// `now` is the consent's grant.
    AtConsentGiven,
    /// `now` is the representation's start.
    AtRepresentationStart,
    /// One second before the registration lapses (lapse policies only).
    BeforeLapse,
    /// One second before the consent expires (expiry policies only).
    BeforeConsentExpiry,
    /// One second before the consent is withdrawn.
    BeforeWithdrawal,
    /// Only the person's comprehensive consent exists (denied under per-office consent).
    PersonConsentOnly,
    /// An open hospital stay that began before the lapse defers it (inactivity lapse only;
    /// denied when hospital stays are not exempt).
    StayDefersLapse,
    /// An office id past the end.
    UnknownOffice,
    /// An agent id past the end.
    UnknownAgent,
    /// An office presents another office's certificate.
    ForeignCredential,
    /// A certificate id past the end.
    MissingCredential,
    /// `now` is the certificate's revocation.
    AtRevocation,
    /// One second before the certificate's start.
    BeforeCredentialStart,
    /// `now` is the certificate's end.
    AtCredentialEnd,
    /// An office asks for a class its role is not given.
    OfficeClassForbidden,
    /// The operator asks for a class (the published matrix gives it none).
    OperatorForbidden,
    /// A person id past the end.
    UnknownSubject,
    /// The insurer goes live after `now`, or is not scheduled.
    InsurerLate,
    /// One second before the insurer's go-live.
    BeforeInsurerGoLive,
    /// The office's own municipality goes live after `now` (a permit without the
    /// cross-municipality rule).
    OfficeMunicipalityLate,
    /// A person asks for someone else's record.
    OtherPersonsRecord,
    /// An agent asks for a person they do not represent.
    NoRepresentation,
    /// `now` is the representation's end.
    AtRepresentationEnd,
    /// A municipality asks for a person insured elsewhere.
    OtherInsurer,
    /// An office with no registration for the person.
    Unregistered,
    /// One second before the registration's start.
    BeforeRegistrationStart,
    /// `now` is the registration's end.
    AtRegistrationEnd,
    /// `now` is the lapse instant (lapse policies only).
    AtLapse,
    /// A class that needs consent; none given.
    ConsentNeverGiven,
    /// `now` is the consent's withdrawal.
    AtWithdrawal,
    /// `now` is the consent's expiry (expiry policies only).
    AtConsentExpiry,
    /// Only the office's own consent exists (a permit under per-office consent).
    RegistrationConsentOnly,
}

impl Case {
    /// Every case: the permit-intended ones first.
    pub const ALL: [Case; 42] = [
        Case::OfficeRead,
        Case::OfficeWithConsent,
        Case::MunicipalityRead,
        Case::MunicipalityWithConsent,
        Case::OwnRecord,
        Case::Representative,
        Case::AtInsurerGoLive,
        Case::AtOfficeMunicipalityGoLive,
        Case::AtCredentialStart,
        Case::AtRegistrationStart,
        Case::AtConsentGiven,
        Case::AtRepresentationStart,
        Case::BeforeLapse,
        Case::BeforeConsentExpiry,
        Case::BeforeWithdrawal,
        Case::PersonConsentOnly,
        Case::StayDefersLapse,
        Case::UnknownOffice,
        Case::UnknownAgent,
        Case::ForeignCredential,
        Case::MissingCredential,
        Case::AtRevocation,
        Case::BeforeCredentialStart,
        Case::AtCredentialEnd,
        Case::OfficeClassForbidden,
        Case::OperatorForbidden,
        Case::UnknownSubject,
        Case::InsurerLate,
        Case::BeforeInsurerGoLive,
        Case::OfficeMunicipalityLate,
        Case::OtherPersonsRecord,
        Case::NoRepresentation,
        Case::AtRepresentationEnd,
        Case::OtherInsurer,
        Case::Unregistered,
        Case::BeforeRegistrationStart,
        Case::AtRegistrationEnd,
        Case::AtLapse,
        Case::ConsentNeverGiven,
        Case::AtWithdrawal,
        Case::AtConsentExpiry,
        Case::RegistrationConsentOnly,
    ];

    /// The stable kebab-case id.
    pub const fn name(self) -> &'static str {
        match self {
            Case::OfficeRead => "office-read",
            Case::OfficeWithConsent => "office-with-consent",
            Case::MunicipalityRead => "municipality-read",
            Case::MunicipalityWithConsent => "municipality-with-consent",
            Case::OwnRecord => "own-record",
            Case::Representative => "representative",
            Case::AtInsurerGoLive => "at-insurer-go-live",
            Case::AtOfficeMunicipalityGoLive => "at-office-municipality-go-live",
            Case::AtCredentialStart => "at-credential-start",
            Case::AtRegistrationStart => "at-registration-start",
            Case::AtConsentGiven => "at-consent-given",
            Case::AtRepresentationStart => "at-representation-start",
            Case::BeforeLapse => "before-lapse",
            Case::BeforeConsentExpiry => "before-consent-expiry",
            Case::BeforeWithdrawal => "before-withdrawal",
            Case::PersonConsentOnly => "person-consent-only",
            Case::StayDefersLapse => "stay-defers-lapse",
            Case::UnknownOffice => "unknown-office",
            Case::UnknownAgent => "unknown-agent",
            Case::ForeignCredential => "foreign-credential",
            Case::MissingCredential => "missing-credential",
            Case::AtRevocation => "at-revocation",
            Case::BeforeCredentialStart => "before-credential-start",
            Case::AtCredentialEnd => "at-credential-end",
            Case::OfficeClassForbidden => "office-class-forbidden",
            Case::OperatorForbidden => "operator-forbidden",
            Case::UnknownSubject => "unknown-subject",
            Case::InsurerLate => "insurer-late",
            Case::BeforeInsurerGoLive => "before-insurer-go-live",
            Case::OfficeMunicipalityLate => "office-municipality-late",
            Case::OtherPersonsRecord => "other-persons-record",
            Case::NoRepresentation => "no-representation",
            Case::AtRepresentationEnd => "at-representation-end",
            Case::OtherInsurer => "other-insurer",
            Case::Unregistered => "unregistered",
            Case::BeforeRegistrationStart => "before-registration-start",
            Case::AtRegistrationEnd => "at-registration-end",
            Case::AtLapse => "at-lapse",
            Case::ConsentNeverGiven => "consent-never-given",
            Case::AtWithdrawal => "at-withdrawal",
            Case::AtConsentExpiry => "at-consent-expiry",
            Case::RegistrationConsentOnly => "registration-consent-only",
        }
    }

    /// Whether the case is built to be permitted (under the 2025 proposal; a few cases turn
    /// into denials, or back, under other policies).
    pub fn permit_intended(self) -> bool {
        (self as usize) <= Case::StayDefersLapse as usize
    }

    /// Whether the policy can produce the case's outcome at all.
    pub fn applies(self, policy: &Policy) -> bool {
        match self {
            Case::BeforeLapse | Case::AtLapse => policy.lapse != LapsePolicy::Never,
            Case::StayDefersLapse => matches!(policy.lapse, LapsePolicy::AfterInactivity { .. }),
            Case::BeforeConsentExpiry | Case::AtConsentExpiry => {
                policy.consent.expiry != ConsentExpiry::Never
            }
            _ => true,
        }
    }
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Builds the world and the corpus of `spec`.
pub fn build(spec: &Spec) -> Result<(World, Corpus), BuildError> {
    if spec.requests == 0 {
        return Err(BuildError::Spec(
            "the corpus needs at least one request".into(),
        ));
    }
    // Each case takes one or two fresh persons; leave room for the rejection sampling.
    if spec.persons < spec.requests * 2 {
        return Err(BuildError::Spec(format!(
            "{} persons are too few for {} requests (at least twice as many)",
            spec.persons, spec.requests
        )));
    }
    let mut b = Builder::new(spec)?;
    let cases: Vec<Case> = Case::ALL
        .into_iter()
        .filter(|c| c.applies(&spec.policy))
        .collect();
    let permits: Vec<Case> = cases
        .iter()
        .copied()
        .filter(|c| c.permit_intended())
        .collect();
    let denials: Vec<Case> = cases
        .iter()
        .copied()
        .filter(|c| !c.permit_intended())
        .collect();
    let (mut p, mut d) = (0, 0);
    let mut entries = Vec::with_capacity(spec.requests);
    for k in 0..spec.requests {
        // Three permits, then two denials, each list cycled in order.
        let case = if k % 5 < 3 {
            p += 1;
            permits[(p - 1) % permits.len()]
        } else {
            d += 1;
            denials[(d - 1) % denials.len()]
        };
        let (request, now, expected) = b.make(case)?;
        entries.push(Entry {
            case,
            request,
            now,
            expected,
        });
    }
    entries.shuffle(&mut b.rng);
    let world = b.finish();
    for e in &entries {
        let got = decide(&world.view, &e.request, e.now);
        if got != e.expected {
            return Err(BuildError::Unexpected {
                case: e.case.name(),
                expected: e.expected,
                got,
                request: e.request,
                now: e.now,
            });
        }
    }
    Ok((world, Corpus { entries }))
}

/// `n` office requests at [`NOW`] drawn uniformly over the whole world: half for a
/// registered (person, office) pair sampled while building, half for a random person and a
/// random office (mostly `not-registered`), each with the office's own certificate and a
/// random class. Their decisions are whatever `decide` says; the corpus, not this pool,
/// carries the expectations.
pub fn random_requests(world: &World, n: usize, seed: u64) -> Vec<(Request, Timestamp)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let counts = world.view.counts();
    let persons = u32::try_from(counts.persons).expect("fewer than 2^32 persons");
    let offices = u32::try_from(counts.offices).expect("fewer than 2^32 offices");
    (0..n)
        .map(|i| {
            let (person, office) = if i % 2 == 0 && !world.sample.is_empty() {
                world.sample[rng.random_range(0..world.sample.len())]
            } else {
                (
                    PersonId(rng.random_range(0..persons)),
                    OfficeId(rng.random_range(0..offices)),
                )
            };
            let credential = world.office_credentials[office.0 as usize];
            let class = InfoClass::ALL[rng.random_range(0..InfoClass::COUNT)];
            let request = Request {
                principal: Principal::Office { office, credential },
                subject: person,
                class,
            };
            (request, NOW)
        })
        .collect()
}

/// Registered pairs kept for [`random_requests`].
const SAMPLE: usize = 1 << 20;

/// The JST midnight starting a date of the world's calendar.
fn jst(year: i32, month: u8, day: u8) -> Timestamp {
    Date::new(year, month, day)
        .expect("a real date")
        .midnight_jst()
}

/// Draws before a case gives up.
const TRIES: u32 = 1_000_000;

/// Validity of every standing certificate.
fn credential_for(holder: Holder) -> Credential {
    Credential {
        holder,
        not_before: jst(2026, 1, 1),
        not_after: jst(2031, 1, 1),
        revoked_at: Timestamp::MAX,
    }
}

struct Builder {
    policy: Policy,
    rng: ChaCha8Rng,
    view: View,
    credentials: Vec<Credential>,
    live_from: Vec<Timestamp>,
    offices_by_role: Vec<(Role, Vec<OfficeId>)>,
    office_credentials: Vec<CredentialId>,
    municipality_credentials: Vec<CredentialId>,
    operator_credential: CredentialId,
    persons: u32,
    offices: u32,
    used: FxHashSet<u32>,
    sample: Vec<(PersonId, OfficeId)>,
    agents: u32,
    unknown: u32,
}

impl Builder {
    fn new(spec: &Spec) -> Result<Builder, BuildError> {
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
        let persons = u32::try_from(spec.persons)
            .map_err(|_| BuildError::Spec("fewer than 2^32 persons".into()))?;
        let registrations = spec.persons * spec.registrations_per_person;
        let mut view = View::new(Rules {
            policy: spec.policy,
            ..Rules::published()
        });
        view.reserve(spec.persons, registrations);
        let mut b = Builder {
            policy: spec.policy,
            rng: ChaCha8Rng::seed_from_u64(0),
            view,
            credentials: Vec::new(),
            live_from: Vec::with_capacity(MUNICIPALITIES),
            offices_by_role: Vec::new(),
            office_credentials: Vec::new(),
            municipality_credentials: Vec::with_capacity(MUNICIPALITIES),
            operator_credential: CredentialId(0),
            persons,
            offices: 0,
            used: FxHashSet::default(),
            sample: Vec::new(),
            agents: 0,
            unknown: 0,
        };
        b.operator_credential = b.add_credential(credential_for(Holder::Operator))?;
        for i in 0..MUNICIPALITIES {
            let live_from = match i % 25 {
                0 => NOW.plus_months(4 + (i % 3) as i32),
                1 => Timestamp::MAX,
                _ => first_go_live().plus_months((i % 24) as i32),
            };
            let m = b
                .view
                .add_municipality(MunicipalityCode::random(&mut rng), live_from);
            b.live_from.push(live_from);
            let cred = b.add_credential(credential_for(Holder::Municipality(m)))?;
            b.municipality_credentials.push(cred);
        }
        let offices = (spec.persons / 20).max(50);
        b.offices = u32::try_from(offices).expect("fewer offices than persons");
        b.offices_by_role = [
            Role::CareManagement,
            Role::CareService,
            Role::Facility,
            Role::MedicalInstitution,
        ]
        .into_iter()
        .map(|r| (r, Vec::new()))
        .collect();
        for i in 0..offices {
            let role_slot = match i % 20 {
                0..=5 => 0,
                6..=15 => 1,
                16..=18 => 2,
                _ => 3,
            };
            let role = b.offices_by_role[role_slot].0;
            let m = MunicipalityId(rng.random_range(0..MUNICIPALITIES as u32));
            let office = b.view.add_office(role, m)?;
            b.offices_by_role[role_slot].1.push(office);
            let cred = b.add_credential(credential_for(Holder::Office(office)))?;
            b.office_credentials.push(cred);
        }
        let t0 = first_go_live();
        for _ in 0..spec.persons {
            let insurer = MunicipalityId(rng.random_range(0..MUNICIPALITIES as u32));
            let person = b.view.add_person(insurer)?;
            if rng.random_bool(0.85) {
                let given = t0.plus_days(rng.random_range(0..365));
                let mut consent = Consent::given(given)
                    .with_certification_end(given.plus_months(rng.random_range(12..37)));
                if rng.random_bool(0.05) {
                    consent = consent.withdrawn(given.plus_days(rng.random_range(30..600)));
                }
                b.view.set_consent(person, consent)?;
            }
            let stay = rng.random_range(0..100u32);
            if stay < 6 {
                let kind = if stay < 4 {
                    StayKind::Hospital
                } else {
                    StayKind::ShortStay
                };
                let from = jst(2027, 1, 1).plus_days(rng.random_range(0..500));
                let until = if rng.random_bool(0.2) {
                    Timestamp::MAX
                } else {
                    from.plus_days(rng.random_range(5..60))
                };
                b.view.set_stay(person, Some(Stay { kind, from, until }))?;
            }
        }
        let keep = (SAMPLE as f64 / registrations.max(1) as f64).min(1.0);
        for p in 0..persons {
            for _ in 0..spec.registrations_per_person {
                let office = OfficeId(rng.random_range(0..b.offices));
                let registered_at = t0.plus_days(rng.random_range(0..600));
                let mut reg = Registration::at(registered_at);
                if rng.random_bool(0.08) {
                    reg.ended_at = registered_at.plus_days(rng.random_range(30..400));
                }
                reg.last_service_at = registered_at.plus_days(rng.random_range(0..700));
                reg.last_claim_at = registered_at.plus_days(rng.random_range(0..700));
                if rng.random_bool(0.8) {
                    reg.consent = Consent::given(registered_at.plus_days(rng.random_range(0..30)));
                }
                b.view.register(PersonId(p), office, reg)?;
                if rng.random_bool(keep) {
                    b.sample.push((PersonId(p), office));
                }
            }
        }
        for _ in 0..spec.persons / 10 {
            let agent = b.add_agent();
            let person = PersonId(rng.random_range(0..persons));
            let from = t0.plus_days(rng.random_range(0..700));
            let until = if rng.random_bool(0.8) {
                Timestamp::MAX
            } else {
                from.plus_days(rng.random_range(30..400))
            };
            b.view
                .represent(agent, person, Representation { from, until })?;
        }
        b.rng = rng;
        Ok(b)
    }

    fn finish(self) -> World {
        World {
            view: self.view,
            credentials: self.credentials,
            agents: self.agents,
            sample: self.sample,
            office_credentials: self.office_credentials,
        }
    }

    fn add_credential(&mut self, credential: Credential) -> Result<CredentialId, BuildError> {
        let id = self.view.add_credential(credential)?;
        self.credentials.push(credential);
        debug_assert_eq!(id.0 as usize + 1, self.credentials.len());
        Ok(id)
    }

    fn add_agent(&mut self) -> AgentId {
        self.agents += 1;
        self.view.add_agent()
    }

    fn insurer(&self, person: PersonId) -> MunicipalityId {
        self.view
            .person(person)
            .expect("persons are drawn from the view")
            .insurer
    }

    fn insurer_live_from(&self, person: PersonId) -> Timestamp {
        self.live_from[self.insurer(person).0 as usize]
    }

    fn office_live_from(&self, office: OfficeId) -> Timestamp {
        let m = self
            .view
            .office(office)
            .expect("offices are drawn from the view")
            .municipality;
        self.live_from[m.0 as usize]
    }

    fn role_of(&self, office: OfficeId) -> Role {
        self.view
            .office(office)
            .expect("offices are drawn from the view")
            .role
    }

    fn access(&self, role: Role, class: InfoClass) -> Access {
        self.view.rules().matrix.access(role, class)
    }

    /// A random class `role` has an access level for that `wanted` accepts.
    fn class(&mut self, role: Role, wanted: fn(Access) -> bool) -> Option<InfoClass> {
        let fits: Vec<InfoClass> = InfoClass::ALL
            .iter()
            .copied()
            .filter(|&c| wanted(self.access(role, c)))
            .collect();
        (!fits.is_empty()).then(|| fits[self.rng.random_range(0..fits.len())])
    }

    /// A person no other case has used, insured where `insurer_live` accepts the go-live.
    fn fresh_person(
        &mut self,
        case: Case,
        insurer_live: impl Fn(Timestamp) -> bool,
    ) -> Result<PersonId, BuildError> {
        for _ in 0..TRIES {
            let p = self.rng.random_range(0..self.persons);
            if !self.used.contains(&p) && insurer_live(self.insurer_live_from(PersonId(p))) {
                self.used.insert(p);
                return Ok(PersonId(p));
            }
        }
        Err(exhausted(case))
    }

    /// Any existing person (for cases that change no row of theirs).
    fn any_person(&mut self) -> PersonId {
        PersonId(self.rng.random_range(0..self.persons))
    }

    /// An office whose role has a class `wanted` accepts, located where `located_live`
    /// accepts the go-live.
    fn office(
        &mut self,
        case: Case,
        wanted: fn(Access) -> bool,
        located_live: impl Fn(Timestamp) -> bool,
    ) -> Result<OfficeId, BuildError> {
        let roles: Vec<usize> = (0..self.offices_by_role.len())
            .filter(|&i| {
                let (role, offices) = &self.offices_by_role[i];
                !offices.is_empty()
                    && InfoClass::ALL
                        .iter()
                        .any(|&c| wanted(self.access(*role, c)))
            })
            .collect();
        if roles.is_empty() {
            return Err(exhausted(case));
        }
        for _ in 0..TRIES {
            let slot = roles[self.rng.random_range(0..roles.len())];
            let offices = &self.offices_by_role[slot].1;
            let office = offices[self.rng.random_range(0..offices.len())];
            if located_live(self.office_live_from(office)) {
                return Ok(office);
            }
        }
        Err(exhausted(case))
    }

    /// Gives `person` a current consent and no stay, and, with an office, a current
    /// registration carrying the same consent, all as of `now`.
    fn settle(
        &mut self,
        person: PersonId,
        office: Option<OfficeId>,
        now: Timestamp,
    ) -> Result<(), BuildError> {
        self.view.set_consent(person, current_consent(now))?;
        self.view.set_stay(person, None)?;
        if let Some(office) = office {
            self.view
                .register(person, office, current_registration(now))?;
        }
        Ok(())
    }

    /// A fresh person insured where sharing has started by `now`, an office of a role with a
    /// class `wanted` accepts located where sharing has started by `now`, such a class, and
    /// both settled as of `now`.
    fn office_scenario(
        &mut self,
        case: Case,
        now: Timestamp,
        wanted: fn(Access) -> bool,
    ) -> Result<(PersonId, OfficeId, InfoClass), BuildError> {
        let person = self.fresh_person(case, |l| l <= now)?;
        let office = self.office(case, wanted, |l| l <= now)?;
        let class = self
            .class(self.role_of(office), wanted)
            .ok_or(exhausted(case))?;
        self.settle(person, Some(office), now)?;
        Ok((person, office, class))
    }

    fn office_request(&self, office: OfficeId, person: PersonId, class: InfoClass) -> Request {
        self.request_with(
            office,
            self.office_credentials[office.0 as usize],
            person,
            class,
        )
    }

    fn request_with(
        &self,
        office: OfficeId,
        credential: CredentialId,
        subject: PersonId,
        class: InfoClass,
    ) -> Request {
        Request {
            principal: Principal::Office { office, credential },
            subject,
            class,
        }
    }

    fn add_office_credential(
        &mut self,
        office: OfficeId,
        change: impl FnOnce(&mut Credential),
    ) -> Result<CredentialId, BuildError> {
        let mut credential = credential_for(Holder::Office(office));
        change(&mut credential);
        self.add_credential(credential)
    }

    /// A few minutes to an hour, so boundary instants are not all the same second.
    fn jitter(&mut self) -> i64 {
        self.rng.random_range(60..3_600)
    }

    /// An id past the end of a table of `len` rows: the first one, or the last `u32`.
    fn past_end(&mut self, len: u32) -> u32 {
        self.unknown += 1;
        if self.unknown.is_multiple_of(2) {
            len
        } else {
            u32::MAX
        }
    }

    fn set_both_consents(
        &mut self,
        person: PersonId,
        office: OfficeId,
        consent: Consent,
    ) -> Result<(), BuildError> {
        self.view.set_consent(person, consent)?;
        self.view.registration_mut(person, office)?.consent = consent;
        Ok(())
    }

    /// The request, its `now` and the decision `case` is built to produce.
    fn make(&mut self, case: Case) -> Result<(Request, Timestamp, Decision), BuildError> {
        use DenyReason as R;
        let deny = Decision::Deny;
        let permit = Decision::Permit;
        let policy = self.policy;
        let now = NOW;
        Ok(match case {
            Case::OfficeRead => {
                let (p, o, c) = self.office_scenario(case, now, without_consent)?;
                (self.office_request(o, p, c), now, permit)
            }
            Case::OfficeWithConsent => {
                let (p, o, c) = self.office_scenario(case, now, with_consent)?;
                (self.office_request(o, p, c), now, permit)
            }
            Case::MunicipalityRead | Case::MunicipalityWithConsent => {
                let wanted = if case == Case::MunicipalityRead {
                    without_consent
                } else {
                    with_consent
                };
                let p = self.fresh_person(case, |l| l <= now)?;
                self.settle(p, None, now)?;
                let municipality = self.insurer(p);
                let class = self
                    .class(Role::Municipality, wanted)
                    .ok_or(exhausted(case))?;
                let credential = self.municipality_credentials[municipality.0 as usize];
                let principal = Principal::Municipality {
                    municipality,
                    credential,
                };
                (request(principal, p, class), now, permit)
            }
            Case::OwnRecord => {
                let p = self.fresh_person(case, |l| l <= now)?;
                self.settle(p, None, now)?;
                let class = self.class(Role::Person, readable).ok_or(exhausted(case))?;
                (
                    request(Principal::Person { person: p }, p, class),
                    now,
                    permit,
                )
            }
            Case::Representative
            | Case::AtRepresentationStart
            | Case::AtRepresentationEnd
            | Case::NoRepresentation => {
                let p = self.fresh_person(case, |l| l <= now)?;
                self.settle(p, None, now)?;
                let agent = self.add_agent();
                let (when, expected) = match case {
                    Case::Representative => {
                        let from = now.plus_days(-50);
                        self.view.represent(
                            agent,
                            p,
                            Representation {
                                from,
                                until: Timestamp::MAX,
                            },
                        )?;
                        (now, permit)
                    }
                    Case::AtRepresentationStart => {
                        let from = now.plus_seconds(-self.jitter());
                        let until = Timestamp::MAX;
                        self.view
                            .represent(agent, p, Representation { from, until })?;
                        (from, permit)
                    }
                    Case::AtRepresentationEnd => {
                        let until = now.plus_seconds(self.jitter());
                        let from = now.plus_days(-50);
                        self.view
                            .represent(agent, p, Representation { from, until })?;
                        (until, deny(R::NotRepresentative))
                    }
                    _ => {
                        // The agent represents someone else, never this person.
                        let other = self.any_person();
                        if other != p {
                            self.view.represent(
                                agent,
                                other,
                                Representation {
                                    from: now.plus_days(-50),
                                    until: Timestamp::MAX,
                                },
                            )?;
                        }
                        (now, deny(R::NotRepresentative))
                    }
                };
                let class = self
                    .class(Role::Representative, readable)
                    .ok_or(exhausted(case))?;
                (
                    request(Principal::Representative { agent }, p, class),
                    when,
                    expected,
                )
            }
            Case::AtInsurerGoLive => {
                let p = self.fresh_person(case, |l| l <= now)?;
                let go_live = self.insurer_live_from(p);
                let o = self.office(case, readable, |l| l <= go_live)?;
                let c = self
                    .class(self.role_of(o), readable)
                    .ok_or(exhausted(case))?;
                self.settle(p, Some(o), go_live)?;
                (self.office_request(o, p, c), go_live, permit)
            }
            Case::AtOfficeMunicipalityGoLive => {
                let o = self.office(case, readable, |l| l <= now)?;
                let go_live = self.office_live_from(o);
                let p = self.fresh_person(case, |l| l <= go_live)?;
                let c = self
                    .class(self.role_of(o), readable)
                    .ok_or(exhausted(case))?;
                self.settle(p, Some(o), go_live)?;
                (self.office_request(o, p, c), go_live, permit)
            }
            Case::AtCredentialStart
            | Case::AtRevocation
            | Case::BeforeCredentialStart
            | Case::AtCredentialEnd => {
                let (p, o, c) = self.office_scenario(case, now, readable)?;
                let jitter = self.jitter();
                let (when, expected, cred) = match case {
                    Case::AtCredentialStart => {
                        let start = now.plus_days(-7).plus_seconds(jitter);
                        let id = self.add_office_credential(o, |cr| cr.not_before = start)?;
                        (start, permit, id)
                    }
                    Case::AtRevocation => {
                        let revoked = now.plus_days(-1).plus_seconds(jitter);
                        let id = self.add_office_credential(o, |cr| cr.revoked_at = revoked)?;
                        (revoked, deny(R::CertificateRevoked), id)
                    }
                    Case::BeforeCredentialStart => {
                        let start = now.plus_seconds(jitter);
                        let id = self.add_office_credential(o, |cr| cr.not_before = start)?;
                        (start.plus_seconds(-1), deny(R::CertificateNotYetValid), id)
                    }
                    _ => {
                        let end = now.plus_seconds(jitter);
                        let id = self.add_office_credential(o, |cr| cr.not_after = end)?;
                        (end, deny(R::CertificateExpired), id)
                    }
                };
                (self.request_with(o, cred, p, c), when, expected)
            }
            Case::AtRegistrationStart | Case::BeforeRegistrationStart | Case::AtRegistrationEnd => {
                let (p, o, c) = self.office_scenario(case, now, readable)?;
                let at = now.plus_seconds(-self.jitter());
                let reg = self.view.registration_mut(p, o)?;
                let (when, expected) = match case {
                    Case::AtRegistrationStart => {
                        reg.registered_at = at;
                        (at, permit)
                    }
                    Case::BeforeRegistrationStart => {
                        reg.registered_at = at;
                        (at.plus_seconds(-1), deny(R::NotRegistered))
                    }
                    _ => {
                        reg.ended_at = at;
                        (at, deny(R::RegistrationEnded))
                    }
                };
                (self.office_request(o, p, c), when, expected)
            }
            Case::AtConsentGiven => {
                let (p, o, c) = self.office_scenario(case, now, with_consent)?;
                let given = now.plus_seconds(-self.jitter());
                let consent = Consent::given(given).with_certification_end(now.plus_days(400));
                self.set_both_consents(p, o, consent)?;
                (self.office_request(o, p, c), given, permit)
            }
            Case::BeforeLapse | Case::AtLapse | Case::StayDefersLapse => {
                let (p, o, c) = self.office_scenario(case, now, readable)?;
                let reg = Registration {
                    registered_at: now.plus_days(-400),
                    last_service_at: now.plus_days(-30).plus_seconds(self.jitter()),
                    last_claim_at: now.plus_days(-30).plus_seconds(self.jitter()),
                    ..current_registration(now)
                };
                let person = *self.view.person(p)?;
                let lapse = kiban_core::decide::lapse_instant(policy.lapse, &reg, &person);
                let at = if case == Case::BeforeLapse {
                    lapse.plus_seconds(-1)
                } else {
                    lapse
                };
                self.settle(p, None, at)?;
                self.view.register(
                    p,
                    o,
                    Registration {
                        consent: current_consent(at),
                        ..reg
                    },
                )?;
                let expected = match case {
                    Case::BeforeLapse => permit,
                    Case::AtLapse => deny(R::RegistrationLapsed),
                    _ => {
                        // An open hospital stay that began before the lapse instant.
                        let stay = Stay {
                            kind: StayKind::Hospital,
                            from: now.plus_days(-5),
                            until: Timestamp::MAX,
                        };
                        self.view.set_stay(p, Some(stay))?;
                        match policy.lapse {
                            LapsePolicy::AfterInactivity {
                                exempt_hospital_stays: true,
                                ..
                            } => permit,
                            _ => deny(R::RegistrationLapsed),
                        }
                    }
                };
                (self.office_request(o, p, c), at, expected)
            }
            Case::BeforeConsentExpiry | Case::AtConsentExpiry => {
                let (p, o, c) = self.office_scenario(case, now, with_consent)?;
                let consent = Consent::given(now.plus_months(-24).plus_days(5))
                    .with_certification_end(now.plus_days(7).plus_seconds(self.jitter()));
                self.set_both_consents(p, o, consent)?;
                let expiry = consent_expiry(policy.consent.expiry, &consent);
                let (when, expected) = if case == Case::BeforeConsentExpiry {
                    (expiry.plus_seconds(-1), permit)
                } else {
                    (expiry, deny(R::ConsentExpired))
                };
                (self.office_request(o, p, c), when, expected)
            }
            Case::BeforeWithdrawal | Case::AtWithdrawal => {
                let (p, o, c) = self.office_scenario(case, now, with_consent)?;
                let withdrawn = now.plus_seconds(self.jitter());
                self.set_both_consents(p, o, current_consent(now).withdrawn(withdrawn))?;
                let (when, expected) = if case == Case::BeforeWithdrawal {
                    (withdrawn.plus_seconds(-1), permit)
                } else {
                    (withdrawn, deny(R::ConsentWithdrawn))
                };
                (self.office_request(o, p, c), when, expected)
            }
            Case::PersonConsentOnly | Case::RegistrationConsentOnly | Case::ConsentNeverGiven => {
                let (p, o, c) = self.office_scenario(case, now, with_consent)?;
                let (person, office) = match case {
                    Case::PersonConsentOnly => (current_consent(now), Consent::NONE),
                    Case::RegistrationConsentOnly => (Consent::NONE, current_consent(now)),
                    _ => (Consent::NONE, Consent::NONE),
                };
                self.view.set_consent(p, person)?;
                self.view.registration_mut(p, o)?.consent = office;
                let counted = match policy.consent.model {
                    ConsentModel::Comprehensive => person,
                    ConsentModel::PerOffice => office,
                };
                let expected = if counted == Consent::NONE {
                    deny(R::ConsentMissing)
                } else {
                    permit
                };
                (self.office_request(o, p, c), now, expected)
            }
            Case::UnknownOffice => {
                let office = OfficeId(self.past_end(self.offices));
                let credential = self.office_credentials[0];
                let subject = self.any_person();
                let principal = Principal::Office { office, credential };
                (
                    request(principal, subject, InfoClass::InsuranceCard),
                    now,
                    deny(R::UnknownPrincipal),
                )
            }
            Case::UnknownAgent => {
                let agent = AgentId(u32::MAX);
                let subject = self.any_person();
                (
                    request(
                        Principal::Representative { agent },
                        subject,
                        InfoClass::InsuranceCard,
                    ),
                    now,
                    deny(R::UnknownPrincipal),
                )
            }
            Case::ForeignCredential | Case::MissingCredential => {
                let (p, o, c) = self.office_scenario(case, now, readable)?;
                let credential = if case == Case::ForeignCredential {
                    let other =
                        (o.0 + 1 + self.rng.random_range(0..self.offices - 1)) % self.offices;
                    self.office_credentials[other as usize]
                } else {
                    CredentialId(self.past_end(self.credentials.len() as u32 + 1_000_000))
                };
                (
                    self.request_with(o, credential, p, c),
                    now,
                    deny(R::CredentialMismatch),
                )
            }
            Case::OfficeClassForbidden => {
                let (p, o, c) = self.office_scenario(case, now, forbidden)?;
                (self.office_request(o, p, c), now, deny(R::RoleForbidden))
            }
            Case::OperatorForbidden => {
                let class = self
                    .class(Role::Operator, forbidden)
                    .ok_or(exhausted(case))?;
                let subject = self.any_person();
                let principal = Principal::Operator {
                    credential: self.operator_credential,
                };
                (
                    request(principal, subject, class),
                    now,
                    deny(R::RoleForbidden),
                )
            }
            Case::UnknownSubject => {
                let o = self.office(case, readable, |l| l <= now)?;
                let c = self
                    .class(self.role_of(o), readable)
                    .ok_or(exhausted(case))?;
                let subject = PersonId(self.past_end(self.persons));
                (
                    self.office_request(o, subject, c),
                    now,
                    deny(R::UnknownSubject),
                )
            }
            Case::InsurerLate => {
                let p = self.fresh_person(case, |l| l > now)?;
                let o = self.office(case, readable, |l| l <= now)?;
                let c = self
                    .class(self.role_of(o), readable)
                    .ok_or(exhausted(case))?;
                self.settle(p, Some(o), now)?;
                (self.office_request(o, p, c), now, deny(R::InsurerNotLive))
            }
            Case::BeforeInsurerGoLive => {
                let p = self.fresh_person(case, |l| l <= now)?;
                let before = self.insurer_live_from(p).plus_seconds(-1);
                let o = self.office(case, readable, |_| true)?;
                let c = self
                    .class(self.role_of(o), readable)
                    .ok_or(exhausted(case))?;
                self.settle(p, Some(o), before)?;
                (
                    self.office_request(o, p, c),
                    before,
                    deny(R::InsurerNotLive),
                )
            }
            Case::OfficeMunicipalityLate => {
                let p = self.fresh_person(case, |l| l <= now)?;
                let o = self.office(case, readable, |l| l > now)?;
                let c = self
                    .class(self.role_of(o), readable)
                    .ok_or(exhausted(case))?;
                self.settle(p, Some(o), now)?;
                let expected = if policy.rollout.cross_municipality_rule {
                    deny(R::OfficeMunicipalityNotLive)
                } else {
                    permit
                };
                (self.office_request(o, p, c), now, expected)
            }
            Case::OtherPersonsRecord => {
                let p = self.fresh_person(case, |l| l <= now)?;
                self.settle(p, None, now)?;
                let mut asking = self.any_person();
                if asking == p {
                    asking = PersonId((p.0 + 1) % self.persons);
                }
                let class = self.class(Role::Person, readable).ok_or(exhausted(case))?;
                (
                    request(Principal::Person { person: asking }, p, class),
                    now,
                    deny(R::NotOwnRecord),
                )
            }
            Case::OtherInsurer => {
                let p = self.fresh_person(case, |l| l <= now)?;
                self.settle(p, None, now)?;
                let insurer = self.insurer(p).0;
                let other = (insurer + 1 + self.rng.random_range(0..MUNICIPALITIES as u32 - 1))
                    % MUNICIPALITIES as u32;
                let class = self
                    .class(Role::Municipality, readable)
                    .ok_or(exhausted(case))?;
                let principal = Principal::Municipality {
                    municipality: MunicipalityId(other),
                    credential: self.municipality_credentials[other as usize],
                };
                (request(principal, p, class), now, deny(R::NotInsurer))
            }
            Case::Unregistered => {
                let p = self.fresh_person(case, |l| l <= now)?;
                self.settle(p, None, now)?;
                let mut office = None;
                for _ in 0..TRIES {
                    let o = self.office(case, readable, |l| l <= now)?;
                    if self.view.registration_of(p, o).is_none() {
                        office = Some(o);
                        break;
                    }
                }
                let o = office.ok_or(exhausted(case))?;
                let c = self
                    .class(self.role_of(o), readable)
                    .ok_or(exhausted(case))?;
                (self.office_request(o, p, c), now, deny(R::NotRegistered))
            }
        })
    }
}

fn exhausted(case: Case) -> BuildError {
    BuildError::Exhausted {
        case: case.name(),
        tries: TRIES,
    }
}

fn request(principal: Principal, subject: PersonId, class: InfoClass) -> Request {
    Request {
        principal,
        subject,
        class,
    }
}

fn readable(access: Access) -> bool {
    access != Access::None
}

fn forbidden(access: Access) -> bool {
    access == Access::None
}

fn without_consent(access: Access) -> bool {
    matches!(access, Access::Read | Access::Creator)
}

fn with_consent(access: Access) -> bool {
    access == Access::ReadWithConsent
}

/// A consent given 100 days before `now`, in a certification period ending 400 days after.
fn current_consent(now: Timestamp) -> Consent {
    Consent::given(now.plus_days(-100)).with_certification_end(now.plus_days(400))
}

/// A registration made 200 days before `now`, with service and claim records 10 days
/// before it and the office's own current consent.
fn current_registration(now: Timestamp) -> Registration {
    Registration {
        registered_at: now.plus_days(-200),
        ended_at: Timestamp::MAX,
        last_service_at: now.plus_days(-10),
        last_claim_at: now.plus_days(-10),
        consent: current_consent(now),
    }
}
