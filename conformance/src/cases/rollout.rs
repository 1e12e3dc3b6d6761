//! Rollout gates: the insurer must be live, and under the cross-municipality rule the office's
//! own municipality too; submissions only reach live insurers.

use serde_json::json;

use super::{body, case};
use crate::catalogue::Area::Rollout;
use crate::http::Req;
use crate::suite::{CaseDef, Ctx, Need, Verdict, expect};
use crate::target::Slot;

const CM: Slot = Slot::CareManagement;
const PENDING: Slot = Slot::MunicipalityPending;

pub(super) fn cases() -> Vec<CaseDef> {
    vec![
        case("ROL-01", Rollout, "nothing is read about a person whose insurer is not live", &["KIBAN-ROL-001"], body!(insurer_not_live))
            .tags(&["negative"]).needs(&[Need::Slot(PENDING), Need::Slot(CM)]),
        case("ROL-02", Rollout, "an office in a municipality that is not live cannot read a live municipality's resident", &["KIBAN-ROL-002"], body!(cross_municipality))
            .tags(&["fault:cross-municipality-gate-ignored"]).needs(&[Need::Slot(Slot::CareServicePending), Need::Slot(Slot::CareService)]),
        case("ROL-03", Rollout, "a submission for a person whose insurer is not live is refused", &["KIBAN-ROL-003"], body!(submission_gated))
            .tags(&["negative"]).needs(&[Need::Slot(PENDING), Need::Slot(CM)]),
    ]
}

async fn insurer_not_live(mut cx: Ctx) -> Verdict {
    let person = cx.person_in(PENDING, None).await?;
    let ex = cx.read(PENDING, None, &person, "insurance-card").await?;
    expect(
        &ex,
        "KIBAN-ROL-001",
        "the insurer that is not live reads its own insured",
        403,
        Some("insurer-not-live"),
    )?;
    let token = cx.login(CM).await?;
    let ex = cx.read(CM, Some(&token), &person, "insurance-card").await?;
    expect(
        &ex,
        "KIBAN-ROL-001",
        "a live office reads a person whose insurer is not live",
        403,
        Some("insurer-not-live"),
    )
}

async fn cross_municipality(mut cx: Ctx) -> Verdict {
    let person = cx.person().await?;
    let live = cx.standing(Slot::CareService, &person).await?;
    let ex = cx
        .read(Slot::CareService, Some(&live), &person, "insurance-card")
        .await?;
    expect(
        &ex,
        "KIBAN-ROL-002",
        "an office located in the live municipality reads its resident (control)",
        200,
        None,
    )?;
    let gated = cx.standing(Slot::CareServicePending, &person).await?;
    let ex = cx
        .read(
            Slot::CareServicePending,
            Some(&gated),
            &person,
            "insurance-card",
        )
        .await?;
    if cx.policy().rollout.cross_municipality_rule {
        expect(
            &ex,
            "KIBAN-ROL-002",
            "a registered office located in a municipality that is not live reads the resident",
            403,
            Some("office-municipality-not-live"),
        )
    } else {
        expect(
            &ex,
            "KIBAN-ROL-002",
            "without the cross-municipality rule, the same read",
            200,
            None,
        )
    }
}

async fn submission_gated(mut cx: Ctx) -> Verdict {
    let person = cx.person_in(PENDING, None).await?;
    let token = cx.login(CM).await?;
    let body = json!({"kind": "care-plan-request", "insurer": person.insurer, "insured": person.insured, "content": {"note": "conformance"}});
    let key = format!("sub-{}", cx.unique());
    let ex = cx
        .send(
            CM,
            Req::post("/v1/submissions")
                .bearer(&token)
                .key(&key)
                .json(&body),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-ROL-003",
        "a care-plan request for a person whose insurer is not live",
        403,
        Some("insurer-not-live"),
    )
}
