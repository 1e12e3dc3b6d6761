//! Submissions to the person's municipality and the municipality's inbox: exactly once per
//! key, redelivery until acknowledged, who may submit what, and inboxes kept apart.

use serde_json::{Value, json};

use super::{body, case};
use crate::catalogue::Area::Submit;
use crate::http::{Exchange, Req};
use crate::suite::{CaseDef, Ctx, Need, Person, Stop, Verdict, ensure, expect, fail};
use crate::target::Slot;

const CM: Slot = Slot::CareManagement;
const MUN: Slot = Slot::Municipality;

pub(super) fn cases() -> Vec<CaseDef> {
    vec![
        case(
            "SUB-01",
            Submit,
            "a retried submission is delivered once, with the first receipt",
            &["KIBAN-SUB-001"],
            body!(exactly_once),
        )
        .tags(&["fault:submission-delivered-twice"])
        .needs(&[Need::Slot(CM)]),
        case(
            "SUB-02",
            Submit,
            "the inbox redelivers until acknowledged; a second acknowledgement is harmless",
            &["KIBAN-SUB-002"],
            body!(redelivery),
        )
        .needs(&[Need::Slot(CM)]),
        case(
            "SUB-03",
            Submit,
            "a medical institution's physician opinion reaches the inbox and the person's record",
            &["KIBAN-SUB-003"],
            body!(physician_opinion),
        )
        .needs(&[Need::Slot(Slot::MedicalInstitution)]),
        case(
            "SUB-04",
            Submit,
            "care-plan requests need a registered care-management office",
            &["KIBAN-SUB-003"],
            body!(who_submits),
        )
        .tags(&["negative"])
        .needs(&[Need::Slot(CM), Need::Slot(Slot::CareService)]),
        case(
            "SUB-05",
            Submit,
            "another municipality neither sees nor acknowledges the message",
            &["KIBAN-SUB-004"],
            body!(inboxes_apart),
        )
        .tags(&["negative"])
        .needs(&[Need::Slot(CM), Need::Slot(Slot::MunicipalityPending)]),
        case(
            "SUB-06",
            Submit,
            "a submission key reused with another body is refused",
            &["KIBAN-SUB-001"],
            body!(key_reused),
        )
        .tags(&["negative"])
        .needs(&[Need::Slot(CM)]),
    ]
}

fn request_body(person: &Person, note: &str) -> Value {
    json!({"kind": "care-plan-request", "insurer": person.insurer, "insured": person.insured, "content": {"note": note}})
}

/// A registered care manager's submission; returns the exchange and the receipt id.
async fn submit(cx: &Ctx, token: &str, key: &str, body: &Value) -> Result<Exchange, Stop> {
    cx.send(
        CM,
        Req::post("/v1/submissions")
            .bearer(token)
            .key(key)
            .json(body),
    )
    .await
}

/// The inbox of `slot` from message `id` on, and the messages about `person`.
async fn inbox_for(
    cx: &Ctx,
    slot: Slot,
    from: u64,
    person: &Person,
) -> Result<(Exchange, Vec<Value>), Stop> {
    let ex = cx
        .send(
            slot,
            Req::get(format!(
                "/v1/municipality/inbox?after={}&limit=1000",
                from.saturating_sub(1)
            )),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-SUB-002",
        "the municipality fetches its inbox",
        200,
        None,
    )?;
    let mine = ex
        .json()
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m["body"]["insured"] == person.insured.as_str())
        .collect();
    Ok((ex, mine))
}

fn receipt_id(ex: &Exchange) -> Result<u64, Stop> {
    ex.json()["id"].as_u64().ok_or_else(|| {
        fail(
            "KIBAN-SUB-001",
            "the submission receipt",
            "a message id",
            ex.summary(),
            Some(ex),
        )
    })
}

async fn exactly_once(mut cx: Ctx) -> Verdict {
    let person = cx.person().await?;
    cx.register(CM, &person).await?;
    let token = cx.login(CM).await?;
    let key = format!("sub-{}", cx.unique());
    let body = request_body(&person, "please plan");
    let first = submit(&cx, &token, &key, &body).await?;
    expect(&first, "KIBAN-SUB-001", "a care-plan request", 201, None)?;
    let id = receipt_id(&first)?;
    let again = submit(&cx, &token, &key, &body).await?;
    expect(
        &again,
        "KIBAN-SUB-001",
        "the same request retried with the same key",
        201,
        None,
    )?;
    ensure(
        again.json() == first.json(),
        "KIBAN-SUB-001",
        "the retry's receipt",
        first.json().to_string(),
        again.json().to_string(),
        Some(&again),
    )?;
    let (ex, mine) = inbox_for(&cx, MUN, id, &person).await?;
    ensure(
        mine.len() == 1,
        "KIBAN-SUB-001",
        "messages about the person in the insurer's inbox",
        "1",
        mine.len().to_string(),
        Some(&ex),
    )
}

