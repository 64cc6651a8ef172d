use std::process::ExitCode;

fn main() -> ExitCode {
    arbor::cli::main()
}
