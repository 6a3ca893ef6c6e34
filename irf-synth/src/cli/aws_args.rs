//! Options shared by the commands that talk to AWS.

use std::path::PathBuf;

use irf_synth::deploy::aws::{AwsContext, AwsOptions};
use irf_synth::deploy::{DeployError, SynthDir};

use super::OrgConfigArg;

/// Where the stacks come from and how to reach the accounts.
#[derive(Debug, clap::Args)]
pub(crate) struct AwsArgs {
    #[command(flatten)]
    pub(crate) config: OrgConfigArg,
    /// Use this synth directory (exactly its bytes) instead of synthesizing the org config.
    #[arg(long, value_name = "DIR")]
    pub(crate) from: Option<PathBuf>,
    /// AWS endpoint override, e.g. the local emulator (`scripts/emulator`).
    #[arg(long, value_name = "URL", env = "AWS_ENDPOINT_URL")]
    pub(crate) endpoint_url: Option<String>,
    /// Named AWS profile for the base credentials (default: the standard chain).
    #[arg(long, value_name = "NAME")]
    pub(crate) profile: Option<String>,
    /// Role assumed in every account.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "OrganizationAccountAccessRole"
    )]
    pub(crate) role_name: String,
}

impl AwsArgs {
    /// The synth directory to work from: `--from`, or a fresh synthesis of the org config
    /// written under `target/irf-synth/`.
    pub(crate) fn synth_dir(&self) -> anyhow::Result<SynthDir> {
        let dir = match &self.from {
            Some(d) => d.clone(),
            None => {
                let fw = self.config.load()?;
                let synthesis = irf_synth::synthesize(&fw)?;
                let dir = PathBuf::from("target/irf-synth").join(&fw.org.prefix);
                synthesis.write_to(&dir)?;
                dir
            }
        };
        Ok(SynthDir::load(&dir)?)
    }

    /// The AWS context for a plan.
    pub(crate) async fn context(&self, synth: &SynthDir) -> Result<AwsContext, DeployError> {
        let home = synth
            .plan
            .stacks
            .first()
            .map_or("us-east-1", |s| s.region.as_str());
        AwsContext::new(
            &AwsOptions {
                profile: self.profile.clone(),
                endpoint_url: self.endpoint_url.clone(),
                role_name: self.role_name.clone(),
            },
            &synth.plan.partition,
            home,
        )
        .await
    }
}
