//! Cross-file checks. A send unit is the set of files sharing one ファイル連番, sender and
//! receiver (spec §2.1, §4.4); receivers process units in ascending 連番 (§4.5), which is the
//! order [`send_units`] returns.
//!
//! Rules, each with its section:
//! - composition (§4.4, §1.1 ○ marks): which files travel together, which are required, one
//!   file per kind (§4.3 creation unit), one month per 利用票 unit;
//! - relationships (§4.4): 2表/3表/補足 hang off the 1表 by 保険者番号 + 被保険者番号 +
//!   居宅サービス計画作成（変更）日; 第7表/補足 hang off the 第6表 by 保険者番号 + 被保険者番号 +
//!   対象年月; every parent has its 補足 (§3.1: the 1表 carries no name, the receiver takes it
//!   from the 補足) and every 第6表 person-month its 第7表 (§1.1: both are ○);
//! - derived, warnings only: a 第6表 line whose office and code are missing from the
//!   person's 第7表 (the 別表 summarises the 利用票), and 実績 lines without a matching 予定
//!   line ([`check_actuals`]). The spec states no formula tying 第7表 amounts to 第6表 lines, so
//!   no totals are recomputed.
//!
//! The 予防 files are not covered: a unit holding one is not checked.

use std::collections::{BTreeMap, HashSet};

use super::finding::{Finding, FindingCode, Findings, Severity};
use super::names::{Endpoint, FileKind, FileSerial};
use super::parse::{ParsedFile, Record};
use super::values::Generation;

/// What identifies a send unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SendUnitKey {
    /// The shared ファイル連番.
    pub serial: FileSerial,
    /// The sender.
    pub sender: Endpoint,
    /// The receiver.
    pub receiver: Endpoint,
}

/// Groups files with valid names into send units, in import order (ascending 連番, spec
/// §4.5). Files without a valid name are left out (they carry a `bad-file-name` finding).
pub fn send_units(files: &[ParsedFile]) -> Vec<(SendUnitKey, Vec<&ParsedFile>)> {
    let mut units: BTreeMap<SendUnitKey, Vec<&ParsedFile>> = BTreeMap::new();
    for file in files {
        if let Some(name) = &file.name {
            let key = SendUnitKey {
                serial: name.serial(),
                sender: name.sender(),
                receiver: name.receiver(),
            };
            units.entry(key).or_default().push(file);
        }
    }
    units.into_iter().collect()
}

/// Runs every cross-file check over a set of files: each send unit, then each 実績 file
/// against the latest 予定 of the same month sent the other way between the same offices
/// (spec §4.6: a resend replaces the earlier data).
pub fn check_files(files: &[ParsedFile]) -> Vec<Finding> {
    let mut findings: Vec<Finding> = send_units(files)
        .iter()
        .flat_map(|(_, unit)| check_send_unit(unit))
        .collect();
    for actual in files.iter().filter(|f| f.kind == Some(FileKind::Actual)) {
        let Some(a) = &actual.name else { continue };
        let plans: Vec<&ParsedFile> = files
            .iter()
            .filter(|f| {
                f.name.as_ref().is_some_and(|p| {
                    p.kind() == FileKind::Plan
                        && p.month() == a.month()
                        && p.sender().office == a.receiver().office
                        && p.receiver().office == a.sender().office
                })
            })
            .collect();
        // The latest 予定 per receiving endpoint (an office with several service types gets
        // one file per type, spec §4.3). Offices are matched without the types because the
        // spec's own 実績 example swaps them (spec §2.1, `[R]`).
        let latest = |p: &&ParsedFile| {
            let n = p.name.as_ref();
            plans.iter().filter_map(|q| q.name.as_ref()).all(|q| {
                n.is_some_and(|n| q.receiver() != n.receiver() || q.serial() <= n.serial())
            })
        };
        let plans: Vec<&ParsedFile> = plans.iter().copied().filter(latest).collect();
        if !plans.is_empty() {
            findings.extend(check_actuals(&plans, actual));
        }
    }
    findings
}

/// The class of a file within send units (spec §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum UnitClass {
    /// 1表 + 2表 + 3表 + 補足(000000).
    Plan,
    /// 第6表 + 第7表 + 補足(month).
    Usage,
    /// A file that travels alone: 1表削除, 第6表削除, 実績, 実績削除.
    Alone(FileKind),
}

fn class_of(file: &ParsedFile) -> Option<UnitClass> {
    let name = file.name.as_ref()?;
    Some(match name.kind() {
        FileKind::Table1 | FileKind::Table2 | FileKind::Table3 => UnitClass::Plan,
        FileKind::Supplement if name.month().is_none() => UnitClass::Plan,
        FileKind::Plan | FileKind::Table7 | FileKind::Supplement => UnitClass::Usage,
        k @ (FileKind::Table1Delete
        | FileKind::PlanDelete
        | FileKind::Actual
        | FileKind::ActualDelete) => UnitClass::Alone(k),
        _ => return None,
    })
}

fn kind_of(file: &ParsedFile) -> Option<FileKind> {
    file.name.as_ref().map(|n| n.kind())
}

