//! Identity verification with the My Number card and the registrations it creates: nonces,
//! the J-LIS CA and signature, J-LIS's answer, the fallback registration by the municipality,
//! ending and lapsing registrations.

use std::sync::Arc;

use kiban_actors::card::{CardHolder, Pin};
use kiban_actors::jlis::{CardRequest, JlisMock};
use kiban_core::id::{MunicipalityCode, MyNumber};
use kiban_core::rules::LapsePolicy;
use kiban_core::time::Date;

use super::{body, case};
use crate::catalogue::Area::Identity;
use crate::http::Req;
use crate::suite::{CaseDef, Ctx, HeldCard, Need, Stop, Verdict, ensure, expect, runner_error};
use crate::target::Slot;

const CM: Slot = Slot::CareManagement;
const NEEDS: &[Need] = &[Need::Jlis, Need::Slot(CM)];

pub(super) fn cases() -> Vec<CaseDef> {
    vec![
        case("IDV-01", Identity, "a card verification registers the office, which may then read", &["KIBAN-IDV-001"], body!(verification_registers))
            .needs(NEEDS),
        case("IDV-02", Identity, "a nonce is accepted once", &["KIBAN-IDV-002"], body!(nonce_single_use))
            .tags(&["negative", "fault:nonce-reusable"]).needs(NEEDS),
        case("IDV-03", Identity, "a nonce issued to another office's terminal is refused", &["KIBAN-IDV-002"], body!(nonce_bound_to_terminal))
            .tags(&["negative"]).needs(&[Need::Jlis, Need::Slot(CM), Need::Slot(Slot::Facility)]),
        case("IDV-04", Identity, "a card from another CA and a signature over other bytes are refused", &["KIBAN-IDV-003"], body!(card_and_signature_checked))
            .tags(&["negative"]).needs(NEEDS),
        case("IDV-05", Identity, "cards J-LIS reports revoked or suspended register nothing", &["KIBAN-IDV-004"], body!(jlis_state_respected))
            .tags(&["negative"]).needs(NEEDS),
        case("IDV-06", Identity, "a card J-LIS knows but no municipality linked registers nothing", &["KIBAN-IDV-004"], body!(unlinked_card))
            .tags(&["negative"]).needs(NEEDS),
        case("IDV-07", Identity, "an office without a registration is refused; the municipality's fallback registration admits it", &["KIBAN-IDV-005"], body!(registration_required))
            .tags(&["fault:registration-not-checked"]).needs(&[Need::Slot(CM)]),
        case("IDV-08", Identity, "an office that ended its registration is refused", &["KIBAN-IDV-006"], body!(registration_ended))
            .needs(&[Need::Slot(CM)]),
        case("IDV-09", Identity, "a registration lapsed under the lapse policy is refused", &["KIBAN-IDV-007"], body!(registration_lapses))
            .tags(&["clock", "fault:lapsed-registration-honoured"])
            .needs(&[Need::SimClock, Need::LapseAfterInactivity, Need::Slot(CM)])
            .exclusive(),
    ]
}

async fn verification_registers(mut cx: Ctx) -> Verdict {
    let (person, mut held) = cx.person_with_card().await?;
    let token = cx.login(CM).await?;
    let ex = cx.read(CM, Some(&token), &person, "insurance-card").await?;
    expect(
        &ex,
        "KIBAN-IDV-005",
        "the office reads before verifying the person",
        403,
        Some("not-registered"),
    )?;
    let ex = cx.verify_card(CM, &token, &mut held).await?;
    expect(
        &ex,
        "KIBAN-IDV-001",
        "identity verification with the person's card",
        200,
        None,
    )?;
    let body = ex.json();
    ensure(
        body["person"]["insurer"] == person.insurer.as_str()
            && body["person"]["insured"] == person.insured.as_str(),
        "KIBAN-IDV-001",
        "the verified person",
        format!("{}/{}", person.insurer, person.insured),
        body["person"].to_string(),
        Some(&ex),
    )?;
    let ex = cx.read(CM, Some(&token), &person, "insurance-card").await?;
    expect(
        &ex,
        "KIBAN-IDV-001",
        "the registered office reads the insurance card",
        200,
        None,
    )
}

async fn nonce_single_use(mut cx: Ctx) -> Verdict {
    let (_person, mut held) = cx.person_with_card().await?;
    let token = cx.login(CM).await?;
    let nonce = cx.nonce(CM, Some(&token)).await?;
    let assertion = cx.assertion(&mut held, &nonce)?;
    let ex = cx
        .send(
            CM,
            Req::post("/v1/identity/verify")
                .bearer(&token)
                .json(&assertion),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-IDV-001",
        "the first use of the nonce",
        200,
        None,
    )?;
    let ex = cx
        .send(
            CM,
            Req::post("/v1/identity/verify")
                .bearer(&token)
                .json(&assertion),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-IDV-002",
        "the same assertion (same nonce) sent again",
        403,
        Some("invalid-nonce"),
    )
}

async fn nonce_bound_to_terminal(mut cx: Ctx) -> Verdict {
    let (_person, mut held) = cx.person_with_card().await?;
    let facility = cx.login(Slot::Facility).await?;
    let nonce = cx.nonce(Slot::Facility, Some(&facility)).await?;
    let assertion = cx.assertion(&mut held, &nonce)?;
    let token = cx.login(CM).await?;
    let ex = cx
        .send(
            CM,
            Req::post("/v1/identity/verify")
                .bearer(&token)
                .json(&assertion),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-IDV-002",
        "a nonce issued to the facility's terminal, used by the care manager",
        403,
        Some("invalid-nonce"),
    )
}

