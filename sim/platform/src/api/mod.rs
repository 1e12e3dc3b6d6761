//! The HTTP API: axum routes that extract inputs, call one [`Platform`] operation on a
//! blocking thread and encode the result. The caller's certificate identity arrives as a
//! request extension set by the TLS server (`server`), or by tests; nothing here trusts a
//! header for identity.
//!
//! [`ROUTES`] is the route table: method, path and the roles that may call each route. The
//! OpenAPI document is generated from the handlers' declarations and annotated with these
//! roles; a test checks that the router, the table and the document agree.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use kiban_certs::ClientIdentity;
use kiban_core::id::{InsuredNumber, InsurerNumber, MunicipalityCode};
use kiban_core::vocab::{InfoClass, Role};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::model::*;
use crate::platform::{Caller, Platform};

mod metrics;
mod portal;

pub use metrics::Metrics;
pub(crate) use portal::PortalDoc;

/// Largest request body accepted, in bytes (a full ingest batch fits).
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Shared state of the HTTP layer.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The platform.
    pub platform: Arc<Platform>,
    /// The settable clock, when the platform runs with `--sim-clock`.
    pub sim_clock: Option<Arc<kiban_certs::ManualClock>>,
    /// Request counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// The J-LIS service asked about card certificates (identity verification).
    pub jlis: Option<crate::identity::JlisClient>,
}

/// One row of the route table.
#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    /// HTTP method, upper case.
    pub method: &'static str,
    /// Path template as in OpenAPI.
    pub path: &'static str,
    /// Roles that may call it (empty: no certificate role needed, e.g. health).
    pub roles: &'static [Role],
}

const OFFICES: &[Role] = &[
    Role::CareManagement,
    Role::CareService,
    Role::Facility,
    Role::MedicalInstitution,
];
const READERS: &[Role] = &[
    Role::Municipality,
    Role::CareManagement,
    Role::CareService,
    Role::Facility,
    Role::MedicalInstitution,
    Role::Operator,
    Role::Person,
];
/// The insurer and the person (or representative) through the マイナポータル relay.
const INSURER_AND_PERSON: &[Role] = &[Role::Municipality, Role::Person];
/// Everyone who presents My Number cards: offices and the マイナポータル relay.
const CARD_READERS: &[Role] = &[
    Role::CareManagement,
    Role::CareService,
    Role::Facility,
    Role::MedicalInstitution,
    Role::Person,
];

