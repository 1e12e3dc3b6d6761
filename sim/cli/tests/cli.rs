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

const HEALTH_SCRIPT: &str = "format = \"kiban-observe-script/1\"\n\n[[expect]]\nid = \"health\"\nroute = \"GET /healthz\"\n";

#[test]
fn conformance_observe_without_a_client_reports_the_unmet_expectation_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("health.toml");
    std::fs::write(&script, HEALTH_SCRIPT).unwrap();
    let out = dir.path().join("observe");
    let (code, stdout, stderr) = kiban(&[
        "conformance",
        "observe",
        "--role",
        "care-office",
        "--listen",
        "127.0.0.1:0",
        "--script",
        script.to_str().unwrap(),
        "--duration",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("observing role care-management (1470100015) at https://127.0.0.1:"),
        "{stdout}"
    );
    assert!(stdout.contains("ended after the duration"), "{stdout}");
    assert!(
        stdout.contains("FAIL  SCR-01 health: at least 1 exchange(s) of GET /healthz"),
        "{stdout}"
    );
    for file in [
        "connection.toml",
        "conformance.json",
        "conformance.junit.xml",
        "exchanges.jsonl",
    ] {
        assert!(out.join(file).is_file(), "{file}");
    }
    let connection = std::fs::read_to_string(out.join("connection.toml")).unwrap();
    assert!(connection.contains("admin_password"), "{connection}");

    let (code, _, stderr) = kiban(&["conformance", "observe", "--role", "operator"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot be observed"), "{stderr}");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, HEALTH_SCRIPT.replace("/healthz", "/nowhere")).unwrap();
    let (code, _, stderr) = kiban(&[
        "conformance",
        "observe",
        "--role",
        "municipality",
        "--listen",
        "127.0.0.1:0",
        "--script",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("GET /nowhere is not a route"), "{stderr}");
}

#[test]
fn conformance_observe_ends_with_exit_0_when_a_client_completes_the_script() {
    use kiban_certs::ClientCredentials;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("health.toml");
    std::fs::write(&script, HEALTH_SCRIPT).unwrap();
    let out = dir.path().join("observe");
    let child = Command::new(env!("CARGO_BIN_EXE_kiban"))
        .args([
            "conformance",
            "observe",
            "--role",
            "municipality",
            "--listen",
            "127.0.0.1:0",
        ])
        .arg("--script")
        .arg(&script)
        .args(["--duration", "30", "--out"])
        .arg(&out)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The connection file appears once the platform listens.
    let file = out.join("connection.toml");
    let started = std::time::Instant::now();
    while !file.is_file() && started.elapsed() < std::time::Duration::from_secs(20) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // Written in one call; wait until it is complete.
    let text = loop {
        let text = std::fs::read_to_string(&file).unwrap();
        if text.contains("[[terminals]]") && text.ends_with(".key.pem\"\n") {
            break text;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{text}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let connection: toml::Table = toml::from_str(&text).unwrap();
    let base = connection["base_url"].as_str().unwrap();
    let addr: std::net::SocketAddr = base.trim_start_matches("https://").parse().unwrap();
    let terminal = &connection["terminals"][0];
    let credentials = ClientCredentials {
        chain: CertificateDer::pem_file_iter(out.join(terminal["chain"].as_str().unwrap()))
            .unwrap()
            .map(Result::unwrap)
            .collect(),
        key: PrivateKeyDer::from_pem_file(out.join(terminal["key"].as_str().unwrap())).unwrap(),
    };
    let root =
        CertificateDer::from_pem_file(out.join(connection["server_ca"].as_str().unwrap())).unwrap();
    let clock = std::sync::Arc::new(kiban_certs::ManualClock::new(
        kiban_conformance::reference::ReferenceOptions::default().start,
    ));
    let config = kiban_certs::tls::client_config(&root, credentials, clock).unwrap();
    let client = kiban_conformance::http::Client::new(
        "vendor",
        addr,
        connection["server_name"].as_str().unwrap(),
        config,
        std::time::Duration::from_secs(10),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = runtime.block_on(client.send(&kiban_conformance::http::Req::get("/healthz")));
    assert_eq!(status.status(), 200);
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("ended when the script was complete"),
        "{stdout}"
    );
    assert!(stdout.contains("1 exchange(s)"), "{stdout}");
}

#[test]
fn scenario_run_runs_a_wire_scenario_checks_its_baseline_and_names_a_failing_step() {
    let scenarios = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios");
    let file = format!("{scenarios}/cross-municipality-yokohama-kawasaki-wire.toml");
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().to_str().unwrap();
    let (code, stdout, stderr) = kiban(&["scenario", "run", &file, "--out", out_dir]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("10/10 expectations passed"), "{stdout}");
    let report = out.path().join("cross-municipality-yokohama-kawasaki-wire");
    assert!(report.join("report.md").is_file() && report.join("steps.json").is_file());
    // A fresh run matches what it just wrote (the run is deterministic).
    let (code, stdout, _) = kiban(&["scenario", "run", &file, "--out", out_dir, "--check"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(!stdout.contains("STALE"), "{stdout}");

    // A wrong expectation exits 1 and names the step, expected and actual.
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("expect = \"not-registered\"", "expect = \"permit\"");
    let wrong = out.path().join("wrong.toml");
    std::fs::write(&wrong, text).unwrap();
    let (code, stdout, _) = kiban(&["scenario", "run", wrong.to_str().unwrap(), "--out", out_dir]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("step 8 [baseline] decide kawasaki-care-management reads insurance-card of yokohama-resident at 2027-04-01"),
        "{stdout}"
    );
    assert!(
        stdout.contains("expected permit, got not-registered"),
        "{stdout}"
    );

    // What a wire run cannot do is refused at load, with the line (exit 2).
    let metric = format!(
        "{}\n[[step]]\nat = \"2027-02\"\nmetric = \"relationships\"\nat-least = 1\n",
        std::fs::read_to_string(&file).unwrap()
    );
    std::fs::write(&wrong, &metric).unwrap();
    let (code, _, stderr) = kiban(&["scenario", "run", wrong.to_str().unwrap(), "--out", out_dir]);
    assert_eq!(code, 2, "{stderr}");
    let line = metric.lines().count() - 3;
    assert!(
        stderr.contains(&format!(
            "wrong.toml:{line}: step 11: metric steps need the national model"
        )),
        "{stderr}"
    );
}
