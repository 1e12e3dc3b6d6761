//! The actors' platform client over real sockets: JSON, raw bodies, bearer tokens and
//! idempotent writes against the real platform on TLS 1.3 with client certificates; typed
//! refusals; a card verification through every real piece (reader, client, platform, J-LIS
//! mock); and the retry helper against wiremock peers (what is retried, how often, and what
//! never is).

mod support;

use std::sync::Arc;
use std::time::Duration;

use kiban_actors::client::{ApiRequest, ClientError, PlatformClient, RetryError, RetryPolicy};
use kiban_actors::reader::{CardReader, Presence, ReaderConfig};
use kiban_certs::pki::PkiOptions;
use kiban_certs::{Clock, ManualClock, OperatorPki, Validity};
use kiban_core::vocab::Role;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const READ: &str = "/v1/persons/141002/0000000001/classes/insurance-card";

/// Yokohama live and a care-management office, through the operator's client.
async fn seed(server: &mut Running) {
    let operator = server.client(&Running::principal(Role::Operator, "-", "ops1"));
    let live = ApiRequest::put(format!("/v1/operator/municipalities/{YOKOHAMA}"))
        .json(&json!({"live_from": "2026-09-01"}))
        .unwrap();
    let answer = operator.send(&live).await.unwrap();
    assert_eq!((answer.status, answer.value().unwrap()), (204, Value::Null));
    let office = ApiRequest::put(format!("/v1/operator/offices/{CM}"))
        .json(&json!({"role": "care-management", "municipality": YOKOHAMA, "admin_password": PASSWORD}))
        .unwrap();
    assert_eq!(operator.send(&office).await.unwrap().status, 204);
}

fn ingest(items: Value, key: &str) -> ApiRequest {
    ApiRequest::post("/v1/municipality/ingest")
        .json(&json!({ "items": items }))
        .unwrap()
        .idempotency_key(key)
}

async fn sign_in(client: &mut PlatformClient) {
    let login = ApiRequest::post("/v1/session")
        .json(&json!({"staff_id": "admin", "password": PASSWORD}))
        .unwrap();
    let session: Value = client.send(&login).await.unwrap().json().unwrap();
    client.set_bearer(Some(session["token"].as_str().unwrap().to_owned()));
}

#[tokio::test]
async fn json_writes_bearer_reads_and_typed_refusals_over_mtls() {
    let clock = Arc::new(ManualClock::new(at("2026-10-01")));
    let mut server = Running::start(clock, None).await;
    seed(&mut server).await;
    let city = server.client(&Running::principal(Role::Municipality, YOKOHAMA, "kikan1"));
    let item = json!([{"kind": "insured-person", "insured": "0000000001", "insurance_card": insurance_card()}]);
    let created = city.send(&ingest(item, "b1")).await.unwrap();
    assert_eq!(created.status, 201);
    assert_eq!(created.value().unwrap()["persons_created"], 1);
    let mut cm = server.client(&Running::principal(Role::CareManagement, CM, "cm-pc1"));
    let err = cm.send(&ApiRequest::get(READ)).await.unwrap_err();
    let refusal = err.refusal().unwrap();
    assert_eq!(
        (refusal.status, refusal.code.as_str()),
        (401, "staff-session-required"),
        "{refusal}"
    );
    sign_in(&mut cm).await;
    let err = cm.send(&ApiRequest::get(READ)).await.unwrap_err();
    assert_eq!(
        err.refusal().map(|r| (r.status, r.code.as_str())),
        Some((403, "not-registered"))
    );
    assert!(!err.is_retryable());
    let register = ApiRequest::put(format!("/v1/persons/141002/0000000001/registrations/{CM}"))
        .json(&json!({"verified_by": "counter-photo-id"}))
        .unwrap();
    assert_eq!(city.send(&register).await.unwrap().status, 204);
    let record: Value = cm.get_json(READ).await.unwrap();
    assert_eq!(record["records"][0]["document"]["care_level"], "care-2");
}

