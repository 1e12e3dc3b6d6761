//! The platform on its durable store: what was acknowledged is there after a restart (the
//! decision view is rebuilt from the database), the audit log verifies, SQLite's integrity
//! check passes, and the person's access log is served from the hash-chained audit table.

use std::sync::Arc;

use kiban_certs::{ClientIdentity, ManualClock, Organisation, Principal, Serial, TerminalId};
use kiban_core::time::{Date, Timestamp};
use kiban_core::vocab::{InfoClass, Role};
use kiban_platform::model::{ConsentInput, FallbackRegistration, IngestBatch, OfficeInput};
use kiban_platform::platform::{Caller, KdfCost, Platform, PlatformConfig, RevokedSerials};
use kiban_platform::store::{ConsentOccasion, SqliteStore, Store};

fn at(date: &str) -> Timestamp {
    date.parse::<Date>().unwrap().midnight_jst()
}

fn caller(role: Role, org: &str, serial: u8) -> Caller {
    let organisation = if role == Role::Operator {
        Organisation::None
    } else {
        Organisation::parse_for(role, org).unwrap()
    };
    let principal = Principal::new(role, organisation, TerminalId::parse("t1").unwrap()).unwrap();
    let identity = ClientIdentity {
        principal,
        serial: Serial::from_be_bytes(&[serial]).unwrap(),
        not_before: at("2026-01-01"),
        not_after: at("2030-01-01"),
    };
    Caller {
        identity,
        staff: None,
        holder: None,
    }
}

fn open(dir: &std::path::Path, clock: Arc<ManualClock>) -> (Platform, Arc<SqliteStore>) {
    let store = Arc::new(SqliteStore::open(dir).unwrap());
    let config = PlatformConfig {
        kdf: KdfCost::TestOnly,
        ..PlatformConfig::standard()
    };
    let platform = Platform::open(
        store.clone(),
        clock,
        Arc::new(RevokedSerials::default()),
        config,
    )
    .unwrap();
    (platform, store)
}

const INSURER: &str = "141002";

#[test]
fn acknowledged_writes_survive_a_restart_and_the_audit_log_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(at("2026-10-01")));
    let operator = caller(Role::Operator, "-", 1);
    let city = caller(Role::Municipality, "141003", 2);
    {
        let (platform, _) = open(dir.path(), clock.clone());
        platform
            .set_municipality(
                &operator,
                "141003".parse().unwrap(),
                Some("2026-11-01".parse().unwrap()),
            )
            .unwrap();
        let office = OfficeInput {
            role: Role::CareManagement,
            municipality: "141003".parse().unwrap(),
            admin_password: "correct horse".into(),
        };
        platform
            .set_office(&operator, "1470100015", office)
            .unwrap();
        let mut items = Vec::new();
        for n in 1..=150 {
            items.push(serde_json::json!({"kind": "insured-person", "insured": format!("{n:010}"),
                "insurance_card": {"care_level": "care-1", "certification_valid_from": "2026-09-01", "certification_valid_until": "2027-08-31",
                "copay": {"ratio": "20-percent", "valid_from": "2026-08-01", "valid_until": "2027-07-31"}}}));
        }
        let body = serde_json::to_vec(&serde_json::json!({"items": items})).unwrap();
        let batch: IngestBatch = serde_json::from_slice(&body).unwrap();
        platform.ingest(&city, "first", &body, batch).unwrap();
        clock.set(at("2026-11-02"));
        let insured = "0000000007".parse().unwrap();
        platform
            .register_by_municipality(
                &city,
                INSURER.parse().unwrap(),
                insured,
                "1470100015",
                FallbackRegistration {
                    verified_by: "counter-photo-id".into(),
                },
            )
            .unwrap();
        platform
            .record_consent(
                &city,
                INSURER.parse().unwrap(),
                insured,
                ConsentInput {
                    occasion: ConsentOccasion::Renewal,
                    certification_end: None,
                },
            )
            .unwrap();
        for _ in 0..70 {
            // Enough audited commits to pass a checkpoint.
            let _ = platform
                .read(
                    &city,
                    INSURER.parse().unwrap(),
                    insured,
                    InfoClass::InsuranceCard,
                )
                .unwrap();
        }
    }
    let (platform, store) = open(dir.path(), clock.clone());
    assert_eq!(platform.counts().persons, 150);
    assert_eq!(platform.counts().registrations, 1);
    let receipts = platform
        .consent_receipts(
            &city,
            INSURER.parse().unwrap(),
            "0000000007".parse().unwrap(),
        )
        .unwrap();
    assert_eq!(receipts.len(), 1);
    let log = platform
        .access_log(
            &city,
            INSURER.parse().unwrap(),
            "0000000007".parse().unwrap(),
        )
        .unwrap();
    assert!(
        log.iter().filter(|e| e.kind == "decision").count() >= 70,
        "{}",
        log.len()
    );
    assert_eq!(store.integrity_check().unwrap(), ["ok"]);
    store.checkpoint(clock.now_secs()).unwrap();
    let report = kiban_platform::audit::verify_data_dir(dir.path()).unwrap();
    assert!(report.is_ok(), "{report}");
    assert!(report.rows_checked > 70);
    let records = store.records(7 - 1, InfoClass::InsuranceCard).unwrap();
    assert_eq!(records.len(), 1);
}

