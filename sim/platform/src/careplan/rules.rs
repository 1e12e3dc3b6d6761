//! Rules that span the records of one file. Each function cites the spec section it
//! implements; cells that fail their own format are skipped here (they are already
//! reported), so a rule only speaks about well-formed values.

use std::collections::{HashMap, HashSet};

use super::finding::{FindingCode, Findings, Severity};
use super::layout::RecordKind;
use super::names::FileKind;
use super::parse::{ParsedFile, Record, position};
use super::values::{
    CsvVersion, Generation, ServiceScope, ServiceTypeCode, Table7Code, YearMonth, parse_date,
};

/// Runs every rule that applies to the file's layout.
pub(crate) fn check_file(file: &ParsedFile, findings: &mut Findings) {
    let Some(kind) = file.record_kind else {
        return;
    };
    let ctx = Ctx { file, kind };
    version_month(&ctx, findings);
    multiple_months(&ctx, findings);
    name_mismatch(&ctx, findings);
    duplicate_keys(&ctx, findings);
    match kind {
        RecordKind::Supplement => supplement_link(&ctx, findings),
        RecordKind::Table6 => table6_lines(&ctx, findings),
        RecordKind::Table7 => table7_rows(&ctx, findings),
        _ => {}
    }
}

struct Ctx<'a> {
    file: &'a ParsedFile,
    kind: RecordKind,
}

impl Ctx<'_> {
    fn records(&self) -> impl Iterator<Item = &Record> {
        self.file.records.iter().filter(|r| r.shaped)
    }

    /// `(file position, name)` of v4.1 column `no`.
    fn column(&self, no: u16) -> Option<(u16, &'static str)> {
        let name = self.kind.layout().column(no)?.name;
        Some((position(self.kind, self.file.generation, no)?, name))
    }

    fn push(
        &self,
        findings: &mut Findings,
        line: u32,
        no: Option<u16>,
        severity: Severity,
        code: FindingCode,
        message: String,
    ) {
        findings.push_at(
            Some(line),
            no.and_then(|n| self.column(n)),
            severity,
            code,
            message,
        );
    }

    /// The v4.1 number of the service-month column, for layouts with one.
    fn month_column(&self) -> Option<u16> {
        match self.kind {
            RecordKind::Table6 | RecordKind::Table7 => Some(5),
            RecordKind::PlanDelete | RecordKind::ActualDelete => Some(4),
            RecordKind::Supplement => Some(63),
            _ => None,
        }
    }
}

fn month_of(record: &Record, no: u16) -> Option<YearMonth> {
    YearMonth::parse(record.cell(no)?)
}

/// spec §2.3: a CSV version applies from the service month equal to its 適用開始年月, and
/// `202504` (v4.0) was replaced by `202407` (v4.1) for the same month. Reported once per
/// file, on the first record concerned.
fn version_month(ctx: &Ctx<'_>, findings: &mut Findings) {
    let Some(no) = ctx.month_column() else {
        return;
    };
    let mut superseded = false;
    let mut wrong = false;
    for r in ctx.records() {
        let (Some(version), Some(month)) =
            (r.cell(1).and_then(CsvVersion::from_code), month_of(r, no))
        else {
            continue;
        };
        if version.is_superseded() {
            if !superseded {
                superseded = true;
                ctx.push(
                    findings,
                    r.line,
                    Some(1),
                    Severity::Warning,
                    FindingCode::CsvVersionSuperseded,
                    format!(
                        "CSVバージョン {version} (v4.0) was replaced by {} in v4.1",
                        CsvVersion::CURRENT
                    ),
                );
            }
            continue;
        }
        let expected = CsvVersion::for_service_month(month);
        if expected != version && !wrong {
            wrong = true;
            ctx.push(
                findings,
                r.line,
                Some(1),
                Severity::Error,
                FindingCode::CsvVersionMonth,
                format!(
                    "CSVバージョン {version} does not apply to service month {month}: that month takes {expected} (spec §2.3)"
                ),
            );
        }
    }
}

