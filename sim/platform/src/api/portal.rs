//! HTTP handlers of the person's side (マイナポータル relay): card-holder sessions and
//! representatives. The person's reads, consent withdrawal, consent receipts and access log
//! use the shared `/v1/persons/...` routes, whose handlers live in the parent module.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use utoipa::OpenApi;

use super::{AppState, Body, Path, bearer, blocking, person_key};
use crate::error::{ApiError, Problem};
use crate::identity::CardAssertion;
use crate::model::PersonKey;
use crate::platform::{
    Caller, PortalSignIn, RepresentativeEntry, RepresentativeInput, RepresentativeKind,
};

/// The portal routes' part of the OpenAPI document (merged into the whole).
#[derive(OpenApi)]
#[openapi(
    paths(
        open_session,
        close_session,
        representatives,
        set_representative,
        end_representative
    ),
    components(schemas(
        PortalSignIn,
        RepresentativeEntry,
        RepresentativeInput,
        RepresentativeKind,
        PersonKey,
        Problem
    ))
)]
pub(crate) struct PortalDoc;

/// Sign a card holder in through the マイナポータル relay: the holder's card signs a nonce
/// from `POST /v1/identity/nonce`; J-LIS must confirm the card now.
#[utoipa::path(post, path = "/v1/portal/session", tag = "portal", request_body = CardAssertion,
    responses((status = 200, body = PortalSignIn),
        (status = 403, body = Problem, description = "card refused, or `holder-unknown`"),
        (status = 503, body = Problem, description = "J-LIS down, slow or wrong: retry with a new nonce")))]
pub(super) async fn open_session(
    State(state): State<AppState>,
    caller: Caller,
    Body(assertion, _): Body<CardAssertion>,
) -> Result<Json<PortalSignIn>, ApiError> {
    let (caller, status) = super::confirm_card(&state, caller, &assertion).await?;
    let platform = state.platform.clone();
    let method = assertion.method;
    Ok(Json(
        blocking(move || platform.open_portal_session(&caller, method, &status)).await?,
    ))
}

/// End the card holder's portal session.
#[utoipa::path(delete, path = "/v1/portal/session", tag = "portal",
    responses((status = 204), (status = 401, body = Problem)))]
pub(super) async fn close_session(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let token = bearer(&headers)?
        .ok_or_else(|| ApiError::unauthenticated("portal-session-required", "no session to end"))?;
    state.platform.close_portal_session(&caller, &token)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The person's representatives (insurer, person or representative through the portal).
#[utoipa::path(get, path = "/v1/persons/{insurer}/{insured}/representatives", tag = "portal",
    params(("insurer" = String, Path), ("insured" = String, Path)),
    responses((status = 200, body = Vec<RepresentativeEntry>), (status = 403, body = Problem)))]
pub(super) async fn representatives(
    State(state): State<AppState>,
    caller: Caller,
    Path((insurer, insured)): Path<(String, String)>,
) -> Result<Json<Vec<RepresentativeEntry>>, ApiError> {
    let (insurer, insured) = person_key(&insurer, &insured)?;
    let platform = state.platform.clone();
    Ok(Json(
        blocking(move || platform.representatives(&caller, insurer, insured)).await?,
    ))
}

/// Register a family member or guardian, named by their card link, as the person's
/// representative (the insurer, after checking the relation at its counter).
#[utoipa::path(put, path = "/v1/persons/{insurer}/{insured}/representatives/{agent}", tag = "portal",
    params(("insurer" = String, Path), ("insured" = String, Path), ("agent" = String, Path, description = "the agent's opaque card link")),
    request_body = RepresentativeInput,
    responses((status = 200, body = RepresentativeEntry), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub(super) async fn set_representative(
    State(state): State<AppState>,
    caller: Caller,
    Path((insurer, insured, agent)): Path<(String, String, String)>,
    Body(input, _): Body<RepresentativeInput>,
) -> Result<Json<RepresentativeEntry>, ApiError> {
    let (insurer, insured) = person_key(&insurer, &insured)?;
    let platform = state.platform.clone();
    Ok(Json(
        blocking(move || platform.set_representative(&caller, insurer, insured, &agent, input))
            .await?,
    ))
}

/// End a representation now (the insurer, or the person themselves).
#[utoipa::path(delete, path = "/v1/persons/{insurer}/{insured}/representatives/{agent}", tag = "portal",
    params(("insurer" = String, Path), ("insured" = String, Path), ("agent" = String, Path)),
    responses((status = 200, body = RepresentativeEntry), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(super) async fn end_representative(
    State(state): State<AppState>,
    caller: Caller,
    Path((insurer, insured, agent)): Path<(String, String, String)>,
) -> Result<Json<RepresentativeEntry>, ApiError> {
    let (insurer, insured) = person_key(&insurer, &insured)?;
    let platform = state.platform.clone();
    Ok(Json(
        blocking(move || platform.end_representative(&caller, insurer, insured, &agent)).await?,
    ))
}
