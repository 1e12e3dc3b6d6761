//! Executable parts of ARCHITECTURE.md: the core's invariants, stated as absences, checked
//! on the dependency graph and the source text.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Crates that do I/O, async or OS entropy. None may be in kiban-core's dependency tree.
const FORBIDDEN_IN_CORE: &[&str] = &[
    "tokio",
    "async-std",
    "smol",
    "futures",
    "futures-util",
    "mio",
    "hyper",
    "axum",
    "tower",
    "reqwest",
    "rustls",
    "tokio-rustls",
    "rusqlite",
    "socket2",
    "getrandom",
    "tracing",
];

/// Source text that would mean I/O, ambient time or ambient randomness in the core.
const FORBIDDEN_IN_CORE_SOURCE: &[&str] = &[
    "std::fs",
    "std::net",
    "std::io",
    "std::process",
    "std::thread",
    "std::env",
    "SystemTime",
    "Instant::now",
    "thread_rng",
    "rand::rng(",
    "async fn",
    ".await",
    "static mut",
    "OnceLock",
    "thread_local!",
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

#[test]
fn kiban_core_depends_on_no_async_or_io_crate() {
    let output = Command::new(env!("CARGO"))
        .current_dir(workspace_root())
        .args([
            "tree",
            "--offline",
            "-p",
            "kiban-core",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8(output.stdout).unwrap();
    let names: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(names.contains(&"serde"), "the tree was read: {names:?}");
    for name in names {
        assert!(
            !FORBIDDEN_IN_CORE.contains(&name),
            "kiban-core depends on {name}"
        );
    }
}

#[test]
fn kiban_core_source_does_no_io_reads_no_clock_and_draws_no_ambient_randomness() {
    for file in rust_files(&workspace_root().join("sim/core/src")) {
        let text = std::fs::read_to_string(&file).unwrap();
        for (line_no, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for needle in FORBIDDEN_IN_CORE_SOURCE {
                assert!(
                    !code.contains(needle),
                    "{}:{}: {needle} in kiban-core",
                    file.display(),
                    line_no + 1
                );
            }
        }
    }
}

#[test]
fn decision_view_is_keyed_by_integers_not_strings() {
    let view = std::fs::read_to_string(workspace_root().join("sim/core/src/view.rs")).unwrap();
    let maps: Vec<&str> = view
        .lines()
        .filter(|l| l.contains("HashMap<") || l.contains("BTreeMap<"))
        .collect();
    assert!(!maps.is_empty());
    for line in maps {
        let mut words = line.split(|c: char| !c.is_alphanumeric() && c != '_');
        assert!(
            !words.any(|w| w == "String" || w == "str"),
            "string-keyed map in the view: {line}"
        );
    }
}

#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let root = workspace_root();
    let mut missing = Vec::new();
    for dir in ["sim", "certs", "conformance", "benches"] {
        for file in rust_files(&root.join(dir)) {
            let text = std::fs::read_to_string(&file).unwrap();
            if !text.trim_start().starts_with("//!") {
                missing.push(file.strip_prefix(&root).unwrap().display().to_string());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "files without a //! paragraph: {missing:?}"
    );
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n == "target") {
            continue;
        }
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}
