//! Deliberately wrong client certificates, made on the fly for negative tests (never
//! committed). Each [`Defect`] is one reason the platform must refuse a client; the
//! "revoked" case is a correct certificate revoked through a CRL, so it is not here.

use std::fmt;

use kiban_core::time::Timestamp;

use crate::pki::{
    ClientCredentials, ClientEku, ClientSpec, IssuedCertificate, OperatorPki, PkiError, PkiOptions,
    Validity,
};
use crate::principal::Principal;

/// One way a client certificate is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Defect {
    /// Validity ended yesterday.
    Expired,
    /// Validity starts tomorrow.
    NotYetValid,
    /// Issued by a look-alike PKI: same names as the operator's, different keys.
    UnknownCa,
    /// Extended key usage id-kp-serverAuth only (no clientAuth).
    ServerAuthOnlyEku,
    /// No principal URI in the subject alternative names.
    NoPrincipal,
    /// A principal URI whose care-office number has a wrong check digit.
    MalformedPrincipal,
    /// Two principal URIs: the certificate is ambiguous.
    SeveralPrincipals,
}

impl Defect {
    /// Every defect.
    pub const ALL: [Defect; 7] = [
        Defect::Expired,
        Defect::NotYetValid,
        Defect::UnknownCa,
        Defect::ServerAuthOnlyEku,
        Defect::NoPrincipal,
        Defect::MalformedPrincipal,
        Defect::SeveralPrincipals,
    ];

    /// The stable kebab-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Defect::Expired => "expired",
            Defect::NotYetValid => "not-yet-valid",
            Defect::UnknownCa => "unknown-ca",
            Defect::ServerAuthOnlyEku => "server-auth-only-eku",
            Defect::NoPrincipal => "no-principal",
            Defect::MalformedPrincipal => "malformed-principal",
            Defect::SeveralPrincipals => "several-principals",
        }
    }
}

impl fmt::Display for Defect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A defective certificate and what a client presents with it.
#[derive(Debug, Clone)]
pub struct DefectiveClient {
    /// The defect.
    pub defect: Defect,
    /// The certificate and key.
    pub issued: IssuedCertificate,
    /// Chain (leaf and its issuer) and key, ready for a TLS client.
    pub credentials: ClientCredentials,
}

/// Issues a client certificate for `principal` from `pki` with `defect`, as seen at `now`.
pub fn defective_client(
    pki: &OperatorPki,
    principal: &Principal,
    defect: Defect,
    now: Timestamp,
) -> Result<DefectiveClient, PkiError> {
    let mut spec = ClientSpec::for_principal(principal, Validity::days_from(now, 30));
    match defect {
        Defect::Expired => {
            spec.validity = Validity::new(now.plus_days(-30), now.plus_days(-1))?;
        }
        Defect::NotYetValid => {
            spec.validity = Validity::new(now.plus_days(1), now.plus_days(30))?;
        }
        Defect::UnknownCa => {
            let options = PkiOptions {
                algorithm: pki.algorithm(),
                ..PkiOptions::default()
            };
            let rogue = OperatorPki::generate(&options, now)?;
            let issued = rogue.issue_client_spec(&spec)?;
            return Ok(DefectiveClient {
                defect,
                credentials: rogue.client_credentials(&issued),
                issued,
            });
        }
        Defect::ServerAuthOnlyEku => spec.eku = ClientEku::ServerAuthOnly,
        Defect::NoPrincipal => spec.san_uris = vec!["https://care-office.example/".to_owned()],
        Defect::MalformedPrincipal => {
            spec.san_uris = vec!["urn:kiban:principal:v1:care-service:2875104528:pc-01".to_owned()];
        }
        Defect::SeveralPrincipals => {
            spec.san_uris
                .push("urn:kiban:principal:v1:operator:-:second".to_owned());
        }
    }
    let issued = pki.issue_client_spec(&spec)?;
    Ok(DefectiveClient {
        defect,
        credentials: pki.client_credentials(&issued),
        issued,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principal::{ClientIdentity, PrincipalError};

    #[test]
    fn principal_defects_fail_parsing_and_the_others_parse() {
        let now = Timestamp::from_unix_seconds(1_775_000_000);
        let pki = OperatorPki::generate(&PkiOptions::default(), now).unwrap();
        let p: Principal = "urn:kiban:principal:v1:facility:2875104529:t1"
            .parse()
            .unwrap();
        for defect in Defect::ALL {
            let bad = defective_client(&pki, &p, defect, now).unwrap();
            let parsed = ClientIdentity::from_der(bad.issued.der());
            match defect {
                Defect::NoPrincipal => {
                    assert_eq!(parsed.unwrap_err(), PrincipalError::NoPrincipalUri)
                }
                Defect::MalformedPrincipal => {
                    assert!(matches!(parsed, Err(PrincipalError::Organisation { .. })))
                }
                Defect::SeveralPrincipals => assert_eq!(
                    parsed.unwrap_err(),
                    PrincipalError::SeveralPrincipalUris { count: 2 }
                ),
                _ => assert_eq!(parsed.unwrap().principal, p, "{defect}"),
            }
        }
    }
}
