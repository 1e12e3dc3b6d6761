//! File names of the standard (spec §2.1): the kind (prefix), the 対象年月/提供年月 where the
//! kind has one, sender and receiver (事業所番号 and, since v4.1, サービス種類コード), and the
//! 14-digit ファイル連番 (`YYYYMMDDHHMMSS`).
//!
//! v4.1 (spec §2.1, `[C]`):
//! `{PREFIX}[_{YYYYMM}]_{送信元10}_{種類2}_{送信先10}_{種類2}_{YYYYMMDDHHMMSS}.CSV`;
//! v3.x (vol.1156, `[C]` for UPPLAN/UPJSK/UP1KYO/UP2KYO/UPHOSOKU):
//! `{PREFIX}[_{YYYYMM}]_{送信元10}_{送信先10}_{YYYYMMDDHHMMSS}.CSV`.
//!
//! Decisions:
//! - The v3 names of DLT1KYO, DLTPLAN, DLTJSK and UPSIKYU were not seen (`[NC]`); they are
//!   accepted in the v4 pattern without the two type codes, as the spec presumes.
//! - UP3KYO and the 予防 files did not exist before v4, so they have no v3 form.
//! - The v4.0 form with 3-digit サービスコード was not seen (`[NC]`) and is rejected.
//! - The extension `.CSV` (`.jpg` for the family image) is what the spec prints; the other
//!   case is accepted and remembered, so `Display` round-trips, and the parser reports it as
//!   a `file-name-case` warning.
//! - Office numbers must be valid `CareOfficeNumber`s (check digit and prefecture): the spec's
//!   own examples (`0300000100`) are placeholders.

use std::fmt;

use kiban_core::id::{CareOfficeNumber, IdError};
use serde::Serialize;
use time::{Date, Month, PrimitiveDateTime, Time};

use super::layout::RecordKind;
use super::values::{ServiceTypeCode, YearMonth};

/// Which file of the standard a name denotes (spec §1, §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum FileKind {
    /// `UPHOSOKU` 利用者補足情報.
    Supplement,
    /// `UP1KYO` 居宅サービス計画1表.
    Table1,
    /// `DLT1KYO` 居宅サービス計画1表_削除.
    Table1Delete,
    /// `UP2KYO` 居宅サービス計画2表.
    Table2,
    /// `UP3KYO` 居宅サービス計画3表 (v4).
    Table3,
    /// `UPPLAN` 第6表（サービス利用票）予定.
    Plan,
    /// `DLTPLAN` 第6表 予定削除.
    PlanDelete,
    /// `UPJSK` 第6表 実績情報.
    Actual,
    /// `DLTJSK` 第6表 実績情報削除.
    ActualDelete,
    /// `UPSIKYU` 第7表（サービス利用票別表）.
    Table7,
    /// `UPKIHON` 利用者基本情報 (予防, v4; recognised only).
    PreventionBasic,
    /// `UPKIHON_SUB1` 利用者基本情報（別表1）.
    PreventionBasicSub1,
    /// `UPKIHON_SUB2` 利用者基本情報（別表2）.
    PreventionBasicSub2,
    /// `UPKIHON_IMAGE_…_{枝番4}.jpg` 家族構成 画像ファイル.
    PreventionBasicImage,
    /// `DLTKIHON` 利用者基本情報_削除.
    PreventionBasicDelete,
    /// `UPYOBO` 介護予防サービス・支援計画書.
    PreventionPlan,
    /// `UPYOBO_SUB` 同（別表）支援計画.
    PreventionPlanSub,
    /// `DLTYOBO` 介護予防サービス・支援計画書_削除.
    PreventionPlanDelete,
}

/// Who sends a kind of file (spec §1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Sender {
    /// The 居宅介護支援事業所 (or 地域包括支援センター for 予防 files).
    CareManagement,
    /// The サービス事業所 (実績 and 実績削除).
    Provider,
}

