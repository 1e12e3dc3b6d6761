//! The OpenAPI 3 document, generated from the handlers' declarations (utoipa) and annotated
//! with the roles of [`crate::api::ROUTES`] as `x-kiban-roles` on every operation.

use utoipa::OpenApi;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::path::{HttpMethod, Operation};

use crate::api::paths::*;
use crate::api::{ClockInput, ROUTES};
use crate::error::Problem;
use crate::model::*;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "kiban reference platform (介護情報基盤)",
        description = "The reference implementation of the platform's web service. Every route needs TLS 1.3 with a client certificate issued by the operator CA; office users also sign in (POST /v1/session) and send Authorization: Bearer. Refusals are RFC 9457 problem+json with a stable `code`."
    ),
    paths(
        healthz,
        metrics,
        openapi_json,
        set_municipality,
        set_office,
        set_clock,
        login,
        logout,
        create_staff,
        disable_staff,
        ingest,
        read_class,
        upload_class,
        record_consent,
        withdraw_consent,
        consent_receipts,
        access_log,
        register_by_municipality,
        end_registration,
        record_activity,
        submit,
        inbox,
        ack,
        issue_nonce,
        verify_identity,
        careplan_upload,
        careplan_inbox,
        careplan_fetch,
        careplan_ack
    ),
    components(schemas(
        Problem,
        ClockInput,
        MunicipalityInput,
        OfficeInput,
        LoginInput,
        Session,
        StaffInput,
        IngestBatch,
        IngestItem,
        InsuranceCard,
        CopayCertificate,
        LimitCertificate,
        CertificationApplication,
        ApplicationType,
        CertificationStatus,
        CertificationSurvey,
        BenefitUse,
        IngestResult,
        ConsentInput,
        ConsentReceipt,
        FallbackRegistration,
        ActivityInput,
        ActivityKind,
        RecordUpload,
        PersonKey,
        ClassRecords,
        StoredDocument,
        AccessLogEntry,
        SubmissionInput,
        SubmissionKind,
        SubmissionRoute,
        SubmissionReceipt,
        InboxMessage,
        IdentityResult,
        crate::identity::CardAssertion,
        crate::identity::VerificationMethod,
        crate::identity::Nonce,
        Health
    ))
)]
struct ApiDoc;

/// The document, with `x-kiban-roles` on every operation.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::api::PortalDoc::openapi());
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    for route in ROUTES {
        let Some(item) = doc.paths.paths.get_mut(route.path) else {
            continue;
        };
        let operation: Option<&mut Operation> = match route.method {
            "GET" => item.get.as_mut(),
            "PUT" => item.put.as_mut(),
            "POST" => item.post.as_mut(),
            "DELETE" => item.delete.as_mut(),
            _ => None,
        };
        if let Some(op) = operation {
            let roles: Vec<&str> = route.roles.iter().map(|r| r.as_str()).collect();
            op.extensions = Some(ExtensionsBuilder::new().add("x-kiban-roles", roles).build());
        }
    }
    let _ = HttpMethod::Get;
    doc
}

/// The document as pretty JSON.
pub fn document_json() -> String {
    document()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