/// Checks one send unit (files sharing 連番, sender and receiver).
pub fn check_send_unit(files: &[&ParsedFile]) -> Vec<Finding> {
    let Some(first) = files.first() else {
        return Vec::new();
    };
    let mut findings = Findings::new(&first.file);
    if files
        .iter()
        .any(|f| kind_of(f).is_some_and(FileKind::is_prevention))
    {
        return Vec::new();
    }
    let mut classes: Vec<UnitClass> = files.iter().filter_map(|f| class_of(f)).collect();
    classes.sort();
    classes.dedup();
    if classes.len() > 1 {
        let prefixes: Vec<String> = files
            .iter()
            .filter_map(|f| kind_of(f))
            .map(|k| k.prefix().to_owned())
            .collect();
        findings.push_in(
            &first.file,
            None,
            None,
            Severity::Error,
            FindingCode::SendUnitMixed,
            format!(
                "one ファイル連番 carries files of different send units ({}); spec §4.4 sends the plan set, the 利用票 set and each 削除/実績 file as separate units",
                prefixes.join(", ")
            ),
        );
        return findings.finish();
    }
    let mut seen: HashSet<FileKind> = HashSet::new();
    for (kind, f) in files.iter().filter_map(|f| Some((kind_of(f)?, f))) {
        if !seen.insert(kind) {
            findings.push_in(
                &f.file,
                None,
                None,
                Severity::Error,
                FindingCode::SendUnitDuplicate,
                format!(
                    "a second {kind} file in the same send unit: one file per office and service type (spec §4.3)"
                ),
            );
        }
    }
    let find = |kind: FileKind| files.iter().copied().find(|f| kind_of(f) == Some(kind));
    match classes.first() {
        Some(UnitClass::Plan) => {
            let v4 = files
                .iter()
                .any(|f| f.generation == Generation::V4 && f.version.is_some());
            let mut required = vec![FileKind::Table1, FileKind::Table2, FileKind::Supplement];
            if v4 {
                required.push(FileKind::Table3);
            }
            incomplete(&mut findings, first, &required, &find);
            plan_links(&mut findings, &find);
        }
        Some(UnitClass::Usage) => {
            incomplete(
                &mut findings,
                first,
                &[FileKind::Plan, FileKind::Table7, FileKind::Supplement],
                &find,
            );
            let months: Vec<_> = files
                .iter()
                .filter_map(|f| f.name.as_ref())
                .map(|n| n.month())
                .collect();
            if months.windows(2).any(|w| w[0] != w[1]) {
                findings.push_in(
                    &first.file,
                    None,
                    None,
                    Severity::Error,
                    FindingCode::SendUnitMonth,
                    "the files of one 利用票 send unit name different months (spec §4.4)",
                );
            }
            usage_links(&mut findings, &find);
        }
        _ => {}
    }
    findings.finish()
}

fn incomplete<'a>(
    findings: &mut Findings,
    first: &ParsedFile,
    required: &[FileKind],
    find: &impl Fn(FileKind) -> Option<&'a ParsedFile>,
) {
    let missing: Vec<&str> = required
        .iter()
        .filter(|k| find(**k).is_none())
        .map(|k| k.prefix())
        .collect();
    if !missing.is_empty() {
        findings.push_in(
            &first.file,
            None,
            None,
            Severity::Error,
            FindingCode::SendUnitIncomplete,
            format!(
                "the send unit lacks required file(s) {} (spec §1.1 ○, §4.4)",
                missing.join(", ")
            ),
        );
    }
}

/// A link key: 保険者番号, 被保険者番号 and the date or month column.
type Key<'a> = (&'a str, &'a str, &'a str);

fn key(r: &Record, third: u16) -> Option<Key<'_>> {
    let k = (r.cell(2)?, r.cell(3)?, r.cell(third)?);
    (!k.0.is_empty() && !k.1.is_empty() && !k.2.is_empty()).then_some(k)
}

fn keys(file: &ParsedFile, third: u16) -> impl Iterator<Item = (Key<'_>, &Record)> {
    file.records
        .iter()
        .filter_map(move |r| key(r, third).map(|k| (k, r)))
}

/// Reports children whose key has no parent.
fn orphans(
    findings: &mut Findings,
    parents: &HashSet<Key<'_>>,
    child: Option<&ParsedFile>,
    third: u16,
    parent_name: &str,
) {
    let Some(child) = child else { return };
    for (k, r) in keys(child, third) {
        if !parents.contains(&k) {
            findings.push_in(
                &child.file,
                Some(r.line),
                None,
                Severity::Error,
                FindingCode::OrphanRow,
                format!(
                    "no {parent_name} record for this person and key in the send unit (spec §4.4)"
                ),
            );
        }
    }
}

