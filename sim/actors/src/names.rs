//! Japanese names with katakana readings, from the curated `data/names.toml` (embedded).
//!
//! The care-plan CSV standard needs a フリガナ for every person, so a name and its reading
//! are drawn together. The `fake` crate was considered: fake 5.1.0 is on rand 0.10, but its
//! JA_JP locale has no readings, no sex, and today's baby names; the data file's header says
//! more. The book holds surnames and, per sex, given names of two birth cohorts (born up to
//! 1960, and from 1961), so an 85-year-old is not called 陽翔.

use std::fmt;

use rand::{Rng, RngExt};
use serde::Deserialize;

/// The embedded name book.
pub const NAMES_TOML: &str = include_str!("../data/names.toml");

/// Birth year up to which given names of the older cohort are used.
pub const OLDER_COHORT_UNTIL: i32 = 1960;

/// Sex as recorded on the insurance card (男 / 女).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sex {
    /// 男.
    Male,
    /// 女.
    Female,
}

impl Sex {
    /// The stable name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }

    /// The Japanese label.
    pub const fn label_ja(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }
}

/// One name part: its written form and its reading in full-width katakana.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct NamePart {
    /// Written form, e.g. `佐藤` (older women's names may be written in katakana).
    pub written: String,
    /// Reading, e.g. `サトウ`.
    pub reading: String,
}

/// A full name: family name first, as written in Japan.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct PersonName {
    /// 氏.
    pub family: NamePart,
    /// 名.
    pub given: NamePart,
}

impl PersonName {
    /// `佐藤 和子`.
    pub fn written(&self) -> String {
        format!("{} {}", self.family.written, self.given.written)
    }

    /// `サトウ カズコ` (the CSV's 利用者氏名フリガナ).
    pub fn reading(&self) -> String {
        format!("{} {}", self.family.reading, self.given.reading)
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.family.written, self.given.written)
    }
}

