//! The principal a client certificate stands for, and the one way to read it back from a
//! presented certificate.
//!
//! A client certificate names who is asking in one subject-alternative-name URI:
//!
//! ```text
//! principal-uri = "urn:kiban:principal:v1:" role ":" organisation ":" terminal
//! role          = "municipality" / "care-management" / "care-service" / "facility"
//!               / "medical-institution" / "operator"
//! organisation  = municipality-code         ; role municipality (6 digits, check digit)
//!               / care-office-number        ; care-management, care-service, facility (10)
//!               / medical-institution-code  ; medical-institution (10 digits)
//!               / "-"                       ; operator, person: no organisation
//! terminal      = alnum *31( alnum / "-" / "." / "_" )  ; 1-32 ASCII characters
//! alnum         = %x30-39 / %x41-5A / %x61-7A
//! ```
//!
//! The prefix and version are lower case and matched exactly; the terminal id is
//! case-sensitive. The longest URI is 86 characters. Persons and representatives never get a
//! client certificate of their own: they reach the platform through the マイナポータル relay
//! (PMH), whose certificate names the role `person` with no organisation (`person:-:<terminal>`)
//! and which proves each person or representative with their own card per session. The role
//! `representative` is therefore refused in a certificate.
//! Organisation numbers are validated with their check digits by `kiban_core::id`.
//!
//! [`ClientIdentity::from_der`] is the single parser of a presented certificate; every way a
//! certificate can fail to name a principal is a [`PrincipalError`] variant. Errors quote at
//! most [`EXCERPT_CHARS`] characters of untrusted input, escaped, so they are safe to log.

use std::fmt;
use std::str::FromStr;

use kiban_core::id::{CareOfficeNumber, IdError, MedicalInstitutionCode, MunicipalityCode};
use kiban_core::time::Timestamp;
use kiban_core::vocab::Role;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::serial::Serial;

/// The fixed start of every principal URI, version included up to the version field.
pub const PRINCIPAL_URI_PREFIX: &str = "urn:kiban:principal:";
/// The only grammar version this crate writes and reads.
pub const PRINCIPAL_URI_VERSION: &str = "v1";
/// Maximum length of a terminal id.
pub const TERMINAL_MAX_LEN: usize = 32;
/// How many characters of untrusted input an error message quotes.
pub const EXCERPT_CHARS: usize = 24;

/// Every way a text or a certificate can fail to name a principal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PrincipalError {
    /// The bytes are not one DER-encoded X.509 certificate.
    #[error("not a DER X.509 certificate: {0}")]
    NotDer(String),
    /// A certificate followed by further bytes.
    #[error("{0} bytes follow the certificate")]
    TrailingBytes(usize),
    /// The subject-alternative-name extension is malformed or present twice.
    #[error("the subject alternative name extension is invalid: {0}")]
    SubjectAltName(String),
    /// No SAN URI starts with the principal prefix.
    #[error("the certificate has no principal URI (urn:kiban:principal:...)")]
    NoPrincipalUri,
    /// More than one SAN URI starts with the principal prefix: the principal is ambiguous.
    #[error("the certificate has {count} principal URIs; exactly one is allowed")]
    SeveralPrincipalUris { count: usize },
    /// The text does not start with `urn:kiban:principal:` exactly (lower case).
    #[error("a principal URI starts with {PRINCIPAL_URI_PREFIX:?}, found {found:?}")]
    WrongPrefix { found: String },
    /// The version field is not `v1`.
    #[error("principal URI version {found:?} is not supported (expected \"v1\")")]
    UnsupportedVersion { found: String },
    /// Not exactly version, role, organisation and terminal after the prefix.
    #[error(
        "a principal URI has 4 fields after the prefix (version:role:organisation:terminal), found {found}"
    )]
    FieldCount { found: usize },
    /// The role is not in the vocabulary.
    #[error(
        "unknown role {found:?}; expected one of: municipality, care-management, care-service, facility, medical-institution, operator, person"
    )]
    UnknownRole { found: String },
    /// A role that acts without a client certificate of its own (representative).
    #[error("role {role} does not get a client certificate")]
    RoleWithoutCertificate { role: Role },
    /// The organisation number of the role is invalid.
    #[error("invalid organisation for role {role}: {source}")]
    Organisation {
        role: Role,
        #[source]
        source: IdError,
    },
    /// A role that needs an organisation number has `-`.
    #[error("role {role} needs an organisation number, found \"-\"")]
    MissingOrganisation { role: Role },
    /// The operator role carries an organisation.
    #[error("role {role} has no organisation; use \"-\", found {found:?}")]
    UnexpectedOrganisation { role: Role, found: String },
    /// The terminal id is empty or longer than 32 characters.
    #[error("a terminal id has 1-{TERMINAL_MAX_LEN} characters, found {found}")]
    TerminalLength { found: usize },
    /// A terminal-id character outside `A-Z a-z 0-9 - . _`, or a first character that is
    /// not a letter or digit. Positions count from 1.
    #[error(
        "terminal id character {position} is {found:?}; allowed are A-Z, a-z, 0-9 and, after the first, '-', '.', '_'"
    )]
    TerminalCharacter { position: usize, found: char },
}

