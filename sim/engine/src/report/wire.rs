//! The report folder of a wire run, in the layout of model runs: `report.md` (inputs,
//! expectations, the step table with date, actor, action, request, expected, actual,
//! verdict and note, the world as set up, the policy), `steps.json` (the same, as data),
//! `inputs.json` and a copy of the scenario. Labels in Japanese and English.
//!
//! Only seeded or derived values appear (office numbers and insured numbers drawn from the
//! seed, route templates, dates of the scenario): no wall-clock time, port, certificate
//! serial, token, nonce, card link or My Number, so the same scenario, seed and code write
//! the same bytes.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::{Value, json};

use super::{
    KIBAN_VERSION, expectations_heading, inputs_heading, key_value_rows, to_json, verdict_word,
    write_file,
};
use crate::error::EngineError;
use crate::report::labels::Lang;
use crate::run::RunOptions;
use crate::scenario::{RepresentativeKind, Scenario};
use crate::wire::WireResults;

/// Writes the folder; returns the files, sorted.
pub(crate) fn write(
    scenario: &Scenario,
    options: &RunOptions,
    r: &WireResults,
) -> Result<Vec<PathBuf>, EngineError> {
    let dir = &options.out_dir;
    std::fs::create_dir_all(dir).map_err(|source| EngineError::Io {
        path: dir.clone(),
        source,
    })?;
    let lang = options.lang.unwrap_or(scenario.report.lang);
    let mut files = Vec::new();
    write_file(
        dir,
        "steps.json",
        to_json(&steps_json(r)).as_bytes(),
        &mut files,
    )?;
    write_file(
        dir,
        "inputs.json",
        to_json(&inputs_json(scenario, options, r, lang)).as_bytes(),
        &mut files,
    )?;
    write_file(dir, "scenario.toml", scenario.text.as_bytes(), &mut files)?;
    write_file(
        dir,
        "report.md",
        markdown(scenario, options, r, lang).as_bytes(),
        &mut files,
    )?;
    files.sort();
    Ok(files)
}

fn representative(kind: Option<RepresentativeKind>) -> Value {
    match kind {
        None => Value::Null,
        Some(RepresentativeKind::Family) => json!("family"),
        Some(RepresentativeKind::Guardian) => json!("guardian"),
    }
}

fn steps_json(r: &WireResults) -> Value {
    let steps: Vec<Value> = r
        .steps
        .iter()
        .map(|s| {
            json!({
                "step": s.number,
                "line": s.line,
                "date": s.date.to_string(),
                "actor": s.actor,
                "action": s.action,
                "request": s.request,
                "expected": s.expected,
                "actual": s.actual,
                "passed": s.passed,
                "note": s.note,
            })
        })
        .collect();
    json!({
        "passed": r.steps.iter().filter(|s| s.passed).count(),
        "failed": r.steps.iter().filter(|s| !s.passed).count(),
        "steps": steps,
        "world": world_json(r),
    })
}

