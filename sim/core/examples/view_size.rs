//! Builds a national-size decision view and reports its memory and a rough decision rate.
//! A sizing aid, not a benchmark (the criterion benches are the reference):
//!
//! ```sh
//! cargo run --release -p kiban-core --example view_size -- 7000000 20000000
//! ```
//!
//! Prints the row sizes, the peak resident memory (VmHWM) after building, and the wall time
//! of one pass of decisions over random requests.
// A measuring program outside the library: it may read the wall clock and print.
#![allow(
    clippy::print_stdout,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

use kiban_core::decide::{Principal, Request, decide};
use kiban_core::id::MunicipalityCode;
use kiban_core::rules::Rules;
use kiban_core::time::{Date, Timestamp};
use kiban_core::view::{Consent, Credential, Holder, OfficeId, PersonId, Registration, View};
use kiban_core::vocab::{InfoClass, Role};
use rand::{RngExt, SeedableRng};

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<usize>().expect("a count"));
    let n_persons = args.next().unwrap_or(1_000_000);
    let n_registrations = args.next().unwrap_or(n_persons * 3);
    let n_offices = (n_persons / 50).max(1);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let t0 = "2026-04-01".parse::<Date>().unwrap().midnight_jst();
    let now = "2027-06-01".parse::<Date>().unwrap().midnight_jst();

    let started = std::time::Instant::now();
    let mut view = View::new(Rules::published());
    view.reserve(n_persons, n_registrations);
    let code = MunicipalityCode::parse("141003").unwrap();
    let munis: Vec<_> = (0..1741).map(|_| view.add_municipality(code, t0)).collect();
    let mut offices = Vec::with_capacity(n_offices);
    let mut creds = Vec::with_capacity(n_offices);
    for i in 0..n_offices {
        let office = view
            .add_office(Role::CareManagement, munis[i % munis.len()])
            .unwrap();
        let holder = Holder::Office(office);
        let cred = Credential {
            holder,
            not_before: t0,
            not_after: Timestamp::MAX,
            revoked_at: Timestamp::MAX,
        };
        offices.push(office);
        creds.push(view.add_credential(cred).unwrap());
    }
    for i in 0..n_persons {
        let person = view.add_person(munis[i % munis.len()]).unwrap();
        view.set_consent(person, Consent::given(t0)).unwrap();
    }
    let mut registered = Vec::with_capacity(n_registrations);
    while registered.len() < n_registrations {
        let person = PersonId(rng.random_range(0..n_persons as u32));
        let office_idx = rng.random_range(0..n_offices);
        view.register(person, offices[office_idx], Registration::at(t0))
            .unwrap();
        registered.push((person, office_idx));
    }
    let built = started.elapsed();

    let n_requests = 10_000_000;
    let mut requests = Vec::with_capacity(n_requests);
    for i in 0..n_requests {
        let (person, office_idx) = if i % 2 == 0 {
            registered[rng.random_range(0..registered.len())]
        } else {
            (
                PersonId(rng.random_range(0..n_persons as u32)),
                rng.random_range(0..n_offices),
            )
        };
        let office: OfficeId = offices[office_idx];
        let principal = Principal::Office {
            office,
            credential: creds[office_idx],
        };
        requests.push(Request {
            principal,
            subject: person,
            class: InfoClass::CertificationSurvey,
        });
    }
    let started = std::time::Instant::now();
    let permits = requests
        .iter()
        .filter(|r| decide(&view, r, now).is_permit())
        .count();
    let decided = started.elapsed();

    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .unwrap_or("VmHWM: unknown");
    println!(
        "persons {n_persons}, registrations (incl. duplicates replaced) {}",
        view.counts().registrations
    );
    println!(
        "row sizes: person {} B, registration {} B",
        size_of::<kiban_core::view::Person>(),
        size_of::<Registration>()
    );
    println!(
        "build {:.2?}; peak memory {}",
        built,
        peak.trim_start_matches("VmHWM:").trim()
    );
    println!(
        "{n_requests} decisions in {:.2?} ({:.0} ns each, random access, one thread); {permits} permits",
        decided,
        decided.as_nanos() as f64 / n_requests as f64
    );
}