impl FileKind {
    /// Every kind; longer prefixes come before the prefixes they extend.
    pub const ALL: &'static [FileKind] = &[
        FileKind::Supplement,
        FileKind::Table1,
        FileKind::Table1Delete,
        FileKind::Table2,
        FileKind::Table3,
        FileKind::Plan,
        FileKind::PlanDelete,
        FileKind::Actual,
        FileKind::ActualDelete,
        FileKind::Table7,
        FileKind::PreventionBasicImage,
        FileKind::PreventionBasicSub1,
        FileKind::PreventionBasicSub2,
        FileKind::PreventionBasic,
        FileKind::PreventionBasicDelete,
        FileKind::PreventionPlanSub,
        FileKind::PreventionPlan,
        FileKind::PreventionPlanDelete,
    ];

    /// The file-name prefix (without the trailing `_`).
    pub const fn prefix(self) -> &'static str {
        match self {
            FileKind::Supplement => "UPHOSOKU",
            FileKind::Table1 => "UP1KYO",
            FileKind::Table1Delete => "DLT1KYO",
            FileKind::Table2 => "UP2KYO",
            FileKind::Table3 => "UP3KYO",
            FileKind::Plan => "UPPLAN",
            FileKind::PlanDelete => "DLTPLAN",
            FileKind::Actual => "UPJSK",
            FileKind::ActualDelete => "DLTJSK",
            FileKind::Table7 => "UPSIKYU",
            FileKind::PreventionBasic => "UPKIHON",
            FileKind::PreventionBasicSub1 => "UPKIHON_SUB1",
            FileKind::PreventionBasicSub2 => "UPKIHON_SUB2",
            FileKind::PreventionBasicImage => "UPKIHON_IMAGE",
            FileKind::PreventionBasicDelete => "DLTKIHON",
            FileKind::PreventionPlan => "UPYOBO",
            FileKind::PreventionPlanSub => "UPYOBO_SUB",
            FileKind::PreventionPlanDelete => "DLTYOBO",
        }
    }

    /// The Japanese file name of spec §1.
    pub const fn title_ja(self) -> &'static str {
        match self {
            FileKind::Supplement => "利用者補足情報",
            FileKind::Table1 => "居宅サービス計画1表",
            FileKind::Table1Delete => "居宅サービス計画1表_削除",
            FileKind::Table2 => "居宅サービス計画2表",
            FileKind::Table3 => "居宅サービス計画3表",
            FileKind::Plan => "第6表（サービス利用票）予定",
            FileKind::PlanDelete => "第6表（サービス利用票）予定削除",
            FileKind::Actual => "第6表 実績情報",
            FileKind::ActualDelete => "第6表 実績情報削除",
            FileKind::Table7 => "第7表（サービス利用票別表）",
            FileKind::PreventionBasic => "利用者基本情報",
            FileKind::PreventionBasicSub1 => "利用者基本情報（別表1）",
            FileKind::PreventionBasicSub2 => "利用者基本情報（別表2）",
            FileKind::PreventionBasicImage => "家族構成 画像ファイル",
            FileKind::PreventionBasicDelete => "利用者基本情報_削除",
            FileKind::PreventionPlan => "介護予防サービス・支援計画書",
            FileKind::PreventionPlanSub => "介護予防サービス・支援計画書（別表）",
            FileKind::PreventionPlanDelete => "介護予防サービス・支援計画書_削除",
        }
    }

    /// Whether the name carries a month after the prefix (spec §2.1): 提供年月 for UPHOSOKU
    /// (`000000` when it goes with the 1表), 対象年月 for the 第6表/第7表 files.
    pub const fn has_month(self) -> bool {
        matches!(
            self,
            FileKind::Supplement
                | FileKind::Plan
                | FileKind::PlanDelete
                | FileKind::Actual
                | FileKind::ActualDelete
                | FileKind::Table7
        )
    }

    /// Whether a v3 form of the name exists (see the module doc).
    pub const fn has_v3_name(self) -> bool {
        matches!(
            self,
            FileKind::Supplement
                | FileKind::Table1
                | FileKind::Table1Delete
                | FileKind::Table2
                | FileKind::Plan
                | FileKind::PlanDelete
                | FileKind::Actual
                | FileKind::ActualDelete
                | FileKind::Table7
        )
    }

    /// Whether this is a 予防 file (spec §1.2): recognised by prefix, layout not covered.
    pub const fn is_prevention(self) -> bool {
        self.record_kind().is_none()
    }

    /// Who sends it (spec §1.1).
    pub const fn sender(self) -> Sender {
        match self {
            FileKind::Actual | FileKind::ActualDelete => Sender::Provider,
            _ => Sender::CareManagement,
        }
    }

    /// The record layout, for the files this codec covers.
    pub const fn record_kind(self) -> Option<RecordKind> {
        Some(match self {
            FileKind::Supplement => RecordKind::Supplement,
            FileKind::Table1 => RecordKind::Table1,
            FileKind::Table1Delete => RecordKind::Table1Delete,
            FileKind::Table2 => RecordKind::Table2,
            FileKind::Table3 => RecordKind::Table3,
            FileKind::Plan | FileKind::Actual => RecordKind::Table6,
            FileKind::PlanDelete => RecordKind::PlanDelete,
            FileKind::ActualDelete => RecordKind::ActualDelete,
            FileKind::Table7 => RecordKind::Table7,
            _ => return None,
        })
    }

    fn extension(self) -> &'static str {
        match self {
            FileKind::PreventionBasicImage => "jpg",
            _ => "CSV",
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.prefix())
    }
}

