//! The named world of small scenarios: offices and people named in `[[world.office]]` and
//! `[[world.person]]`, changed by action steps and asked about by decide steps. It has its
//! own view (with the go-live dates of the run's rollout) and no generated life: only the
//! steps happen to it, in date order and, on one date, in file order.

use std::collections::BTreeMap;

use kiban_core::decide::{Decision, DenyReason, Principal, Request, decide, may_register};
use kiban_core::geo::Municipality;
use kiban_core::id::MunicipalityCode;
use kiban_core::rules::Rules;
use kiban_core::time::{Date, Timestamp};
use kiban_core::view::{
    Consent, Credential, CredentialId, Holder, MunicipalityId, OfficeId, PersonId, Registration,
    Stay, View,
};

use crate::scenario::{Action, Expected, Reader, Scenario, StepKind};

/// The outcome of one step in the named world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StepOutcome {
    /// Step number.
    pub number: usize,
    /// What was expected (for decisions) or done (for actions).
    pub expected: String,
    /// What happened.
    pub actual: String,
    /// Whether it is as expected (actions: whether they could be applied).
    pub passed: bool,
}

/// Why an action step was not applied in the named world.
#[derive(Debug)]
enum NotApplied {
    /// The core refused it, as the platform would (`refused: <code>`, as in wire mode).
    Refused(DenyReason),
    /// It does not fit the world (no such registration, no consent to withdraw, …).
    Invalid(String),
}

/// The named world of one variant.
#[derive(Debug)]
pub(crate) struct NamedWorld {
    view: View,
    offices: Vec<(OfficeId, CredentialId)>,
    people: Vec<PersonId>,
    /// Steps of this variant in (date, number) order, with the position of the next one.
    steps: Vec<(Date, usize)>,
    next: usize,
}

