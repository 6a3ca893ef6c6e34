//! Command-line interface: one module per subcommand.

mod aws_args;
mod deploy;
mod destroy;
mod diff;
mod init;
mod modules;
mod package;
mod status;
mod synth;
mod validate;

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use irf_core::config::{ConfigError, ConfigErrorKind};
use irf_core::model::Framework;

/// Exit code of an invalid org config.
pub(crate) const EXIT_INVALID_CONFIG: u8 = 3;
/// Exit code of an org config that cannot be read.
pub(crate) const EXIT_UNREADABLE_CONFIG: u8 = 4;
/// Exit code of any other failure.
pub(crate) const EXIT_FAILURE: u8 = 1;
/// Exit code of `modules build` when some AMIs did not build every kernel.
pub(crate) const EXIT_BUILDS_FAILED: u8 = 5;

/// Synthesize, validate and deploy the IRF incident-response framework.
#[derive(Debug, Parser)]
#[command(name = "irf-synth", version, about)]
pub(crate) struct Cli {
    /// More logging (repeat for debug).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub(crate) verbose: u8,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Write a commented starter org.toml.
    Init(init::InitArgs),
    /// Check an org.toml and summarize what it would deploy.
    Validate(validate::ValidateArgs),
    /// Write the ordered templates and plan.json for an org.toml.
    Synth(synth::SynthArgs),
    /// Deploy the stack set to every account and region of the plan.
    Deploy(deploy::DeployArgs),
    /// Show what a deploy would change, per stack, without changing anything.
    Diff(diff::DiffArgs),
    /// Show every planned stack with its status.
    Status(status::StatusArgs),
    /// Delete every stack (evidence is kept unless --include-evidence).
    Destroy(destroy::DestroyArgs),
    /// Build the irf-runtime Lambda asset zips.
    Package(package::PackageArgs),
    /// LiME modules and Volatility symbols for AMIs: build, list coverage, forget.
    Modules(modules::ModulesArgs),
}

impl Command {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        match self {
            Command::Init(a) => a.run(),
            Command::Validate(a) => a.run(),
            Command::Synth(a) => a.run(),
            Command::Deploy(a) => a.run(),
            Command::Diff(a) => a.run(),
            Command::Status(a) => a.run(),
            Command::Destroy(a) => a.run(),
            Command::Package(a) => a.run(),
            Command::Modules(a) => a.run(),
        }
    }
}

/// The `--org-config` option shared by every command that reads one.
#[derive(Debug, clap::Args)]
pub(crate) struct OrgConfigArg {
    /// Path of the org config.
    #[arg(long = "org-config", value_name = "FILE", default_value = "org.toml")]
    pub(crate) path: PathBuf,
}

impl OrgConfigArg {
    pub(crate) fn load(&self) -> Result<Framework, ConfigError> {
        irf_core::config::load(Path::new(&self.path))
    }
}

pub(crate) fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn,irf_synth=info",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

pub(crate) fn exit_code(e: &anyhow::Error) -> u8 {
    if e.downcast_ref::<modules::SomeBuildsFailed>().is_some() {
        return EXIT_BUILDS_FAILED;
    }
    match e.downcast_ref::<ConfigError>() {
        Some(c) if c.kind == ConfigErrorKind::Unreadable => EXIT_UNREADABLE_CONFIG,
        Some(_) => EXIT_INVALID_CONFIG,
        None => EXIT_FAILURE,
    }
}

pub(crate) fn render_error(e: &anyhow::Error) -> String {
    match e.downcast_ref::<ConfigError>() {
        Some(c) => {
            let n = c.diagnostics.len();
            format!(
                "{c}\n\n{} rejected: {n} problem{}; nothing was changed",
                c.file.display(),
                if n == 1 { "" } else { "s" }
            )
        }
        None => format!("error: {e:#}"),
    }
}
