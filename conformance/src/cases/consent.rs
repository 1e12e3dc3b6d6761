//! Consent: ◎ classes need it, the comprehensive model (municipality, on the municipality's
//! behalf), the per-office model, withdrawal, expiry and receipts. Cases for the model the
//! target does not run are skipped with the reason.

use kiban_core::rules::ConsentModel::{Comprehensive, PerOffice};
use serde_json::json;

use super::{body, case};
use crate::catalogue::Area::Consent;
use crate::http::Req;
use crate::suite::{CaseDef, Ctx, Need, Verdict, ensure, expect};
use crate::target::Slot;

const CM: Slot = Slot::CareManagement;
const MED: Slot = Slot::MedicalInstitution;
const MUN: Slot = Slot::Municipality;

pub(super) fn cases() -> Vec<CaseDef> {
    vec![
        case("CON-01", Consent, "a ◎ class is refused without consent and read once consent is recorded", &["KIBAN-CON-001"], body!(consent_needed))
            .tags(&["fault:consent-not-checked"]).needs(&[Need::Slot(CM)]),
        case("CON-02", Consent, "comprehensive: the municipality's consent covers every office and class", &["KIBAN-CON-002"], body!(comprehensive_covers_offices))
            .needs(&[Need::ConsentModel(Comprehensive), Need::Slot(CM), Need::Slot(MED)]),
        case("CON-03", Consent, "comprehensive: a care manager records consent on the municipality's behalf; a service office may not", &["KIBAN-CON-003"], body!(on_behalf))
            .needs(&[Need::ConsentModel(Comprehensive), Need::Slot(CM), Need::Slot(Slot::CareService)]),
        case("CON-04", Consent, "a withdrawal acts on the next read; there must be a consent to withdraw", &["KIBAN-CON-004"], body!(withdrawal))
            .tags(&["fault:consent-not-checked"]),
        case("CON-05", Consent, "per-office: an office reads with its own consent only", &["KIBAN-CON-005"], body!(per_office))
            .needs(&[Need::ConsentModel(PerOffice), Need::Slot(CM), Need::Slot(MED)]),
        case("CON-06", Consent, "a consent given after the certification period ended has expired", &["KIBAN-CON-006"], body!(expiry))
            .needs(&[Need::ConsentExpiresWithCertification]),
        case("CON-07", Consent, "consent given and withdrawn leave receipts naming when, how and who", &["KIBAN-CON-007"], body!(receipts)),
    ]
}

async fn consent_needed(mut cx: Ctx) -> Verdict {
    let person = cx.person().await?;
    cx.register(CM, &person).await?;
    let token = cx.login(CM).await?;
    let ex = cx
        .read(CM, Some(&token), &person, "certification-survey")
        .await?;
    expect(
        &ex,
        "KIBAN-CON-001",
        "a registered care manager reads the survey (◎) before any consent",
        403,
        Some("consent-missing"),
    )?;
    match cx.policy().consent.model {
        Comprehensive => cx.consent(&person).await?,
        PerOffice => cx.office_consent(CM, &token, &person).await?,
    }
    let ex = cx
        .read(CM, Some(&token), &person, "certification-survey")
        .await?;
    expect(
        &ex,
        "KIBAN-CON-001",
        "the same read once consent is recorded",
        200,
        None,
    )
}

async fn comprehensive_covers_offices(mut cx: Ctx) -> Verdict {
    let person = cx.person().await?;
    cx.register(CM, &person).await?;
    cx.register(MED, &person).await?;
    cx.consent(&person).await?;
    let cm = cx.login(CM).await?;
    let med = cx.login(MED).await?;
    let ex = cx
        .read(CM, Some(&cm), &person, "certification-survey")
        .await?;
    expect(
        &ex,
        "KIBAN-CON-002",
        "the care manager reads the survey (◎) under the municipality's consent",
        200,
        None,
    )?;
    let ex = cx.read(CM, Some(&cm), &person, "home-modification").await?;
    expect(
        &ex,
        "KIBAN-CON-002",
        "the care manager reads home modifications (◎)",
        200,
        None,
    )?;
    let ex = cx.read(MED, Some(&med), &person, "home-care-plan").await?;
    expect(
        &ex,
        "KIBAN-CON-002",
        "the medical institution reads the care plan (◎) under the same consent",
        200,
        None,
    )
}

