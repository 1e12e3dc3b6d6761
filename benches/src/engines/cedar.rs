//! Cedar (`cedar-policy`), with a policy set generated from the same rules `decide` reads:
//! the published access matrix and the view's policy ([`policy_text`]).
//!
//! **Model.** The principal is an `Office` (its parent is `Role::"<role>"`, its attributes its
//! `key` and the `Municipality` it is located in), a `Municipality`, the `Operator`, a
//! `Person` or an `Agent`; the action is `Action::"<class>"`; the resource is the subject
//! `Person` with its `insurer` and comprehensive `consent`, and, as entity tags keyed by the
//! principal's key, the asking office's registration or the asking agent's representation.
//! `Municipality` carries `liveFrom`; the presented `Credential` (named in the context)
//! carries its `holder` and validity. Time is a `Long` of Unix seconds: `context.now`.
//!
//! **Derived instants.** Cedar has no calendar-month arithmetic, so the lapse instant of a
//! registration and the expiry of a consent under the view's policy are computed when the
//! entities are built, with kiban-core's public `lapse_instant` and `consent_expiry`, and
//! the policy compares them with `now`. In the engine-only arm that work is done before
//! timing; in the per-request arm it is timed.
//!
//! **Slices.** The entities of one request are the rows it touches: the principal, its
//! certificate, the subject with the one registration or representation of this principal,
//! and the municipalities involved (Cedar's recommended entity slicing; a store of every
//! person is not built). Unknown ids simply have no entity; any attribute read on them is an
//! evaluation error, which Cedar treats as "this permit does not apply", so they are denied
//! as `decide` denies them. Every policy is a `permit`: no `forbid` can be skipped by an
//! error.
//!
//! Cedar answers allow or deny without kiban's reason codes, so the gate compares permit and
//! deny only.

use std::fmt::Write as _;
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityId, EntityTypeName, EntityUid,
    PolicySet, Request, RestrictedExpression,
};
use kiban_core::decide::{Principal, consent_expiry, lapse_instant};
use kiban_core::rules::{Access, ConsentModel, Policy, Rules};
use kiban_core::time::Timestamp;
use kiban_core::view::{Consent, Holder, MunicipalityId};
use kiban_core::vocab::{InfoClass, Role};

use super::{Engine, EngineError};
use crate::corpus::{Corpus, Entry, World};

const CREDENTIAL_VALID: &str = "context.credential.holder == principal \
     && context.now < context.credential.revokedAt \
     && context.credential.notBefore <= context.now \
     && context.now < context.credential.notAfter";
const INSURER_LIVE: &str = "resource.insurer.liveFrom <= context.now";
const OFFICE_MUNICIPALITY_LIVE: &str = "principal.municipality.liveFrom <= context.now";
const REGISTERED: &str = "resource.hasTag(principal.key) \
     && resource.getTag(principal.key).registeredAt <= context.now \
     && context.now < resource.getTag(principal.key).endedAt \
     && context.now < resource.getTag(principal.key).lapsesAt";
const REPRESENTS: &str = "resource.hasTag(principal.key) \
     && resource.getTag(principal.key).from <= context.now \
     && context.now < resource.getTag(principal.key).until";

