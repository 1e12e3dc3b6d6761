//! Random small worlds and requests. Timestamps come mostly from a small grid of instants
//! around the 2026-04-01 go-live (month ends, the 31st, a non-midnight time), so that field
//! values coincide and `now == t` happens often; `now` is drawn from every instant the world
//! mentions, those instants 1–3 calendar months later (where lapses and expiries fall), the
//! grid and a random range, each then moved by −1, 0 or +1 second. The one comparison
//! between two stored instants (a stay's start against the inactivity lapse) is made to
//! coincide on purpose (see `align_stay`). Requests are drawn as world-independent seeds
//! and resolved against the world, mostly to principals that hold a credential, their own
//! credential and subjects they are related to, sometimes to any row, sometimes to ids
//! past the end.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

use kiban_core::rules::{
    Access, ConsentExpiry, ConsentModel, ConsentPolicy, LapsePolicy, Policy, RolloutPolicy,
};
use kiban_core::time::{Date, Timestamp};
use kiban_core::view::StayKind;
use kiban_core::vocab::InfoClass;

use super::world::{
    COLUMN_ROLES, NCell, NConsent, NCredential, NHolder, NMunicipality, NOffice, NPerson,
    NPrincipal, NRegistration, NRepresentation, NRules, NStay, NaiveRequest, NaiveWorld,
    OFFICE_ROLES, published_cells,
};

/// `secs` seconds after JST midnight of the date.
pub(crate) fn jst(year: i32, month: u8, day: u8, secs: i64) -> Timestamp {
    Date::new(year, month, day)
        .expect("a real date")
        .midnight_jst()
        .plus_seconds(secs)
}

/// The instants most field values are drawn from.
pub(crate) fn grid() -> Vec<Timestamp> {
    vec![
        jst(2026, 1, 31, 0),
        jst(2026, 2, 28, 0),
        jst(2026, 3, 31, 0),
        jst(2026, 4, 1, 0),
        jst(2026, 4, 1, 9 * 3600 + 30 * 60),
        jst(2026, 4, 30, 0),
        jst(2026, 5, 1, 0),
        jst(2026, 5, 31, 86_399),
        jst(2026, 6, 1, 0),
        jst(2026, 7, 1, 0),
        jst(2026, 8, 31, 12 * 3600),
    ]
}

fn random_range() -> std::ops::Range<i64> {
    jst(2025, 10, 1, 0).unix_seconds()..jst(2027, 1, 1, 0).unix_seconds()
}

/// A finite instant: mostly from the grid, sometimes anywhere in Oct 2025 – Dec 2026.
fn instant() -> BoxedStrategy<Timestamp> {
    prop_oneof![
        6 => select(grid()),
        1 => random_range().prop_map(Timestamp::from_unix_seconds),
    ]
    .boxed()
}

/// An instant or, with weight 1 in `1 + weight`, the sentinel.
fn instant_or(sentinel: Timestamp, weight: u32) -> BoxedStrategy<Timestamp> {
    prop_oneof![weight => instant(), 1 => Just(sentinel)].boxed()
}

/// Two instants in order: the start and an optional (MAX when absent) end not before it.
fn interval(end_probability: f64) -> impl Strategy<Value = (Timestamp, Timestamp)> {
    (instant(), option::weighted(end_probability, instant())).prop_map(|(a, b)| match b {
        None => (a, Timestamp::MAX),
        Some(b) => (a.min(b), a.max(b)),
    })
}

fn consent() -> impl Strategy<Value = NConsent> {
    (
        option::weighted(0.8, interval(0.3)),
        option::weighted(0.5, instant()),
    )
        .prop_map(|(given, certification_end)| {
            let (given_at, withdrawn_at) = given.unwrap_or((Timestamp::MAX, Timestamp::MAX));
            NConsent {
                given_at,
                withdrawn_at,
                certification_end: certification_end.unwrap_or(Timestamp::MAX),
            }
        })
}

fn stay() -> impl Strategy<Value = Option<NStay>> {
    option::weighted(
        0.6,
        (
            prop_oneof![Just(StayKind::Hospital), Just(StayKind::ShortStay)],
            interval(0.6),
        )
            .prop_map(|(kind, (from, until))| NStay { kind, from, until }),
    )
}

fn access() -> impl Strategy<Value = Access> {
    prop_oneof![
        1 => Just(Access::None),
        2 => Just(Access::Read),
        3 => Just(Access::ReadWithConsent),
        1 => Just(Access::Creator),
    ]
}

