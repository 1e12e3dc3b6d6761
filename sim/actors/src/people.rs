//! Synthetic insured persons: seeded and reproducible (same seed and configuration ⇒ the
//! same people, in the same order), every identifier valid.
//!
//! Each person has a name with its katakana reading ([`crate::names`]), sex, birth date, an
//! address municipality drawn in proportion to the 2020 census population
//! (`kiban_core::geo`), the insurer number of that municipality, an insured number unique
//! within the insurer, a My Number unique in the population (kept private, redacted in
//! `Debug`, never serialised), a care level, a copay ratio, whether they hold a My Number card
//! (and then the PIN they chose), and for some a representative (spouse, child or a
//! court-appointed guardian).
//!
//! Where each default comes from ([`PeopleConfig::standard`]):
//!
//! | parameter | default | source |
//! |---|---|---|
//! | second-category (40–64) share | 13/708 ≈ 1.84 % | domain-facts §7: 708万 certified, 695万 of them 第1号 (FY2023) |
//! | female share | 20.51/36.19 ≈ 56.7 % | domain-facts §7: population 65+ by sex (2025-09) |
//! | age bands 65+ | 65–69: 3, 70–74: 7, 75–79: 13, 80–84: 22, 85–89: 27, 90–94: 20, 95–99: 7, 100–104: 1 | **assumption** (certified persons are concentrated at 80–94; no figure in domain-facts) |
//! | care levels | 要支援1: 14, 要支援2: 14, 要介護1: 21, 要介護2: 17, 要介護3: 13, 要介護4: 13, 要介護5: 8 | **assumption** (approximate national shares; not in domain-facts) |
//! | copay | 1割: 90, 2割: 5, 3割: 5 | **assumption**; second-category insured are always 1割 (domain-facts §4.7) |
//! | holds a My Number card | 75 % | **assumption** (national holding was around three quarters in 2025; not in domain-facts) |
//! | has a representative | 25 %, of which 10 % guardians | **assumption** |
//!
//! The draws for one person happen in a fixed order from one `ChaCha8Rng` seeded with the
//! seed, so adding a field at the end of the sequence keeps earlier fields stable only if it
//! draws last; any change to the draws changes the snapshot test on purpose.

use std::collections::BTreeSet;

use kiban_core::geo::Municipalities;
use kiban_core::id::{InsuredNumber, InsurerNumber, MunicipalityCode, MyNumber};
use kiban_core::time::Date;
use kiban_core::vocab::{CareLevel, CopayRatio};
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::calendar::age_on;
use crate::card::{CardHolder, Pin};
use crate::jlis::CardRequest;
use crate::names::{NameBook, PersonName, Sex};

/// The insured category (被保険者区分).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InsuredCategory {
    /// 第1号被保険者: 65 or older.
    First,
    /// 第2号被保険者: 40–64, certified for one of the 16 特定疾病.
    Second,
}

/// Who may act for the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RepresentativeKind {
    /// The spouse (same surname).
    Spouse,
    /// A child (same surname).
    Child,
    /// A court-appointed guardian (成年後見人), e.g. a lawyer or 司法書士.
    Guardian,
}

/// A representative of a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Representative {
    /// Relation to the person.
    pub kind: RepresentativeKind,
    /// Name with reading.
    pub name: PersonName,
    /// Year of birth.
    pub birth_year: i32,
}

/// One synthetic insured person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    /// Position in the generated population (0-based).
    pub index: u32,
    /// Name with reading.
    pub name: PersonName,
    /// Sex.
    pub sex: Sex,
    /// Birth date.
    pub birth_date: Date,
    /// Address municipality.
    pub municipality: MunicipalityCode,
    /// The municipality's insurer number.
    pub insurer: InsurerNumber,
    /// Insured number, unique within the insurer.
    pub insured: InsuredNumber,
    /// 第1号 or 第2号.
    pub category: InsuredCategory,
    /// Care level.
    pub care_level: CareLevel,
    /// Copay ratio.
    pub copay: CopayRatio,
    /// Whether the person holds a My Number card.
    pub holds_card: bool,
    /// A representative, if any.
    pub representative: Option<Representative>,
    #[serde(skip)]
    my_number: MyNumber,
    #[serde(skip)]
    pin: Option<Pin>,
}