impl NamedWorld {
    /// Builds the named world of `scenario` for `variant` under `rules`, with go-live dates
    /// from `live_from` (world order).
    pub(crate) fn build(
        scenario: &Scenario,
        variant: &str,
        rules: Rules,
        world: &[&Municipality],
        live_from: &[Option<Date>],
    ) -> NamedWorld {
        let mut view = View::new(rules);
        let mut munis: BTreeMap<MunicipalityCode, MunicipalityId> = BTreeMap::new();
        let mut muni_id = |view: &mut View, code: MunicipalityCode| {
            *munis.entry(code).or_insert_with(|| {
                let live = world
                    .iter()
                    .position(|m| m.code == code)
                    .and_then(|i| live_from[i])
                    .map_or(Timestamp::MAX, Date::midnight_jst);
                view.add_municipality(code, live)
            })
        };
        let mut offices = Vec::new();
        for o in &scenario.world.offices {
            let m = muni_id(&mut view, o.municipality);
            let id = view
                .add_office(o.role, m)
                .unwrap_or_else(|e| unreachable!("validated office role: {e}"));
            let credential = view
                .add_credential(Credential {
                    holder: Holder::Office(id),
                    not_before: Timestamp::MIN,
                    not_after: Timestamp::MAX,
                    revoked_at: Timestamp::MAX,
                })
                .unwrap_or_else(|e| unreachable!("the office was just added: {e}"));
            offices.push((id, credential));
        }
        let mut people = Vec::new();
        for p in &scenario.world.people {
            let m = muni_id(&mut view, p.insurer);
            let id = view
                .add_person(m)
                .unwrap_or_else(|e| unreachable!("the municipality was just added: {e}"));
            people.push(id);
        }
        let mut steps: Vec<(Date, usize)> = scenario
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.variant == variant)
            .filter_map(|(i, s)| match s.kind {
                StepKind::Decide { date, .. } | StepKind::Action { date, .. } => Some((date, i)),
                StepKind::Metric { .. } => None,
            })
            .collect();
        steps.sort();
        NamedWorld {
            view,
            offices,
            people,
            steps,
            next: 0,
        }
    }

    /// Runs the steps dated on or before `until`.
    pub(crate) fn advance(&mut self, scenario: &Scenario, until: Date) -> Vec<StepOutcome> {
        let mut out = Vec::new();
        while let Some(&(date, i)) = self.steps.get(self.next) {
            if date > until {
                break;
            }
            self.next += 1;
            let step = &scenario.steps[i];
            let now = date.midnight_jst();
            let outcome = match &step.kind {
                StepKind::Decide {
                    reader,
                    person,
                    class,
                    expect,
                    ..
                } => {
                    let Reader::Office { office } = reader else {
                        // Portal reads are wire-only; the loader refuses them in model mode.
                        out.push(StepOutcome {
                            number: step.number,
                            expected: expect.code().to_owned(),
                            actual: "not run: portal reads are wire-only".to_owned(),
                            passed: false,
                        });
                        continue;
                    };
                    let (office, credential) = self.offices[*office];
                    let request = Request {
                        principal: Principal::Office { office, credential },
                        subject: self.people[*person],
                        class: *class,
                    };
                    let decision = decide(&self.view, &request, now);
                    let passed = match (expect, decision) {
                        (Expected::Permit, Decision::Permit) => true,
                        (Expected::Deny(r), Decision::Deny(d)) => *r == d,
                        _ => false,
                    };
                    StepOutcome {
                        number: step.number,
                        expected: expect.code().to_owned(),
                        actual: decision.code().to_owned(),
                        passed,
                    }
                }
                StepKind::Action { action, .. } => {
                    let result = self.act(action, now);
                    StepOutcome {
                        number: step.number,
                        expected: "applied".to_owned(),
                        actual: match &result {
                            Ok(()) => "applied".to_owned(),
                            Err(NotApplied::Refused(reason)) => {
                                format!("refused: {}", reason.code())
                            }
                            Err(NotApplied::Invalid(why)) => format!("not applied: {why}"),
                        },
                        passed: result.is_ok(),
                    }
                }
                StepKind::Metric { .. } => continue,
            };
            out.push(outcome);
        }
        out
    }

    fn act(&mut self, action: &Action, now: Timestamp) -> Result<(), NotApplied> {
        let v = &mut self.view;
        let e = |e: kiban_core::view::ViewError| NotApplied::Invalid(e.to_string());
        if action.is_wire_only() {
            // The loader refuses wire-only actions in model mode.
            return Err(NotApplied::Invalid("wire-only action".to_owned()));
        }
        match *action {
            Action::Register { office, person } => {
                let (office, credential) = self.offices[office];
                let subject = self.people[person];
                may_register(v, Principal::Office { office, credential }, subject, now)
                    .map_err(NotApplied::Refused)?;
                v.register(subject, office, Registration::at(now))
                    .map_err(e)
            }
            Action::RegisterWithoutCard { office, person } => v
                .register(
                    self.people[person],
                    self.offices[office].0,
                    Registration::at(now),
                )
                .map_err(e),
            Action::EndRegistration { office, person } => {
                let reg = v
                    .registration_mut(self.people[person], self.offices[office].0)
                    .map_err(e)?;
                reg.ended_at = reg.ended_at.min(now);
                Ok(())
            }
            Action::ServiceRecord { office, person } => {
                let reg = v
                    .registration_mut(self.people[person], self.offices[office].0)
                    .map_err(e)?;
                reg.last_service_at = now;
                reg.last_claim_at = now;
                Ok(())
            }
            Action::Consent { person } => v
                .set_consent(self.people[person], Consent::given(now))
                .map_err(e),
            Action::OfficeConsent { office, person } => {
                let reg = v
                    .registration_mut(self.people[person], self.offices[office].0)
                    .map_err(e)?;
                reg.consent = Consent::given(now);
                Ok(())
            }
            Action::WithdrawConsent { person } => {
                let id = self.people[person];
                let consent = v.person(id).map_err(e)?.consent;
                if consent.given_at > now || consent.withdrawn_at <= now {
                    return Err(NotApplied::Invalid(
                        "no consent in force to withdraw".to_owned(),
                    ));
                }
                v.set_consent(id, consent.withdrawn(now)).map_err(e)
            }
            Action::StayStart { person, kind } => v
                .set_stay(
                    self.people[person],
                    Some(Stay {
                        kind,
                        from: now,
                        until: Timestamp::MAX,
                    }),
                )
                .map_err(e),
            Action::StayEnd { person } => {
                let id = self.people[person];
                match v.person(id).map_err(e)?.stay {
                    Some(stay) if stay.until == Timestamp::MAX => {
                        v.set_stay(id, Some(Stay { until: now, ..stay })).map_err(e)
                    }
                    _ => Err(NotApplied::Invalid("no open stay to end".to_owned())),
                }
            }
            Action::StaffLeaves { .. }
            | Action::RetireTerminal { .. }
            | Action::RenewTerminal { .. }
            | Action::RegisterRepresentative { .. }
            | Action::EndRepresentative { .. } => {
                Err(NotApplied::Invalid("wire-only action".to_owned()))
            }
        }
    }
}
