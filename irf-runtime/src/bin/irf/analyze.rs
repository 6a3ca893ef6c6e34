//! `irf analyze`.

use crate::context::{Context, TargetArgs};

/// Prepare an instance for acquisition.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    target: TargetArgs,
}

impl Args {
    pub(crate) async fn run(&self, ctx: &Context) -> anyhow::Result<()> {
        let target = self.target.target()?;
        let report = ctx.responder.analyze(&target).await?;
        ctx.print_report("prepared for analysis", &target, &report)
    }
}
