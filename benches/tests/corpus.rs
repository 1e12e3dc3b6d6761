//! The corpus covers what it claims: every deny reason and a permit under the 2025
//! proposal, every policy-dependent reason under its policy, boundary instants, a seed that
//! reproduces it exactly, and `decide` agreeing with every case's built-in expectation
//! (checked inside `build`, which fails otherwise).

use std::collections::BTreeMap;

use kiban_benches::corpus::{Case, NOW, Spec, build, policy_variants, random_requests};
use kiban_core::decide::{Decision, DenyReason, decide};
use kiban_core::time::{Date, Timestamp};

/// Persons in the test worlds: small enough for a debug build.
const PERSONS: usize = 10_000;

fn outcomes(spec: &Spec) -> BTreeMap<&'static str, usize> {
    let (_, corpus) = build(spec).expect("the corpus builds");
    let mut counts = BTreeMap::new();
    for e in &corpus.entries {
        *counts.entry(e.expected.code()).or_insert(0) += 1;
    }
    counts
}

#[test]
fn now_is_the_documented_instant() {
    let expected = Date::new(2028, 6, 1)
        .expect("a date")
        .midnight_jst()
        .plus_seconds(10 * 3600);
    assert_eq!(NOW, expected);
}

#[test]
fn the_2025_corpus_reaches_every_reason_but_the_policy_dependent_ones() {
    let counts = outcomes(&Spec::new(PERSONS));
    let policy_dependent = [DenyReason::RegistrationLapsed, DenyReason::ConsentExpired];
    for reason in DenyReason::ALL {
        let n = counts.get(reason.code()).copied().unwrap_or(0);
        if policy_dependent.contains(&reason) {
            assert_eq!(n, 0, "{reason} cannot happen under the 2025 proposal");
        } else {
            assert!(n >= 20, "{reason} occurs {n} times: {counts:?}");
        }
    }
    let permits = counts["permit"];
    let total: usize = counts.values().sum();
    assert_eq!(total, 4_096);
    assert!(
        (0.55..0.65).contains(&(permits as f64 / total as f64)),
        "{permits} permits of {total}"
    );
}

#[test]
fn every_policy_variant_builds_and_reaches_its_own_reasons() {
    for (name, policy) in policy_variants() {
        let spec = Spec::new(PERSONS).with_policy(policy).with_requests(1_024);
        let counts = outcomes(&spec);
        let lapsed = counts.get("registration-lapsed").copied().unwrap_or(0);
        let expired = counts.get("consent-expired").copied().unwrap_or(0);
        assert_eq!(
            lapsed > 0,
            policy.lapse != kiban_core::rules::LapsePolicy::Never,
            "{name}: {counts:?}"
        );
        assert_eq!(
            expired > 0,
            policy.consent.expiry != kiban_core::rules::ConsentExpiry::Never,
            "{name}: {counts:?}"
        );
        assert!(counts["permit"] > 0, "{name}: {counts:?}");
    }
}

#[test]
fn boundary_cases_sit_exactly_on_their_instants() {
    let (world, corpus) = build(&Spec::new(PERSONS)).expect("the corpus builds");
    let mut seen = BTreeMap::new();
    for e in &corpus.entries {
        *seen.entry(e.case).or_insert(0) += 1;
        // One second earlier flips every "at a start" permit into a denial and every "at an
        // end" denial into a permit (half-open intervals).
        let earlier = decide(world.view(), &e.request, e.now.plus_seconds(-1));
        match e.case {
            Case::AtInsurerGoLive => {
                assert_eq!(earlier, Decision::Deny(DenyReason::InsurerNotLive))
            }
            Case::AtCredentialStart => {
                assert_eq!(earlier, Decision::Deny(DenyReason::CertificateNotYetValid))
            }
            Case::AtRegistrationStart => {
                assert_eq!(earlier, Decision::Deny(DenyReason::NotRegistered))
            }
            Case::AtConsentGiven => {
                assert_eq!(earlier, Decision::Deny(DenyReason::ConsentMissing))
            }
            Case::AtRepresentationStart => {
                assert_eq!(earlier, Decision::Deny(DenyReason::NotRepresentative))
            }
            Case::AtRevocation
            | Case::AtCredentialEnd
            | Case::AtRegistrationEnd
            | Case::AtWithdrawal
            | Case::AtRepresentationEnd => assert_eq!(earlier, Decision::Permit, "{}", e.case),
            _ => {}
        }
    }
    for case in Case::ALL {
        let applies = case.applies(&kiban_core::rules::Policy::proposal_2025());
        assert_eq!(seen.contains_key(&case), applies, "{case}");
    }
}

#[test]
fn the_same_seed_builds_the_same_corpus_and_another_seed_does_not() {
    let spec = Spec::new(PERSONS).with_requests(512);
    let (_, a) = build(&spec).expect("builds");
    let (_, b) = build(&spec).expect("builds");
    assert_eq!(a.entries, b.entries);
    let (_, c) = build(&Spec { seed: 2, ..spec }).expect("builds");
    assert_ne!(a.entries, c.entries);
}

#[test]
fn too_small_a_world_is_refused() {
    let err = build(&Spec::new(1_000)).expect_err("4,096 requests need more persons");
    assert!(err.to_string().contains("too few"), "{err}");
}

#[test]
fn random_requests_hit_registrations_and_misses() {
    let (world, _) = build(&Spec::new(PERSONS)).expect("builds");
    let pool = random_requests(&world, 4_096, 7);
    assert_eq!(pool.len(), 4_096);
    let permits = pool
        .iter()
        .filter(|(r, now)| decide(world.view(), r, *now).is_permit())
        .count();
    let not_registered = pool
        .iter()
        .filter(|(r, now)| {
            decide(world.view(), r, *now) == Decision::Deny(DenyReason::NotRegistered)
        })
        .count();
    assert!(permits > 500, "{permits} permits");
    assert!(not_registered > 1_000, "{not_registered} not registered");
    assert!(
        pool.iter()
            .all(|(_, now)| *now == NOW && *now != Timestamp::MAX)
    );
}