/// Every route of the API.
pub const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: "GET",
        path: "/healthz",
        roles: &[],
    },
    RouteSpec {
        method: "GET",
        path: "/metrics",
        roles: &[],
    },
    RouteSpec {
        method: "GET",
        path: "/v1/openapi.json",
        roles: &[],
    },
    RouteSpec {
        method: "PUT",
        path: "/v1/operator/municipalities/{code}",
        roles: &[Role::Operator],
    },
    RouteSpec {
        method: "PUT",
        path: "/v1/operator/offices/{number}",
        roles: &[Role::Operator],
    },
    RouteSpec {
        method: "PUT",
        path: "/v1/operator/clock",
        roles: &[Role::Operator],
    },
    RouteSpec {
        method: "POST",
        path: "/v1/session",
        roles: OFFICES,
    },
    RouteSpec {
        method: "DELETE",
        path: "/v1/session",
        roles: OFFICES,
    },
    RouteSpec {
        method: "POST",
        path: "/v1/office/staff",
        roles: OFFICES,
    },
    RouteSpec {
        method: "DELETE",
        path: "/v1/office/staff/{staff_id}",
        roles: OFFICES,
    },
    RouteSpec {
        method: "POST",
        path: "/v1/municipality/ingest",
        roles: &[Role::Municipality],
    },
    RouteSpec {
        method: "GET",
        path: "/v1/persons/{insurer}/{insured}/classes/{class}",
        roles: READERS,
    },
    RouteSpec {
        method: "POST",
        path: "/v1/persons/{insurer}/{insured}/classes/{class}",
        roles: OFFICES,
    },
    RouteSpec {
        method: "PUT",
        path: "/v1/persons/{insurer}/{insured}/consent",
        roles: &[
            Role::Municipality,
            Role::CareManagement,
            Role::CareService,
            Role::Facility,
            Role::MedicalInstitution,
        ],
    },
    RouteSpec {
        method: "DELETE",
        path: "/v1/persons/{insurer}/{insured}/consent",
        roles: INSURER_AND_PERSON,
    },
    RouteSpec {
        method: "GET",
        path: "/v1/persons/{insurer}/{insured}/consent-receipts",
        roles: INSURER_AND_PERSON,
    },
    RouteSpec {
        method: "GET",
        path: "/v1/persons/{insurer}/{insured}/access-log",
        roles: INSURER_AND_PERSON,
    },
    RouteSpec {
        method: "GET",
        path: "/v1/persons/{insurer}/{insured}/representatives",
        roles: INSURER_AND_PERSON,
    },
    RouteSpec {
        method: "PUT",
        path: "/v1/persons/{insurer}/{insured}/representatives/{agent}",
        roles: &[Role::Municipality],
    },
    RouteSpec {
        method: "DELETE",
        path: "/v1/persons/{insurer}/{insured}/representatives/{agent}",
        roles: INSURER_AND_PERSON,
    },
    RouteSpec {
        method: "POST",
        path: "/v1/portal/session",
        roles: &[Role::Person],
    },
    RouteSpec {
        method: "DELETE",
        path: "/v1/portal/session",
        roles: &[Role::Person],
    },
    RouteSpec {
        method: "PUT",
        path: "/v1/persons/{insurer}/{insured}/registrations/{office}",
        roles: &[Role::Municipality],
    },
    RouteSpec {
        method: "DELETE",
        path: "/v1/persons/{insurer}/{insured}/registration",
        roles: OFFICES,
    },
    RouteSpec {
        method: "POST",
        path: "/v1/identity/nonce",
        roles: CARD_READERS,
    },
    RouteSpec {
        method: "POST",
        path: "/v1/identity/verify",
        roles: OFFICES,
    },
    RouteSpec {
        method: "POST",
        path: "/v1/submissions",
        roles: &[
            Role::CareManagement,
            Role::Facility,
            Role::MedicalInstitution,
        ],
    },
    RouteSpec {
        method: "GET",
        path: "/v1/municipality/inbox",
        roles: &[Role::Municipality],
    },
    RouteSpec {
        method: "POST",
        path: "/v1/municipality/inbox/{id}/ack",
        roles: &[Role::Municipality],
    },
    RouteSpec {
        method: "POST",
        path: "/v1/persons/{insurer}/{insured}/activity",
        roles: OFFICES,
    },
    RouteSpec {
        method: "PUT",
        path: "/v1/careplan/files/{name}",
        roles: crate::platform::exchange::EXCHANGE_ROLES,
    },
    RouteSpec {
        method: "GET",
        path: "/v1/careplan/files/by-id/{id}",
        roles: crate::platform::exchange::EXCHANGE_ROLES,
    },
    RouteSpec {
        method: "GET",
        path: "/v1/careplan/inbox",
        roles: crate::platform::exchange::EXCHANGE_ROLES,
    },
    RouteSpec {
        method: "POST",
        path: "/v1/careplan/inbox/{id}/ack",
        roles: crate::platform::exchange::EXCHANGE_ROLES,
    },
];

/// The router with every route, limits and problem+json fallbacks.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::metrics))
        .route("/v1/openapi.json", get(openapi_json))
        .route("/v1/operator/municipalities/{code}", put(set_municipality))
        .route("/v1/operator/offices/{number}", put(set_office))
        .route("/v1/operator/clock", put(set_clock))
        .route("/v1/session", post(login).delete(logout))
        .route("/v1/office/staff", post(create_staff))
        .route(
            "/v1/office/staff/{staff_id}",
            axum::routing::delete(disable_staff),
        )
        .route("/v1/municipality/ingest", post(ingest))
        .route(
            "/v1/persons/{insurer}/{insured}/classes/{class}",
            get(read_class).post(upload_class),
        )
        .route(
            "/v1/persons/{insurer}/{insured}/consent",
            put(record_consent).delete(withdraw_consent),
        )
        .route(
            "/v1/persons/{insurer}/{insured}/consent-receipts",
            get(consent_receipts),
        )
        .route(
            "/v1/persons/{insurer}/{insured}/access-log",
            get(access_log),
        )
        .route(
            "/v1/persons/{insurer}/{insured}/registrations/{office}",
            put(register_by_municipality),
        )
        .route(
            "/v1/persons/{insurer}/{insured}/registration",
            axum::routing::delete(end_registration),
        )
        .route(
            "/v1/persons/{insurer}/{insured}/activity",
            post(record_activity),
        )
        .route(
            "/v1/persons/{insurer}/{insured}/representatives",
            get(portal::representatives),
        )
        .route(
            "/v1/persons/{insurer}/{insured}/representatives/{agent}",
            put(portal::set_representative).delete(portal::end_representative),
        )
        .route(
            "/v1/portal/session",
            post(portal::open_session).delete(portal::close_session),
        )
        .route("/v1/identity/nonce", post(issue_nonce))
        .route("/v1/identity/verify", post(verify_identity))
        .route("/v1/submissions", post(submit))
        .route("/v1/municipality/inbox", get(inbox))
        .route("/v1/municipality/inbox/{id}/ack", post(ack))
        .merge(exchange::routes())
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .with_state(state)
}

