//! Argument definitions and dispatch: one subcommand per room.

use clap::{Parser, Subcommand};

use crate::exit::Code;

/// kiban — simulation and conformance harness for Japan's long-term-care information
/// platform (介護情報基盤).
///
/// Start with `kiban demo`. Also: the decision core (`id`, `rules`), the test PKI (`certs`),
/// the reference platform (`serve`, `openapi`, `audit`), scenarios (`scenario run`) and
/// the vendor conformance suite (`conformance run`, `conformance csv`, `conformance observe`).
#[derive(Debug, Parser)]
#[command(name = "kiban", version, about, long_about, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The main job end to end: a wire-mode walkthrough (PKI, platform over mTLS, actors)
    /// and the national model, with reports under ./reports/demo.
    Demo(crate::demo::DemoArgs),
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
    /// Vendor conformance: run the suite against a platform, observe a vendor's system, or
    /// validate care-plan CSV files.
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
        Command::Demo(args) => crate::demo::run(&args),
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
