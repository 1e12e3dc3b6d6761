//! The audit log and the person's rights through マイナポータル: every decision in the access
//! log, the person's own reads and redacted log, representatives, withdrawal and ending a
//! representation through the portal, unknown holders.

use serde_json::{Value, json};

use super::{body, case};
use crate::catalogue::Area::Audit;
use crate::http::Req;
use crate::suite::{CaseDef, Ctx, HeldCard, Need, Person, Stop, Verdict, ensure, expect};
use crate::target::Slot;

const CM: Slot = Slot::CareManagement;
const MUN: Slot = Slot::Municipality;
const PER: Slot = Slot::Person;
const PORTAL: &[Need] = &[Need::Jlis, Need::Slot(PER)];

pub(super) fn cases() -> Vec<CaseDef> {
    vec![
        case(
            "AUD-01",
            Audit,
            "permitted and refused reads both appear in the person's access log",
            &["KIBAN-AUD-001"],
            body!(decisions_logged),
        )
        .tags(&["fault:denials-not-audited"])
        .needs(&[Need::Slot(CM)]),
        case(
            "AUD-02",
            Audit,
            "the person signs in with their card and reads their own record",
            &["KIBAN-AUD-002"],
            body!(person_reads_own),
        )
        .needs(PORTAL),
        case(
            "AUD-03",
            Audit,
            "the person's access log names the office but no staff id, terminal or serial",
            &["KIBAN-AUD-003"],
            body!(person_log_redacted),
        )
        .needs(&[Need::Jlis, Need::Slot(PER), Need::Slot(CM)]),
        case(
            "AUD-04",
            Audit,
            "a representative reads for the person they represent and for no one else",
            &["KIBAN-AUD-004"],
            body!(representative_scope),
        )
        .tags(&["fault:representation-not-checked"])
        .needs(PORTAL),
        case(
            "AUD-05",
            Audit,
            "the person withdraws consent and ends a representation; the representative cannot",
            &["KIBAN-AUD-005"],
            body!(person_rights),
        )
        .needs(PORTAL),
        case(
            "AUD-06",
            Audit,
            "a card holder unknown to the platform gets no portal session",
            &["KIBAN-AUD-006"],
            body!(unknown_holder),
        )
        .tags(&["negative"])
        .needs(PORTAL),
    ]
}

async fn access_log(
    cx: &Ctx,
    slot: Slot,
    token: Option<&str>,
    person: &Person,
) -> Result<(crate::http::Exchange, Vec<Value>), Stop> {
    let mut req = Req::get(format!("{}/access-log", person.path()));
    if let Some(token) = token {
        req = req.bearer(token);
    }
    let ex = cx.send(slot, req).await?;
    expect(&ex, "KIBAN-AUD-001", "the access log is listed", 200, None)?;
    let entries = ex.json().as_array().cloned().unwrap_or_default();
    Ok((ex, entries))
}

fn has_read(entries: &[Value], class: &str, decision: &str) -> bool {
    entries
        .iter()
        .any(|e| e["entry"]["class"] == class && e["entry"]["decision"] == decision)
}

async fn decisions_logged(mut cx: Ctx) -> Verdict {
    let person = cx.person().await?;
    cx.register(CM, &person).await?;
    let token = cx.login(CM).await?;
    let ex = cx
        .read(CM, Some(&token), &person, "certification-survey")
        .await?;
    expect(
        &ex,
        "KIBAN-CON-001",
        "a read without consent",
        403,
        Some("consent-missing"),
    )?;
    let ex = cx.read(CM, Some(&token), &person, "insurance-card").await?;
    expect(&ex, "KIBAN-IDV-005", "a permitted read", 200, None)?;
    let (ex, entries) = access_log(&cx, MUN, None, &person).await?;
    ensure(
        has_read(&entries, "insurance-card", "permit"),
        "KIBAN-AUD-001",
        "the insurer's view of the access log",
        "the permitted insurance-card read",
        "missing",
        Some(&ex),
    )?;
    ensure(
        has_read(&entries, "certification-survey", "consent-missing"),
        "KIBAN-AUD-001",
        "the insurer's view of the access log",
        "the refused certification-survey read (consent-missing)",
        "missing",
        Some(&ex),
    )
}

async fn person_reads_own(mut cx: Ctx) -> Verdict {
    let (person, mut held) = cx.person_with_card().await?;
    let ex = cx.read(PER, None, &person, "insurance-card").await?;
    expect(
        &ex,
        "KIBAN-AUD-002",
        "the relay reads without a card holder signed in",
        401,
        Some("portal-session-required"),
    )?;
    let token = cx.portal_token(&mut held).await?;
    let ex = cx
        .read(PER, Some(&token), &person, "insurance-card")
        .await?;
    expect(
        &ex,
        "KIBAN-AUD-002",
        "the signed-in person reads their insurance card",
        200,
        None,
    )?;
    let n = ex.json()["records"].as_array().map_or(0, Vec::len);
    ensure(
        n == 1,
        "KIBAN-AUD-002",
        "the person's insurance-card records",
        "1",
        n.to_string(),
        Some(&ex),
    )
}

