//! Small pieces every actor shares on the wire: how a person is named in paths
//! ([`PersonRef`]), the answers of the care-plan exchange read back into typed values (the
//! platform's own types only serialise), and the one helper that sends a request with the
//! actor's retry policy.

use std::fmt;

use kiban_core::id::{InsuredNumber, InsurerNumber};
use kiban_platform::model::PersonKey;
use serde::Deserialize;

use crate::client::{ApiRequest, ApiResponse, PlatformClient, RetryPolicy};
use crate::outcome::ActorError;
use crate::people::Person;

/// A person as every client names them: 保険者番号 and 被保険者番号 (never a My Number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonRef {
    /// 保険者番号.
    pub insurer: InsurerNumber,
    /// 被保険者番号.
    pub insured: InsuredNumber,
}

impl PersonRef {
    /// The reference of a synthetic person.
    pub fn of(person: &Person) -> PersonRef {
        PersonRef {
            insurer: person.insurer,
            insured: person.insured,
        }
    }

    /// `/v1/persons/{insurer}/{insured}/{rest}`.
    pub fn path(&self, rest: &str) -> String {
        format!("/v1/persons/{}/{}/{rest}", self.insurer, self.insured)
    }

    /// The care-plan codec's person.
    pub fn careplan(&self) -> kiban_platform::careplan::Person {
        kiban_platform::careplan::Person {
            insurer: self.insurer,
            insured: self.insured,
        }
    }
}

impl From<&PersonKey> for PersonRef {
    fn from(key: &PersonKey) -> PersonRef {
        PersonRef {
            insurer: key.insurer,
            insured: key.insured,
        }
    }
}

impl fmt::Display for PersonRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.insurer, self.insured)
    }
}

/// One finding the exchange returned with a receipt or a refusal.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ExchangeFinding {
    /// The stable code.
    pub code: String,
    /// `error` or `warning`.
    pub severity: String,
    /// 1-based line, if about a record.
    pub row: Option<u32>,
    /// 1-based column, if about a column.
    pub column: Option<u16>,
    /// The column's name.
    pub column_name: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// The exchange's receipt for an uploaded file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ExchangeReceipt {
    /// The stored file's id.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// Its prefix (`UPPLAN`, …).
    pub kind: String,
    /// Sending office.
    pub sender: String,
    /// Receiving office.
    pub receiver: String,
    /// When stored.
    pub received_at: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
    /// Warnings it was accepted with.
    pub warnings: Vec<ExchangeFinding>,
}

/// An unacknowledged file in an office's exchange inbox.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ExchangeInboxEntry {
    /// The file's id.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// Its prefix.
    pub kind: String,
    /// Sending office.
    pub sender: String,
    /// The ファイル連番 (receivers import units in ascending order).
    pub serial: Option<String>,
    /// When stored.
    pub received_at: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
}

/// Sends `request` with `policy` (retrying only what is safe; see `client`).
pub(crate) async fn send(
    client: &PlatformClient,
    request: &ApiRequest,
    policy: &RetryPolicy,
) -> Result<ApiResponse, ActorError> {
    Ok(client.send_with_retry(request, policy).await?)
}