fn policy() -> impl Strategy<Value = Policy> {
    let model = prop_oneof![
        Just(ConsentModel::Comprehensive),
        Just(ConsentModel::PerOffice)
    ];
    let expiry = prop_oneof![
        Just(ConsentExpiry::Never),
        Just(ConsentExpiry::WithCertificationPeriod),
        (0u16..=3).prop_map(ConsentExpiry::AfterMonths),
    ];
    let lapse = prop_oneof![
        Just(LapsePolicy::Never),
        (0u16..=3, any::<bool>(), any::<bool>()).prop_map(|(months, h, s)| {
            LapsePolicy::AfterInactivity {
                months,
                exempt_hospital_stays: h,
                exempt_short_stays: s,
            }
        }),
        (0u16..=3).prop_map(|grace_months| LapsePolicy::TiedToClaims { grace_months }),
    ];
    (model, expiry, lapse, any::<bool>()).prop_map(|(model, expiry, lapse, cross)| Policy {
        consent: ConsentPolicy { model, expiry },
        lapse,
        rollout: RolloutPolicy {
            cross_municipality_rule: cross,
        },
    })
}

/// The published matrix (a third of the time) or a random one, under a random policy.
pub(crate) fn rules() -> impl Strategy<Value = NRules> {
    let random = vec(access(), COLUMN_ROLES.len() * InfoClass::ALL.len()).prop_map(|levels| {
        let mut cells = Vec::new();
        let mut levels = levels.into_iter();
        for &role in &COLUMN_ROLES {
            for &class in InfoClass::ALL {
                let access = levels.next().expect("one level per cell");
                cells.push(NCell {
                    role,
                    class,
                    access,
                });
            }
        }
        (false, cells)
    });
    let matrix = prop_oneof![1 => Just((true, published_cells())), 2 => random];
    (matrix, policy()).prop_map(|((published, cells), policy)| NRules {
        published,
        cells,
        policy,
    })
}

/// A small world: 1–4 municipalities, 0–5 offices, 1–5 persons, 0–3 agents, 0–6
/// credentials, 0–8 registrations (when there are offices), 0–5 representations (when there
/// are agents).
pub(crate) fn world() -> impl Strategy<Value = NaiveWorld> {
    (1usize..=4, 0usize..=5, 1usize..=5, 0usize..=3)
        .prop_flat_map(|(nm, no, np, na)| {
            let municipalities = vec(
                prop_oneof![
                    8 => instant(),
                    1 => Just(Timestamp::MAX),
                    1 => Just(Timestamp::MIN),
                ]
                .prop_map(|live_from| NMunicipality { live_from }),
                nm,
            );
            let offices = vec(
                (select(OFFICE_ROLES.to_vec()), 0..nm)
                    .prop_map(|(role, municipality)| NOffice { role, municipality }),
                no,
            );
            let persons = vec(
                (0..nm, consent(), stay()).prop_map(|(insurer, consent, stay)| NPerson {
                    insurer,
                    consent,
                    stay,
                }),
                np,
            );
            let holder = (0u8..6, any::<u32>()).prop_map(move |(kind, raw)| match kind {
                0..=2 if no > 0 => NHolder::Office(raw as usize % no),
                0..=4 => NHolder::Municipality(raw as usize % nm),
                _ => NHolder::Operator,
            });
            // Mostly in order, a third of them valid for years; sometimes a validity that ends
            // before it starts.
            let not_after = prop_oneof![2 => instant(), 1 => Just(jst(2030, 1, 1, 0))];
            let validity =
                (instant_or(Timestamp::MIN, 12), not_after, 0u8..6).prop_map(|(a, b, order)| {
                    if order == 0 {
                        (a, b)
                    } else {
                        (a.min(b), a.max(b))
                    }
                });
            let credentials = vec(
                (holder, validity, option::weighted(0.2, instant())).prop_map(
                    |(holder, (not_before, not_after), revoked)| NCredential {
                        holder,
                        not_before,
                        not_after,
                        revoked_at: revoked.unwrap_or(Timestamp::MAX),
                    },
                ),
                0..=6,
            );
            let registrations = vec(
                (
                    0..np,
                    0..no.max(1),
                    instant(),
                    option::weighted(0.35, instant()),
                    option::weighted(0.6, instant()),
                    option::weighted(0.6, instant()),
                    consent(),
                )
                    .prop_map(
                        |(person, office, registered_at, ended, service, claim, consent)| {
                            NRegistration {
                                person,
                                office,
                                registered_at,
                                ended_at: ended.unwrap_or(Timestamp::MAX),
                                last_service_at: service.unwrap_or(Timestamp::MIN),
                                last_claim_at: claim.unwrap_or(Timestamp::MIN),
                                consent,
                            }
                        },
                    ),
                0..=if no == 0 { 0 } else { 8 },
            );
            let representations = vec(
                (0..na.max(1), 0..np, interval(0.6)).prop_map(|(agent, person, (from, until))| {
                    NRepresentation {
                        agent,
                        person,
                        from,
                        until,
                    }
                }),
                0..=if na == 0 { 0 } else { 5 },
            );
            (
                Just(na),
                municipalities,
                offices,
                persons,
                credentials,
                registrations,
                representations,
                rules(),
                vec(
                    option::weighted(0.5, (any::<u32>(), 0u16..=3, -1i64..=1)),
                    np,
                ),
            )
        })
        .prop_map(
            |(
                agents,
                municipalities,
                offices,
                persons,
                credentials,
                registrations,
                representations,
                rules,
                aligns,
            )| {
                let mut world = NaiveWorld {
                    municipalities,
                    offices,
                    persons,
                    agents,
                    credentials,
                    registrations,
                    representations,
                    rules,
                };
                for (person, align) in aligns.into_iter().enumerate() {
                    if let Some((pick, months, delta)) = align {
                        align_stay(&mut world, person, pick, months, delta);
                    }
                }
                world
            },
        )
}

