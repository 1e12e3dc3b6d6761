//! The committed fixtures under `tests/data/careplan/`: valid files made by the writer, and
//! one invalid case per finding code (a folder of files made by editing valid ones) with an
//! insta snapshot of its findings. The fixture bytes are regenerated here and compared with
//! the committed ones, so they cannot drift from the code; run with
//! `KIBAN_UPDATE_FIXTURES=1` to rewrite them (and `INSTA_UPDATE=always` for new snapshots).

mod careplan_support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Once;

use careplan_support::*;
use kiban_platform::careplan::{
    Finding, FindingCode, MAX_FINDINGS_PER_FILE, OutgoingFile, ParsedFile, RecordKind, Severity,
    check_files, parse_file,
};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/careplan")
}

fn updating() -> bool {
    std::env::var_os("KIBAN_UPDATE_FIXTURES").is_some()
}

/// Files on disk in a folder, sorted by name.
fn read_dir(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_str().unwrap().to_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// Rewrites every fixture once per test run when `KIBAN_UPDATE_FIXTURES` is set (the tests
/// of this file run in parallel; all of them call this first).
fn write_fixtures_if_updating() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if !updating() {
            return;
        }
        let write = |dir: &Path, files: &[(String, Vec<u8>)]| {
            std::fs::create_dir_all(dir).unwrap();
            for (name, bytes) in files {
                std::fs::write(dir.join(name), bytes).unwrap();
            }
        };
        for sub in ["valid", "invalid"] {
            let dir = data_dir().join(sub);
            if dir.exists() {
                std::fs::remove_dir_all(&dir).unwrap();
            }
        }
        write(&data_dir().join("valid"), &named(valid_files()));
        for case in cases() {
            write(&data_dir().join("invalid").join(case.id), &case.files);
        }
    });
}

/// Compares generated files with a folder.
fn sync(dir: &Path, mut expected: Vec<(String, Vec<u8>)>) {
    expected.sort();
    let on_disk = read_dir(dir);
    let names = |v: &[(String, Vec<u8>)]| v.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&on_disk), names(&expected), "{}", dir.display());
    for ((name, disk), (_, generated)) in on_disk.iter().zip(&expected) {
        assert!(
            disk == generated,
            "{}/{name} differs from what the code generates; rerun with KIBAN_UPDATE_FIXTURES=1",
            dir.display()
        );
    }
}

fn named(files: Vec<OutgoingFile>) -> Vec<(String, Vec<u8>)> {
    files
        .into_iter()
        .map(|f| (f.name.to_string(), f.bytes))
        .collect()
}

#[test]
fn valid_fixtures_are_what_the_writer_produces() {
    write_fixtures_if_updating();
    sync(&data_dir().join("valid"), named(valid_files()));
}

#[test]
fn valid_fixtures_parse_and_cross_check_with_zero_findings() {
    write_fixtures_if_updating();
    let files = read_dir(&data_dir().join("valid"));
    assert_eq!(files.len(), 14);
    let parsed: Vec<ParsedFile> = files.iter().map(|(n, b)| parse_file(n, b)).collect();
    for p in &parsed {
        assert!(p.findings.is_empty(), "{}: {:#?}", p.file, p.findings);
        assert!(!p.records.is_empty() && p.records.iter().all(|r| r.clean));
    }
    assert_eq!(check_files(&parsed), Vec::<Finding>::new());
}

/// One invalid case: its folder name, the code it exists for, and its files.
struct Case {
    id: &'static str,
    expect: FindingCode,
    files: Vec<(String, Vec<u8>)>,
}

fn file_of(name: &str) -> OutgoingFile {
    valid_files()
        .into_iter()
        .find(|f| f.name.to_string().starts_with(name))
        .unwrap_or_else(|| panic!("no valid file starting {name}"))
}

fn one(id: &'static str, expect: FindingCode, name: String, bytes: Vec<u8>) -> Case {
    Case {
        id,
        expect,
        files: vec![(name, bytes)],
    }
}