impl Person {
    /// The person's My Number (redacted in `Debug`). For the card, J-LIS and municipality
    /// mocks only.
    pub fn my_number(&self) -> &MyNumber {
        &self.my_number
    }

    /// The PIN the person chose for their card (`None` without a card).
    pub fn pin(&self) -> Option<Pin> {
        self.pin
    }

    /// Age on `on`.
    pub fn age_on(&self, on: Date) -> u32 {
        age_on(self.birth_date, on)
    }

    /// What J-LIS needs to issue the representative's own card (representatives act through
    /// the マイナポータル with their own card), if the person has a representative. The
    /// representative's My Number, birthday and PIN are drawn from a generator seeded with
    /// `seed` and the person's index, so the same population gives the same agents; they live
    /// in the person's municipality (an assumption: the counter that registers them is
    /// there). A drawn My Number may equal someone else's with probability about 10⁻¹¹ per
    /// pair, which the simulation accepts.
    pub fn representative_card_request(&self, seed: u64) -> Option<CardRequest> {
        let rep = self.representative.as_ref()?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ u64::from(self.index).rotate_left(32));
        let month = rng.random_range(1..=12u8);
        let day = rng.random_range(1..=28u8);
        let birth_date = Date::new(rep.birth_year, month, day)?;
        Some(CardRequest {
            holder: CardHolder {
                name: rep.name.written(),
                birth_date,
                residence: self.municipality,
            },
            my_number: MyNumber::random(&mut rng),
            pin: Some(Pin::random(&mut rng)),
        })
    }

    /// What J-LIS needs to issue this person's card, if they hold one.
    pub fn card_request(&self) -> Option<CardRequest> {
        self.holds_card.then(|| CardRequest {
            holder: CardHolder {
                name: self.name.written(),
                birth_date: self.birth_date,
                residence: self.municipality,
            },
            my_number: self.my_number,
            pin: self.pin,
        })
    }
}