async fn redelivery(mut cx: Ctx) -> Verdict {
    let person = cx.person().await?;
    cx.register(CM, &person).await?;
    let token = cx.login(CM).await?;
    let key = format!("sub-{}", cx.unique());
    let ex = submit(&cx, &token, &key, &request_body(&person, "redeliver")).await?;
    expect(&ex, "KIBAN-SUB-001", "a care-plan request", 201, None)?;
    let id = receipt_id(&ex)?;
    for round in ["first", "second"] {
        let (ex, mine) = inbox_for(&cx, MUN, id, &person).await?;
        ensure(
            mine.len() == 1,
            "KIBAN-SUB-002",
            &format!("the {round} fetch before acknowledging"),
            "the message listed",
            format!("{} messages", mine.len()),
            Some(&ex),
        )?;
    }
    for round in ["first", "second"] {
        let ex = cx
            .send(MUN, Req::post(format!("/v1/municipality/inbox/{id}/ack")))
            .await?;
        expect(
            &ex,
            "KIBAN-SUB-002",
            &format!("the {round} acknowledgement"),
            204,
            None,
        )?;
    }
    let (ex, mine) = inbox_for(&cx, MUN, id, &person).await?;
    ensure(
        mine.is_empty(),
        "KIBAN-SUB-002",
        "a fetch after the acknowledgement",
        "the message no longer listed",
        format!("{} messages", mine.len()),
        Some(&ex),
    )
}

async fn physician_opinion(mut cx: Ctx) -> Verdict {
    let person = cx.person().await?;
    let med = cx.login(Slot::MedicalInstitution).await?;
    let key = format!("sub-{}", cx.unique());
    let body = json!({"kind": "physician-opinion", "route": "ehr", "insurer": person.insurer, "insured": person.insured, "content": {"diagnosis": "conformance"}});
    let ex = cx
        .send(
            Slot::MedicalInstitution,
            Req::post("/v1/submissions")
                .bearer(&med)
                .key(&key)
                .json(&body),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-SUB-003",
        "a medical institution submits a physician opinion from its EHR",
        201,
        None,
    )?;
    let id = receipt_id(&ex)?;
    let (ex, mine) = inbox_for(&cx, MUN, id, &person).await?;
    let org = cx.org(Slot::MedicalInstitution);
    let delivered = mine.iter().any(|m| {
        m["kind"] == "physician-opinion" && m["route"] == "ehr" && m["sender"] == org.as_str()
    });
    ensure(
        delivered,
        "KIBAN-SUB-003",
        "the insurer's inbox",
        format!("a physician-opinion from {org} by ehr"),
        serde_json::to_string(&mine).unwrap_or_default(),
        Some(&ex),
    )?;
    let ex = cx.read(MUN, None, &person, "physician-opinion").await?;
    expect(
        &ex,
        "KIBAN-SUB-003",
        "the insurer reads the person's physician opinions",
        200,
        None,
    )?;
    let stored = ex.json()["records"]
        .as_array()
        .is_some_and(|r| r.iter().any(|d| d["source"] == org.as_str()));
    ensure(
        stored,
        "KIBAN-SUB-003",
        "the person's physician-opinion records",
        format!("a record from {org}"),
        ex.json()["records"].to_string(),
        Some(&ex),
    )
}

async fn who_submits(mut cx: Ctx) -> Verdict {
    let person = cx.person().await?;
    let cm = cx.login(CM).await?;
    let key = format!("sub-{}", cx.unique());
    let ex = submit(&cx, &cm, &key, &request_body(&person, "unregistered")).await?;
    expect(
        &ex,
        "KIBAN-SUB-003",
        "a care-plan request from a care manager not registered for the person",
        403,
        Some("not-registered"),
    )?;
    let svc = cx.login(Slot::CareService).await?;
    let key = format!("sub-{}", cx.unique());
    let ex = cx
        .send(
            Slot::CareService,
            Req::post("/v1/submissions")
                .bearer(&svc)
                .key(&key)
                .json(&request_body(&person, "wrong role")),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-SUB-003",
        "a care-plan request from a care-service office",
        403,
        Some("role-forbidden"),
    )
}

async fn inboxes_apart(mut cx: Ctx) -> Verdict {
    let person = cx.person().await?;
    cx.register(CM, &person).await?;
    let token = cx.login(CM).await?;
    let key = format!("sub-{}", cx.unique());
    let ex = submit(&cx, &token, &key, &request_body(&person, "apart")).await?;
    expect(&ex, "KIBAN-SUB-001", "a care-plan request", 201, None)?;
    let id = receipt_id(&ex)?;
    let (ex, mine) = inbox_for(&cx, Slot::MunicipalityPending, id, &person).await?;
    ensure(
        mine.is_empty(),
        "KIBAN-SUB-004",
        "another municipality's inbox",
        "no message about the person",
        format!("{} messages", mine.len()),
        Some(&ex),
    )?;
    let ex = cx
        .send(
            Slot::MunicipalityPending,
            Req::post(format!("/v1/municipality/inbox/{id}/ack")),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-SUB-004",
        "another municipality acknowledges the message",
        404,
        Some("unknown-message"),
    )?;
    let (ex, mine) = inbox_for(&cx, MUN, id, &person).await?;
    ensure(
        mine.len() == 1,
        "KIBAN-SUB-004",
        "the insurer's inbox after the other municipality's attempt",
        "the message still unacknowledged",
        format!("{} messages", mine.len()),
        Some(&ex),
    )
}

async fn key_reused(mut cx: Ctx) -> Verdict {
    let person = cx.person().await?;
    cx.register(CM, &person).await?;
    let token = cx.login(CM).await?;
    let key = format!("sub-{}", cx.unique());
    let ex = submit(&cx, &token, &key, &request_body(&person, "first")).await?;
    expect(&ex, "KIBAN-SUB-001", "a care-plan request", 201, None)?;
    let ex = submit(
        &cx,
        &token,
        &key,
        &request_body(&person, "second, different"),
    )
    .await?;
    expect(
        &ex,
        "KIBAN-SUB-001",
        "another request under the same key",
        409,
        Some("idempotency-key-reused"),
    )
}
