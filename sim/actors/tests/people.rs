//! Synthetic people: the same seed gives the same people, every identifier validates, the
//! shares follow the configuration, names are MS932 with katakana readings, and the My
//! Number never appears in anything serialised or printed.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use kiban_actors::names::{NameBook, Sex, is_katakana};
use kiban_actors::people::{InsuredCategory, PeopleConfig, Person, RepresentativeKind, generate};
use kiban_core::geo::Municipalities;
use kiban_core::id::{InsuredNumber, InsurerNumber, MunicipalityCode, MyNumber};
use kiban_core::time::Date;
use kiban_core::vocab::CopayRatio;
use kiban_platform::careplan::encode_ms932;
use proptest::prelude::*;

fn as_of() -> Date {
    "2026-10-01".parse().unwrap()
}

fn people(seed: u64, count: usize) -> Vec<Person> {
    generate(seed, count, PeopleConfig::standard(as_of())).unwrap()
}

/// Everything about a person, My Number included, for equality across runs.
fn fingerprint(p: &Person) -> String {
    format!("{:?} {}", p, p.my_number().expose())
}

#[test]
fn the_same_seed_gives_the_same_people() {
    let a = people(42, 500);
    let b = people(42, 500);
    assert_eq!(a, b);
    let fa: Vec<String> = a.iter().map(fingerprint).collect();
    let fb: Vec<String> = b.iter().map(fingerprint).collect();
    assert_eq!(fa, fb, "My Numbers and PINs too");
    assert_eq!(
        a.iter().map(|p| p.pin()).collect::<Vec<_>>(),
        b.iter().map(|p| p.pin()).collect::<Vec<_>>()
    );
    assert_eq!(&people(42, 20)[..], &a[..20], "a prefix is stable");
}

#[test]
fn another_seed_gives_other_people() {
    let a = people(42, 50);
    let b = people(43, 50);
    let same = a
        .iter()
        .zip(&b)
        .filter(|(x, y)| x.my_number() == y.my_number() || x.insured == y.insured)
        .count();
    assert_eq!(same, 0);
    assert_ne!(
        a.iter().map(|p| &p.name).collect::<Vec<_>>(),
        b.iter().map(|p| &p.name).collect::<Vec<_>>()
    );
}

fn check_person(p: &Person, geo: &Municipalities) {
    assert_eq!(
        MyNumber::parse(p.my_number().expose()).as_ref(),
        Ok(p.my_number())
    );
    assert_eq!(InsuredNumber::parse(p.insured.as_str()), Ok(p.insured));
    assert_eq!(InsurerNumber::parse(p.insurer.as_str()), Ok(p.insurer));
    assert_eq!(
        MunicipalityCode::parse(p.municipality.as_str()),
        Ok(p.municipality)
    );
    assert_eq!(p.insurer, InsurerNumber::for_municipality(p.municipality));
    let m = geo.get(p.municipality).expect("a real municipality");
    assert!(m.population_2020 > 0);
    let age = p.age_on(as_of());
    match p.category {
        InsuredCategory::First => assert!((65..=104).contains(&age), "{age}"),
        InsuredCategory::Second => {
            assert!((40..=64).contains(&age), "{age}");
            assert_eq!(p.copay, CopayRatio::Ten, "第2号 is always 1割");
        }
    }
    assert!(p.care_level.is_certified());
    assert_eq!(p.pin().is_some(), p.holds_card);
    assert_eq!(p.card_request().is_some(), p.holds_card);
    for part in [&p.name.family, &p.name.given] {
        assert!(is_katakana(&part.reading), "{part:?}");
    }
}

