//! The care-plan exchange (ケアプランデータ連携): files written by the platform's own codec go
//! from the care manager to the service office byte for byte; bad names, bad content, the
//! wrong sender or direction, duplicate names, outsiders and media types are refused.

use kiban_core::id::{CareOfficeNumber, InsuredNumber, InsurerNumber};
use kiban_platform::careplan::{
    Endpoint, FileKind, FileSerial, OutgoingFile, Person as CsvPerson, Route, ServiceTypeCode,
    SupplementRow, Table1Row, decode_ms932, encode_ms932, write_file,
};
use serde_json::Value;

use super::{body, case};
use crate::catalogue::Area::Careplan;
use crate::http::{Exchange, Req};
use crate::suite::{CaseDef, Ctx, Need, Person, Stop, Verdict, ensure, expect, runner_error};
use crate::target::Slot;

const CM: Slot = Slot::CareManagement;
const SVC: Slot = Slot::CareService;
const NEEDS: &[Need] = &[Need::Slot(CM), Need::Slot(SVC)];

pub(super) fn cases() -> Vec<CaseDef> {
    vec![
        case("CPX-01", Careplan, "a plan file reaches the service office's inbox and is fetched byte for byte", &["KIBAN-CPX-001"], body!(delivered))
            .needs(NEEDS),
        case("CPX-02", Careplan, "a name sent again: same bytes answer the first receipt, other bytes are refused", &["KIBAN-CPX-005"], body!(duplicate_name))
            .needs(NEEDS),
        case("CPX-03", Careplan, "a file in UTF-8 or with a missing column is refused with findings and not delivered", &["KIBAN-CPX-003"], body!(invalid_content))
            .tags(&["negative"]).needs(NEEDS),
        case("CPX-04", Careplan, "a name that breaks the naming rule is refused", &["KIBAN-CPX-002"], body!(bad_name))
            .tags(&["negative"]).needs(NEEDS),
        case("CPX-05", Careplan, "a name whose sender is another office, and a plan sent by a provider, are refused", &["KIBAN-CPX-004"], body!(sender_and_direction))
            .tags(&["negative"]).needs(NEEDS),
        case("CPX-06", Careplan, "only sender and receiver fetch; only the receiver acknowledges, and the file leaves its inbox", &["KIBAN-CPX-006"], body!(fetch_and_ack))
            .needs(&[Need::Slot(CM), Need::Slot(SVC), Need::Slot(Slot::Facility)]),
        case("CPX-07", Careplan, "an upload that is not text/csv or octet-stream is refused", &["KIBAN-ERR-003"], body!(media_type))
            .tags(&["negative"]).needs(NEEDS),
    ]
}

fn endpoint(cx: &Ctx, slot: Slot, service_type: &str) -> Result<Endpoint, Stop> {
    Ok(Endpoint {
        office: cx
            .org(slot)
            .parse::<CareOfficeNumber>()
            .map_err(runner_error)?,
        service_type: Some(
            ServiceTypeCode::parse(service_type).ok_or_else(|| runner_error("service type"))?,
        ),
    })
}

/// A ファイル連番 unique to the run, the case and the call.
fn serial(cx: &mut Ctx) -> Result<FileSerial, Stop> {
    let tag = cx.unique();
    let hash = tag
        .bytes()
        .fold(17u64, |h, b| h.wrapping_mul(131).wrapping_add(u64::from(b)));
    let day = cx
        .today()
        .plus_days(-i64::try_from(hash % 3000).unwrap_or(0));
    let second = hash / 3000 % 86_400;
    let text = format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        day.year(),
        day.month(),
        day.day(),
        second / 3600,
        second / 60 % 60,
        second % 60
    );
    FileSerial::parse(&text).ok_or_else(|| runner_error(format!("serial {text}")))
}

fn date(d: kiban_core::time::Date) -> Result<time::Date, Stop> {
    let month = time::Month::try_from(d.month()).map_err(runner_error)?;
    time::Date::from_calendar_date(d.year(), month, d.day()).map_err(runner_error)
}

/// The 1表 and 利用者補足情報 of a plan for `person` on `route`, written by the codec.
fn plan(cx: &Ctx, person: &Person, route: &Route) -> Result<Vec<OutgoingFile>, Stop> {
    let planner = route.sender.office;
    let who = CsvPerson {
        insurer: person
            .insurer
            .parse::<InsurerNumber>()
            .map_err(runner_error)?,
        insured: person
            .insured
            .parse::<InsuredNumber>()
            .map_err(runner_error)?,
    };
    let plan_date = date(cx.today().plus_days(-3))?;
    let t1 = Table1Row::new(who, plan_date, planner, "適合 一郎", "適合居宅介護支援");
    let mut s = SupplementRow::for_plan(who, plan_date);
    s.name = "適合 花子".to_owned();
    s.name_kana = "ﾃｷｺﾞｳ ﾊﾅｺ".to_owned();
    Ok(vec![
        write_file(
            &route.name(FileKind::Table1, None).map_err(runner_error)?,
            &[t1],
        )
        .map_err(runner_error)?,
        write_file(
            &route
                .name(FileKind::Supplement, None)
                .map_err(runner_error)?,
            &[s],
        )
        .map_err(runner_error)?,
    ])
}