async fn person_log_redacted(mut cx: Ctx) -> Verdict {
    let (person, mut held) = cx.person_with_card().await?;
    cx.register(CM, &person).await?;
    let token = cx.login(CM).await?;
    let ex = cx.read(CM, Some(&token), &person, "insurance-card").await?;
    expect(&ex, "KIBAN-IDV-005", "the care manager reads", 200, None)?;
    let portal = cx.portal_token(&mut held).await?;
    let (ex, entries) = access_log(&cx, PER, Some(&portal), &person).await?;
    ensure(
        has_read(&entries, "insurance-card", "permit"),
        "KIBAN-AUD-003",
        "the person's access log",
        "the care manager's read",
        "missing",
        Some(&ex),
    )?;
    let text = ex.resp().map(crate::http::Resp::text).unwrap_or_default();
    let cm_identity = cx.shared.target.client(CM).map(|c| {
        (
            c.identity.principal.terminal().as_str().to_owned(),
            c.identity.serial.to_string(),
        )
    });
    if let Some((terminal, serial)) = cm_identity {
        for (what, secret) in [
            ("the terminal", terminal.as_str()),
            ("the certificate serial", serial.as_str()),
            ("the staff id", "\"admin\""),
        ] {
            ensure(
                !text.contains(secret),
                "KIBAN-AUD-003",
                &format!("the person's access log shows {what}"),
                "not shown",
                format!("{secret:?} shown"),
                Some(&ex),
            )?;
        }
    }
    Ok(())
}

/// Registers a new card holder (not insured) as a family representative of `person`.
async fn representative(cx: &mut Ctx, person: &Person) -> Result<HeldCard, Stop> {
    let agent = cx.issue_card()?;
    let ex = cx
        .send(
            MUN,
            Req::put(format!("{}/representatives/{}", person.path(), agent.link))
                .json(&json!({"kind": "family"})),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-AUD-004",
        "the insurer registers a family representative",
        200,
        None,
    )?;
    Ok(agent)
}

async fn representative_scope(mut cx: Ctx) -> Verdict {
    let person = cx.person().await?;
    let other = cx.person().await?;
    let mut agent = representative(&mut cx, &person).await?;
    let token = cx.portal_token(&mut agent).await?;
    let ex = cx
        .read(PER, Some(&token), &person, "insurance-card")
        .await?;
    expect(
        &ex,
        "KIBAN-AUD-004",
        "the representative reads the represented person's insurance card",
        200,
        None,
    )?;
    let ex = cx.read(PER, Some(&token), &other, "insurance-card").await?;
    expect(
        &ex,
        "KIBAN-AUD-004",
        "the representative reads another person's insurance card",
        403,
        Some("not-representative"),
    )
}

async fn person_rights(mut cx: Ctx) -> Verdict {
    let (person, mut held) = cx.person_with_card().await?;
    cx.consent(&person).await?;
    let mut agent = representative(&mut cx, &person).await?;
    let agent_token = cx.portal_token(&mut agent).await?;
    let path = format!("{}/representatives/{}", person.path(), agent.link);
    let ex = cx
        .send(PER, Req::delete(&path).bearer(&agent_token))
        .await?;
    expect(
        &ex,
        "KIBAN-AUD-005",
        "the representative ends their own representation",
        403,
        None,
    )?;
    let own = cx.portal_token(&mut held).await?;
    let ex = cx
        .send(
            PER,
            Req::delete(format!("{}/consent", person.path())).bearer(&own),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-AUD-005",
        "the person withdraws consent through the portal",
        200,
        None,
    )?;
    let ex = cx.read(MUN, None, &person, "home-care-plan").await?;
    expect(
        &ex,
        "KIBAN-CON-004",
        "the insurer's read after the person's withdrawal",
        403,
        Some("consent-withdrawn"),
    )?;
    let ex = cx.send(PER, Req::delete(&path).bearer(&own)).await?;
    expect(
        &ex,
        "KIBAN-AUD-005",
        "the person ends the representation",
        200,
        None,
    )?;
    let ex = cx
        .read(PER, Some(&agent_token), &person, "insurance-card")
        .await?;
    expect(
        &ex,
        "KIBAN-AUD-005",
        "the former representative reads",
        403,
        Some("not-representative"),
    )
}

async fn unknown_holder(mut cx: Ctx) -> Verdict {
    let mut stranger = cx.issue_card()?;
    let ex = cx.portal_sign_in(&mut stranger).await?;
    expect(
        &ex,
        "KIBAN-AUD-006",
        "a card holder who is neither insured nor a representative signs in",
        403,
        Some("holder-unknown"),
    )
}