/// The same office number with a wrong check digit.
fn broken_office(valid: &str) -> String {
    let last = valid.as_bytes()[9] - b'0';
    format!("{}{}", &valid[..9], (last + 1) % 10)
}

fn replace_bytes(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("marker present");
    [&bytes[..at], to, &bytes[at + from.len()..]].concat()
}

fn without_line(bytes: &[u8], index: usize) -> Vec<u8> {
    let mut ls = lines(bytes);
    ls.remove(index);
    unlines(&ls)
}

fn cases() -> Vec<Case> {
    let c = cast();
    let plan = file_of("UPPLAN_202505");
    let (pn, pb) = (plan.name.to_string(), plan.bytes.clone());
    let t7 = file_of("UPSIKYU_202505");
    let (sn, sb) = (t7.name.to_string(), t7.bytes.clone());
    let t1 = file_of("UP1KYO");
    let (t1n, t1b) = (t1.name.to_string(), t1.bytes.clone());
    let t2 = file_of("UP2KYO");
    let (t2n, t2b) = (t2.name.to_string(), t2.bytes.clone());
    let hosoku = file_of("UPHOSOKU_202505");
    let v3 = file_of("UPPLAN_202503");
    let plan_unit: Vec<(String, Vec<u8>)> = named(plan_set().write(&route_to_home_help()).unwrap());
    let usage_unit = || -> Vec<(String, Vec<u8>)> {
        named(
            valid_files()
                .into_iter()
                .filter(|f| {
                    let n = f.name.to_string();
                    ["UPPLAN_202505", "UPSIKYU_202505", "UPHOSOKU_202505"]
                        .iter()
                        .any(|p| n.starts_with(p))
                })
                .collect(),
        )
    };
    let replace_in = |unit: Vec<(String, Vec<u8>)>, prefix: &str, bytes: Vec<u8>| {
        unit.into_iter()
            .map(|(n, b)| {
                if n.starts_with(prefix) {
                    (n, bytes.clone())
                } else {
                    (n, b)
                }
            })
            .collect::<Vec<_>>()
    };
    let hh = c.home_help.office.as_str().to_owned();
    let cm = c.cm.office.as_str().to_owned();
    let mut header = RecordKind::Table6
        .layout()
        .columns
        .iter()
        .map(|c| c.name)
        .collect::<Vec<_>>()
        .join(",");
    header.push_str("\r\n");
    let mut many = lines(&set_cell(&set_cell(&pb, 0, 10, "20250532"), 0, 12, "2500"));
    let bad = many[0].clone();
    many.extend(std::iter::repeat_n(bad, 300));
    let mut dup = lines(&t1b);
    dup.push(dup[0].clone());
    let mut unplanned = lines(&file_of("UPJSK").bytes);
    let mut extra = cells(&unplanned[0]);
    extra[14] = String::from("112111");
    unplanned.push(extra.join(","));
    let mut csv_case_unit = plan_unit.clone();
    csv_case_unit.push((t2n.replace(".CSV", ".csv"), t2b.clone()));
    vec![
        // --- names and encoding ---
        one(
            "bad-file-name",
            FindingCode::BadFileName,
            pn.replacen(&cm, &broken_office(&cm), 1),
            pb.clone(),
        ),
        one(
            "file-name-case",
            FindingCode::FileNameCase,
            pn.replace(".CSV", ".csv"),
            pb.clone(),
        ),
        one(
            "not-covered",
            FindingCode::NotCovered,
            format!("UPKIHON_{cm}_43_{hh}_11_20250425100000.CSV"),
            encode(&format!(
                "202407,{},{},20250401\r\n",
                c.a.insurer, c.a.insured
            )),
        ),
        one(
            "bom",
            FindingCode::Bom,
            pn.clone(),
            [b"\xEF\xBB\xBF".as_slice(), &pb].concat(),
        ),
        one(
            "not-ms932",
            FindingCode::NotMs932,
            pn.clone(),
            decode(&pb).into_bytes(),
        ),
        one(
            "bad-encoding",
            FindingCode::BadEncoding,
            pn.clone(),
            replace_bytes(&set_cell(&pb, 0, 7, "\"山田@@花子\""), b"@@", b"\xA0"),
        ),
        one(
            "gaiji",
            FindingCode::Gaiji,
            pn.clone(),
            replace_bytes(&set_cell(&pb, 0, 7, "\"山田@@花子\""), b"@@", b"\xF0\x40"),
        ),
        // --- csv syntax ---
        one(
            "csv-syntax",
            FindingCode::CsvSyntax,
            pn.clone(),
            set_cell(&pb, 0, 7, "\"山田 花子\"x"),
        ),
        one(
            "line-ending",
            FindingCode::LineEnding,
            pn.clone(),
            encode(&decode(&pb).replace("\r\n", "\n")),
        ),
        one(
            "blank-line",
            FindingCode::BlankLine,
            pn.clone(),
            [pb.as_slice(), b"\r\n"].concat(),
        ),
        one(
            "header-row",
            FindingCode::HeaderRow,
            pn.clone(),
            [encode(&header), pb.clone()].concat(),
        ),
        one("empty-file", FindingCode::EmptyFile, pn.clone(), Vec::new()),
        one("column-count", FindingCode::ColumnCount, pn.clone(), {
            let mut ls = lines(&pb);
            let mut cs = cells(&ls[0]);
            cs.pop();
            ls[0] = cs.join(",");
            unlines(&ls)
        }),
        one(
            "free-text-unquoted",
            FindingCode::FreeTextUnquoted,
            pn.clone(),
            set_cell(&pb, 0, 7, "山田 花子"),
        ),
        // --- csv version ---
        one(
            "csv-version-unknown",
            FindingCode::CsvVersionUnknown,
            pn.clone(),
            set_cell(&pb, 0, 1, "202410"),
        ),
        one(
            "csv-version-mixed",
            FindingCode::CsvVersionMixed,
            t2n.clone(),
            set_cell(&t2b, 1, 1, "202208"),
        ),
        one(
            "csv-version-month",
            FindingCode::CsvVersionMonth,
            v3.name.to_string(),
            set_cell(&v3.bytes, 0, 1, "202003"),
        ),
        one(
            "csv-version-superseded",
            FindingCode::CsvVersionSuperseded,
            pn.clone(),
            {
                let mut b = pb.clone();
                for i in 0..lines(&pb).len() {
                    b = set_cell(&b, i, 1, "202504");
                }
                b
            },
        ),
        // --- cells ---
        one(
            "required-missing",
            FindingCode::RequiredMissing,
            pn.clone(),
            set_cell(&pb, 0, 4, ""),
        ),
        one(
            "too-long",
            FindingCode::TooLong,
            pn.clone(),
            set_cell(&pb, 0, 14, "100"),
        ),
        one(
            "not-digits",
            FindingCode::NotDigits,
            pn.clone(),
            set_cell(&pb, 0, 14, "1A"),
        ),
        one(
            "not-integer",
            FindingCode::NotInteger,
            pn.clone(),
            set_cell(&pb, 0, 8, "38.7"),
        ),
        one(
            "out-of-range",
            FindingCode::OutOfRange,
            t2n.clone(),
            set_cell(&t2b, 0, 6, "0"),
        ),
        one(
            "bad-date",
            FindingCode::BadDate,
            pn.clone(),
            set_cell(&pb, 0, 10, "20250532"),
        ),
        one(
            "bad-time",
            FindingCode::BadTime,
            pn.clone(),
            set_cell(&pb, 0, 12, "2500"),
        ),
        one(
            "bad-code",
            FindingCode::BadCode,
            pn.clone(),
            set_cell(&pb, 0, 23, "2"),
        ),
        one(
            "bad-format",
            FindingCode::BadFormat,
            pn.clone(),
            set_cell(&pb, 0, 11, "11110"),
        ),
        one(
            "bad-office-number",
            FindingCode::BadOfficeNumber,
            pn.clone(),
            set_cell(&pb, 0, 20, &broken_office(&hh)),
        ),
        one(
            "bad-insurer-number",
            FindingCode::BadInsurerNumber,
            pn.clone(),
            {
                let ins = c.a.insurer.as_str();
                let last = ins.as_bytes()[5] - b'0';
                set_cell(&pb, 0, 2, &format!("{}{}", &ins[..5], (last + 1) % 10))
            },
        ),
        one(
            "bad-insured-number",
            FindingCode::BadInsuredNumber,
            pn.clone(),
            set_cell(&pb, 0, 3, "A000012345"),
        ),
        one(
            "bad-service-code",
            FindingCode::BadServiceCode,
            pn.clone(),
            set_cell(&pb, 0, 15, "11AAAA"),
        ),
        one(
            "unused-filled",
            FindingCode::UnusedFilled,
            pn.clone(),
            set_cell(&pb, 0, 25, "1"),
        ),
        // --- records within a file ---
        one(
            "multiple-months",
            FindingCode::MultipleMonths,
            pn.clone(),
            set_cell(&set_cell(&pb, 8, 5, "202506"), 8, 10, "20250620"),
        ),
        one(
            "name-mismatch",
            FindingCode::NameMismatch,
            t1n.clone(),
            set_cell(&t1b, 0, 13, c.equipment.office.as_str()),
        ),
        one(
            "hosoku-link",
            FindingCode::HosokuLink,
            hosoku.name.to_string(),
            set_cell(&hosoku.bytes, 0, 4, "20250420"),
        ),
        one(
            "tais-missing",
            FindingCode::TaisMissing,
            pn.clone(),
            set_cell(&pb, 5, 16, ""),
        ),
        one(
            "detail-code-misplaced",
            FindingCode::DetailCodeMisplaced,
            pn.clone(),
            set_cell(&pb, 0, 19, "1"),
        ),
        one(
            "service-out-of-scope",
            FindingCode::ServiceOutOfScope,
            pn.clone(),
            set_cell(&pb, 7, 15, "331111"),
        ),
        one(
            "date-outside-month",
            FindingCode::DateOutsideMonth,
            pn.clone(),
            set_cell(&pb, 8, 10, "20250601"),
        ),
        one(
            "total-missing",
            FindingCode::TotalMissing,
            sn.clone(),
            without_line(&sb, 6),
        ),
        one(
            "subtotal-missing",
            FindingCode::SubtotalMissing,
            sn.clone(),
            without_line(&sb, 3),
        ),
        one(
            "subtotal-row",
            FindingCode::SubtotalRow,
            sn.clone(),
            set_cell(&sb, 4, 13, "5"),
        ),
        one(
            "duplicate-key",
            FindingCode::DuplicateKey,
            t1n.clone(),
            unlines(&dup),
        ),
        // --- send units and cross-file ---
        Case {
            id: "send-unit-mixed",
            expect: FindingCode::SendUnitMixed,
            files: [
                plan_unit.clone(),
                vec![(
                    format!("UPPLAN_202505_{cm}_43_{hh}_11_20250425100000.CSV"),
                    pb.clone(),
                )],
            ]
            .concat(),
        },
        Case {
            id: "send-unit-incomplete",
            expect: FindingCode::SendUnitIncomplete,
            files: usage_unit()
                .into_iter()
                .filter(|(n, _)| !n.starts_with("UPSIKYU"))
                .collect(),
        },
        Case {
            id: "send-unit-duplicate",
            expect: FindingCode::SendUnitDuplicate,
            files: csv_case_unit,
        },
        Case {
            id: "send-unit-month",
            expect: FindingCode::SendUnitMonth,
            files: usage_unit()
                .into_iter()
                .map(|(n, b)| {
                    if n.starts_with("UPSIKYU") {
                        (n.replace("_202505_", "_202506_"), b)
                    } else {
                        (n, b)
                    }
                })
                .collect(),
        },
        Case {
            id: "orphan-row",
            expect: FindingCode::OrphanRow,
            files: replace_in(
                plan_unit.clone(),
                "UP2KYO",
                set_cell(&t2b, 2, 5, "20250419"),
            ),
        },
        Case {
            id: "supplement-missing",
            expect: FindingCode::SupplementMissing,
            files: replace_in(usage_unit(), "UPHOSOKU", without_line(&hosoku.bytes, 1)),
        },
        Case {
            id: "table7-missing",
            expect: FindingCode::Table7Missing,
            files: replace_in(
                usage_unit(),
                "UPSIKYU",
                without_line(&without_line(&sb, 6), 5),
            ),
        },
        Case {
            id: "usage-not-in-table7",
            expect: FindingCode::UsageNotInTable7,
            files: replace_in(usage_unit(), "UPSIKYU", without_line(&sb, 0)),
        },
        Case {
            id: "actual-unplanned",
            expect: FindingCode::ActualUnplanned,
            files: [
                usage_unit(),
                vec![(file_of("UPJSK").name.to_string(), unlines(&unplanned))],
            ]
            .concat(),
        },
        one(
            "too-many-findings",
            FindingCode::TooManyFindings,
            pn.clone(),
            unlines(&many),
        ),
    ]
}

