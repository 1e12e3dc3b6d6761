//! The one error type of identifier validation: it says which character or check failed,
//! and never repeats the whole input (a My Number must not leak through an error message).

use std::fmt;

/// Which identifier an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdKind {
    /// 個人番号.
    MyNumber,
    /// 全国地方公共団体コード.
    MunicipalityCode,
    /// 介護保険 保険者番号.
    InsurerNumber,
    /// 介護保険 被保険者番号.
    InsuredNumber,
    /// 介護保険事業所番号.
    CareOfficeNumber,
    /// 医療機関コード.
    MedicalInstitutionCode,
}

impl fmt::Display for IdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IdKind::MyNumber => "My Number",
            IdKind::MunicipalityCode => "municipality code",
            IdKind::InsurerNumber => "insurer number",
            IdKind::InsuredNumber => "insured number",
            IdKind::CareOfficeNumber => "care-office number",
            IdKind::MedicalInstitutionCode => "medical-institution code",
        })
    }
}

/// Why a text is not a valid identifier. Positions count from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdError {
    /// The text has the wrong number of characters.
    Length {
        kind: IdKind,
        expected: usize,
        found: usize,
    },
    /// A character is not allowed at its position.
    Character {
        kind: IdKind,
        position: usize,
        found: char,
        expected: &'static str,
    },
    /// The check character does not match the body.
    CheckDigit {
        kind: IdKind,
        position: usize,
        expected: char,
        found: char,
    },
    /// The prefecture field is not 01–47.
    Prefecture { kind: IdKind, found: u8 },
}

impl IdError {
    /// The identifier the error is about.
    pub fn kind(&self) -> IdKind {
        match self {
            IdError::Length { kind, .. }
            | IdError::Character { kind, .. }
            | IdError::CheckDigit { kind, .. }
            | IdError::Prefecture { kind, .. } => *kind,
        }
    }
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdError::Length {
                kind,
                expected,
                found,
            } => {
                write!(f, "{kind}: expected {expected} characters, found {found}")
            }
            IdError::Character {
                kind,
                position,
                found,
                expected,
            } => {
                write!(
                    f,
                    "{kind}: character {position} is {found:?}, expected {expected}"
                )
            }
            IdError::CheckDigit {
                kind,
                position,
                expected,
                found,
            } => write!(
                f,
                "{kind}: check digit (character {position}) is {found:?}, the body requires {expected:?}"
            ),
            IdError::Prefecture { kind, found } => {
                write!(f, "{kind}: prefecture {found:02} is not 01-47")
            }
        }
    }
}

impl std::error::Error for IdError {}
