//! The read endpoint over TLS 1.3 with a client certificate against its floor, in one
//! criterion run, same machine, same client, same server TLS configuration.
//!
//! ```sh
//! cargo bench -p kiban-benches --bench http                   # criterion arms + latency percentiles
//! cargo bench -p kiban-benches --bench http -- --test         # every arm once, no files (CI)
//! KIBAN_BENCH_QUICK=1 cargo bench -p kiban-benches --bench http   # short samples (perf-report --quick)
//! ```
//!
//! **Servers** (`kiban_benches::http`): `floor` is a trivial axum handler on the axum
//! low-level rustls loop returning the endpoint's own answer as a constant; `endpoint-memory`
//! is the reference platform over its in-memory store; `endpoint-sqlite` is the platform over
//! the durable SQLite store in a temporary folder on disk, the real configuration (every read
//! commits its audit record before answering). All three use one `rustls::ServerConfig`
//! (kiban-certs: TLS 1.3, client certificate required and verified, CRL loaded, no
//! resumption, so there is no resumed-handshake arm) and run on one multi-threaded runtime with
//! a worker per core, like `kiban serve`. Each platform is populated over the wire by the
//! actors: 64 persons of Yokohama registered at the counter for a care-management office, a
//! certification survey each, consent recorded; every request reads one person's survey
//! (read-with-consent), cycling through the 64.
//!
//! **Client**: hyper's HTTP/1.1 client over tokio-rustls with an office terminal
//! certificate, on a current-thread runtime in the bench thread. Every answer is checked
//! (status 200 and the exact bytes the endpoint gave for that person at setup) before the next
//! request; the floor must answer exactly its constant.
//!
//! **Groups.** `http/keep-alive/<arm>/<connections>`: time per request with 1 and with 4
//! kept-alive connections sending concurrently (each its share, one after another); with 4
//! connections the figure is the inverse of throughput. `http/handshake/<arm>/1`: every request
//! on a new TCP connection with a full mTLS handshake and `Connection: close`. The ratios
//! endpoint / floor are formed by the report from the medians of the same run.
//!
//! **Latency percentiles.** After the criterion groups (not in `--test` mode), each arm
//! sends 2,000 requests on one kept-alive connection and 300 on new connections, one after
//! another, each timed; p50, p99 and the maximum go to `http-latency.json` in the perf folder
//! (`KIBAN_PERF_DIR`, default `target/kiban-perf`), which `perf-report` reads.
//!
//! **Not pinned.** Server and client share the machine's cores; neither is pinned to a core
//! (2-core box: the server's two workers, its blocking pool and the client compete). The
//! ratio is meaningful because both arms pay the same; the absolute numbers are this box's.
//!
//! **Settings.** 30 samples (20 for handshakes, flat sampling), 1 s warm-up, 3 s measurement,
//! noise threshold 3 %; criterion's command-line options override them.
#![allow(
    clippy::print_stderr,
    reason = "the bench reports its setup and result files"
)]

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use kiban_benches::http::{Arm, Percentiles, Scene, SceneOptions, Target};
use kiban_benches::results::{self, HTTP_LATENCY_FILE, LatencyRecord};

/// Kept-alive connections of the throughput arms.
const CONNECTIONS: [usize; 2] = [1, 4];

