//! `kiban serve`: the reference platform on a real socket. Reads the PKI folder (server
//! certificate, operator CA, client CRL), opens the store in the data folder, rebuilds the
//! decision view, and serves until Ctrl-C. The CRL file is watched and re-installed when it
//! changes, so `kiban certs revoke` takes effect without a restart.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};
use kiban_certs::store::PkiDir;
use kiban_certs::tls::StaleCrl;
use kiban_certs::{Clock, ManualClock, SystemClock};
use kiban_core::rules::Rules;
use kiban_platform::api::{AppState, Metrics, router};
use kiban_platform::platform::{Platform, PlatformConfig};
use kiban_platform::store::{MemoryStore, SqliteStore, Store};

use crate::exit::{Code, UsageError};

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// Data folder (the SQLite database and audit files live here).
    #[arg(long, default_value = "kiban-data/platform")]
    data: PathBuf,
    /// PKI folder made by `kiban certs init`.
    #[arg(long, default_value = kiban_certs::store::DEFAULT_DIR)]
    pki: PathBuf,
    /// Where rows are kept: sqlite (durable) or memory (lost on exit).
    #[arg(long, value_enum, default_value_t = StoreKind::Sqlite)]
    store: StoreKind,
    /// Let the operator set the platform clock (PUT /v1/operator/clock), for scenarios and
    /// conformance runs. Starts at the system time.
    #[arg(long)]
    sim_clock: bool,
    /// Access-matrix TOML (default: the published matrix).
    #[arg(long)]
    matrix: Option<PathBuf>,
    /// Policy TOML (default: the 2025 proposal).
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Base URL of the J-LIS service asked whether a card certificate is valid now (e.g.
    /// `http://127.0.0.1:8600`). Without it, identity verification answers 503.
    #[arg(long)]
    jlis_url: Option<String>,
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info` or `kiban_platform=debug`.
    #[arg(long, default_value = "info")]
    log_level: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum StoreKind {
    Sqlite,
    Memory,
}

pub(crate) fn run(args: ServeArgs) -> anyhow::Result<Code> {
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log_level)
        .map_err(|e| UsageError(format!("--log-level {:?}: {e}", args.log_level)))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let rules = Rules {
        matrix: crate::rules::load_matrix(args.matrix.as_ref())?,
        policy: crate::rules::load_policy(args.policy.as_ref())?,
    };
    let pki = PkiDir::open(&args.pki).map_err(|e| {
        UsageError(format!(
            "{}: {e} (run `kiban certs init`)",
            args.pki.display()
        ))
    })?;
    let (clock, sim_clock): (Arc<dyn Clock>, Option<Arc<ManualClock>>) = if args.sim_clock {
        let manual = Arc::new(ManualClock::new(SystemClock.now()));
        (manual.clone(), Some(manual))
    } else {
        (Arc::new(SystemClock), None)
    };
    let verifier = pki
        .client_verifier(StaleCrl::Refuse)
        .context("loading the client CRL")?;
    let server_config = pki
        .server_config(verifier.clone(), clock.clone())
        .context("loading the server certificate")?;
    let (store, durable): (Arc<dyn Store>, Option<Arc<SqliteStore>>) = match args.store {
        StoreKind::Sqlite => {
            std::fs::create_dir_all(&args.data)
                .with_context(|| format!("creating {}", args.data.display()))?;
            let sqlite = Arc::new(SqliteStore::open(&args.data).context("opening the database")?);
            (sqlite.clone(), Some(sqlite))
        }
        StoreKind::Memory => (Arc::new(MemoryStore::new()), None),
    };
    let shutdown_clock = clock.clone();
    let jlis = match &args.jlis_url {
        Some(url) => Some(
            kiban_platform::identity::JlisClient::new(url)
                .map_err(|e| UsageError(format!("--jlis-url: {e}")))?,
        ),
        None => None,
    };
    let jlis_ca = std::fs::read_to_string(args.pki.join(kiban_certs::store::files::JLIS_CERT))
        .ok()
        .and_then(|pem| pem_to_der(&pem));
    let config = PlatformConfig {
        rules,
        sim_clock: args.sim_clock,
        jlis_ca,
        ..PlatformConfig::standard()
    };
    let platform = Platform::open(store, clock, verifier.clone(), config)
        .context("rebuilding the decision view")?;
    let state = AppState {
        platform: Arc::new(platform),
        sim_clock,
        metrics: Arc::new(Metrics::default()),
        jlis,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        tracing::info!(listen = %listener.local_addr()?, "kiban platform serving (TLS 1.3, client certificates required)");
        tokio::spawn(watch_crl(args.pki.clone(), verifier));
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutting down");
        };
        kiban_platform::server::serve(listener, server_config, router(state), shutdown).await?;
        anyhow::Ok(())
    })?;
    // A clean shutdown signs the audit log's tail, so nothing is left unsigned.
    if let Some(store) = durable {
        store
            .checkpoint(shutdown_clock.now())
            .context("signing the audit log at shutdown")?;
    }
    Ok(Code::Success)
}

/// Re-installs the client CRL whenever its file changes.
async fn watch_crl(pki_dir: PathBuf, verifier: Arc<kiban_certs::tls::ClientVerifier>) {
    let path = pki_dir.join(kiban_certs::store::files::CLIENT_CRL);
    let mut seen = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        if modified == seen {
            continue;
        }
        seen = modified;
        match PkiDir::open(&pki_dir).and_then(|pki| pki.reload_crl(&verifier)) {
            Ok(status) => tracing::info!(
                number = status.number,
                revoked = status.revoked,
                "client CRL installed"
            ),
            Err(e) => tracing::warn!(error = %e, "client CRL not installed"),
        }
    }
}

/// The DER of the first certificate in a PEM text.
fn pem_to_der(pem: &str) -> Option<Vec<u8>> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem.as_bytes())
        .ok()
        .map(|c| c.to_vec())
}