/// Parses a case's files, cross-checks them, and renders every finding.
fn render(files: &[(String, Vec<u8>)]) -> (String, Vec<Finding>) {
    let parsed: Vec<ParsedFile> = files.iter().map(|(n, b)| parse_file(n, b)).collect();
    let mut all: Vec<Finding> = parsed.iter().flat_map(|p| p.findings.clone()).collect();
    // A lone file is an incomplete send unit by design; cross-check only multi-file cases.
    if files.len() > 1 {
        all.extend(check_files(&parsed));
    }
    let mut text = String::new();
    for (name, _) in files {
        text.push_str(&format!("file {name}\n"));
    }
    // The cap case has hundreds of findings; its snapshot keeps the first and the last few.
    let shown: Vec<&Finding> = if all.len() > 12 {
        all.iter()
            .take(6)
            .chain(all.iter().skip(all.len() - 3))
            .collect()
    } else {
        all.iter().collect()
    };
    if shown.len() < all.len() {
        text.push_str(&format!(
            "({} findings; first 6 and last 3 shown)\n",
            all.len()
        ));
    }
    for f in shown {
        text.push_str(&f.to_string());
        text.push('\n');
    }
    (text, all)
}

#[test]
fn invalid_fixtures_are_committed_and_cover_every_finding_code() {
    write_fixtures_if_updating();
    let cases = cases();
    let dir = data_dir().join("invalid");
    for case in &cases {
        sync(&dir.join(case.id), case.files.clone());
    }
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    on_disk.sort();
    let mut ids: Vec<String> = cases.iter().map(|c| c.id.to_owned()).collect();
    ids.sort();
    assert_eq!(on_disk, ids, "stale or missing case folders");
    let covered: BTreeSet<FindingCode> = cases.iter().map(|c| c.expect).collect();
    let all: BTreeSet<FindingCode> = FindingCode::ALL.iter().copied().collect();
    assert_eq!(covered, all, "every finding code has an invalid fixture");
    for case in &cases {
        assert_eq!(case.id, case.expect.as_str());
    }
}

#[test]
fn invalid_fixtures_report_their_code_and_match_the_snapshots() {
    write_fixtures_if_updating();
    for case in cases() {
        let files = read_dir(&data_dir().join("invalid").join(case.id));
        let (text, findings) = render(&files);
        assert!(
            findings.iter().any(|f| f.code == case.expect),
            "{}: {text}",
            case.id
        );
        insta::with_settings!({
            snapshot_path => "data/careplan/snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(case.id, text);
        });
    }
}

#[test]
fn the_cap_keeps_the_limit_and_ends_with_one_warning() {
    write_fixtures_if_updating();
    let files = read_dir(&data_dir().join("invalid/too-many-findings"));
    let parsed = parse_file(&files[0].0, &files[0].1);
    assert_eq!(parsed.findings.len(), MAX_FINDINGS_PER_FILE + 1);
    let last = parsed.findings.last().unwrap();
    assert_eq!(
        (last.code, last.severity),
        (FindingCode::TooManyFindings, Severity::Warning)
    );
    assert_eq!(parsed.records.len(), 309, "every record is still read");
}