#[tokio::test]
async fn refusals_are_parsed_from_problem_documents() {
    let clock = Arc::new(ManualClock::new(at("2026-10-01")));
    let mut server = Running::start(clock, None).await;
    seed(&mut server).await;
    let city = server.client(&Running::principal(Role::Municipality, YOKOHAMA, "kikan1"));
    let cases = [
        (ApiRequest::get("/v1/no-such-route"), 404, "unknown-route"),
        (
            ApiRequest::post("/v1/municipality/ingest")
                .json(&json!({"items": []}))
                .unwrap(),
            400,
            "idempotency-key-required",
        ),
        (
            ApiRequest::post("/v1/municipality/ingest")
                .idempotency_key("csv")
                .bytes(
                    "text/csv",
                    b"insured,care_level\n0000000001,care-2\n".to_vec(),
                ),
            415,
            "unsupported-media-type",
        ),
        (
            ApiRequest::post("/v1/municipality/ingest")
                .idempotency_key("bad")
                .bytes("application/json", b"{not json".to_vec()),
            400,
            "malformed-json",
        ),
    ];
    for (request, status, code) in cases {
        let err = city.send(&request).await.unwrap_err();
        let refusal = err
            .refusal()
            .unwrap_or_else(|| panic!("{request:?}: {err}"));
        assert_eq!((refusal.status, refusal.code.as_str()), (status, code));
        assert!(!refusal.detail.is_empty());
        assert!(!err.is_retryable(), "{code}");
    }
}

#[tokio::test]
async fn a_replayed_idempotent_write_returns_the_first_answer() {
    let clock = Arc::new(ManualClock::new(at("2026-10-01")));
    let mut server = Running::start(clock, None).await;
    seed(&mut server).await;
    let city = server.client(&Running::principal(Role::Municipality, YOKOHAMA, "kikan1"));
    let item = json!([{"kind": "insured-person", "insured": "0000000002", "insurance_card": insurance_card()}]);
    let request = ingest(item.clone(), "batch-7");
    let first = city
        .send_with_retry(&request, &RetryPolicy::default())
        .await
        .unwrap();
    let replay = city.send(&request).await.unwrap();
    assert_eq!((first.status, &first.body), (replay.status, &replay.body));
    let other = json!([{"kind": "insured-person", "insured": "0000000003", "insurance_card": insurance_card()}]);
    let err = city.send(&ingest(other, "batch-7")).await.unwrap_err();
    assert_eq!(
        err.refusal().map(|r| (r.status, r.code.as_str())),
        Some((409, "idempotency-key-reused"))
    );
}

#[tokio::test]
async fn a_certificate_from_another_operator_fails_as_tls_and_is_not_retried() {
    let clock = Arc::new(ManualClock::new(at("2026-10-01")));
    let mut server = Running::start(clock.clone(), None).await;
    seed(&mut server).await;
    let rogue = OperatorPki::generate(&PkiOptions::default(), clock.now()).unwrap();
    let principal = Running::principal(Role::Operator, "-", "ops9");
    let issued = rogue
        .issue_client(&principal, Validity::days_from(clock.now(), 30))
        .unwrap();
    let client = PlatformClient::with_credentials(
        server.addr,
        "localhost",
        server.pki.root_der(),
        rogue.client_credentials(&issued),
        clock.clone(),
    )
    .unwrap();
    let err = client
        .send_with_retry(&ApiRequest::get("/healthz"), &quick(3))
        .await
        .unwrap_err();
    assert_eq!(err.attempts, 1, "{err}");
    assert!(matches!(err.error, ClientError::Tls(_)), "{err}");
}