/// The organisation a principal belongs to, typed by role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Organisation {
    /// 全国地方公共団体コード of a municipality (insurer).
    Municipality(MunicipalityCode),
    /// 介護保険事業所番号 of a care-management or care-service office or a facility.
    CareOffice(CareOfficeNumber),
    /// 医療機関コード of a medical institution acting as a deemed care office.
    MedicalInstitution(MedicalInstitutionCode),
    /// The operator (国保中央会 / 国保連) and the マイナポータル relay have no organisation number.
    None,
}

impl Organisation {
    /// Parses the organisation field of `role` (`-` for the operator).
    pub fn parse_for(role: Role, text: &str) -> Result<Organisation, PrincipalError> {
        let id = |r: Result<Organisation, IdError>| {
            r.map_err(|source| PrincipalError::Organisation { role, source })
        };
        match role {
            Role::Operator | Role::Person if text == "-" => Ok(Organisation::None),
            Role::Operator | Role::Person => Err(PrincipalError::UnexpectedOrganisation {
                role,
                found: excerpt(text),
            }),
            Role::Representative => Err(PrincipalError::RoleWithoutCertificate { role }),
            _ if text == "-" => Err(PrincipalError::MissingOrganisation { role }),
            Role::Municipality => id(MunicipalityCode::parse(text).map(Organisation::Municipality)),
            Role::CareManagement | Role::CareService | Role::Facility => {
                id(CareOfficeNumber::parse(text).map(Organisation::CareOffice))
            }
            Role::MedicalInstitution => {
                id(MedicalInstitutionCode::parse(text).map(Organisation::MedicalInstitution))
            }
        }
    }

    /// Whether this organisation is the kind `role` requires.
    pub fn fits(&self, role: Role) -> bool {
        matches!(
            (role, self),
            (Role::Operator | Role::Person, Organisation::None)
                | (Role::Municipality, Organisation::Municipality(_))
                | (
                    Role::CareManagement | Role::CareService | Role::Facility,
                    Organisation::CareOffice(_)
                )
                | (
                    Role::MedicalInstitution,
                    Organisation::MedicalInstitution(_)
                )
        )
    }
}

impl fmt::Display for Organisation {
    /// The organisation field of the URI: the number, or `-`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Organisation::Municipality(code) => code.fmt(f),
            Organisation::CareOffice(number) => number.fmt(f),
            Organisation::MedicalInstitution(code) => code.fmt(f),
            Organisation::None => f.write_str("-"),
        }
    }
}

/// A terminal (device) id: 1–32 of `A-Z a-z 0-9 - . _`, starting with a letter or digit.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TerminalId(String);

impl TerminalId {
    /// Validates a terminal id.
    pub fn parse(text: &str) -> Result<TerminalId, PrincipalError> {
        let found = text.chars().count();
        if found == 0 || found > TERMINAL_MAX_LEN {
            return Err(PrincipalError::TerminalLength { found });
        }
        for (idx, ch) in text.chars().enumerate() {
            let ok = ch.is_ascii_alphanumeric() || (idx > 0 && matches!(ch, '-' | '.' | '_'));
            if !ok {
                return Err(PrincipalError::TerminalCharacter {
                    position: idx + 1,
                    found: ch,
                });
            }
        }
        Ok(TerminalId(text.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TerminalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for TerminalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TerminalId({})", self.0)
    }
}

impl FromStr for TerminalId {
    type Err = PrincipalError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TerminalId::parse(s)
    }
}

/// Who a client certificate speaks for: a role, its organisation and one terminal.
///
/// Built only through [`Principal::new`] or parsing, so the organisation always fits the
/// role and the role always gets certificates.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Principal {
    role: Role,
    organisation: Organisation,
    terminal: TerminalId,
}