async fn card_and_signature_checked(mut cx: Ctx) -> Verdict {
    let token = cx.login(CM).await?;
    // A card from a look-alike J-LIS.
    let now = cx.now();
    let rogue = JlisMock::generate(
        now.plus_days(-60),
        3650,
        Arc::new(kiban_certs::ManualClock::new(now)),
    )
    .map_err(runner_error)?;
    let residence: MunicipalityCode = cx.org(Slot::Municipality).parse().map_err(runner_error)?;
    let my_number = MyNumber::random(cx.rng());
    let pin = Pin::random(cx.rng());
    let holder = CardHolder {
        name: "偽造 次郎".to_owned(),
        birth_date: Date::new(1950, 1, 2).ok_or_else(|| runner_error("date"))?,
        residence,
    };
    let card = rogue
        .issue_card(
            CardRequest {
                holder,
                my_number,
                pin: Some(pin),
            },
            now.plus_days(-30),
            cx.rng(),
        )
        .map_err(runner_error)?;
    let link = rogue
        .link_for(&my_number)
        .map(|l| l.as_str().to_owned())
        .unwrap_or_default();
    let mut forged = HeldCard {
        card,
        pin,
        link,
        my_number: my_number.expose().to_owned(),
    };
    let ex = cx.verify_card(CM, &token, &mut forged).await?;
    expect(
        &ex,
        "KIBAN-IDV-003",
        "a card certificate from a look-alike J-LIS CA",
        403,
        Some("card-not-trusted"),
    )?;
    // A genuine card whose signature is over another nonce.
    let (_person, mut held) = cx.person_with_card().await?;
    let first = cx.nonce(CM, Some(&token)).await?;
    let second = cx.nonce(CM, Some(&token)).await?;
    let mut assertion = cx.assertion(&mut held, &second)?;
    assertion["nonce"] = serde_json::Value::String(first);
    let ex = cx
        .send(
            CM,
            Req::post("/v1/identity/verify")
                .bearer(&token)
                .json(&assertion),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-IDV-003",
        "a genuine card's signature over another nonce",
        403,
        Some("assertion-signature-invalid"),
    )
}

async fn jlis_state_respected(mut cx: Ctx) -> Verdict {
    let token = cx.login(CM).await?;
    for (state, code) in [("revoked", "card-revoked"), ("suspended", "card-suspended")] {
        let (person, mut held) = cx.person_with_card().await?;
        let jlis = cx.jlis()?.clone();
        if state == "revoked" {
            jlis.revoke_certificate(held.card.certificate_serial());
        } else {
            jlis.report_lost(&mut held.card);
            held.card.found();
        }
        let ex = cx.verify_card(CM, &token, &mut held).await?;
        expect(
            &ex,
            "KIBAN-IDV-004",
            &format!("a card J-LIS reports {state}"),
            403,
            Some(code),
        )?;
        let ex = cx.read(CM, Some(&token), &person, "insurance-card").await?;
        expect(
            &ex,
            "KIBAN-IDV-004",
            &format!("a read after the {state} card was refused"),
            403,
            Some("not-registered"),
        )?;
    }
    Ok(())
}

async fn unlinked_card(mut cx: Ctx) -> Verdict {
    let token = cx.login(CM).await?;
    let mut held = cx.issue_card()?;
    let ex = cx.verify_card(CM, &token, &mut held).await?;
    expect(
        &ex,
        "KIBAN-IDV-004",
        "a valid card no municipality linked to an insured person",
        404,
        Some("card-not-linked"),
    )
}

async fn registration_required(mut cx: Ctx) -> Verdict {
    let person = cx.person().await?;
    let token = cx.login(CM).await?;
    let ex = cx.read(CM, Some(&token), &person, "insurance-card").await?;
    expect(
        &ex,
        "KIBAN-IDV-005",
        "an office that holds no registration reads the insurance card",
        403,
        Some("not-registered"),
    )?;
    cx.register(CM, &person).await?;
    let ex = cx.read(CM, Some(&token), &person, "insurance-card").await?;
    expect(
        &ex,
        "KIBAN-IDV-005",
        "the same read after the municipality's registration",
        200,
        None,
    )
}

async fn registration_ended(mut cx: Ctx) -> Verdict {
    let person = cx.person().await?;
    cx.register(CM, &person).await?;
    let token = cx.login(CM).await?;
    let ex = cx
        .send(
            CM,
            Req::delete(format!("{}/registration", person.path())).bearer(&token),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-IDV-006",
        "the office ends its registration",
        204,
        None,
    )?;
    let ex = cx.read(CM, Some(&token), &person, "insurance-card").await?;
    expect(
        &ex,
        "KIBAN-IDV-006",
        "a read after the registration ended",
        403,
        Some("registration-ended"),
    )
}

async fn registration_lapses(mut cx: Ctx) -> Verdict {
    let LapsePolicy::AfterInactivity { months, .. } = cx.policy().lapse else {
        return Err(Stop::Skip(format!("needs {}", Need::LapseAfterInactivity)));
    };
    let before = cx.now();
    let person = cx.person().await?;
    cx.register(CM, &person).await?;
    let token = cx.login(CM).await?;
    let ex = cx.read(CM, Some(&token), &person, "insurance-card").await?;
    expect(
        &ex,
        "KIBAN-IDV-005",
        "a read right after the registration",
        200,
        None,
    )?;
    cx.set_clock(before.plus_months(i32::from(months)).plus_days(2))
        .await?;
    let outcome = async {
        let token = cx.login(CM).await?;
        let ex = cx.read(CM, Some(&token), &person, "insurance-card").await?;
        expect(
            &ex,
            "KIBAN-IDV-007",
            &format!(
                "a read {months} months and 2 days after the registration, without a service record"
            ),
            403,
            Some("registration-lapsed"),
        )
    }
    .await;
    cx.set_clock(before).await?;
    outcome
}
