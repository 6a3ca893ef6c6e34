//! `irf-synth`: synthesize, validate and deploy the IRF stack set.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    cli::init_logging(args.verbose);
    match args.command.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = cli::exit_code(&e);
            eprintln!("{}", cli::render_error(&e));
            ExitCode::from(code)
        }
    }
}