impl Principal {
    /// A principal, if `organisation` is the kind `role` requires and the role gets client
    /// certificates.
    pub fn new(
        role: Role,
        organisation: Organisation,
        terminal: TerminalId,
    ) -> Result<Principal, PrincipalError> {
        if role == Role::Representative {
            return Err(PrincipalError::RoleWithoutCertificate { role });
        }
        // A number of another kind is re-read as the role's kind: either it is also valid
        // as that kind (a deemed office uses its 医療機関コード as office number) or the
        // re-parse yields the precise error.
        let organisation = if organisation.fits(role) {
            organisation
        } else {
            Organisation::parse_for(role, &organisation.to_string())?
        };
        Ok(Principal {
            role,
            organisation,
            terminal,
        })
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The organisation.
    pub fn organisation(&self) -> &Organisation {
        &self.organisation
    }

    /// The terminal id.
    pub fn terminal(&self) -> &TerminalId {
        &self.terminal
    }

    /// The SAN URI, e.g. `urn:kiban:principal:v1:care-service:2875104529:pc-01`.
    pub fn to_uri(&self) -> String {
        self.to_string()
    }

    /// A file-name stem naming the principal: `<role>-<organisation>-<terminal>`
    /// (`<role>-<terminal>` for the operator). All characters are in `A-Z a-z 0-9 - . _`.
    pub fn file_stem(&self) -> String {
        match self.organisation {
            Organisation::None => format!("{}-{}", self.role, self.terminal),
            org => format!("{}-{}-{}", self.role, org, self.terminal),
        }
    }

    /// Parses a principal URI (the grammar is in the module docs).
    pub fn parse_uri(text: &str) -> Result<Principal, PrincipalError> {
        let Some(rest) = text.strip_prefix(PRINCIPAL_URI_PREFIX) else {
            return Err(PrincipalError::WrongPrefix {
                found: excerpt(text),
            });
        };
        let fields: Vec<&str> = rest.split(':').collect();
        if fields[0] != PRINCIPAL_URI_VERSION {
            return Err(PrincipalError::UnsupportedVersion {
                found: excerpt(fields[0]),
            });
        }
        let [_, role, organisation, terminal] = fields[..] else {
            return Err(PrincipalError::FieldCount {
                found: fields.len(),
            });
        };
        let role: Role = role.parse().map_err(|_| PrincipalError::UnknownRole {
            found: excerpt(role),
        })?;
        let organisation = Organisation::parse_for(role, organisation)?;
        let terminal = TerminalId::parse(terminal)?;
        Principal::new(role, organisation, terminal)
    }

    /// Reads the principal of a DER certificate; see [`ClientIdentity::from_der`].
    pub fn from_der(der: &[u8]) -> Result<Principal, PrincipalError> {
        ClientIdentity::from_der(der).map(|id| id.principal)
    }
}

impl fmt::Display for Principal {
    /// The principal URI.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{PRINCIPAL_URI_PREFIX}{PRINCIPAL_URI_VERSION}:{}:{}:{}",
            self.role, self.organisation, self.terminal
        )
    }
}

impl FromStr for Principal {
    type Err = PrincipalError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Principal::parse_uri(s)
    }
}

/// What a presented client certificate says: the principal, and the serial and validity
/// the server needs for the per-request revocation check and expiry warnings.
///
/// This reads the certificate only; it does not check signatures, the chain, the validity
/// period or revocation (the TLS verifier does, before this is called).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    /// Who the certificate speaks for.
    pub principal: Principal,
    /// Its serial number.
    pub serial: Serial,
    /// Start of validity.
    pub not_before: Timestamp,
    /// End of validity.
    pub not_after: Timestamp,
}