async fn unknown_route() -> ApiError {
    ApiError::not_found("unknown-route", "no such route; see /v1/openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "this route does not support the method",
    )
}

// -------------------------------------------------------------------- extractors

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        if let Some(problem) = parts.extensions.get::<crate::server::PrincipalProblem>() {
            return Err(ApiError::forbidden(
                "invalid-principal",
                format!(
                    "the client certificate names no valid principal: {}",
                    problem.0
                ),
            ));
        }
        let identity = parts
            .extensions
            .get::<ClientIdentity>()
            .cloned()
            .ok_or_else(|| {
                ApiError::unauthenticated(
                    "client-certificate-required",
                    "connect with TLS 1.3 and a client certificate",
                )
            })?;
        let platform = state.platform.clone();
        let token = bearer(&parts.headers)?;
        blocking(move || {
            platform.admit(&identity)?;
            let (mut staff, mut holder) = (None, None);
            match token {
                Some(token) if identity.principal.role() == Role::Person => {
                    holder = Some(platform.portal_session(&identity, &token)?);
                }
                Some(token) => staff = Some(platform.session(&identity, &token)?),
                None => {}
            }
            Ok(Caller {
                identity,
                staff,
                holder,
            })
        })
        .await
    }
}

fn bearer(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| {
        ApiError::unauthenticated("invalid-session", "malformed Authorization header")
    })?;
    match text.strip_prefix("Bearer ") {
        Some(token) if !token.is_empty() => Ok(Some(token.to_owned())),
        _ => Err(ApiError::unauthenticated(
            "invalid-session",
            "use Authorization: Bearer <token>",
        )),
    }
}

/// A JSON body parsed into `T`, with problem+json errors naming the bad field.
struct Body<T>(T, Bytes);

impl<T: DeserializeOwned> axum::extract::FromRequest<AppState> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(
        request: axum::extract::Request,
        state: &AppState,
    ) -> Result<Body<T>, ApiError> {
        let json_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !json_type {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "send the body as application/json",
            ));
        }
        let bytes = Bytes::from_request(request, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body-too-large",
                    format!("the body exceeds {MAX_BODY_BYTES} bytes"),
                )
            } else {
                ApiError::bad_request("bad-body", e.body_text())
            }
        })?;
        let value = Json::<T>::from_bytes(&bytes).map_err(ApiError::from)?;
        Ok(Body(value.0, bytes))
    }
}

/// axum's `Path` whose rejection (a segment that is not UTF-8, or does not fit the type) is
/// problem+json like every other refusal.
#[derive(Debug)]
pub(crate) struct Path<T>(pub(crate) T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Path<T>, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(ApiError::from)
    }
}

/// Path segments naming a person.
fn person_key(insurer: &str, insured: &str) -> Result<(InsurerNumber, InsuredNumber), ApiError> {
    let insurer = insurer.parse().map_err(|e: kiban_core::id::IdError| {
        ApiError::bad_request("invalid-identifier", e.to_string())
    })?;
    let insured = insured.parse().map_err(|e: kiban_core::id::IdError| {
        ApiError::bad_request("invalid-identifier", e.to_string())
    })?;
    Ok((insurer, insured))
}

fn class_of(text: &str) -> Result<InfoClass, ApiError> {
    text.parse().map_err(|e: kiban_core::vocab::UnknownTerm| {
        ApiError::not_found("unknown-class", e.to_string())
    })
}

/// Runs a platform operation on the blocking pool (it may wait for a disk commit).
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(&e))?
}

// -------------------------------------------------------------------- handlers

