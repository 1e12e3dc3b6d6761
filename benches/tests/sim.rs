//! The hold model keeps its events and their order, stops before the queue's horizon instead
//! of dropping events, and a national run reports what it measured.

use kiban_benches::sim::{Hold, national};

#[test]
fn the_hold_model_keeps_every_event_and_the_day_order() {
    let mut hold = Hold::new(1_000, 60, 1);
    let mut last_day = 0;
    let mut seen = vec![0u32; 1_000];
    for _ in 0..200_000 {
        let event = hold.step().expect("far from the horizon");
        assert!(hold.day() >= last_day, "days only move forward");
        last_day = hold.day();
        assert_eq!(
            event.generation, seen[event.entity as usize],
            "entity {} came out of order",
            event.entity
        );
        seen[event.entity as usize] += 1;
        assert_eq!(hold.pending(), 1_000);
    }
    assert!(seen.iter().all(|&n| n > 0), "every entity was rescheduled");
    assert!(last_day > 0, "the clock moved");
}

#[test]
fn the_hold_model_stops_before_the_horizon_instead_of_dropping_events() {
    let mut hold = Hold::new(10, 30_000, 2);
    let mut steps = 0;
    while hold.step().is_some() {
        steps += 1;
        assert!(steps < 1_000, "it must reach the horizon");
    }
    assert!(hold.near_end());
    assert_eq!(hold.pending(), 10);
}

#[test]
fn a_national_run_reports_its_size_time_and_memory() {
    let scenario = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/national-survey-2025.toml");
    let record = national(&scenario, 0.0002).expect("runs");
    assert!(
        record.persons > 0 && record.events > record.persons,
        "{record:?}"
    );
    assert!(record.decisions > 0 && record.run_ns > 0, "{record:?}");
    assert!(
        record.peak_rss_kib > 0,
        "read from /proc/self/status: {record:?}"
    );
    assert_eq!(record.scale, 0.0002);
    assert!(national(&scenario.with_extension("missing"), 0.1).is_err());
}
