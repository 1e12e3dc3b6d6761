//! The 1,741 municipalities (市区町村, the 23 Tokyo special wards included) with their 2020
//! census population, embedded from `sim/core/data/municipalities.csv` (sources in
//! `sim/core/data/README.md`).
//!
//! The table is parsed from text it is handed ([`Municipalities::parse`]) or from the embedded
//! copy ([`Municipalities::embedded`]); nothing is read from disk and nothing is cached in a
//! global, so callers that need the table often keep the value they built. Rows are sorted by
//! code; [`Municipalities::sample`] draws a municipality weighted by population from a
//! generator the caller hands in (双葉町, population 0 in 2020, is never drawn).

use std::fmt;

use rand::{Rng, RngExt};

use crate::id::{IdError, InsurerNumber, MunicipalityCode};

/// The embedded municipality table (`sim/core/data/municipalities.csv`).
pub const MUNICIPALITIES_CSV: &str = include_str!("../data/municipalities.csv");

/// The header line the table must start with.
const HEADER: &str = "code,prefecture,name,name_kana,kind,population_2020";

/// The kind of a municipality, with the names used in the data file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MunicipalityKind {
    /// 政令指定都市 (designated city; 20).
    DesignatedCity,
    /// 東京23区の特別区 (special ward; 23).
    SpecialWard,
    /// 中核市 (core city; 62 in force in 2024).
    CoreCity,
    /// 市 (any other city).
    City,
    /// 町.
    Town,
    /// 村.
    Village,
}

impl MunicipalityKind {
    /// Every kind, in declaration order.
    pub const ALL: [MunicipalityKind; 6] = [
        MunicipalityKind::DesignatedCity,
        MunicipalityKind::SpecialWard,
        MunicipalityKind::CoreCity,
        MunicipalityKind::City,
        MunicipalityKind::Town,
        MunicipalityKind::Village,
    ];

    /// The name used in the data file (`designated_city`, `special_ward`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            MunicipalityKind::DesignatedCity => "designated_city",
            MunicipalityKind::SpecialWard => "special_ward",
            MunicipalityKind::CoreCity => "core_city",
            MunicipalityKind::City => "city",
            MunicipalityKind::Town => "town",
            MunicipalityKind::Village => "village",
        }
    }

    /// Whether the municipality belongs to the large group of the rollout survey
    /// (政令指定都市・特別区・中核市; DOMAIN §5).
    pub const fn is_large(self) -> bool {
        matches!(
            self,
            MunicipalityKind::DesignatedCity
                | MunicipalityKind::SpecialWard
                | MunicipalityKind::CoreCity
        )
    }
}

impl fmt::Display for MunicipalityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for MunicipalityKind {
    type Err = GeoErrorKind;
    fn from_str(s: &str) -> Result<Self, GeoErrorKind> {
        MunicipalityKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| GeoErrorKind::Kind(s.chars().take(32).collect()))
    }
}

/// One municipality.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Municipality {
    /// 全国地方公共団体コード (6 digits with check digit).
    pub code: MunicipalityCode,
    /// 都道府県 name, e.g. `神奈川県`.
    pub prefecture: String,
    /// Municipality name, e.g. `横浜市`.
    pub name: String,
    /// Reading of the name in hiragana, e.g. `よこはまし`.
    pub name_kana: String,
    /// Kind.
    pub kind: MunicipalityKind,
    /// Total population, 2020 census preliminary count.
    pub population_2020: u32,
}

impl Municipality {
    /// The municipality's insurer number as the simulation uses it (one insurer per row; see
    /// [`InsurerNumber::for_municipality`]).
    pub fn insurer(&self) -> InsurerNumber {
        InsurerNumber::for_municipality(self.code)
    }
}

/// Why a municipality table does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeoError {
    /// 1-based line number in the text (0 for the table as a whole).
    pub line: usize,
    /// What is wrong.
    pub kind: GeoErrorKind,
}

