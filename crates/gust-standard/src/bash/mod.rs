//! Runs a shell command with bash, as Airflow's `BashOperator` does.

mod process;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use gust_core::template::iso;
use gust_core::{Arg, Expr, Operator, Outcome, TaskContext, TaskError, XComRef};
use serde_json::Value;
use tracing::info;

use process::{Exit, run_bash};

/// The exit code that skips the task unless told otherwise.
pub const DEFAULT_SKIP_EXIT_CODE: i32 = 99;

/// Runs `bash_command` with `bash -c`; its last line of output becomes the task's XCom
/// `return_value`.
///
/// Like Airflow's operator: standard error is merged into standard output and every
/// line goes to the task log; a non-zero exit fails the attempt (retries apply), except
/// the codes in `skip_on_exit_code` (99 unless set) which skip the task; without `cwd`
/// the command runs in a temporary directory that is removed afterwards; `env` replaces
/// the environment unless `append_env` is set; `AIRFLOW_CTX_*` variables describe the
/// task. When the attempt is stopped, the command's whole process group is terminated.
///
/// ```
/// use gust_core::template;
/// use gust_standard::BashOperator;
///
/// let op = BashOperator::new(template("echo {{ ds }}"))
///     .env([("GREETING", "hello")])
///     .append_env(true)
///     .skip_on_exit_code([99, 100]);
/// # let _ = op;
/// ```
#[derive(Debug, Clone)]
pub struct BashOperator {
    bash_command: Arg<String>,
    env: Option<Arg<BTreeMap<String, String>>>,
    env_vars: BTreeMap<String, Expr>,
    append_env: bool,
    cwd: Option<Arg<String>>,
    skip_on_exit_code: Vec<i32>,
}

impl BashOperator {
    /// Runs `bash_command`.
    pub fn new(bash_command: impl Into<Arg<String>>) -> Self {
        BashOperator {
            bash_command: bash_command.into(),
            env: None,
            env_vars: BTreeMap::new(),
            append_env: false,
            cwd: None,
            skip_on_exit_code: vec![DEFAULT_SKIP_EXIT_CODE],
        }
    }

    /// Sets the command's environment (replacing the process's, unless `append_env`).
    pub fn env<I, K, V>(mut self, env: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let env = env.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        self.env = Some(Arg::Value(env));
        self
    }

    /// Sets the environment from a parameter that may be templated or referenced.
    pub fn env_arg(mut self, env: Arg<BTreeMap<String, String>>) -> Self {
        self.env = Some(env);
        self
    }

    /// Sets one variable of the command's environment (as part of `env`) to a value
    /// that may be templated or be another task's output, which makes that task upstream
    /// of this one.
    pub fn env_var(mut self, name: impl Into<String>, value: impl Into<Expr>) -> Self {
        self.env_vars.insert(name.into(), value.into());
        self
    }

    /// Adds `env` to the process's environment instead of replacing it.
    pub fn append_env(mut self, append: bool) -> Self {
        self.append_env = append;
        self
    }

    /// Runs the command in `cwd` instead of a temporary directory.
    pub fn cwd(mut self, cwd: impl Into<Arg<String>>) -> Self {
        self.cwd = Some(cwd.into());
        self
    }

    /// The exit codes that skip the task instead of failing it (none: never skip).
    pub fn skip_on_exit_code(mut self, codes: impl IntoIterator<Item = i32>) -> Self {
        self.skip_on_exit_code = codes.into_iter().collect();
        self
    }

    fn environment(&self, ctx: &TaskContext) -> Result<BTreeMap<String, String>, TaskError> {
        let mut given = match &self.env {
            Some(env) => Some(ctx.resolve("env", env)?),
            None => None,
        };
        for (name, value) in &self.env_vars {
            let value = match ctx.render(value)? {
                Value::String(text) => text,
                other => other.to_string(),
            };
            given
                .get_or_insert_with(BTreeMap::new)
                .insert(name.clone(), value);
        }
        let mut env: BTreeMap<String, String> = match (&given, self.append_env) {
            (Some(given), false) => given.clone(),
            _ => std::env::vars().collect(),
        };
        if let (Some(given), true) = (given, self.append_env) {
            env.extend(given);
        }
        env.insert("AIRFLOW_CTX_DAG_ID".into(), ctx.dag_id().into());
        env.insert("AIRFLOW_CTX_TASK_ID".into(), ctx.task_id().into());
        env.insert("AIRFLOW_CTX_RUN_ID".into(), ctx.run_id().into());
        env.insert("AIRFLOW_CTX_LOGICAL_DATE".into(), iso(ctx.logical_date()));
        env.insert(
            "AIRFLOW_CTX_TRY_NUMBER".into(),
            ctx.try_number().to_string(),
        );
        Ok(env)
    }
}

fn check_cwd(cwd: &str) -> Result<PathBuf, TaskError> {
    let path = Path::new(cwd);
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Ok(path.to_owned()),
        Ok(_) => Err(TaskError::fatal(format!("cwd '{cwd}' is not a directory"))),
        Err(err) => Err(TaskError::fatal(format!(
            "cwd '{cwd}' cannot be used: {err}"
        ))),
    }
}

#[async_trait]
impl Operator for BashOperator {
    async fn execute(&self, ctx: &TaskContext) -> Result<Outcome, TaskError> {
        let command = ctx.resolve("bash_command", &self.bash_command)?;
        if command.trim().is_empty() {
            return Err(TaskError::fatal("bash_command is empty"));
        }
        let env = self.environment(ctx)?;

        // Without a cwd, run in a temporary directory that lives as long as the command.
        let (dir, _temporary) = match &self.cwd {
            Some(cwd) => (check_cwd(&ctx.resolve("cwd", cwd)?)?, None),
            None => {
                let temp = tempfile::Builder::new()
                    .prefix("gust-bash-")
                    .tempdir()
                    .map_err(|err| TaskError::failed_with("creating a temporary directory", err))?;
                (temp.path().to_owned(), Some(temp))
            }
        };

        info!(command = %command, cwd = %dir.display(), "running bash");
        let finished = run_bash(&command, &dir, &env)
            .await
            .map_err(|err| TaskError::failed_with("running bash", err))?;
        match finished.exit {
            Exit::Code(0) => {
                info!("command succeeded");
                Ok(Outcome::Value(Value::String(finished.last_line)))
            }
            Exit::Code(code) if self.skip_on_exit_code.contains(&code) => Err(TaskError::skip(
                format!("Bash command returned exit code {code}; skipping"),
            )),
            Exit::Code(code) => Err(TaskError::failed(format!(
                "Bash command failed: it returned the non-zero exit code {code}"
            ))),
            Exit::Signal(signal) => Err(TaskError::failed(format!(
                "Bash command was terminated by signal {signal}"
            ))),
        }
    }

    fn xcom_refs(&self) -> Vec<XComRef> {
        let mut refs = self.bash_command.refs();
        refs.extend(self.env.iter().flat_map(Arg::refs));
        refs.extend(self.env_vars.values().flat_map(Expr::refs));
        refs.extend(self.cwd.iter().flat_map(Arg::refs));
        refs
    }
}

#[cfg(test)]
mod tests;
