//! `irf-synth modules`: the LiME module and Volatility symbol factory, without a stack update.

mod build;
mod forget;
mod list;
mod report;

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use irf_core::model::{AmiId, Framework};
use irf_runtime::aws::Aws;
use irf_runtime::factory::Factory;

use super::OrgConfigArg;

/// Build, list and forget memory modules and symbols for AMIs.
#[derive(Debug, clap::Args)]
pub(crate) struct ModulesArgs {
    #[command(subcommand)]
    command: ModulesCommand,
}

#[derive(Debug, clap::Subcommand)]
enum ModulesCommand {
    /// Add AMIs to the factory's list and start their builds (no stack is touched).
    Build(build::BuildArgs),
    /// Coverage: what the factory built, and running instances it does not cover.
    List(list::ListArgs),
    /// Remove AMIs from the factory's list (their modules and symbols stay).
    Forget(forget::ForgetArgs),
}

impl ModulesArgs {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        match self.command {
            ModulesCommand::Build(a) => a.run(),
            ModulesCommand::List(a) => a.run(),
            ModulesCommand::Forget(a) => a.run(),
        }
    }
}

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Output {
    /// Lines for people.
    Text,
    /// One JSON document on stdout, for scripts.
    Json,
}

/// Where the factory is and how to reach it.
#[derive(Debug, clap::Args)]
pub(crate) struct FactoryArgs {
    #[command(flatten)]
    config: OrgConfigArg,
    /// AWS endpoint override, e.g. the local emulator (`scripts/emulator`).
    #[arg(long, value_name = "URL", env = "AWS_ENDPOINT_URL")]
    endpoint_url: Option<String>,
    /// Named AWS profile for the base credentials (default: the standard chain).
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// Role assumed in the security and member accounts.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "OrganizationAccountAccessRole"
    )]
    role_name: String,
    /// `text` or `json`.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    output: Output,
}

/// What the subcommands work with.
pub(crate) struct Connected {
    fw: Framework,
    aws: Aws,
    factory: Factory,
    role_name: String,
}

impl FactoryArgs {
    /// Loads org.toml and reaches the factory; fails when its stack is not deployed.
    async fn connect(&self) -> anyhow::Result<Connected> {
        let fw = self.config.load()?;
        let aws = Aws::with(self.profile.as_deref(), self.endpoint_url.as_deref())
            .await
            .with_partition(fw.partition().as_str());
        let factory = Factory::for_org(&aws, &self.role_name, &fw)
            .await
            .with_context(|| {
                format!(
                    "reaching the security account {} in {}",
                    fw.security,
                    fw.home_region()
                )
            })?;
        let template = &factory.settings.launch_template;
        if !factory.fleet.launch_template_exists(template).await? {
            bail!(
                "the module factory is not deployed: the security account {} has no launch template {template} in {}; run irf-synth deploy --org-config {} first",
                fw.security,
                fw.home_region(),
                self.config.path.display()
            );
        }
        Ok(Connected {
            fw,
            aws,
            factory,
            role_name: self.role_name.clone(),
        })
    }
}

/// Parses `--ami` values, naming the bad one and the fix.
fn parse_amis(values: &[String]) -> anyhow::Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        let ami = AmiId::parse(v).map_err(|why| {
            anyhow::anyhow!("--ami {v:?}: {why}; give an AMI id such as ami-0123456789abcdef0")
        })?;
        if !out.iter().any(|a| a == ami.as_str()) {
            out.push(ami.as_str().to_owned());
        }
    }
    Ok(out)
}

/// Now, in seconds since the epoch.
fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The failure of a command that ran but whose builds did not all succeed (exit code
/// [`super::EXIT_BUILDS_FAILED`]).
#[derive(Debug, thiserror::Error)]
#[error("{failed} of {total} AMIs did not build every kernel (see above)")]
pub(crate) struct SomeBuildsFailed {
    pub(crate) failed: usize,
    pub(crate) total: usize,
}
