//! The `kiban` binary as users meet it: output snapshots (insta) and exit codes.

use std::process::Command;

/// Runs `kiban` with `args`; returns (exit code, stdout, stderr).
fn kiban(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kiban"))
        .args(args)
        .output()
        .expect("kiban runs");
    let text = |b: Vec<u8>| String::from_utf8(b).expect("utf-8 output");
    (
        out.status.code().expect("exited"),
        text(out.stdout),
        text(out.stderr),
    )
}

#[test]
fn rules_show_prints_the_published_matrix_and_policy() {
    let (code, stdout, _) = kiban(&["rules", "show"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(stdout);
}

#[test]
fn rules_export_round_trips_through_rules_check() {
    let (code, exported, _) = kiban(&["rules", "export"]);
    assert_eq!(code, 0);
    let dir = std::env::temp_dir().join(format!("kiban-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("matrix.toml");
    std::fs::write(
        &path,
        exported.replace("operator = \"none\"", "operator = \"read\""),
    )
    .unwrap();
    let (code, stdout, stderr) = kiban(&["rules", "check", "--matrix", path.to_str().unwrap()]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert!(stdout.starts_with("ok\t"));
    std::fs::write(
        &path,
        exported.replacen("operator = \"none\"", "operator = \"sometimes\"", 1),
    )
    .unwrap();
    let (code, _, stderr) = kiban(&["rules", "check", "--matrix", path.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("[insurance-card] operator: unknown level \"sometimes\""),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn id_check_names_the_failed_check_and_exits_1() {
    let (code, stdout, _) = kiban(&[
        "id",
        "check",
        "care-office",
        "2875104529",
        "2372100034",
        "28751045",
    ]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(stdout);
}

#[test]
fn id_check_never_prints_a_my_number() {
    let (code, stdout, _) = kiban(&["id", "check", "my-number", "123456789018", "123456789019"]);
    assert_eq!(code, 1);
    assert!(!stdout.contains("12345678901"), "{stdout}");
    insta::assert_snapshot!(stdout);
}

#[test]
fn id_generate_is_reproducible_from_its_seed() {
    let (_, a, _) = kiban(&["id", "generate", "care-office", "-n", "3", "--seed", "42"]);
    let (_, b, _) = kiban(&["id", "generate", "care-office", "-n", "3", "--seed", "42"]);
    assert_eq!(a, b);
    assert_eq!(a.lines().count(), 3);
    let (code, _, _) = kiban(&["id", "check", "care-office", a.lines().next().unwrap()]);
    assert_eq!(code, 0);
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let (code, _, stderr) = kiban(&["frobnicate"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("unrecognized subcommand"), "{stderr}");
}

#[test]
fn conformance_csv_names_the_clause_and_exits_1_on_a_bad_code() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../conformance/tests/data/careplan/invalid/bad-code"
    );
    let (code, stdout, _) = kiban(&["conformance", "csv", dir]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("bad-code [No.16 計画書区分] (§4.1 code lists)"),
        "{stdout}"
    );
    let valid = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../conformance/tests/data/careplan/valid"
    );
    let (code, stdout, _) = kiban(&["conformance", "csv", valid]);
    assert_eq!(code, 0, "{stdout}");
}

#[test]
fn scenario_run_refuses_an_unknown_key_with_its_line_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "name = \"x\"\nseed = 1\ncolour = \"red\"\n").unwrap();
    let (code, _, stderr) = kiban(&["scenario", "run", file.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("bad.toml:3: unknown field `colour`"),
        "{stderr}"
    );
}
