//! Staff accounts of offices: sign-in before any office operation, administrator-only account
//! management, disabling and signing out with immediate effect, terminal-bound sessions.

use serde_json::json;

use super::{body, case};
use crate::catalogue::Area::Staff;
use crate::http::Req;
use crate::suite::{CaseDef, Ctx, Need, Verdict, ensure, expect};
use crate::target::Slot;

const CM: Slot = Slot::CareManagement;

pub(super) fn cases() -> Vec<CaseDef> {
    vec![
        case(
            "STF-01",
            Staff,
            "an office read without a staff session is refused",
            &["KIBAN-STF-001"],
            body!(session_required),
        )
        .tags(&["negative"])
        .needs(&[Need::Slot(CM)]),
        case(
            "STF-02",
            Staff,
            "a wrong password and an unknown staff id are refused alike",
            &["KIBAN-STF-002"],
            body!(bad_login),
        )
        .tags(&["negative"])
        .needs(&[Need::Slot(CM)]),
        case(
            "STF-03",
            Staff,
            "only the administrator manages staff accounts",
            &["KIBAN-STF-003"],
            body!(admin_only),
        )
        .needs(&[Need::Slot(CM)]),
        case(
            "STF-04",
            Staff,
            "a disabled staff member's open session stops at the next request; colleagues go on",
            &["KIBAN-STF-004"],
            body!(disable_takes_effect),
        )
        .tags(&["fault:disabled-staff-keeps-session"])
        .needs(&[Need::Slot(CM)]),
        case(
            "STF-05",
            Staff,
            "a session token is refused from another terminal of the same office",
            &["KIBAN-STF-005"],
            body!(terminal_bound),
        )
        .tags(&["negative"])
        .needs(&[Need::Slot(CM), Need::Slot(Slot::CareManagementTerminal2)]),
        case(
            "STF-06",
            Staff,
            "signing out ends the session",
            &["KIBAN-STF-006"],
            body!(logout_ends_session),
        )
        .needs(&[Need::Slot(CM)]),
        case(
            "STF-07",
            Staff,
            "municipality systems and the operator cannot sign staff in",
            &["KIBAN-STF-007"],
            body!(no_staff_for_systems),
        )
        .tags(&["negative"]),
        case(
            "STF-08",
            Staff,
            "a password shorter than 8 characters is refused",
            &["KIBAN-STF-008"],
            body!(weak_password),
        )
        .tags(&["negative"])
        .needs(&[Need::Slot(CM)]),
    ]
}

async fn session_required(mut cx: Ctx) -> Verdict {
    let person = cx.person().await?;
    cx.register(CM, &person).await?;
    let ex = cx.read(CM, None, &person, "insurance-card").await?;
    expect(
        &ex,
        "KIBAN-STF-001",
        "a registered office reads with its certificate but no staff session",
        401,
        Some("staff-session-required"),
    )
}

async fn bad_login(cx: Ctx) -> Verdict {
    let wrong = cx
        .send(
            CM,
            Req::post("/v1/session")
                .json(&json!({"staff_id": "admin", "password": "not-the-password"})),
        )
        .await?;
    expect(
        &wrong,
        "KIBAN-STF-002",
        "sign-in with a wrong password",
        401,
        Some("login-failed"),
    )?;
    let unknown = cx
        .send(
            CM,
            Req::post("/v1/session")
                .json(&json!({"staff_id": "nobody-here", "password": "not-the-password"})),
        )
        .await?;
    expect(
        &unknown,
        "KIBAN-STF-002",
        "sign-in with an unknown staff id",
        401,
        Some("login-failed"),
    )?;
    let (a, b) = (
        wrong.json()["detail"].clone(),
        unknown.json()["detail"].clone(),
    );
    ensure(
        a == b,
        "KIBAN-STF-002",
        "the two refusals' details",
        "the same detail",
        format!("{a} / {b}"),
        Some(&unknown),
    )
}