#[tokio::test]
async fn a_card_verification_through_every_real_piece() {
    let clock = Arc::new(ManualClock::new(at("2026-10-01")));
    let jlis = jlis_on(clock.clone());
    let jlis_server = serve_jlis(&jlis).await;
    let mut server = Running::start(
        clock.clone(),
        Some((jlis_server.base_url(), jlis.ca_der().to_vec())),
    )
    .await;
    seed(&mut server).await;
    let person = yokohama_people(51, 1).remove(0);
    let mut card = issue(&jlis, &person, "2026-09-01", 6);
    let link = jlis.link_for(person.my_number()).unwrap();
    let city = server.client(&Running::principal(Role::Municipality, YOKOHAMA, "kikan1"));
    let items = json!([person_item(&person, Some(link.as_str()))]);
    assert_eq!(city.send(&ingest(items, "b1")).await.unwrap().status, 201);
    let mut cm = server.client(&Running::principal(Role::CareManagement, CM, "cm-pc1"));
    sign_in(&mut cm).await;
    let nonce: Value = cm
        .send(&ApiRequest::post("/v1/identity/nonce"))
        .await
        .unwrap()
        .json()
        .unwrap();
    let mut reader =
        CardReader::new(ReaderConfig::default(), ChaCha8Rng::seed_from_u64(2)).unwrap();
    let assertion = reader
        .assert(
            &mut card,
            nonce["nonce"].as_str().unwrap(),
            Presence::Pin(person.pin().unwrap()),
            clock.now(),
        )
        .unwrap();
    let verify = ApiRequest::post("/v1/identity/verify")
        .json(&assertion)
        .unwrap();
    assert!(!verify.is_retry_safe(), "a single-use nonce: never resent");
    let result: Value = cm.send(&verify).await.unwrap().json().unwrap();
    assert_eq!(result["person"]["insured"], person.insured.as_str());
    let read = format!(
        "/v1/persons/{}/{}/classes/insurance-card",
        person.insurer, person.insured
    );
    assert_eq!(cm.send(&ApiRequest::get(read)).await.unwrap().status, 200);
    assert_eq!(jlis.requests(), 1);
}

// ------------------------------------------------------------------ retries (wiremock)

fn quick(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(4),
    }
}

fn unavailable() -> ResponseTemplate {
    ResponseTemplate::new(503).set_body_raw(
        r#"{"type":"urn:kiban:problem:jlis-unavailable","title":"Service Unavailable","status":503,"detail":"try again","code":"jlis-unavailable","retryable":true}"#,
        "application/problem+json",
    )
}

async fn peer() -> (MockServer, PlatformClient) {
    let mock = MockServer::start().await;
    let client = PlatformClient::plain(*mock.address());
    (mock, client)
}

#[tokio::test]
async fn a_read_is_retried_on_503_until_it_succeeds() {
    let (mock, client) = peer().await;
    Mock::given(method("GET"))
        .and(path("/v1/x"))
        .respond_with(unavailable())
        .up_to_n_times(2)
        .with_priority(1)
        .expect(2)
        .mount(&mock)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/x"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .with_priority(2)
        .expect(1)
        .mount(&mock)
        .await;
    let answer = client
        .send_with_retry(&ApiRequest::get("/v1/x"), &quick(5))
        .await
        .unwrap();
    assert_eq!(answer.value().unwrap(), json!({"ok": true}));
    mock.verify().await;
}

#[tokio::test]
async fn a_retry_waits_at_least_the_retry_after_it_was_given() {
    let (mock, client) = peer().await;
    Mock::given(method("GET"))
        .and(path("/v1/x"))
        .respond_with(unavailable().insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&mock)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/x"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .with_priority(2)
        .expect(1)
        .mount(&mock)
        .await;
    let policy = RetryPolicy {
        max_backoff: Duration::from_secs(2),
        ..quick(3)
    };
    let started = std::time::Instant::now();
    client
        .send_with_retry(&ApiRequest::get("/v1/x"), &policy)
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "resent after {:?}, before the Retry-After of 1 s",
        started.elapsed()
    );
    mock.verify().await;
}

#[tokio::test]
async fn a_retry_after_beyond_the_longest_wait_ends_the_retries() {
    let (mock, client) = peer().await;
    Mock::given(method("GET"))
        .respond_with(unavailable().insert_header("retry-after", "60"))
        .expect(1)
        .mount(&mock)
        .await;
    let err = client
        .send_with_retry(&ApiRequest::get("/v1/x"), &quick(5))
        .await
        .unwrap_err();
    assert_eq!(err.attempts, 1, "not resent before the platform said");
    assert_eq!(
        err.error.refusal().and_then(|r| r.retry_after),
        Some(Duration::from_secs(60))
    );
    mock.verify().await;
}

