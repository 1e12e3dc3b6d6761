//! `kiban certs`: the test PKI on disk (see certs/README.md): create it, issue, renew and
//! revoke certificates, write the CRL, list the inventory with expiry warnings.
//!
//! This is the one place of the PKI that reads the wall clock (`SystemClock`); the library
//! takes `now` from here.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{ArgGroup, Args, Subcommand};
use kiban_certs::clock::{Clock, SystemClock};
use kiban_certs::pki::{KeyAlgorithm, Lifetimes, RevocationReason};
use kiban_certs::principal::{Organisation, Principal, TerminalId};
use kiban_certs::store::{Entry, InitOptions, Kind, PkiDir, StoreError};
use kiban_certs::{CardSerial, Serial};
use kiban_core::id::{CareOfficeNumber, MedicalInstitutionCode, MunicipalityCode};
use kiban_core::vocab::Role;

use crate::exit::{Code, UsageError};

/// Arguments of `kiban certs`.
#[derive(Debug, Args)]
pub(crate) struct CertsArgs {
    /// The PKI folder (never commit it).
    #[arg(long, global = true, default_value = kiban_certs::store::DEFAULT_DIR)]
    dir: PathBuf,
    #[command(subcommand)]
    command: CertsCommand,
}

#[derive(Debug, Subcommand)]
enum CertsCommand {
    /// Create the PKI: operator root CA, client-issuing CA, platform server certificate,
    /// virtual J-LIS CA, an empty CRL and the inventory.
    Init {
        /// Replace an existing PKI (deletes its client, card and archived certificates).
        #[arg(long)]
        force: bool,
        /// DNS name or IP address of the server certificate (repeatable).
        #[arg(long = "server-name", value_name = "NAME", default_values_t = kiban_certs::pki::default_server_names())]
        server_names: Vec<String>,
        /// Key algorithm of every key.
        #[arg(long, default_value = "p256", value_parser = parse_algorithm)]
        algorithm: KeyAlgorithm,
        /// Validity of the platform server certificate, in days.
        #[arg(long, default_value_t = Lifetimes::default().server_days)]
        server_days: u32,
        /// Days from a CRL's thisUpdate to its nextUpdate.
        #[arg(long, default_value_t = Lifetimes::default().crl_days)]
        crl_days: u32,
    },
    /// Issue a client certificate for a principal (role, organisation, terminal), or a
    /// virtual card's user-authentication certificate with --card.
    #[command(group(ArgGroup::new("who").required(true).args(["role", "card"])))]
    Issue {
        /// Role: municipality, care-management, care-service, facility,
        /// medical-institution or operator.
        #[arg(long, value_parser = parse_role)]
        role: Option<Role>,
        /// 介護保険事業所番号 (care-management, care-service, facility).
        #[arg(long, value_parser = CareOfficeNumber::parse)]
        office: Option<CareOfficeNumber>,
        /// 全国地方公共団体コード, 6 digits (municipality).
        #[arg(long, value_parser = MunicipalityCode::parse)]
        municipality: Option<MunicipalityCode>,
        /// 医療機関コード (medical-institution).
        #[arg(long = "medical-institution", value_parser = MedicalInstitutionCode::parse)]
        medical_institution: Option<MedicalInstitutionCode>,
        /// Terminal (device) id: 1-32 of A-Z a-z 0-9 - . _, starting with a letter or digit.
        #[arg(long, value_parser = TerminalId::parse, required_unless_present = "card")]
        terminal: Option<TerminalId>,
        /// Opaque serial of a virtual My Number card (1-32 of A-Z 0-9); no personal data.
        #[arg(long, value_parser = CardSerial::parse, conflicts_with_all = ["role", "office", "municipality", "medical_institution", "terminal"])]
        card: Option<CardSerial>,
        /// Validity in days (default: 365 for clients, 1825 for cards).
        #[arg(long)]
        days: Option<u32>,
        /// Replace the principal's current certificate and files (the old one is marked
        /// replaced and archived, not revoked).
        #[arg(long)]
        force: bool,
    },
    /// Renew a client or server certificate: same subject, new key and serial. The old
    /// certificate stays valid until it expires unless --revoke-old.
    Renew {
        /// Serial of the certificate to renew (hex, as `list` shows it).
        #[arg(long)]
        serial: Serial,
        /// Validity of the new certificate in days (default: 365 for clients, 90 for the
        /// server).
        #[arg(long)]
        days: Option<u32>,
        /// Revoke the old certificate as superseded and write a new CRL.
        #[arg(long)]
        revoke_old: bool,
    },
    /// Revoke a client certificate and write a new CRL.
    Revoke {
        /// Serial of the certificate (hex, as `list` shows it).
        #[arg(long)]
        serial: Serial,
        /// key-compromise (RFC 5280 code 1), staff-left (3), superseded (4) or
        /// terminal-retired (5).
        #[arg(long, value_parser = parse_reason)]
        reason: RevocationReason,
    },
    /// Write a fresh CRL (next number, new nextUpdate) with the current revocations.
    Crl,
    /// Show every certificate with its status; with --expiring-within, warn about usable
    /// certificates that expire within DAYS days and exit 1 if there are any.
    List {
        /// Warn about certificates expiring within this many days.
        #[arg(long, value_name = "DAYS")]
        expiring_within: Option<u32>,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    let role: Role = text
        .parse()
        .map_err(|e: kiban_core::vocab::UnknownTerm| e.to_string())?;
    if role == Role::Representative {
        return Err(format!(
            "role {role} does not get a client certificate (representatives sign in with their own card through the マイナポータル relay, role person)"
        ));
    }
    Ok(role)
}

fn parse_algorithm(text: &str) -> Result<KeyAlgorithm, String> {
    text.parse()
}

fn parse_reason(text: &str) -> Result<RevocationReason, String> {
    text.parse()
}

/// Runs `kiban certs`.
pub(crate) fn run(args: CertsArgs) -> anyhow::Result<Code> {
    // The one clock read of the PKI: everything below takes `now`.
    let now = SystemClock.now();
    let mut out = std::io::stdout().lock();
    let dir = args.dir.as_path();
    match args.command {
        CertsCommand::Init {
            force,
            server_names,
            algorithm,
            server_days,
            crl_days,
        } => {
            let options = InitOptions {
                algorithm,
                lifetimes: Lifetimes {
                    server_days,
                    crl_days,
                    ..Lifetimes::default()
                },
                server_names,
            };
            let store = PkiDir::init(dir, &options, now, force).map_err(store_error)?;
            writeln!(out, "created PKI in {}", dir.display())?;
            for entry in &store.inventory().certificates {
                show_entry(&mut out, dir, entry)?;
            }
            writeln!(
                out,
                "crl\t{}",
                dir.join(kiban_certs::store::files::CLIENT_CRL).display()
            )?;
        }
        CertsCommand::Issue {
            role,
            office,
            municipality,
            medical_institution,
            terminal,
            card,
            days,
            force,
        } => {
            let mut store = PkiDir::open(dir).map_err(store_error)?;
            let entry = if let Some(card) = card {
                let days = days.unwrap_or(Lifetimes::default().card_days);
                store.issue_card(&card, days, now, force)
            } else {
                let principal =
                    principal(role, office, municipality, medical_institution, terminal)?;
                let days = days.unwrap_or(Lifetimes::default().client_days);
                store.issue_client(&principal, days, now, force)
            }
            .map_err(store_error)?;
            writeln!(out, "issued {} certificate", entry.kind)?;
            show_entry(&mut out, dir, &entry)?;
        }
        CertsCommand::Renew {
            serial,
            days,
            revoke_old,
        } => {
            let mut store = PkiDir::open(dir).map_err(store_error)?;
            let kind = store.inventory().find(&serial).map(|e| e.kind);
            let days = days.unwrap_or(match kind {
                Some(Kind::Server) => Lifetimes::default().server_days,
                _ => Lifetimes::default().client_days,
            });
            let entry = store
                .renew(&serial, days, now, revoke_old)
                .map_err(store_error)?;
            writeln!(out, "renewed {serial} as {}", entry.serial)?;
            show_entry(&mut out, dir, &entry)?;
            if revoke_old {
                writeln!(out, "revoked {serial} (superseded); CRL rewritten")?;
            }
        }
        CertsCommand::Revoke { serial, reason } => {
            let mut store = PkiDir::open(dir).map_err(store_error)?;
            let (entry, crl) = store.revoke(&serial, reason, now).map_err(store_error)?;
            writeln!(
                out,
                "revoked {} ({}, RFC 5280 reason code {})",
                entry.serial,
                reason,
                reason.rfc5280_code()
            )?;
            writeln!(out, "subject\t{}", entry.subject)?;
            writeln!(
                out,
                "crl\t{} (number {}, next update {})",
                dir.join(kiban_certs::store::files::CLIENT_CRL).display(),
                crl.number,
                crl.next_update
            )?;
            writeln!(
                out,
                "servers refuse it from their next CRL reload (open connections: per-request check)"
            )?;
        }
        CertsCommand::Crl => {
            let mut store = PkiDir::open(dir).map_err(store_error)?;
            let crl = store.write_crl(now).map_err(store_error)?;
            writeln!(
                out,
                "wrote {} (number {}, this update {}, next update {}, {} revoked)",
                dir.join(kiban_certs::store::files::CLIENT_CRL).display(),
                crl.number,
                crl.this_update,
                crl.next_update,
                store.inventory().client_revocations().len()
            )?;
        }
        CertsCommand::List { expiring_within } => {
            let store = PkiDir::open(dir).map_err(store_error)?;
            writeln!(out, "kind\tstatus\tserial\tnot-after\tsubject")?;
            for (entry, status) in store.list(now) {
                writeln!(
                    out,
                    "{}\t{status}\t{}\t{}\t{}",
                    entry.kind, entry.serial, entry.not_after, entry.subject
                )?;
            }
            writeln!(out, "crl number {}", store.inventory().crl_number)?;
            if let Some(days) = expiring_within {
                let expiring = store.expiring_within(now, days);
                if expiring.is_empty() {
                    writeln!(out, "no certificate expires within {days} days")?;
                } else {
                    for entry in &expiring {
                        writeln!(
                            out,
                            "warning: {} {} expires {} ({})",
                            entry.kind, entry.serial, entry.not_after, entry.subject
                        )?;
                    }
                    return Ok(Code::Failure);
                }
            }
        }
    }
    Ok(Code::Success)
}

/// The principal from the role, the organisation flag that fits it, and the terminal.
fn principal(
    role: Option<Role>,
    office: Option<CareOfficeNumber>,
    municipality: Option<MunicipalityCode>,
    medical: Option<MedicalInstitutionCode>,
    terminal: Option<TerminalId>,
) -> anyhow::Result<Principal> {
    let usage = |msg: String| anyhow::Error::new(UsageError(msg));
    let role = role.ok_or_else(|| usage("--role is required".to_owned()))?;
    let terminal = terminal.ok_or_else(|| usage("--terminal is required".to_owned()))?;
    let given: Vec<Organisation> = [
        office.map(Organisation::CareOffice),
        municipality.map(Organisation::Municipality),
        medical.map(Organisation::MedicalInstitution),
    ]
    .into_iter()
    .flatten()
    .collect();
    let flag = match role {
        Role::Municipality => "--municipality",
        Role::MedicalInstitution => "--medical-institution",
        Role::Operator | Role::Person => "none",
        _ => "--office",
    };
    let unorganised = matches!(role, Role::Operator | Role::Person);
    let organisation = match given[..] {
        [] if unorganised => Organisation::None,
        [] => return Err(usage(format!("role {role} needs {flag}"))),
        [one] if !unorganised && one.fits(role) => one,
        _ if unorganised => {
            return Err(usage(format!("role {role} takes no organisation flag")));
        }
        _ => {
            return Err(usage(format!(
                "role {role} takes exactly one organisation: {flag}"
            )));
        }
    };
    Principal::new(role, organisation, terminal).map_err(|e| usage(e.to_string()))
}

fn show_entry(out: &mut impl Write, dir: &Path, entry: &Entry) -> anyhow::Result<()> {
    writeln!(out, "  kind        {}", entry.kind)?;
    writeln!(out, "  subject     {}", entry.subject)?;
    writeln!(out, "  serial      {}", entry.serial)?;
    writeln!(out, "  not-before  {}", entry.not_before)?;
    writeln!(out, "  not-after   {}", entry.not_after)?;
    writeln!(
        out,
        "  certificate {}",
        dir.join(&entry.cert_file).display()
    )?;
    writeln!(out, "  key         {}", dir.join(&entry.key_file).display())
        .context("writing to stdout")?;
    if entry.kind == Kind::Client {
        let chain = entry.cert_file.replace(".cert.pem", ".chain.pem");
        writeln!(out, "  chain       {}", dir.join(chain).display())?;
    }
    Ok(())
}

/// Errors the user can fix exit 2, the rest 3.
fn store_error(err: StoreError) -> anyhow::Error {
    if err.is_user_error() {
        anyhow::Error::new(UsageError(err.to_string()))
    } else {
        anyhow::Error::new(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_without_certificates_are_refused_at_parse_time() {
        assert!(parse_role("care-service").is_ok());
        // `person` is the マイナポータル relay's certificate; representatives have none.
        assert!(parse_role("person").is_ok());
        assert!(
            parse_role("representative")
                .unwrap_err()
                .contains("does not get")
        );
        assert!(
            parse_role("doctor")
                .unwrap_err()
                .starts_with("unknown Role")
        );
    }

    #[test]
    fn the_organisation_flag_must_fit_the_role() {
        let t = || Some(TerminalId::parse("t1").unwrap());
        let office = Some(CareOfficeNumber::parse("2875104529").unwrap());
        let city = Some(MunicipalityCode::parse("141003").unwrap());
        assert!(principal(Some(Role::CareService), office, None, None, t()).is_ok());
        assert!(principal(Some(Role::Operator), None, None, None, t()).is_ok());
        let relay = principal(Some(Role::Person), None, None, None, t()).unwrap();
        assert_eq!(relay.to_string(), "urn:kiban:principal:v1:person:-:t1");
        for (role, o, m) in [
            (Role::Person, office, None),
            (Role::CareService, None, None),
            (Role::CareService, None, city),
            (Role::CareService, office, city),
            (Role::Operator, office, None),
            (Role::Municipality, office, None),
        ] {
            let err = principal(Some(role), o, m, None, t()).unwrap_err();
            assert!(err.is::<UsageError>(), "{role}: {err}");
        }
    }
}
