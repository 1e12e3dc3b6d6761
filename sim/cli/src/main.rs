//! The `kiban` command line: parses arguments, runs one command, maps the outcome to a
//! documented exit code (see [`exit`]). Each command lives in its own module.

mod audit;
mod certs;
mod cli;
mod conformance;
mod demo;
mod exit;
mod id;
mod rules;
mod scenario;
mod serve;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code.into(),
        Err(err) => {
            #[allow(clippy::print_stderr)] // The CLI reports its own failure.
            {
                eprintln!("error: {err:#}");
            }
            exit::Code::from_error(&err).into()
        }
    }
}
