//! `irf release`.

use crate::context::{Context, TargetArgs};

/// Restore the recorded state.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    target: TargetArgs,
    /// Also lift the session revocations (they deny only credentials issued before
    /// containment, which may still be in an attacker's hands; keep them unless sure).
    #[arg(long)]
    lift_revocations: bool,
}

impl Args {
    pub(crate) async fn run(&self, ctx: &Context) -> anyhow::Result<()> {
        let target = self.target.target()?;
        let report = ctx
            .responder
            .release(&target, self.lift_revocations)
            .await?;
        if !ctx.json && report.changes.is_empty() {
            println!(
                "{}: no prior-state record, nothing to release",
                target.instance_id
            );
            return Ok(());
        }
        ctx.print_report("released", &target, &report)
    }
}
