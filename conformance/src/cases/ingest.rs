//! Ingestion by municipality systems: idempotency keys (replay, reuse, absence), all-or-nothing
//! batches, validation before storage, and who may ingest.

use serde_json::{Value, json};

use super::{body, case};
use crate::catalogue::Area::Ingest;
use crate::http::Req;
use crate::suite::{CaseDef, Ctx, Need, Person, Verdict, ensure, expect};
use crate::target::Slot;

const MUN: Slot = Slot::Municipality;

pub(super) fn cases() -> Vec<CaseDef> {
    vec![
        case("ING-01", Ingest, "a retried batch replays the first answer and stores nothing twice", &["KIBAN-ING-001"], body!(replay)),
        case("ING-02", Ingest, "a key reused with another body is refused", &["KIBAN-ING-002"], body!(key_reused)).tags(&["negative"]),
        case("ING-03", Ingest, "a batch without an Idempotency-Key is refused", &["KIBAN-ING-003"], body!(key_required)).tags(&["negative"]),
        case("ING-04", Ingest, "a batch with one bad item applies nothing", &["KIBAN-ING-004"], body!(all_or_nothing)).tags(&["negative"]),
        case("ING-05", Ingest, "malformed identifiers, unknown fields and oversized surveys are refused before storage", &["KIBAN-ING-005"], body!(validation)).tags(&["negative"]),
        case("ING-06", Ingest, "offices and the operator cannot ingest", &["KIBAN-ING-006"], body!(municipalities_only))
            .tags(&["negative"]).needs(&[Need::Slot(Slot::CareManagement)]),
    ]
}

fn batch(items: Vec<Value>) -> Value {
    json!({ "items": items })
}

fn person_of(cx: &Ctx, insured: &str) -> Person {
    Person {
        insurer: cx.insurer_of(MUN),
        insured: insured.to_owned(),
    }
}

async fn replay(mut cx: Ctx) -> Verdict {
    let insured = cx.unique();
    let body = batch(cx.full_items(&insured, None));
    let key = format!("ing-{}", cx.unique());
    let first = cx
        .send(
            MUN,
            Req::post("/v1/municipality/ingest").key(&key).json(&body),
        )
        .await?;
    expect(
        &first,
        "KIBAN-ING-001",
        "the first delivery of a batch",
        201,
        None,
    )?;
    let again = cx
        .send(
            MUN,
            Req::post("/v1/municipality/ingest").key(&key).json(&body),
        )
        .await?;
    expect(
        &again,
        "KIBAN-ING-001",
        "the same batch retried with the same key",
        201,
        None,
    )?;
    ensure(
        first.json() == again.json(),
        "KIBAN-ING-001",
        "the retry's answer",
        first.json().to_string(),
        again.json().to_string(),
        Some(&again),
    )?;
    let ex = cx
        .read(MUN, None, &person_of(&cx, &insured), "insurance-card")
        .await?;
    expect(
        &ex,
        "KIBAN-ING-001",
        "the insurer reads the ingested card",
        200,
        None,
    )?;
    let n = ex.json()["records"].as_array().map_or(0, Vec::len);
    ensure(
        n == 1,
        "KIBAN-ING-001",
        "insurance-card records after a retried batch",
        "1",
        n.to_string(),
        Some(&ex),
    )
}

async fn key_reused(mut cx: Ctx) -> Verdict {
    let key = format!("ing-{}", cx.unique());
    let a = cx.unique();
    let first = cx
        .send(
            MUN,
            Req::post("/v1/municipality/ingest")
                .key(&key)
                .json(&batch(cx.full_items(&a, None))),
        )
        .await?;
    expect(&first, "KIBAN-ING-001", "the first batch", 201, None)?;
    let b = cx.unique();
    let ex = cx
        .send(
            MUN,
            Req::post("/v1/municipality/ingest")
                .key(&key)
                .json(&batch(cx.full_items(&b, None))),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-ING-002",
        "another batch under the same key",
        409,
        Some("idempotency-key-reused"),
    )?;
    let ex = cx
        .read(MUN, None, &person_of(&cx, &b), "insurance-card")
        .await?;
    expect(
        &ex,
        "KIBAN-ING-002",
        "the refused batch's person",
        404,
        Some("unknown-subject"),
    )
}

