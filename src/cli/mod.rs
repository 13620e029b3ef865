//! Command-line parsing and dispatch.

mod dags;
mod loading;
mod local;
mod logging;
mod out;
mod render;
mod run;
mod tasks;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

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
    /// Test one task of a DAG.
    #[command(subcommand)]
    Tasks(TasksCommand),
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
    /// A connections file (default: GUST_CONNECTIONS_FILE, if set).
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
    /// Run a DAG once, in this process.
    Test {
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
    let live = match &cli.command {
        Command::Dags(DagsCommand::Test { run, .. })
        | Command::Tasks(TasksCommand::Test { run, .. }) => run::live_view_wanted(run.json),
        _ => false,
    };
    logging::init(live);

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
            Command::Dags(DagsCommand::Test { dag, folder, run }) => {
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