/// Why a configuration cannot generate people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PeopleError {
    /// A rate outside 0–1.
    #[error("{0} must be between 0 and 1")]
    Rate(&'static str),
    /// Weights that are empty or all zero.
    #[error("{0} needs at least one positive weight")]
    Weights(&'static str),
    /// An age band that is not within 65–120 with `from ≤ to`.
    #[error("age band {from}-{to} is not within 65-120")]
    AgeBand {
        /// First age.
        from: u32,
        /// Last age.
        to: u32,
    },
    /// A municipality that is not in the table, or has no population.
    #[error("municipality {0} is not in the table or has no population")]
    Municipality(MunicipalityCode),
    /// An empty municipality restriction.
    #[error("the municipality restriction is empty")]
    NoMunicipality,
    /// Too many people for the identifier space of a municipality.
    #[error("cannot generate more than {0} people")]
    TooMany(usize),
}

/// The parameters of a population (see the module docs for where each default comes from).
#[derive(Debug, Clone, PartialEq)]
pub struct PeopleConfig {
    /// The day ages are counted on.
    pub as_of: Date,
    /// Share of second-category insured (aged 40–64).
    pub second_category_share: f64,
    /// Share of women.
    pub female_share: f64,
    /// Age bands of first-category insured: `(from, to, weight)`, ages inclusive.
    pub age_bands: Vec<(u32, u32, u32)>,
    /// Care levels and their weights.
    pub care_levels: Vec<(CareLevel, u32)>,
    /// Copay ratios and their weights (first-category insured only).
    pub copay: Vec<(CopayRatio, u32)>,
    /// Share of people holding a My Number card.
    pub card_holding_rate: f64,
    /// Share of people with a representative.
    pub representative_rate: f64,
    /// Share of representatives that are court-appointed guardians.
    pub guardian_share: f64,
    /// Draw addresses only from these municipalities (by population); `None`: all.
    pub municipalities: Option<Vec<MunicipalityCode>>,
}

impl PeopleConfig {
    /// The defaults of the module docs' table, ages counted on `as_of`.
    pub fn standard(as_of: Date) -> PeopleConfig {
        PeopleConfig {
            as_of,
            second_category_share: 13.0 / 708.0,
            female_share: 20.51 / 36.19,
            age_bands: vec![
                (65, 69, 3),
                (70, 74, 7),
                (75, 79, 13),
                (80, 84, 22),
                (85, 89, 27),
                (90, 94, 20),
                (95, 99, 7),
                (100, 104, 1),
            ],
            care_levels: vec![
                (CareLevel::Support1, 14),
                (CareLevel::Support2, 14),
                (CareLevel::Care1, 21),
                (CareLevel::Care2, 17),
                (CareLevel::Care3, 13),
                (CareLevel::Care4, 13),
                (CareLevel::Care5, 8),
            ],
            copay: vec![
                (CopayRatio::Ten, 90),
                (CopayRatio::Twenty, 5),
                (CopayRatio::Thirty, 5),
            ],
            card_holding_rate: 0.75,
            representative_rate: 0.25,
            guardian_share: 0.10,
            municipalities: None,
        }
    }

    fn validate(&self) -> Result<(), PeopleError> {
        for (rate, name) in [
            (self.second_category_share, "second_category_share"),
            (self.female_share, "female_share"),
            (self.card_holding_rate, "card_holding_rate"),
            (self.representative_rate, "representative_rate"),
            (self.guardian_share, "guardian_share"),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(PeopleError::Rate(name));
            }
        }
        for &(from, to, _) in &self.age_bands {
            if from < 65 || to < from || to > 120 {
                return Err(PeopleError::AgeBand { from, to });
            }
        }
        if !self.age_bands.iter().any(|b| b.2 > 0) {
            return Err(PeopleError::Weights("age_bands"));
        }
        if !self.care_levels.iter().any(|c| c.1 > 0) {
            return Err(PeopleError::Weights("care_levels"));
        }
        if !self.copay.iter().any(|c| c.1 > 0) {
            return Err(PeopleError::Weights("copay"));
        }
        Ok(())
    }
}

/// The most people one generator makes (insured numbers are 10 digits per insurer; this keeps
/// redraws rare even in the smallest municipality).
pub const MAX_PEOPLE: usize = 50_000_000;

/// Generates populations from a validated configuration and the name and municipality
/// tables.
#[derive(Debug)]
pub struct PeopleGenerator<'a> {
    config: PeopleConfig,
    names: &'a NameBook,
    geo: &'a Municipalities,
    /// Restricted draw: `(code, cumulative population)`.
    subset: Option<Vec<(MunicipalityCode, u64)>>,
}

