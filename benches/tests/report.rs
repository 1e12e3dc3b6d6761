//! The report generator writes what criterion measured and nothing else: medians and
//! intervals read from `estimates.json`, ratios formed from them, targets judged from them,
//! versions read from a lock file; with no results it refuses instead of writing an empty
//! report.

use std::path::Path;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kiban_benches::http::Percentiles;
use kiban_benches::report::{
    Inputs, Machine, Measurement, ReportError, collect, format_ns, locked_versions, render,
};
use kiban_benches::results::{LatencyRecord, NationalRecord, RunRecord};

fn result(root: &Path, group: &str, function: &str, persons: u64, median: f64) {
    let dir = root
        .join(group.replace('/', "_"))
        .join(function)
        .join(persons.to_string())
        .join("new");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let bench = serde_json::json!({
        "group_id": group,
        "function_id": function,
        "value_str": persons.to_string(),
        "throughput": null,
        "full_id": format!("{group}/{function}/{persons}"),
        "directory_name": "x",
        "title": "x"
    });
    let interval = |p: f64| {
        serde_json::json!({
            "confidence_interval": {"confidence_level": 0.95, "lower_bound": p * 0.9, "upper_bound": p * 1.1},
            "point_estimate": p,
            "standard_error": 1.0
        })
    };
    let estimates = serde_json::json!({
        "mean": interval(median * 1.05),
        "median": interval(median),
        "median_abs_dev": interval(1.0),
        "slope": null,
        "std_dev": interval(1.0)
    });
    std::fs::write(dir.join("benchmark.json"), bench.to_string()).expect("write");
    std::fs::write(dir.join("estimates.json"), estimates.to_string()).expect("write");
}

fn machine() -> Machine {
    Machine {
        cpu: "Test CPU".into(),
        cpus: 2,
        memory: "24.0 GiB".into(),
        rustc: "rustc 1.95.0".into(),
        versions: vec![("cedar-policy".into(), "4.14.1".into())],
    }
}

fn inputs(measurements: Vec<Measurement>) -> Inputs {
    Inputs {
        measurements,
        latency: Vec::new(),
        national: Vec::new(),
        run: None,
        machine: machine(),
    }
}

#[test]
fn the_report_shows_the_measured_medians_and_their_ratio() {
    let dir = tempfile::tempdir().expect("tempdir");
    result(dir.path(), "decision/corpus", "kiban", 10_000, 25.0);
    result(
        dir.path(),
        "decision/corpus",
        "cedar-engine-only",
        10_000,
        7_500.0,
    );
    result(dir.path(), "decision/random", "kiban", 10_000, 40.0);
    result(
        dir.path(),
        "decision/policy",
        "kiban-per-office-consent",
        100_000,
        30.0,
    );
    result(
        dir.path(),
        "decision/policy",
        "cedar-engine-only-per-office-consent",
        100_000,
        600.0,
    );
    result(dir.path(), "other/group", "kiban", 10_000, 1.0);
    let ms = collect(dir.path()).expect("collects");
    assert_eq!(
        ms.len(),
        5,
        "only decision/*, http/*, sim/* results: {ms:?}"
    );
    let text = render(&inputs(ms));
    assert!(text.contains("25.0 ns (22.5 ns–27.5 ns)"), "{text}");
    assert!(text.contains("7.50 µs"), "{text}");
    assert!(text.contains("[300.0×]"), "{text}");
    // 300× meets the 50× target; the 7·10⁶ median was not measured and says so.
    assert!(
        text.contains(
            "| decision ≥ 50× faster than Cedar engine-only, same run (10,000 persons) | 300.0× | yes |"
        ),
        "{text}"
    );
    assert!(
        text.contains("not measured (run with `KIBAN_BENCH_FULL=1`)"),
        "{text}"
    );
    assert!(
        text.contains("| per-office-consent | 100,000 | 30.0 ns | 600.0 ns | 20.0× |"),
        "{text}"
    );
    assert!(text.contains("| cedar-policy | 4.14.1 |"), "{text}");
    assert!(text.contains("Test CPU (2 logical)"), "{text}");
}