/// spec §4.2: the 第6表, 実績, 第7表 and their 削除 files hold one service month per file.
fn multiple_months(ctx: &Ctx<'_>, findings: &mut Findings) {
    let no = match ctx.kind {
        RecordKind::Table6 | RecordKind::Table7 => 5,
        RecordKind::PlanDelete | RecordKind::ActualDelete => 4,
        _ => return,
    };
    let mut first: Option<YearMonth> = None;
    for r in ctx.records() {
        let Some(month) = month_of(r, no) else {
            continue;
        };
        match first {
            None => first = Some(month),
            Some(f) if f != month => {
                ctx.push(
                    findings,
                    r.line,
                    Some(no),
                    Severity::Error,
                    FindingCode::MultipleMonths,
                    format!(
                        "service month {month} differs from the file's first month {f}: one file holds one month (spec §4.2)"
                    ),
                );
                return;
            }
            Some(_) => {}
        }
    }
}

/// spec §4.2 `[NC]`: the month and sender in the file name presumably match the records; no
/// explicit rule was found, so mismatches are warnings, once per file and rule.
/// Month: 対象年月 / 削除対象年月 of the 第6表, 第7表 and 削除 files. Sender: 1表 No.13
/// 介護支援事業者コード, 予定 No.6 プラン担当業者コード, 実績 No.20 and 実績削除 No.5
/// サービス事業者コード (the provider sends them, spec §4.3).
fn name_mismatch(ctx: &Ctx<'_>, findings: &mut Findings) {
    let Some(name) = &ctx.file.name else {
        return;
    };
    let month_no = match ctx.kind {
        RecordKind::Table6 | RecordKind::Table7 => Some(5),
        RecordKind::PlanDelete | RecordKind::ActualDelete => Some(4),
        _ => None,
    };
    if let (Some(no), Some(name_month)) = (month_no, name.month()) {
        if let Some(r) = ctx
            .records()
            .find(|r| month_of(r, no).is_some_and(|m| m != name_month))
        {
            ctx.push(
                findings,
                r.line,
                Some(no),
                Severity::Warning,
                FindingCode::NameMismatch,
                format!("the month differs from the file name's {name_month}"),
            );
        }
    }
    let sender_no = match name.kind() {
        FileKind::Table1 => Some(13),
        FileKind::Plan => Some(6),
        FileKind::Actual => Some(20),
        FileKind::ActualDelete => Some(5),
        _ => None,
    };
    if let Some(no) = sender_no {
        let sender = name.sender().office;
        if let Some(r) = ctx.records().find(|r| {
            r.cell(no)
                .is_some_and(|c| !c.is_empty() && c != sender.as_str())
        }) {
            ctx.push(
                findings,
                r.line,
                Some(no),
                Severity::Warning,
                FindingCode::NameMismatch,
                String::from("the office differs from the file name's sender"),
            );
        }
    }
}

/// Link keys must identify one parent (spec §4.4 relationships, §4.6 deletion keys): the
/// 1表 by 保険者番号 + 被保険者番号 + 作成（変更）日, the 補足 by the same or by 対象年月, and
/// the 削除 records by their keys. A repeated key is a warning (the spec states the keys, not
/// a uniqueness rule).
fn duplicate_keys(ctx: &Ctx<'_>, findings: &mut Findings) {
    let key_columns: &[u16] = match ctx.kind {
        RecordKind::Table1 => &[2, 3, 14],
        RecordKind::Supplement => &[2, 3, 4, 63],
        RecordKind::Table1Delete | RecordKind::PlanDelete => &[2, 3, 4],
        RecordKind::ActualDelete => &[2, 3, 4, 5, 6],
        _ => return,
    };
    let mut seen: HashMap<Vec<&str>, u32> = HashMap::new();
    for r in ctx.records().filter(|r| r.clean) {
        let key: Vec<&str> = key_columns.iter().filter_map(|&no| r.cell(no)).collect();
        if let Some(first) = seen.get(&key) {
            ctx.push(
                findings,
                r.line,
                None,
                Severity::Warning,
                FindingCode::DuplicateKey,
                format!("same link key as the record on line {first}"),
            );
        } else {
            seen.insert(key, r.line);
        }
    }
}

