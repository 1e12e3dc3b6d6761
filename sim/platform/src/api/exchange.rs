//! HTTP routes of the care-plan data exchange (ケアプランデータ連携): upload a standard CSV
//! file under its standard name, list the office's inbox, fetch a file's exact bytes and
//! acknowledge it. The checks and their order are in `platform::exchange`; this layer only
//! adds the media type (`text/csv`, with any parameters, or `application/octet-stream`;
//! anything else is 415) and the download headers.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{AppState, MAX_BODY_BYTES, blocking};
use crate::error::ApiError;
use crate::platform::Caller;
use crate::platform::exchange::{ExchangeInboxEntry, ExchangeReceipt, MAX_INBOX_LIMIT};

/// Media type of a fetched file: the standard's files are MS932 (spec §2.2).
const CSV_SHIFT_JIS: &str = "text/csv; charset=Shift_JIS";

/// Send a care-plan CSV file (ケアプランデータ連携) to the office its name designates. The
/// name is the standard's (spec §2.1); its sender must be the calling office. Errors in the
/// content refuse the file (422 with `findings`); warnings are returned with the receipt.
/// Sending the same name with the same bytes again answers 200 with the original receipt.
#[utoipa::path(put, path = "/v1/careplan/files/{name}", tag = "careplan",
    params(("name" = String, Path, description = "the standard's file name, e.g. UPPLAN_202505_1370000018_43_1371000025_11_20250425100500.CSV")),
    request_body(content = String, content_type = "text/csv", description = "the file's exact bytes (MS932); application/octet-stream is accepted too"),
    responses(
        (status = 201, body = ExchangeReceipt, description = "stored; listed in the receiver's inbox"),
        (status = 200, body = ExchangeReceipt, description = "the same file was already stored under this name: the original receipt"),
        (status = 400, body = crate::error::Problem, description = "`careplan-file-name`: the name breaks spec §2.1"),
        (status = 403, body = crate::error::Problem, description = "`careplan-sender-mismatch` or `careplan-direction`"),
        (status = 409, body = crate::error::Problem, description = "`careplan-duplicate-name`: the name was sent with other content"),
        (status = 413, body = crate::error::Problem),
        (status = 415, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem, description = "`careplan-invalid` (with a `findings` member: code, severity, row, column, column_name, message), `careplan-unknown-receiver` or `careplan-kind-not-exchanged`")))]
async fn careplan_upload(
    State(state): State<AppState>,
    caller: Caller,
    name: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let Path(name) = name?;
    if !is_csv_upload(&headers) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "send the file as text/csv (any charset parameter) or application/octet-stream",
        ));
    }
    let body = body.map_err(|e| {
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
    let platform = state.platform.clone();
    let (status, receipt) =
        blocking(move || platform.upload_careplan_file(&caller, &name, &body)).await?;
    let location = HeaderValue::from_str(&format!("/v1/careplan/files/by-id/{}", receipt.id))
        .map_err(|e| ApiError::internal(&e))?;
    Ok((status, [(header::LOCATION, location)], Json(receipt)).into_response())
}

/// Whether the upload's media type is one the exchange accepts.
fn is_csv_upload(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("text/csv")
        || essence.eq_ignore_ascii_case("application/octet-stream")
}

/// Query of `GET /v1/careplan/inbox`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ExchangeInboxQuery {
    /// Only files with a larger id (default 0).
    #[serde(default)]
    after: u64,
    /// At most this many (1-1000, default 100).
    #[serde(default = "default_limit")]
    limit: usize,
}

fn default_limit() -> usize {
    100
}

/// The calling office's unacknowledged exchange files, oldest first (they are listed again
/// until acknowledged).
#[utoipa::path(get, path = "/v1/careplan/inbox", tag = "careplan", params(ExchangeInboxQuery),
    responses((status = 200, body = Vec<ExchangeInboxEntry>), (status = 400, body = crate::error::Problem)))]
async fn careplan_inbox(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ExchangeInboxQuery>, QueryRejection>,
) -> Result<Json<Vec<ExchangeInboxEntry>>, ApiError> {
    let Query(query) = query?;
    if !(1..=MAX_INBOX_LIMIT).contains(&query.limit) {
        return Err(ApiError::bad_request(
            "invalid-query",
            format!("limit must be 1-{MAX_INBOX_LIMIT}; got {}", query.limit),
        ));
    }
    let platform = state.platform.clone();
    Ok(Json(
        blocking(move || platform.careplan_inbox(&caller, query.after, query.limit)).await?,
    ))
}

/// Fetch an exchange file's exact bytes (its sender or receiver only; others get 404).
#[utoipa::path(get, path = "/v1/careplan/files/by-id/{id}", tag = "careplan",
    params(("id" = u64, Path, description = "exchange file id")),
    responses((status = 200, content_type = "text/csv", body = String, description = "the bytes as received (MS932), with Content-Disposition naming the file"),
        (status = 404, body = crate::error::Problem)))]
async fn careplan_fetch(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = file_id(id?)?;
    let platform = state.platform.clone();
    let file = blocking(move || platform.careplan_file(&caller, id)).await?;
    // Stored names passed `FileName::parse`, so they are plain ASCII without quotes.
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", file.name))
        .map_err(|e| ApiError::internal(&e))?;
    let etag = HeaderValue::from_str(&format!("\"{}\"", file.sha256))
        .map_err(|e| ApiError::internal(&e))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(CSV_SHIFT_JIS),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        file.bytes,
    )
        .into_response())
}

/// Acknowledge an exchange file (its receiver only; idempotent). It leaves the inbox.
#[utoipa::path(post, path = "/v1/careplan/inbox/{id}/ack", tag = "careplan",
    params(("id" = u64, Path, description = "exchange file id")),
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
async fn careplan_ack(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let id = file_id(id?)?;
    let platform = state.platform.clone();
    blocking(move || platform.ack_careplan_file(&caller, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn file_id(Path(text): Path<String>) -> Result<u64, ApiError> {
    text.parse::<u64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| {
            ApiError::bad_request("invalid-path", "an exchange file id is a positive integer")
        })
}

/// The handlers, for the OpenAPI document.
pub(crate) mod paths {
    pub(crate) use super::{
        __path_careplan_ack, __path_careplan_fetch, __path_careplan_inbox, __path_careplan_upload,
    };
}

/// The router's exchange routes (mounted by `api::router`).
pub(super) fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post, put};
    axum::Router::new()
        .route("/v1/careplan/files/{name}", put(careplan_upload))
        .route("/v1/careplan/files/by-id/{id}", get(careplan_fetch))
        .route("/v1/careplan/inbox", get(careplan_inbox))
        .route("/v1/careplan/inbox/{id}/ack", post(careplan_ack))
}
