//! `gust tasks test`: one task on its own.

use std::path::Path;
use std::sync::Arc;

use gust::core::RETURN_VALUE;
use serde_json::Value;

use super::loading::find_dag;
use super::run::{Record, RunRequest, run};
use super::{Outcome, RunArgs, usage};

/// Reads `TASK=VALUE` or `TASK:KEY=VALUE`; VALUE is JSON if it parses, else text.
fn parse_xcom(given: &str) -> Result<(String, String, Value), String> {
    let (target, value) = given
        .split_once('=')
        .ok_or_else(|| format!("--xcom {given}: expected TASK=VALUE or TASK:KEY=VALUE"))?;
    let (task, key) = target.split_once(':').unwrap_or((target, RETURN_VALUE));
    if task.is_empty() || key.is_empty() {
        return Err(format!(
            "--xcom {given}: expected TASK=VALUE or TASK:KEY=VALUE"
        ));
    }
    let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
    Ok((task.to_owned(), key.to_owned(), value))
}

pub(crate) async fn test(
    dag: &str,
    task: &str,
    xcom: &[String],
    dags_folder: &Path,
    args: &RunArgs,
) -> Outcome {
    let loaded = find_dag(dag, dags_folder)?;
    let full = &loaded.dag;
    let Some(found) = full.get(task) else {
        let ids: Vec<&str> = full.tasks().map(|(_, t)| &**t.id()).collect();
        return Err(usage(format!(
            "DAG {} has no task '{task}'{}; its tasks: {}",
            full.dag_id(),
            gust::yaml::did_you_mean(task, ids.iter().copied()),
            ids.join(", ")
        )));
    };
    let given: Vec<(String, String, Value)> = xcom
        .iter()
        .map(|x| parse_xcom(x))
        .collect::<Result<_, _>>()
        .map_err(usage)?;
    for reference in found.kind().xcom_refs() {
        let provided = given
            .iter()
            .any(|(t, k, _)| *t == reference.task_id && *k == reference.key);
        if !provided {
            let flag = if reference.key == RETURN_VALUE {
                format!("--xcom {}=VALUE", reference.task_id)
            } else {
                format!("--xcom {}:{}=VALUE", reference.task_id, reference.key)
            };
            return Err(usage(format!(
                "task '{task}' reads {reference}; give it with {flag}"
            )));
        }
    }
    let single = full.subset(&[task]).map_err(|err| usage(err.to_string()))?;
    run(
        RunRequest {
            dag: Arc::new(single),
            xcom: given,
            record: Record::Memory,
        },
        args,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xcom_values_are_json_or_text() {
        assert_eq!(
            parse_xcom("run_command=abc-123").unwrap(),
            (
                "run_command".into(),
                "return_value".into(),
                Value::String("abc-123".into())
            )
        );
        assert_eq!(
            parse_xcom("send:ids=[1,2]").unwrap(),
            ("send".into(), "ids".into(), serde_json::json!([1, 2]))
        );
        assert!(parse_xcom("no-equals").is_err());
        assert!(parse_xcom("=x").is_err());
    }
}