/// The one comparison the rules make between two stored instants rather than with `now`:
/// whether a stay began at or before the inactivity lapse instant. Independent draws rarely
/// make them equal, so this moves the start of the person's stay (if any) to one of their
/// registrations' lapse instants (under the policy's months, if it is an inactivity lapse),
/// give or take a second, keeping the stay's end not before its start.
fn align_stay(w: &mut NaiveWorld, person: usize, pick: u32, months: u16, delta: i64) {
    let regs: Vec<&NRegistration> = w
        .registrations
        .iter()
        .filter(|r| r.person == person)
        .collect();
    let (Some(stay), false) = (w.persons[person].stay.as_mut(), regs.is_empty()) else {
        return;
    };
    let r = regs[pick as usize % regs.len()];
    let months = match w.rules.policy.lapse {
        LapsePolicy::AfterInactivity { months, .. } => months,
        _ => months,
    };
    let from = r
        .registered_at
        .max(r.last_service_at)
        .plus_months(i32::from(months))
        .plus_seconds(delta);
    stay.from = from;
    stay.until = stay.until.max(from);
}

/// A choice among rows, resolved against a world: `mode` below 34 (of 40) picks a related
/// row (where there is one: a principal holding a credential, its own credential, a subject
/// it is related to), below 38 any row in range, 38 the first id past the end, 39
/// `u32::MAX`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pick {
    mode: u8,
    raw: u32,
}

fn pick() -> impl Strategy<Value = Pick> {
    (0u8..40, any::<u32>()).prop_map(|(mode, raw)| Pick { mode, raw })
}

/// Where `now` comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NowPick {
    /// Below 17 (of 20): an instant of [`world_instants`]; otherwise random in range.
    source: u8,
    raw: u32,
    random: i64,
    /// −1, 0 or +1 second.
    delta: i64,
}

/// A request before it is resolved against a world.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestSeed {
    /// 0 office, 1 municipality, 2 operator, 3 person, 4 representative.
    kind: u8,
    id: Pick,
    credential: Pick,
    subject: Pick,
    class: InfoClass,
    now: NowPick,
}

pub(crate) fn request_seed() -> impl Strategy<Value = RequestSeed> {
    let kind =
        prop_oneof![6 => Just(0u8), 2 => Just(1u8), 1 => Just(2u8), 2 => Just(3u8), 2 => Just(4u8)];
    let now = (
        0u8..20,
        any::<u32>(),
        random_range(),
        prop_oneof![Just(-1i64), Just(0), Just(0), Just(1)],
    )
        .prop_map(|(source, raw, random, delta)| NowPick {
            source,
            raw,
            random,
            delta,
        });
    (
        kind,
        pick(),
        pick(),
        pick(),
        select(InfoClass::ALL.to_vec()),
        now,
    )
        .prop_map(|(kind, id, credential, subject, class, now)| RequestSeed {
            kind,
            id,
            credential,
            subject,
            class,
            now,
        })
}

