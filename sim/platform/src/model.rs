//! The JSON bodies of the API. Field names are snake_case, enumerated values kebab-case
//! (the same names as kiban-core's vocabulary). Every input rejects unknown fields, and
//! identifiers are validated while parsing, so a bad check digit is a 400 naming the field.

use std::collections::BTreeMap;

use kiban_core::id::{InsuredNumber, InsurerNumber, MunicipalityCode};
use kiban_core::time::Date;
use kiban_core::vocab::{CareLevel, CarePlanTable, CopayRatio, InfoClass, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::store::{ConsentAction, ConsentOccasion};

/// `PUT /v1/operator/municipalities/{code}`: schedule (or unschedule) a go-live.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MunicipalityInput {
    /// First day of sharing (JST), or null when not scheduled.
    #[schema(value_type = Option<String>, format = Date, example = "2026-11-01")]
    pub live_from: Option<Date>,
}

/// `PUT /v1/operator/offices/{number}`: register an office with the platform.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfficeInput {
    /// care-management, care-service, facility or medical-institution.
    #[schema(value_type = String, example = "care-management")]
    pub role: Role,
    /// Municipality where the office is located.
    #[schema(value_type = String, example = "141003")]
    pub municipality: MunicipalityCode,
    /// Initial password of the office's administrator user `admin`.
    pub admin_password: String,
}

/// `POST /v1/session`: a staff member signs in under the office's certificate.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    /// The staff member's login id within the office.
    pub staff_id: String,
    /// The password.
    pub password: String,
}

/// A staff session.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Session {
    /// Bearer token for `Authorization: Bearer …`.
    pub token: String,
    /// When it expires (RFC 3339, JST).
    pub expires_at: String,
}

/// `POST /v1/office/staff`: the administrator adds a staff account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffInput {
    /// Login id: 1–32 of `A-Z a-z 0-9 - _ .`.
    pub staff_id: String,
    /// Initial password (at least 8 characters).
    pub password: String,
    /// Whether the account is an administrator user.
    #[serde(default)]
    pub admin: bool,
}

/// `POST /v1/municipality/ingest`: a batch from a municipality's standard system.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IngestBatch {
    /// Items, applied in order, all or nothing.
    pub items: Vec<IngestItem>,
}

/// One ingested item; `kind` says which.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum IngestItem {
    /// An insured person and their insurance card (creates the person on first sight).
    InsuredPerson {
        /// 被保険者番号.
        #[schema(value_type = String, example = "0000012345")]
        insured: InsuredNumber,
        /// Opaque card link from J-LIS (never a My Number).
        #[serde(default)]
        card_link: Option<String>,
        /// The card, with copay and limit certificates.
        insurance_card: InsuranceCard,
    },
    /// A certification application and its progress.
    CertificationApplication {
        /// 被保険者番号.
        #[schema(value_type = String)]
        insured: InsuredNumber,
        /// The application.
        document: CertificationApplication,
    },
    /// A certification survey (認定調査票).
    CertificationSurvey {
        /// 被保険者番号.
        #[schema(value_type = String)]
        insured: InsuredNumber,
        /// The survey.
        document: CertificationSurvey,
    },
    /// A home-modification payment (住宅改修費).
    HomeModification {
        /// 被保険者番号.
        #[schema(value_type = String)]
        insured: InsuredNumber,
        /// The payment.
        document: BenefitUse,
    },
    /// A welfare-equipment purchase payment (福祉用具購入費).
    WelfareEquipment {
        /// 被保険者番号.
        #[schema(value_type = String)]
        insured: InsuredNumber,
        /// The payment.
        document: BenefitUse,
    },
}

/// 介護保険被保険者証 with 負担割合証 and 負担限度額認定証.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InsuranceCard {
    /// 要介護状態区分.
    #[schema(value_type = String, example = "care-2")]
    pub care_level: CareLevel,
    /// First day of the certification period.
    #[schema(value_type = String, format = Date)]
    pub certification_valid_from: Date,
    /// Last day of the certification period.
    #[schema(value_type = String, format = Date)]
    pub certification_valid_until: Date,
    /// 負担割合証.
    pub copay: CopayCertificate,
    /// 負担限度額認定証, if issued.
    #[serde(default)]
    pub limit_certificate: Option<LimitCertificate>,
}

