//! `/metrics`: requests by route template and status, latency histograms, refusals by
//! problem code and read decisions by reason — and no identifiers in any label.

mod support;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use support::*;
use tower::ServiceExt;

async fn scrape(w: &World) -> String {
    let request = Request::builder()
        .uri("/metrics")
        .body(Body::empty())
        .unwrap();
    let response = w.h.app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn metrics_count_decisions_refusals_and_routes_without_identifiers() {
    let mut w = world().await;
    w.set_date("2026-11-02").await;
    // Not registered yet: a refused read.
    let (s, _) = w.as_cm(Method::GET, &person("insurance-card"), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    register_cm(&w).await;
    let (s, _) = w.as_cm(Method::GET, &person("insurance-card"), None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = w.as_cm(Method::GET, "/v1/no-such-route", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let text = scrape(&w).await;
    let read_route = "route=\"/v1/persons/{insurer}/{insured}/classes/{class}\"";
    for expected in [
        "kiban_decisions_total{decision=\"permit\"} 1".to_owned(),
        "kiban_decisions_total{decision=\"not-registered\"} 1".to_owned(),
        "kiban_refusals_total{code=\"not-registered\"} 1".to_owned(),
        "kiban_refusals_total{code=\"unknown-route\"} 1".to_owned(),
        format!("kiban_http_requests_total{{{read_route},method=\"GET\",status=\"403\"}} 1"),
        format!("kiban_http_requests_total{{{read_route},method=\"GET\",status=\"200\"}} 1"),
        "kiban_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1".to_owned(),
        format!("kiban_http_request_duration_seconds_count{{{read_route},method=\"GET\"}} 2"),
        "kiban_persons 1".to_owned(),
        "kiban_registrations 1".to_owned(),
    ] {
        assert!(text.contains(&expected), "missing {expected:?} in\n{text}");
    }
    // Only the label sets, not the values: a latency figure may contain any digit run.
    let labels: Vec<&str> = text
        .lines()
        .filter_map(|line| Some(&line[line.find('{')?..=line.rfind('}')?]))
        .collect();
    assert!(!labels.is_empty());
    for identifier in [AIKO, YOKOHAMA_INSURER, CM, "no-such-route"] {
        assert!(
            labels.iter().all(|l| !l.contains(identifier)),
            "{identifier} in a label:\n{text}"
        );
    }
}
