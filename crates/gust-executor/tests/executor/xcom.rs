use async_trait::async_trait;
use gust_core::{
    Arg, Dag, ManualClock, Operator, Outcome, TaskBuilder, TaskContext, TaskError, TaskState,
    XComRef, template,
};
use serde_json::{Value, json};

use crate::support::*;

/// Returns its one parameter, resolved.
struct Echo(Arg<Value>);

#[async_trait]
impl Operator for Echo {
    async fn execute(&self, ctx: &TaskContext) -> Result<Outcome, TaskError> {
        Ok(Outcome::Value(ctx.resolve("value", &self.0)?))
    }

    fn xcom_refs(&self) -> Vec<XComRef> {
        self.0.refs()
    }
}

/// Pushes a keyed value, returns nothing.
struct PushesKeyed;

#[async_trait]
impl Operator for PushesKeyed {
    async fn execute(&self, ctx: &TaskContext) -> Result<Outcome, TaskError> {
        ctx.xcom_push("instances", json!(["i-1", "i-2"])).await?;
        Ok(Outcome::Nothing)
    }
}

#[tokio::test]
async fn outputs_flow_through_references_templates_and_keyed_pushes() {
    let clock = ManualClock::at(t0());
    let mut dag = Dag::builder("xcom");
    let first = dag.task("first", Scripted::ok(json!("cmd-1")));
    let keyed = dag.task("keyed", PushesKeyed);
    dag.task("by_reference", Echo(first.output().into()));
    dag.task("by_key", Echo(keyed.output_key("instances").into()));
    dag.add(
        TaskBuilder::operator(
            "by_template",
            Echo(template("{{ ti.xcom_pull(task_ids='first') }} on {{ ds }}").into()),
        )
        .needs(["first"]),
    );
    let run = run_on(&clock, &executor(&clock), dag.build().unwrap()).await;

    assert_eq!(
        run.report.xcom("by_reference", "return_value"),
        Some(&json!("cmd-1"))
    );
    assert_eq!(
        run.report.xcom("by_key", "return_value"),
        Some(&json!(["i-1", "i-2"]))
    );
    assert_eq!(
        run.report.xcom("by_template", "return_value"),
        Some(&json!("cmd-1 on 2024-01-01"))
    );
    assert_eq!(run.report.xcom("keyed", "return_value"), None);
}

#[tokio::test]
async fn do_xcom_push_false_keeps_the_returned_value_out_of_xcom() {
    let clock = ManualClock::at(t0());
    let mut dag = Dag::builder("no_push");
    dag.add(TaskBuilder::operator("quiet", Scripted::ok(json!(7))).do_xcom_push(false));
    let run = run_on(&clock, &executor(&clock), dag.build().unwrap()).await;
    assert_eq!(run.state("quiet"), TaskState::Success);
    assert!(run.report.xcom.is_empty());
}

#[tokio::test]
async fn a_template_error_fails_the_task_and_names_the_problem() {
    let clock = ManualClock::at(t0());
    let mut dag = Dag::builder("bad_template");
    dag.task("bad", Echo(template("echo {{ not_defined }}").into()));
    let run = run_on(&clock, &executor(&clock), dag.build().unwrap()).await;
    assert_eq!(run.state("bad"), TaskState::Failed);
    let message = run.message("bad");
    assert!(
        message.starts_with("parameter 'value': template \"echo {{ not_defined }}\""),
        "{message}"
    );
    assert!(message.contains("undefined"), "{message}");
}

#[tokio::test]
async fn each_task_moves_through_scheduled_queued_running_to_success() {
    let clock = ManualClock::at(t0());
    let mut dag = Dag::builder("states");
    dag.task("one", Scripted::ok(json!(1)));
    let run = run_on(&clock, &executor(&clock), dag.build().unwrap()).await;
    let states: Vec<TaskState> = run.history("one").into_iter().map(|(_, _, s)| s).collect();
    assert_eq!(
        states,
        vec![
            TaskState::Scheduled,
            TaskState::Queued,
            TaskState::Running,
            TaskState::Success
        ]
    );
}

#[tokio::test]
async fn conf_overrides_params_in_templates() {
    let clock = ManualClock::at(t0());
    let mut dag = Dag::builder("params");
    dag.params(
        json!({"who": "world", "greeting": "hello"})
            .as_object()
            .unwrap()
            .clone(),
    );
    dag.task(
        "greet",
        Echo(template("{{ params.greeting }} {{ params.who }}").into()),
    );
    let run = run_with(
        &clock,
        &executor(&clock),
        dag.build().unwrap(),
        gust_executor::RunOptions::new().conf(json!({"who": "gust"})),
    )
    .await;
    assert_eq!(
        run.report.xcom("greet", "return_value"),
        Some(&json!("hello gust"))
    );
}