/// What is wrong with a line of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GeoErrorKind {
    /// The first line is not the expected header.
    Header,
    /// A row without exactly six comma-separated fields.
    FieldCount(usize),
    /// An invalid municipality code.
    Code(IdError),
    /// An empty prefecture, name or reading.
    EmptyField(&'static str),
    /// A kind that is not one of the six.
    Kind(String),
    /// A population that is not a non-negative integer.
    Population,
    /// The same code twice.
    DuplicateCode(MunicipalityCode),
    /// No row, or no population to weight by.
    Empty,
}

impl fmt::Display for GeoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "municipality table line {}: ", self.line)?;
        match &self.kind {
            GeoErrorKind::Header => write!(f, "expected the header {HEADER:?}"),
            GeoErrorKind::FieldCount(n) => write!(f, "expected 6 fields, found {n}"),
            GeoErrorKind::Code(e) => write!(f, "{e}"),
            GeoErrorKind::EmptyField(name) => write!(f, "empty {name}"),
            GeoErrorKind::Kind(k) => write!(
                f,
                "unknown kind {k:?}; expected designated_city, special_ward, core_city, city, town or village"
            ),
            GeoErrorKind::Population => f.write_str("population is not a non-negative integer"),
            GeoErrorKind::DuplicateCode(c) => write!(f, "code {c} appears twice"),
            GeoErrorKind::Empty => f.write_str("no municipality with a population"),
        }
    }
}

impl fmt::Display for GeoErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(
            &GeoError {
                line: 0,
                kind: self.clone(),
            },
            f,
        )
    }
}

impl std::error::Error for GeoError {}

/// The municipality table, sorted by code, with cumulative populations for weighted draws.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Municipalities {
    rows: Vec<Municipality>,
    /// `cumulative[i]` = population of rows `0..=i`.
    cumulative: Vec<u64>,
}

impl Municipalities {
    /// The embedded table ([`MUNICIPALITIES_CSV`]).
    pub fn embedded() -> Municipalities {
        // The embedded file is checked by a unit test, so parsing cannot fail here.
        Municipalities::parse(MUNICIPALITIES_CSV).expect("the embedded municipality table is valid")
    }

    /// Parses a table in the format of `sim/core/data/municipalities.csv`: the header line,
    /// then `code,prefecture,name,name_kana,kind,population_2020` per row (no quoting; no
    /// field contains a comma). Blank lines are ignored.
    pub fn parse(text: &str) -> Result<Municipalities, GeoError> {
        let mut lines = text.lines().enumerate();
        let header = lines
            .next()
            .map(|(_, l)| l.trim_start_matches('\u{feff}').trim_end());
        if header != Some(HEADER) {
            return Err(GeoError {
                line: 1,
                kind: GeoErrorKind::Header,
            });
        }
        let mut rows = Vec::with_capacity(1_741);
        for (idx, line) in lines {
            let line = line.trim_end_matches('\r');
            if line.is_empty() {
                continue;
            }
            let at = |kind| GeoError {
                line: idx + 1,
                kind,
            };
            rows.push(parse_row(line).map_err(at)?);
        }
        rows.sort_by_key(|m| m.code);
        if let Some(pair) = rows.windows(2).find(|w| w[0].code == w[1].code) {
            return Err(GeoError {
                line: 0,
                kind: GeoErrorKind::DuplicateCode(pair[0].code),
            });
        }
        let mut total = 0u64;
        let cumulative: Vec<u64> = rows
            .iter()
            .map(|m| {
                total += u64::from(m.population_2020);
                total
            })
            .collect();
        if total == 0 {
            return Err(GeoError {
                line: 0,
                kind: GeoErrorKind::Empty,
            });
        }
        Ok(Municipalities { rows, cumulative })
    }

    /// Number of municipalities.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table is empty (never true for a parsed table).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Every municipality, sorted by code.
    pub fn as_slice(&self) -> &[Municipality] {
        &self.rows
    }

