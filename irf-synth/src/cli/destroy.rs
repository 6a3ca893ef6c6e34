//! `irf-synth destroy`.

use std::io::IsTerminal;

use anyhow::bail;
use irf_synth::deploy::assets::AssetSource;
use irf_synth::deploy::progress::Reporter;
use irf_synth::deploy::stack::Method;
use irf_synth::deploy::{Deployer, Settings};

use super::aws_args::AwsArgs;

/// Delete every stack, dependents first. The evidence bucket and its keys are kept unless
/// `--include-evidence` is given and confirmed.
#[derive(Debug, clap::Args)]
pub(crate) struct DestroyArgs {
    #[command(flatten)]
    aws: AwsArgs,
    /// Also delete the evidence bucket (only possible once Object Lock retention has passed)
    /// and schedule its keys for deletion.
    #[arg(long)]
    include_evidence: bool,
    /// Do not ask.
    #[arg(long)]
    yes: bool,
    /// Stacks deleted at the same time.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
}

impl DestroyArgs {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        let synth = self.aws.synth_dir()?;
        if !self.yes {
            if !std::io::stdin().is_terminal() {
                bail!("refusing to destroy without confirmation: pass --yes");
            }
            let what = if self.include_evidence {
                "every stack AND THE EVIDENCE"
            } else {
                "every stack (evidence is kept)"
            };
            eprint!("delete {what}? type 'destroy' to confirm: ");
            let mut answer = String::new();
            std::io::stdin().read_line(&mut answer)?;
            if answer.trim() != "destroy" {
                bail!("nothing deleted");
            }
        }
        tokio::runtime::Runtime::new()?.block_on(async {
            let endpoint = self.aws.endpoint().await;
            let ctx = self.aws.context(&synth).await?;
            let deployer = Deployer::new(
                ctx,
                Settings {
                    method: Method::Direct,
                    concurrency: self.concurrency,
                    poll: endpoint.poll(),
                },
                AssetSource::Dir(synth.dir.clone()),
                Reporter::auto(),
            );
            let report = deployer.destroy(&synth, self.include_evidence).await;
            println!("{report}");
            if !report.ok() {
                bail!("destroy did not complete; see the failures above");
            }
            Ok(())
        })
    }
}
