use async_trait::async_trait;

use super::*;
use crate::context::TaskContext;
use crate::error::TaskError;
use crate::expr::{Arg, XComRef};
use crate::operator::Outcome;
use crate::settings::TaskOverrides;
use crate::trigger_rule::TriggerRule;

/// An operator whose only parameter may reference another task's output.
struct Uses(Arg<String>);

#[async_trait]
impl Operator for Uses {
    async fn execute(&self, ctx: &TaskContext) -> Result<Outcome, TaskError> {
        Ok(Outcome::Value(ctx.resolve("input", &self.0)?.into()))
    }

    fn xcom_refs(&self) -> Vec<XComRef> {
        self.0.refs()
    }
}

fn noop() -> Uses {
    Uses("x".into())
}

#[test]
fn an_xcom_reference_makes_the_referenced_task_upstream() {
    let mut dag = Dag::builder("refs");
    let send = dag.task("send", noop());
    dag.task("wait", Uses(send.output().into()));
    let dag = dag.build().unwrap();
    assert_eq!(
        dag.dependencies(),
        vec![("send", vec![]), ("wait", vec!["send"])]
    );
    assert_eq!(dag.task(0).kind().type_name(), "Uses");
}

#[test]
fn cycles_are_named_in_dependency_order() {
    let mut dag = Dag::builder("loop");
    let a = dag.task("a", noop());
    let b = dag.task("b", noop());
    let c = dag.task("c", noop());
    let d = dag.task("d", noop());
    dag.chain(&[&a, &b, &c, &a]).set_downstream(&c, &d);
    let err = dag.build().unwrap_err();
    let DagError::Cycle { tasks } = &err else {
        panic!("expected a cycle, got {err}");
    };
    assert_eq!(tasks.len(), 3);
    let text = err.to_string();
    assert!(
        ["a -> b -> c -> a", "b -> c -> a -> b", "c -> a -> b -> c"]
            .iter()
            .any(|cycle| text.ends_with(cycle)),
        "{text}"
    );
}

#[test]
fn a_task_that_needs_itself_is_a_cycle() {
    let mut dag = Dag::builder("self");
    dag.add(TaskBuilder::operator("lonely", noop()).needs(["lonely"]));
    let err = dag.build().unwrap_err();
    assert_eq!(
        err.to_string(),
        "the dependencies form a cycle: lonely -> lonely"
    );
}

#[test]
fn a_cycle_through_references_is_found() {
    let mut dag = Dag::builder("refloop");
    dag.task("a", Uses(XComRef::output("b").into()));
    dag.task("b", Uses(XComRef::output("a").into()));
    assert!(matches!(dag.build(), Err(DagError::Cycle { .. })));
}

#[test]
fn duplicate_ids_unknown_upstreams_and_unknown_references_are_errors() {
    let mut dag = Dag::builder("dups");
    dag.task("same", noop());
    dag.task("same", noop());
    assert_eq!(
        dag.build().unwrap_err(),
        DagError::DuplicateTask {
            task_id: "same".into()
        }
    );

    let mut dag = Dag::builder("unknown");
    dag.add(TaskBuilder::operator("load", noop()).needs(["extract"]));
    assert_eq!(
        dag.build().unwrap_err().to_string(),
        "task 'load' needs 'extract', which is not a task of this DAG"
    );

    let mut dag = Dag::builder("badref");
    dag.task("wait", Uses(XComRef::output("send").into()));
    assert_eq!(
        dag.build().unwrap_err().to_string(),
        "task 'wait' references the output of task 'send', which is not a task of this DAG"
    );
}

#[test]
fn ids_must_be_plain() {
    let mut dag = Dag::builder("ok");
    dag.task("has space", noop());
    assert!(matches!(
        dag.build(),
        Err(DagError::InvalidId {
            what: "task id",
            ..
        })
    ));
    assert!(matches!(
        Dag::builder("").build(),
        Err(DagError::InvalidId { what: "dag_id", .. })
    ));
}

#[test]
fn default_args_apply_where_a_task_sets_nothing() {
    let mut dag = Dag::builder("defaults");
    dag.default_args(TaskOverrides {
        retries: Some(3),
        trigger_rule: Some(TriggerRule::AllDone),
        ..TaskOverrides::default()
    });
    dag.task("plain", noop());
    dag.add(TaskBuilder::operator("own", noop()).retries(1));
    let dag = dag.build().unwrap();
    assert_eq!(dag.get("plain").unwrap().settings().retries, 3);
    assert_eq!(dag.get("own").unwrap().settings().retries, 1);
    assert_eq!(
        dag.get("own").unwrap().settings().trigger_rule,
        TriggerRule::AllDone
    );
}

#[test]
fn descendants_are_transitive() {
    let mut dag = Dag::builder("tree");
    let a = dag.task("a", noop());
    let b = dag.task("b", noop());
    let c = dag.task("c", noop());
    let d = dag.task("d", noop());
    dag.chain(&[&a, &b, &c]).set_downstream(&a, &d);
    let dag = dag.build().unwrap();
    assert_eq!(dag.descendants(0), vec![1, 2, 3]);
    assert_eq!(dag.descendants(2), Vec::<usize>::new());
}

#[test]
fn a_subset_keeps_the_chosen_tasks_and_the_edges_among_them() {
    let mut dag = Dag::builder("sub");
    let a = dag.task("a", noop());
    let b = dag.task("b", Uses(a.output().into()));
    let c = dag.task("c", noop());
    dag.chain(&[&b, &c]);
    let dag = dag.build().unwrap();
    let sub = dag.subset(&["b", "c"]).unwrap();
    assert_eq!(sub.dependencies(), vec![("b", vec![]), ("c", vec!["b"])]);
    assert_eq!(
        sub.get("b").unwrap().kind().xcom_refs(),
        vec![XComRef::output("a")]
    );
    assert!(matches!(
        dag.subset(&["zz"]),
        Err(DagError::UnknownTask { .. })
    ));
}