/// Which edition's naming rule a name follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum NameFormat {
    /// v3.x (vol.1156): no サービス種類コード.
    V3,
    /// v4.1: each office number is followed by its 2-character サービス種類コード.
    V41,
}

/// A sender or receiver: 事業所番号 and, in v4.1 names, サービス種類コード.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    /// The 事業所番号.
    pub office: CareOfficeNumber,
    /// The サービス種類コード (v4.1 names only).
    pub service_type: Option<ServiceTypeCode>,
}

/// The 14-digit ファイル連番 `YYYYMMDDHHMMSS` (spec §2.1): every file of one send unit
/// carries the same value, and receivers process units in ascending order (spec §4.5).
/// Ordering follows the text, which is chronological.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileSerial([u8; 14]);

impl FileSerial {
    /// Parses 14 digits that form a real date and time.
    pub fn parse(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() != 14 || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let mut out = [0u8; 14];
        out.copy_from_slice(b);
        let serial = Self(out);
        serial.date_time().map(|_| serial)
    }

    /// From a date and time (seconds precision).
    pub fn from_date_time(at: PrimitiveDateTime) -> Option<Self> {
        if !(1..=9999).contains(&at.year()) {
            return None;
        }
        let text = format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            at.second()
        );
        Self::parse(&text)
    }

    /// The date and time the digits spell.
    pub fn date_time(&self) -> Option<PrimitiveDateTime> {
        let n = |r: std::ops::Range<usize>| -> Option<u16> { self.as_str().get(r)?.parse().ok() };
        let month = Month::try_from(u8::try_from(n(4..6)?).ok()?).ok()?;
        let date =
            Date::from_calendar_date(i32::from(n(0..4)?), month, u8::try_from(n(6..8)?).ok()?)
                .ok()?;
        let time = Time::from_hms(
            u8::try_from(n(8..10)?).ok()?,
            u8::try_from(n(10..12)?).ok()?,
            u8::try_from(n(12..14)?).ok()?,
        )
        .ok()?;
        Some(PrimitiveDateTime::new(date, time))
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        // Built only from ASCII digits.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for FileSerial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for FileSerial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FileSerial({})", self.as_str())
    }
}

/// A parsed file name. `Display` writes the name back exactly.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileName {
    kind: FileKind,
    format: NameFormat,
    month: Option<YearMonth>,
    sender: Endpoint,
    receiver: Endpoint,
    serial: FileSerial,
    image_branch: Option<u16>,
    ext_other_case: bool,
}