impl ClientIdentity {
    /// The one parser of a presented certificate (DER) into a principal.
    ///
    /// Exactly one SAN URI may start with `urn:kiban:principal:` (compared ignoring ASCII
    /// case, so a wrongly cased prefix is reported as [`PrincipalError::WrongPrefix`] rather
    /// than ignored); other SAN entries are ignored.
    pub fn from_der(der: &[u8]) -> Result<ClientIdentity, PrincipalError> {
        let (rest, cert) =
            X509Certificate::from_der(der).map_err(|e| PrincipalError::NotDer(e.to_string()))?;
        if !rest.is_empty() {
            return Err(PrincipalError::TrailingBytes(rest.len()));
        }
        let principal = principal_of(&cert)?;
        let serial = Serial::from_be_bytes(cert.raw_serial())
            .map_err(|e| PrincipalError::NotDer(format!("serial number: {e}")))?;
        let validity = cert.validity();
        Ok(ClientIdentity {
            principal,
            serial,
            not_before: Timestamp::from_unix_seconds(validity.not_before.timestamp()),
            not_after: Timestamp::from_unix_seconds(validity.not_after.timestamp()),
        })
    }
}

/// Finds and parses the single principal URI of a parsed certificate.
fn principal_of(cert: &X509Certificate<'_>) -> Result<Principal, PrincipalError> {
    let san = cert
        .subject_alternative_name()
        .map_err(|e| PrincipalError::SubjectAltName(e.to_string()))?
        .ok_or(PrincipalError::NoPrincipalUri)?;
    let mut found = Vec::new();
    for name in &san.value.general_names {
        match name {
            GeneralName::URI(uri) if is_principal_uri(uri) => found.push(*uri),
            // Tag [6] is uniformResourceIdentifier: an unreadable URI may be the principal.
            GeneralName::Invalid(tag, _) if tag.0 == 6 => {
                return Err(PrincipalError::SubjectAltName(
                    "a URI entry is not valid text".to_owned(),
                ));
            }
            _ => {}
        }
    }
    match found[..] {
        [] => Err(PrincipalError::NoPrincipalUri),
        [uri] => Principal::parse_uri(uri),
        _ => Err(PrincipalError::SeveralPrincipalUris { count: found.len() }),
    }
}

fn is_principal_uri(uri: &str) -> bool {
    uri.get(..PRINCIPAL_URI_PREFIX.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(PRINCIPAL_URI_PREFIX))
}

