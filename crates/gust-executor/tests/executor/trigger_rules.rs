use gust_core::{Dag, ManualClock, RunState, TaskBuilder, TaskError, TaskState, TriggerRule};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn failures_and_skips_propagate_through_trigger_rules() {
    let clock = ManualClock::at(t0());
    let mut dag = Dag::builder("rules");
    dag.task("fails", Scripted::failing("boom"));
    dag.task("works", Scripted::ok(json!(1)));
    dag.task(
        "skips",
        Scripted::new(vec![Err(TaskError::skip("nothing to do"))]),
    );
    let both = ["fails", "works"];
    dag.add(TaskBuilder::operator("all_success", Scripted::ok(json!(0))).needs(both));
    dag.add(
        TaskBuilder::operator("after_upstream_failed", Scripted::ok(json!(0)))
            .needs(["all_success"]),
    );
    dag.add(
        TaskBuilder::operator("one_failed", Scripted::ok(json!(0)))
            .needs(both)
            .trigger_rule(TriggerRule::OneFailed),
    );
    dag.add(
        TaskBuilder::operator("all_done", Scripted::ok(json!(0)))
            .needs(both)
            .trigger_rule(TriggerRule::AllDone),
    );
    dag.add(TaskBuilder::operator("after_skip", Scripted::ok(json!(0))).needs(["skips"]));
    dag.add(
        TaskBuilder::operator("none_failed_min_one", Scripted::ok(json!(0)))
            .needs(["after_skip"])
            .trigger_rule(TriggerRule::NoneFailedMinOneSuccess),
    );
    dag.add(
        TaskBuilder::operator("all_skipped", Scripted::ok(json!(0)))
            .needs(["after_skip", "skips"])
            .trigger_rule(TriggerRule::AllSkipped),
    );
    let run = run_on(&clock, &executor(&clock), dag.build().unwrap()).await;

    assert_eq!(run.state("fails"), TaskState::Failed);
    assert_eq!(run.state("works"), TaskState::Success);
    assert_eq!(run.state("skips"), TaskState::Skipped);
    assert_eq!(run.state("all_success"), TaskState::UpstreamFailed);
    assert_eq!(
        run.state("after_upstream_failed"),
        TaskState::UpstreamFailed
    );
    assert_eq!(run.state("one_failed"), TaskState::Success);
    assert_eq!(run.state("all_done"), TaskState::Success);
    assert_eq!(run.state("after_skip"), TaskState::Skipped);
    assert_eq!(run.state("none_failed_min_one"), TaskState::Skipped);
    assert_eq!(run.state("all_skipped"), TaskState::Success);
    assert_eq!(run.message("skips"), "nothing to do");
    assert!(
        run.message("all_success").contains("1 failed"),
        "{}",
        run.message("all_success")
    );
    // A leaf (after_upstream_failed) is upstream_failed, so the run failed.
    assert_eq!(run.report.state, RunState::Failed);
}

#[tokio::test]
async fn one_success_runs_before_its_other_upstream_tasks_finish() {
    let clock = ManualClock::at(t0());
    let mut dag = Dag::builder("early");
    dag.task("quick", Scripted::ok(json!(1)));
    dag.task("slow", Sleeps::new(secs(100)));
    dag.add(
        TaskBuilder::operator("first_result", Scripted::ok(json!(2)))
            .needs(["quick", "slow"])
            .trigger_rule(TriggerRule::OneSuccess),
    );
    let run = run_on(&clock, &executor(&clock), dag.build().unwrap()).await;
    assert_eq!(run.times("first_result", TaskState::Success), vec![at(0)]);
    assert_eq!(run.times("slow", TaskState::Success), vec![at(100)]);
}

#[tokio::test]
async fn a_run_whose_leaves_succeed_succeeds_even_if_an_inner_task_failed() {
    let clock = ManualClock::at(t0());
    let mut dag = Dag::builder("cleanup");
    dag.task("work", Scripted::failing("boom"));
    dag.add(
        TaskBuilder::operator("cleanup", Scripted::ok(json!(0)))
            .needs(["work"])
            .trigger_rule(TriggerRule::AllDone),
    );
    let run = run_on(&clock, &executor(&clock), dag.build().unwrap()).await;
    assert_eq!(run.report.state, RunState::Success);
}

#[tokio::test]
async fn a_long_chain_of_skips_propagates_without_exhausting_the_stack() {
    let clock = ManualClock::at(t0());
    let mut dag = Dag::builder("chain");
    dag.task("t0", Scripted::new(vec![Err(TaskError::skip("skip"))]));
    for n in 1..20_000 {
        dag.add(
            TaskBuilder::operator(format!("t{n}"), Scripted::ok(json!(0)))
                .needs([format!("t{}", n - 1)]),
        );
    }
    let run = run_on(&clock, &executor(&clock), dag.build().unwrap()).await;
    assert_eq!(run.state("t19999"), TaskState::Skipped);
    assert_eq!(run.report.state, RunState::Success);
}
