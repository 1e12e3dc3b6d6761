//! Proves `kiban_core::decide::decide` against an independent, deliberately naive oracle
//! written from the rules text (the numbered list in `decide`'s module documentation, the
//! policy variants' doc sentences and the published `access-matrix.toml`), not from the
//! implementation: random small worlds held as plain vectors ([`world`], [`generate`]) are
//! built into a `View` through its public methods, and for every (world, request, now)
//! triple the decision must equal the oracle's ([`naive`]). A coverage guard makes sure the
//! generator reaches every denial reason and a permit; explicit boundary tests ([`boundary`])
//! pin `now == t` and `now == t − 1 s` for every go-live, validity, lapse and expiry instant.
//!
//! `now` is always a finite instant in the property: `Timestamp::MIN`/`MAX` appear only as
//! the sentinels the view documents (never, not, open, unknown, none), which the oracle
//! reads as such.
//!
//! `KIBAN_ORACLE_CASES`: the number of (world, request, now) triples the property compares
//! (default 131 072, i.e. 1 024 worlds × 128 requests; rounded up to whole worlds), e.g.
//! `KIBAN_ORACLE_CASES=2000000 cargo test -p kiban-core --release --test oracle`.

#[path = "oracle/boundary.rs"]
mod boundary;
#[path = "oracle/generate.rs"]
mod generate;
#[path = "oracle/naive.rs"]
mod naive;
#[path = "oracle/world.rs"]
mod world;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use kiban_core::decide::{Decision, DenyReason, decide};
use kiban_core::rules::{ConsentExpiry, LapsePolicy};
use kiban_core::time::Timestamp;

use naive::oracle;
use world::{NaiveRequest, NaiveWorld, build, relevant_rows};

/// Requests compared per generated world.
const REQUESTS_PER_WORLD: usize = 128;

/// Triples compared when `KIBAN_ORACLE_CASES` is not set.
const DEFAULT_TRIPLES: u64 = 131_072;

/// Worlds to generate: the requested number of triples in whole worlds.
#[allow(
    clippy::disallowed_methods,
    reason = "the test harness, not the library, reads its own case count from the environment"
)]
fn worlds() -> u32 {
    let triples = match std::env::var("KIBAN_ORACLE_CASES") {
        Ok(text) => text.trim().parse::<u64>().unwrap_or_else(|_| {
            panic!("KIBAN_ORACLE_CASES must be a number of triples, got {text:?}")
        }),
        Err(_) => DEFAULT_TRIPLES,
    };
    u32::try_from(triples.div_ceil(REQUESTS_PER_WORLD as u64).max(1))
        .expect("fewer than 2^32 worlds")
}

fn as_result(decision: Decision) -> Result<(), DenyReason> {
    match decision {
        Decision::Permit => Ok(()),
        Decision::Deny(reason) => Err(reason),
    }
}

fn show(answer: Result<(), DenyReason>) -> &'static str {
    match answer {
        Ok(()) => "permit",
        Err(reason) => reason.code(),
    }
}

/// The failure message: the request, `now`, both answers and the rows they depend on.
fn mismatch(
    w: &NaiveWorld,
    req: &NaiveRequest,
    now: Timestamp,
    decided: Result<(), DenyReason>,
    expected: Result<(), DenyReason>,
) -> String {
    format!(
        "decide and the oracle disagree\n  request = {req:?}\n  now = {now} ({} s)\n  decide = {}\n  oracle = {}\nrelevant rows:\n{}",
        now.unix_seconds(),
        show(decided),
        show(expected),
        relevant_rows(w, req)
    )
}

fn cases() -> impl Strategy<Value = (NaiveWorld, Vec<generate::RequestSeed>)> {
    (
        generate::world(),
        vec(generate::request_seed(), REQUESTS_PER_WORLD),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: worlds(), ..ProptestConfig::default() })]

    #[test]
    fn decide_agrees_with_the_naive_oracle((world, seeds) in cases()) {
        let built = build(&world);
        let instants = generate::world_instants(&world);
        for seed in &seeds {
            let (req, now) = generate::resolve(&world, seed, &instants);
            let decided = as_result(decide(&built.view, &built.request(&req), now));
            let expected = oracle(&world, &req, now);
            prop_assert!(decided == expected, "{}", mismatch(&world, &req, now, decided, expected));
        }
    }
}

/// Worlds the coverage guard samples.
const COVERAGE_WORLDS: usize = 256;

/// Each outcome must occur at least this often in the guard's sample.
const COVERAGE_MINIMUM: usize = 50;

/// The policy-dependent denials must each occur at least this often under every policy
/// variant that can produce them.
const POLICY_COVERAGE_MINIMUM: usize = 10;

#[test]
fn the_generator_reaches_every_denial_and_a_permit() {
    let rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let strategy = cases();
    // Index 0: permit; index 1 + i: DenyReason::ALL[i].
    let mut counts = [0usize; DenyReason::ALL.len() + 1];
    // Lapsed under after-inactivity, under tied-to-claims; consent expired with the
    // certification period, after months.
    let mut by_policy = [0usize; 4];
    for _ in 0..COVERAGE_WORLDS {
        let (world, seeds) = strategy.new_tree(&mut runner).expect("a world").current();
        let built = build(&world);
        let instants = generate::world_instants(&world);
        for seed in &seeds {
            let (req, now) = generate::resolve(&world, seed, &instants);
            let decision = decide(&built.view, &built.request(&req), now);
            let policy = world.rules.policy;
            match (decision, policy.lapse, policy.consent.expiry) {
                (
                    Decision::Deny(DenyReason::RegistrationLapsed),
                    LapsePolicy::AfterInactivity { .. },
                    _,
                ) => {
                    by_policy[0] += 1;
                }
                (
                    Decision::Deny(DenyReason::RegistrationLapsed),
                    LapsePolicy::TiedToClaims { .. },
                    _,
                ) => {
                    by_policy[1] += 1;
                }
                (
                    Decision::Deny(DenyReason::ConsentExpired),
                    _,
                    ConsentExpiry::WithCertificationPeriod,
                ) => {
                    by_policy[2] += 1;
                }
                (Decision::Deny(DenyReason::ConsentExpired), _, ConsentExpiry::AfterMonths(_)) => {
                    by_policy[3] += 1;
                }
                _ => {}
            }
            let slot = match decision {
                Decision::Permit => 0,
                Decision::Deny(reason) => {
                    1 + DenyReason::ALL
                        .iter()
                        .position(|r| *r == reason)
                        .expect("listed in ALL")
                }
            };
            counts[slot] += 1;
        }
    }
    let table: Vec<String> = std::iter::once("permit")
        .chain(DenyReason::ALL.iter().map(|r| r.code()))
        .zip(counts)
        .map(|(code, n)| format!("{code}: {n}"))
        .collect();
    assert!(
        counts.iter().all(|&n| n >= COVERAGE_MINIMUM),
        "an outcome occurred fewer than {COVERAGE_MINIMUM} times in {} requests:\n{}",
        COVERAGE_WORLDS * REQUESTS_PER_WORLD,
        table.join("\n")
    );
    assert!(
        by_policy.iter().all(|&n| n >= POLICY_COVERAGE_MINIMUM),
        "lapsed (after inactivity, tied to claims) / consent expired (with certification \
         period, after months): {by_policy:?}, each should be at least {POLICY_COVERAGE_MINIMUM}"
    );
}