/// Every finite instant the world mentions, the same 1–3 calendar months later, and the grid.
pub(crate) fn world_instants(w: &NaiveWorld) -> Vec<Timestamp> {
    let mut base = grid();
    base.extend(w.municipalities.iter().map(|m| m.live_from));
    for c in &w.credentials {
        base.extend([c.not_before, c.not_after, c.revoked_at]);
    }
    let consent = |c: &NConsent| [c.given_at, c.withdrawn_at, c.certification_end];
    for p in &w.persons {
        base.extend(consent(&p.consent));
        if let Some(s) = p.stay {
            base.extend([s.from, s.until]);
        }
    }
    for r in &w.registrations {
        base.extend([
            r.registered_at,
            r.ended_at,
            r.last_service_at,
            r.last_claim_at,
        ]);
        base.extend(consent(&r.consent));
    }
    for r in &w.representations {
        base.extend([r.from, r.until]);
    }
    base.retain(|t| *t != Timestamp::MIN && *t != Timestamp::MAX);
    let mut out = Vec::with_capacity(base.len() * 4);
    for t in base {
        out.extend((0..=3).map(|m| t.plus_months(m)));
    }
    out
}

/// Index of a row among `n`, per the pick's mode (`related`: rows to prefer, may be empty).
fn index(p: Pick, n: usize, related: &[usize]) -> u32 {
    match p.mode {
        0..=33 if !related.is_empty() => related[p.raw as usize % related.len()] as u32,
        0..=37 if n > 0 => (p.raw as usize % n) as u32,
        39 => u32::MAX,
        _ => n as u32,
    }
}

/// The request and `now` a seed stands for in `w`.
pub(crate) fn resolve(
    w: &NaiveWorld,
    s: &RequestSeed,
    instants: &[Timestamp],
) -> (NaiveRequest, Timestamp) {
    let holding = |h: NHolder| -> Vec<usize> {
        w.credentials
            .iter()
            .enumerate()
            .filter(|(_, c)| c.holder == h)
            .map(|(i, _)| i)
            .collect()
    };
    let nc = w.credentials.len();
    let holders = |office: bool| -> Vec<usize> {
        w.credentials
            .iter()
            .filter_map(|c| match c.holder {
                NHolder::Office(o) if office => Some(o),
                NHolder::Municipality(m) if !office => Some(m),
                _ => None,
            })
            .collect()
    };
    let (principal, related): (NPrincipal, Vec<usize>) = match s.kind {
        0 => {
            let office = index(s.id, w.offices.len(), &holders(true));
            let credential = index(s.credential, nc, &holding(NHolder::Office(office as usize)));
            let registered = w
                .registrations
                .iter()
                .filter(|r| r.office == office as usize)
                .map(|r| r.person)
                .collect();
            (NPrincipal::Office { office, credential }, registered)
        }
        1 => {
            let municipality = index(s.id, w.municipalities.len(), &holders(false));
            let credential = index(
                s.credential,
                nc,
                &holding(NHolder::Municipality(municipality as usize)),
            );
            let insured = (0..w.persons.len())
                .filter(|&p| w.persons[p].insurer == municipality as usize)
                .collect();
            (
                NPrincipal::Municipality {
                    municipality,
                    credential,
                },
                insured,
            )
        }
        2 => {
            let credential = index(s.credential, nc, &holding(NHolder::Operator));
            (NPrincipal::Operator { credential }, Vec::new())
        }
        3 => {
            let person = index(s.id, w.persons.len(), &[]);
            (NPrincipal::Person { person }, vec![person as usize])
        }
        _ => {
            let representing: Vec<usize> = w.representations.iter().map(|r| r.agent).collect();
            let agent = index(s.id, w.agents, &representing);
            let represented = w
                .representations
                .iter()
                .filter(|r| r.agent == agent as usize)
                .map(|r| r.person)
                .collect();
            (NPrincipal::Representative { agent }, represented)
        }
    };
    let related: Vec<usize> = related
        .into_iter()
        .filter(|&p| p < w.persons.len())
        .collect();
    let subject = index(s.subject, w.persons.len(), &related);
    let now = if s.now.source < 17 {
        instants[s.now.raw as usize % instants.len()]
    } else {
        Timestamp::from_unix_seconds(s.now.random)
    };
    let req = NaiveRequest {
        principal,
        subject,
        class: s.class,
    };
    (req, now.plus_seconds(s.now.delta))
}
