//! The access matrix: for every role, every class of a person the role stands fully related
//! to (registered, consented) is read exactly where the published matrix grants it; plus the
//! insurer's own persons, the operator, creator-only uploads and unknown persons.

use kiban_core::rules::{Access, AccessMatrix};
use kiban_core::vocab::{InfoClass, Role};
use serde_json::json;

use super::{body, case};
use crate::catalogue::Area::Access as AccessArea;
use crate::http::Req;
use crate::suite::{CaseDef, Ctx, Need, Stop, Verdict, ensure, expect, fail};
use crate::target::Slot;

const CM: Slot = Slot::CareManagement;

pub(super) fn cases() -> Vec<CaseDef> {
    vec![
        case(
            "ACC-01",
            AccessArea,
            "municipality: every class as the published matrix says",
            &["KIBAN-ACC-001"],
            body!(matrix_municipality),
        ),
        case(
            "ACC-02",
            AccessArea,
            "care-management office: every class as the published matrix says",
            &["KIBAN-ACC-001"],
            body!(matrix_care_management),
        )
        .needs(&[Need::Slot(CM)]),
        case(
            "ACC-03",
            AccessArea,
            "care-service office: every class as the published matrix says",
            &["KIBAN-ACC-001"],
            body!(matrix_care_service),
        )
        .needs(&[Need::Slot(Slot::CareService)]),
        case(
            "ACC-04",
            AccessArea,
            "facility: every class as the published matrix says",
            &["KIBAN-ACC-001"],
            body!(matrix_facility),
        )
        .needs(&[Need::Slot(Slot::Facility)]),
        case(
            "ACC-05",
            AccessArea,
            "medical institution: every class as the published matrix says (no home modification)",
            &["KIBAN-ACC-001", "KIBAN-ACC-002"],
            body!(matrix_medical),
        )
        .tags(&["fault:medical-reads-home-modification"])
        .needs(&[Need::Slot(Slot::MedicalInstitution)]),
        case(
            "ACC-06",
            AccessArea,
            "operator: no class at all",
            &["KIBAN-ACC-001", "KIBAN-ACC-004"],
            body!(matrix_operator),
        ),
        case(
            "ACC-07",
            AccessArea,
            "the person through the portal: every class of their own record as the matrix says",
            &["KIBAN-ACC-001"],
            body!(matrix_person),
        )
        .needs(&[Need::Jlis, Need::Slot(Slot::Person)]),
        case(
            "ACC-08",
            AccessArea,
            "a municipality reads only the persons it insures",
            &["KIBAN-ACC-003"],
            body!(own_insured_only),
        )
        .tags(&["negative"])
        .needs(&[Need::Slot(Slot::MunicipalityPending)]),
        case(
            "ACC-09",
            AccessArea,
            "only the creating role uploads a class; readers then see it",
            &["KIBAN-ACC-005"],
            body!(creator_uploads),
        )
        .needs(&[Need::Slot(CM), Need::Slot(Slot::CareService)]),
        case(
            "ACC-10",
            AccessArea,
            "an unknown person is 'not found' for every caller",
            &["KIBAN-ACC-006"],
            body!(unknown_subject),
        )
        .tags(&["negative"])
        .needs(&[Need::Slot(CM)]),
    ]
}

/// Reads every class as `slot` and compares with the published matrix column of `role`.
async fn check_matrix(
    cx: &Ctx,
    slot: Slot,
    role: Role,
    token: Option<&str>,
    person: &crate::suite::Person,
) -> Verdict {
    let matrix = AccessMatrix::published();
    for &class in InfoClass::ALL {
        let ex = cx.read(slot, token, person, class.as_str()).await?;
        let granted = matrix.access(role, class) != Access::None;
        let requirement = if role == Role::MedicalInstitution && !granted {
            "KIBAN-ACC-002"
        } else if role == Role::Operator {
            "KIBAN-ACC-004"
        } else {
            "KIBAN-ACC-001"
        };
        let check = format!("{role} reads {class} with registration and consent in place");
        if granted {
            expect(&ex, requirement, &check, 200, None)?;
        } else {
            expect(&ex, requirement, &check, 403, Some("role-forbidden"))?;
        }
    }
    Ok(())
}

async fn matrix_office(mut cx: Ctx, slot: Slot, role: Role) -> Verdict {
    let person = cx.person().await?;
    let token = cx.standing(slot, &person).await?;
    check_matrix(&cx, slot, role, Some(&token), &person).await
}

