//! Recorded runs from the command line: listing, showing, logs, clearing a task to run it
//! again, and a store file that is not gust's.

use serde_json::Value;

use crate::support::*;

fn json_of(out: &Ran) -> Value {
    assert_eq!(out.code, 0, "{}", out.all());
    serde_json::from_str(&out.stdout).unwrap_or_else(|err| panic!("{err}: {}", out.stdout))
}

#[test]
fn a_recorded_run_is_listed_shown_logged_and_can_run_a_task_again() {
    let home = new_home();
    let in_home = |args: &[&str]| ran(gust(args).env("GUST_HOME", &home).output().unwrap());

    let first = json_of(&in_home(&["dags", "test", "bash_pipeline", "--json"]));
    let run_id = first["run_id"].as_str().unwrap().to_owned();

    let listed = json_of(&in_home(&["runs", "list", "--json"]));
    assert_eq!(listed["runs"].as_array().unwrap().len(), 1);
    assert_eq!(listed["runs"][0]["run_id"], run_id.as_str());
    assert_eq!(listed["runs"][0]["state"], "success");
    let none = json_of(&in_home(&["runs", "list", "--state", "failed", "--json"]));
    assert!(none["runs"].as_array().unwrap().is_empty());

    let shown = json_of(&in_home(&["runs", "show", &run_id, "--json"]));
    let tasks: Vec<&str> = shown["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["task_id"].as_str().unwrap())
        .collect();
    assert_eq!(tasks, ["count_files", "report", "cleanup"]);
    assert_eq!(shown["tasks"][1]["tries"][0]["state"], "success");

    let log = in_home(&["tasks", "logs", &run_id, "report"]);
    assert_eq!(log.code, 0, "{}", log.all());
    assert!(log.stdout.contains("running bash"), "{}", log.stdout);
    assert!(
        log.stdout.contains(" entries"),
        "the command's output: {}",
        log.stdout
    );

    let again = in_home(&[
        "tasks",
        "clear",
        &run_id,
        "report",
        "--downstream",
        "--json",
    ]);
    let again = json_of(&again);
    let tries = |report: &Value, task: &str| {
        report["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["task_id"] == task)
            .unwrap()["tries"]
            .as_u64()
    };
    assert_eq!(again["state"], "success");
    assert_eq!(tries(&again, "count_files"), Some(1), "kept as it was");
    assert_eq!(tries(&again, "report"), Some(2));
    assert_eq!(tries(&again, "cleanup"), Some(2));
    let second_try = in_home(&["tasks", "logs", &run_id, "report", "--try", "2"]);
    assert!(
        second_try.stdout.contains("running bash"),
        "{}",
        second_try.all()
    );
    let missing = in_home(&["tasks", "logs", &run_id, "report", "--try", "7"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("its tries: 1, 2"),
        "{}",
        missing.stderr
    );

    let ended = in_home(&["runs", "resume", &run_id]);
    assert_eq!(ended.code, 2);
    assert!(
        ended.stderr.contains("already ended success"),
        "{}",
        ended.stderr
    );
    let unknown = in_home(&["runs", "show", "no-such-run"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("no run 'no-such-run'"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn a_store_file_that_is_not_gust_s_is_named_and_left_alone() {
    let home = new_home();
    let db = home.join("gust.db");
    std::fs::write(&db, "not a database").unwrap();
    let out = ran(gust(&["dags", "test", "bash_pipeline"])
        .env("GUST_HOME", &home)
        .output()
        .unwrap());
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains(&db.display().to_string()),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("not a gust database"), "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&db).unwrap(), "not a database");
}
