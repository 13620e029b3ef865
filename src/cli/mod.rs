//! Command-line parsing and dispatch.

mod dags;
mod home;
mod loading;
mod local;
mod logging;
mod out;
mod render;
mod run;
mod runs;
mod tasks;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use gust::core::RunState;

/// An Airflow-like orchestrator for AWS SSM Run Command.
#[derive(Debug, Parser)]
#[command(name = "gust", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List, show, validate and test DAGs.
    #[command(subcommand)]
    Dags(DagsCommand),
    /// Test one task; read a task's logs; clear tasks of a run to run them again.
    #[command(subcommand)]
    Tasks(TasksCommand),
    /// The runs recorded under GUST_HOME: list, show, resume.
    #[command(subcommand)]
    Runs(RunsCommand),
    /// The local SSM Run Command service, which runs commands on this host.
    #[command(name = "ssm-local", subcommand)]
    SsmLocal(SsmLocalCommand),
}

/// Where DAG files are.
#[derive(Debug, Args, Clone)]
struct Folder {
    /// The folder of DAG files.
    #[arg(long, env = "GUST_DAGS_FOLDER", default_value = "dags")]
    dags_folder: PathBuf,
}

/// How to run.
#[derive(Debug, Args, Clone)]
struct RunArgs {
    /// The run's conf: a JSON object whose keys override the DAG's params.
    #[arg(long)]
    conf: Option<String>,
    /// The run's logical date (YYYY-MM-DD or an ISO 8601 time); default now.
    #[arg(long)]
    logical_date: Option<String>,
    /// Start the local SSM service in this process and point every AWS connection's SSM
    /// endpoint at it, with dummy credentials. Without it, SSM calls go to AWS.
    #[arg(long)]
    local_nodes: bool,
    /// The local service's managed nodes (a nodes file); default one Linux node.
    #[arg(long, requires = "local_nodes")]
    nodes: Option<PathBuf>,
    /// A connections file (YAML or JSON: connection id -> URI or connection object).
    #[arg(long, env = "GUST_CONNECTIONS_FILE")]
    connections: Option<PathBuf>,
    /// Print the result as JSON on standard output, and no live view.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum DagsCommand {
    /// List the DAGs of the DAGs folder.
    List {
        #[command(flatten)]
        folder: Folder,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a DAG's tasks, dependencies and settings.
    Show {
        /// A dag_id in the DAGs folder, or a DAG file.
        dag: String,
        #[command(flatten)]
        folder: Folder,
        /// text, dot (Graphviz) or mermaid.
        #[arg(long, default_value = "text")]
        format: render::Format,
    },
    /// Check DAG files and folders; exit 1 if any has an error.
    Validate {
        /// Files and folders to check.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run a DAG once, in this process, recording the run under GUST_HOME.
    Test {
        /// A dag_id in the DAGs folder, or a DAG file.
        dag: String,
        #[command(flatten)]
        folder: Folder,
        #[command(flatten)]
        run: RunArgs,
    },
    /// The same as test: run a DAG once in this process, recorded under GUST_HOME.
    Trigger {
        /// A dag_id in the DAGs folder, or a DAG file.
        dag: String,
        #[command(flatten)]
        folder: Folder,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Print the JSON Schema of DAG files, for editors.
    Schema,
}

#[derive(Debug, Subcommand)]
enum TasksCommand {
    /// Run one task on its own; the outputs it reads from other tasks are given with --xcom.
    Test {
        /// A dag_id in the DAGs folder, or a DAG file.
        dag: String,
        /// The task to run.
        task: String,
        /// An upstream output: TASK=VALUE or TASK:KEY=VALUE (VALUE is JSON, or else text).
        #[arg(long = "xcom", value_name = "TASK=VALUE")]
        xcom: Vec<String>,
        #[command(flatten)]
        folder: Folder,
        #[command(flatten)]
        run: RunArgs,
    },
    /// A task try's log, from a recorded run.
    Logs {
        /// The run's id.
        run_id: String,
        /// The task.
        task: String,
        /// The try (default: the last).
        #[arg(long = "try")]
        try_number: Option<u32>,
        /// The run's DAG, when several DAGs have a run of that id.
        #[arg(long)]
        dag: Option<String>,
        /// Print JSON: the try, the log file and its text.
        #[arg(long)]
        json: bool,
    },
    /// Clear a task of an ended run (and, with --downstream, the tasks after it), then run
    /// them again; what succeeded upstream is kept.
    Clear {
        /// The run's id.
        run_id: String,
        /// The task.
        task: String,
        /// Clear the tasks downstream of it too.
        #[arg(long)]
        downstream: bool,
        /// The run's DAG, when several DAGs have a run of that id.
        #[arg(long)]
        dag: Option<String>,
        #[command(flatten)]
        folder: Folder,
        #[command(flatten)]
        run: RunArgs,
    },
}

#[derive(Debug, Subcommand)]
enum RunsCommand {
    /// The recorded runs, newest first.
    List {
        /// Only the runs of this DAG.
        #[arg(long)]
        dag: Option<String>,
        /// Only the runs in this state (queued, running, success, failed).
        #[arg(long)]
        state: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// A run and its tasks.
    Show {
        /// The run's id.
        run_id: String,
        /// The run's DAG, when several DAGs have a run of that id.
        #[arg(long)]
        dag: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Take up a run that did not end (its process was stopped): finished tasks stay
    /// finished, an SSM command already sent is waited for, not sent again.
    Resume {
        /// The run's id.
        run_id: String,
        /// The run's DAG, when several DAGs have a run of that id.
        #[arg(long)]
        dag: Option<String>,
        #[command(flatten)]
        folder: Folder,
        #[command(flatten)]
        run: RunArgs,
    },
}

#[derive(Debug, Subcommand)]
enum SsmLocalCommand {
    /// Serve the local SSM service until Ctrl-C.
    Serve {
        /// The port (default: a free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        /// The managed nodes (a nodes file); default one Linux node.
        #[arg(long)]
        nodes: Option<PathBuf>,
    },
}

/// How a command ended.
pub(crate) enum Failure {
    /// The work ran and failed (a failed run, invalid DAG files): exit 1.
    Failed,
    /// The command could not do its work (bad arguments, a DAG that does not load): exit 2,
    /// with a message.
    Usage(String),
}

pub(crate) type Outcome = Result<(), Failure>;

pub(crate) fn usage(message: impl Into<String>) -> Failure {
    Failure::Usage(message.into())
}

pub(crate) fn main() -> ExitCode {
    let cli = Cli::parse();
    let (live, task_logs) = match &cli.command {
        Command::Tasks(TasksCommand::Test { run, .. }) => (run::live_view_wanted(run.json), None),
        Command::Dags(DagsCommand::Test { run, .. })
        | Command::Dags(DagsCommand::Trigger { run, .. })
        | Command::Runs(RunsCommand::Resume { run, .. })
        | Command::Tasks(TasksCommand::Clear { run, .. }) => {
            (run::live_view_wanted(run.json), Some(home::logs_root()))
        }
        _ => (false, None),
    };
    logging::init(live, task_logs);

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(2);
        }
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Dags(DagsCommand::List { folder, json }) => {
                dags::list(&folder.dags_folder, json)
            }
            Command::Dags(DagsCommand::Show {
                dag,
                folder,
                format,
            }) => dags::show(&dag, &folder.dags_folder, format),
            Command::Dags(DagsCommand::Validate { paths, json }) => dags::validate(&paths, json),
            Command::Dags(DagsCommand::Test { dag, folder, run })
            | Command::Dags(DagsCommand::Trigger { dag, folder, run }) => {
                dags::test(&dag, &folder.dags_folder, &run).await
            }
            Command::Dags(DagsCommand::Schema) => dags::schema(),
            Command::Tasks(TasksCommand::Test {
                dag,
                task,
                xcom,
                folder,
                run,
            }) => tasks::test(&dag, &task, &xcom, &folder.dags_folder, &run).await,
            Command::Tasks(TasksCommand::Logs {
                run_id,
                task,
                try_number,
                dag,
                json,
            }) => runs::logs(&run_id, &task, try_number, dag.as_deref(), json).await,
            Command::Tasks(TasksCommand::Clear {
                run_id,
                task,
                downstream,
                dag,
                folder,
                run,
            }) => {
                runs::clear(
                    &run_id,
                    &task,
                    downstream,
                    dag.as_deref(),
                    &folder.dags_folder,
                    &run,
                )
                .await
            }
            Command::Runs(RunsCommand::List { dag, state, json }) => {
                match state.as_deref().map(str::parse::<RunState>).transpose() {
                    Ok(state) => runs::list(dag.as_deref(), state, json).await,
                    Err(_) => Err(usage(format!(
                        "--state {}: expected queued, running, success or failed",
                        state.unwrap_or_default()
                    ))),
                }
            }
            Command::Runs(RunsCommand::Show { run_id, dag, json }) => {
                runs::show(&run_id, dag.as_deref(), json).await
            }
            Command::Runs(RunsCommand::Resume {
                run_id,
                dag,
                folder,
                run,
            }) => runs::resume(&run_id, dag.as_deref(), &folder.dags_folder, &run).await,
            Command::SsmLocal(SsmLocalCommand::Serve { port, bind, nodes }) => {
                local::serve(bind, port, nodes.as_deref()).await
            }
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Failed) => ExitCode::from(1),
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}
