//! The report folder of a run: `report.md` (inputs, verdicts, summary, calibration, monthly
//! tables, comparison, model), SVG charts, `series.csv` and `series.json`, `rollout.csv`,
//! `verdicts.json`, `inputs.json` and a copy of the scenario. Nothing in it depends on the
//! wall clock or the machine: the same scenario, seed and code give the same bytes.

pub mod labels;
mod svg;
pub(crate) mod wire;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::error::EngineError;
use crate::metrics::{Metric, format_value};
use crate::params::ASSUMED;
use crate::report::labels::Lang;
use crate::run::{Results, RunOptions};
use crate::scenario::{Chart, Scenario, Scope, StepKind};

use svg::{Series, line_chart};

/// The kiban version written into reports.
pub const KIBAN_VERSION: &str = env!("CARGO_PKG_VERSION");

fn write_file(
    dir: &Path,
    name: &str,
    bytes: &[u8],
    files: &mut Vec<PathBuf>,
) -> Result<(), EngineError> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).map_err(|source| EngineError::Io {
        path: path.clone(),
        source,
    })?;
    files.push(path);
    Ok(())
}

/// Writes the report folder; returns the files, sorted.
pub(crate) fn write(
    scenario: &Scenario,
    options: &RunOptions,
    r: &Results,
) -> Result<Vec<PathBuf>, EngineError> {
    let dir = &options.out_dir;
    std::fs::create_dir_all(dir).map_err(|source| EngineError::Io {
        path: dir.clone(),
        source,
    })?;
    let mut files = Vec::new();
    let metrics = reported_metrics(scenario);
    let mut charts = Vec::new();
    for chart in &scenario.report.charts {
        if let Some(svg) = draw(*chart, scenario, r)? {
            let name = format!("{}.svg", chart.id());
            write_file(dir, &name, svg.as_bytes(), &mut files)?;
            charts.push((*chart, name));
        }
    }
    write_file(
        dir,
        "series.csv",
        series_csv(r, &metrics).as_bytes(),
        &mut files,
    )?;
    write_file(
        dir,
        "series.json",
        to_json(&series_json(r, &metrics)).as_bytes(),
        &mut files,
    )?;
    write_file(dir, "rollout.csv", rollout_csv(r).as_bytes(), &mut files)?;
    write_file(
        dir,
        "verdicts.json",
        to_json(&verdicts_json(r)).as_bytes(),
        &mut files,
    )?;
    write_file(
        dir,
        "inputs.json",
        to_json(&inputs_json(scenario, options, r)).as_bytes(),
        &mut files,
    )?;
    write_file(dir, "scenario.toml", scenario.text.as_bytes(), &mut files)?;
    let md = markdown(scenario, options, r, &metrics, &charts);
    write_file(dir, "report.md", md.as_bytes(), &mut files)?;
    files.sort();
    Ok(files)
}

fn to_json(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(&sorted_keys(v))
        .unwrap_or_else(|e| unreachable!("JSON values serialise: {e}"));
    s.push('\n');
    s
}

/// `v` with every object's keys in sorted order. serde_json's map keeps insertion order when
/// any crate in the build turns on its `preserve_order` feature (cedar-policy does, in
/// workspace builds), so reports sort explicitly to stay byte-identical in every build.
fn sorted_keys(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted_keys(&map[k])))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted_keys).collect()),
        other => other.clone(),
    }
}

/// Report metrics plus every metric an expectation names, in report order.
fn reported_metrics(scenario: &Scenario) -> Vec<Metric> {
    let mut list = scenario.report.metrics.clone();
    for s in &scenario.steps {
        if let StepKind::Metric { metric, .. } = s.kind {
            if !list.contains(&metric) {
                list.push(metric);
            }
        }
    }
    list
}

fn json_number(metric: Metric, v: Option<f64>) -> Value {
    match v {
        None => Value::Null,
        Some(v) if metric.is_ratio() => json!((v * 1e6).round() / 1e6),
        Some(v) => json!(v.round() as i64),
    }
}