/// A plan from the care manager to the service office.
async fn cm_plan(cx: &mut Ctx) -> Result<(Person, Vec<OutgoingFile>), Stop> {
    let person = cx.person().await?;
    let route = Route {
        sender: endpoint(cx, CM, "43")?,
        receiver: endpoint(cx, SVC, "11")?,
        serial: serial(cx)?,
    };
    let files = plan(cx, &person, &route)?;
    Ok((person, files))
}

async fn upload(
    cx: &Ctx,
    slot: Slot,
    token: &str,
    name: &str,
    bytes: Vec<u8>,
) -> Result<Exchange, Stop> {
    cx.send(
        slot,
        Req::put(format!("/v1/careplan/files/{name}"))
            .bearer(token)
            .raw("text/csv; charset=Shift_JIS", bytes),
    )
    .await
}

async fn inbox_names(cx: &Ctx, slot: Slot, token: &str) -> Result<(Exchange, Vec<Value>), Stop> {
    let ex = cx
        .send(
            slot,
            Req::get("/v1/careplan/inbox?limit=1000").bearer(token),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-CPX-006",
        "the office lists its exchange inbox",
        200,
        None,
    )?;
    let entries = ex.json().as_array().cloned().unwrap_or_default();
    Ok((ex, entries))
}

async fn delivered(mut cx: Ctx) -> Verdict {
    let (_person, files) = cm_plan(&mut cx).await?;
    let cm = cx.login(CM).await?;
    let svc = cx.login(SVC).await?;
    for file in &files {
        let name = file.name.to_string();
        let ex = upload(&cx, CM, &cm, &name, file.bytes.clone()).await?;
        expect(
            &ex,
            "KIBAN-CPX-001",
            &format!("the care manager sends {name}"),
            201,
            None,
        )?;
        let id = ex.json()["id"].as_u64().unwrap_or_default();
        let (ex, entries) = inbox_names(&cx, SVC, &svc).await?;
        ensure(
            entries
                .iter()
                .any(|e| e["id"] == id && e["name"] == name.as_str()),
            "KIBAN-CPX-001",
            "the service office's inbox",
            format!("{name} listed"),
            "not listed",
            Some(&ex),
        )?;
        let ex = cx
            .send(
                SVC,
                Req::get(format!("/v1/careplan/files/by-id/{id}")).bearer(&svc),
            )
            .await?;
        expect(
            &ex,
            "KIBAN-CPX-001",
            "the service office fetches the file",
            200,
            None,
        )?;
        let same = ex.resp().is_some_and(|r| r.body == file.bytes);
        ensure(
            same,
            "KIBAN-CPX-001",
            "the fetched bytes",
            format!("the {} bytes sent", file.bytes.len()),
            format!("{} other bytes", ex.resp().map_or(0, |r| r.body.len())),
            Some(&ex),
        )?;
    }
    Ok(())
}

async fn duplicate_name(mut cx: Ctx) -> Verdict {
    let (_person, files) = cm_plan(&mut cx).await?;
    let cm = cx.login(CM).await?;
    let file = &files[0];
    let name = file.name.to_string();
    let first = upload(&cx, CM, &cm, &name, file.bytes.clone()).await?;
    expect(&first, "KIBAN-CPX-001", "the first upload", 201, None)?;
    let again = upload(&cx, CM, &cm, &name, file.bytes.clone()).await?;
    expect(
        &again,
        "KIBAN-CPX-005",
        "the same name with the same bytes",
        200,
        None,
    )?;
    ensure(
        again.json()["id"] == first.json()["id"],
        "KIBAN-CPX-005",
        "the repeated upload's receipt",
        first.json()["id"].to_string(),
        again.json()["id"].to_string(),
        Some(&again),
    )?;
    let (_, other) = cm_plan(&mut cx).await?;
    let ex = upload(&cx, CM, &cm, &name, other[0].bytes.clone()).await?;
    expect(
        &ex,
        "KIBAN-CPX-005",
        "the same name with other bytes",
        409,
        Some("careplan-duplicate-name"),
    )
}

async fn invalid_content(mut cx: Ctx) -> Verdict {
    let cm = cx.login(CM).await?;
    let svc = cx.login(SVC).await?;
    for variant in ["utf-8", "missing-column"] {
        let (_person, files) = cm_plan(&mut cx).await?;
        let file = &files[0];
        let text = decode_ms932(&file.bytes).map_err(runner_error)?;
        let bytes = match variant {
            "utf-8" => text.into_bytes(),
            _ => {
                let line = text.trim_end_matches("\r\n");
                let cut = line.rfind(',').ok_or_else(|| runner_error("no comma"))?;
                encode_ms932(&format!("{}\r\n", &line[..cut])).map_err(runner_error)?
            }
        };
        let name = file.name.to_string();
        let ex = upload(&cx, CM, &cm, &name, bytes).await?;
        expect(
            &ex,
            "KIBAN-CPX-003",
            &format!("a 1表 file with {variant}"),
            422,
            Some("careplan-invalid"),
        )?;
        let findings = ex.json()["findings"].as_array().map_or(0, Vec::len);
        ensure(
            findings > 0,
            "KIBAN-CPX-003",
            "the refusal's findings",
            "at least one finding",
            "none",
            Some(&ex),
        )?;
        let (ex, entries) = inbox_names(&cx, SVC, &svc).await?;
        ensure(
            !entries.iter().any(|e| e["name"] == name.as_str()),
            "KIBAN-CPX-003",
            "the receiver's inbox after the refusal",
            format!("{name} not listed"),
            "listed",
            Some(&ex),
        )?;
    }
    Ok(())
}

