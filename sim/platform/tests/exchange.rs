//! The care-plan data exchange (ケアプランデータ連携) through the router: real files built by
//! the care-plan writer and committed fixtures go from the care-management office to the
//! service office and 実績 come back byte for byte; every refusal (name, sender, direction,
//! receiver, kind, content, duplicate name, media type, role, session, size, query, access)
//! is a precise problem+json; files and acknowledgements survive a restart on SQLite and the
//! audit log names the files without their content.

mod careplan_support;
mod support;

use std::path::PathBuf;
use std::sync::Arc;

use axum::http::{Method, StatusCode, header};
use careplan_support::{cast, date, route_back, route_to_home_help, serial, ty, usage_set, ym};
use kiban_certs::ClientIdentity;
use kiban_core::id::CareOfficeNumber;
use kiban_core::vocab::Role;
use kiban_platform::careplan::{
    Endpoint, FileKind, FileName, OutgoingFile, Route, actuals_as_planned, encode_ms932,
    write_actuals,
};
use kiban_platform::store::SqliteStore;
use serde_json::{Value, json};
use support::*;

/// A signed-in office user.
struct Office {
    who: ClientIdentity,
    token: String,
}

/// The standard world plus the care-plan cast's offices on the platform: the
/// care-management office (43) and the 訪問介護 provider (11) of the writer's sample data.
struct Exchange {
    w: World,
    cm: Office,
    help: Office,
}