/// spec §4.4: the plan set's links (key: 保険者番号 + 被保険者番号 + 作成（変更）日).
fn plan_links<'a>(findings: &mut Findings, find: &impl Fn(FileKind) -> Option<&'a ParsedFile>) {
    let Some(table1) = find(FileKind::Table1) else {
        return;
    };
    let parents: HashSet<Key<'_>> = keys(table1, 14).map(|(k, _)| k).collect();
    orphans(findings, &parents, find(FileKind::Table2), 5, "1表");
    orphans(findings, &parents, find(FileKind::Table3), 5, "1表");
    orphans(findings, &parents, find(FileKind::Supplement), 4, "1表");
    if let Some(supplement) = find(FileKind::Supplement) {
        let have: HashSet<Key<'_>> = keys(supplement, 4).map(|(k, _)| k).collect();
        for (k, r) in keys(table1, 14) {
            if !have.contains(&k) {
                findings.push_in(
                    &table1.file,
                    Some(r.line),
                    None,
                    Severity::Error,
                    FindingCode::SupplementMissing,
                    "this plan has no 利用者補足情報 record (name, sex and birth date come from it; spec §3.1, §4.4)",
                );
            }
        }
    }
}

/// spec §4.4: the 利用票 set's links (key: 保険者番号 + 被保険者番号 + 対象年月), plus the
/// derived check that each 第6表 office and code appears on the person's 第7表.
fn usage_links<'a>(findings: &mut Findings, find: &impl Fn(FileKind) -> Option<&'a ParsedFile>) {
    let Some(table6) = find(FileKind::Plan) else {
        return;
    };
    let parents: HashSet<Key<'_>> = keys(table6, 5).map(|(k, _)| k).collect();
    orphans(findings, &parents, find(FileKind::Table7), 5, "第6表");
    orphans(findings, &parents, find(FileKind::Supplement), 63, "第6表");
    let mut first_lines: Vec<(Key<'_>, u32)> = Vec::new();
    for (k, r) in keys(table6, 5) {
        if !first_lines.iter().any(|(p, _)| *p == k) {
            first_lines.push((k, r.line));
        }
    }
    if let Some(supplement) = find(FileKind::Supplement) {
        let have: HashSet<Key<'_>> = keys(supplement, 63).map(|(k, _)| k).collect();
        for (k, line) in &first_lines {
            if !have.contains(k) {
                findings.push_in(
                    &table6.file,
                    Some(*line),
                    None,
                    Severity::Error,
                    FindingCode::SupplementMissing,
                    "this person-month has no 利用者補足情報 record (spec §4.4)",
                );
            }
        }
    }
    let Some(table7) = find(FileKind::Table7) else {
        return;
    };
    let have: HashSet<Key<'_>> = keys(table7, 5).map(|(k, _)| k).collect();
    for (k, line) in &first_lines {
        if !have.contains(k) {
            findings.push_in(
                &table6.file,
                Some(*line),
                None,
                Severity::Error,
                FindingCode::Table7Missing,
                "this person-month has no 第7表 records (spec §1.1, §4.4)",
            );
        }
    }
    let lines7: HashSet<(Key<'_>, &str, &str)> = keys(table7, 5)
        .filter_map(|(k, r)| Some((k, r.cell(7)?, r.cell(9)?)))
        .collect();
    let mut reported: HashSet<(Key<'_>, &str, &str)> = HashSet::new();
    for (k, r) in keys(table6, 5) {
        let (Some(office), Some(code)) = (r.cell(20), r.cell(15)) else {
            continue;
        };
        let line = (k, office, code);
        if have.contains(&k) && !lines7.contains(&line) && reported.insert(line) {
            findings.push_in(
                &table6.file,
                Some(r.line),
                None,
                Severity::Warning,
                FindingCode::UsageNotInTable7,
                format!(
                    "サービスコード {code} at this office does not appear on the person's 第7表"
                ),
            );
        }
    }
}

/// Reconciles a 実績 file with the 予定 it answers (derived, warnings only: the spec has no
/// rule that 実績 must match 予定, but a 実績 is reported per 提供票, spec §4.3). A line is
/// matched by 保険者番号, 被保険者番号, 対象年月, サービス事業者コード and サービスコード.
pub fn check_actuals(plans: &[&ParsedFile], actual: &ParsedFile) -> Vec<Finding> {
    let mut findings = Findings::new(&actual.file);
    let mut planned: HashSet<(Key<'_>, &str, &str)> = HashSet::new();
    let mut people: HashSet<Key<'_>> = HashSet::new();
    for plan in plans {
        for (k, r) in keys(plan, 5) {
            people.insert(k);
            if let (Some(office), Some(code)) = (r.cell(20), r.cell(15)) {
                planned.insert((k, office, code));
            }
        }
    }
    let mut reported: HashSet<(Key<'_>, &str, &str)> = HashSet::new();
    for (k, r) in keys(actual, 5) {
        let (Some(office), Some(code)) = (r.cell(20), r.cell(15)) else {
            continue;
        };
        let line = (k, office, code);
        if planned.contains(&line) || !reported.insert(line) {
            continue;
        }
        let message = if people.contains(&k) {
            format!("実績 サービスコード {code} at this office has no matching 予定 line")
        } else {
            String::from("実績 for a person and month with no 予定 in the plans given")
        };
        findings.push(
            Some(r.line),
            Severity::Warning,
            FindingCode::ActualUnplanned,
            message,
        );
    }
    findings.finish()
}
