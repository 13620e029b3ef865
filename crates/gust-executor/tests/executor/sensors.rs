use std::sync::atomic::Ordering;

use gust_core::{Dag, ManualClock, SensorMode, SensorSettings, TaskBuilder, TaskState};
use serde_json::json;

use crate::support::*;

fn settings(mode: SensorMode, soft_fail: bool) -> SensorSettings {
    SensorSettings {
        poke_interval: secs(10),
        timeout: secs(35),
        mode,
        soft_fail,
        ..SensorSettings::default()
    }
}

#[tokio::test]
async fn a_poke_mode_sensor_pokes_every_interval_until_its_condition_holds() {
    let clock = ManualClock::at(t0());
    let sensor = Counting::new(settings(SensorMode::Poke, false), 3);
    let pokes = sensor.pokes.clone();
    let mut dag = Dag::builder("poke");
    dag.sensor("wait", sensor);
    let run = run_on(&clock, &executor(&clock), dag.build().unwrap()).await;

    assert_eq!(run.state("wait"), TaskState::Success);
    assert_eq!(pokes.load(Ordering::SeqCst), 3);
    assert_eq!(run.times("wait", TaskState::Success), vec![at(20)]);
    // A poke-mode sensor stays running between pokes.
    assert!(run.times("wait", TaskState::UpForReschedule).is_empty());
    assert_eq!(
        clock
            .sleep_history()
            .iter()
            .filter(|d| **d == secs(10))
            .count(),
        2
    );
}

#[tokio::test]
async fn a_poke_mode_sensor_times_out_without_retrying() {
    let clock = ManualClock::at(t0());
    let sensor = Counting::new(settings(SensorMode::Poke, false), 0);
    let pokes = sensor.pokes.clone();
    let mut dag = Dag::builder("poke_timeout");
    dag.add(TaskBuilder::sensor("wait", sensor).retries(3));
    let run = run_on(&clock, &executor(&clock), dag.build().unwrap()).await;

    // Pokes at 0, 10, 20, 30 and a last one at the timeout, 35.
    assert_eq!(pokes.load(Ordering::SeqCst), 5);
    assert_eq!(run.state("wait"), TaskState::Failed);
    assert_eq!(run.times("wait", TaskState::Failed), vec![at(35)]);
    assert_eq!(run.report.task("wait").unwrap().tries, 1);
    assert_eq!(
        run.message("wait"),
        "the sensor's condition did not hold within its timeout of 35s"
    );
}

#[tokio::test]
async fn soft_fail_skips_a_sensor_that_times_out() {
    for mode in [SensorMode::Poke, SensorMode::Reschedule] {
        let clock = ManualClock::at(t0());
        let mut dag = Dag::builder("soft");
        dag.sensor("wait", Counting::new(settings(mode, true), 0));
        dag.add(TaskBuilder::operator("after", Scripted::ok(json!(1))).needs(["wait"]));
        let run = run_on(&clock, &executor(&clock), dag.build().unwrap()).await;
        assert_eq!(run.state("wait"), TaskState::Skipped, "{mode}");
        assert_eq!(run.state("after"), TaskState::Skipped, "{mode}");
        assert!(run.message("wait").starts_with("soft_fail:"), "{mode}");
    }
}

#[tokio::test]
async fn a_reschedule_mode_sensor_releases_its_slot_between_pokes() {
    let clock = ManualClock::at(t0());
    let sensor = Counting::new(settings(SensorMode::Reschedule, false), 3);
    let mut dag = Dag::builder("reschedule");
    dag.max_active_tasks(1);
    dag.sensor("wait", sensor);
    dag.task("other", Sleeps::new(secs(5)));
    let run = run_on(&clock, &executor(&clock), dag.build().unwrap()).await;

    assert_eq!(run.state("wait"), TaskState::Success);
    assert_eq!(
        run.times("wait", TaskState::UpForReschedule),
        vec![at(0), at(10)]
    );
    assert_eq!(run.times("wait", TaskState::Success), vec![at(20)]);
    // With the only slot free while the sensor waits, the other task ran meanwhile.
    assert_eq!(run.times("other", TaskState::Running), vec![at(0)]);
    assert_eq!(run.times("other", TaskState::Success), vec![at(5)]);
    // Rescheduling keeps the try.
    assert_eq!(run.report.task("wait").unwrap().tries, 1);
}

#[tokio::test]
async fn a_poke_mode_sensor_holds_its_slot_while_it_waits() {
    let clock = ManualClock::at(t0());
    let mut dag = Dag::builder("holds");
    dag.max_active_tasks(1);
    dag.sensor("wait", Counting::new(settings(SensorMode::Poke, false), 3));
    dag.task("other", Sleeps::new(secs(5)));
    let run = run_on(&clock, &executor(&clock), dag.build().unwrap()).await;
    assert_eq!(run.times("other", TaskState::Running), vec![at(20)]);
}

#[tokio::test]
async fn a_reschedule_mode_sensor_times_out_from_its_first_poke() {
    let clock = ManualClock::at(t0());
    let sensor = Counting::new(settings(SensorMode::Reschedule, false), 0);
    let pokes = sensor.pokes.clone();
    let mut dag = Dag::builder("reschedule_timeout");
    dag.add(TaskBuilder::sensor("wait", sensor).retries(2));
    let run = run_on(&clock, &executor(&clock), dag.build().unwrap()).await;
    assert_eq!(pokes.load(Ordering::SeqCst), 5);
    assert_eq!(run.state("wait"), TaskState::Failed);
    assert_eq!(run.times("wait", TaskState::Failed), vec![at(35)]);
}

#[tokio::test]
async fn exponential_backoff_grows_the_wait_between_pokes() {
    let clock = ManualClock::at(t0());
    let sensor = Counting::new(
        SensorSettings {
            poke_interval: secs(8),
            timeout: secs(1000),
            exponential_backoff: true,
            mode: SensorMode::Reschedule,
            ..SensorSettings::default()
        },
        5,
    );
    let mut dag = Dag::builder("sensor_backoff");
    dag.sensor("wait", sensor);
    let run = run_on(&clock, &executor(&clock), dag.build().unwrap()).await;
    // Waits of 4, 8, 16 and 32 seconds (no jitter in these tests).
    assert_eq!(
        run.times("wait", TaskState::Running),
        vec![at(0), at(4), at(12), at(28), at(60)]
    );
}