async fn register_office(h: &Harness, operator: &ClientIdentity, number: &str, role: &str) {
    let body = json!({"role": role, "municipality": YOKOHAMA, "admin_password": "correct horse"});
    let (s, v) = h
        .call(
            Method::PUT,
            &format!("/v1/operator/offices/{number}"),
            Some(operator),
            None,
            Some(body),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
}

async fn sign_in(h: &Harness, role: Role, number: &str, terminal: &str) -> Office {
    let who = h.identity(role, number, terminal);
    let token = login(h, &who, "admin", "correct horse").await;
    Office { who, token }
}

async fn exchange() -> Exchange {
    let w = world().await;
    let c = cast();
    register_office(&w.h, &w.operator, c.cm.office.as_str(), "care-management").await;
    register_office(
        &w.h,
        &w.operator,
        c.home_help.office.as_str(),
        "care-service",
    )
    .await;
    let cm = sign_in(&w.h, Role::CareManagement, c.cm.office.as_str(), "cp-cm1").await;
    let help = sign_in(
        &w.h,
        Role::CareService,
        c.home_help.office.as_str(),
        "cp-help1",
    )
    .await;
    Exchange { w, cm, help }
}

fn file_uri(name: &str) -> String {
    format!("/v1/careplan/files/{name}")
}

async fn upload_as(h: &Harness, o: &Office, name: &str, bytes: &[u8], media: &str) -> RawResponse {
    send_raw(
        h,
        Method::PUT,
        &file_uri(name),
        Some(&o.who),
        Some(&o.token),
        Some(media),
        bytes.to_vec(),
    )
    .await
}

async fn upload(h: &Harness, o: &Office, name: &str, bytes: &[u8]) -> RawResponse {
    upload_as(h, o, name, bytes, "text/csv; charset=Shift_JIS").await
}

async fn upload_file(h: &Harness, o: &Office, file: &OutgoingFile) -> RawResponse {
    upload(h, o, &file.name.to_string(), &file.bytes).await
}

async fn get(h: &Harness, o: &Office, uri: &str) -> RawResponse {
    send_raw(
        h,
        Method::GET,
        uri,
        Some(&o.who),
        Some(&o.token),
        None,
        Vec::new(),
    )
    .await
}

async fn post(h: &Harness, o: &Office, uri: &str) -> RawResponse {
    send_raw(
        h,
        Method::POST,
        uri,
        Some(&o.who),
        Some(&o.token),
        None,
        Vec::new(),
    )
    .await
}

async fn fetch(h: &Harness, o: &Office, id: u64) -> RawResponse {
    get(h, o, &format!("/v1/careplan/files/by-id/{id}")).await
}

async fn ack(h: &Harness, o: &Office, id: u64) -> RawResponse {
    post(h, o, &format!("/v1/careplan/inbox/{id}/ack")).await
}

/// The office's inbox (asserting 200).
async fn inbox(h: &Harness, o: &Office, query: &str) -> Vec<Value> {
    let r = get(h, o, &format!("/v1/careplan/inbox{query}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    r.json().as_array().unwrap().clone()
}

fn names(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Status and problem code of a response.
fn refusal(r: &RawResponse) -> (StatusCode, String) {
    (r.status, r.json()["code"].as_str().unwrap_or("").to_owned())
}

fn created_id(r: &RawResponse) -> u64 {
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
    r.json()["id"].as_u64().unwrap()
}

fn fixture(path: &str) -> (String, Vec<u8>) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/careplan")
        .join(path);
    let name = path.file_name().unwrap().to_str().unwrap().to_owned();
    (name, std::fs::read(&path).unwrap())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The 1表…補足 plan unit and the May 利用票 unit, as the writer produces them.
fn plan_and_usage_files() -> Vec<OutgoingFile> {
    let mut files = careplan_support::plan_set()
        .write(&route_to_home_help())
        .unwrap();
    let usage_route = Route {
        serial: serial("20250425100500"),
        ..route_to_home_help()
    };
    files.extend(usage_set().write(&usage_route).unwrap());
    files
}

/// The provider's May 実績, every planned visit as planned.
fn actuals() -> OutgoingFile {
    let c = cast();
    let rows = actuals_as_planned(&usage_set().table6, c.home_help, date(2025, 6, 2));
    write_actuals(&route_back(), ym(2025, 5), &rows).unwrap()
}

/// A v4.1 name of `kind` between two offices.
fn name_between(
    kind: FileKind,
    month: Option<(u16, u8)>,
    from: (CareOfficeNumber, &str),
    to: (CareOfficeNumber, &str),
) -> String {
    FileName::new(
        kind,
        month.map(|(y, m)| ym(y, m)),
        Endpoint {
            office: from.0,
            service_type: Some(ty(from.1)),
        },
        Endpoint {
            office: to.0,
            service_type: Some(ty(to.1)),
        },
        serial("20250425100000"),
    )
    .unwrap()
    .to_string()
}

#[tokio::test]
async fn plans_reach_the_service_office_and_actuals_come_back_byte_for_byte() {
    let x = exchange().await;
    let h = &x.w.h;
    let files = plan_and_usage_files();
    let kinds: Vec<FileKind> = files.iter().map(|f| f.name.kind()).collect();
    assert_eq!(
        kinds,
        [
            FileKind::Table1,
            FileKind::Table2,
            FileKind::Table3,
            FileKind::Supplement,
            FileKind::Plan,
            FileKind::Table7,
            FileKind::Supplement
        ]
    );
    let mut ids = Vec::new();
    for file in &files {
        let r = upload_file(h, &x.cm, file).await;
        let id = created_id(&r);
        let v = r.json();
        assert_eq!(v["name"], file.name.to_string());
        assert_eq!(v["kind"], file.name.kind().prefix());
        assert_eq!(v["sender"], cast().cm.office.as_str());
        assert_eq!(v["receiver"], cast().home_help.office.as_str());
        assert_eq!(v["size"].as_u64(), Some(file.bytes.len() as u64));
        assert_eq!(v["sha256"].as_str().unwrap().len(), 64);
        assert_eq!(v["warnings"], json!([]));
        assert_eq!(
            r.headers.get(header::LOCATION).unwrap(),
            &format!("/v1/careplan/files/by-id/{id}")
        );
        ids.push(id);
    }
    assert!(ids.windows(2).all(|p| p[0] < p[1]), "{ids:?}");

    // The service office's inbox: every file, oldest first, with what it needs to import.
    let entries = inbox(h, &x.help, "").await;
    assert_eq!(
        names(&entries),
        files.iter().map(|f| f.name.to_string()).collect::<Vec<_>>()
    );
    assert_eq!(entries[0]["sender"], cast().cm.office.as_str());
    assert_eq!(entries[0]["kind"], "UP1KYO");
    assert_eq!(entries[0]["serial"], "20250425100000");
    assert_eq!(entries[4]["serial"], "20250425100500");
    assert_eq!(inbox(h, &x.cm, "").await, Vec::<Value>::new());

    // Byte-exact: MS932 out == bytes in, half-width katakana included.
    let supplement = &files[3];
    assert!(contains(
        &supplement.bytes,
        &encode_ms932("ｽｽﾞｷ ﾀﾛｳ").unwrap()
    ));
    for (file, id) in files.iter().zip(&ids) {
        let r = fetch(h, &x.help, *id).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.bytes, file.bytes, "{}", file.name);
        assert_eq!(
            r.headers.get(header::CONTENT_TYPE).unwrap(),
            "text/csv; charset=Shift_JIS"
        );
        assert_eq!(
            r.headers.get(header::CONTENT_DISPOSITION).unwrap(),
            &format!("attachment; filename=\"{}\"", file.name)
        );
    }
    // The sender may fetch what it sent.
    assert_eq!(fetch(h, &x.cm, ids[3]).await.bytes, supplement.bytes);

    // 実績 go back from the provider to the care-management office.
    let back = actuals();
    assert_eq!(back.name.kind(), FileKind::Actual);
    let id = created_id(&upload_file(h, &x.help, &back).await);
    let entries = inbox(h, &x.cm, "").await;
    assert_eq!(names(&entries), [back.name.to_string()]);
    assert_eq!(entries[0]["id"].as_u64(), Some(id));
    assert_eq!(entries[0]["sender"], cast().home_help.office.as_str());
    assert_eq!(entries[0]["kind"], "UPJSK");
    assert_eq!(fetch(h, &x.cm, id).await.bytes, back.bytes);
}

#[tokio::test]
async fn committed_fixtures_are_accepted_and_warnings_come_back_with_the_receipt() {
    let x = exchange().await;
    let h = &x.w.h;
    // A valid fixture each way.
    let (name, bytes) =
        fixture("valid/UPPLAN_202505_1370000018_43_1371000025_11_20250425100500.CSV");
    let id = created_id(&upload(h, &x.cm, &name, &bytes).await);
    assert_eq!(fetch(h, &x.help, id).await.bytes, bytes);
    let (name, bytes) =
        fixture("valid/DLTJSK_202505_1371000025_11_1370000018_43_20250604080000.CSV");
    let id = created_id(&upload(h, &x.help, &name, &bytes).await);
    assert_eq!(fetch(h, &x.cm, id).await.bytes, bytes);
    // A v3 name and file.
    let (name, bytes) = fixture("valid/UPPLAN_202503_1370000018_1371000025_20250225170000.CSV");
    created_id(&upload(h, &x.cm, &name, &bytes).await);

    // Warnings do not refuse a file; they come back with the receipt.
    let (name, bytes) = fixture(
        "invalid/free-text-unquoted/UPPLAN_202505_1370000018_43_1371000025_11_20250425100500.CSV",
    );
    let renamed = name.replace("20250425100500", "20250425110000");
    let r = upload(h, &x.cm, &renamed, &bytes).await;
    created_id(&r);
    let warnings = r.json()["warnings"].clone();
    assert_eq!(
        warnings,
        json!([{"code": "free-text-unquoted", "severity": "warning", "row": 1, "column": 7,
            "column_name": "プラン担当者名",
            "message": "フリーテキスト should be enclosed in double quotes (spec §2.2)"}])
    );
    // The 予防 files pass the encoding and syntax checks with a `not-covered` warning.
    let (name, bytes) =
        fixture("invalid/not-covered/UPKIHON_1370000018_43_1371000025_11_20250425100000.CSV");
    let r = upload(h, &x.cm, &name, &bytes).await;
    created_id(&r);
    assert_eq!(r.json()["warnings"][0]["code"], "not-covered");
    assert_eq!(inbox(h, &x.help, "").await.len(), 4);
}

#[tokio::test]
async fn errors_in_the_content_refuse_the_file_with_its_findings_and_store_nothing() {
    let x = exchange().await;
    let h = &x.w.h;
    let (name, bytes) =
        fixture("invalid/gaiji/UPPLAN_202505_1370000018_43_1371000025_11_20250425100500.CSV");
    let r = upload(h, &x.cm, &name, &bytes).await;
    assert_eq!(
        refusal(&r),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "careplan-invalid".to_owned()
        )
    );
    let v = r.json();
    assert!(
        v["detail"].as_str().unwrap().contains("nothing was stored"),
        "{v}"
    );
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings[0]["code"], "gaiji");
    assert_eq!(findings[0]["severity"], "error");
    assert_eq!(findings[0]["row"], 1);
    assert!(findings[0]["message"].as_str().unwrap().contains("外字"));
    assert_eq!(inbox(h, &x.help, "").await, Vec::<Value>::new());

    // Nothing was stored, so the name is free for the corrected file.
    let (valid_name, valid) =
        fixture("valid/UPPLAN_202505_1370000018_43_1371000025_11_20250425100500.CSV");
    assert_eq!(valid_name, name);
    created_id(&upload(h, &x.cm, &name, &valid).await);

    // Garbage never panics or 500s: every byte value, a lone quote, an empty file.
    let garbage: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    for (serial, bytes) in [
        ("20250425120000", garbage),
        ("20250425120001", b"\"".to_vec()),
        ("20250425120002", b"202407,".to_vec()),
    ] {
        let renamed = name.replace("20250425100500", serial);
        let r = upload(h, &x.cm, &renamed, &bytes).await;
        assert_eq!(
            refusal(&r),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "careplan-invalid".to_owned()
            ),
            "{}",
            r.json()
        );
        assert!(!r.json()["findings"].as_array().unwrap().is_empty());
    }
    assert_eq!(inbox(h, &x.help, "").await.len(), 1);
}