/// The Cedar policy set equivalent to `decide` under `rules`: one `permit` per kind of
/// principal (office, municipality, operator, person, agent) with the credential, rollout
/// and relation conditions once, and the matrix as a disjunction over the kind's roles of
/// "the classes it reads without consent, or the classes it reads with consent and the
/// consent is current". Four or five policies rather than one per role and access level:
/// Cedar 4.14 rebuilds (clones) every policy's condition expression on every
/// `is_authorized` call (`TemplateBody::condition`), so repeating the shared conditions in
/// each role's policy would make it several times slower; this is the faster of the two
/// shapes, and the one measured.
pub fn policy_text(rules: &Rules) -> String {
    let policy = &rules.policy;
    let mut out = String::from(
        "// Generated from kiban's access matrix and policy; see kiban-benches engines/cedar.rs.\n",
    );
    let offices: Vec<Role> = Role::ALL
        .iter()
        .copied()
        .filter(|r| r.is_office())
        .collect();
    let mut office_conditions = vec![CREDENTIAL_VALID, INSURER_LIVE];
    if policy.rollout.cross_municipality_rule {
        office_conditions.push(OFFICE_MUNICIPALITY_LIVE);
    }
    office_conditions.push(REGISTERED);
    let kinds: [(&str, Vec<Role>, Vec<&str>); 5] = [
        ("Office", offices, office_conditions),
        (
            "Municipality",
            vec![Role::Municipality],
            vec![
                CREDENTIAL_VALID,
                "resource.insurer == principal",
                INSURER_LIVE,
            ],
        ),
        (
            "Operator",
            vec![Role::Operator],
            vec![CREDENTIAL_VALID, INSURER_LIVE],
        ),
        (
            "Person",
            vec![Role::Person],
            vec!["principal == resource", INSURER_LIVE],
        ),
        (
            "Agent",
            vec![Role::Representative],
            vec![REPRESENTS, INSURER_LIVE],
        ),
    ];
    for (kind, roles, conditions) in kinds {
        let free = matrix_condition(rules, &roles, false);
        let consented = matrix_condition(rules, &roles, true);
        let matrix = match (free, consented) {
            (None, None) => continue,
            (Some(f), None) => f,
            (f, Some(c)) => {
                let record = if kind == "Office" && policy.consent.model == ConsentModel::PerOffice
                {
                    "resource.getTag(principal.key).consent"
                } else {
                    "resource.consent"
                };
                let consent = format!(
                    "({c})\n        && {record}.given <= context.now \
                     && context.now < {record}.withdrawn \
                     && context.now < {record}.expires"
                );
                match f {
                    Some(f) => format!("({f})\n    || ({consent})"),
                    None => consent,
                }
            }
        };
        let _ = write!(
            out,
            "\npermit (principal is {kind}, action, resource is Person)\nwhen {{\n    {}\n    && ({matrix})\n}};\n",
            conditions.join("\n    && ")
        );
    }
    out
}

/// "The request's class is one `roles` read (with consent, or without)", or `None` when
/// there is no such class: one `action in [...]` per role, guarded by the role when the
/// kind of principal has several.
fn matrix_condition(rules: &Rules, roles: &[Role], consent: bool) -> Option<String> {
    let mut alternatives = Vec::new();
    for &role in roles {
        let classes: Vec<String> = InfoClass::ALL
            .iter()
            .filter(|&&c| match rules.matrix.access(role, c) {
                Access::None => false,
                Access::ReadWithConsent => consent,
                Access::Read | Access::Creator => !consent,
            })
            .map(|c| format!("Action::\"{c}\""))
            .collect();
        if classes.is_empty() {
            continue;
        }
        let actions = format!("action in [{}]", classes.join(", "));
        alternatives.push(if roles.len() > 1 {
            format!("principal in Role::\"{role}\" && {actions}")
        } else {
            actions
        });
    }
    match alternatives.len() {
        0 => None,
        1 => alternatives.pop(),
        _ => Some(
            alternatives
                .iter()
                .map(|a| format!("({a})"))
                .collect::<Vec<_>>()
                .join("\n        || "),
        ),
    }
}

/// The parsed policy set, the authorizer and the names a slice is built from.
#[derive(Debug)]
pub struct CedarModel {
    policies: PolicySet,
    authorizer: Authorizer,
    policy: Policy,
    types: Types,
    actions: Vec<EntityUid>,
    roles: Vec<EntityUid>,
}

#[derive(Debug)]
struct Types {
    office: EntityTypeName,
    municipality: EntityTypeName,
    operator: EntityTypeName,
    person: EntityTypeName,
    agent: EntityTypeName,
    credential: EntityTypeName,
}

fn type_name(name: &str) -> EntityTypeName {
    EntityTypeName::from_str(name).expect("a valid Cedar type name")
}

fn uid(ty: &EntityTypeName, id: impl AsRef<str>) -> EntityUid {
    EntityUid::from_type_name_and_id(ty.clone(), EntityId::new(id))
}

fn long(t: Timestamp) -> RestrictedExpression {
    RestrictedExpression::new_long(t.unix_seconds())
}

impl CedarModel {
    /// The model for `rules`, with the generated [`policy_text`].
    pub fn new(rules: &Rules) -> Result<CedarModel, EngineError> {
        CedarModel::with_policy_text(rules, &policy_text(rules))
    }

    /// The model for `rules` with other policy text (tests alter the generated text to prove
    /// the gate notices).
    pub fn with_policy_text(rules: &Rules, text: &str) -> Result<CedarModel, EngineError> {
        let policies = PolicySet::from_str(text).map_err(|e| EngineError::Policy {
            engine: "cedar",
            message: e.to_string(),
        })?;
        let action = type_name("Action");
        let role = type_name("Role");
        Ok(CedarModel {
            policies,
            authorizer: Authorizer::new(),
            policy: rules.policy,
            types: Types {
                office: type_name("Office"),
                municipality: type_name("Municipality"),
                operator: type_name("Operator"),
                person: type_name("Person"),
                agent: type_name("Agent"),
                credential: type_name("Credential"),
            },
            actions: InfoClass::ALL
                .iter()
                .map(|c| uid(&action, c.as_str()))
                .collect(),
            roles: Role::ALL.iter().map(|r| uid(&role, r.as_str())).collect(),
        })
    }

