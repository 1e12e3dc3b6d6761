//! Rules for installing a CRL into the platform's verifier: only the client-issuing CA's
//! CRLs, never an older one.

use kiban_certs::pki::{OperatorPki, PkiOptions, Revocation, RevocationReason};
use kiban_certs::tls::TlsError;

use crate::support::{NOW, fixture};

#[test]
fn a_crl_older_than_the_installed_one_is_rejected_and_changes_nothing() {
    let f = fixture();
    let revoked = [Revocation {
        serial: f.client.serial().clone(),
        revoked_at: NOW,
        reason: RevocationReason::KeyCompromise,
    }];
    let verifier = f.verifier(&f.crl(5, &revoked));
    let err = verifier.install_crl(&f.crl(4, &[])).unwrap_err();
    assert!(
        matches!(err, TlsError::Crl(ref m) if m.contains("older")),
        "{err}"
    );
    assert!(verifier.is_revoked(f.client.serial()));
    assert_eq!(verifier.crl_status().number, 5);
    // The same number again is an idempotent reload.
    verifier.install_crl(&f.crl(5, &revoked)).unwrap();
}

#[test]
fn a_crl_signed_by_another_ca_is_rejected() {
    let f = fixture();
    let verifier = f.verifier(&f.crl(1, &[]));
    let rogue = OperatorPki::generate(&PkiOptions::default(), NOW).unwrap();
    let forged = rogue.client_crl(&[], 9, NOW, NOW.plus_days(7)).unwrap();
    let err = verifier.install_crl(forged.der()).unwrap_err();
    assert!(
        matches!(err, TlsError::Crl(ref m) if m.contains("not signed")),
        "{err}"
    );
    assert_eq!(verifier.crl_status().number, 1);
}

#[test]
fn garbage_is_not_a_crl() {
    let f = fixture();
    let verifier = f.verifier(&f.crl(1, &[]));
    let err = verifier
        .install_crl(&b"not a crl".to_vec().into())
        .unwrap_err();
    assert!(matches!(err, TlsError::Crl(_)));
}
