//! `irf`: the responder CLI. Contains, prepares and releases instances and starts cases with
//! the same code the automation runs, from a responder's credentials; it works where the
//! automation is not deployed (break-glass).

mod analyze;
mod case;
mod contain;
mod context;
mod evidence;
mod release;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit status for an invalid or unreadable org config (as `irf-synth`).
const EXIT_INVALID_CONFIG: u8 = 3;

/// Incident response for EC2 instances: contain, analyze, release, start and follow cases.
#[derive(Debug, Parser)]
#[command(name = "irf", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    global: context::GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Isolate an instance: deny-all profile, isolation group on every interface (established
    /// connections cut), revoked sessions, termination protection. The prior state is recorded.
    Contain(contain::Args),
    /// Prepare an instance for evidence acquisition: termination protection, stop on shutdown,
    /// volumes kept, SSM-only instance profile. The prior state is recorded.
    Analyze(analyze::Args),
    /// Restore the state recorded before the first `analyze` or `contain`.
    Release(release::Args),
    /// Start and follow cases (the acquisition workflow in the security account).
    #[command(subcommand)]
    Case(case::Command),
    /// Acquire evidence by hand with the workflow's code.
    #[command(subcommand)]
    Evidence(evidence::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    context::init_logging(cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let ctx = context::Context::new(&cli.global).await?;
        match &cli.command {
            Command::Contain(a) => a.run(&ctx).await,
            Command::Analyze(a) => a.run(&ctx).await,
            Command::Release(a) => a.run(&ctx).await,
            Command::Case(c) => c.run(&ctx).await,
            Command::Evidence(c) => c.run(&ctx).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if let Some(c) = e.downcast_ref::<irf_core::config::ConfigError>() {
                eprintln!("{c}");
                return ExitCode::from(EXIT_INVALID_CONFIG);
            }
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