#[tokio::test]
async fn the_same_file_again_gets_the_original_answer_and_other_bytes_under_its_name_conflict() {
    let x = exchange().await;
    let h = &x.w.h;
    let file = &plan_and_usage_files()[4];
    let first = upload_file(h, &x.cm, file).await;
    let id = created_id(&first);
    let again = upload_file(h, &x.cm, file).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json(), first.json());
    assert_eq!(inbox(h, &x.help, "").await.len(), 1);

    let (_, other) = fixture(
        "invalid/free-text-unquoted/UPPLAN_202505_1370000018_43_1371000025_11_20250425100500.CSV",
    );
    assert_ne!(other, file.bytes);
    let r = upload(h, &x.cm, &file.name.to_string(), &other).await;
    assert_eq!(
        refusal(&r),
        (StatusCode::CONFLICT, "careplan-duplicate-name".to_owned())
    );
    let entries = inbox(h, &x.help, "").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["id"].as_u64(), Some(id));
    assert_eq!(fetch(h, &x.help, id).await.bytes, file.bytes);
}

#[tokio::test]
async fn names_senders_directions_receivers_and_kinds_are_checked() {
    let x = exchange().await;
    let h = &x.w.h;
    let c = cast();
    let bytes = b"202407\r\n".to_vec();
    let cm = (c.cm.office, "43");
    let help = (c.home_help.office, "11");
    let cases = [
        (
            &x.cm,
            "NOTAFILE.CSV".to_owned(),
            StatusCode::BAD_REQUEST,
            "careplan-file-name",
        ),
        (
            &x.cm,
            "UPPLAN_202505_1370000011_43_1371000025_11_20250425100500.CSV".to_owned(),
            StatusCode::BAD_REQUEST,
            "careplan-file-name",
        ),
        (
            &x.cm,
            actuals().name.to_string(),
            StatusCode::FORBIDDEN,
            "careplan-sender-mismatch",
        ),
        // A provider does not send plans …
        (
            &x.help,
            name_between(FileKind::Plan, Some((2025, 5)), help, cm),
            StatusCode::FORBIDDEN,
            "careplan-direction",
        ),
        // … and a care-management office does not send 実績 …
        (
            &x.cm,
            name_between(FileKind::Actual, Some((2025, 5)), cm, help),
            StatusCode::FORBIDDEN,
            "careplan-direction",
        ),
        // … nor plans to another care-management office.
        (
            &x.cm,
            name_between(FileKind::Table1, None, cm, (CM.parse().unwrap(), "43")),
            StatusCode::FORBIDDEN,
            "careplan-direction",
        ),
        (
            &x.cm,
            name_between(FileKind::Table1, None, cm, (c.equipment.office, "17")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "careplan-unknown-receiver",
        ),
        (
            &x.cm,
            format!(
                "UPKIHON_IMAGE_{}_43_{}_11_20250425100000_0001.jpg",
                c.cm.office, c.home_help.office
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "careplan-kind-not-exchanged",
        ),
    ];
    for (office, name, status, code) in cases {
        let r = upload(h, office, &name, &bytes).await;
        assert_eq!(
            refusal(&r),
            (status, code.to_owned()),
            "{name}: {}",
            r.json()
        );
    }
    let r = upload(h, &x.cm, "NOTAFILE.CSV", &bytes).await;
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("unknown file-name prefix"),
        "{}",
        r.json()
    );
    assert_eq!(inbox(h, &x.help, "").await, Vec::<Value>::new());
    assert_eq!(inbox(h, &x.cm, "").await, Vec::<Value>::new());

    // Facilities receive plans too.
    let facility = sign_in(h, Role::Facility, FACILITY, "fac-pc1").await;
    let (_, valid) = fixture("valid/UPPLAN_202505_1370000018_43_1371000025_11_20250425100500.CSV");
    let to_facility = name_between(
        FileKind::Plan,
        Some((2025, 5)),
        cm,
        (FACILITY.parse().unwrap(), "27"),
    );
    created_id(&upload(h, &x.cm, &to_facility, &valid).await);
    assert_eq!(names(&inbox(h, &facility, "").await), [to_facility]);
}

#[tokio::test]
async fn media_types_roles_sessions_and_sizes_are_enforced() {
    let x = exchange().await;
    let h = &x.w.h;
    let files = plan_and_usage_files();
    let name = files[0].name.to_string();
    for media in [Some("application/json"), Some("text/plain"), None] {
        let r = send_raw(
            h,
            Method::PUT,
            &file_uri(&name),
            Some(&x.cm.who),
            Some(&x.cm.token),
            media,
            files[0].bytes.clone(),
        )
        .await;
        assert_eq!(
            refusal(&r),
            (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type".to_owned()
            ),
            "{media:?}"
        );
    }
    for (file, media) in files.iter().zip([
        "text/csv",
        "TEXT/CSV; charset=windows-31j",
        "application/octet-stream",
    ]) {
        created_id(&upload_as(h, &x.cm, &file.name.to_string(), &file.bytes, media).await);
    }

    // Municipalities and the operator take no part; offices sign in first.
    let name = files[3].name.to_string();
    for who in [&x.w.city, &x.w.operator] {
        let r = send_raw(
            h,
            Method::PUT,
            &file_uri(&name),
            Some(who),
            None,
            Some("text/csv"),
            files[3].bytes.clone(),
        )
        .await;
        assert_eq!(
            refusal(&r),
            (StatusCode::FORBIDDEN, "role-forbidden".to_owned())
        );
        let r = send_raw(
            h,
            Method::GET,
            "/v1/careplan/inbox",
            Some(who),
            None,
            None,
            vec![],
        )
        .await;
        assert_eq!(
            refusal(&r),
            (StatusCode::FORBIDDEN, "role-forbidden".to_owned())
        );
    }
    for (method, uri) in [
        (Method::PUT, file_uri(&name)),
        (Method::GET, "/v1/careplan/inbox".to_owned()),
        (Method::GET, "/v1/careplan/files/by-id/1".to_owned()),
        (Method::POST, "/v1/careplan/inbox/1/ack".to_owned()),
    ] {
        let r = send_raw(
            h,
            method,
            &uri,
            Some(&x.cm.who),
            None,
            Some("text/csv"),
            files[3].bytes.clone(),
        )
        .await;
        assert_eq!(
            refusal(&r),
            (
                StatusCode::UNAUTHORIZED,
                "staff-session-required".to_owned()
            ),
            "{uri}"
        );
    }

    // The router's 8 MiB limit holds.
    let huge = vec![b'x'; kiban_platform::api::MAX_BODY_BYTES + 1];
    let r = upload(h, &x.cm, &name, &huge).await;
    assert_eq!(
        refusal(&r),
        (StatusCode::PAYLOAD_TOO_LARGE, "body-too-large".to_owned())
    );
    assert_eq!(inbox(h, &x.help, "").await.len(), 3);
}

#[tokio::test]
async fn the_inbox_pages_oldest_first_and_refuses_bad_queries_precisely() {
    let x = exchange().await;
    let h = &x.w.h;
    let files = plan_and_usage_files();
    let mut ids = Vec::new();
    for file in &files[..3] {
        ids.push(created_id(&upload_file(h, &x.cm, file).await));
    }
    let page = inbox(h, &x.help, "?limit=2").await;
    assert_eq!(
        page.iter()
            .map(|e| e["id"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        ids[..2]
    );
    let rest = inbox(h, &x.help, &format!("?after={}&limit=2", ids[1])).await;
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0]["id"].as_u64(), Some(ids[2]));
    assert_eq!(rest[0]["size"].as_u64(), Some(files[2].bytes.len() as u64));
    assert!(
        rest[0]["received_at"]
            .as_str()
            .unwrap()
            .starts_with("2026-10-01")
    );
    assert_eq!(
        inbox(h, &x.help, &format!("?after={}", ids[2])).await.len(),
        0
    );

    for (query, needle) in [
        ("?limit=0", "limit must be 1-1000"),
        ("?limit=1001", "limit must be 1-1000"),
        ("?limit=many", "limit"),
        ("?after=-1", "after"),
        ("?after=1.5", "after"),
        ("?since=3", "since"),
    ] {
        let r = get(h, &x.help, &format!("/v1/careplan/inbox{query}")).await;
        assert_eq!(
            refusal(&r),
            (StatusCode::BAD_REQUEST, "invalid-query".to_owned()),
            "{query}"
        );
        let detail = r.json()["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains(needle), "{query}: {detail}");
    }
}

#[tokio::test]
async fn only_sender_and_receiver_fetch_and_only_the_receiver_acknowledges() {
    let x = exchange().await;
    let h = &x.w.h;
    let file = &plan_and_usage_files()[0];
    let id = created_id(&upload_file(h, &x.cm, file).await);
    let stranger = Office {
        who: x.w.svc.clone(),
        token: x.w.svc_token.clone(),
    };
    let not_found = (StatusCode::NOT_FOUND, "careplan-unknown-file".to_owned());
    // Another office and an id that does not exist look the same.
    assert_eq!(refusal(&fetch(h, &stranger, id).await), not_found);
    assert_eq!(refusal(&fetch(h, &x.help, 999).await), not_found);
    for bad in ["abc", "0", "-1", "18446744073709551616"] {
        let r = get(h, &x.help, &format!("/v1/careplan/files/by-id/{bad}")).await;
        assert_eq!(
            refusal(&r),
            (StatusCode::BAD_REQUEST, "invalid-path".to_owned()),
            "{bad}"
        );
        let r = post(h, &x.help, &format!("/v1/careplan/inbox/{bad}/ack")).await;
        assert_eq!(
            refusal(&r),
            (StatusCode::BAD_REQUEST, "invalid-path".to_owned()),
            "{bad}"
        );
    }

    // Only the receiver acknowledges; the sender and strangers are told 404.
    assert_eq!(refusal(&ack(h, &x.cm, id).await), not_found);
    assert_eq!(refusal(&ack(h, &stranger, id).await), not_found);
    assert_eq!(refusal(&ack(h, &x.help, 999).await), not_found);
    assert_eq!(inbox(h, &x.help, "").await.len(), 1);
    assert_eq!(ack(h, &x.help, id).await.status, StatusCode::NO_CONTENT);
    assert_eq!(ack(h, &x.help, id).await.status, StatusCode::NO_CONTENT);
    assert_eq!(inbox(h, &x.help, "").await, Vec::<Value>::new());
    // Acknowledged files stay fetchable by both ends.
    assert_eq!(fetch(h, &x.help, id).await.bytes, file.bytes);
    assert_eq!(fetch(h, &x.cm, id).await.bytes, file.bytes);
    assert_eq!(refusal(&fetch(h, &stranger, id).await), not_found);
}

#[tokio::test]
async fn files_and_acknowledgements_survive_restarts_on_sqlite_and_the_audit_names_no_content() {
    let dir = tempfile::tempdir().unwrap();
    let c = cast();
    let files = plan_and_usage_files();
    let now = at("2026-10-01");
    let open = || {
        let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
        (harness_on_store(store.clone(), now), store)
    };
    let (first, second) = {
        let (h, _) = open();
        let operator = h.identity(Role::Operator, "-", "ops1");
        let (s, v) = h
            .call(
                Method::PUT,
                &format!("/v1/operator/municipalities/{YOKOHAMA}"),
                Some(&operator),
                None,
                Some(json!({"live_from": "2026-11-01"})),
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
        register_office(&h, &operator, c.cm.office.as_str(), "care-management").await;
        register_office(&h, &operator, c.home_help.office.as_str(), "care-service").await;
        let cm = sign_in(&h, Role::CareManagement, c.cm.office.as_str(), "cp-cm1").await;
        let first = created_id(&upload_file(&h, &cm, &files[3]).await);
        let second = created_id(&upload_file(&h, &cm, &files[4]).await);
        (first, second)
    };

    // Reopened: both files wait in the inbox; fetch is byte-exact; acknowledge the first.
    {
        let (h, _) = open();
        let help = sign_in(
            &h,
            Role::CareService,
            c.home_help.office.as_str(),
            "cp-help1",
        )
        .await;
        let entries = inbox(&h, &help, "").await;
        assert_eq!(
            entries
                .iter()
                .map(|e| e["id"].as_u64().unwrap())
                .collect::<Vec<_>>(),
            [first, second]
        );
        assert_eq!(fetch(&h, &help, first).await.bytes, files[3].bytes);
        assert_eq!(ack(&h, &help, first).await.status, StatusCode::NO_CONTENT);
    }

    // Reopened again: the acknowledgement held, the same file is still the same answer, and
    // ids continue.
    let (h, store) = open();
    let help = sign_in(
        &h,
        Role::CareService,
        c.home_help.office.as_str(),
        "cp-help1",
    )
    .await;
    let cm = sign_in(&h, Role::CareManagement, c.cm.office.as_str(), "cp-cm1").await;
    let entries = inbox(&h, &help, "").await;
    assert_eq!(names(&entries), [files[4].name.to_string()]);
    assert_eq!(ack(&h, &help, first).await.status, StatusCode::NO_CONTENT);
    let again = upload_file(&h, &cm, &files[3]).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["id"].as_u64(), Some(first));
    let third = created_id(&upload_file(&h, &cm, &files[5]).await);
    assert_eq!(third, second + 1);

    // The audit log verifies and names files by name, id, digest and size only.
    store.checkpoint(now).unwrap();
    let report = kiban_platform::audit::verify_data_dir(dir.path()).unwrap();
    assert!(report.is_ok(), "{report}");
    drop(h);
    drop(store);
    let db =
        rusqlite::Connection::open(dir.path().join(kiban_platform::store::DATABASE_FILE)).unwrap();
    let mut stmt = db
        .prepare("SELECT kind, entry FROM audit WHERE json_extract(entry, '$.action') LIKE 'careplan-%' ORDER BY seq")
        .unwrap();
    let entries: Vec<(String, Value)> = stmt
        .query_map([], |r| {
            let entry: String = r.get(1)?;
            Ok((r.get(0)?, serde_json::from_str(&entry).unwrap()))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let actions: Vec<(&str, &str, &str)> = entries
        .iter()
        .map(|(kind, e)| {
            (
                kind.as_str(),
                e["action"].as_str().unwrap(),
                e["outcome"]
                    .as_str()
                    .or(e["decision"].as_str())
                    .unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("write", "careplan-upload", "stored"),
            ("write", "careplan-upload", "stored"),
            ("decision", "careplan-fetch", "permit"),
            ("write", "careplan-ack", "acknowledged"),
            ("write", "careplan-ack", "already-acknowledged"),
            ("write", "careplan-upload", "replayed"),
            ("write", "careplan-upload", "stored"),
        ]
    );
    let sha = |bytes: &[u8]| hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes));
    let (_, stored) = &entries[0];
    assert_eq!(stored["file"], files[3].name.to_string());
    assert_eq!(stored["sha256"], sha(&files[3].bytes));
    assert_eq!(stored["size"].as_u64(), Some(files[3].bytes.len() as u64));
    assert_eq!(stored["exchange_file"].as_u64(), Some(first));
    assert_eq!(stored["by"]["org"], c.cm.office.as_str());
    assert_eq!(stored["by"]["terminal"], "cp-cm1");
    assert_eq!(stored["by"]["staff"], "admin");
    let (_, fetched) = &entries[2];
    assert_eq!(fetched["by"]["org"], c.home_help.office.as_str());
    let text = serde_json::to_string(&entries).unwrap();
    for secret in ["鈴木", "ｽｽﾞｷ", "太郎", "0000012345", "山田"] {
        assert!(!text.contains(secret), "{secret} in the audit log");
    }
}