fn main() {
    let mode = Mode::from_args();
    let mut c = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .noise_threshold(0.03)
        .without_plots()
        .configure_from_args();
    let scene = Scene::start(SceneOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("client runtime: {e}"));
    gate(&scene, &rt);

    let mut g = c.benchmark_group("http/keep-alive");
    g.throughput(Throughput::Elements(1));
    for k in CONNECTIONS {
        for arm in Arm::ALL {
            let target = scene.target(arm).clone();
            g.bench_function(BenchmarkId::new(arm.name(), k), |b| {
                let mut conns: Vec<_> = (0..k)
                    .map(|_| rt.block_on(target.connect()))
                    .collect::<Result<_, _>>()
                    .unwrap_or_else(|e| panic!("{e}"));
                b.iter_custom(|iters| {
                    rt.block_on(target.keep_alive(&mut conns, iters))
                        .unwrap_or_else(|e| panic!("{e}"))
                });
            });
        }
    }
    g.finish();

    let mut g = c.benchmark_group("http/handshake");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20);
    g.sampling_mode(SamplingMode::Flat);
    for arm in Arm::ALL {
        let target = scene.target(arm).clone();
        g.bench_function(BenchmarkId::new(arm.name(), 1), |b| {
            b.iter_custom(|iters| {
                rt.block_on(target.handshakes(iters))
                    .unwrap_or_else(|e| panic!("{e}"))
            });
        });
    }
    g.finish();

    if mode != Mode::Test {
        let (kept, fresh) = if mode == Mode::Quick {
            (100, 20)
        } else {
            (2_000, 300)
        };
        let mut records = Vec::new();
        for arm in Arm::ALL {
            let target = scene.target(arm);
            records.push(latency(&rt, target, "keep-alive", kept));
            records.push(latency(&rt, target, "handshake", fresh));
        }
        let path = results::perf_dir().join(HTTP_LATENCY_FILE);
        results::write(&path, &records).unwrap_or_else(|e| panic!("{e}"));
        eprintln!("latency percentiles written to {}", path.display());
    }
    c.final_summary();
}

/// Criterion's test or list mode (each routine once, no files), the quick run, or a full one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Test,
    Quick,
    Full,
}

impl Mode {
    fn from_args() -> Mode {
        let args: Vec<String> = std::env::args().collect();
        let has = |flag: &str| args.iter().any(|a| a == flag);
        if has("--test") || has("--list") || !has("--bench") {
            Mode::Test
        } else if std::env::var("KIBAN_BENCH_QUICK").is_ok_and(|v| v == "1") {
            Mode::Quick
        } else {
            Mode::Full
        }
    }
}

/// Every arm answers every request of the cycle correctly, kept alive and on a new
/// connection, before anything is measured.
fn gate(scene: &Scene, rt: &tokio::runtime::Runtime) {
    for arm in Arm::ALL {
        let target = scene.target(arm);
        let n = target.requests() as u64;
        let mut conns = vec![
            rt.block_on(target.connect())
                .unwrap_or_else(|e| panic!("{e}")),
        ];
        rt.block_on(target.keep_alive(&mut conns, n))
            .unwrap_or_else(|e| panic!("gate: {e}"));
        rt.block_on(target.handshakes(2))
            .unwrap_or_else(|e| panic!("gate: {e}"));
    }
    eprintln!(
        "gate: floor, endpoint-memory and endpoint-sqlite answer all {} requests as expected",
        scene.target(Arm::Floor).requests()
    );
}

fn latency(rt: &tokio::runtime::Runtime, target: &Target, mode: &str, n: usize) -> LatencyRecord {
    let handshake = mode == "handshake";
    // Warm the path (allocator, caches, the server's blocking pool) outside the sample.
    rt.block_on(target.latencies(n / 10 + 1, handshake))
        .unwrap_or_else(|e| panic!("{e}"));
    let samples = rt
        .block_on(target.latencies(n, handshake))
        .unwrap_or_else(|e| panic!("{e}"));
    let percentiles = Percentiles::of(&samples).unwrap_or_else(|| panic!("no samples"));
    eprintln!(
        "{} {mode}: p50 {:.1} µs, p99 {:.1} µs over {n}",
        target.arm().name(),
        percentiles.p50_ns as f64 / 1e3,
        percentiles.p99_ns as f64 / 1e3
    );
    LatencyRecord {
        arm: target.arm().name().to_owned(),
        mode: mode.to_owned(),
        percentiles,
        measured_unix: results::unix_now(),
    }
}