/// spec §2.1 and §3.1 No.4/No.63: a 補足 that goes with the 1表 has a 作成（変更）日 and
/// 対象年月 `000000` (file name 提供年月 `000000`); one that goes with the 第6表 has
/// `00000000` and the 対象年月 of the file name.
fn supplement_link(ctx: &Ctx<'_>, findings: &mut Findings) {
    let name_month = ctx.file.name.as_ref().map(|n| n.month());
    for r in ctx.records() {
        let (Some(date), Some(month)) = (r.cell(4), r.cell(63)) else {
            continue;
        };
        let with_plan = date != "00000000" && month == "000000";
        let with_usage = date == "00000000" && month != "000000";
        let message = if !with_plan && !with_usage {
            Some(String::from(
                "exactly one of 居宅サービス計画作成（変更）日 (00000000 with the 第6表) and 対象年月 (000000 with the 1表) must be zero",
            ))
        } else {
            match name_month {
                Some(None) if !with_plan => Some(String::from(
                    "the file name's 提供年月 000000 says the file goes with the 1表: 対象年月 must be 000000 and 居宅サービス計画作成（変更）日 a date",
                )),
                Some(Some(m)) if !with_usage || YearMonth::parse(month) != Some(m) => {
                    Some(format!(
                        "the file name's 提供年月 {m} says the file goes with the 第6表: 居宅サービス計画作成（変更）日 must be 00000000 and 対象年月 {m}"
                    ))
                }
                _ => None,
            }
        };
        if let Some(message) = message {
            let no = if with_usage { 63 } else { 4 };
            ctx.push(
                findings,
                r.line,
                Some(no),
                Severity::Error,
                FindingCode::HosokuLink,
                message,
            );
        }
    }
}

fn service_type_of(code: &str) -> Option<ServiceTypeCode> {
    ServiceTypeCode::parse(code.get(..2)?)
}

/// spec §4.1 `[R list]`: records are not generated for out-of-scope service types.
fn scope(ctx: &Ctx<'_>, r: &Record, no: u16, ty: ServiceTypeCode, findings: &mut Findings) {
    let message = match ty.scope() {
        ServiceScope::InScope => return,
        ServiceScope::OutOfScope => {
            format!("service type {ty} is out of the standard's scope: its records are not sent")
        }
        ServiceScope::NotListed => {
            format!("service type {ty} is not in the standard's list of in-scope types")
        }
    };
    ctx.push(
        findings,
        r.line,
        Some(no),
        Severity::Warning,
        FindingCode::ServiceOutOfScope,
        message,
    );
}

/// spec §3.6 No.16/17 and §4.2 (v4 only): a 17/67 福祉用具貸与 line fills TAISコード or
/// 福祉用具届出コード.
fn tais(
    ctx: &Ctx<'_>,
    r: &Record,
    ty: ServiceTypeCode,
    (tais, notified): (u16, u16),
    findings: &mut Findings,
) {
    if ctx.file.generation != Generation::V4 || !matches!(ty.as_str(), "17" | "67") {
        return;
    }
    let empty = |no| r.cell(no).is_none_or(str::is_empty);
    if empty(tais) && empty(notified) {
        ctx.push(
            findings,
            r.line,
            Some(tais),
            Severity::Error,
            FindingCode::TaisMissing,
            format!(
                "a {ty} 福祉用具貸与 line needs TAISコード or 福祉用具届出コード (spec §3.6, §4.2)"
            ),
        );
    }
}

/// 第6表 lines: spec §3.6 No.16/17 (TAIS), No.19 (明細判別コード only for 17), §4.1 scope,
/// and (derived) the サービス利用日 within the 対象年月.
fn table6_lines(ctx: &Ctx<'_>, findings: &mut Findings) {
    for r in ctx.records() {
        let Some(ty) = r.cell(15).and_then(service_type_of) else {
            continue;
        };
        tais(ctx, r, ty, (16, 17), findings);
        if r.cell(19).is_some_and(|c| !c.is_empty()) && ty.as_str() != "17" {
            ctx.push(
                findings,
                r.line,
                Some(19),
                Severity::Error,
                FindingCode::DetailCodeMisplaced,
                format!(
                    "明細判別コード is only for 17 福祉用具貸与, not type {ty} (spec §3.6 No.19)"
                ),
            );
        }
        scope(ctx, r, 15, ty, findings);
        let date = r.cell(10).and_then(parse_date);
        let outside = date
            .zip(month_of(r, 5))
            .filter(|(date, month)| !month.contains(*date));
        if let Some((_, month)) = outside {
            ctx.push(
                findings,
                r.line,
                Some(10),
                Severity::Warning,
                FindingCode::DateOutsideMonth,
                format!("サービス利用日 is outside the 対象年月 {month}"),
            );
        }
    }
}

