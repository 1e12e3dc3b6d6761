//! The HTTP scene serves the floor and both endpoints behind one mTLS configuration, every
//! arm answers the endpoint's bytes, and the latency percentiles are nearest-rank.

use kiban_benches::http::{Arm, Percentiles, Scene, SceneOptions};
use kiban_benches::results::{self, LatencyRecord};

#[test]
fn every_arm_answers_kept_alive_and_on_new_connections() {
    let scene = Scene::start(SceneOptions {
        persons: 3,
        seed: 11,
    })
    .expect("scene starts");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for arm in Arm::ALL {
        let target = scene.target(arm);
        assert_eq!(target.arm(), arm);
        assert_eq!(target.requests(), 3);
        let mut conns = vec![
            rt.block_on(target.connect()).expect("connects"),
            rt.block_on(target.connect()).expect("connects"),
        ];
        rt.block_on(target.keep_alive(&mut conns, 7))
            .unwrap_or_else(|e| panic!("{arm:?}: {e}"));
        assert_eq!(conns.len(), 2, "connections come back for the next sample");
        rt.block_on(target.handshakes(2))
            .unwrap_or_else(|e| panic!("{arm:?}: {e}"));
        let samples = rt.block_on(target.latencies(4, false)).expect("latencies");
        assert_eq!(samples.len(), 4);
        assert!(samples.iter().all(|&ns| ns > 0));
    }
}

#[test]
fn percentiles_are_nearest_rank() {
    let samples: Vec<u64> = (1..=100).rev().collect();
    let p = Percentiles::of(&samples).expect("samples");
    assert_eq!((p.n, p.p50_ns, p.p99_ns, p.max_ns), (100, 50, 99, 100));
    let one = Percentiles::of(&[7]).expect("one sample");
    assert_eq!((one.p50_ns, one.p99_ns, one.max_ns), (7, 7, 7));
    assert_eq!(Percentiles::of(&[]), None);
}

#[test]
fn result_files_round_trip_and_a_missing_file_is_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sub").join("http-latency.json");
    assert_eq!(
        results::read::<Vec<LatencyRecord>>(&path).expect("reads"),
        None
    );
    let records = vec![LatencyRecord {
        arm: "floor".into(),
        mode: "keep-alive".into(),
        percentiles: Percentiles::of(&[1, 2, 3]).expect("samples"),
        measured_unix: 5,
    }];
    results::write(&path, &records).expect("writes");
    assert_eq!(
        results::read::<Vec<LatencyRecord>>(&path).expect("reads"),
        Some(records)
    );
    std::fs::write(&path, "not json").expect("write");
    assert!(results::read::<Vec<LatencyRecord>>(&path).is_err());
}
