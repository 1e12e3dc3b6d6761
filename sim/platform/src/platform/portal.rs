//! The person's side of the platform (マイナポータル via PMH): card-holder sessions, the
//! principal a signed-in holder acts as, and representatives (家族・成年後見人).
//!
//! Persons and representatives have no client certificate of their own. The マイナポータル
//! relay connects with a certificate naming the role `person` and no organisation
//! (`urn:kiban:principal:v1:person:-:<terminal>`), takes a nonce from
//! `POST /v1/identity/nonce`, has the holder's card sign it and opens a session with
//! `POST /v1/portal/session`. The platform checks the card like an office verification
//! (J-LIS CA, nonce, J-LIS says valid now) and binds the session to the holder's opaque card
//! link. J-LIS down or wrong fails closed with `jlis-unavailable` and opens nothing.
//!
//! Towards a given person a holder acts as that **person** when the card link is the
//! person's own, and otherwise as a **representative** when some municipality registered the
//! holder as one; the core then decides (`not-own-record`, `not-representative`). A holder who
//! is neither an insured person nor a representative gets no session (`holder-unknown`).
//!
//! Representatives are registered by the insurer (the municipality checks the family
//! relation or the guardianship registration at its counter and names the agent's card link)
//! and ended by the insurer or by the person. The person naming an agent through the portal
//! with both cards present is not modelled yet.

use kiban_certs::ClientIdentity;
use kiban_core::decide::{DenyReason, Principal};
use kiban_core::id::{InsuredNumber, InsurerNumber};
use kiban_core::time::{Date, Timestamp};
use kiban_core::view::{PersonId, Representation};
use kiban_core::vocab::Role;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::PoisonError;
use utoipa::ToSchema;

use super::{Caller, Platform, check_card_link, token_key};
use crate::error::ApiError;
use crate::identity::{JlisStatus, VerificationMethod};
use crate::model::{AccessLogEntry, PersonKey};
use crate::store::{Change, audit_kind};
use crate::world::World;

/// A card holder signed in through the マイナポータル relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalSession {
    /// The relay terminal (from its certificate) the session was opened on.
    pub terminal: String,
    /// The holder's opaque card link (from J-LIS; never a My Number).
    pub link: String,
    /// When the session ends.
    pub expires_at: Timestamp,
}

/// `POST /v1/portal/session`: the opened session and whom the holder may act for.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PortalSignIn {
    /// Bearer token for the relay's following requests.
    pub token: String,
    /// When the session ends (RFC 3339, JST).
    pub expires_at: String,
    /// The holder's own insured record, if the holder is insured.
    pub person: Option<PersonKey>,
    /// Persons the holder represents now, ordered by insurer and insured number.
    pub represents: Vec<PersonKey>,
}

/// `PUT …/representatives/{agent}` by the insurer.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepresentativeInput {
    /// `family` or `guardian` (成年後見人); recorded in the audit log.
    pub kind: RepresentativeKind,
    /// First day the agent may act (default: today).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_from: Option<Date>,
    /// Last day the agent may act (default: open-ended).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_until: Option<Date>,
}

/// Who the representative is to the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RepresentativeKind {
    /// A family member the person asked to act for them.
    Family,
    /// A court-appointed guardian (成年後見人等).
    Guardian,
}

/// One representative of a person.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RepresentativeEntry {
    /// The agent's opaque card link.
    pub agent: String,
    /// From (RFC 3339, JST).
    pub from: String,
    /// Until, exclusive (RFC 3339, JST); absent when open-ended.
    pub until: Option<String>,
    /// Whether the agent may act now.
    pub active: bool,
}

impl Platform {
    /// Opens a portal session for the card holder J-LIS confirmed (after
    /// [`Platform::check_card`] on the relay's assertion).
    pub fn open_portal_session(
        &self,
        caller: &Caller,
        method: VerificationMethod,
        jlis: &JlisStatus,
    ) -> Result<PortalSignIn, ApiError> {
        Self::require_role(caller, &[Role::Person])?;
        let now = self.now();
        let world = self.read_world();
        let holder = jlis.valid_link().and_then(|link| {
            let own = world.card_links.get(link).copied();
            let represents = represented_by(&world, link, now);
            if own.is_none() && represents.is_empty() && !world.agents.contains_key(link) {
                return Err(ApiError::forbidden(
                    "holder-unknown",
                    "the card holder is neither an insured person on the platform nor a registered representative",
                ));
            }
            Ok((link.to_owned(), own, represents))
        });
        let outcome = holder.as_ref().map_or_else(|e| e.code, |_| "success");
        let entry = json!({"action": "portal-login", "by": caller.actor(), "method": method, "outcome": outcome,
            "person": holder.as_ref().ok().and_then(|(_, own, _)| own.map(|p| p.0))});
        drop(world);
        self.audit_only(audit_kind::LOGIN, entry)?;
        let (link, own, represents) = holder?;
        let person = {
            let world = self.read_world();
            own.and_then(|p| key_of(&world, p))
        };
        let token = self.new_token()?;
        let expires_at = now.plus_seconds(self.config.session_seconds);
        let session = PortalSession {
            terminal: caller.identity.principal.terminal().as_str().to_owned(),
            link,
            expires_at,
        };
        self.portal_sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(token_key(&token), session);
        Ok(PortalSignIn {
            token,
            expires_at: expires_at.to_string(),
            person,
            represents,
        })
    }