async fn key_required(mut cx: Ctx) -> Verdict {
    let insured = cx.unique();
    let ex = cx
        .send(
            MUN,
            Req::post("/v1/municipality/ingest").json(&batch(cx.full_items(&insured, None))),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-ING-003",
        "a batch without Idempotency-Key",
        400,
        Some("idempotency-key-required"),
    )
}

async fn all_or_nothing(mut cx: Ctx) -> Verdict {
    let good = cx.unique();
    let orphan = cx.unique();
    let mut items = cx.full_items(&good, None);
    items.push(json!({"kind": "certification-survey", "insured": orphan, "document": {"surveyed_on": cx.today().to_string(), "basic_items": [1]}}));
    let key = format!("ing-{}", cx.unique());
    let ex = cx
        .send(
            MUN,
            Req::post("/v1/municipality/ingest")
                .key(&key)
                .json(&batch(items)),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-ING-004",
        "a batch whose last item names a person with no insured-person item",
        400,
        Some("unknown-insured-person"),
    )?;
    let ex = cx
        .read(MUN, None, &person_of(&cx, &good), "insurance-card")
        .await?;
    expect(
        &ex,
        "KIBAN-ING-004",
        "the valid first person of the refused batch",
        404,
        Some("unknown-subject"),
    )
}

async fn validation(mut cx: Ctx) -> Verdict {
    let insured = cx.unique();
    let card = cx.insurance_card();
    let variants = [
        (
            "an insured number with a lower-case letter",
            json!([{"kind": "insured-person", "insured": format!("{}x", &insured[..9]), "insurance_card": card}]),
            "invalid-body",
        ),
        (
            "an unknown field",
            json!([{"kind": "insured-person", "insured": insured, "insurance_card": card, "nickname": "x"}]),
            "invalid-body",
        ),
        (
            "an unknown item kind",
            json!([{"kind": "favourite-colour", "insured": insured}]),
            "invalid-body",
        ),
        (
            "a survey with 75 basic items",
            json!([{"kind": "insured-person", "insured": insured, "insurance_card": card},
            {"kind": "certification-survey", "insured": insured, "document": {"surveyed_on": cx.today().to_string(), "basic_items": vec![1; 75]}}]),
            "invalid-item",
        ),
    ];
    for (what, items, code) in variants {
        let key = format!("ing-{}", cx.unique());
        let ex = cx
            .send(
                MUN,
                Req::post("/v1/municipality/ingest")
                    .key(&key)
                    .json(&json!({"items": items})),
            )
            .await?;
        expect(
            &ex,
            "KIBAN-ING-005",
            &format!("a batch with {what}"),
            400,
            Some(code),
        )?;
    }
    let ex = cx
        .read(MUN, None, &person_of(&cx, &insured), "insurance-card")
        .await?;
    expect(
        &ex,
        "KIBAN-ING-005",
        "the person of the refused batches",
        404,
        Some("unknown-subject"),
    )
}

async fn municipalities_only(mut cx: Ctx) -> Verdict {
    let insured = cx.unique();
    let body = batch(cx.full_items(&insured, None));
    let token = cx.login(Slot::CareManagement).await?;
    let key = format!("ing-{}", cx.unique());
    let ex = cx
        .send(
            Slot::CareManagement,
            Req::post("/v1/municipality/ingest")
                .bearer(&token)
                .key(&key)
                .json(&body),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-ING-006",
        "a care-management office ingests",
        403,
        Some("role-forbidden"),
    )?;
    let ex = cx
        .send(
            Slot::Operator,
            Req::post("/v1/municipality/ingest").key(&key).json(&body),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-ING-006",
        "the operator ingests",
        403,
        Some("role-forbidden"),
    )
}
