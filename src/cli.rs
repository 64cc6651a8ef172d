//! The `arbor` command line: one file per subcommand under `cli/`.

mod bench_model;
mod inspect;
pub mod model_args;
mod offline;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// AlphaMath-style tree search on math problems: run it, watch it, study the trees.
#[derive(Debug, Parser)]
#[command(name = "arbor", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Offline(offline::Args),
    Inspect(inspect::Args),
    Serve(serve::Args),
    /// Throughput and latency figures.
    Bench {
        #[command(subcommand)]
        what: BenchCommand,
    },
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    Model(bench_model::Args),
}

/// Runs the command line; errors are printed as `error: ...` with their causes.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Offline(args) => offline::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Bench { what: BenchCommand::Model(args) } => bench_model::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
