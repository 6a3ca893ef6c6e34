//! `irf`: the responder CLI. Contains, prepares and releases instances and starts cases with
//! the same code the automation runs, from a responder's credentials; it works where the
//! automation is not deployed (break-glass).

mod analyze;
mod case;
mod contain;
mod context;
mod evidence;
mod release;
mod symbols;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use irf_core::config::{ConfigError, ConfigErrorKind};
use irf_runtime::HandlerError;

/// Exit status for an org config that was read but is not valid (as `irf-synth`).
const EXIT_INVALID_CONFIG: u8 = 3;
/// Exit status for an org config that could not be read (as `irf-synth`).
const EXIT_UNREADABLE_CONFIG: u8 = 4;

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
    /// Volatility 3 symbols for a memory image (needs no org config and no AWS access).
    #[command(subcommand)]
    Symbols(symbols::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    context::init_logging(cli.global.verbose);
    if let Command::Symbols(c) = &cli.command {
        return match c.run() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
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
            Command::Symbols(_) => unreachable!("symbols commands run before the context"),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if let Some(c) = e.downcast_ref::<ConfigError>() {
                eprintln!("{c}");
                return ExitCode::from(match c.kind {
                    ConfigErrorKind::Unreadable => EXIT_UNREADABLE_CONFIG,
                    ConfigErrorKind::Invalid => EXIT_INVALID_CONFIG,
                });
            }
            eprintln!("error: {}", render(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes, `: `-separated, down to the first handler error: a handler error's
/// message already says its cause (`ec2:DescribeInstances i-1: Code: message`), and the SDK
/// errors under it would only repeat it.
fn render(e: &anyhow::Error) -> String {
    let mut parts = Vec::new();
    for cause in e.chain() {
        parts.push(cause.to_string());
        if cause.is::<HandlerError>() {
            break;
        }
    }
    parts.join(": ")
}