async fn matrix_municipality(mut cx: Ctx) -> Verdict {
    let person = cx.person().await?;
    cx.consent(&person).await?;
    check_matrix(&cx, Slot::Municipality, Role::Municipality, None, &person).await
}

async fn matrix_care_management(cx: Ctx) -> Verdict {
    matrix_office(cx, CM, Role::CareManagement).await
}

async fn matrix_care_service(cx: Ctx) -> Verdict {
    matrix_office(cx, Slot::CareService, Role::CareService).await
}

async fn matrix_facility(cx: Ctx) -> Verdict {
    matrix_office(cx, Slot::Facility, Role::Facility).await
}

async fn matrix_medical(cx: Ctx) -> Verdict {
    matrix_office(cx, Slot::MedicalInstitution, Role::MedicalInstitution).await
}

async fn matrix_operator(mut cx: Ctx) -> Verdict {
    let person = cx.person().await?;
    cx.consent(&person).await?;
    check_matrix(&cx, Slot::Operator, Role::Operator, None, &person).await
}

async fn matrix_person(mut cx: Ctx) -> Verdict {
    let (person, mut held) = cx.person_with_card().await?;
    cx.consent(&person).await?;
    let token = cx.portal_token(&mut held).await?;
    check_matrix(&cx, Slot::Person, Role::Person, Some(&token), &person).await
}

async fn own_insured_only(mut cx: Ctx) -> Verdict {
    let person = cx.person().await?;
    let ex = cx
        .read(Slot::MunicipalityPending, None, &person, "insurance-card")
        .await?;
    expect(
        &ex,
        "KIBAN-ACC-003",
        "another municipality reads the insurance card of a person it does not insure",
        403,
        Some("not-insurer"),
    )
}

async fn creator_uploads(mut cx: Ctx) -> Verdict {
    let person = cx.person().await?;
    let svc = cx.standing(Slot::CareService, &person).await?;
    let cm = cx.standing(CM, &person).await?;
    let plan = json!({"table": "home-1", "content": {"overall_policy": "conformance plan"}});
    let ex = cx
        .send(
            Slot::CareService,
            Req::post(person.class("home-care-plan"))
                .bearer(&svc)
                .json(&plan),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-ACC-005",
        "a care-service office uploads a home care plan (created by care managers)",
        403,
        Some("not-creator"),
    )?;
    let ex = cx
        .send(
            CM,
            Req::post(person.class("home-care-plan"))
                .bearer(&cm)
                .json(&plan),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-ACC-005",
        "the care manager uploads the home care plan",
        201,
        None,
    )?;
    let ex = cx
        .read(Slot::CareService, Some(&svc), &person, "home-care-plan")
        .await?;
    expect(
        &ex,
        "KIBAN-ACC-005",
        "the care-service office reads the uploaded plan",
        200,
        None,
    )?;
    let records = ex.json()["records"].as_array().cloned().unwrap_or_default();
    let found = records.iter().any(|r| {
        r["source"] == cx.org(CM).as_str()
            && r["document"]["content"]["overall_policy"] == "conformance plan"
    });
    ensure(
        found,
        "KIBAN-ACC-005",
        "the plan the reader sees",
        "the care manager's uploaded document",
        ex.json()["records"].to_string(),
        Some(&ex),
    )
}

async fn unknown_subject(mut cx: Ctx) -> Verdict {
    let person = crate::suite::Person {
        insurer: cx.insurer_of(Slot::Municipality),
        insured: cx.unique(),
    };
    let token = cx.login(CM).await?;
    let ex = cx.read(CM, Some(&token), &person, "insurance-card").await?;
    expect(
        &ex,
        "KIBAN-ACC-006",
        "a care manager reads a person the platform does not know",
        404,
        Some("unknown-subject"),
    )?;
    let ex = cx
        .read(Slot::Municipality, None, &person, "insurance-card")
        .await?;
    expect(
        &ex,
        "KIBAN-ACC-006",
        "the insurer reads a person the platform does not know",
        404,
        Some("unknown-subject"),
    )?;
    if ex.json()["detail"]
        != cx
            .read(CM, Some(&token), &person, "insurance-card")
            .await?
            .json()["detail"]
    {
        return Err(fail(
            "KIBAN-ACC-006",
            "the two refusals' details",
            "the same detail for every caller",
            "different details",
            Some(&ex),
        ));
    }
    Ok::<(), Stop>(())
}