    /// Resolves a bearer token on the relay's connection into its portal session.
    pub fn portal_session(
        &self,
        identity: &ClientIdentity,
        token: &str,
    ) -> Result<PortalSession, ApiError> {
        let session = self
            .portal_sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&token_key(token))
            .cloned();
        match session {
            Some(s)
                if s.terminal == identity.principal.terminal().as_str()
                    && s.expires_at > self.now() =>
            {
                Ok(s)
            }
            _ => Err(ApiError::unauthenticated(
                "invalid-session",
                "the session token is unknown or has ended",
            )),
        }
    }

    /// Ends the caller's portal session.
    pub fn close_portal_session(&self, caller: &Caller, token: &str) -> Result<(), ApiError> {
        Self::require_role(caller, &[Role::Person])?;
        let removed = self
            .portal_sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&token_key(token));
        match removed {
            Some(_) => Ok(()),
            None => Err(ApiError::unauthenticated(
                "invalid-session",
                "the session token is unknown or has ended",
            )),
        }
    }

    /// The core principal a caller acts as towards `subject`. Relay callers act as the
    /// signed-in holder: the person for their own record, else a representative if they are
    /// registered as one anywhere (the core checks for whom and when).
    pub(super) fn principal_towards(
        &self,
        world: &mut World,
        caller: &Caller,
        subject: PersonId,
    ) -> Result<Principal, ApiError> {
        if caller.role() != Role::Person {
            return self.principal(world, caller);
        }
        let session = Self::require_holder(caller)?;
        let own = world.card_links.get(&session.link).copied();
        if own == Some(subject) {
            return Ok(Principal::Person { person: subject });
        }
        if let Some(&agent) = world.agents.get(&session.link) {
            return Ok(Principal::Representative { agent });
        }
        match own {
            Some(person) => Ok(Principal::Person { person }),
            None => Err(ApiError::denied(DenyReason::UnknownPrincipal)),
        }
    }

    fn require_holder(caller: &Caller) -> Result<&PortalSession, ApiError> {
        caller.holder.as_ref().ok_or_else(|| {
            ApiError::unauthenticated(
                "portal-session-required",
                "sign the card holder in first (POST /v1/portal/session)",
            )
        })
    }

    /// Registers (or changes) `agent` as the person's representative (insurer only).
    pub fn set_representative(
        &self,
        caller: &Caller,
        insurer: InsurerNumber,
        insured: InsuredNumber,
        agent: &str,
        input: RepresentativeInput,
    ) -> Result<RepresentativeEntry, ApiError> {
        Self::require_role(caller, &[Role::Municipality])?;
        validate_link(agent)?;
        let now = self.now();
        let from = input.valid_from.map_or(now, Date::midnight_jst);
        let until = input
            .valid_until
            .map_or(Timestamp::MAX, |d| d.plus_days(1).midnight_jst());
        if until <= from {
            return Err(ApiError::bad_request(
                "invalid-body",
                "valid_until is before valid_from",
            ));
        }
        let mut world = self.write_world();
        let (_, person) = self.related(&mut world, caller, insurer, insured, now)?;
        if world.card_links.get(agent) == Some(&person) {
            return Err(ApiError::bad_request(
                "invalid-body",
                "a person cannot be their own representative",
            ));
        }
        let representation = Representation { from, until };
        let entry = json!({"action": "representative-set", "by": caller.actor(), "person": person.0, "agent": agent, "kind": input.kind, "from": from.to_string(), "until": (until != Timestamp::MAX).then(|| until.to_string())});
        let change = Change::Representation {
            agent: agent.to_owned(),
            person: person.0,
            representation,
        };
        self.write(&mut world, vec![change], audit_kind::WRITE, entry)?;
        Ok(entry_of(agent, representation, now))
    }

    /// Ends a representation now (the insurer, or the person themselves).
    pub fn end_representative(
        &self,
        caller: &Caller,
        insurer: InsurerNumber,
        insured: InsuredNumber,
        agent: &str,
    ) -> Result<RepresentativeEntry, ApiError> {
        Self::require_role(caller, &[Role::Municipality, Role::Person])?;
        let now = self.now();
        let mut world = self.write_world();
        let (principal, person) = self.related(&mut world, caller, insurer, insured, now)?;
        if matches!(principal, Principal::Representative { .. }) {
            return Err(ApiError::forbidden(
                "role-forbidden",
                "a representative cannot end a representation; the person or the insurer can",
            ));
        }
        let current = world
            .agents
            .get(agent)
            .and_then(|&a| world.view.representation_of(a, person))
            .ok_or_else(|| {
                ApiError::not_found(
                    "unknown-representative",
                    "this agent does not represent the person",
                )
            })?;
        let representation = Representation {
            from: current.from,
            until: current.until.min(now).max(current.from),
        };
        let entry = json!({"action": "representative-ended", "by": caller.actor(), "person": person.0, "agent": agent});
        let change = Change::Representation {
            agent: agent.to_owned(),
            person: person.0,
            representation,
        };
        self.write(&mut world, vec![change], audit_kind::WRITE, entry)?;
        Ok(entry_of(agent, representation, now))
    }

    /// A person's representatives, ordered by agent (insurer, person or representative).
    pub fn representatives(
        &self,
        caller: &Caller,
        insurer: InsurerNumber,
        insured: InsuredNumber,
    ) -> Result<Vec<RepresentativeEntry>, ApiError> {
        Self::require_role(caller, &[Role::Municipality, Role::Person])?;
        let now = self.now();
        let mut world = self.write_world();
        let (_, person) = self.related(&mut world, caller, insurer, insured, now)?;
        let mut out: Vec<RepresentativeEntry> = world
            .agents
            .iter()
            .filter_map(|(link, &agent)| {
                let r = world.view.representation_of(agent, person)?;
                Some(entry_of(link, r, now))
            })
            .collect();
        out.sort_by(|a, b| a.agent.cmp(&b.agent));
        Ok(out)
    }
}

