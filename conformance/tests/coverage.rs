//! The coverage check: every requirement of the catalogue has a case or an observe-mode check,
//! every case and check cites known requirements, ids are stable in shape and unique, and the
//! suite has at least 60 cases. The check itself can fail (a catalogue with an extra
//! requirement is reported untested).

use std::collections::BTreeSet;

use kiban_conformance::catalogue::{Catalogue, CatalogueError, coverage};
use kiban_conformance::{Area, cases};

#[test]
fn every_requirement_is_tested_and_every_case_cites_known_requirements() {
    let catalogue = Catalogue::shipped();
    assert!(
        catalogue.requirements().len() >= 50,
        "{}",
        catalogue.requirements().len()
    );
    let report = coverage(&catalogue);
    assert!(report.is_complete(), "{report:#?}");
}

#[test]
fn the_suite_has_at_least_sixty_cases_with_unique_well_formed_ids() {
    let all = cases::all();
    assert!(all.len() >= 60, "{} cases", all.len());
    let ids: BTreeSet<&str> = all.iter().map(|c| c.id).collect();
    assert_eq!(ids.len(), all.len(), "case ids are unique");
    for case in &all {
        let (prefix, number) = case.id.split_once('-').expect("AREA-nn");
        assert!(
            prefix.len() == 3 && prefix.bytes().all(|b| b.is_ascii_uppercase()),
            "{}",
            case.id
        );
        assert!(
            number.len() == 2 && number.bytes().all(|b| b.is_ascii_digit()),
            "{}",
            case.id
        );
        assert!(!case.title.is_empty());
    }
    let mut areas: BTreeSet<Area> = all.iter().map(|c| c.area).collect();
    assert_eq!(
        areas.len(),
        Area::ALL.len() - 1,
        "every area but the observe script's has cases"
    );
    areas.extend(
        kiban_conformance::observe::checks::CHECKS
            .iter()
            .map(|c| c.area),
    );
    areas.insert(Area::Script);
    assert_eq!(areas.len(), Area::ALL.len());
    assert!(
        all.windows(2).all(|w| w[0].id < w[1].id),
        "all() is ordered by id"
    );
}

#[test]
fn a_requirement_without_a_case_is_reported() {
    let mut text = kiban_conformance::catalogue::REQUIREMENTS_TOML.to_owned();
    text.push_str("\n[KIBAN-XYZ-999]\narea = \"errors\"\nrule = \"An untested rule.\"\nsource = \"a test\"\nbinds = [\"platform\"]\n");
    let catalogue = Catalogue::parse(&text).unwrap();
    let report = coverage(&catalogue);
    assert_eq!(report.untested, ["KIBAN-XYZ-999"]);
    assert!(!report.is_complete());
}

#[test]
fn a_case_citing_an_unknown_requirement_is_reported() {
    let text = kiban_conformance::catalogue::REQUIREMENTS_TOML
        .replace("[KIBAN-TLS-001]", "[KIBAN-TLS-901]");
    let report = coverage(&Catalogue::parse(&text).unwrap());
    assert!(
        report
            .unknown
            .iter()
            .any(|(case, id)| case == "TLS-01" && id == "KIBAN-TLS-001"),
        "{report:?}"
    );
    assert_eq!(report.untested, ["KIBAN-TLS-901"]);
}

#[test]
fn malformed_catalogues_are_refused() {
    assert!(matches!(
        Catalogue::parse(
            "[TLS-1]\narea = \"tls\"\nrule = \"r\"\nsource = \"s\"\nbinds = [\"platform\"]\n"
        ),
        Err(CatalogueError::BadId(_))
    ));
    assert!(matches!(
        Catalogue::parse(
            "[KIBAN-TLS-001]\narea = \"tls\"\nrule = \"r\"\nsource = \"s\"\nbinds = [\"platform\"]\ncolour = 1\n"
        ),
        Err(CatalogueError::Toml(_))
    ));
    assert!(matches!(
        Catalogue::parse(
            "[KIBAN-TLS-001]\narea = \"tls\"\nrule = \"r\"\nsource = \"s\"\nbinds = []\n"
        ),
        Err(CatalogueError::Incomplete(_))
    ));
}

#[test]
fn every_ledgered_deviation_names_a_case_and_a_reason() {
    let ids: BTreeSet<&str> = cases::all().iter().map(|c| c.id).collect();
    for (id, reason) in kiban_conformance::reference_deviations() {
        assert!(ids.contains(id.as_str()), "{id} is not a case");
        assert!(reason.len() > 40, "{id}: say why");
    }
}

#[test]
fn observe_checks_have_unique_ids_and_cite_requirements_binding_vendor_software() {
    use kiban_conformance::catalogue::Actor;
    let catalogue = Catalogue::shipped();
    let checks = kiban_conformance::observe::checks::CHECKS;
    let ids: BTreeSet<&str> = checks.iter().map(|c| c.id).collect();
    assert_eq!(ids.len(), checks.len());
    assert!(
        checks.windows(2).all(|w| w[0].id < w[1].id),
        "ordered by id"
    );
    for check in checks {
        assert!(check.id.starts_with("OBS-"), "{}", check.id);
        assert!(!check.requirements.is_empty(), "{}", check.id);
        for id in check.requirements {
            let req = catalogue.get(id).unwrap_or_else(|| panic!("{id}"));
            assert!(
                req.binds.iter().any(|a| *a != Actor::Platform),
                "{}: {id} binds no vendor software",
                check.id
            );
        }
    }
    // Removing a requirement only an observe check cites is reported.
    let text = kiban_conformance::catalogue::REQUIREMENTS_TOML
        .replace("[KIBAN-ERR-008]", "[KIBAN-ERR-908]");
    let report = coverage(&Catalogue::parse(&text).unwrap());
    assert!(
        report
            .unknown
            .contains(&("OBS-ERR-04".to_owned(), "KIBAN-ERR-008".to_owned()))
    );
    assert_eq!(report.untested, ["KIBAN-ERR-908"]);
}
