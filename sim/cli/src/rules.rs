//! `kiban rules`: show the access matrix and policy decisions are made under, and check a
//! policy team's edited copies before they are used.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use kiban_core::rules::{AccessMatrix, Policy};
use kiban_core::vocab::{InfoClass, Role};

use crate::exit::{Code, UsageError};

#[derive(Debug, Subcommand)]
pub(crate) enum RulesCommand {
    /// Print the access matrix as a Markdown table (★ creator, ○ read, ◎ read with consent)
    /// and the policy as TOML.
    Show {
        /// An access-matrix TOML file to show instead of the published one.
        #[arg(long)]
        matrix: Option<PathBuf>,
        /// A policy TOML file to show instead of the 2025 proposal.
        #[arg(long)]
        policy: Option<PathBuf>,
    },
    /// Print the published access matrix as TOML, as a starting point for edits.
    Export,
    /// Check an edited access matrix and/or policy; exits 2 with the reason if invalid.
    Check {
        /// Access-matrix TOML file.
        #[arg(long)]
        matrix: Option<PathBuf>,
        /// Policy TOML file.
        #[arg(long)]
        policy: Option<PathBuf>,
    },
}

pub(crate) fn run(cmd: RulesCommand) -> anyhow::Result<Code> {
    let mut out = std::io::stdout().lock();
    match cmd {
        RulesCommand::Show { matrix, policy } => {
            let matrix = load_matrix(matrix.as_ref())?;
            let policy = load_policy(policy.as_ref())?;
            out.write_all(render_matrix(&matrix).as_bytes())?;
            writeln!(
                out,
                "\n## Policy\n\n```toml\n{}```",
                toml::to_string(&policy)?
            )?;
        }
        RulesCommand::Export => {
            out.write_all(AccessMatrix::published().to_toml_string().as_bytes())?
        }
        RulesCommand::Check { matrix, policy } => {
            if matrix.is_none() && policy.is_none() {
                return Err(UsageError("give --matrix FILE and/or --policy FILE".into()).into());
            }
            if let Some(path) = &matrix {
                load_matrix(Some(path))?;
                writeln!(out, "ok\t{}", path.display())?;
            }
            if let Some(path) = &policy {
                load_policy(Some(path))?;
                writeln!(out, "ok\t{}", path.display())?;
            }
        }
    }
    Ok(Code::Success)
}

pub(crate) fn load_matrix(path: Option<&PathBuf>) -> anyhow::Result<AccessMatrix> {
    let Some(path) = path else {
        return Ok(AccessMatrix::published());
    };
    let text = read(path)?;
    AccessMatrix::from_toml_str(&text)
        .map_err(|e| UsageError(format!("{}: {e}", path.display())).into())
}

pub(crate) fn load_policy(path: Option<&PathBuf>) -> anyhow::Result<Policy> {
    let Some(path) = path else {
        return Ok(Policy::proposal_2025());
    };
    let text = read(path)?;
    Policy::from_toml_str(&text).map_err(|e| UsageError(format!("{}: {e}", path.display())).into())
}

fn read(path: &PathBuf) -> anyhow::Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("{}: {e}", path.display())))
        .context("reading a rules file")
}

/// The matrix as a Markdown table, classes as rows (as in the seed's table).
fn render_matrix(matrix: &AccessMatrix) -> String {
    let roles: Vec<Role> = Role::ALL
        .iter()
        .copied()
        .filter(|r| *r != Role::Representative)
        .collect();
    let mut out = String::from("## Access matrix\n\n| class |");
    for role in &roles {
        out.push_str(&format!(" {role} |"));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(roles.len()));
    out.push('\n');
    for &class in InfoClass::ALL {
        out.push_str(&format!("| {class} |"));
        for &role in &roles {
            out.push_str(&format!(" {} |", matrix.access(role, class).mark()));
        }
        out.push('\n');
    }
    out.push_str(
        "\n★ creator (reads without consent) · ○ read · ◎ read with the person's consent · - none.\n\
         Representatives use the person column. Offices also need a registration; see `decide`.\n",
    );
    out
}