/// Liveness and row counts.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
async fn healthz(State(state): State<AppState>) -> Json<Health> {
    let counts = state.platform.counts();
    Json(Health {
        status: "ok".into(),
        persons: counts.persons,
        registrations: counts.registrations,
    })
}

/// This document.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "operations", responses((status = 200, content_type = "application/json", body = Object)))]
async fn openapi_json() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::document_json(),
    )
        .into_response()
}

/// Schedule a municipality's go-live.
#[utoipa::path(put, path = "/v1/operator/municipalities/{code}", tag = "operator",
    params(("code" = String, Path, description = "全国地方公共団体コード")),
    request_body = MunicipalityInput,
    responses((status = 204), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn set_municipality(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Body(input, _): Body<MunicipalityInput>,
) -> Result<StatusCode, ApiError> {
    let code: MunicipalityCode = code.parse().map_err(|e: kiban_core::id::IdError| {
        ApiError::bad_request("invalid-identifier", e.to_string())
    })?;
    let platform = state.platform.clone();
    blocking(move || platform.set_municipality(&caller, code, input.live_from)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Register an office and its administrator user.
#[utoipa::path(put, path = "/v1/operator/offices/{number}", tag = "operator",
    params(("number" = String, Path, description = "介護保険事業所番号 or 医療機関コード")),
    request_body = OfficeInput,
    responses((status = 204), (status = 400, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
async fn set_office(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    Body(input, _): Body<OfficeInput>,
) -> Result<StatusCode, ApiError> {
    let platform = state.platform.clone();
    blocking(move || platform.set_office(&caller, &number, input)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Body of `PUT /v1/operator/clock`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockInput {
    /// The new platform time, seconds since the Unix epoch.
    pub unix_seconds: i64,
}

/// Set the platform clock (only with `--sim-clock`).
#[utoipa::path(put, path = "/v1/operator/clock", tag = "operator", request_body = ClockInput,
    responses((status = 204), (status = 403, body = crate::error::Problem)))]
async fn set_clock(
    State(state): State<AppState>,
    caller: Caller,
    Body(input, _): Body<ClockInput>,
) -> Result<StatusCode, ApiError> {
    let Some(clock) = state.sim_clock.clone() else {
        return Err(ApiError::forbidden(
            "sim-clock-disabled",
            "the platform runs on the system clock; start it with --sim-clock",
        ));
    };
    let platform = state.platform.clone();
    let to = kiban_core::time::Timestamp::from_unix_seconds(input.unix_seconds);
    blocking(move || platform.set_clock(&caller, to, &clock)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A staff member signs in under the office certificate.
#[utoipa::path(post, path = "/v1/session", tag = "office", request_body = LoginInput,
    responses((status = 201, body = Session), (status = 401, body = crate::error::Problem)))]
async fn login(
    State(state): State<AppState>,
    caller: Caller,
    Body(input, _): Body<LoginInput>,
) -> Result<(StatusCode, Json<Session>), ApiError> {
    let platform = state.platform.clone();
    let session =
        blocking(move || platform.login(&caller, &input.staff_id, &input.password)).await?;
    Ok((StatusCode::CREATED, Json(session)))
}

/// End the current session.
#[utoipa::path(delete, path = "/v1/session", tag = "office", responses((status = 204), (status = 401, body = crate::error::Problem)))]
async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    if caller.staff.is_none() {
        return Err(ApiError::unauthenticated(
            "staff-session-required",
            "no session to end",
        ));
    }
    if let Some(token) = bearer(&headers)? {
        state.platform.logout(&token);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Add a staff account (office administrator).
#[utoipa::path(post, path = "/v1/office/staff", tag = "office", request_body = StaffInput,
    responses((status = 201), (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
async fn create_staff(
    State(state): State<AppState>,
    caller: Caller,
    Body(input, _): Body<StaffInput>,
) -> Result<StatusCode, ApiError> {
    let platform = state.platform.clone();
    blocking(move || platform.create_staff(&caller, input)).await?;
    Ok(StatusCode::CREATED)
}

/// Disable a staff account at once (office administrator).
#[utoipa::path(delete, path = "/v1/office/staff/{staff_id}", tag = "office",
    params(("staff_id" = String, Path, description = "login id")),
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
async fn disable_staff(
    State(state): State<AppState>,
    caller: Caller,
    Path(staff_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let platform = state.platform.clone();
    blocking(move || platform.disable_staff(&caller, &staff_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ingest a batch from the municipality's standard system (requires `Idempotency-Key`).
#[utoipa::path(post, path = "/v1/municipality/ingest", tag = "municipality", request_body = IngestBatch,
    params(("Idempotency-Key" = String, Header, description = "1-128 visible ASCII characters; a retry with the same key and body replays the first response")),
    responses((status = 201, body = IngestResult), (status = 400, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
async fn ingest(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Body(batch, bytes): Body<IngestBatch>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let platform = state.platform.clone();
    let (status, body) = blocking(move || platform.ingest(&caller, &key, &bytes, batch)).await?;
    Ok((status, [(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// Read one class of a person's information (decided by the core, audited).
#[utoipa::path(get, path = "/v1/persons/{insurer}/{insured}/classes/{class}", tag = "persons",
    params(("insurer" = String, Path), ("insured" = String, Path), ("class" = String, Path, description = "information class, e.g. insurance-card")),
    responses((status = 200, body = ClassRecords), (status = 403, body = crate::error::Problem, description = "refused; `code` is the decision's reason"), (status = 404, body = crate::error::Problem)))]
async fn read_class(
    State(state): State<AppState>,
    caller: Caller,
    Path((insurer, insured, class)): Path<(String, String, String)>,
) -> Result<Json<ClassRecords>, ApiError> {
    let (insurer, insured) = person_key(&insurer, &insured)?;
    let class = class_of(&class)?;
    let platform = state.platform.clone();
    let result = blocking(move || platform.read(&caller, insurer, insured, class)).await;
    let decision = match &result {
        Ok(_) => Some("permit"),
        Err(e) => kiban_core::decide::DenyReason::ALL
            .iter()
            .map(|r| r.code())
            .find(|code| *code == e.code),
    };
    if let Some(code) = decision {
        state.metrics.decision(code);
    }
    Ok(Json(result?))
}

/// Upload a document of a class the office creates (care plans, LIFE, physician opinions).
#[utoipa::path(post, path = "/v1/persons/{insurer}/{insured}/classes/{class}", tag = "persons",
    params(("insurer" = String, Path), ("insured" = String, Path), ("class" = String, Path)),
    request_body = RecordUpload,
    responses((status = 201), (status = 403, body = crate::error::Problem)))]
async fn upload_class(
    State(state): State<AppState>,
    caller: Caller,
    Path((insurer, insured, class)): Path<(String, String, String)>,
    Body(upload, _): Body<RecordUpload>,
) -> Result<StatusCode, ApiError> {
    let (insurer, insured) = person_key(&insurer, &insured)?;
    let class = class_of(&class)?;
    let platform = state.platform.clone();
    blocking(move || platform.upload(&caller, insurer, insured, class, upload)).await?;
    Ok(StatusCode::CREATED)
}

/// Record comprehensive consent (or an office's own consent under the per-office model).
#[utoipa::path(put, path = "/v1/persons/{insurer}/{insured}/consent", tag = "persons",
    params(("insurer" = String, Path), ("insured" = String, Path)), request_body = ConsentInput,
    responses((status = 200, body = ConsentReceipt), (status = 403, body = crate::error::Problem)))]
async fn record_consent(
    State(state): State<AppState>,
    caller: Caller,
    Path((insurer, insured)): Path<(String, String)>,
    Body(input, _): Body<ConsentInput>,
) -> Result<Json<ConsentReceipt>, ApiError> {
    let (insurer, insured) = person_key(&insurer, &insured)?;
    let platform = state.platform.clone();
    Ok(Json(
        blocking(move || platform.record_consent(&caller, insurer, insured, input)).await?,
    ))
}

/// Withdraw the person's consent (recorded by the insurer).
#[utoipa::path(delete, path = "/v1/persons/{insurer}/{insured}/consent", tag = "persons",
    params(("insurer" = String, Path), ("insured" = String, Path)),
    responses((status = 200, body = ConsentReceipt), (status = 409, body = crate::error::Problem)))]
async fn withdraw_consent(
    State(state): State<AppState>,
    caller: Caller,
    Path((insurer, insured)): Path<(String, String)>,
) -> Result<Json<ConsentReceipt>, ApiError> {
    let (insurer, insured) = person_key(&insurer, &insured)?;
    let platform = state.platform.clone();
    Ok(Json(
        blocking(move || platform.withdraw_consent(&caller, insurer, insured)).await?,
    ))
}

/// The person's consent receipts (insurer).
#[utoipa::path(get, path = "/v1/persons/{insurer}/{insured}/consent-receipts", tag = "persons",
    params(("insurer" = String, Path), ("insured" = String, Path)),
    responses((status = 200, body = Vec<ConsentReceipt>)))]
async fn consent_receipts(
    State(state): State<AppState>,
    caller: Caller,
    Path((insurer, insured)): Path<(String, String)>,
) -> Result<Json<Vec<ConsentReceipt>>, ApiError> {
    let (insurer, insured) = person_key(&insurer, &insured)?;
    let platform = state.platform.clone();
    Ok(Json(
        blocking(move || platform.consent_receipts(&caller, insurer, insured)).await?,
    ))
}

/// The person's access log: every decision and write about them (insurer).
#[utoipa::path(get, path = "/v1/persons/{insurer}/{insured}/access-log", tag = "persons",
    params(("insurer" = String, Path), ("insured" = String, Path)),
    responses((status = 200, body = Vec<AccessLogEntry>)))]
async fn access_log(
    State(state): State<AppState>,
    caller: Caller,
    Path((insurer, insured)): Path<(String, String)>,
) -> Result<Json<Vec<AccessLogEntry>>, ApiError> {
    let (insurer, insured) = person_key(&insurer, &insured)?;
    let platform = state.platform.clone();
    Ok(Json(
        blocking(move || platform.access_log(&caller, insurer, insured)).await?,
    ))
}

/// Register an office for a person the municipality verified without a card (fallback).
#[utoipa::path(put, path = "/v1/persons/{insurer}/{insured}/registrations/{office}", tag = "persons",
    params(("insurer" = String, Path), ("insured" = String, Path), ("office" = String, Path)),
    request_body = FallbackRegistration,
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
async fn register_by_municipality(
    State(state): State<AppState>,
    caller: Caller,
    Path((insurer, insured, office)): Path<(String, String, String)>,
    Body(input, _): Body<FallbackRegistration>,
) -> Result<StatusCode, ApiError> {
    let (insurer, insured) = person_key(&insurer, &insured)?;
    let platform = state.platform.clone();
    blocking(move || platform.register_by_municipality(&caller, insurer, insured, &office, input))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// End the calling office's registration for the person.
#[utoipa::path(delete, path = "/v1/persons/{insurer}/{insured}/registration", tag = "persons",
    params(("insurer" = String, Path), ("insured" = String, Path)),
    responses((status = 204), (status = 403, body = crate::error::Problem)))]
async fn end_registration(
    State(state): State<AppState>,
    caller: Caller,
    Path((insurer, insured)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (insurer, insured) = person_key(&insurer, &insured)?;
    let platform = state.platform.clone();
    blocking(move || platform.end_registration(&caller, insurer, insured)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Report a service record (実績) or claim for the person.
#[utoipa::path(post, path = "/v1/persons/{insurer}/{insured}/activity", tag = "persons",
    params(("insurer" = String, Path), ("insured" = String, Path)), request_body = ActivityInput,
    responses((status = 204), (status = 403, body = crate::error::Problem)))]
async fn record_activity(
    State(state): State<AppState>,
    caller: Caller,
    Path((insurer, insured)): Path<(String, String)>,
    Body(input, _): Body<ActivityInput>,
) -> Result<StatusCode, ApiError> {
    let (insurer, insured) = person_key(&insurer, &insured)?;
    let platform = state.platform.clone();
    blocking(move || platform.record_activity(&caller, insurer, insured, input)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Submit a care-plan creation request notice or a physician opinion to the person's
/// municipality (requires `Idempotency-Key`; delivered exactly once).
#[utoipa::path(post, path = "/v1/submissions", tag = "submissions", request_body = SubmissionInput,
    params(("Idempotency-Key" = String, Header, description = "a retry with the same key and body replays the receipt")),
    responses((status = 201, body = SubmissionReceipt), (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Body(input, bytes): Body<SubmissionInput>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let platform = state.platform.clone();
    let (status, body) = blocking(move || platform.submit(&caller, &key, &bytes, input)).await?;
    Ok((status, [(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// Get a single-use nonce for the card reader to sign (valid five minutes, this terminal).
#[utoipa::path(post, path = "/v1/identity/nonce", tag = "identity",
    responses((status = 201, body = crate::identity::Nonce), (status = 401, body = crate::error::Problem)))]
async fn issue_nonce(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<(StatusCode, Json<crate::identity::Nonce>), ApiError> {
    let platform = state.platform.clone();
    Ok((
        StatusCode::CREATED,
        Json(blocking(move || platform.issue_nonce(&caller)).await?),
    ))
}

/// Verify the card holder's identity from the reader's signed assertion; registers the office
/// as responsible office. Fails closed (503 `jlis-unavailable`, retryable) when J-LIS cannot
/// confirm the card.
#[utoipa::path(post, path = "/v1/identity/verify", tag = "identity", request_body = crate::identity::CardAssertion,
    responses((status = 200, body = IdentityResult), (status = 403, body = crate::error::Problem),
        (status = 503, body = crate::error::Problem, description = "J-LIS down, slow or wrong: retry with a new nonce")))]
async fn verify_identity(
    State(state): State<AppState>,
    caller: Caller,
    Body(assertion, _): Body<crate::identity::CardAssertion>,
) -> Result<Json<IdentityResult>, ApiError> {
    let (caller, status) = confirm_card(&state, caller, &assertion).await?;
    let platform = state.platform.clone();
    let method = assertion.method;
    Ok(Json(
        blocking(move || platform.register_verified(&caller, method, &status)).await?,
    ))
}

/// Checks a card assertion (nonce, J-LIS CA, signature) and asks J-LIS about the card now.
/// Anything short of an answer from J-LIS is a retryable `jlis-unavailable` (fail closed).
async fn confirm_card(
    state: &AppState,
    caller: Caller,
    assertion: &crate::identity::CardAssertion,
) -> Result<(Caller, crate::identity::JlisStatus), ApiError> {
    let Some(jlis) = state.jlis.clone() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "identity-verification-unavailable",
            "the platform has no J-LIS service configured",
        ));
    };
    let platform = state.platform.clone();
    let (caller, checked) = {
        let assertion = assertion.clone();
        blocking(move || {
            platform
                .check_card(&caller, &assertion)
                .map(|v| (caller, v))
        })
        .await?
    };
    match jlis.status(&checked.certificate_serial).await {
        Ok(status) => Ok((caller, status)),
        Err(e) => {
            tracing::warn!(error = %e, "J-LIS check failed; card refused");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "jlis-unavailable",
                "J-LIS could not confirm the card now; try again with a new nonce",
            ))
        }
    }
}

/// Query of `GET /v1/municipality/inbox`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct InboxQuery {
    /// Only messages with a larger id (default 0).
    #[serde(default)]
    pub after: u64,
    /// At most this many (1-1000, default 100).
    #[serde(default = "default_limit")]
    pub limit: usize,
}

fn default_limit() -> usize {
    100
}

/// Fetch unacknowledged messages (they are delivered again until acknowledged).
#[utoipa::path(get, path = "/v1/municipality/inbox", tag = "submissions", params(InboxQuery),
    responses((status = 200, body = Vec<InboxMessage>)))]
async fn inbox(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<axum::extract::Query<InboxQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<InboxMessage>>, ApiError> {
    let axum::extract::Query(query) = query?;
    let platform = state.platform.clone();
    Ok(Json(
        blocking(move || platform.inbox(&caller, query.after, query.limit)).await?,
    ))
}

/// Acknowledge a message (idempotent).
#[utoipa::path(post, path = "/v1/municipality/inbox/{id}/ack", tag = "submissions",
    params(("id" = u64, Path, description = "message id")),
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
async fn ack(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::bad_request("invalid-path", "a message id is a positive integer"))?;
    let platform = state.platform.clone();
    blocking(move || platform.ack(&caller, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| {
            ApiError::bad_request("idempotency-key-required", "send an Idempotency-Key header")
        })
}

mod exchange;

/// The handlers, for the OpenAPI document.
pub(crate) mod paths {
    pub(crate) use super::exchange::paths::*;
    pub(crate) use super::metrics::__path_metrics;
    pub(crate) use super::{
        __path_access_log, __path_ack, __path_consent_receipts, __path_create_staff,
        __path_disable_staff, __path_end_registration, __path_healthz, __path_inbox, __path_ingest,
        __path_issue_nonce, __path_login, __path_logout, __path_openapi_json, __path_read_class,
        __path_record_activity, __path_record_consent, __path_register_by_municipality,
        __path_set_clock, __path_set_municipality, __path_set_office, __path_submit,
        __path_upload_class, __path_verify_identity, __path_withdraw_consent,
    };
}