#[test]
fn a_missed_target_is_reported_as_missed() {
    let dir = tempfile::tempdir().expect("tempdir");
    result(dir.path(), "decision/corpus", "kiban", 7_000_000, 180.0);
    result(
        dir.path(),
        "decision/corpus",
        "cedar-engine-only",
        7_000_000,
        5_400.0,
    );
    let text = render(&inputs(collect(dir.path()).expect("collects")));
    assert!(
        text.contains("| decision median ≤ 100 ns at 7·10⁶ persons (corpus) | 180.0 ns | **no** |"),
        "{text}"
    );
    assert!(text.contains("| 30.0× | **no** |"), "{text}");
}

#[test]
fn no_results_is_an_error_not_an_empty_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(matches!(
        collect(dir.path()),
        Err(ReportError::NoResults(_))
    ));
    assert!(matches!(
        collect(&dir.path().join("missing")),
        Err(ReportError::Io { .. })
    ));
}

#[test]
fn versions_come_from_the_lock_file() {
    let lock = "[[package]]\nname = \"cedar-policy\"\nversion = \"4.14.1\"\nsource = \"x\"\n\n\
                [[package]]\nname = \"regorus\"\nversion = \"0.14.1\"\n\n\
                [[package]]\nname = \"serde\"\nversion = \"1.0.0\"\n";
    assert_eq!(
        locked_versions(lock, &["regorus", "cedar-policy"]),
        vec![
            ("cedar-policy".to_string(), "4.14.1".to_string()),
            ("regorus".to_string(), "0.14.1".to_string())
        ]
    );
}

#[test]
fn durations_read_in_their_unit() {
    assert_eq!(format_ns(18.81), "18.8 ns");
    assert_eq!(format_ns(32_846.0), "32.85 µs");
    assert_eq!(format_ns(2_500_000.0), "2.50 ms");
}

/// A fixed instant, so the snapshot does not depend on when the test runs.
fn at(minute: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_000_000 + minute * 60)
}

fn m(group: &str, function: &str, parameter: u64, median: f64) -> Measurement {
    Measurement {
        group: group.into(),
        function: function.into(),
        parameter: Some(parameter),
        median_ns: median,
        median_low_ns: median * 0.95,
        median_high_ns: median * 1.05,
        measured: at(1),
    }
}

fn latency(arm: &str, mode: &str, p50: u64, p99: u64) -> LatencyRecord {
    LatencyRecord {
        arm: arm.into(),
        mode: mode.into(),
        percentiles: Percentiles {
            n: 2_000,
            p50_ns: p50,
            p99_ns: p99,
            max_ns: p99 * 3,
        },
        measured_unix: 1_795_000_100,
    }
}

fn national(scale: f64, persons: u64, secs: f64, kib: u64) -> NationalRecord {
    NationalRecord {
        scale,
        persons,
        relationships: persons / 2,
        events: persons * 40,
        decisions: persons * 30,
        threads: 2,
        run_ns: (secs * 1e9) as u64,
        peak_rss_kib: kib,
        passed: true,
        measured_unix: 1_795_000_200,
    }
}