/// At most [`EXCERPT_CHARS`] characters of untrusted text, marked when cut.
fn excerpt(text: &str) -> String {
    let mut out: String = text.chars().take(EXCERPT_CHARS).collect();
    if text.chars().nth(EXCERPT_CHARS).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFICE: &str = "2875104529";

    fn parse(s: &str) -> Result<Principal, PrincipalError> {
        s.parse()
    }

    #[test]
    fn uri_round_trips_for_each_role() {
        for uri in [
            "urn:kiban:principal:v1:care-service:2875104529:pc-01",
            "urn:kiban:principal:v1:care-management:13A0100019:T.2_x",
            "urn:kiban:principal:v1:facility:2875104529:a",
            "urn:kiban:principal:v1:municipality:141003:desk7",
            "urn:kiban:principal:v1:medical-institution:0110113719:RECEPT",
            "urn:kiban:principal:v1:operator:-:ops1",
        ] {
            let p = parse(uri).unwrap();
            assert_eq!(p.to_uri(), uri);
        }
    }

    #[test]
    fn malformed_uris_give_the_precise_error() {
        use PrincipalError as E;
        type Check = fn(&PrincipalError) -> bool;
        let cases: &[(&str, Check)] = &[
            ("urn:kiban:principle:v1:x", |e| {
                matches!(e, E::WrongPrefix { .. })
            }),
            ("URN:KIBAN:principal:v1:operator:-:a", |e| {
                matches!(e, E::WrongPrefix { .. })
            }),
            ("urn:kiban:principal:v2:operator:-:a", |e| {
                matches!(e, E::UnsupportedVersion { .. })
            }),
            ("urn:kiban:principal:v1:operator:-", |e| {
                matches!(e, E::FieldCount { found: 3 })
            }),
            ("urn:kiban:principal:v1:operator:-:a:b", |e| {
                matches!(e, E::FieldCount { found: 5 })
            }),
            ("urn:kiban:principal:v1:doctor:-:a", |e| {
                matches!(e, E::UnknownRole { .. })
            }),
            ("urn:kiban:principal:v1:representative:-:a", |e| {
                matches!(
                    e,
                    E::RoleWithoutCertificate {
                        role: Role::Representative
                    }
                )
            }),
            ("urn:kiban:principal:v1:person:131016:a", |e| {
                matches!(
                    e,
                    E::UnexpectedOrganisation {
                        role: Role::Person,
                        ..
                    }
                )
            }),
            ("urn:kiban:principal:v1:care-service:2875104528:a", |e| {
                matches!(
                    e,
                    E::Organisation {
                        source: IdError::CheckDigit { .. },
                        ..
                    }
                )
            }),
            ("urn:kiban:principal:v1:municipality:2875104529:a", |e| {
                matches!(
                    e,
                    E::Organisation {
                        source: IdError::Length { .. },
                        ..
                    }
                )
            }),
            ("urn:kiban:principal:v1:facility:-:a", |e| {
                matches!(e, E::MissingOrganisation { .. })
            }),
            ("urn:kiban:principal:v1:operator:141003:a", |e| {
                matches!(e, E::UnexpectedOrganisation { .. })
            }),
            ("urn:kiban:principal:v1:operator:-:", |e| {
                matches!(e, E::TerminalLength { found: 0 })
            }),
            ("urn:kiban:principal:v1:operator:-:-a", |e| {
                matches!(
                    e,
                    E::TerminalCharacter {
                        position: 1,
                        found: '-'
                    }
                )
            }),
            ("urn:kiban:principal:v1:operator:-:a b", |e| {
                matches!(
                    e,
                    E::TerminalCharacter {
                        position: 2,
                        found: ' '
                    }
                )
            }),
            ("urn:kiban:principal:v1:operator:-:端末", |e| {
                matches!(
                    e,
                    E::TerminalCharacter {
                        position: 1,
                        found: '端'
                    }
                )
            }),
        ];
        for (text, expected) in cases {
            let err = parse(text).unwrap_err();
            assert!(expected(&err), "{text}: got {err:?}");
        }
        let long = format!("urn:kiban:principal:v1:operator:-:{}", "a".repeat(33));
        assert_eq!(
            parse(&long).unwrap_err(),
            PrincipalError::TerminalLength { found: 33 }
        );
    }

    #[test]
    fn organisation_must_fit_the_role() {
        let office = Organisation::CareOffice(OFFICE.parse().unwrap());
        let t = TerminalId::parse("t1").unwrap();
        assert!(Principal::new(Role::CareService, office, t.clone()).is_ok());
        assert!(matches!(
            Principal::new(Role::Operator, office, t.clone()),
            Err(PrincipalError::UnexpectedOrganisation { .. })
        ));
        assert!(matches!(
            Principal::new(Role::Municipality, office, t.clone()),
            Err(PrincipalError::Organisation { .. })
        ));
        assert!(matches!(
            Principal::new(Role::Facility, Organisation::None, t),
            Err(PrincipalError::MissingOrganisation { .. })
        ));
    }

    #[test]
    fn errors_quote_little_untrusted_text_and_are_lowercase() {
        let err = parse(&format!("x{}", "y".repeat(500))).unwrap_err();
        let text = err.to_string();
        assert!(text.len() < 120, "{text}");
        assert!(text.starts_with(char::is_lowercase));
        assert!(!text.ends_with('.'));
    }

    #[test]
    fn file_stem_names_role_organisation_and_terminal() {
        let p = parse("urn:kiban:principal:v1:care-service:2875104529:pc-01").unwrap();
        assert_eq!(p.file_stem(), "care-service-2875104529-pc-01");
        let op = parse("urn:kiban:principal:v1:operator:-:ops").unwrap();
        assert_eq!(op.file_stem(), "operator-ops");
    }

    #[test]
    fn garbage_der_is_not_der() {
        assert!(matches!(
            Principal::from_der(b"not a certificate"),
            Err(PrincipalError::NotDer(_))
        ));
        assert!(matches!(
            Principal::from_der(&[]),
            Err(PrincipalError::NotDer(_))
        ));
    }
}