/// Why a file name was rejected. Messages are lowercase and name the failing part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// No known prefix.
    #[error(
        "unknown file-name prefix: expected one of UPHOSOKU, UP1KYO, DLT1KYO, UP2KYO, UP3KYO, UPPLAN, DLTPLAN, UPJSK, DLTJSK, UPSIKYU or a 予防 prefix"
    )]
    UnknownPrefix,
    /// The extension is missing or wrong.
    #[error("{kind} file name must end in .{expected}")]
    Extension {
        /// The recognised kind.
        kind: FileKind,
        /// The extension the spec prints.
        expected: &'static str,
    },
    /// Wrong number of `_`-separated parts.
    #[error("{kind} file name has {found} parts after the prefix; expected {v41} (v4.1){v3}")]
    Parts {
        /// The recognised kind.
        kind: FileKind,
        /// Parts found.
        found: usize,
        /// Parts of the v4.1 form.
        v41: usize,
        /// ` or N (v3)` when a v3 form exists.
        v3: String,
    },
    /// The month is not `YYYYMM` (or `000000` where allowed).
    #[error("{kind} file name: month must be YYYYMM{zero}")]
    Month {
        /// The recognised kind.
        kind: FileKind,
        /// Mentions `000000` for UPHOSOKU.
        zero: &'static str,
    },
    /// A `000000` month where a real month is required.
    #[error("{kind} file name: 000000 is only allowed for UPHOSOKU that goes with the 1表")]
    ZeroMonth {
        /// The recognised kind.
        kind: FileKind,
    },
    /// An office number failed validation.
    #[error("{kind} file name: {which} office number: {source}")]
    Office {
        /// The recognised kind.
        kind: FileKind,
        /// `sender` or `receiver`.
        which: &'static str,
        /// What failed.
        source: IdError,
    },
    /// A サービス種類コード is not two digits or upper-case letters.
    #[error(
        "{kind} file name: {which} service type code must be 2 digits or upper-case letters{hint}"
    )]
    ServiceType {
        /// The recognised kind.
        kind: FileKind,
        /// `sender` or `receiver`.
        which: &'static str,
        /// A hint for the v4.0 3-digit form.
        hint: &'static str,
    },
    /// The 連番 is not 14 digits forming a date and time.
    #[error(
        "{kind} file name: ファイル連番 must be 14 digits YYYYMMDDHHMMSS forming a real date and time"
    )]
    Serial {
        /// The recognised kind.
        kind: FileKind,
    },
    /// The 枝番 of an image name is not 4 digits.
    #[error("{kind} file name: 枝番 must be 4 digits")]
    Branch {
        /// The recognised kind.
        kind: FileKind,
    },
    /// A v3-form name for a kind that has none.
    #[error(
        "{kind} has no v3 file name (the file was added in v4); expected the v4.1 form with service type codes"
    )]
    NoV3Form {
        /// The recognised kind.
        kind: FileKind,
    },
}

impl NameError {
    /// The kind, when the prefix was recognised (so the content can still be checked).
    pub fn kind(&self) -> Option<FileKind> {
        match self {
            NameError::UnknownPrefix => None,
            NameError::Extension { kind, .. }
            | NameError::Parts { kind, .. }
            | NameError::Month { kind, .. }
            | NameError::ZeroMonth { kind }
            | NameError::Office { kind, .. }
            | NameError::ServiceType { kind, .. }
            | NameError::Serial { kind }
            | NameError::Branch { kind }
            | NameError::NoV3Form { kind } => Some(*kind),
        }
    }
}

/// Why [`FileName::new`] refused a combination.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameBuildError {
    /// A month was given for a kind without one, or omitted for a kind that needs one.
    #[error("{0} file names {1}")]
    Month(FileKind, &'static str),
    /// Service types present on one side only, or absent in a v4.1 name.
    #[error("v4.1 names need service type codes on both sides; v3 names have none")]
    ServiceTypes,
    /// The kind has no v3 name.
    #[error("{0} has no v3 file name")]
    NoV3Form(FileKind),
    /// The image kind needs `FileName::image`.
    #[error("family image names are built with FileName::image")]
    Image,
}

