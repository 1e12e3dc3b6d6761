//! `kiban audit verify`: checks a platform data folder's audit log — the hash chain, the
//! signed checkpoints and the anchor — and says exactly where it is broken. Read-only; safe
//! beside a running platform. Exit 0 when intact, 1 when anything is found.

use std::io::Write;
use std::path::PathBuf;

use clap::Subcommand;

use crate::exit::{Code, UsageError};

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Verify the audit log of a data folder.
    Verify {
        /// The platform's data folder (as given to `kiban serve --data`).
        #[arg(long, default_value = "kiban-data/platform")]
        data: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(cmd: AuditCommand) -> anyhow::Result<Code> {
    let AuditCommand::Verify { data, json } = cmd;
    if !data.join(kiban_platform::audit::DB_FILE).exists() {
        return Err(UsageError(format!(
            "{}: no {} here",
            data.display(),
            kiban_platform::audit::DB_FILE
        ))
        .into());
    }
    let report = kiban_platform::audit::verify_data_dir(&data)
        .map_err(|e| UsageError(format!("{}: {e}", data.display())))?;
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        writeln!(out, "{report}")?;
    }
    Ok(if report.is_ok() {
        Code::Success
    } else {
        Code::Failure
    })
}
