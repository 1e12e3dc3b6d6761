//! The equivalence gate passes on the real engines (kiban, Cedar and Rego, engine-only and
//! per request) for small corpora under every policy variant, and fails, naming the first
//! disagreeing entry, when one engine's decision is changed: a wrapper that flips one
//! answer, a Cedar policy with one condition removed, a Rego policy with one condition
//! removed.

use kiban_benches::corpus::{Case, Corpus, Spec, World, build, policy_variants};
use kiban_benches::engines::cedar::policy_text;
use kiban_benches::engines::rego::POLICY;
use kiban_benches::engines::{
    CedarEngineOnly, CedarModel, CedarPerRequest, Engine, EngineError, Kiban, RegoEngineOnly,
    RegoModel, RegoPerRequest,
};
use kiban_benches::gate::{GateError, check};
use kiban_core::decide::{Decision, DenyReason};

/// Persons in the test worlds: small enough for a debug build.
const PERSONS: usize = 10_000;

fn world(spec: Spec) -> (World, Corpus) {
    build(&spec).expect("the corpus builds")
}

/// Answers like `inner` except at one index, where it says the opposite.
struct FlipOne<E> {
    inner: E,
    at: usize,
}

impl<E: Engine> Engine for FlipOne<E> {
    fn name(&self) -> &'static str {
        "flipped"
    }

    fn permits(&mut self, index: usize) -> Result<bool, EngineError> {
        let answer = self.inner.permits(index)?;
        Ok(if index == self.at { !answer } else { answer })
    }
}

fn all_engines_pass(spec: Spec) {
    let (world, corpus) = world(spec);
    let rules = world.view().rules().clone();
    let mut kiban = Kiban::new(&world, &corpus);
    let mut cedar = CedarEngineOnly::new(
        CedarModel::new(&rules).expect("the generated policy parses"),
        &world,
        &corpus,
    )
    .expect("slices build");
    let mut cedar_each =
        CedarPerRequest::new(CedarModel::new(&rules).expect("parses"), &world, &corpus);
    let mut rego = RegoEngineOnly::new(RegoModel::new(&rules).expect("parses"), &world, &corpus)
        .expect("inputs build");
    let mut rego_each =
        RegoPerRequest::new(RegoModel::new(&rules).expect("parses"), &world, &corpus);
    let passed = check(
        &corpus,
        &mut [
            &mut kiban,
            &mut cedar,
            &mut cedar_each,
            &mut rego,
            &mut rego_each,
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(passed.entries, corpus.entries.len());
    assert_eq!(passed.engines.len(), 5);
    assert!(passed.permits > 0 && passed.permits < passed.entries);
}

#[test]
fn the_real_engines_agree_on_the_2025_corpus() {
    all_engines_pass(Spec::new(PERSONS));
}

#[test]
fn the_real_engines_agree_under_every_policy_variant() {
    for (_, policy) in policy_variants().into_iter().skip(1) {
        all_engines_pass(Spec::new(PERSONS).with_policy(policy).with_requests(512));
    }
}

#[test]
fn one_flipped_answer_fails_the_gate_at_that_entry() {
    let (world, corpus) = world(Spec::new(PERSONS).with_requests(256));
    let at = 137;
    let mut kiban = Kiban::new(&world, &corpus);
    let mut flipped = FlipOne {
        inner: Kiban::new(&world, &corpus),
        at,
    };
    let err = check(&corpus, &mut [&mut kiban, &mut flipped]).expect_err("the flip is caught");
    let GateError::Mismatch(m) = err else {
        panic!("expected a mismatch, got {err}")
    };
    assert_eq!(m.index, at);
    let expected = corpus.entries[at].expected.is_permit();
    assert_eq!(m.answers, vec![("kiban", expected), ("flipped", !expected)]);
    assert!(m.to_string().contains(m.case.name()));
}

/// The first entry of `case` in the corpus.
fn first(corpus: &Corpus, case: Case) -> usize {
    corpus
        .entries
        .iter()
        .position(|e| e.case == case)
        .expect("the corpus has every case")
}

#[test]
fn a_cedar_policy_without_the_withdrawal_check_fails_the_gate() {
    let (world, corpus) = world(Spec::new(PERSONS).with_requests(512));
    let rules = world.view().rules().clone();
    let text = policy_text(&rules);
    let altered = text.replace("&& context.now < resource.consent.withdrawn", "");
    assert_ne!(altered, text, "the condition is in the generated text");
    let mut kiban = Kiban::new(&world, &corpus);
    let mut cedar = CedarEngineOnly::new(
        CedarModel::with_policy_text(&rules, &altered).expect("still parses"),
        &world,
        &corpus,
    )
    .expect("slices build");
    let err = check(&corpus, &mut [&mut kiban, &mut cedar]).expect_err("caught");
    let GateError::Mismatch(m) = err else {
        panic!("expected a mismatch, got {err}")
    };
    assert_eq!(m.expected, Decision::Deny(DenyReason::ConsentWithdrawn));
    assert_eq!(m.index, first(&corpus, Case::AtWithdrawal));
    assert_eq!(
        m.answers,
        vec![("kiban", false), ("cedar-engine-only", true)]
    );
}

#[test]
fn a_rego_policy_without_the_go_live_check_fails_the_gate() {
    let (world, corpus) = world(Spec::new(PERSONS).with_requests(512));
    let rules = world.view().rules().clone();
    let altered = POLICY.replace(
        "live(m) if input.municipalities[m] <= input.now",
        "live(m) if input.municipalities[m]",
    );
    assert_ne!(altered, POLICY);
    let mut kiban = Kiban::new(&world, &corpus);
    let mut rego = RegoEngineOnly::new(
        RegoModel::with_policy_text(&rules, &altered).expect("still parses"),
        &world,
        &corpus,
    )
    .expect("inputs build");
    let err = check(&corpus, &mut [&mut kiban, &mut rego]).expect_err("caught");
    let GateError::Mismatch(m) = err else {
        panic!("expected a mismatch, got {err}")
    };
    let late = [
        DenyReason::InsurerNotLive,
        DenyReason::OfficeMunicipalityNotLive,
    ];
    assert!(
        matches!(m.expected, Decision::Deny(r) if late.contains(&r)),
        "{m}"
    );
    assert_eq!(
        m.answers,
        vec![("kiban", false), ("regorus-engine-only", true)]
    );
}

#[test]
fn a_policy_that_does_not_parse_is_an_error_not_a_deny() {
    let rules = kiban_core::rules::Rules::published();
    let err = CedarModel::with_policy_text(&rules, "permit (principal, action, resource) when {")
        .expect_err("broken Cedar");
    assert!(
        matches!(
            err,
            EngineError::Policy {
                engine: "cedar",
                ..
            }
        ),
        "{err}"
    );
    let err =
        RegoModel::with_policy_text(&rules, "package kiban\nallow if {").expect_err("broken Rego");
    assert!(
        matches!(
            err,
            EngineError::Policy {
                engine: "regorus",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn an_empty_gate_is_an_error() {
    let (_, corpus) = world(Spec::new(PERSONS).with_requests(16));
    assert!(matches!(check(&corpus, &mut []), Err(GateError::Empty(_))));
}
