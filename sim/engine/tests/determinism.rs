//! Determinism meta-test: the same scenario and seed, run twice (with different thread
//! counts), write byte-identical report folders; another seed changes the numbers.

use std::collections::BTreeMap;
use std::path::Path;

use kiban_engine::{RunOptions, Scenario, run};

fn folder(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&path).unwrap(),
            )
        })
        .collect()
}

fn run_into(
    path: &str,
    dir: &Path,
    threads: usize,
    seed: Option<u64>,
) -> BTreeMap<String, Vec<u8>> {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/");
    let text = std::fs::read_to_string(format!("{file}{path}")).unwrap();
    let scenario = Scenario::from_toml(&text, path).unwrap();
    let mut options = RunOptions::new(dir);
    options.scale = Some(0.0005);
    options.threads = Some(threads);
    options.seed = seed;
    options.git_commit = Some("0000000".to_owned());
    run(&scenario, &options).unwrap();
    folder(dir)
}

#[test]
fn the_same_seed_gives_byte_identical_report_folders() {
    for scenario in [
        "policies-compared.toml",
        "cross-municipality-yokohama-kawasaki.toml",
    ] {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let first = run_into(scenario, a.path(), 1, None);
        let second = run_into(scenario, b.path(), 3, None);
        assert_eq!(
            first.keys().collect::<Vec<_>>(),
            second.keys().collect::<Vec<_>>()
        );
        for (name, bytes) in &first {
            assert!(
                bytes == &second[name],
                "{scenario}: {name} differs between two runs"
            );
        }
        assert!(first.contains_key("report.md") && first.contains_key("series.csv"));
    }
}

#[test]
fn another_seed_gives_other_numbers() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let first = run_into("people-without-a-card.toml", a.path(), 2, Some(1));
    let second = run_into("people-without-a-card.toml", b.path(), 2, Some(2));
    assert_ne!(first["series.csv"], second["series.csv"]);
}
