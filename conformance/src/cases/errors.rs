//! Error handling and bad input: problem+json everywhere, the right 4xx for malformed JSON,
//! routes, methods, media types, sizes and identifiers, and never a 5xx for client input.

use serde_json::json;

use super::{body, case};
use crate::catalogue::Area::Errors;
use crate::http::{Exchange, Req};
use crate::suite::{CaseDef, Ctx, Need, Verdict, ensure, expect, fail};
use crate::target::Slot;

const MUN: Slot = Slot::Municipality;

pub(super) fn cases() -> Vec<CaseDef> {
    vec![
        case(
            "ERR-01",
            Errors,
            "malformed JSON is a 400 problem document with type, title, status, detail and code",
            &["KIBAN-ERR-002"],
            body!(problem_shape),
        )
        .tags(&["negative"]),
        case(
            "ERR-02",
            Errors,
            "unknown routes, methods, media types and oversized bodies get 404, 405, 415, 413",
            &["KIBAN-ERR-003", "KIBAN-ERR-002"],
            body!(protocol_errors),
        )
        .tags(&["negative"]),
        case(
            "ERR-03",
            Errors,
            "a bad check digit in a path identifier is a 400 that does not echo it",
            &["KIBAN-ERR-004"],
            body!(identifiers_checked),
        )
        .tags(&["negative"]),
        case(
            "ERR-04",
            Errors,
            "odd input on every kind of route never gets a 5xx or a non-problem error",
            &["KIBAN-ERR-001", "KIBAN-ERR-002"],
            body!(no_server_errors),
        )
        .tags(&["negative", "robustness"])
        .needs(&[Need::Slot(Slot::CareManagement)]),
        case(
            "ERR-05",
            Errors,
            "an unknown information class is 404 unknown-class",
            &["KIBAN-ERR-002"],
            body!(unknown_class),
        )
        .tags(&["negative"]),
        case(
            "ERR-06",
            Errors,
            "a path segment that is not UTF-8 gets a 400 problem document",
            &["KIBAN-ERR-002", "KIBAN-ERR-004"],
            body!(path_not_utf8),
        )
        .tags(&["negative", "robustness"]),
    ]
}

/// Checks that `ex` is a well-formed problem document for its status.
fn problem(ex: &Exchange, requirement: &str, check: &str) -> Verdict {
    let body = ex.json();
    let ok = ex.resp().is_some_and(|r| r.is_problem())
        && body["status"].as_u64() == Some(u64::from(ex.status()))
        && ["type", "title", "detail", "code"]
            .iter()
            .all(|k| body[*k].is_string());
    ensure(
        ok,
        requirement,
        check,
        "application/problem+json with type, title, status (= HTTP status), detail, code",
        ex.summary(),
        Some(ex),
    )
}

async fn problem_shape(cx: Ctx) -> Verdict {
    let ex = cx
        .send(
            MUN,
            Req::post("/v1/municipality/ingest")
                .key("bad-json")
                .raw("application/json", b"{\"items\": [".to_vec()),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-ERR-002",
        "a truncated JSON body",
        400,
        Some("malformed-json"),
    )?;
    problem(&ex, "KIBAN-ERR-002", "the malformed-JSON answer")
}

async fn protocol_errors(cx: Ctx) -> Verdict {
    let ex = cx.send(MUN, Req::get("/v1/no-such-thing")).await?;
    expect(&ex, "KIBAN-ERR-003", "an unknown route", 404, None)?;
    problem(&ex, "KIBAN-ERR-002", "the unknown-route answer")?;
    let ex = cx
        .send(
            MUN,
            Req::new(hyper::Method::PATCH, "/v1/municipality/ingest"),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-ERR-003",
        "PATCH on the ingestion route",
        405,
        None,
    )?;
    problem(&ex, "KIBAN-ERR-002", "the method-not-allowed answer")?;
    let ex = cx
        .send(
            MUN,
            Req::post("/v1/municipality/ingest")
                .key("media")
                .raw("text/plain", b"items".to_vec()),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-ERR-003",
        "ingestion sent as text/plain",
        415,
        None,
    )?;
    problem(&ex, "KIBAN-ERR-002", "the unsupported-media-type answer")?;
    let mut big = b"{\"items\": [".to_vec();
    big.resize(9 * 1024 * 1024, b' ');
    let ex = cx
        .send(
            MUN,
            Req::post("/v1/municipality/ingest")
                .key("big")
                .raw("application/json", big),
        )
        .await?;
    expect(&ex, "KIBAN-ERR-003", "a 9 MiB ingestion body", 413, None)?;
    problem(&ex, "KIBAN-ERR-002", "the body-too-large answer")
}

async fn identifiers_checked(cx: Ctx) -> Verdict {
    let insurer = cx.insurer_of(MUN);
    let last = insurer
        .chars()
        .last()
        .and_then(|c| c.to_digit(10))
        .unwrap_or(0);
    let wrong = format!(
        "{}{}",
        &insurer[..insurer.len().saturating_sub(1)],
        (last + 1) % 10
    );
    let ex = cx
        .send(
            MUN,
            Req::get(format!(
                "/v1/persons/{wrong}/0000000001/classes/insurance-card"
            )),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-ERR-004",
        &format!("insurer number {wrong} with a wrong check digit"),
        400,
        Some("invalid-identifier"),
    )?;
    let detail = ex.json()["detail"].as_str().unwrap_or_default().to_owned();
    ensure(
        !detail.contains(&wrong),
        "KIBAN-ERR-004",
        "the refusal's detail",
        "no echo of the identifier",
        detail,
        Some(&ex),
    )
}

