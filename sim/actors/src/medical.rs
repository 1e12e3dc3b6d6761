//! Medical institutions: the attending doctor's opinion (主治医意見書) for a certification,
//! sent through the web service or from the EHR / document software over the
//! online-eligibility network (DOMAIN §3.3), and viewing as a deemed office (みなし介護事業所)
//! after verifying the person's card like any office (DOMAIN §1).
//!
//! A medical institution is an [`Office`] with the role `medical-institution` and a
//! 医療機関コード; this module adds the opinion. The municipality asks for an opinion
//! ([`OpinionRequest`], one per certification case); the doctor writes it
//! ([`PhysicianOpinion::write`]) and submits it ([`Office::submit_opinion`]) under an
//! `Idempotency-Key` derived from the request, so a resent opinion — after a timeout, or a
//! second click — reaches the municipality's inbox exactly once.
//!
//! The opinion's content is a summary (diagnosis, the two independence scales, notes), not
//! the full form; it names the request so the municipality can match it to the case.

use kiban_core::time::Date;
use kiban_platform::model::SubmissionReceipt;
use serde_json::{Map, Value, json};

use crate::certification::CaseId;
use crate::office::Office;
use crate::outcome::ActorError;
use crate::wire::PersonRef;

/// How an opinion reaches the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpinionRoute {
    /// Through the 介護保険資格確認等WEBサービス.
    Web,
    /// From the EHR or document software over the online-eligibility network.
    Ehr,
}

impl OpinionRoute {
    /// The platform's name.
    pub const fn as_str(self) -> &'static str {
        match self {
            OpinionRoute::Web => "web",
            OpinionRoute::Ehr => "ehr",
        }
    }
}

/// A municipality's request for an opinion on one certification case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OpinionRequest {
    /// The reference the opinion must quote: `{insurer}-{case}`.
    pub reference: String,
    /// The case.
    pub case: CaseId,
    /// About whom.
    pub person: PersonRef,
    /// The medical institution asked (its 医療機関コード).
    pub institution: String,
    /// When asked.
    pub requested_on: Date,
    /// When the municipality expects it.
    pub expected_by: Date,
}

/// 障害高齢者の日常生活自立度 (寝たきり度), as the opinion form grades it.
const MOBILITY: [&str; 9] = ["自立", "J1", "J2", "A1", "A2", "B1", "B2", "C1", "C2"];

/// 認知症高齢者の日常生活自立度.
const COGNITION: [&str; 8] = ["自立", "I", "IIa", "IIb", "IIIa", "IIIb", "IV", "M"];

/// A written physician opinion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhysicianOpinion {
    /// What it answers.
    pub request: OpinionRequest,
    /// The day it was written.
    pub written_on: Date,
    /// The doctor's name.
    pub doctor: String,
    /// Main diagnosis.
    pub diagnosis: String,
    /// 障害高齢者の日常生活自立度.
    pub mobility: String,
    /// 認知症高齢者の日常生活自立度.
    pub cognition: String,
    /// 特記すべき事項.
    pub notes: String,
}

impl PhysicianOpinion {
    /// The doctor's opinion for `request`, written on `on`; `severity` grades the two
    /// independence scales (0 自立; beyond the last grade counts as the last).
    pub fn write(
        request: OpinionRequest,
        on: Date,
        doctor: &str,
        severity: usize,
    ) -> PhysicianOpinion {
        PhysicianOpinion {
            request,
            written_on: on,
            doctor: doctor.to_owned(),
            diagnosis: String::from("変形性膝関節症、高血圧症"),
            mobility: MOBILITY[severity.min(MOBILITY.len() - 1)].to_owned(),
            cognition: COGNITION[severity.min(COGNITION.len() - 1)].to_owned(),
            notes: String::from("屋内の移動は伝い歩き。服薬管理に見守りが必要。"),
        }
    }

    /// The submission's content.
    pub fn content(&self) -> Map<String, Value> {
        let value = json!({
            "request": self.request.reference,
            "written_on": self.written_on,
            "doctor": self.doctor,
            "diagnosis": self.diagnosis,
            "mobility": self.mobility,
            "cognition": self.cognition,
            "notes": self.notes,
        });
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    /// The `Idempotency-Key` of this opinion: one per request, so however often it is
    /// resent, it is delivered once.
    pub fn idempotency_key(&self) -> String {
        format!("opinion-{}", self.request.reference)
    }
}

impl Office {
    /// Submits a physician opinion from terminal `name` by `route` (medical institutions,
    /// and facilities that write opinions).
    pub async fn submit_opinion(
        &self,
        name: &str,
        opinion: &PhysicianOpinion,
        route: OpinionRoute,
    ) -> Result<SubmissionReceipt, ActorError> {
        self.submit(
            name,
            "physician-opinion",
            route.as_str(),
            opinion.request.person,
            opinion.content(),
            &opinion.idempotency_key(),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiban_core::id::{InsuredNumber, InsurerNumber};

    fn request() -> OpinionRequest {
        OpinionRequest {
            reference: "141002-7".into(),
            case: CaseId(7),
            person: PersonRef {
                insurer: InsurerNumber::parse("141002").unwrap(),
                insured: InsuredNumber::parse("0000000001").unwrap(),
            },
            institution: "1311234567".into(),
            requested_on: "2026-10-01".parse().unwrap(),
            expected_by: "2026-10-19".parse().unwrap(),
        }
    }

    #[test]
    fn an_opinion_quotes_its_request_and_has_one_key_per_request() {
        let a = PhysicianOpinion::write(request(), "2026-10-10".parse().unwrap(), "医師 一郎", 3);
        let b = PhysicianOpinion::write(request(), "2026-10-12".parse().unwrap(), "医師 一郎", 5);
        assert_eq!(a.content()["request"], "141002-7");
        assert_eq!(a.idempotency_key(), b.idempotency_key());
        assert_eq!(a.content()["mobility"], "A1");
        assert_eq!(
            PhysicianOpinion::write(request(), "2026-10-10".parse().unwrap(), "x", 99).mobility,
            "C2"
        );
    }
}