/// 第7表 rows (spec §3.8, §4.2): the 全合計 row (ALL9 code and office) is mandatory per
/// person; subtotal and total rows have 単位数 0 and empty 割引後率/割引後単位数; an `AAAA`
/// subtotal is mandatory for a 区分支給対象 type with several lines (warning: whether a type
/// is 区分支給対象 is not known here, so an `EEEE` subtotal also satisfies it); TAIS and scope
/// as in the 第6表.
fn table7_rows(ctx: &Ctx<'_>, findings: &mut Findings) {
    type Person<'a> = (&'a str, &'a str);
    let mut people: Vec<(Person<'_>, u32)> = Vec::new();
    let mut totals: HashSet<Person<'_>> = HashSet::new();
    let mut lines: HashMap<(Person<'_>, &str, ServiceTypeCode), (u32, usize)> = HashMap::new();
    let mut subtotals: HashSet<(Person<'_>, &str, ServiceTypeCode)> = HashSet::new();
    for r in ctx.records() {
        let (Some(insurer), Some(insured), Some(office)) = (r.cell(2), r.cell(3), r.cell(7)) else {
            continue;
        };
        let person = (insurer, insured);
        if !people.iter().any(|(p, _)| *p == person) {
            people.push((person, r.line));
        }
        let Some(code) = r.cell(9).and_then(Table7Code::parse) else {
            continue;
        };
        let all_nines = office == "9999999999";
        if (code == Table7Code::GrandTotal) != all_nines {
            let message = if all_nines {
                "サービス事業所コード 9999999999 is only for the 全合計 row (サービスコード 999999)"
            } else {
                "the 全合計 row (サービスコード 999999) has サービス事業所コード 9999999999"
            };
            ctx.push(
                findings,
                r.line,
                Some(7),
                Severity::Error,
                FindingCode::SubtotalRow,
                message.to_owned(),
            );
        }
        if code.is_summary() {
            if r.cell(13).is_some_and(|c| !c.is_empty() && c != "0") {
                ctx.push(
                    findings,
                    r.line,
                    Some(13),
                    Severity::Error,
                    FindingCode::SubtotalRow,
                    String::from("単位数 is 0 on subtotal and total rows"),
                );
            }
            for no in [14, 15] {
                if r.cell(no).is_some_and(|c| !c.is_empty()) {
                    ctx.push(
                        findings,
                        r.line,
                        Some(no),
                        Severity::Error,
                        FindingCode::SubtotalRow,
                        String::from("must be empty on subtotal and total rows"),
                    );
                }
            }
        }
        match code {
            Table7Code::GrandTotal => {
                totals.insert(person);
            }
            Table7Code::Subtotal(ty) | Table7Code::ExcludedSubtotal(ty) => {
                subtotals.insert((person, office, ty));
            }
            Table7Code::Over30Subtotal(_) => {}
            Table7Code::Service(c) => {
                let ty = c.service_type();
                tais(ctx, r, ty, (10, 11), findings);
                scope(ctx, r, 9, ty, findings);
                lines
                    .entry((person, office, ty))
                    .and_modify(|e| e.1 += 1)
                    .or_insert((r.line, 1));
            }
        }
    }
    for (person, line) in &people {
        if !totals.contains(person) {
            ctx.push(
                findings,
                *line,
                Some(9),
                Severity::Error,
                FindingCode::TotalMissing,
                String::from(
                    "this person's 第7表 has no 全合計 row (サービスコード 999999, mandatory; spec §3.8)",
                ),
            );
        }
    }
    let mut missing: Vec<_> = lines
        .iter()
        .filter(|(key, (_, count))| *count > 1 && !subtotals.contains(*key))
        .map(|((_, _, ty), (line, count))| (*line, *ty, *count))
        .collect();
    missing.sort();
    for (line, ty, count) in missing {
        ctx.push(
            findings,
            line,
            Some(9),
            Severity::Warning,
            FindingCode::SubtotalMissing,
            format!(
                "type {ty} has {count} lines at this office but no {ty}AAAA subtotal (mandatory for 区分支給対象 types)"
            ),
        );
    }
}
