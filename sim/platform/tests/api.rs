//! The API driven in-process (`Router::oneshot`): each operation's success and refusal paths,
//! problem+json for bad input, and the route table agreeing with the OpenAPI document. The
//! caller's certificate identity is attached as the TLS server would attach it.

mod support;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use kiban_core::id::{CareOfficeNumber, MunicipalityCode};
use kiban_core::vocab::Role;
use kiban_platform::api::ROUTES;
use serde_json::{Value, json};
use support::*;

#[tokio::test]
async fn read_before_go_live_is_refused_with_insurer_not_live() {
    let w = world().await;
    let (s, v) = w.as_cm(Method::GET, &person("insurance-card"), None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("insurer-not-live"))
    );
}

#[tokio::test]
async fn registered_office_reads_after_go_live_and_unregistered_is_refused() {
    let mut w = world().await;
    w.set_date("2026-11-02").await;
    let (s, v) = w.as_cm(Method::GET, &person("insurance-card"), None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("not-registered"))
    );
    register_cm(&w).await;
    let (s, v) = w.as_cm(Method::GET, &person("insurance-card"), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["records"][0]["document"]["care_level"], "care-2");
    assert_eq!(v["records"][0]["source"], YOKOHAMA);
}

#[tokio::test]
async fn consent_class_needs_consent_then_withdrawal_refuses_again() {
    let mut w = world().await;
    w.set_date("2026-11-02").await;
    register_cm(&w).await;
    let (s, v) = w
        .as_cm(Method::GET, &person("certification-survey"), None)
        .await;
    assert_eq!(v["code"], "consent-missing", "{s} {v}");
    let consent = format!("/v1/persons/{YOKOHAMA_INSURER}/{AIKO}/consent");
    let (s, v) = w
        .as_cm(
            Method::PUT,
            &consent,
            Some(json!({"occasion": "on-behalf"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["action"], "given");
    let (s, _) = w
        .as_cm(Method::GET, &person("certification-survey"), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    w.set_date("2026-12-01").await;
    let (s, v) =
        w.h.call(Method::DELETE, &consent, Some(&w.city), None, None)
            .await;
    assert_eq!(
        (s, v["action"].as_str()),
        (StatusCode::OK, Some("withdrawn"))
    );
    let (_, v) = w
        .as_cm(Method::GET, &person("certification-survey"), None)
        .await;
    assert_eq!(v["code"], "consent-withdrawn");
    let receipts = format!("/v1/persons/{YOKOHAMA_INSURER}/{AIKO}/consent-receipts");
    let (s, v) =
        w.h.call(Method::GET, &receipts, Some(&w.city), None, None)
            .await;
    assert_eq!(
        (s, v.as_array().map(Vec::len)),
        (StatusCode::OK, Some(2)),
        "{v}"
    );
}

#[tokio::test]
async fn cross_municipality_office_waits_for_its_own_municipality() {
    let mut w = world().await;
    w.set_date("2026-11-02").await;
    let uri = format!("/v1/persons/{YOKOHAMA_INSURER}/{AIKO}/registrations/{SVC_KAWASAKI}");
    let (s, _) =
        w.h.call(
            Method::PUT,
            &uri,
            Some(&w.city),
            None,
            Some(json!({"verified_by": "counter-photo-id"})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, v) =
        w.h.call(
            Method::GET,
            &person("insurance-card"),
            Some(&w.svc),
            Some(&w.svc_token),
            None,
        )
        .await;
    assert_eq!(v["code"], "office-municipality-not-live");
    w.set_date("2027-10-01").await;
    let (s, v) =
        w.h.call(
            Method::GET,
            &person("insurance-card"),
            Some(&w.svc),
            Some(&w.svc_token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn office_reads_need_a_staff_session() {
    let w = world().await;
    let (s, v) =
        w.h.call(
            Method::GET,
            &person("insurance-card"),
            Some(&w.cm),
            None,
            None,
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("staff-session-required"))
    );
    let (s, v) =
        w.h.call(
            Method::GET,
            &person("insurance-card"),
            Some(&w.cm),
            Some("not-a-token"),
            None,
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid-session"))
    );
}

#[tokio::test]
async fn session_is_bound_to_the_terminal_that_signed_in() {
    let w = world().await;
    let other_terminal = w.h.identity(Role::CareManagement, CM, "cm-pc2");
    let (s, v) =
        w.h.call(
            Method::GET,
            &person("insurance-card"),
            Some(&other_terminal),
            Some(&w.cm_token),
            None,
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid-session"))
    );
}

#[tokio::test]
async fn disabling_a_departed_staff_member_stops_them_at_once_not_colleagues() {
    let mut w = world().await;
    w.set_date("2026-11-02").await;
    register_cm(&w).await;
    for id in ["sato", "suzuki"] {
        let (s, v) = w
            .as_cm(
                Method::POST,
                "/v1/office/staff",
                Some(json!({"staff_id": id, "password": "pass-word-1"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let sato = login(&w.h, &w.cm, "sato", "pass-word-1").await;
    let suzuki = login(&w.h, &w.cm, "suzuki", "pass-word-1").await;
    let (s, _) =
        w.h.call(
            Method::GET,
            &person("insurance-card"),
            Some(&w.cm),
            Some(&sato),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = w.as_cm(Method::DELETE, "/v1/office/staff/sato", None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) =
        w.h.call(
            Method::GET,
            &person("insurance-card"),
            Some(&w.cm),
            Some(&sato),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
    let (s, _) =
        w.h.call(
            Method::GET,
            &person("insurance-card"),
            Some(&w.cm),
            Some(&suzuki),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) =
        w.h.call(
            Method::POST,
            "/v1/session",
            Some(&w.cm),
            None,
            Some(json!({"staff_id": "sato", "password": "pass-word-1"})),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("login-failed"))
    );
}

#[tokio::test]
async fn only_the_administrator_manages_staff() {
    let w = world().await;
    let (s, _) = w
        .as_cm(
            Method::POST,
            "/v1/office/staff",
            Some(json!({"staff_id": "tanaka", "password": "pass-word-1"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let tanaka = login(&w.h, &w.cm, "tanaka", "pass-word-1").await;
    let (s, v) =
        w.h.call(
            Method::POST,
            "/v1/office/staff",
            Some(&w.cm),
            Some(&tanaka),
            Some(json!({"staff_id": "x", "password": "pass-word-1"})),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("admin-required"))
    );
}

#[tokio::test]
async fn revoked_certificate_is_refused_on_the_next_request() {
    let mut w = world().await;
    w.set_date("2026-11-02").await;
    register_cm(&w).await;
    let (s, _) = w.as_cm(Method::GET, &person("insurance-card"), None).await;
    assert_eq!(s, StatusCode::OK);
    w.h.revoked.revoke(w.cm.serial.clone());
    let (s, v) = w.as_cm(Method::GET, &person("insurance-card"), None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("certificate-revoked"))
    );
}

#[tokio::test]
async fn ingest_is_idempotent_and_a_reused_key_with_another_body_conflicts() {
    let w = world().await;
    let batch = json!({"items": [{"kind": "insured-person", "insured": "0000000002", "insurance_card": card()}]});
    let (s1, v1) = ingest(&w.h, &w.city, "batch-2", batch.clone()).await;
    let (s2, v2) = ingest(&w.h, &w.city, "batch-2", batch).await;
    assert_eq!((s1, &v1), (s2, &v2));
    assert_eq!(v1["persons_created"], 1);
    let other = json!({"items": [{"kind": "insured-person", "insured": "0000000003", "insurance_card": card()}]});
    let (s, v) = ingest(&w.h, &w.city, "batch-2", other).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("idempotency-key-reused"))
    );
    let (_, health) = w.h.call(Method::GET, "/healthz", None, None, None).await;
    assert_eq!(health["persons"], 2);
}

#[tokio::test]
async fn ingest_rejects_bad_input_with_precise_problems_and_loses_nothing() {
    let w = world().await;
    let cases = [
        (
            json!({"items": [{"kind": "insured-person", "insured": "00000", "insurance_card": card()}]}),
            "invalid-body",
            "expected 10 characters",
        ),
        (
            json!({"items": [{"kind": "insured-person", "insured": AIKO, "insurance_card": card(), "extra": 1}]}),
            "invalid-body",
            "unknown field `extra`",
        ),
        (
            json!({"items": [{"kind": "certification-survey", "insured": "0000000009", "document": {"surveyed_on": "2026-09-20", "basic_items": []}}]}),
            "unknown-insured-person",
            "item 0",
        ),
        (
            json!({"items": [{"kind": "insured-person", "insured": "0000000004", "card_link": "123456789018", "insurance_card": card()}]}),
            "personal-number-refused",
            "My Number",
        ),
        (
            json!({"items": [{"kind": "teleport", "insured": AIKO}]}),
            "invalid-body",
            "unknown variant `teleport`",
        ),
    ];
    for (idx, (batch, code, needle)) in cases.into_iter().enumerate() {
        let (s, v) = ingest(&w.h, &w.city, &format!("bad-{idx}"), batch).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "{v}"
        );
        assert!(v["detail"].as_str().unwrap().contains(needle), "{v}");
    }
    let (_, health) = w.h.call(Method::GET, "/healthz", None, None, None).await;
    assert_eq!(health["persons"], 1, "no partial batch was applied");
    let raw = Request::builder()
        .method(Method::POST)
        .uri("/v1/municipality/ingest")
        .header(header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", "raw")
        .body(Body::from("{not json"))
        .unwrap();
    let mut raw = raw;
    raw.extensions_mut().insert(w.city.clone());
    let (s, v) = w.h.send(raw).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed-json"))
    );
}

#[tokio::test]
async fn bad_identifiers_in_paths_name_the_failed_check() {
    let w = world().await;
    let (s, v) = w
        .as_cm(
            Method::GET,
            &format!("/v1/persons/141003/{AIKO}/classes/insurance-card"),
            None,
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid-identifier"))
    );
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("insurer number: check digit"),
        "{v}"
    );
    let (s, v) = w.as_cm(Method::GET, &person("billing"), None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown-class"))
    );
}

#[tokio::test]
async fn unknown_routes_methods_and_missing_certificates_are_problems() {
    let w = world().await;
    let (s, v) = w.h.call(Method::GET, "/v2/nothing", None, None, None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown-route"))
    );
    let (s, v) =
        w.h.call(Method::PATCH, "/v1/session", Some(&w.cm), None, None)
            .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("method-not-allowed"))
    );
    let (s, v) =
        w.h.call(Method::GET, &person("insurance-card"), None, None, None)
            .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (
            StatusCode::UNAUTHORIZED,
            Some("client-certificate-required")
        )
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413() {
    let w = world().await;
    let huge = "x".repeat(kiban_platform::api::MAX_BODY_BYTES + 1);
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/v1/municipality/ingest")
        .header(header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", "huge")
        .body(Body::from(huge))
        .unwrap();
    request.extensions_mut().insert(w.city.clone());
    let (s, v) = w.h.send(request).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("body-too-large"))
    );
}

#[tokio::test]
async fn roles_are_enforced_per_operation() {
    let w = world().await;
    let (s, v) =
        w.h.call(
            Method::PUT,
            &format!("/v1/operator/municipalities/{YOKOHAMA}"),
            Some(&w.city),
            None,
            Some(json!({"live_from": null})),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("role-forbidden"))
    );
    let batch = json!({"items": []});
    let (s, v) = ingest(&w.h, &w.cm, "cm-ingest", batch).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("role-forbidden"))
    );
    w.h.clock.set(at("2026-11-02"));
    let (s, v) =
        w.h.call(
            Method::GET,
            &person("insurance-card"),
            Some(&w.operator),
            None,
            None,
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("role-forbidden"))
    );
}

#[tokio::test]
async fn care_plan_upload_by_its_creator_is_readable_by_the_registered_reader() {
    let mut w = world().await;
    w.set_date("2026-11-02").await;
    register_cm(&w).await;
    let upload = json!({"table": "home-1", "content": {"goal": "walk to the station"}});
    let (s, v) = w
        .as_cm(Method::POST, &person("home-care-plan"), Some(upload))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = w.as_cm(Method::GET, &person("home-care-plan"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["records"][0]["document"]["table"], "home-1");
    let survey = json!({"content": {"x": 1}});
    let (s, v) = w
        .as_cm(Method::POST, &person("certification-survey"), Some(survey))
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("not-creator"))
    );
}

#[tokio::test]
async fn access_log_lists_every_decision_about_the_person() {
    let mut w = world().await;
    w.set_date("2026-11-02").await;
    let _ = w.as_cm(Method::GET, &person("insurance-card"), None).await;
    register_cm(&w).await;
    let _ = w.as_cm(Method::GET, &person("insurance-card"), None).await;
    let log = format!("/v1/persons/{YOKOHAMA_INSURER}/{AIKO}/access-log");
    let (s, v) = w.h.call(Method::GET, &log, Some(&w.city), None, None).await;
    assert_eq!(s, StatusCode::OK);
    let decisions: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "decision")
        .map(|e| e["entry"]["decision"].as_str().unwrap())
        .collect();
    assert_eq!(decisions, ["not-registered", "permit"]);
    let text = v.to_string();
    assert!(
        !text.contains(AIKO),
        "the access log names the person by internal id only"
    );
}

#[tokio::test]
async fn every_route_is_mounted_documented_and_declares_roles() {
    let w = world().await;
    let doc: Value = serde_json::from_str(&kiban_platform::openapi::document_json()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for route in ROUTES {
        let op = &doc["paths"][route.path][route.method.to_ascii_lowercase()];
        assert!(
            op.is_object(),
            "{} {} missing from OpenAPI",
            route.method,
            route.path
        );
        let roles: Vec<&str> = op["x-kiban-roles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        let expected: Vec<&str> = route.roles.iter().map(|r| r.as_str()).collect();
        assert_eq!(roles, expected, "{} {}", route.method, route.path);
        let uri = route
            .path
            .replace("{code}", YOKOHAMA)
            .replace("{number}", CM)
            .replace("{staff_id}", "x")
            .replace("{insurer}", YOKOHAMA_INSURER)
            .replace("{insured}", AIKO)
            .replace("{class}", "insurance-card")
            .replace("{office}", CM);
        let method = Method::from_bytes(route.method.as_bytes()).unwrap();
        let (_, v) = w.h.call(method, &uri, None, None, None).await;
        assert_ne!(
            v["code"], "unknown-route",
            "{} {} is not mounted",
            route.method, route.path
        );
        assert_ne!(
            v["code"], "method-not-allowed",
            "{} {} is not mounted",
            route.method, route.path
        );
    }
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert_eq!(
        documented,
        ROUTES.len(),
        "the document has operations the table lacks"
    );
    let _ = (
        CareOfficeNumber::parse(CM).unwrap(),
        MunicipalityCode::parse(KAWASAKI).unwrap(),
        &w.operator,
        &w.svc_token,
    );
}

#[tokio::test]
async fn submissions_reach_the_inbox_exactly_once_and_stay_until_acknowledged() {
    let mut w = world().await;
    w.set_date("2026-11-02").await;
    register_cm(&w).await;
    let notice = json!({"kind": "care-plan-request", "insurer": YOKOHAMA_INSURER, "insured": AIKO, "content": {"plan_start": "2026-12-01"}});
    let (s1, r1) = post_with_key(
        &w.h,
        &w.cm,
        Some(&w.cm_token),
        "/v1/submissions",
        "notice-1",
        notice.clone(),
    )
    .await;
    assert_eq!(s1, StatusCode::CREATED, "{r1}");
    let (s2, r2) = post_with_key(
        &w.h,
        &w.cm,
        Some(&w.cm_token),
        "/v1/submissions",
        "notice-1",
        notice,
    )
    .await;
    assert_eq!(
        (s1, &r1),
        (s2, &r2),
        "a retried submission replays its receipt"
    );
    let (s, inbox) =
        w.h.call(
            Method::GET,
            "/v1/municipality/inbox",
            Some(&w.city),
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        inbox.as_array().unwrap().len(),
        1,
        "delivered once: {inbox}"
    );
    assert_eq!(inbox[0]["kind"], "care-plan-request");
    assert_eq!(inbox[0]["sender"], CM);
    let (_, again) =
        w.h.call(
            Method::GET,
            "/v1/municipality/inbox",
            Some(&w.city),
            None,
            None,
        )
        .await;
    assert_eq!(again, inbox, "fetching does not consume");
    let id = inbox[0]["id"].as_u64().unwrap();
    let ack = format!("/v1/municipality/inbox/{id}/ack");
    assert_eq!(
        w.h.call(Method::POST, &ack, Some(&w.city), None, None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        w.h.call(Method::POST, &ack, Some(&w.city), None, None)
            .await
            .0,
        StatusCode::NO_CONTENT,
        "ack is idempotent"
    );
    let (_, after) =
        w.h.call(
            Method::GET,
            "/v1/municipality/inbox",
            Some(&w.city),
            None,
            None,
        )
        .await;
    assert_eq!(after, json!([]));
    let kawasaki = w.h.identity(Role::Municipality, KAWASAKI, "kikan1");
    let (s, v) =
        w.h.call(Method::POST, &ack, Some(&kawasaki), None, None)
            .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown-message")),
        "another municipality's message"
    );
}

#[tokio::test]
async fn physician_opinion_by_a_medical_institution_is_delivered_and_stored() {
    let mut w = world().await;
    let med_number = "1411000019";
    let body = json!({"role": "medical-institution", "municipality": YOKOHAMA, "admin_password": "correct horse"});
    let (s, v) =
        w.h.call(
            Method::PUT,
            &format!("/v1/operator/offices/{med_number}"),
            Some(&w.operator),
            None,
            Some(body),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    w.set_date("2026-11-02").await;
    let med = w.h.identity(Role::MedicalInstitution, med_number, "ehr1");
    let token = login(&w.h, &med, "admin", "correct horse").await;
    let opinion = json!({"kind": "physician-opinion", "route": "ehr", "insurer": YOKOHAMA_INSURER, "insured": AIKO, "content": {"diagnosis_code": "I63"}});
    let (s, v) = post_with_key(&w.h, &med, Some(&token), "/v1/submissions", "op-1", opinion).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, inbox) =
        w.h.call(
            Method::GET,
            "/v1/municipality/inbox",
            Some(&w.city),
            None,
            None,
        )
        .await;
    assert_eq!(
        (inbox[0]["kind"].as_str(), inbox[0]["route"].as_str()),
        (Some("physician-opinion"), Some("ehr"))
    );
    let (s, v) =
        w.h.call(
            Method::GET,
            &person("physician-opinion"),
            Some(&w.city),
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["records"][0]["source"], med_number);
}

#[tokio::test]
async fn submissions_are_refused_to_other_roles_and_before_go_live() {
    let w = world().await;
    let notice = json!({"kind": "care-plan-request", "insurer": YOKOHAMA_INSURER, "insured": AIKO, "content": {}});
    let (s, v) = post_with_key(
        &w.h,
        &w.cm,
        Some(&w.cm_token),
        "/v1/submissions",
        "early",
        notice.clone(),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("insurer-not-live")),
        "before go-live the notice stays on paper"
    );
    let (s, v) = post_with_key(
        &w.h,
        &w.svc,
        Some(&w.svc_token),
        "/v1/submissions",
        "svc",
        notice,
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("role-forbidden"))
    );
    let (s, v) =
        w.h.call(
            Method::GET,
            "/v1/municipality/inbox?limit=abc",
            Some(&w.city),
            None,
            None,
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid-query"))
    );
}

#[tokio::test]
async fn a_path_segment_that_is_not_utf8_is_a_problem_json_400() {
    let mut w = world().await;
    w.set_date("2026-11-02").await;
    let uri = format!("/v1/persons/{YOKOHAMA_INSURER}/{AIKO}/classes/%00%ff");
    // `send` asserts that every 4xx comes as problem+json.
    let (s, v) = w.as_cm(Method::GET, &uri, None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["code"].is_string(), "{v}");
}