fn series_csv(r: &Results, metrics: &[Metric]) -> String {
    let mut out = String::from("variant,scope,month,metric,value\n");
    for (vi, v) in r.variants.iter().enumerate() {
        for scope in &r.scopes {
            for (mi, month) in r.months.iter().enumerate() {
                let sums = r.sum(vi, mi, scope);
                for m in metrics {
                    let value = format_value(*m, m.value(&sums));
                    let value = if value == "-" { String::new() } else { value };
                    let _ = writeln!(
                        out,
                        "{},{},{month},{},{value}",
                        csv_field(&v.name),
                        csv_field(&scope.to_string()),
                        m.id()
                    );
                }
            }
        }
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn series_json(r: &Results, metrics: &[Metric]) -> Value {
    let mut series = Vec::new();
    for (vi, v) in r.variants.iter().enumerate() {
        for scope in &r.scopes {
            for m in metrics {
                let values: Vec<Value> = (0..r.months.len())
                    .map(|mi| json_number(*m, r.value(vi, mi, scope, *m)))
                    .collect();
                series.push(json!({
                    "variant": v.name,
                    "scope": scope.to_string(),
                    "metric": m.id(),
                    "values": values,
                }));
            }
        }
    }
    json!({
        "months": r.months.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "scale": r.scale,
        "series": series,
    })
}

fn rollout_csv(r: &Results) -> String {
    let mut out = String::from("code,prefecture,name,kind,survey_respondent");
    for v in &r.variants {
        let _ = write!(out, ",{}", csv_field(&format!("go_live_{}", v.name)));
    }
    out.push('\n');
    for (i, m) in r.world.iter().enumerate() {
        let respondent = r.variants.first().is_some_and(|v| v.schedule.respondent[i]);
        let _ = write!(
            out,
            "{},{},{},{},{}",
            m.code, m.prefecture, m.name, m.kind, respondent
        );
        for v in &r.variants {
            let d = v.schedule.live_from[i]
                .map(|d| d.to_string())
                .unwrap_or_default();
            let _ = write!(out, ",{d}");
        }
        out.push('\n');
    }
    out
}

fn verdicts_json(r: &Results) -> Value {
    let list: Vec<Value> = r
        .verdicts
        .iter()
        .map(|v| {
            json!({
                "step": v.step,
                "line": v.line,
                "variant": v.variant,
                "subject": v.subject,
                "expected": v.expected,
                "actual": v.actual,
                "passed": v.passed,
                "note": v.note,
            })
        })
        .collect();
    json!({
        "passed": r.verdicts.iter().filter(|v| v.passed).count(),
        "failed": r.verdicts.iter().filter(|v| !v.passed).count(),
        "verdicts": list,
    })
}

fn inputs_json(scenario: &Scenario, options: &RunOptions, r: &Results) -> Value {
    let variants: Vec<Value> = r
        .variants
        .iter()
        .map(|v| {
            json!({
                "name": v.name,
                "description": v.description,
                "policy": serde_json::to_value(v.policy).unwrap_or(Value::Null),
                "model": serde_json::to_value(&v.params).unwrap_or(Value::Null),
            })
        })
        .collect();
    json!({
        "scenario": scenario.name,
        "source": scenario.source_name,
        "sha256": scenario.hash,
        "seed": r.seed,
        "scale": r.scale,
        "mode": "model",
        "start": scenario.start.to_string(),
        "end": scenario.end.to_string(),
        "kiban_version": KIBAN_VERSION,
        "git_commit": options.git_commit,
        "lang": r.lang.code(),
        "variants": variants,
    })
}

fn draw(chart: Chart, scenario: &Scenario, r: &Results) -> Result<Option<String>, EngineError> {
    let l = r.lang;
    let base = 0;
    let series_of = |vi: usize, scope: &Scope, m: Metric, name: String| Series {
        name,
        values: (0..r.months.len())
            .map(|mi| r.value(vi, mi, scope, m))
            .collect(),
    };
    let (title, y, series): (&str, &str, Vec<Series>) = match chart {
        Chart::Rollout => (
            l.pick("Municipalities live", "稼働市町村の割合"),
            l.pick("share", "割合"),
            [
                (Scope::Nation, l.pick("all", "全体")),
                (
                    Scope::Large,
                    l.pick(
                        "large (designated, wards, core)",
                        "指定都市・特別区・中核市",
                    ),
                ),
                (Scope::Other, l.pick("other", "その他")),
            ]
            .into_iter()
            .map(|(s, n)| series_of(base, &s, Metric::MunicipalitiesLiveShare, n.to_owned()))
            .collect(),
        ),
        Chart::Sharing => {
            if scenario.world.scale == 0.0 && r.scale == 0.0 {
                return Ok(None);
            }
            (
                l.pick(
                    "Care relationships: electronic and on paper",
                    "ケア関係: 電子共有と紙運用",
                ),
                l.pick("relationships", "関係数"),
                [
                    Metric::Electronic,
                    Metric::PaperInsurerNotLive,
                    Metric::PaperOfficeMunicipalityNotLive,
                    Metric::PaperNotRegistered,
                    Metric::PaperNoCard,
                    Metric::PaperNoConsent,
                    Metric::WrongfulDenials,
                ]
                .into_iter()
                .map(|m| series_of(base, &Scope::Nation, m, m.label(l).to_owned()))
                .collect(),
            )
        }
        Chart::CardReads => {
            if r.scale == 0.0 {
                return Ok(None);
            }
            (
                l.pick("Card reads per month", "月別カード読取回数"),
                l.pick("reads", "回"),
                r.variants
                    .iter()
                    .enumerate()
                    .map(|(vi, v)| series_of(vi, &Scope::Nation, Metric::CardReads, v.name.clone()))
                    .collect(),
            )
        }
        Chart::Policies => {
            if r.scale == 0.0 {
                return Ok(None);
            }
            let mut list = Vec::new();
            for (vi, v) in r.variants.iter().enumerate() {
                for m in [Metric::WrongfulDenials, Metric::Exposure] {
                    list.push(series_of(
                        vi,
                        &Scope::Nation,
                        m,
                        format!("{} — {}", v.name, m.label(l)),
                    ));
                }
            }
            (
                l.pick(
                    "Wrongful denials and exposure by variant",
                    "不当な拒否とサービス終了後のアクセス(バリアント別)",
                ),
                l.pick("relationships", "関係数"),
                list,
            )
        }
        Chart::LeadTime => {
            if r.scale == 0.0 {
                return Ok(None);
            }
            (
                l.pick("Certification lead time", "要介護認定の処理日数"),
                l.pick("days", "日"),
                [
                    Metric::LeadDaysPaperMean,
                    Metric::LeadDaysElectronicMean,
                    Metric::LeadDaysMean,
                ]
                .into_iter()
                .map(|m| series_of(base, &Scope::Nation, m, m.label(l).to_owned()))
                .collect(),
            )
        }
    };
    line_chart(title, y, &r.months, &series)
        .map(Some)
        .map_err(|message| EngineError::Chart {
            name: chart.id().to_owned(),
            message,
        })
}

fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

fn markdown(
    scenario: &Scenario,
    options: &RunOptions,
    r: &Results,
    metrics: &[Metric],
    charts: &[(Chart, String)],
) -> String {
    let l = r.lang;
    let mut md = String::new();
    let _ = writeln!(md, "# {}\n", scenario.name);
    if !scenario.description.trim().is_empty() {
        let _ = writeln!(md, "{}\n", scenario.description.trim());
    }

    // Inputs.
    let commit = inputs_heading(&mut md, l, options);
    let rows = [
        (
            l.pick("scenario file", "シナリオ"),
            scenario.source_name.clone(),
        ),
        ("SHA-256", format!("`{}`", scenario.hash)),
        (l.pick("seed", "シード"), r.seed.to_string()),
        (l.pick("mode", "モード"), "model".to_owned()),
        (
            l.pick("period", "期間"),
            format!("{} – {}", scenario.start, scenario.end),
        ),
        (
            l.pick("scale", "規模"),
            format!(
                "{} {}",
                r.scale,
                l.pick(
                    "(counts are of the simulated population)",
                    "(件数はシミュレーション上の人口)"
                )
            ),
        ),
        (
            l.pick("kiban version", "kiban バージョン"),
            KIBAN_VERSION.to_owned(),
        ),
        (l.pick("commit", "コミット"), commit),
        (
            l.pick("variants", "バリアント"),
            r.variants
                .iter()
                .map(|v| v.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
    ];
    key_value_rows(&mut md, rows);

    // Verdicts.
    expectations_heading(&mut md, l, r.verdicts.iter().map(|v| v.passed));
    if !r.verdicts.is_empty() {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |\n|---|---|---|---|---|---|---|",
            l.pick("step", "ステップ"),
            l.pick("line", "行"),
            l.pick("variant", "バリアント"),
            l.pick("what", "対象"),
            l.pick("expected", "期待"),
            l.pick("actual", "結果"),
            l.pick("verdict", "判定"),
        );
        for v in &r.verdicts {
            let verdict = verdict_word(l, v.passed);
            let subject = if v.note.is_empty() {
                v.subject.clone()
            } else {
                format!("{} — {}", v.subject, v.note)
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {verdict} |",
                v.step,
                v.line,
                v.variant,
                subject.replace('|', "\\|"),
                v.expected,
                v.actual
            );
        }
        md.push('\n');
    }

    // Calibration.
    if let Some(table) = r.variants.first().and_then(|v| v.calibration.as_ref()) {
        let _ = writeln!(
            md,
            "## {}\n",
            l.pick(
                "Calibration against the February 2025 survey",
                "2025年2月調査との較正"
            )
        );
        let _ = writeln!(
            md,
            "{}\n",
            l.pick(
                "Share of municipalities live by the end of FY2026 (2027-03-31) and FY2027 (2028-03-31), among the municipalities the generator drew as respondents (the survey's denominator excludes undecided ones), baseline rollout. Large = designated cities, special wards and core cities.",
                "令和8年度末(2027-03-31)・令和9年度末(2028-03-31)までに稼働する市町村の割合。生成器が回答団体とした市町村が分母(調査は「調整中・未定」を除く)。大規模 = 指定都市・特別区・中核市。ベースラインの稼働計画。"
            )
        );
        let _ = writeln!(
            md,
            "| {} | n | {} FY2026 | {} | {} | {} FY2027 | {} | {} | ±2pt |\n|---|---|---|---|---|---|---|---|---|",
            l.pick("group", "区分"),
            l.pick("target", "目標"),
            l.pick("run", "結果"),
            l.pick("diff", "差"),
            l.pick("target", "目標"),
            l.pick("run", "結果"),
            l.pick("diff", "差"),
        );
        for row in table {
            let t = |v: Option<f64>| v.map_or("-".to_owned(), pct);
            let d = |t: Option<f64>, a: f64| {
                t.map_or("-".to_owned(), |t| format!("{:+.1}", (a - t) * 100.0))
            };
            let ok = if row.target_fy2026.is_none() {
                "-"
            } else if row.within(2.0) {
                l.pick("yes", "適合")
            } else {
                l.pick("NO", "不適合")
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {ok} |",
                row.group,
                row.count,
                t(row.target_fy2026),
                pct(row.achieved_fy2026),
                d(row.target_fy2026, row.achieved_fy2026),
                t(row.target_fy2027),
                pct(row.achieved_fy2027),
                d(row.target_fy2027, row.achieved_fy2027),
            );
        }
        md.push('\n');
    }

    // Summary at fiscal-year ends and the last month.
    let _ = writeln!(md, "## {}\n", l.pick("Summary (nation)", "概要(全国)"));
    let mut picks: Vec<usize> = r
        .months
        .iter()
        .enumerate()
        .filter(|(_, m)| m.month == 3)
        .map(|(i, _)| i)
        .collect();
    if let Some(last) = r.months.len().checked_sub(1) {
        if !picks.contains(&last) {
            picks.push(last);
        }
    }
    let _ = write!(
        md,
        "| {} | {} |",
        l.pick("metric", "指標"),
        l.pick("variant", "バリアント")
    );
    for &mi in &picks {
        let _ = write!(md, " {} |", r.months[mi]);
    }
    let _ = write!(md, "\n|---|---|");
    for _ in &picks {
        md.push_str("---:|");
    }
    md.push('\n');
    for m in metrics {
        for (vi, v) in r.variants.iter().enumerate() {
            let _ = write!(md, "| {} | {} |", m.label(l), v.name);
            for &mi in &picks {
                let _ = write!(
                    md,
                    " {} |",
                    format_value(*m, r.value(vi, mi, &Scope::Nation, *m))
                );
            }
            md.push('\n');
        }
    }
    md.push('\n');

    // Totals of flows over the period.
    if r.scale > 0.0 {
        let flows = [
            Metric::CardReads,
            Metric::CardReadsFirstConference,
            Metric::FirstConferences,
            Metric::ReRegistrations,
            Metric::MunicipalityVerified,
            Metric::LapsesWhileActive,
            Metric::CertDecisions,
            Metric::Deaths,
            Metric::NewApplications,
            Metric::Decisions,
        ];
        let _ = writeln!(
            md,
            "## {}\n",
            l.pick("Totals over the period (nation)", "期間合計(全国)")
        );
        let _ = write!(md, "| {} |", l.pick("metric", "指標"));
        for v in &r.variants {
            let _ = write!(md, " {} |", v.name);
        }
        let _ = write!(md, "\n|---|");
        for _ in &r.variants {
            md.push_str("---:|");
        }
        md.push('\n');
        for m in flows {
            let _ = write!(md, "| {} |", m.label(l));
            for vi in 0..r.variants.len() {
                let total: f64 = (0..r.months.len())
                    .filter_map(|mi| r.value(vi, mi, &Scope::Nation, m))
                    .sum();
                let _ = write!(md, " {total:.0} |");
            }
            md.push('\n');
        }
        md.push('\n');
    }

    // Monthly tables per scope for the baseline.
    for scope in &r.scopes {
        for (vi, v) in r.variants.iter().enumerate() {
            let _ = writeln!(
                md,
                "## {} — {} — {}\n",
                l.pick("Monthly", "月次"),
                scope,
                v.name
            );
            let _ = write!(md, "| {} |", l.pick("month", "月"));
            for m in metrics {
                let _ = write!(md, " {} |", m.id());
            }
            let _ = write!(md, "\n|---|");
            for _ in metrics {
                md.push_str("---:|");
            }
            md.push('\n');
            for (mi, month) in r.months.iter().enumerate() {
                let sums = r.sum(vi, mi, scope);
                let _ = write!(md, "| {month} |");
                for m in metrics {
                    let _ = write!(md, " {} |", format_value(*m, m.value(&sums)));
                }
                md.push('\n');
            }
            md.push('\n');
        }
    }

    // Charts.
    if !charts.is_empty() {
        let _ = writeln!(md, "## {}\n", l.pick("Charts", "グラフ"));
        for (chart, name) in charts {
            let _ = writeln!(md, "![{}]({name})\n", chart.id());
        }
    }

    // Model: policies, parameters, sizes.
    let _ = writeln!(md, "## {}\n", l.pick("Model", "モデル"));
    let _ = writeln!(
        md,
        "{}\n",
        l.pick(
            "Every decision is `kiban_core::decide::decide` over the model's view. Parameters marked *assumption* have no source; the others cite `shared/research/domain-facts.md` or `DOMAIN.md` (see `sim/engine/src/params.rs`). Metric definitions: `scenarios/README.md`.",
            "すべての判定は kiban_core::decide::decide による。*仮定* と記した値は出典のない仮定、それ以外は domain-facts.md / DOMAIN.md に出典がある(sim/engine/src/params.rs)。指標の定義は scenarios/README.md。"
        )
    );
    for v in &r.variants {
        let policy = toml::to_string(&v.policy).unwrap_or_default();
        let _ = writeln!(md, "### {} — {}\n", l.pick("Variant", "バリアント"), v.name);
        if !v.description.is_empty() {
            let _ = writeln!(md, "{}\n", v.description);
        }
        let _ = writeln!(md, "```toml\n{}```\n", policy);
        let _ = writeln!(
            md,
            "{}: {} {}, {} {}, {} {}, {} {}, {} {}\n",
            l.pick("Sizes", "規模"),
            v.stats.persons,
            l.pick("persons", "人"),
            v.stats.relationships,
            l.pick("relationships", "関係"),
            v.stats.registrations,
            l.pick("registrations", "登録"),
            v.stats.offices,
            l.pick("offices", "事業所"),
            v.stats.events,
            l.pick("events", "イベント"),
        );
    }
    let base = &r.variants[0];
    let params = sorted_keys(&serde_json::to_value(&base.params).unwrap_or(Value::Null));
    if let Value::Object(map) = params {
        let _ = writeln!(
            md,
            "| {} | {} | {} |\n|---|---|---|",
            l.pick("parameter (baseline)", "パラメータ(ベースライン)"),
            l.pick("value", "値"),
            l.pick("basis", "根拠")
        );
        for (k, v) in map {
            let basis = if ASSUMED.contains(&k.as_str()) {
                l.pick("*assumption*", "*仮定*")
            } else {
                l.pick("sourced", "出典あり")
            };
            let _ = writeln!(md, "| {k} | `{v}` | {basis} |");
        }
        md.push('\n');
    }
    md
}

/// The "Inputs" heading and table head of a report; returns the commit cell.
fn inputs_heading(md: &mut String, l: Lang, options: &RunOptions) -> String {
    let _ = writeln!(md, "## {}\n", l.pick("Inputs", "入力"));
    let _ = writeln!(
        md,
        "| {} | {} |\n|---|---|",
        l.pick("item", "項目"),
        l.pick("value", "値")
    );
    options
        .git_commit
        .clone()
        .unwrap_or_else(|| l.pick("not given", "指定なし").to_owned())
}

/// The rows of a two-column table, then a blank line.
fn key_value_rows<K: std::fmt::Display, V: std::fmt::Display>(
    md: &mut String,
    rows: impl IntoIterator<Item = (K, V)>,
) {
    for (k, v) in rows {
        let _ = writeln!(md, "| {k} | {v} |");
    }
    md.push('\n');
}

/// The "Expectations" heading with how many passed and failed.
fn expectations_heading(md: &mut String, l: Lang, verdicts: impl Iterator<Item = bool>) {
    let (mut passed, mut failed) = (0usize, 0usize);
    for ok in verdicts {
        if ok {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    let _ = writeln!(md, "## {}\n", l.pick("Expectations", "期待値の判定"));
    let _ = writeln!(
        md,
        "{passed} {}, {failed} {}\n",
        l.pick("passed", "合格"),
        l.pick("failed", "不合格")
    );
}

/// The verdict cell of an expectation.
fn verdict_word(l: Lang, passed: bool) -> &'static str {
    if passed {
        l.pick("pass", "合格")
    } else {
        l.pick("FAIL", "不合格")
    }
}