#[tokio::test]
async fn a_write_without_an_idempotency_key_is_sent_once() {
    let (mock, client) = peer().await;
    Mock::given(method("POST"))
        .respond_with(unavailable())
        .expect(1)
        .mount(&mock)
        .await;
    let err = client
        .send_with_retry(
            &ApiRequest::post("/v1/x").json(&json!({})).unwrap(),
            &quick(5),
        )
        .await
        .unwrap_err();
    assert_eq!(err.attempts, 1);
    assert_eq!(
        err.error.refusal().map(|r| r.code.as_str()),
        Some("jlis-unavailable")
    );
    assert!(
        err.error.is_retryable(),
        "retryable, but not safe to resend"
    );
    mock.verify().await;
}

#[tokio::test]
async fn a_keyed_write_is_retried_up_to_the_limit() {
    let (mock, client) = peer().await;
    Mock::given(method("POST"))
        .and(wiremock::matchers::header("idempotency-key", "k-1"))
        .respond_with(unavailable())
        .expect(3)
        .mount(&mock)
        .await;
    let request = ApiRequest::post("/v1/x")
        .json(&json!({"a": 1}))
        .unwrap()
        .idempotency_key("k-1");
    let err: RetryError = client
        .send_with_retry(&request, &quick(3))
        .await
        .unwrap_err();
    assert_eq!(err.attempts, 3);
    mock.verify().await;
}

#[tokio::test]
async fn client_errors_are_never_retried() {
    let (mock, client) = peer().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(409).set_body_raw(
            r#"{"code":"idempotency-key-reused","detail":"x","retryable":true}"#,
            "application/problem+json",
        ))
        .expect(1)
        .mount(&mock)
        .await;
    let err = client
        .send_with_retry(&ApiRequest::get("/v1/x"), &quick(5))
        .await
        .unwrap_err();
    assert_eq!(err.attempts, 1);
    mock.verify().await;
}

#[tokio::test]
async fn no_connection_is_retried_then_reported() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = PlatformClient::plain(addr)
        .send_with_retry(&ApiRequest::get("/v1/x"), &quick(3))
        .await
        .unwrap_err();
    assert_eq!(err.attempts, 3);
    assert!(matches!(err.error, ClientError::Connect(_)), "{err}");
}

#[tokio::test]
async fn a_slow_answer_times_out_and_is_retried() {
    let (mock, client) = peer().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(400)))
        .expect(2)
        .mount(&mock)
        .await;
    let client = client.with_timeout(Duration::from_millis(40));
    let err = client
        .send_with_retry(&ApiRequest::get("/v1/x"), &quick(2))
        .await
        .unwrap_err();
    assert_eq!(err.attempts, 2);
    assert_eq!(err.error, ClientError::Timeout(Duration::from_millis(40)));
    mock.verify().await;
}

#[tokio::test]
async fn raw_bodies_keep_their_bytes_and_content_type_and_carry_the_bearer() {
    let (mock, client) = peer().await;
    Mock::given(method("PUT"))
        .and(path("/v1/files/a.csv"))
        .and(wiremock::matchers::header(
            "content-type",
            "text/csv; charset=Shift_JIS",
        ))
        .and(wiremock::matchers::body_bytes(vec![0x82, 0xa0, b'\n']))
        .respond_with(ResponseTemplate::new(201))
        .expect(3)
        .mount(&mock)
        .await;
    let request = ApiRequest::put("/v1/files/a.csv")
        .bytes("text/csv; charset=Shift_JIS", vec![0x82, 0xa0, b'\n'])
        .bearer("t");
    for _ in 0..3 {
        assert_eq!(client.send(&request).await.unwrap().status, 201);
    }
    mock.verify().await;
    let requests = mock.received_requests().await.unwrap();
    assert!(requests.iter().all(|r| {
        r.headers
            .get("authorization")
            .is_some_and(|v| v == "Bearer t")
    }));
}

#[tokio::test]
async fn a_kept_alive_connection_is_reused_for_the_next_request() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(|_request| async {
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(
                        http_body_util::Full::new(hyper::body::Bytes::from_static(b"{}")),
                    ))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    let client = PlatformClient::plain(addr);
    for _ in 0..3 {
        assert_eq!(
            client.send(&ApiRequest::get("/x")).await.unwrap().status,
            200
        );
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "one connection for three requests"
    );
}
