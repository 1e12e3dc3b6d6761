//! The report generator writes what criterion measured and nothing else: medians and
//! intervals read from `estimates.json`, ratios formed from them, targets judged from them,
//! versions read from a lock file; with no results it refuses instead of writing an empty
//! report.

use std::path::Path;

use kiban_benches::report::{Machine, ReportError, collect, format_ns, locked_versions, render};

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
    assert_eq!(ms.len(), 5, "only decision/* results: {ms:?}");
    let text = render(&ms, &machine());
    assert!(text.contains("25.0 ns (22.5 ns–27.5 ns)"), "{text}");
    assert!(text.contains("7.50 µs"), "{text}");
    assert!(text.contains("[300.0×]"), "{text}");
    // 300× meets the 50× target; the 7·10⁶ median was not measured and says so.
    assert!(
        text.contains("| ≥ 50× Cedar engine-only, same run (10,000 persons) | 300.0× | yes |"),
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
    let text = render(&collect(dir.path()).expect("collects"), &machine());
    assert!(
        text.contains("| median ≤ 100 ns at 7·10⁶ persons (corpus) | 180.0 ns | **no** |"),
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