fn world_json(r: &WireResults) -> Value {
    json!({
        "municipalities": r.municipalities.iter().map(|m| json!({
            "code": m.code.to_string(),
            "name": m.name,
            "live_from": m.live_from.map(|d| d.to_string()),
        })).collect::<Vec<_>>(),
        "offices": r.offices.iter().map(|o| json!({
            "name": o.name,
            "role": o.role.to_string(),
            "number": o.number,
            "municipality": o.municipality.to_string(),
            "terminals": o.terminals.iter().map(|t| json!({
                "name": t.name,
                "staff": t.staff,
                "certificate_valid_until": t.valid_until.to_string(),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "people": r.people.iter().map(|p| json!({
            "name": p.name,
            "insurer": p.insurer.to_string(),
            "insured": p.insured.to_string(),
            "card": p.card,
            "representative": representative(p.representative),
        })).collect::<Vec<_>>(),
    })
}

fn inputs_json(scenario: &Scenario, options: &RunOptions, r: &WireResults, lang: Lang) -> Value {
    let policy = scenario.variants.first().map(|v| v.policy);
    json!({
        "scenario": scenario.name,
        "source": scenario.source_name,
        "sha256": scenario.hash,
        "seed": r.seed,
        "mode": "wire",
        "start": scenario.start.to_string(),
        "end": scenario.end.to_string(),
        "clock": "each step at 00:00 JST of its date",
        "kiban_version": KIBAN_VERSION,
        "git_commit": options.git_commit,
        "lang": lang.code(),
        "policy": policy.and_then(|p| serde_json::to_value(p).ok()).unwrap_or(Value::Null),
    })
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn markdown(scenario: &Scenario, options: &RunOptions, r: &WireResults, l: Lang) -> String {
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
        (
            l.pick("mode", "モード"),
            l.pick(
                "wire (the reference platform and the actors over loopback mTLS)",
                "wire(参照プラットフォームとアクターをループバック mTLS で接続)",
            )
            .to_owned(),
        ),
        (
            l.pick("period", "期間"),
            format!("{} – {}", scenario.start, scenario.end),
        ),
        (
            l.pick("clock", "時刻"),
            l.pick(
                "each step at 00:00 JST of its date (the platform's simulated clock)",
                "各ステップはその日の 0:00 JST(プラットフォームの模擬時計)",
            )
            .to_owned(),
        ),
        (
            l.pick("kiban version", "kiban バージョン"),
            KIBAN_VERSION.to_owned(),
        ),
        (l.pick("commit", "コミット"), commit),
    ];
    key_value_rows(&mut md, rows);

    // Expectations and the step table.
    expectations_heading(&mut md, l, r.steps.iter().map(|s| s.passed));
    if !r.steps.is_empty() {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n|---|---|---|---|---|---|---|---|---|---|",
            l.pick("step", "ステップ"),
            l.pick("line", "行"),
            l.pick("date", "日付"),
            l.pick("actor", "主体"),
            l.pick("action", "操作"),
            l.pick("request", "リクエスト"),
            l.pick("expected", "期待"),
            l.pick("actual", "結果"),
            l.pick("verdict", "判定"),
            l.pick("note", "注記"),
        );
        for s in &r.steps {
            let verdict = verdict_word(l, s.passed);
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | `{}` | {} | {} | {verdict} | {} |",
                s.number,
                s.line,
                s.date,
                cell(&s.actor),
                cell(&s.action),
                cell(&s.request),
                cell(&s.expected),
                cell(&s.actual),
                cell(&s.note),
            );
        }
        md.push('\n');
    }

    // The world as set up.
    let _ = writeln!(md, "## {}\n", l.pick("World", "ワールド"));
    let _ = writeln!(
        md,
        "{}\n",
        l.pick(
            "Set up on the first day through the platform's API: the operator enrols each municipality with its go-live and registers each office; offices open their terminals at the operator's certificate desk and sign their staff in; each insurer uploads its people (generated from the seed; card holders linked through the J-LIS mock).",
            "初日にプラットフォームの API で構築: 運用者が市町村を稼働日とともに登録し事業所を登録、事業所は運用者の証明書窓口で端末を開設して職員がサインイン、保険者は被保険者(シードから生成、カード保有者は J-LIS 模擬でリンク)をアップロード。"
        )
    );
    let _ = writeln!(
        md,
        "| {} | {} | {} |\n|---|---|---|",
        l.pick("municipality", "市町村"),
        l.pick("name", "名称"),
        l.pick("go-live", "稼働日")
    );
    for m in &r.municipalities {
        let live = m
            .live_from
            .map_or_else(|| l.pick("never", "なし").to_owned(), |d| d.to_string());
        let _ = writeln!(md, "| {} | {} | {live} |", m.code, m.name);
    }
    md.push('\n');
    if !r.offices.is_empty() {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} |\n|---|---|---|---|---|",
            l.pick("office", "事業所"),
            l.pick("role", "種別"),
            l.pick("number", "番号"),
            l.pick("located in", "所在地"),
            l.pick(
                "terminals (staff, certificate valid until 00:00 JST of)",
                "端末(職員、証明書の有効期限 0:00 JST)"
            ),
        );
        for o in &r.offices {
            let terminals: Vec<String> = o
                .terminals
                .iter()
                .map(|t| format!("{} ({}, {})", t.name, t.staff, t.valid_until))
                .collect();
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                o.name,
                o.role,
                o.number,
                o.municipality,
                terminals.join("; ")
            );
        }
        md.push('\n');
    }
    if !r.people.is_empty() {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} |\n|---|---|---|---|---|",
            l.pick("person", "人"),
            l.pick("insurer", "保険者"),
            l.pick("insured number", "被保険者番号"),
            l.pick("My Number card", "マイナンバーカード"),
            l.pick("representative", "代理人"),
        );
        for p in &r.people {
            let card = if p.card {
                l.pick("yes", "あり")
            } else {
                l.pick("no", "なし")
            };
            let rep = match p.representative {
                None => "-",
                Some(RepresentativeKind::Family) => {
                    l.pick("family (own card)", "家族(本人のカード)")
                }
                Some(RepresentativeKind::Guardian) => {
                    l.pick("guardian (own card)", "成年後見人(本人のカード)")
                }
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {card} | {rep} |",
                p.name, p.insurer, p.insured
            );
        }
        md.push('\n');
    }

    // Policy.
    let _ = writeln!(md, "## {}\n", l.pick("Policy", "ポリシー"));
    let _ = writeln!(
        md,
        "{}\n",
        l.pick(
            "The platform decides every read with `kiban_core::decide::decide` under the published access matrix and this policy.",
            "プラットフォームは公開アクセス表とこのポリシーのもと kiban_core::decide::decide で各閲覧を判定する。"
        )
    );
    if let Some(v) = scenario.variants.first() {
        let policy = toml::to_string(&v.policy).unwrap_or_default();
        let _ = writeln!(md, "```toml\n{policy}```\n");
    }
    md
}