async fn admin_only(mut cx: Ctx) -> Verdict {
    let admin = cx.login(CM).await?;
    let staff = format!("st-{}", cx.unique());
    cx.add_staff(CM, &admin, &staff, "staff-password-1").await?;
    let token = cx.login_as(CM, &staff, "staff-password-1").await?;
    let other = format!("st-{}", cx.unique());
    let ex = cx
        .send(
            CM,
            Req::post("/v1/office/staff")
                .bearer(&token)
                .json(&json!({"staff_id": other, "password": "staff-password-2"})),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-STF-003",
        "a staff member who is not an administrator adds an account",
        403,
        Some("admin-required"),
    )?;
    let ex = cx
        .send(CM, Req::delete("/v1/office/staff/admin").bearer(&token))
        .await?;
    expect(
        &ex,
        "KIBAN-STF-003",
        "a staff member who is not an administrator disables the administrator",
        403,
        Some("admin-required"),
    )
}

async fn disable_takes_effect(mut cx: Ctx) -> Verdict {
    let person = cx.person().await?;
    cx.register(CM, &person).await?;
    let admin = cx.login(CM).await?;
    let staff = format!("st-{}", cx.unique());
    cx.add_staff(CM, &admin, &staff, "staff-password-1").await?;
    let token = cx.login_as(CM, &staff, "staff-password-1").await?;
    let ex = cx.read(CM, Some(&token), &person, "insurance-card").await?;
    expect(
        &ex,
        "KIBAN-STF-004",
        "the staff member reads before being disabled",
        200,
        None,
    )?;
    let ex = cx
        .send(
            CM,
            Req::delete(format!("/v1/office/staff/{staff}")).bearer(&admin),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-STF-004",
        "the administrator disables the staff member",
        204,
        None,
    )?;
    let ex = cx.read(CM, Some(&token), &person, "insurance-card").await?;
    expect(
        &ex,
        "KIBAN-STF-004",
        "the disabled staff member's next request on the open session",
        401,
        Some("staff-disabled"),
    )?;
    let ex = cx
        .send(
            CM,
            Req::post("/v1/session")
                .json(&json!({"staff_id": staff, "password": "staff-password-1"})),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-STF-004",
        "the disabled staff member signs in again",
        401,
        Some("login-failed"),
    )?;
    let ex = cx.read(CM, Some(&admin), &person, "insurance-card").await?;
    expect(
        &ex,
        "KIBAN-STF-004",
        "a colleague (the administrator) reads after the disabling",
        200,
        None,
    )
}

async fn terminal_bound(mut cx: Ctx) -> Verdict {
    let person = cx.person().await?;
    cx.register(CM, &person).await?;
    let token = cx.login(CM).await?;
    let ex = cx
        .read(
            Slot::CareManagementTerminal2,
            Some(&token),
            &person,
            "insurance-card",
        )
        .await?;
    expect(
        &ex,
        "KIBAN-STF-005",
        "a token opened on terminal 1 presented from terminal 2 of the same office",
        401,
        Some("invalid-session"),
    )
}

async fn logout_ends_session(mut cx: Ctx) -> Verdict {
    let person = cx.person().await?;
    cx.register(CM, &person).await?;
    let token = cx.login(CM).await?;
    let ex = cx
        .send(CM, Req::delete("/v1/session").bearer(&token))
        .await?;
    expect(&ex, "KIBAN-STF-006", "signing out", 204, None)?;
    let ex = cx.read(CM, Some(&token), &person, "insurance-card").await?;
    expect(
        &ex,
        "KIBAN-STF-006",
        "a request with the signed-out token",
        401,
        Some("invalid-session"),
    )
}

async fn no_staff_for_systems(cx: Ctx) -> Verdict {
    for slot in [Slot::Municipality, Slot::Operator] {
        let ex = cx
            .send(
                slot,
                Req::post("/v1/session")
                    .json(&json!({"staff_id": "admin", "password": "whatever-password"})),
            )
            .await?;
        expect(
            &ex,
            "KIBAN-STF-007",
            &format!("a staff sign-in with the {slot} certificate"),
            403,
            Some("role-forbidden"),
        )?;
    }
    Ok(())
}

async fn weak_password(mut cx: Ctx) -> Verdict {
    let admin = cx.login(CM).await?;
    let staff = format!("st-{}", cx.unique());
    let ex = cx
        .send(
            CM,
            Req::post("/v1/office/staff")
                .bearer(&admin)
                .json(&json!({"staff_id": staff, "password": "short7c"})),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-STF-008",
        "an account with a 7-character password",
        400,
        Some("weak-password"),
    )
}
