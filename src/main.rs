//! The `gust` command: list, show, validate and test DAGs; test one task; serve the
//! local SSM service.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