#[test]
fn every_identifier_validates_and_is_unique() {
    let geo = Municipalities::embedded();
    let population = people(7, 3_000);
    let mut my_numbers = BTreeSet::new();
    let mut insured = BTreeSet::new();
    for p in &population {
        check_person(p, &geo);
        assert!(my_numbers.insert(*p.my_number()));
        assert!(insured.insert((p.insurer, p.insured)));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_seed_gives_valid_reproducible_people(seed in any::<u64>()) {
        let geo = Municipalities::embedded();
        let a = people(seed, 25);
        for p in &a {
            check_person(p, &geo);
        }
        prop_assert_eq!(a, people(seed, 25));
    }
}

#[test]
fn shares_follow_the_configuration() {
    let population = people(1, 20_000);
    let n = population.len() as f64;
    let share = |f: &dyn Fn(&Person) -> bool| population.iter().filter(|p| f(p)).count() as f64 / n;
    let config = PeopleConfig::standard(as_of());
    let near = |observed: f64, expected: f64, what: &str| {
        assert!(
            (observed - expected).abs() < 0.015,
            "{what}: {observed:.3} vs {expected:.3}"
        );
    };
    near(
        share(&|p| p.category == InsuredCategory::Second),
        config.second_category_share,
        "second category",
    );
    near(
        share(&|p| p.sex == Sex::Female),
        config.female_share,
        "women",
    );
    near(
        share(&|p| p.holds_card),
        config.card_holding_rate,
        "card holders",
    );
    near(
        share(&|p| p.representative.is_some()),
        config.representative_rate,
        "representatives",
    );
    let guardians = share(&|p| {
        p.representative
            .as_ref()
            .is_some_and(|r| r.kind == RepresentativeKind::Guardian)
    });
    near(
        guardians,
        config.representative_rate * config.guardian_share,
        "guardians",
    );
    let geo = Municipalities::embedded();
    let tokyo = share(&|p| geo.get(p.municipality).unwrap().prefecture == "東京都");
    let expected: u64 = geo
        .iter()
        .filter(|m| m.prefecture == "東京都")
        .map(|m| u64::from(m.population_2020))
        .sum();
    near(
        tokyo,
        expected as f64 / geo.total_population() as f64,
        "東京都 residents",
    );
}

#[test]
fn family_representatives_share_the_surname() {
    for p in people(3, 2_000) {
        if let Some(r) = &p.representative {
            if r.kind != RepresentativeKind::Guardian {
                assert_eq!(r.name.family, p.name.family);
            }
            assert!(is_katakana(&r.name.given.reading));
        }
    }
}

#[test]
fn representatives_get_reproducible_valid_cards_of_their_own() {
    let config = PeopleConfig {
        representative_rate: 1.0,
        ..PeopleConfig::standard(as_of())
    };
    let population = generate(9, 200, config).unwrap();
    let request = |p: &Person, seed| {
        let r = p.representative_card_request(seed).unwrap();
        (
            r.holder.name.clone(),
            r.holder.birth_date,
            r.holder.residence,
            r.my_number.expose().to_owned(),
            r.pin,
        )
    };
    let mut my_numbers = BTreeSet::new();
    for p in &population {
        let rep = p.representative.as_ref().unwrap();
        let a = request(p, 5);
        assert_eq!(a, request(p, 5), "the same seed gives the same card");
        assert_ne!(a.3, request(p, 6).3, "another seed another My Number");
        assert_eq!(a.0, rep.name.written());
        assert_eq!(a.1.year(), rep.birth_year);
        assert_eq!(a.2, p.municipality);
        assert!(a.3.parse::<MyNumber>().is_ok(), "a valid check digit");
        assert_ne!(a.3, p.my_number().expose());
        my_numbers.insert(a.3.clone());
        assert!(a.4.is_some(), "a PIN to sign in with");
        match rep.kind {
            RepresentativeKind::Child => assert!(rep.birth_year >= p.birth_date.year() + 22),
            RepresentativeKind::Guardian => assert!(rep.birth_year <= as_of().year() - 35),
            RepresentativeKind::Spouse => {
                assert!((rep.birth_year - p.birth_date.year()).abs() <= 5)
            }
        }
    }
    assert_eq!(my_numbers.len(), population.len());
    let without = generate(
        9,
        50,
        PeopleConfig {
            representative_rate: 0.0,
            ..PeopleConfig::standard(as_of())
        },
    )
    .unwrap();
    assert!(
        without
            .iter()
            .all(|p| p.representative_card_request(5).is_none())
    );
}

#[test]
fn a_restriction_keeps_everyone_in_the_listed_municipalities() {
    let yokohama = MunicipalityCode::parse("141003").unwrap();
    let kawasaki = MunicipalityCode::parse("141305").unwrap();
    let config = PeopleConfig {
        municipalities: Some(vec![kawasaki, yokohama, yokohama]),
        ..PeopleConfig::standard(as_of())
    };
    let population = generate(5, 2_000, config).unwrap();
    assert!(
        population
            .iter()
            .all(|p| p.municipality == yokohama || p.municipality == kawasaki)
    );
    let in_yokohama = population
        .iter()
        .filter(|p| p.municipality == yokohama)
        .count();
    // 横浜市 3.78 M, 川崎市 1.54 M: about 71 % in Yokohama.
    assert!((1_330..=1_510).contains(&in_yokohama), "{in_yokohama}");
}

#[test]
fn every_name_in_the_book_is_ms932() {
    let book = NameBook::embedded();
    for part in book.all_parts() {
        for text in [&part.written, &part.reading] {
            assert!(encode_ms932(text).is_ok(), "{text} is not MS932");
        }
    }
}

#[test]
fn the_my_number_is_never_serialised_or_printed() {
    for p in people(9, 200) {
        let digits = p.my_number().expose().to_owned();
        let json = serde_json::to_string(&p).unwrap();
        assert!(!json.contains(&digits), "{json}");
        assert!(
            !json.contains("my_number") && !json.contains("pin"),
            "{json}"
        );
        let debug = format!("{p:?}");
        assert!(!debug.contains(&digits), "{debug}");
        if let Some(pin) = p.pin() {
            assert_eq!(format!("{pin:?}"), "Pin(****)");
        }
    }
}

#[test]
fn five_people_for_seed_42() {
    let geo = Municipalities::embedded();
    let mut table = String::new();
    for p in people(42, 5) {
        let rep = p.representative.as_ref().map_or("-".to_owned(), |r| {
            format!("{:?} {} ({})", r.kind, r.name.written(), r.name.reading())
        });
        writeln!(
            table,
            "{} | {} ({}) | {} | {} | {} {} {} {} | {:?} | {} | {} | card {} | rep {}",
            p.index,
            p.name.written(),
            p.name.reading(),
            p.sex.label_ja(),
            p.birth_date,
            p.municipality,
            geo.get(p.municipality).map_or("?", |m| m.name.as_str()),
            p.insurer,
            p.insured,
            p.category,
            p.care_level.label_ja(),
            p.copay.as_str(),
            if p.holds_card { "yes" } else { "no" },
            rep,
        )
        .unwrap();
    }
    insta::assert_snapshot!(table);
}
