//! Rego, evaluated in-process by `regorus`, with the policy in `kiban.rego` beside this file.
//!
//! **Data** (loaded once with `Engine::add_data`): the published access matrix as
//! `data.kiban.matrix[role][class]`, generated from the same `AccessMatrix` `decide` reads,
//! and the view's consent model and cross-municipality rule as two booleans.
//!
//! **Input** (one per request, the same slice Cedar gets): `now` in Unix seconds, the
//! `class`, the `principal` (kind, key, role, and for an office its municipality), the
//! presented `credential` (holder key and validity), the `subject` (key, insurer, consent,
//! and keyed by the principal's key the asking office's registration or the asking agent's
//! representation) and the go-live of each municipality involved. Lapse and expiry instants
//! are computed while the input is built, as for Cedar. Unknown ids are simply absent, which
//! leaves the rules undefined and `allow` at its default `false`.
//!
//! One `Engine` holds the parsed policy and data and is reused for every answer
//! (`set_input`, then `eval_rule("data.kiban.allow")`), which is regorus's own fastest
//! documented configuration (a cloned engine per thread; the bench runs one thread).

use std::collections::BTreeMap;

use kiban_core::decide::{Principal, consent_expiry, lapse_instant};
use kiban_core::rules::{ConsentModel, Policy, Rules};
use kiban_core::time::Timestamp;
use kiban_core::view::{Consent, Holder, MunicipalityId};
use kiban_core::vocab::{InfoClass, Role};
use regorus::Value;

use super::{Engine, EngineError};
use crate::corpus::{Corpus, Entry, World};

/// The Rego policy.
pub const POLICY: &str = include_str!("kiban.rego");

/// The rule every answer evaluates.
const ALLOW: &str = "data.kiban.allow";

/// A regorus engine loaded with a policy and the rules as data.
#[derive(Clone)]
pub struct RegoModel {
    engine: regorus::Engine,
    policy: Policy,
}

impl std::fmt::Debug for RegoModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegoModel")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

fn object<'k>(pairs: impl IntoIterator<Item = (&'k str, Value)>) -> Value {
    Value::from(
        pairs
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect::<BTreeMap<Value, Value>>(),
    )
}

fn seconds(t: Timestamp) -> Value {
    Value::from(t.unix_seconds())
}

fn policy_error(e: impl std::fmt::Display) -> EngineError {
    EngineError::Policy {
        engine: "regorus",
        message: e.to_string(),
    }
}

fn municipality_key(m: MunicipalityId) -> String {
    format!("m{}", m.0)
}

impl RegoModel {
    /// The model for `rules` with [`POLICY`].
    pub fn new(rules: &Rules) -> Result<RegoModel, EngineError> {
        RegoModel::with_policy_text(rules, POLICY)
    }

    /// The model for `rules` with other policy text.
    pub fn with_policy_text(rules: &Rules, text: &str) -> Result<RegoModel, EngineError> {
        let mut engine = regorus::Engine::new();
        engine
            .add_policy("kiban.rego".to_string(), text.to_string())
            .map_err(policy_error)?;
        let matrix = object(Role::ALL.iter().map(|&role| {
            let row = object(InfoClass::ALL.iter().map(|&class| {
                (
                    class.as_str(),
                    Value::from(rules.matrix.access(role, class).as_str()),
                )
            }));
            (role.as_str(), row)
        }));
        let kiban = object([
            ("matrix", matrix),
            (
                "per_office_consent",
                Value::from(rules.policy.consent.model == ConsentModel::PerOffice),
            ),
            (
                "cross_municipality_rule",
                Value::from(rules.policy.rollout.cross_municipality_rule),
            ),
        ]);
        engine
            .add_data(object([("kiban", kiban)]))
            .map_err(policy_error)?;
        Ok(RegoModel {
            engine,
            policy: rules.policy,
        })
    }

    fn consent(&self, consent: &Consent) -> Value {
        object([
            ("given", seconds(consent.given_at)),
            ("withdrawn", seconds(consent.withdrawn_at)),
            (
                "expires",
                seconds(consent_expiry(self.policy.consent.expiry, consent)),
            ),
        ])
    }