/// 負担割合証: the copay share and its year (8/1 → 7/31).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CopayCertificate {
    /// 1, 2 or 3 割.
    #[schema(value_type = String, example = "10-percent")]
    pub ratio: CopayRatio,
    /// First day.
    #[schema(value_type = String, format = Date)]
    pub valid_from: Date,
    /// Last day.
    #[schema(value_type = String, format = Date)]
    pub valid_until: Date,
}

/// 負担限度額認定証.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitCertificate {
    /// 利用者負担段階 1–4.
    pub stage: u8,
    /// First day.
    #[schema(value_type = String, format = Date)]
    pub valid_from: Date,
    /// Last day.
    #[schema(value_type = String, format = Date)]
    pub valid_until: Date,
}

/// 要介護認定申請 and its progress.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificationApplication {
    /// new, renewal or change.
    pub application_type: ApplicationType,
    /// Date of application.
    #[schema(value_type = String, format = Date)]
    pub applied_on: Date,
    /// Where the certification stands.
    pub status: CertificationStatus,
}

/// Kind of certification application.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ApplicationType {
    /// 新規申請.
    New,
    /// 更新申請.
    Renewal,
    /// 区分変更申請.
    Change,
}

/// Progress of a certification (domain-facts §4.2).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CertificationStatus {
    /// 申請受付.
    Received,
    /// 認定調査済.
    Surveyed,
    /// 主治医意見書受領.
    OpinionReceived,
    /// 一次判定済.
    PrimaryJudged,
    /// 介護認定審査会済.
    BoardReviewed,
    /// 認定.
    Decided,
    /// 取下げ.
    Withdrawn,
}

/// 認定調査票 (the 74 basic items as answer codes, plus notes).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificationSurvey {
    /// Date of the visit.
    #[schema(value_type = String, format = Date)]
    pub surveyed_on: Date,
    /// Answer code per basic item, in item order (at most 74).
    pub basic_items: Vec<u8>,
    /// 特記事項.
    #[serde(default)]
    pub special_notes: Option<String>,
}

/// A payment of 住宅改修費 or 福祉用具購入費.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BenefitUse {
    /// Date of the work or purchase.
    #[schema(value_type = String, format = Date)]
    pub date: Date,
    /// Cost in yen.
    pub cost_yen: u32,
    /// What was done or bought.
    pub description: String,
}

/// The result of an ingested batch.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IngestResult {
    /// Items applied.
    pub applied: usize,
    /// Persons created by this batch.
    pub persons_created: usize,
}

/// `PUT …/consent`: record comprehensive consent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentInput {
    /// application or renewal (municipality), on-behalf (care-management office or facility),
    /// office-own (per-office model).
    pub occasion: ConsentOccasion,
    /// Last day of the certification period in force, if known.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub certification_end: Option<Date>,
}

/// A consent receipt as the person sees it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConsentReceipt {
    /// When (RFC 3339, JST).
    pub at: String,
    /// given or withdrawn.
    pub action: ConsentAction,
    /// On which occasion.
    pub occasion: Option<ConsentOccasion>,
    /// Who recorded it.
    pub by: String,
}

/// `PUT …/registrations/{office}` by a municipality (people without a card).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FallbackRegistration {
    /// How the municipality verified the person (e.g. `counter-photo-id`).
    pub verified_by: String,
}

/// `POST …/activity`: a service record (実績) or a claim by a registered office.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityInput {
    /// service (実績) or claim (レセプト).
    pub kind: ActivityKind,
    /// Day of the service or claim month (JST).
    #[schema(value_type = String, format = Date)]
    pub on: Date,
}

/// Kind of activity.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ActivityKind {
    /// A service record.
    Service,
    /// A claim.
    Claim,
}