    fn municipality(&self, id: MunicipalityId) -> EntityUid {
        uid(&self.types.municipality, id.0.to_string())
    }

    fn consent_record(&self, consent: &Consent) -> Result<RestrictedExpression, EngineError> {
        let expires = consent_expiry(self.policy.consent.expiry, consent);
        RestrictedExpression::new_record([
            ("given".to_string(), long(consent.given_at)),
            ("withdrawn".to_string(), long(consent.withdrawn_at)),
            ("expires".to_string(), long(expires)),
        ])
        .map_err(input)
    }

    /// The request and entity slice of `entry`, built from the world's rows.
    pub fn slice(&self, world: &World, entry: &Entry) -> Result<(Request, Entities), EngineError> {
        let view = world.view();
        let mut entities: Vec<Entity> = Vec::with_capacity(6);
        let mut municipalities: Vec<MunicipalityId> = Vec::with_capacity(3);
        let mut context = vec![("now".to_string(), long(entry.now))];
        let mut credential = None;
        let principal = match entry.request.principal {
            Principal::Office {
                office,
                credential: c,
            } => {
                credential = Some(c);
                let id = uid(&self.types.office, office.0.to_string());
                if let Ok(row) = view.office(office) {
                    municipalities.push(row.municipality);
                    let attrs = [
                        (
                            "key".to_string(),
                            RestrictedExpression::new_string(format!("o{}", office.0)),
                        ),
                        (
                            "municipality".to_string(),
                            RestrictedExpression::new_entity_uid(
                                self.municipality(row.municipality),
                            ),
                        ),
                    ];
                    let parents = [self.roles[row.role.index()].clone()];
                    entities.push(
                        Entity::new_with_tags(id.clone(), attrs, parents, []).map_err(input)?,
                    );
                }
                id
            }
            Principal::Municipality {
                municipality,
                credential: c,
            } => {
                credential = Some(c);
                if view.municipality(municipality).is_ok() {
                    municipalities.push(municipality);
                }
                self.municipality(municipality)
            }
            Principal::Operator { credential: c } => {
                credential = Some(c);
                let id = uid(&self.types.operator, "operator");
                entities.push(Entity::new_no_attrs(id.clone(), Default::default()));
                id
            }
            Principal::Person { person } => uid(&self.types.person, person.0.to_string()),
            Principal::Representative { agent } => {
                let id = uid(&self.types.agent, agent.0.to_string());
                if agent.0 < world.agents() {
                    let key = RestrictedExpression::new_string(format!("a{}", agent.0));
                    entities.push(
                        Entity::new_with_tags(id.clone(), [("key".to_string(), key)], [], [])
                            .map_err(input)?,
                    );
                }
                id
            }
        };
        if let Some(c) = credential {
            let id = uid(&self.types.credential, c.0.to_string());
            if let Some(row) = world.credential(c) {
                let holder = match row.holder {
                    Holder::Office(o) => uid(&self.types.office, o.0.to_string()),
                    Holder::Municipality(m) => self.municipality(m),
                    Holder::Operator => uid(&self.types.operator, "operator"),
                };
                let attrs = [
                    (
                        "holder".to_string(),
                        RestrictedExpression::new_entity_uid(holder),
                    ),
                    ("notBefore".to_string(), long(row.not_before)),
                    ("notAfter".to_string(), long(row.not_after)),
                    ("revokedAt".to_string(), long(row.revoked_at)),
                ];
                entities.push(Entity::new_with_tags(id.clone(), attrs, [], []).map_err(input)?);
            }
            context.push((
                "credential".to_string(),
                RestrictedExpression::new_entity_uid(id),
            ));
        }
        let subject = entry.request.subject;
        let resource = uid(&self.types.person, subject.0.to_string());
        if let Ok(person) = view.person(subject) {
            municipalities.push(person.insurer);
            let attrs = [
                (
                    "insurer".to_string(),
                    RestrictedExpression::new_entity_uid(self.municipality(person.insurer)),
                ),
                ("consent".to_string(), self.consent_record(&person.consent)?),
            ];
            let mut tags = Vec::with_capacity(1);
            match entry.request.principal {
                Principal::Office { office, .. } => {
                    if let Some(reg) = view.registration_of(subject, office) {
                        let lapses = lapse_instant(self.policy.lapse, reg, person);
                        let record = RestrictedExpression::new_record([
                            ("registeredAt".to_string(), long(reg.registered_at)),
                            ("endedAt".to_string(), long(reg.ended_at)),
                            ("lapsesAt".to_string(), long(lapses)),
                            ("consent".to_string(), self.consent_record(&reg.consent)?),
                        ])
                        .map_err(input)?;
                        tags.push((format!("o{}", office.0), record));
                    }
                }
                Principal::Representative { agent } => {
                    if let Some(rep) = view.representation_of(agent, subject) {
                        let record = RestrictedExpression::new_record([
                            ("from".to_string(), long(rep.from)),
                            ("until".to_string(), long(rep.until)),
                        ])
                        .map_err(input)?;
                        tags.push((format!("a{}", agent.0), record));
                    }
                }
                _ => {}
            }
            entities.push(Entity::new_with_tags(resource.clone(), attrs, [], tags).map_err(input)?);
        }
        municipalities.sort_unstable();
        municipalities.dedup();
        for m in municipalities {
            let row = view.municipality(m).map_err(input)?;
            entities.push(
                Entity::new_with_tags(
                    self.municipality(m),
                    [("liveFrom".to_string(), long(row.live_from))],
                    [],
                    [],
                )
                .map_err(input)?,
            );
        }
        let entities = Entities::from_entities(entities, None).map_err(input)?;
        let context = Context::from_pairs(context).map_err(input)?;
        let action = self.actions[entry.request.class.index()].clone();
        let request = Request::new(principal, action, resource, context, None).map_err(input)?;
        Ok((request, entities))
    }