impl FileName {
    /// Builds a name for a CSV file. `month` must be `Some` for the 第6表/第7表 kinds, `None`
    /// for the 1表/2表/3表 and 予防 kinds; for UPHOSOKU `None` means `000000` (the file goes
    /// with the 1表). The format follows the endpoints: both with service types (v4.1) or
    /// both without (v3).
    pub fn new(
        kind: FileKind,
        month: Option<YearMonth>,
        sender: Endpoint,
        receiver: Endpoint,
        serial: FileSerial,
    ) -> Result<Self, NameBuildError> {
        if kind == FileKind::PreventionBasicImage {
            return Err(NameBuildError::Image);
        }
        match (kind.has_month(), month.is_some()) {
            (false, true) => return Err(NameBuildError::Month(kind, "carry no month")),
            (true, false) if kind != FileKind::Supplement => {
                return Err(NameBuildError::Month(kind, "need a month"));
            }
            _ => {}
        }
        let format = match (sender.service_type, receiver.service_type) {
            (Some(_), Some(_)) => NameFormat::V41,
            (None, None) if kind.has_v3_name() => NameFormat::V3,
            (None, None) => return Err(NameBuildError::NoV3Form(kind)),
            _ => return Err(NameBuildError::ServiceTypes),
        };
        Ok(Self {
            kind,
            format,
            month,
            sender,
            receiver,
            serial,
            image_branch: None,
            ext_other_case: false,
        })
    }

    /// Builds the name of a 家族構成 image (v4.1 only): the tail of its UPKIHON file and a
    /// 4-digit 枝番 (0–9999).
    pub fn image(
        sender: Endpoint,
        receiver: Endpoint,
        serial: FileSerial,
        branch: u16,
    ) -> Result<Self, NameBuildError> {
        if sender.service_type.is_none() || receiver.service_type.is_none() || branch > 9999 {
            return Err(NameBuildError::ServiceTypes);
        }
        Ok(Self {
            kind: FileKind::PreventionBasicImage,
            format: NameFormat::V41,
            month: None,
            sender,
            receiver,
            serial,
            image_branch: Some(branch),
            ext_other_case: false,
        })
    }