trait NowSecs {
    fn now_secs(&self) -> Timestamp;
}

impl NowSecs for ManualClock {
    fn now_secs(&self) -> Timestamp {
        kiban_certs::Clock::now(self)
    }
}

/// Group commit of read audits: concurrent reads share transactions, yet every read's
/// decision row is in the log, in one unbroken chain, and no read answers before its row
/// is durable (each `read` returns only after the store reports the row committed).
#[test]
fn concurrent_reads_share_audit_commits_and_every_decision_is_logged() {
    const THREADS: usize = 32;
    const READS: usize = 8;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(at("2026-10-01")));
    let operator = caller(Role::Operator, "-", 1);
    let city = caller(Role::Municipality, "141003", 2);
    let (platform, store) = open(dir.path(), clock.clone());
    platform
        .set_municipality(
            &operator,
            "141003".parse().unwrap(),
            Some("2026-11-01".parse().unwrap()),
        )
        .unwrap();
    let items: Vec<_> = (1..=THREADS)
        .map(|n| serde_json::json!({"kind": "insured-person", "insured": format!("{n:010}"),
            "insurance_card": {"care_level": "care-1", "certification_valid_from": "2026-09-01", "certification_valid_until": "2027-08-31",
            "copay": {"ratio": "20-percent", "valid_from": "2026-08-01", "valid_until": "2027-07-31"}}}))
        .collect();
    let body = serde_json::to_vec(&serde_json::json!({"items": items})).unwrap();
    let batch: IngestBatch = serde_json::from_slice(&body).unwrap();
    platform.ingest(&city, "first", &body, batch).unwrap();
    clock.set(at("2026-11-02"));

    let before = store.commits();
    let start = std::sync::Barrier::new(THREADS);
    std::thread::scope(|s| {
        for n in 1..=THREADS {
            let (platform, city, start) = (&platform, &city, &start);
            s.spawn(move || {
                start.wait();
                for _ in 0..READS {
                    let records = platform
                        .read(
                            city,
                            INSURER.parse().unwrap(),
                            format!("{n:010}").parse().unwrap(),
                            InfoClass::InsuranceCard,
                        )
                        .unwrap();
                    assert_eq!(records.records.len(), 1);
                }
            });
        }
    });
    let reads = (THREADS * READS) as u64;
    let commits = store.commits() - before;
    assert!(
        commits < reads,
        "{reads} reads took {commits} audit commits: no group commit"
    );
    for n in 1..=THREADS {
        let person = u32::try_from(n - 1).unwrap();
        let decisions = store
            .audit_for_person(person)
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == "decision")
            .count();
        assert_eq!(decisions, READS, "person {n}");
    }
    store.checkpoint(clock.now_secs()).unwrap();
    let report = kiban_platform::audit::verify_data_dir(dir.path()).unwrap();
    assert!(report.is_ok(), "{report}");
}
