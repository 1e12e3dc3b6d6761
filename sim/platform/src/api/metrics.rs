//! Prometheus metrics at `/metrics` (OpenMetrics text, encoded by `prometheus-client`):
//!
//! - `kiban_http_requests_total{route,method,status}` — every answered request, by the
//!   route template (`unmatched` for unknown paths), so person numbers never become labels;
//! - `kiban_http_request_duration_seconds{route,method}` — wall-clock handling time;
//! - `kiban_refusals_total{code}` — every problem+json answer by its stable code;
//! - `kiban_decisions_total{decision}` — read decisions of the core: `permit` or the reason;
//! - `kiban_persons`, `kiban_registrations` — gauges read at scrape time.
//!
//! Labels hold only route templates, methods, status codes and the closed sets of problem
//! and decision codes: no identifiers, no personal data, bounded cardinality.

use std::time::Instant;

use axum::extract::{MatchedPath, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::AppState;
use crate::error::ProblemCode;

/// Labels of a request counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

/// Labels of the latency histogram.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LatencyLabels {
    route: String,
    method: String,
}

/// Label of the refusal counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabel {
    code: &'static str,
}

/// Label of the decision counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabel {
    decision: &'static str,
}

type LatencyFamily = Family<LatencyLabels, Histogram, fn() -> Histogram>;

/// The platform's metrics and their registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
    refusals: Family<CodeLabel, Counter>,
    decisions: Family<DecisionLabel, Counter>,
    persons: Gauge,
    registrations: Gauge,
}

fn latency_histogram() -> Histogram {
    // 100 µs .. ~3.3 s in 16 doubling buckets.
    Histogram::new(exponential_buckets(0.0001, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::with_prefix("kiban");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: LatencyFamily = Family::new_with_constructor(latency_histogram);
        let refusals = Family::<CodeLabel, Counter>::default();
        let decisions = Family::<DecisionLabel, Counter>::default();
        let persons = Gauge::default();
        let registrations = Gauge::default();
        registry.register(
            "http_requests",
            "Requests answered, by route template, method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Wall-clock time to answer a request, by route template and method",
            latency.clone(),
        );
        registry.register(
            "refusals",
            "problem+json answers by stable code",
            refusals.clone(),
        );
        registry.register(
            "decisions",
            "Read decisions of the core: permit or the denial reason",
            decisions.clone(),
        );
        registry.register("persons", "Insured persons held", persons.clone());
        registry.register(
            "registrations",
            "Responsible-office registrations held",
            registrations.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            refusals,
            decisions,
            persons,
            registrations,
        }
    }
}

impl Metrics {
    /// Counts one read decision (`permit` or a denial code).
    pub fn decision(&self, code: &'static str) {
        self.decisions
            .get_or_create(&DecisionLabel { decision: code })
            .inc();
    }

    /// The OpenMetrics text of every metric, with the gauges read from `state` now.
    fn render(&self, state: &AppState) -> String {
        let counts = state.platform.counts();
        let gauge = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        self.persons.set(gauge(counts.persons));
        self.registrations.set(gauge(counts.registrations));
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}

/// Middleware: counts and times every request and counts refusals by code.
pub(super) async fn track(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let elapsed = started.elapsed().as_secs_f64();
    let m = &state.metrics;
    m.requests
        .get_or_create(&RequestLabels {
            route: route.clone(),
            method: method.clone(),
            status: response.status().as_u16(),
        })
        .inc();
    m.latency
        .get_or_create(&LatencyLabels { route, method })
        .observe(elapsed);
    if let Some(ProblemCode(code)) = response.extensions().get::<ProblemCode>() {
        m.refusals.get_or_create(&CodeLabel { code }).inc();
    }
    response
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, content_type = "application/openmetrics-text", body = String)))]
pub(super) async fn metrics(State(state): State<AppState>) -> Response {
    let text = state.metrics.render(&state);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
