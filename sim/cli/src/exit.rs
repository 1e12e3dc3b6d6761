//! Exit codes of `kiban`, stable for scripts and CI.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | the command ran and found a failure (an invalid identifier, a failed check) |
//! | 2 | usage or input error (bad arguments, unreadable or malformed files) |
//! | 3 | internal or environment error (I/O failure, a bug) |

use std::process::ExitCode;

/// A documented exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Code {
    /// 0: success.
    Success,
    /// 1: the command ran and found a failure.
    Failure,
    /// 2: usage or input error.
    Usage,
    /// 3: internal or environment error.
    Internal,
}

/// An error the user can fix by changing the command or its input (exit code 2).
#[derive(Debug)]
pub(crate) struct UsageError(pub(crate) String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

impl Code {
    /// Usage errors anywhere in the chain exit 2; everything else is internal (3).
    pub(crate) fn from_error(err: &anyhow::Error) -> Code {
        if err.chain().any(|e| e.is::<UsageError>()) {
            Code::Usage
        } else {
            Code::Internal
        }
    }
}

impl From<Code> for ExitCode {
    fn from(code: Code) -> ExitCode {
        ExitCode::from(match code {
            Code::Success => 0,
            Code::Failure => 1,
            Code::Usage => 2,
            Code::Internal => 3,
        })
    }
}
