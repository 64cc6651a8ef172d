//! The `arbor` command line: one file per subcommand under `cli/`.

mod bench;
mod bench_model;
mod grade;
mod inspect;
mod interp;
pub mod model_args;
mod offline;
mod run;
mod score;
mod serve;
mod synth;
mod train;

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
    Score(score::Args),
    Bench(bench::Args),
    Interp(interp::Args),
    Grade(grade::Args),
    Serve(serve::Args),
    Solve(run::SolveArgs),
    Eval(run::EvalArgs),
    Collect(run::CollectArgs),
    Synth(synth::Args),
    Train(train::Args),
}

/// Runs the command line; errors are printed as `error: ...` with their causes.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Offline(args) => offline::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Score(args) => score::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Interp(args) => interp::run(args),
        Command::Grade(args) => grade::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Solve(args) => run::solve(args),
        Command::Eval(args) => run::eval(args),
        Command::Collect(args) => run::collect(args),
        Command::Synth(args) => synth::run(args),
        Command::Train(args) => train::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
