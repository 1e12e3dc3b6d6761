//! Privacy: no My Number is stored, returned or echoed: ingestion refuses My-Number-shaped card
//! links, identity and portal flows never show the holder's number, and login names and error
//! details carry none.

use serde_json::json;

use super::{body, case};
use crate::catalogue::Area::Privacy;
use crate::http::{Exchange, Req};
use crate::suite::{CaseDef, Ctx, Need, Person, Verdict, ensure, expect, ok};
use crate::target::Slot;

const CM: Slot = Slot::CareManagement;
const MUN: Slot = Slot::Municipality;

pub(super) fn cases() -> Vec<CaseDef> {
    vec![
        case(
            "PRV-01",
            Privacy,
            "ingestion refuses a card link shaped like a My Number",
            &["KIBAN-PRV-001"],
            body!(card_link_refused),
        )
        .tags(&["negative", "fault:my-number-shaped-card-link-accepted"]),
        case(
            "PRV-02",
            Privacy,
            "verification, portal reads and access logs never return the holder's My Number",
            &["KIBAN-PRV-002"],
            body!(no_my_number_returned),
        )
        .needs(&[Need::Jlis, Need::Slot(CM), Need::Slot(Slot::Person)]),
        case(
            "PRV-03",
            Privacy,
            "a My-Number-shaped staff id is refused and not echoed",
            &["KIBAN-PRV-003"],
            body!(staff_id_refused),
        )
        .tags(&["negative"])
        .needs(&[Need::Slot(CM)]),
        case(
            "PRV-04",
            Privacy,
            "a My-Number-shaped insured number in a path is refused and not echoed",
            &["KIBAN-PRV-003", "KIBAN-ERR-004"],
            body!(path_not_echoed),
        )
        .tags(&["negative"]),
    ]
}

/// A valid-looking My Number (check digit correct) that no one holds.
const SHAPED: &str = "123456789018";

fn not_echoed(ex: &Exchange, secret: &str, requirement: &str, check: &str) -> Verdict {
    let text = ex.resp().map(crate::http::Resp::text).unwrap_or_default();
    ensure(
        !text.contains(secret),
        requirement,
        check,
        "no My Number in the answer",
        "the My Number is in the answer",
        Some(ex),
    )
}

async fn card_link_refused(mut cx: Ctx) -> Verdict {
    let insured = cx.unique();
    let items = cx.full_items(&insured, Some(SHAPED));
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
        "KIBAN-PRV-001",
        "an insured person whose card_link is 12 digits",
        400,
        Some("personal-number-refused"),
    )?;
    not_echoed(&ex, SHAPED, "KIBAN-PRV-003", "the refusal")?;
    let person = Person {
        insurer: cx.insurer_of(MUN),
        insured,
    };
    let ex = cx.read(MUN, None, &person, "insurance-card").await?;
    expect(
        &ex,
        "KIBAN-PRV-001",
        "the refused person",
        404,
        Some("unknown-subject"),
    )
}

async fn no_my_number_returned(mut cx: Ctx) -> Verdict {
    let (person, mut held) = cx.person_with_card().await?;
    cx.consent(&person).await?;
    let secret = held.my_number.clone();
    let token = cx.login(CM).await?;
    let mut seen = Vec::new();
    seen.push(cx.verify_card(CM, &token, &mut held).await?);
    seen.push(cx.read(CM, Some(&token), &person, "insurance-card").await?);
    let portal = cx.portal_sign_in(&mut held).await?;
    let portal_token = portal.json()["token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    seen.push(portal);
    for class in ["insurance-card", "home-care-plan", "home-modification"] {
        seen.push(
            cx.read(Slot::Person, Some(&portal_token), &person, class)
                .await?,
        );
    }
    seen.push(
        cx.send(
            Slot::Person,
            Req::get(format!("{}/access-log", person.path())).bearer(&portal_token),
        )
        .await?,
    );
    seen.push(
        cx.send(
            Slot::Person,
            Req::get(format!("{}/consent-receipts", person.path())).bearer(&portal_token),
        )
        .await?,
    );
    seen.push(
        cx.send(MUN, Req::get(format!("{}/access-log", person.path())))
            .await?,
    );
    for ex in &seen {
        ok(
            ex,
            "KIBAN-PRV-002",
            "a step of the identity and portal flow",
        )?;
        not_echoed(
            ex,
            &secret,
            "KIBAN-PRV-002",
            "an answer in the identity and portal flow",
        )?;
    }
    Ok(())
}

async fn staff_id_refused(cx: Ctx) -> Verdict {
    let admin = cx.login(CM).await?;
    let ex = cx
        .send(
            CM,
            Req::post("/v1/office/staff")
                .bearer(&admin)
                .json(&json!({"staff_id": SHAPED, "password": "staff-password-1"})),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-PRV-003",
        "a staff account named with 12 digits",
        400,
        Some("invalid-staff-id"),
    )?;
    not_echoed(&ex, SHAPED, "KIBAN-PRV-003", "the refusal")?;
    let ex = cx
        .send(
            CM,
            Req::post("/v1/session")
                .json(&json!({"staff_id": SHAPED, "password": "staff-password-1"})),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-STF-002",
        "a sign-in with a 12-digit staff id",
        401,
        Some("login-failed"),
    )?;
    not_echoed(&ex, SHAPED, "KIBAN-PRV-003", "the sign-in refusal")
}

async fn path_not_echoed(cx: Ctx) -> Verdict {
    let insurer = cx.insurer_of(MUN);
    let ex = cx
        .send(
            MUN,
            Req::get(format!(
                "/v1/persons/{insurer}/{SHAPED}/classes/insurance-card"
            )),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-ERR-004",
        "a 12-digit insured number in the path",
        400,
        Some("invalid-identifier"),
    )?;
    not_echoed(&ex, SHAPED, "KIBAN-PRV-003", "the refusal")
}