async fn bad_name(mut cx: Ctx) -> Verdict {
    let (_person, files) = cm_plan(&mut cx).await?;
    let cm = cx.login(CM).await?;
    for name in [
        "UP1KYO_12345.CSV",
        "PLAN_2025.CSV",
        "UP1KYO_1470100015_43_1471100048_11_20251399000000.CSV",
    ] {
        let ex = upload(&cx, CM, &cm, name, files[0].bytes.clone()).await?;
        expect(
            &ex,
            "KIBAN-CPX-002",
            &format!("an upload named {name}"),
            400,
            Some("careplan-file-name"),
        )?;
    }
    Ok(())
}

async fn sender_and_direction(mut cx: Ctx) -> Verdict {
    let person = cx.person().await?;
    let cm = cx.login(CM).await?;
    let svc = cx.login(SVC).await?;
    // The provider writes a plan: sender and receiver swapped.
    let back = Route {
        sender: endpoint(&cx, SVC, "11")?,
        receiver: endpoint(&cx, CM, "43")?,
        serial: serial(&mut cx)?,
    };
    let files = plan(&cx, &person, &back)?;
    let name = files[0].name.to_string();
    let ex = upload(&cx, CM, &cm, &name, files[0].bytes.clone()).await?;
    expect(
        &ex,
        "KIBAN-CPX-004",
        "the care manager uploads a file whose name says the service office sent it",
        403,
        Some("careplan-sender-mismatch"),
    )?;
    let ex = upload(&cx, SVC, &svc, &name, files[0].bytes.clone()).await?;
    expect(
        &ex,
        "KIBAN-CPX-004",
        "the service office sends a 1表 to the care manager (plans go the other way)",
        403,
        Some("careplan-direction"),
    )
}

async fn fetch_and_ack(mut cx: Ctx) -> Verdict {
    let (_person, files) = cm_plan(&mut cx).await?;
    let cm = cx.login(CM).await?;
    let svc = cx.login(SVC).await?;
    let fac = cx.login(Slot::Facility).await?;
    let name = files[0].name.to_string();
    let ex = upload(&cx, CM, &cm, &name, files[0].bytes.clone()).await?;
    expect(
        &ex,
        "KIBAN-CPX-001",
        "the care manager sends a plan",
        201,
        None,
    )?;
    let id = ex.json()["id"].as_u64().unwrap_or_default();
    let path = format!("/v1/careplan/files/by-id/{id}");
    let ex = cx
        .send(Slot::Facility, Req::get(&path).bearer(&fac))
        .await?;
    expect(
        &ex,
        "KIBAN-CPX-006",
        "a third office fetches the file",
        404,
        Some("careplan-unknown-file"),
    )?;
    let ex = cx.send(CM, Req::get(&path).bearer(&cm)).await?;
    expect(
        &ex,
        "KIBAN-CPX-006",
        "the sender fetches its file",
        200,
        None,
    )?;
    let ex = cx
        .send(
            CM,
            Req::post(format!("/v1/careplan/inbox/{id}/ack")).bearer(&cm),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-CPX-006",
        "the sender acknowledges the file",
        404,
        Some("careplan-unknown-file"),
    )?;
    let ex = cx
        .send(
            SVC,
            Req::post(format!("/v1/careplan/inbox/{id}/ack")).bearer(&svc),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-CPX-006",
        "the receiver acknowledges the file",
        204,
        None,
    )?;
    let (ex, entries) = inbox_names(&cx, SVC, &svc).await?;
    ensure(
        !entries.iter().any(|e| e["id"] == id),
        "KIBAN-CPX-006",
        "the receiver's inbox after acknowledging",
        "the file no longer listed",
        "still listed",
        Some(&ex),
    )?;
    let ex = cx.send(SVC, Req::get(&path).bearer(&svc)).await?;
    expect(
        &ex,
        "KIBAN-CPX-006",
        "the receiver fetches the acknowledged file (files are kept)",
        200,
        None,
    )
}

async fn media_type(mut cx: Ctx) -> Verdict {
    let (_person, files) = cm_plan(&mut cx).await?;
    let cm = cx.login(CM).await?;
    let name = files[0].name.to_string();
    let ex = cx
        .send(
            CM,
            Req::put(format!("/v1/careplan/files/{name}"))
                .bearer(&cm)
                .raw("application/json", files[0].bytes.clone()),
        )
        .await?;
    expect(
        &ex,
        "KIBAN-ERR-003",
        "a care-plan file sent as application/json",
        415,
        Some("unsupported-media-type"),
    )
}