async fn unknown_class(mut cx: Ctx) -> Verdict {
    let person = cx.person().await?;
    let ex = cx.read(MUN, None, &person, "favourite-colour").await?;
    expect(
        &ex,
        "KIBAN-ERR-002",
        "a read of an unknown class",
        404,
        Some("unknown-class"),
    )?;
    problem(&ex, "KIBAN-ERR-002", "the unknown-class answer")
}

async fn no_server_errors(mut cx: Ctx) -> Verdict {
    let person = cx.person().await?;
    let token = cx.login(Slot::CareManagement).await?;
    let long_key = "k".repeat(129);
    let nested = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let bodies: Vec<(&str, Req)> = vec![
        (
            "invalid UTF-8 in a JSON body",
            Req::post("/v1/municipality/ingest")
                .key("utf8")
                .raw("application/json", vec![b'{', 0xff, 0xfe, b'}']),
        ),
        (
            "deeply nested arrays",
            Req::post("/v1/municipality/ingest")
                .key("nest")
                .raw("application/json", nested.into_bytes()),
        ),
        (
            "a huge number",
            Req::post("/v1/municipality/ingest")
                .key("num")
                .raw("application/json", b"{\"items\": 1e999999}".to_vec()),
        ),
        (
            "an empty JSON body",
            Req::post("/v1/municipality/ingest")
                .key("empty")
                .raw("application/json", Vec::new()),
        ),
        (
            "items of the wrong type",
            Req::post("/v1/municipality/ingest")
                .key("type")
                .json(&json!({"items": {"kind": 1}})),
        ),
        (
            "an over-long Idempotency-Key",
            Req::post("/v1/municipality/ingest")
                .key(&long_key)
                .json(&json!({"items": []})),
        ),
        (
            "a non-numeric inbox limit",
            Req::get("/v1/municipality/inbox?limit=abc"),
        ),
        (
            "a non-numeric message id",
            Req::post("/v1/municipality/inbox/abc/ack"),
        ),
        (
            "a negative clock value from a municipality",
            Req::put("/v1/operator/clock").json(&json!({"unix_seconds": -1})),
        ),
        (
            "a consent with an unknown occasion",
            Req::put(format!("{}/consent", person.path())).json(&json!({"occasion": "whenever"})),
        ),
        (
            "a representative with an invalid card link",
            Req::put(format!("{}/representatives/%20", person.path()))
                .json(&json!({"kind": "family"})),
        ),
    ];
    for (what, req) in bodies {
        let ex = cx.send(MUN, req).await?;
        robust(&ex, what)?;
    }
    let office: Vec<(&str, Req)> = vec![
        (
            "a Basic Authorization header",
            Req::get(person.class("insurance-card"))
                .header("authorization", "Basic YWRtaW46YWRtaW4="),
        ),
        (
            "an upload with a table for a class without tables",
            Req::post(person.class("life-feedback"))
                .bearer(&token)
                .json(&json!({"table": "home-1", "content": {}})),
        ),
        (
            "an activity dated in the future",
            Req::post(format!("{}/activity", person.path()))
                .bearer(&token)
                .json(&json!({"kind": "service", "on": "2999-01-01"})),
        ),
        (
            "a verification without an assertion",
            Req::post("/v1/identity/verify")
                .bearer(&token)
                .json(&json!({})),
        ),
        (
            "a care-plan file named with spaces",
            Req::put("/v1/careplan/files/UP1KYO%20x.CSV")
                .bearer(&token)
                .raw("text/csv", b"x".to_vec()),
        ),
    ];
    for (what, req) in office {
        let ex = cx.send(Slot::CareManagement, req).await?;
        robust(&ex, what)?;
    }
    Ok(())
}

fn robust(ex: &Exchange, what: &str) -> Verdict {
    if ex.status() >= 500 || ex.resp().is_none() {
        return Err(fail(
            "KIBAN-ERR-001",
            format!("a request with {what}"),
            "a 4xx problem document",
            ex.summary(),
            Some(ex),
        ));
    }
    if ex.status() >= 400 {
        problem(ex, "KIBAN-ERR-002", &format!("the answer to {what}"))?;
    }
    Ok(())
}

async fn path_not_utf8(mut cx: Ctx) -> Verdict {
    let person = cx.person().await?;
    let ex = cx
        .send(MUN, Req::get(format!("{}/classes/%00%ff", person.path())))
        .await?;
    expect(
        &ex,
        "KIBAN-ERR-004",
        "a class segment of percent-encoded bytes that are not UTF-8",
        400,
        None,
    )?;
    problem(
        &ex,
        "KIBAN-ERR-002",
        "the answer to a path segment that is not UTF-8",
    )
}