/// `POST …/records/{class}`: a document uploaded by the office that creates it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordUpload {
    /// For care plans, which table.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "home-1")]
    pub table: Option<CarePlanTable>,
    /// The document (a JSON object).
    #[schema(value_type = Object)]
    pub content: BTreeMap<String, serde_json::Value>,
}

/// A person as clients name them.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PersonKey {
    /// 保険者番号.
    #[schema(value_type = String)]
    pub insurer: InsurerNumber,
    /// 被保険者番号.
    #[schema(value_type = String)]
    pub insured: InsuredNumber,
}

/// `GET …/{class}`: the records of one class.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClassRecords {
    /// Whose.
    pub person: PersonKey,
    /// Which class.
    #[schema(value_type = String)]
    pub class: InfoClass,
    /// The records, oldest first.
    pub records: Vec<StoredDocument>,
}

/// One stored document.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StoredDocument {
    /// When the platform received it (RFC 3339, JST).
    pub recorded_at: String,
    /// Who sent it (organisation number).
    pub source: String,
    /// The document.
    #[schema(value_type = Object)]
    pub document: serde_json::Value,
}

/// One line of a person's access log.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AccessLogEntry {
    /// When (RFC 3339, JST).
    pub at: String,
    /// What happened (decision, write…).
    pub kind: String,
    /// Details: who, which class, the decision code.
    #[schema(value_type = Object)]
    pub entry: serde_json::Value,
}

/// Health of the service.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// Persons held.
    pub persons: usize,
    /// Registrations held.
    pub registrations: usize,
}

/// `POST /v1/submissions`: a submission to the person's municipality.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmissionInput {
    /// care-plan-request (居宅サービス計画作成依頼届出, care-management office) or
    /// physician-opinion (主治医意見書, medical institution or a facility that writes opinions).
    pub kind: SubmissionKind,
    /// web (介護保険資格確認等WEBサービス) or ehr (from the EHR/document software over the
    /// online-eligibility network).
    #[serde(default)]
    pub route: SubmissionRoute,
    /// 保険者番号 of the person.
    #[schema(value_type = String)]
    pub insurer: InsurerNumber,
    /// 被保険者番号 of the person.
    #[schema(value_type = String)]
    pub insured: InsuredNumber,
    /// The submission's content.
    #[schema(value_type = Object)]
    pub content: BTreeMap<String, serde_json::Value>,
}

/// What is submitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SubmissionKind {
    /// 居宅サービス計画作成依頼届出.
    CarePlanRequest,
    /// 主治医意見書.
    PhysicianOpinion,
}

impl SubmissionKind {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            SubmissionKind::CarePlanRequest => "care-plan-request",
            SubmissionKind::PhysicianOpinion => "physician-opinion",
        }
    }
}

/// How a submission reached the platform.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SubmissionRoute {
    /// Through the web service.
    #[default]
    Web,
    /// From EHR or document software over the online-eligibility network.
    Ehr,
}

impl SubmissionRoute {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            SubmissionRoute::Web => "web",
            SubmissionRoute::Ehr => "ehr",
        }
    }
}

/// The platform's receipt for a submission.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SubmissionReceipt {
    /// Message id in the municipality's inbox.
    pub id: u64,
    /// The municipality it was delivered to.
    pub municipality: String,
    /// When (RFC 3339, JST).
    pub submitted_at: String,
}

/// A message as the municipality fetches it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InboxMessage {
    /// Message id; acknowledge with `POST /v1/municipality/inbox/{id}/ack`.
    pub id: u64,
    /// care-plan-request or physician-opinion.
    pub kind: String,
    /// web or ehr.
    pub route: String,
    /// The sender's organisation number.
    pub sender: String,
    /// When it was submitted (RFC 3339, JST).
    pub submitted_at: String,
    /// The submission with the person's insurer and insured numbers.
    #[schema(value_type = Object)]
    pub body: serde_json::Value,
}

/// The result of a successful identity verification.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IdentityResult {
    /// Who was verified.
    pub person: PersonKey,
    /// When the office's registration took effect (RFC 3339, JST).
    pub registered_at: String,
}
