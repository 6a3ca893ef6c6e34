//! `irf-synth deploy`.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::bail;
use irf_synth::deploy::assets::{self, AssetSource};
use irf_synth::deploy::progress::Reporter;
use irf_synth::deploy::stack::Method;
use irf_synth::deploy::{Deployer, Settings};

use super::aws_args::AwsArgs;

/// Deploy the stack set to every account and region of the plan.
#[derive(Debug, clap::Args)]
pub(crate) struct DeployArgs {
    #[command(flatten)]
    aws: AwsArgs,
    /// `change-set` (default; review and safety on AWS) or `direct` (CreateStack/UpdateStack;
    /// chosen automatically against the emulator, whose change-set stacks lose their outputs).
    #[arg(long, value_enum)]
    method: Option<MethodArg>,
    /// Stacks deployed at the same time (independent stacks only).
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Deploy without asking.
    #[arg(long)]
    yes: bool,
    /// Prebuilt runtime zips (`irf-synth package`) instead of building the asset.
    #[arg(long, value_name = "DIR")]
    asset_dir: Option<PathBuf>,
}

/// Deployment method.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub(crate) enum MethodArg {
    /// Change sets.
    ChangeSet,
    /// CreateStack / UpdateStack.
    Direct,
}

/// The workspace the binary was built from (where the runtime asset is built).
pub(crate) fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

impl DeployArgs {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        let synth = self.aws.synth_dir()?;
        let runtime = tokio::runtime::Runtime::new()?;
        runtime.block_on(async {
            let endpoint = self.aws.endpoint().await;
            let method = match (self.method, endpoint.emulator) {
                (Some(MethodArg::ChangeSet), true) => {
                    bail!("--method change-set does not work on the emulator: its change-set stacks lose their outputs; use --method direct")
                }
                (Some(MethodArg::ChangeSet), false) | (None, false) => Method::ChangeSet,
                (Some(MethodArg::Direct), _) => Method::Direct,
                (None, true) => {
                    println!("{} is the local emulator: deploying with CreateStack/UpdateStack (--method direct), because stacks created through change sets lose their outputs there", self.aws.endpoint_url.as_deref().unwrap_or_default());
                    Method::Direct
                }
            };
            if let Some(dir) = &self.asset_dir {
                assets::ensure_deployable(dir, endpoint.emulator)?;
            }
            let accounts: std::collections::BTreeSet<&str> =
                synth.plan.stacks.iter().map(|s| s.account_id.as_str()).collect();
            if !self.yes {
                if !std::io::stdin().is_terminal() {
                    bail!("refusing to deploy {} stacks to {} accounts without confirmation: pass --yes", synth.plan.stacks.len(), accounts.len());
                }
                eprint!("deploy {} stacks from {} to {} accounts? [y/N] ", synth.plan.stacks.len(), synth.dir.display(), accounts.len());
                let mut answer = String::new();
                std::io::stdin().read_line(&mut answer)?;
                if !matches!(answer.trim(), "y" | "Y" | "yes") {
                    bail!("not deployed");
                }
            }
            let ctx = self.aws.context(&synth).await?;
            let assets = match &self.asset_dir {
                Some(d) => AssetSource::Dir(d.clone()),
                None => AssetSource::Build { workspace: workspace() },
            };
            let deployer = Deployer::new(
                ctx,
                Settings {
                    method,
                    concurrency: self.concurrency,
                    poll: endpoint.poll(),
                },
                assets,
                Reporter::auto(),
            );
            let report = deployer.deploy(&synth).await;
            println!("{report}");
            if !report.ok() {
                bail!("deployment failed; the stacks above that were deployed are consistent, fix the failures and run deploy again");
            }
            Ok(())
        })
    }
}
