//! Property tests of the principal: URI and certificate round trips, typed errors for
//! malformed input, no panics on arbitrary bytes.

use kiban_certs::pki::Validity;
use kiban_certs::principal::{ClientIdentity, Organisation, Principal, PrincipalError, TerminalId};
use kiban_core::id::{CareOfficeNumber, MedicalInstitutionCode, MunicipalityCode};
use kiban_core::vocab::Role;
use proptest::prelude::*;
use rand::SeedableRng;

use crate::support::{NOW, fixture};

const CERT_ROLES: [Role; 6] = [
    Role::Municipality,
    Role::CareManagement,
    Role::CareService,
    Role::Facility,
    Role::MedicalInstitution,
    Role::Operator,
];

fn organisation_for(role: Role, seed: u64) -> Organisation {
    let rng = &mut rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    match role {
        Role::Municipality => Organisation::Municipality(MunicipalityCode::random(rng)),
        Role::MedicalInstitution => {
            Organisation::MedicalInstitution(MedicalInstitutionCode::random(rng))
        }
        Role::Operator => Organisation::None,
        _ => Organisation::CareOffice(CareOfficeNumber::random(rng)),
    }
}

fn terminal() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9._-]{0,31}"
}

fn principal() -> impl Strategy<Value = Principal> {
    (0..CERT_ROLES.len(), any::<u64>(), terminal()).prop_map(|(r, seed, t)| {
        let role = CERT_ROLES[r];
        Principal::new(
            role,
            organisation_for(role, seed),
            TerminalId::parse(&t).unwrap(),
        )
        .unwrap()
    })
}

proptest! {
    #[test]
    fn uri_format_then_parse_is_identity(p in principal()) {
        let uri = p.to_uri();
        prop_assert!(uri.len() <= 86);
        prop_assert_eq!(uri.parse::<Principal>()?, p);
    }

    #[test]
    fn any_accepted_text_is_already_canonical(
        p in principal(),
        idx in any::<prop::sample::Index>(),
        ch in prop::sample::select(vec![' ', 'A', 'a', '0', '-', ':', '.', '\t', 'Z']),
    ) {
        // Insert one character anywhere in a valid URI: whatever the parser still accepts
        // must format back to exactly that text (no trimming, case folding or aliases).
        let mut text = p.to_uri();
        let at = idx.index(text.len() + 1);
        text.insert(at, ch);
        if let Ok(q) = text.parse::<Principal>() {
            prop_assert_eq!(q.to_uri(), text);
        }
    }

    #[test]
    fn arbitrary_text_never_panics_and_errors_are_bounded(s in any::<String>()) {
        if let Err(e) = s.parse::<Principal>() {
            prop_assert!(e.to_string().chars().count() < 220);
        }
    }

    #[test]
    fn terminal_with_a_forbidden_character_names_its_position(
        p in principal(),
        at in 0usize..32,
        bad in prop::sample::select(vec![' ', ':', '/', '%', '\n', 'é', '端', '\u{0}']),
    ) {
        let t = p.terminal().as_str();
        let at = at.min(t.len());
        let corrupted = format!("{}{bad}{}", &t[..at], &t[at..]);
        let uri = format!("urn:kiban:principal:v1:{}:{}:{corrupted}", p.role(), p.organisation());
        let err = uri.parse::<Principal>().unwrap_err();
        if bad == ':' {
            prop_assert_eq!(err, PrincipalError::FieldCount { found: 5 });
        } else if corrupted.chars().count() > 32 {
            prop_assert_eq!(err, PrincipalError::TerminalLength { found: corrupted.chars().count() });
        } else {
            prop_assert_eq!(err, PrincipalError::TerminalCharacter { position: at + 1, found: bad });
        }
    }

    #[test]
    fn unknown_roles_and_versions_are_typed(word in "[a-z]{1,12}", version in "v[0-9]{1,3}") {
        let role_uri = format!("urn:kiban:principal:v1:{word}:-:t");
        if word.parse::<Role>().is_err() {
            let is_unknown_role = matches!(role_uri.parse::<Principal>(), Err(PrincipalError::UnknownRole { .. }));
            prop_assert!(is_unknown_role);
        }
        let version_uri = format!("urn:kiban:principal:{version}:operator:-:t");
        if version != "v1" {
            let is_unsupported = matches!(version_uri.parse::<Principal>(), Err(PrincipalError::UnsupportedVersion { .. }));
            prop_assert!(is_unsupported);
        }
    }

    #[test]
    fn a_mistyped_organisation_carries_the_id_error(p in principal(), pos in 0usize..10, digit in 0u8..10) {
        prop_assume!(p.role() != Role::Operator);
        let org = p.organisation().to_string();
        let pos = pos % org.len();
        let mut bytes = org.clone().into_bytes();
        bytes[pos] = b'0' + digit;
        let typo = String::from_utf8(bytes).unwrap();
        prop_assume!(typo != org);
        let uri = format!("urn:kiban:principal:v1:{}:{typo}:{}", p.role(), p.terminal());
        // A substitution is either caught with the identifier's own error or, for the
        // mod-11 and Luhn blind spots, yields another valid number.
        match uri.parse::<Principal>() {
            Ok(other) => prop_assert_ne!(other.organisation(), p.organisation()),
            Err(PrincipalError::Organisation { role, .. }) => prop_assert_eq!(role, p.role()),
            Err(e) => prop_assert!(false, "unexpected error {e:?}"),
        }
    }

    #[test]
    fn arbitrary_bytes_are_never_a_principal_and_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        prop_assert!(ClientIdentity::from_der(&bytes).is_err());
    }
}

proptest! {
    // Each case signs a certificate: fewer cases keep the suite quick on two cores.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn issued_certificate_parses_back_to_its_principal(p in principal(), days in 1u32..4000) {
        let f = fixture();
        let issued = f.pki.issue_client(&p, Validity::days_from(NOW, days)).unwrap();
        let id = ClientIdentity::from_der(issued.der())?;
        prop_assert_eq!(id.principal, p);
        prop_assert_eq!(&id.serial, issued.serial());
        prop_assert_eq!(id.not_after, NOW.plus_days(days.into()));
    }

    #[test]
    fn corrupted_certificates_never_panic(idx in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let f = fixture();
        let mut der = f.client.der().to_vec();
        let at = idx.index(der.len());
        der[at] = byte;
        // Parsing reads structure only: a flipped signature byte still parses, anything
        // else parses or gives a typed error.
        let _ = ClientIdentity::from_der(&der);
        let mut longer = f.client.der().to_vec();
        longer.push(byte);
        prop_assert_eq!(ClientIdentity::from_der(&longer), Err(PrincipalError::TrailingBytes(1)));
    }
}