/// Why a name book does not load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NamesError {
    /// Not the expected TOML structure.
    #[error("name book: {0}")]
    Toml(String),
    /// An entry that is not `written reading` with a katakana reading.
    #[error("name book, {list}: entry {entry:?} is not \"漢字 カタカナ\"")]
    Entry {
        /// The list (`family`, `male.older`, …).
        list: &'static str,
        /// The entry.
        entry: String,
    },
    /// An empty list.
    #[error("name book: {0} is empty")]
    Empty(&'static str),
    /// The same entry twice in one list.
    #[error("name book, {list}: {entry:?} appears twice")]
    Duplicate {
        /// The list.
        list: &'static str,
        /// The entry.
        entry: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBook {
    family: Vec<String>,
    given: RawGiven,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGiven {
    male: RawCohorts,
    female: RawCohorts,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCohorts {
    older: Vec<String>,
    younger: Vec<String>,
}

/// The name book: surnames and given names by sex and birth cohort.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameBook {
    family: Vec<NamePart>,
    /// `[male older, male younger, female older, female younger]`.
    given: [Vec<NamePart>; 4],
}

impl NameBook {
    /// The embedded book ([`NAMES_TOML`]).
    pub fn embedded() -> NameBook {
        // The embedded file is checked by a unit test, so parsing cannot fail here.
        NameBook::parse(NAMES_TOML).expect("the embedded name book is valid")
    }

    /// Parses a book in the format of `data/names.toml`.
    pub fn parse(text: &str) -> Result<NameBook, NamesError> {
        let raw: RawBook = toml::from_str(text).map_err(|e| NamesError::Toml(e.to_string()))?;
        Ok(NameBook {
            family: parts("family", raw.family)?,
            given: [
                parts("given.male.older", raw.given.male.older)?,
                parts("given.male.younger", raw.given.male.younger)?,
                parts("given.female.older", raw.given.female.older)?,
                parts("given.female.younger", raw.given.female.younger)?,
            ],
        })
    }

    /// Every surname.
    pub fn family_names(&self) -> &[NamePart] {
        &self.family
    }

    /// The given names for `sex` and a person born in `birth_year`.
    pub fn given_names(&self, sex: Sex, birth_year: i32) -> &[NamePart] {
        let younger = usize::from(birth_year > OLDER_COHORT_UNTIL);
        let sex = match sex {
            Sex::Male => 0,
            Sex::Female => 2,
        };
        &self.given[sex + younger]
    }

    /// Every name part in the book (for checks such as MS932 encodability).
    pub fn all_parts(&self) -> impl Iterator<Item = &NamePart> {
        self.family.iter().chain(self.given.iter().flatten())
    }

    /// A surname drawn from `rng`.
    pub fn family_name<R: Rng + ?Sized>(&self, rng: &mut R) -> NamePart {
        pick(&self.family, rng)
    }

    /// A given name for `sex` born in `birth_year`, drawn from `rng`.
    pub fn given_name<R: Rng + ?Sized>(&self, sex: Sex, birth_year: i32, rng: &mut R) -> NamePart {
        pick(self.given_names(sex, birth_year), rng)
    }

    /// A full name drawn from `rng`.
    pub fn name<R: Rng + ?Sized>(&self, sex: Sex, birth_year: i32, rng: &mut R) -> PersonName {
        PersonName {
            family: self.family_name(rng),
            given: self.given_name(sex, birth_year, rng),
        }
    }
}

fn pick<R: Rng + ?Sized>(list: &[NamePart], rng: &mut R) -> NamePart {
    // Lists are checked non-empty at parse time.
    list[rng.random_range(0..list.len())].clone()
}

fn parts(list: &'static str, entries: Vec<String>) -> Result<Vec<NamePart>, NamesError> {
    if entries.is_empty() {
        return Err(NamesError::Empty(list));
    }
    let mut out: Vec<NamePart> = Vec::with_capacity(entries.len());
    for entry in entries {
        let bad = || NamesError::Entry {
            list,
            entry: entry.clone(),
        };
        let (written, reading) = entry.split_once(' ').ok_or_else(bad)?;
        let written_ok =
            !written.is_empty() && written.chars().all(|c| !c.is_ascii() && !c.is_whitespace());
        if !written_ok || !is_katakana(reading) {
            return Err(bad());
        }
        let part = NamePart {
            written: written.to_owned(),
            reading: reading.to_owned(),
        };
        if out.contains(&part) {
            return Err(NamesError::Duplicate { list, entry });
        }
        out.push(part);
    }
    Ok(out)
}

/// Full-width katakana (ァ–ヶ) and the long-vowel mark ー, at least one character.
pub fn is_katakana(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| ('\u{30A1}'..='\u{30F6}').contains(&c) || c == 'ー')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_book_is_large_and_well_formed() {
        let book = NameBook::embedded();
        assert!(book.family_names().len() >= 150);
        for sex in [Sex::Male, Sex::Female] {
            for year in [1935, 1975] {
                assert!(book.given_names(sex, year).len() >= 40, "{sex:?} {year}");
            }
        }
        let given: usize = book.given.iter().map(Vec::len).sum();
        assert!(book.family_names().len() * given >= 10_000);
    }

    #[test]
    fn cohorts_split_at_1960() {
        let book = NameBook::embedded();
        assert_eq!(
            book.given_names(Sex::Female, 1960),
            book.given_names(Sex::Female, 1930)
        );
        assert_ne!(
            book.given_names(Sex::Female, 1961),
            book.given_names(Sex::Female, 1960)
        );
    }

    #[test]
    fn bad_books_are_refused_with_the_entry() {
        let ok_given = "[given.male]\nolder=[\"清 キヨシ\"]\nyounger=[\"誠 マコト\"]\n[given.female]\nolder=[\"和子 カズコ\"]\nyounger=[\"愛 アイ\"]\n";
        assert!(NameBook::parse(&format!("family=[\"佐藤 サトウ\"]\n{ok_given}")).is_ok());
        for (family, why) in [
            ("[\"佐藤 さとう\"]", "hiragana reading"),
            ("[\"佐藤\"]", "no reading"),
            ("[\"Sato サトウ\"]", "ASCII written form"),
            ("[\"佐藤 サトウ\", \"佐藤 サトウ\"]", "duplicate"),
            ("[]", "empty"),
        ] {
            let text = format!("family={family}\n{ok_given}");
            assert!(NameBook::parse(&text).is_err(), "{why}");
        }
        assert!(matches!(
            NameBook::parse("family=[\"佐藤 サトウ\"]\nextra=1\n"),
            Err(NamesError::Toml(_))
        ));
    }

    #[test]
    fn katakana_is_full_width_only() {
        assert!(is_katakana("サトウ"));
        assert!(is_katakana("ユーコ"));
        assert!(!is_katakana("ｻﾄｳ"));
        assert!(!is_katakana("さとう"));
        assert!(!is_katakana(""));
        assert!(!is_katakana("サトウ カズコ"));
    }
}
