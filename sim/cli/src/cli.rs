//! Argument definitions and dispatch. Only what exists is listed: later rooms (platform,
//! scenarios, conformance) add their subcommands here when they land.

use clap::{Parser, Subcommand};

use crate::exit::Code;

/// kiban — simulation and conformance harness for Japan's long-term-care information
/// platform (介護情報基盤).
///
/// Built so far: the decision core (identifiers, vocabulary, rules as data, the access
/// decision), the test PKI, and the reference platform (`serve`, `openapi`). Not built
/// yet: actors, scenarios, the conformance suite.
#[derive(Debug, Parser)]
#[command(name = "kiban", version, about, long_about, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate or generate domain identifiers (My Number, municipality code, insurer,
    /// insured, care-office and medical-institution numbers).
    #[command(subcommand)]
    Id(crate::id::IdCommand),
    /// Show or check the access matrix and policies (consent, registration lapse, rollout).
    #[command(subcommand)]
    Rules(crate::rules::RulesCommand),
    /// Test PKI: operator CA, client certificates carrying the principal, CRLs (init,
    /// issue, renew, revoke, crl, list).
    Certs(crate::certs::CertsArgs),
    /// Run the reference platform over TLS 1.3 with client certificates.
    Serve(crate::serve::ServeArgs),
    /// Print the platform's OpenAPI 3 document (JSON).
    Openapi,
    /// Check the platform's tamper-evident audit log.
    #[command(subcommand)]
    Audit(crate::audit::AuditCommand),
    /// Run scenarios (rollout, consent and lapse policies, national model) and write reports.
    #[command(subcommand)]
    Scenario(crate::scenario::ScenarioCommand),
    /// Vendor conformance: run the suite against a platform, or validate care-plan CSV files.
    #[command(subcommand)]
    Conformance(crate::conformance::ConformanceCommand),
}

/// Runs the parsed command.
pub(crate) fn run(cli: Cli) -> anyhow::Result<Code> {
    match cli.command {
        Command::Id(cmd) => crate::id::run(cmd),
        Command::Rules(cmd) => crate::rules::run(cmd),
        Command::Certs(args) => crate::certs::run(args),
        Command::Serve(args) => crate::serve::run(args),
        Command::Audit(cmd) => crate::audit::run(cmd),
        Command::Scenario(cmd) => crate::scenario::run(cmd),
        Command::Conformance(cmd) => crate::conformance::run(cmd),
        Command::Openapi => {
            use std::io::Write;
            writeln!(
                std::io::stdout().lock(),
                "{}",
                kiban_platform::openapi::document_json()
            )?;
            Ok(Code::Success)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