/// Fixture results of every bench: the whole report, pinned. The endpoint over SQLite misses
/// the throughput target and the national model misses its time target, so both notes show.
#[test]
fn the_full_report_from_fixture_results() {
    let mut ms = vec![
        m("decision/corpus", "kiban", 10_000, 25.0),
        m("decision/corpus", "cedar-engine-only", 10_000, 7_500.0),
        m("decision/corpus", "cedar-per-request", 10_000, 32_000.0),
        m("decision/corpus", "regorus-engine-only", 10_000, 9_000.0),
        m("decision/corpus", "regorus-per-request", 10_000, 40_000.0),
        m("decision/random", "kiban", 10_000, 60.0),
        m("decision/policy", "kiban-per-office-consent", 100_000, 30.0),
        m(
            "decision/policy",
            "cedar-engine-only-per-office-consent",
            100_000,
            600.0,
        ),
        m("http/keep-alive", "floor", 1, 80_000.0),
        m("http/keep-alive", "endpoint-memory", 1, 120_000.0),
        m("http/keep-alive", "endpoint-sqlite", 1, 2_500_000.0),
        m("http/keep-alive", "floor", 4, 40_000.0),
        m("http/keep-alive", "endpoint-memory", 4, 44_000.0),
        m("http/keep-alive", "endpoint-sqlite", 4, 900_000.0),
        m("http/handshake", "floor", 1, 1_900_000.0),
        m("http/handshake", "endpoint-memory", 1, 1_950_000.0),
        m("http/handshake", "endpoint-sqlite", 1, 4_400_000.0),
        m("sim/queue", "hold", 10_000, 9.0),
        m("sim/queue", "hold", 1_000_000, 35.0),
    ];
    // One arm from an older run: its ratio must say so.
    ms[16].measured = at(24 * 60);
    let inputs = Inputs {
        measurements: ms,
        latency: vec![
            latency("floor", "keep-alive", 70_000, 140_000),
            latency("endpoint-memory", "keep-alive", 95_000, 210_000),
            latency("endpoint-sqlite", "keep-alive", 2_300_000, 9_800_000),
            latency("floor", "handshake", 1_800_000, 2_600_000),
            latency("endpoint-memory", "handshake", 1_850_000, 2_700_000),
            latency("endpoint-sqlite", "handshake", 4_200_000, 12_000_000),
        ],
        national: vec![
            national(1.0, 7_000_000, 72.5, 3_100_000),
            national(0.01, 70_000, 0.6, 90_000),
            national(0.1, 700_000, 6.1, 400_000),
        ],
        run: Some(RunRecord {
            quick: false,
            load_at_start: [0.31, 0.52, 0.90],
            load_at_end: [1.95, 1.70, 1.20],
            started_unix: 1_795_000_000,
            wall_s: 612.0,
            commands: vec![
                "CRITERION_HOME=target/criterion KIBAN_PERF_DIR=target/kiban-perf cargo bench -p kiban-benches --bench decision --bench http --bench sim".into(),
            ],
        }),
        machine: machine(),
    };
    insta::assert_snapshot!(render(&inputs));
}

#[test]
fn a_quick_report_says_it_is_one_and_missing_parts_are_missing() {
    let inputs = Inputs {
        measurements: vec![m("decision/corpus", "kiban", 10_000, 25.0)],
        latency: Vec::new(),
        national: Vec::new(),
        run: Some(RunRecord {
            quick: true,
            load_at_start: [0.1, 0.1, 0.1],
            load_at_end: [0.2, 0.1, 0.1],
            started_unix: 1_795_000_000,
            wall_s: 40.0,
            commands: Vec::new(),
        }),
        machine: machine(),
    };
    let text = render(&inputs);
    assert!(text.contains("**Quick run**"), "{text}");
    assert!(
        text.contains("the mTLS floor | not measured"),
        "no HTTP results must read as not measured: {text}"
    );
    assert!(
        text.contains(
            "| national model (scale 1.0) ≤ 60 s, ≤ 4 GiB | not measured at scale 1.0 | – |"
        ),
        "{text}"
    );
    assert!(!text.contains("## Read endpoint"), "{text}");
    assert!(!text.contains("Targets not met"), "{text}");
}

#[test]
fn http_and_sim_results_are_collected_with_their_parameter() {
    let dir = tempfile::tempdir().expect("tempdir");
    result(dir.path(), "http/keep-alive", "floor", 4, 40_000.0);
    result(dir.path(), "sim/queue", "hold", 1_000_000, 35.0);
    let ms = collect(dir.path()).expect("collects");
    assert_eq!(ms.len(), 2);
    assert_eq!(ms[0].group, "http/keep-alive");
    assert_eq!(ms[0].parameter, Some(4));
    assert_eq!(ms[1].parameter, Some(1_000_000));
}