impl<'a> PeopleGenerator<'a> {
    /// A generator for `config` over `geo` and `names`.
    pub fn new(
        config: PeopleConfig,
        geo: &'a Municipalities,
        names: &'a NameBook,
    ) -> Result<PeopleGenerator<'a>, PeopleError> {
        config.validate()?;
        let subset = match &config.municipalities {
            None => None,
            Some(codes) if codes.is_empty() => return Err(PeopleError::NoMunicipality),
            Some(codes) => {
                let mut sorted: Vec<MunicipalityCode> = codes.clone();
                sorted.sort();
                sorted.dedup();
                let mut total = 0u64;
                let mut out = Vec::with_capacity(sorted.len());
                for code in sorted {
                    let population = geo
                        .get(code)
                        .map(|m| u64::from(m.population_2020))
                        .filter(|&p| p > 0)
                        .ok_or(PeopleError::Municipality(code))?;
                    total += population;
                    out.push((code, total));
                }
                Some(out)
            }
        };
        Ok(PeopleGenerator {
            config,
            names,
            geo,
            subset,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &PeopleConfig {
        &self.config
    }

    /// `count` people from `seed`.
    pub fn generate(&self, seed: u64, count: usize) -> Result<Vec<Person>, PeopleError> {
        if count > MAX_PEOPLE {
            return Err(PeopleError::TooMany(MAX_PEOPLE));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut my_numbers = BTreeSet::new();
        let mut insured_numbers = BTreeSet::new();
        let mut people = Vec::with_capacity(count);
        for index in 0..count {
            let index = u32::try_from(index).map_err(|_| PeopleError::TooMany(MAX_PEOPLE))?;
            people.push(self.person(index, &mut rng, &mut my_numbers, &mut insured_numbers));
        }
        Ok(people)
    }

    fn person(
        &self,
        index: u32,
        rng: &mut ChaCha8Rng,
        my_numbers: &mut BTreeSet<MyNumber>,
        insured_numbers: &mut BTreeSet<(InsurerNumber, InsuredNumber)>,
    ) -> Person {
        let c = &self.config;
        let category = if rng.random_bool(c.second_category_share) {
            InsuredCategory::Second
        } else {
            InsuredCategory::First
        };
        let age = match category {
            InsuredCategory::Second => rng.random_range(40..=64u32),
            InsuredCategory::First => {
                let (from, to, _) = *weighted(&c.age_bands, |b| b.2, rng);
                rng.random_range(from..=to)
            }
        };
        let birth_date = birth_date_for_age(c.as_of, age, rng);
        let sex = if rng.random_bool(c.female_share) {
            Sex::Female
        } else {
            Sex::Male
        };
        let name = self.names.name(sex, birth_date.year(), rng);
        let municipality = self.municipality(rng);
        let insurer = InsurerNumber::for_municipality(municipality);
        let insured = loop {
            let candidate = InsuredNumber::random(rng);
            if insured_numbers.insert((insurer, candidate)) {
                break candidate;
            }
        };
        let my_number = loop {
            let candidate = MyNumber::random(rng);
            if my_numbers.insert(candidate) {
                break candidate;
            }
        };
        let care_level = weighted(&c.care_levels, |l| l.1, rng).0;
        let copay = match category {
            InsuredCategory::Second => CopayRatio::Ten,
            InsuredCategory::First => weighted(&c.copay, |r| r.1, rng).0,
        };
        let holds_card = rng.random_bool(c.card_holding_rate);
        let pin = holds_card.then(|| Pin::random(rng));
        let representative = rng
            .random_bool(c.representative_rate)
            .then(|| self.representative(&name, sex, birth_date, rng));
        Person {
            index,
            name,
            sex,
            birth_date,
            municipality,
            insurer,
            insured,
            category,
            care_level,
            copay,
            holds_card,
            representative,
            my_number,
            pin,
        }
    }

    fn municipality(&self, rng: &mut ChaCha8Rng) -> MunicipalityCode {
        match &self.subset {
            None => self.geo.sample(rng).code,
            Some(subset) => {
                let total = subset.last().map_or(1, |s| s.1);
                let x = rng.random_range(0..total);
                let idx = subset.partition_point(|s| s.1 <= x);
                subset[idx.min(subset.len() - 1)].0
            }
        }
    }

    fn representative(
        &self,
        name: &PersonName,
        sex: Sex,
        birth_date: Date,
        rng: &mut ChaCha8Rng,
    ) -> Representative {
        let guardian = rng.random_bool(self.config.guardian_share);
        let other_sex = |s: Sex| match s {
            Sex::Male => Sex::Female,
            Sex::Female => Sex::Male,
        };
        let (kind, family, rep_sex, birth_year) = if guardian {
            let rep_sex = if rng.random_bool(0.5) {
                Sex::Female
            } else {
                Sex::Male
            };
            let year = self.config.as_of.year() - rng.random_range(35..=65);
            (
                RepresentativeKind::Guardian,
                self.names.family_name(rng),
                rep_sex,
                year,
            )
        } else if rng.random_bool(0.4) {
            let year = birth_date.year() + rng.random_range(-5..=5);
            (
                RepresentativeKind::Spouse,
                name.family.clone(),
                other_sex(sex),
                year,
            )
        } else {
            let rep_sex = if rng.random_bool(0.5) {
                Sex::Female
            } else {
                Sex::Male
            };
            let year = birth_date.year() + rng.random_range(22..=40);
            (
                RepresentativeKind::Child,
                name.family.clone(),
                rep_sex,
                year,
            )
        };
        Representative {
            kind,
            name: PersonName {
                family,
                given: self.names.given_name(rep_sex, birth_year, rng),
            },
            birth_year,
        }
    }
}

/// `count` people from `seed` with the embedded municipality table and name book.
pub fn generate(seed: u64, count: usize, config: PeopleConfig) -> Result<Vec<Person>, PeopleError> {
    let geo = Municipalities::embedded();
    let names = NameBook::embedded();
    PeopleGenerator::new(config, &geo, &names)?.generate(seed, count)
}

/// An item of `items` drawn with probability proportional to `weight` (validated: at least
/// one positive weight).
fn weighted<'t, T, R: Rng + ?Sized>(
    items: &'t [T],
    weight: impl Fn(&T) -> u32,
    rng: &mut R,
) -> &'t T {
    let total: u64 = items.iter().map(|i| u64::from(weight(i))).sum();
    let mut x = rng.random_range(0..total.max(1));
    for item in items {
        let w = u64::from(weight(item));
        if x < w {
            return item;
        }
        x -= w;
    }
    // Unreachable for validated weights (x < total); the last item is a safe answer.
    &items[items.len() - 1]
}

/// A birth date uniformly among the days on which someone is `age` on `as_of`.
fn birth_date_for_age<R: Rng + ?Sized>(as_of: Date, age: u32, rng: &mut R) -> Date {
    let age = i32::try_from(age).unwrap_or(i32::MAX / 12 - 1);
    let latest = as_of.plus_months(-12 * age);
    let earliest = as_of.plus_months(-12 * (age + 1)).plus_days(1);
    let span =
        (latest.midnight_jst().unix_seconds() - earliest.midnight_jst().unix_seconds()) / 86_400;
    earliest.plus_days(rng.random_range(0..=span.max(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn birth_dates_give_the_drawn_age() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for as_of in ["2026-10-01", "2028-02-29", "2027-02-28", "2026-03-01"] {
            for age in [40, 64, 65, 80, 104] {
                for _ in 0..200 {
                    let birth = birth_date_for_age(d(as_of), age, &mut rng);
                    assert_eq!(age_on(birth, d(as_of)), age, "{as_of} {age} {birth}");
                }
            }
        }
    }

    #[test]
    fn bad_configurations_are_refused() {
        let geo = Municipalities::embedded();
        let names = NameBook::embedded();
        let base = PeopleConfig::standard(d("2026-10-01"));
        let cases: Vec<(PeopleConfig, PeopleError)> = vec![
            (
                PeopleConfig {
                    card_holding_rate: 1.5,
                    ..base.clone()
                },
                PeopleError::Rate("card_holding_rate"),
            ),
            (
                PeopleConfig {
                    female_share: f64::NAN,
                    ..base.clone()
                },
                PeopleError::Rate("female_share"),
            ),
            (
                PeopleConfig {
                    age_bands: vec![(60, 70, 1)],
                    ..base.clone()
                },
                PeopleError::AgeBand { from: 60, to: 70 },
            ),
            (
                PeopleConfig {
                    care_levels: vec![(CareLevel::Care1, 0)],
                    ..base.clone()
                },
                PeopleError::Weights("care_levels"),
            ),
            (
                PeopleConfig {
                    municipalities: Some(vec![]),
                    ..base.clone()
                },
                PeopleError::NoMunicipality,
            ),
            (
                PeopleConfig {
                    municipalities: Some(vec![MunicipalityCode::parse("075469").unwrap()]),
                    ..base.clone()
                },
                PeopleError::Municipality(MunicipalityCode::parse("075469").unwrap()),
            ),
        ];
        for (config, expected) in cases {
            assert_eq!(
                PeopleGenerator::new(config, &geo, &names).unwrap_err(),
                expected
            );
        }
    }

    #[test]
    fn weighted_draws_never_pick_zero_weights() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let items = [("a", 0), ("b", 3), ("c", 0), ("d", 1)];
        for _ in 0..1_000 {
            let (name, _) = weighted(&items, |i| i.1, &mut rng);
            assert!(["b", "d"].contains(name));
        }
    }
}