    /// Every municipality, sorted by code.
    pub fn iter(&self) -> std::slice::Iter<'_, Municipality> {
        self.rows.iter()
    }

    /// The municipality with `code`.
    pub fn get(&self, code: MunicipalityCode) -> Option<&Municipality> {
        self.rows
            .binary_search_by_key(&code, |m| m.code)
            .ok()
            .map(|i| &self.rows[i])
    }

    /// Sum of the 2020 populations.
    pub fn total_population(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }

    /// A municipality drawn from `rng` with probability proportional to its 2020
    /// population. Rows with population 0 are never drawn.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> &Municipality {
        let x = rng.random_range(0..self.total_population());
        // The first row whose cumulative population exceeds x; x < total, so it exists.
        let idx = self.cumulative.partition_point(|&c| c <= x);
        &self.rows[idx.min(self.rows.len() - 1)]
    }
}

impl<'a> IntoIterator for &'a Municipalities {
    type Item = &'a Municipality;
    type IntoIter = std::slice::Iter<'a, Municipality>;
    fn into_iter(self) -> Self::IntoIter {
        self.rows.iter()
    }
}

fn parse_row(line: &str) -> Result<Municipality, GeoErrorKind> {
    let fields: Vec<&str> = line.split(',').collect();
    let [code, prefecture, name, name_kana, kind, population] = fields[..] else {
        return Err(GeoErrorKind::FieldCount(fields.len()));
    };
    let code = MunicipalityCode::parse(code).map_err(GeoErrorKind::Code)?;
    for (value, what) in [
        (prefecture, "prefecture"),
        (name, "name"),
        (name_kana, "name_kana"),
    ] {
        if value.trim().is_empty() {
            return Err(GeoErrorKind::EmptyField(what));
        }
    }
    let population_2020 = population
        .parse::<u32>()
        .map_err(|_| GeoErrorKind::Population)?;
    Ok(Municipality {
        code,
        prefecture: prefecture.to_owned(),
        name: name.to_owned(),
        name_kana: name_kana.to_owned(),
        kind: kind.parse()?,
        population_2020,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// The population column summed straight from the embedded text, independently of the
    /// parser.
    fn population_sum_of_the_file() -> u64 {
        MUNICIPALITIES_CSV
            .lines()
            .skip(1)
            .filter(|l| !l.is_empty())
            .map(|l| l.rsplit(',').next().unwrap().parse::<u64>().unwrap())
            .sum()
    }

    #[test]
    fn the_embedded_table_has_every_municipality_with_valid_codes() {
        let table = Municipalities::embedded();
        assert_eq!(table.len(), 1_741);
        let data_lines = MUNICIPALITIES_CSV.lines().skip(1).filter(|l| !l.is_empty());
        for line in data_lines {
            let code = line.split(',').next().unwrap();
            let parsed = MunicipalityCode::parse(code).unwrap_or_else(|e| panic!("{code}: {e}"));
            assert!(table.get(parsed).is_some(), "{code}");
        }
    }

    #[test]
    fn the_population_total_is_the_2020_census_count() {
        let table = Municipalities::embedded();
        let from_file = population_sum_of_the_file();
        assert_eq!(table.total_population(), from_file);
        // sim/core/data/README.md: "The column sums to 126,226,568"; DOMAIN.md §8: 126.2 M
        // (2020 census).
        assert_eq!(from_file, 126_226_568);
        assert_eq!((from_file + 50_000) / 100_000, 1_262);
    }

    #[test]
    fn kinds_are_counted_as_the_source_note_says() {
        let table = Municipalities::embedded();
        let count = |k: MunicipalityKind| table.iter().filter(|m| m.kind == k).count();
        assert_eq!(count(MunicipalityKind::DesignatedCity), 20);
        assert_eq!(count(MunicipalityKind::SpecialWard), 23);
        assert_eq!(count(MunicipalityKind::CoreCity), 62);
        assert_eq!(table.iter().filter(|m| m.kind.is_large()).count(), 105);
        let yokohama = table
            .get(MunicipalityCode::parse("141003").unwrap())
            .unwrap();
        assert_eq!(
            (
                yokohama.name.as_str(),
                yokohama.prefecture.as_str(),
                yokohama.kind
            ),
            ("横浜市", "神奈川県", MunicipalityKind::DesignatedCity)
        );
        assert_eq!(yokohama.insurer().as_str(), "141002");
        for kind in MunicipalityKind::ALL {
            assert_eq!(kind.as_str().parse::<MunicipalityKind>(), Ok(kind));
        }
    }

    #[test]
    fn rows_are_sorted_by_code() {
        let table = Municipalities::embedded();
        assert!(table.as_slice().windows(2).all(|w| w[0].code < w[1].code));
    }

    #[test]
    fn draws_follow_population_and_skip_empty_towns() {
        let table = Municipalities::embedded();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let futaba = MunicipalityCode::parse("075469").ok();
        let tokyo_wards_and_yokohama = |m: &Municipality| {
            m.kind == MunicipalityKind::SpecialWard || m.code.as_str() == "141003"
        };
        let n = 20_000;
        let mut hits = 0;
        for _ in 0..n {
            let m = table.sample(&mut rng);
            assert!(m.population_2020 > 0);
            assert_ne!(Some(m.code), futaba);
            hits += usize::from(tokyo_wards_and_yokohama(m));
        }
        let expected: u64 = table
            .iter()
            .filter(|m| tokyo_wards_and_yokohama(m))
            .map(|m| u64::from(m.population_2020))
            .sum();
        let expected = expected as f64 / table.total_population() as f64;
        let observed = hits as f64 / n as f64;
        assert!(
            (observed - expected).abs() < 0.01,
            "{observed} vs {expected}"
        );
    }

    #[test]
    fn bad_tables_name_the_line_and_the_problem() {
        let cases = [
            ("code,x\n", 1, GeoErrorKind::Header),
            (
                "code,prefecture,name,name_kana,kind,population_2020\n141003,神奈川県,横浜市\n",
                2,
                GeoErrorKind::FieldCount(3),
            ),
            (
                "code,prefecture,name,name_kana,kind,population_2020\n141003,神奈川県,横浜市,よこはまし,metropolis,1\n",
                2,
                GeoErrorKind::Kind("metropolis".into()),
            ),
            (
                "code,prefecture,name,name_kana,kind,population_2020\n141003,神奈川県,横浜市,よこはまし,city,-1\n",
                2,
                GeoErrorKind::Population,
            ),
            (
                "code,prefecture,name,name_kana,kind,population_2020\n141003,神奈川県,,よこはまし,city,1\n",
                2,
                GeoErrorKind::EmptyField("name"),
            ),
            (
                "code,prefecture,name,name_kana,kind,population_2020\n",
                0,
                GeoErrorKind::Empty,
            ),
        ];
        for (text, line, kind) in cases {
            let err = Municipalities::parse(text).unwrap_err();
            assert_eq!((err.line, &err.kind), (line, &kind), "{text}");
            assert!(err.to_string().starts_with("municipality table line"));
        }
        let bad_code = "code,prefecture,name,name_kana,kind,population_2020\n141004,神奈川県,横浜市,よこはまし,city,1\n";
        let err = Municipalities::parse(bad_code).unwrap_err();
        assert!(matches!(err.kind, GeoErrorKind::Code(_)), "{err}");
        let twice = "code,prefecture,name,name_kana,kind,population_2020\n141003,神奈川県,横浜市,よこはまし,city,1\n141003,神奈川県,横浜市,よこはまし,city,1\n";
        assert!(matches!(
            Municipalities::parse(twice).unwrap_err().kind,
            GeoErrorKind::DuplicateCode(_)
        ));
    }
}