    /// Whether Cedar allows `request` with `entities`.
    #[inline]
    pub fn allows(&self, request: &Request, entities: &Entities) -> bool {
        self.authorizer
            .is_authorized(request, &self.policies, entities)
            .decision()
            == Decision::Allow
    }
}

fn input(e: impl std::fmt::Display) -> EngineError {
    EngineError::Input {
        engine: "cedar",
        message: e.to_string(),
    }
}

/// Cedar as its paper measures it: for every corpus entry the `Request` and the entity
/// slice are built once, before timing; an answer is one `Authorizer::is_authorized` call.
#[derive(Debug)]
pub struct CedarEngineOnly {
    model: CedarModel,
    prepared: Vec<(Request, Entities)>,
}

impl CedarEngineOnly {
    /// Builds every entry's request and slice.
    pub fn new(
        model: CedarModel,
        world: &World,
        corpus: &Corpus,
    ) -> Result<CedarEngineOnly, EngineError> {
        let prepared = corpus
            .entries
            .iter()
            .map(|e| model.slice(world, e))
            .collect::<Result<_, _>>()?;
        Ok(CedarEngineOnly { model, prepared })
    }
}

impl Engine for CedarEngineOnly {
    fn name(&self) -> &'static str {
        "cedar-engine-only"
    }

    #[inline]
    fn permits(&mut self, index: usize) -> Result<bool, EngineError> {
        let (request, entities) = self.prepared.get(index).ok_or(EngineError::NoEntry {
            engine: "cedar-engine-only",
            index,
        })?;
        Ok(self.model.allows(request, entities))
    }
}

/// Cedar as a service pays for it: every answer builds the entity slice (with the derived
/// instants), the context and the request from the world's rows, then authorizes.
#[derive(Debug)]
pub struct CedarPerRequest<'a> {
    model: CedarModel,
    world: &'a World,
    corpus: &'a Corpus,
}

impl<'a> CedarPerRequest<'a> {
    /// The engine for `corpus` on `world`.
    pub fn new(model: CedarModel, world: &'a World, corpus: &'a Corpus) -> CedarPerRequest<'a> {
        CedarPerRequest {
            model,
            world,
            corpus,
        }
    }
}

impl Engine for CedarPerRequest<'_> {
    fn name(&self) -> &'static str {
        "cedar-per-request"
    }

    #[inline]
    fn permits(&mut self, index: usize) -> Result<bool, EngineError> {
        let entry = self.corpus.entries.get(index).ok_or(EngineError::NoEntry {
            engine: "cedar-per-request",
            index,
        })?;
        let (request, entities) = self.model.slice(self.world, entry)?;
        Ok(self.model.allows(&request, &entities))
    }
}
