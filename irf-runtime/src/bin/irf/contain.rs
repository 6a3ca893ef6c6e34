//! `irf contain`.

use crate::context::{Context, TargetArgs};

/// Isolate an instance.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    target: TargetArgs,
    /// Also disassociate the instance's Elastic IPs (recorded, restored by `release`).
    #[arg(long)]
    disassociate_elastic_ips: bool,
    /// Do not revoke the sessions the instance's roles issued before containment.
    #[arg(long)]
    keep_sessions: bool,
}

impl Args {
    pub(crate) async fn run(&self, ctx: &Context) -> anyhow::Result<()> {
        let target = self.target.target()?;
        let mut responder_options = ctx.responder.options.clone();
        responder_options.disassociate_elastic_ips |= self.disassociate_elastic_ips;
        responder_options.revoke_role_sessions &= !self.keep_sessions;
        let engine = ctx
            .responder
            .engine_with(&target, &responder_options)
            .await?;
        let report = engine.contain().await?;
        ctx.print_report("contained", &target, &report)
    }
}