    /// The `input` document of `entry`, built from the world's rows.
    pub fn input(&self, world: &World, entry: &Entry) -> Result<Value, EngineError> {
        let view = world.view();
        let mut municipalities: Vec<MunicipalityId> = Vec::with_capacity(3);
        let mut fields: Vec<(&str, Value)> = vec![
            ("now", seconds(entry.now)),
            ("class", Value::from(entry.request.class.as_str())),
        ];
        let mut credential = None;
        let principal = match entry.request.principal {
            Principal::Office {
                office,
                credential: c,
            } => {
                credential = Some(c);
                view.office(office).ok().map(|row| {
                    municipalities.push(row.municipality);
                    object([
                        ("kind", Value::from("office")),
                        ("key", Value::from(format!("o{}", office.0))),
                        ("role", Value::from(row.role.as_str())),
                        (
                            "municipality",
                            Value::from(municipality_key(row.municipality)),
                        ),
                    ])
                })
            }
            Principal::Municipality {
                municipality,
                credential: c,
            } => {
                credential = Some(c);
                view.municipality(municipality).ok().map(|_| {
                    object([
                        ("kind", Value::from("municipality")),
                        ("key", Value::from(municipality_key(municipality))),
                        ("role", Value::from(Role::Municipality.as_str())),
                    ])
                })
            }
            Principal::Operator { credential: c } => {
                credential = Some(c);
                Some(object([
                    ("kind", Value::from("operator")),
                    ("key", Value::from("operator")),
                    ("role", Value::from(Role::Operator.as_str())),
                ]))
            }
            Principal::Person { person } => view.person(person).ok().map(|_| {
                object([
                    ("kind", Value::from("person")),
                    ("key", Value::from(format!("p{}", person.0))),
                    ("role", Value::from(Role::Person.as_str())),
                ])
            }),
            Principal::Representative { agent } => (agent.0 < world.agents()).then(|| {
                object([
                    ("kind", Value::from("agent")),
                    ("key", Value::from(format!("a{}", agent.0))),
                    ("role", Value::from(Role::Representative.as_str())),
                ])
            }),
        };
        if let Some(p) = principal {
            fields.push(("principal", p));
        }
        if let Some(row) = credential.and_then(|c| world.credential(c)) {
            let holder = match row.holder {
                Holder::Office(o) => format!("o{}", o.0),
                Holder::Municipality(m) => municipality_key(m),
                Holder::Operator => "operator".to_string(),
            };
            fields.push((
                "credential",
                object([
                    ("holder", Value::from(holder)),
                    ("not_before", seconds(row.not_before)),
                    ("not_after", seconds(row.not_after)),
                    ("revoked_at", seconds(row.revoked_at)),
                ]),
            ));
        }
        let subject = entry.request.subject;
        if let Ok(person) = view.person(subject) {
            municipalities.push(person.insurer);
            let mut registrations = Vec::with_capacity(1);
            let mut representations = Vec::with_capacity(1);
            match entry.request.principal {
                Principal::Office { office, .. } => {
                    if let Some(reg) = view.registration_of(subject, office) {
                        let record = object([
                            ("registered", seconds(reg.registered_at)),
                            ("ended", seconds(reg.ended_at)),
                            (
                                "lapses",
                                seconds(lapse_instant(self.policy.lapse, reg, person)),
                            ),
                            ("consent", self.consent(&reg.consent)),
                        ]);
                        registrations.push((Value::from(format!("o{}", office.0)), record));
                    }
                }
                Principal::Representative { agent } => {
                    if let Some(rep) = view.representation_of(agent, subject) {
                        let record =
                            object([("from", seconds(rep.from)), ("until", seconds(rep.until))]);
                        representations.push((Value::from(format!("a{}", agent.0)), record));
                    }
                }
                _ => {}
            }
            fields.push((
                "subject",
                object([
                    ("key", Value::from(format!("p{}", subject.0))),
                    ("insurer", Value::from(municipality_key(person.insurer))),
                    ("consent", self.consent(&person.consent)),
                    (
                        "registrations",
                        Value::from(registrations.into_iter().collect::<BTreeMap<_, _>>()),
                    ),
                    (
                        "representations",
                        Value::from(representations.into_iter().collect::<BTreeMap<_, _>>()),
                    ),
                ]),
            ));
        }
        let mut live = BTreeMap::new();
        for m in municipalities {
            let row = view.municipality(m).map_err(|e| EngineError::Input {
                engine: "regorus",
                message: e.to_string(),
            })?;
            live.insert(Value::from(municipality_key(m)), seconds(row.live_from));
        }
        fields.push(("municipalities", Value::from(live)));
        Ok(object(fields))
    }

    /// Whether the policy allows `input`.
    #[inline]
    pub fn allows(&mut self, input: Value) -> Result<bool, EngineError> {
        self.engine.set_input(input);
        let answer =
            self.engine
                .eval_rule(ALLOW.to_string())
                .map_err(|e| EngineError::Evaluation {
                    engine: "regorus",
                    message: e.to_string(),
                })?;
        match answer {
            Value::Bool(b) => Ok(b),
            other => Err(EngineError::Evaluation {
                engine: "regorus",
                message: format!("{ALLOW} is {other}, not a boolean"),
            }),
        }
    }
}

/// Rego with every entry's `input` built once, before timing; an answer is `set_input` of a
/// (reference-counted) copy and one `eval_rule`.
#[derive(Debug)]
pub struct RegoEngineOnly {
    model: RegoModel,
    prepared: Vec<Value>,
}

impl RegoEngineOnly {
    /// Builds every entry's input.
    pub fn new(
        model: RegoModel,
        world: &World,
        corpus: &Corpus,
    ) -> Result<RegoEngineOnly, EngineError> {
        let prepared = corpus
            .entries
            .iter()
            .map(|e| model.input(world, e))
            .collect::<Result<_, _>>()?;
        Ok(RegoEngineOnly { model, prepared })
    }
}

impl Engine for RegoEngineOnly {
    fn name(&self) -> &'static str {
        "regorus-engine-only"
    }

    #[inline]
    fn permits(&mut self, index: usize) -> Result<bool, EngineError> {
        let input = self.prepared.get(index).ok_or(EngineError::NoEntry {
            engine: "regorus-engine-only",
            index,
        })?;
        self.model.allows(input.clone())
    }
}

/// Rego as a service pays for it: every answer builds the input from the world's rows, then
/// evaluates.
#[derive(Debug)]
pub struct RegoPerRequest<'a> {
    model: RegoModel,
    world: &'a World,
    corpus: &'a Corpus,
}

impl<'a> RegoPerRequest<'a> {
    /// The engine for `corpus` on `world`.
    pub fn new(model: RegoModel, world: &'a World, corpus: &'a Corpus) -> RegoPerRequest<'a> {
        RegoPerRequest {
            model,
            world,
            corpus,
        }
    }
}

impl Engine for RegoPerRequest<'_> {
    fn name(&self) -> &'static str {
        "regorus-per-request"
    }

    #[inline]
    fn permits(&mut self, index: usize) -> Result<bool, EngineError> {
        let entry = self.corpus.entries.get(index).ok_or(EngineError::NoEntry {
            engine: "regorus-per-request",
            index,
        })?;
        let input = self.model.input(self.world, entry)?;
        self.model.allows(input)
    }
}