/// What a person sees of one access-log entry: when, what, which organisation and role,
/// and the outcome; never the staff id, terminal or certificate serial.
pub(super) fn for_person(entry: AccessLogEntry) -> AccessLogEntry {
    let e = &entry.entry;
    let mut out = serde_json::Map::new();
    for key in [
        "action", "class", "decision", "outcome", "occasion", "kind", "method",
    ] {
        if let Some(v) = e.get(key) {
            out.insert(key.to_owned(), v.clone());
        }
    }
    if let Some(by) = e.get("by") {
        out.insert(
            "by".to_owned(),
            json!({"role": by.get("role"), "org": by.get("org")}),
        );
    }
    AccessLogEntry {
        at: entry.at,
        kind: entry.kind,
        entry: serde_json::Value::Object(out),
    }
}

/// Persons the holder with `link` represents at `now`, ordered.
fn represented_by(world: &World, link: &str, now: Timestamp) -> Vec<PersonKey> {
    let Some(&agent) = world.agents.get(link) else {
        return Vec::new();
    };
    let mut keys: Vec<PersonKey> = world
        .persons
        .iter()
        .filter(|&(_, &person)| {
            world
                .view
                .representation_of(agent, person)
                .is_some_and(|r| r.from <= now && now < r.until)
        })
        .map(|(&(insurer, insured), _)| PersonKey { insurer, insured })
        .collect();
    keys.sort_by(|a, b| (a.insurer, &a.insured).cmp(&(b.insurer, &b.insured)));
    keys
}

fn key_of(world: &World, person: PersonId) -> Option<PersonKey> {
    world
        .persons
        .iter()
        .find(|&(_, &p)| p == person)
        .map(|(&(insurer, insured), _)| PersonKey { insurer, insured })
}

fn entry_of(agent: &str, r: Representation, now: Timestamp) -> RepresentativeEntry {
    RepresentativeEntry {
        agent: agent.to_owned(),
        from: r.from.to_string(),
        until: (r.until != Timestamp::MAX).then(|| r.until.to_string()),
        active: r.from <= now && now < r.until,
    }
}

/// The agent in a path is a card link, checked like one given at ingestion.
fn validate_link(link: &str) -> Result<(), ApiError> {
    check_card_link(link).map_err(|(code, problem)| {
        let code = if code == "invalid-item" {
            "invalid-card-link"
        } else {
            code
        };
        ApiError::bad_request(code, format!("the agent's card link {problem}"))
    })
}