    /// Parses a file name (no directory part).
    pub fn parse(name: &str) -> Result<Self, NameError> {
        let kind = FileKind::ALL
            .iter()
            .copied()
            .find(|k| {
                name.strip_prefix(k.prefix())
                    .is_some_and(|rest| rest.starts_with('_'))
            })
            .ok_or(NameError::UnknownPrefix)?;
        // The prefix and `_` are ASCII, so slicing after them is on a char boundary.
        let rest = name.get(kind.prefix().len() + 1..).unwrap_or_default();
        let expected = kind.extension();
        let (stem, ext) = rest
            .rsplit_once('.')
            .ok_or(NameError::Extension { kind, expected })?;
        let ext_other_case = if ext == expected {
            false
        } else if ext == flip_case(expected) {
            true
        } else {
            return Err(NameError::Extension { kind, expected });
        };
        let mut parts: Vec<&str> = stem.split('_').collect();
        let image_branch = if kind == FileKind::PreventionBasicImage {
            let branch = parts.pop().unwrap_or_default();
            if branch.len() != 4 || !branch.bytes().all(|b| b.is_ascii_digit()) {
                return Err(NameError::Branch { kind });
            }
            Some(branch.parse().map_err(|_| NameError::Branch { kind })?)
        } else {
            None
        };
        let month_parts = usize::from(kind.has_month());
        let v41 = month_parts + 5;
        let v3 = month_parts + 3;
        let format = if parts.len() == v41 {
            NameFormat::V41
        } else if parts.len() == v3 && kind.has_v3_name() {
            NameFormat::V3
        } else if parts.len() == v3 {
            return Err(NameError::NoV3Form { kind });
        } else {
            return Err(NameError::Parts {
                kind,
                found: parts.len() + usize::from(image_branch.is_some()),
                v41: v41 + usize::from(image_branch.is_some()),
                v3: if kind.has_v3_name() {
                    format!(" or {v3} (v3)")
                } else {
                    String::new()
                },
            });
        };
        let mut it = parts.into_iter();
        let mut next = || it.next().unwrap_or_default();
        let month = if kind.has_month() {
            let text = next();
            if text == "000000" {
                if kind != FileKind::Supplement {
                    return Err(NameError::ZeroMonth { kind });
                }
                None
            } else {
                let zero = if kind == FileKind::Supplement {
                    " or 000000"
                } else {
                    ""
                };
                Some(YearMonth::parse(text).ok_or(NameError::Month { kind, zero })?)
            }
        } else {
            None
        };
        let office = |text: &str, which| {
            CareOfficeNumber::parse(text).map_err(|source| NameError::Office {
                kind,
                which,
                source,
            })
        };
        let service_type = |text: &str, which| {
            ServiceTypeCode::parse(text).ok_or(NameError::ServiceType {
                kind,
                which,
                hint: if text.len() == 3 {
                    " (3-digit codes are the unsupported v4.0 form)"
                } else {
                    ""
                },
            })
        };
        let sender_office = office(next(), "sender")?;
        let sender_type = match format {
            NameFormat::V41 => Some(service_type(next(), "sender")?),
            NameFormat::V3 => None,
        };
        let receiver_office = office(next(), "receiver")?;
        let receiver_type = match format {
            NameFormat::V41 => Some(service_type(next(), "receiver")?),
            NameFormat::V3 => None,
        };
        let serial = FileSerial::parse(next()).ok_or(NameError::Serial { kind })?;
        Ok(Self {
            kind,
            format,
            month,
            sender: Endpoint {
                office: sender_office,
                service_type: sender_type,
            },
            receiver: Endpoint {
                office: receiver_office,
                service_type: receiver_type,
            },
            serial,
            image_branch,
            ext_other_case,
        })
    }

    /// The kind of file.
    pub fn kind(&self) -> FileKind {
        self.kind
    }

    /// Which edition's naming rule the name follows.
    pub fn format(&self) -> NameFormat {
        self.format
    }

    /// The month: 対象年月 for the 第6表/第7表 kinds, 提供年月 for UPHOSOKU (`None` for
    /// `000000`), `None` for kinds without a month.
    pub fn month(&self) -> Option<YearMonth> {
        self.month
    }

    /// The sender.
    pub fn sender(&self) -> Endpoint {
        self.sender
    }

    /// The receiver.
    pub fn receiver(&self) -> Endpoint {
        self.receiver
    }

    /// The ファイル連番.
    pub fn serial(&self) -> FileSerial {
        self.serial
    }

    /// The 枝番 of a 家族構成 image name.
    pub fn image_branch(&self) -> Option<u16> {
        self.image_branch
    }

    /// Whether the extension was written in the other case than the spec prints.
    pub fn extension_case_differs(&self) -> bool {
        self.ext_other_case
    }
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.prefix())?;
        if self.kind.has_month() {
            match self.month {
                Some(m) => write!(f, "_{m}")?,
                None => f.write_str("_000000")?,
            }
        }
        for end in [self.sender, self.receiver] {
            write!(f, "_{}", end.office)?;
            if let Some(t) = end.service_type {
                write!(f, "_{t}")?;
            }
        }
        write!(f, "_{}", self.serial)?;
        if let Some(b) = self.image_branch {
            write!(f, "_{b:04}")?;
        }
        let ext = self.kind.extension();
        if self.ext_other_case {
            write!(f, ".{}", flip_case(ext))
        } else {
            write!(f, ".{ext}")
        }
    }
}

/// The extension in the other case (`CSV` ↔ `csv`, `jpg` ↔ `JPG`).
fn flip_case(ext: &str) -> String {
    ext.chars()
        .map(|c| {
            if c.is_ascii_uppercase() {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect()
}