async fn on_behalf(mut cx: Ctx) -> Verdict {
    let person = cx.person().await?;
    cx.register(CM, &person).await?;
    cx.register(Slot::CareService, &person).await?;
    let svc = cx.login(Slot::CareService).await?;
    let ex = cx
        .send(
            Slot::CareService,
            Req::put(format!("{}/consent", person.path()))
                .bearer(&svc)
                .json(&json!({"occasion": "on-behalf"})),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-CON-003",
        "a care-service office records consent on the municipality's behalf",
        403,
        Some("consent-occasion-forbidden"),
    )?;
    let cm = cx.login(CM).await?;
    let ex = cx
        .read(CM, Some(&cm), &person, "certification-survey")
        .await?;
    expect(
        &ex,
        "KIBAN-CON-001",
        "the refused recording left no consent",
        403,
        Some("consent-missing"),
    )?;
    let ex = cx
        .send(
            CM,
            Req::put(format!("{}/consent", person.path()))
                .bearer(&cm)
                .json(&json!({"occasion": "on-behalf"})),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-CON-003",
        "the care manager records consent on the municipality's behalf",
        200,
        None,
    )?;
    let ex = cx
        .read(CM, Some(&cm), &person, "certification-survey")
        .await?;
    expect(
        &ex,
        "KIBAN-CON-003",
        "a read under the consent recorded on the municipality's behalf",
        200,
        None,
    )
}

async fn withdrawal(mut cx: Ctx) -> Verdict {
    let person = cx.person().await?;
    cx.consent(&person).await?;
    let ex = cx.read(MUN, None, &person, "home-care-plan").await?;
    expect(
        &ex,
        "KIBAN-CON-001",
        "the insurer reads the care plan (◎ for municipalities) with consent",
        200,
        None,
    )?;
    let ex = cx
        .send(MUN, Req::delete(format!("{}/consent", person.path())))
        .await?;
    expect(
        &ex,
        "KIBAN-CON-004",
        "the insurer records the person's withdrawal",
        200,
        None,
    )?;
    let ex = cx.read(MUN, None, &person, "home-care-plan").await?;
    expect(
        &ex,
        "KIBAN-CON-004",
        "the next read after the withdrawal",
        403,
        Some("consent-withdrawn"),
    )?;
    let ex = cx
        .send(MUN, Req::delete(format!("{}/consent", person.path())))
        .await?;
    expect(
        &ex,
        "KIBAN-CON-004",
        "a second withdrawal with no consent in force",
        409,
        Some("no-consent-to-withdraw"),
    )
}

async fn per_office(mut cx: Ctx) -> Verdict {
    let person = cx.person().await?;
    cx.register(CM, &person).await?;
    cx.register(MED, &person).await?;
    cx.consent(&person).await?;
    let cm = cx.login(CM).await?;
    let med = cx.login(MED).await?;
    let ex = cx
        .read(CM, Some(&cm), &person, "certification-survey")
        .await?;
    expect(
        &ex,
        "KIBAN-CON-005",
        "the care manager reads the survey (◎) with only the municipality's consent",
        403,
        Some("consent-missing"),
    )?;
    cx.office_consent(CM, &cm, &person).await?;
    let ex = cx
        .read(CM, Some(&cm), &person, "certification-survey")
        .await?;
    expect(
        &ex,
        "KIBAN-CON-005",
        "the care manager reads with its own consent",
        200,
        None,
    )?;
    let ex = cx.read(MED, Some(&med), &person, "home-care-plan").await?;
    expect(
        &ex,
        "KIBAN-CON-005",
        "the medical institution reads the care plan (◎) with the care manager's consent only",
        403,
        Some("consent-missing"),
    )
}

async fn expiry(mut cx: Ctx) -> Verdict {
    let person = cx.person().await?;
    let ended = cx.today().plus_days(-1).to_string();
    let ex = cx
        .send(
            MUN,
            Req::put(format!("{}/consent", person.path()))
                .json(&json!({"occasion": "renewal", "certification_end": ended})),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-CON-002",
        "the insurer records consent for a certification period that ended yesterday",
        200,
        None,
    )?;
    let ex = cx.read(MUN, None, &person, "home-care-plan").await?;
    expect(
        &ex,
        "KIBAN-CON-006",
        "a read under a consent whose certification period has ended",
        403,
        Some("consent-expired"),
    )
}

async fn receipts(mut cx: Ctx) -> Verdict {
    let person = cx.person().await?;
    cx.consent(&person).await?;
    let ex = cx
        .send(MUN, Req::delete(format!("{}/consent", person.path())))
        .await?;
    expect(
        &ex,
        "KIBAN-CON-004",
        "the insurer records the withdrawal",
        200,
        None,
    )?;
    let ex = cx
        .send(MUN, Req::get(format!("{}/consent-receipts", person.path())))
        .await?;
    expect(
        &ex,
        "KIBAN-CON-007",
        "the insurer lists the consent receipts",
        200,
        None,
    )?;
    let receipts = ex.json();
    let list = receipts.as_array().cloned().unwrap_or_default();
    let municipality = cx.org(MUN);
    let given = list.iter().any(|r| {
        r["action"] == "given"
            && r["occasion"] == "application"
            && r["by"] == municipality.as_str()
            && r["at"].is_string()
    });
    let withdrawn = list.iter().any(|r| {
        r["action"] == "withdrawn" && r["by"] == municipality.as_str() && r["at"].is_string()
    });
    ensure(
        given && withdrawn && list.len() == 2,
        "KIBAN-CON-007",
        "the receipts",
        format!("one 'given' (application, by {municipality}) and one 'withdrawn' receipt"),
        receipts.to_string(),
        Some(&ex),
    )
}
