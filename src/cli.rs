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
mod tui;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// AlphaMath-style tree search on math problems: run it, watch it, study the trees.
///
/// Without a subcommand, arbor opens the terminal UI on the problem picker.
#[derive(Debug, Parser)]
#[command(name = "arbor", version, about, long_about = None, args_conflicts_with_subcommands = true)]
#[command(after_help = "Examples:\n  \
    arbor --demo                          the UI with scripted toy backends (no model needed)\n  \
    arbor --data problems.jsonl --model .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf --no-value\n  \
    arbor view sample_trees/large_mcts.jsonl")]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    tui: tui::TuiArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    View(tui::ViewArgs),
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
    let Some(command) = cli.command else {
        return finish(tui::run(cli.tui));
    };
    let result = match command {
        Command::View(args) => tui::view(args),
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
    finish(result)
}

fn finish(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
