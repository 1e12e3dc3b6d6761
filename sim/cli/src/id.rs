//! `kiban id`: validate identifiers with a precise message, or generate valid ones from a
//! seed.

use std::io::Write;

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use kiban_core::id::{
    CareOfficeNumber, InsuredNumber, InsurerNumber, MedicalInstitutionCode, MunicipalityCode,
    MyNumber,
};
use rand::SeedableRng;

use crate::exit::Code;

#[derive(Debug, Subcommand)]
pub(crate) enum IdCommand {
    /// Check identifiers; prints `ok` or the reason per value, exits 1 if any is invalid.
    Check {
        /// Which identifier the values are.
        kind: Kind,
        /// The values to check.
        #[arg(required = true)]
        values: Vec<String>,
    },
    /// Generate valid random identifiers from a seed (the same seed gives the same values).
    Generate {
        /// Which identifier to generate.
        kind: Kind,
        /// How many.
        #[arg(short = 'n', long, default_value_t = 1)]
        count: usize,
        /// Seed of the ChaCha generator.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Kind {
    /// 個人番号 (12 digits, mod 11). Synthetic use only.
    MyNumber,
    /// 全国地方公共団体コード (6 digits, mod 11; 5 digits accepted by `check`).
    Municipality,
    /// 介護保険 保険者番号 (6 digits, mod 10 weights 2-1).
    Insurer,
    /// 介護保険 被保険者番号 (10 letters or digits).
    Insured,
    /// 介護保険事業所番号 (10 characters, mod 10 weights 2-1).
    CareOffice,
    /// 医療機関コード (10 digits, mod 10 weights 2-1).
    Medical,
}

pub(crate) fn run(cmd: IdCommand) -> anyhow::Result<Code> {
    let mut out = std::io::stdout().lock();
    match cmd {
        IdCommand::Check { kind, values } => {
            let mut code = Code::Success;
            for value in &values {
                let shown = if matches!(kind, Kind::MyNumber) {
                    "(my number)"
                } else {
                    value
                };
                match check(kind, value) {
                    Ok(normalised) => writeln!(out, "ok\t{normalised}")?,
                    Err(reason) => {
                        code = Code::Failure;
                        writeln!(out, "invalid\t{shown}\t{reason}")?;
                    }
                }
            }
            Ok(code)
        }
        IdCommand::Generate { kind, count, seed } => {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            for _ in 0..count {
                writeln!(out, "{}", generate(kind, &mut rng)).context("writing to stdout")?;
            }
            Ok(Code::Success)
        }
    }
}

/// The normalised value, or the validation message.
fn check(kind: Kind, value: &str) -> Result<String, String> {
    let text = |r: Result<String, kiban_core::id::IdError>| r.map_err(|e| e.to_string());
    match kind {
        Kind::MyNumber => text(MyNumber::parse(value).map(|_| "(valid my number)".to_owned())),
        Kind::Municipality => text(MunicipalityCode::parse_lenient(value).map(|v| v.to_string())),
        Kind::Insurer => text(InsurerNumber::parse(value).map(|v| v.to_string())),
        Kind::Insured => text(InsuredNumber::parse(value).map(|v| v.to_string())),
        Kind::CareOffice => text(CareOfficeNumber::parse(value).map(|v| v.to_string())),
        Kind::Medical => text(MedicalInstitutionCode::parse(value).map(|v| v.to_string())),
    }
}

fn generate(kind: Kind, rng: &mut rand_chacha::ChaCha8Rng) -> String {
    match kind {
        // Generated numbers are synthetic test data; printing them is the point.
        Kind::MyNumber => MyNumber::random(rng).expose().to_owned(),
        Kind::Municipality => MunicipalityCode::random(rng).to_string(),
        Kind::Insurer => InsurerNumber::random(rng).to_string(),
        Kind::Insured => InsuredNumber::random(rng).to_string(),
        Kind::CareOffice => CareOfficeNumber::random(rng).to_string(),
        Kind::Medical => MedicalInstitutionCode::random(rng).to_string(),
    }
}
