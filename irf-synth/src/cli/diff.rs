//! `irf-synth diff`.

use irf_synth::deploy::diff::{Action, StackDiff, plan_diff};

use super::aws_args::AwsArgs;

/// Show what a deploy would change, per stack, without executing anything. Replacements are
/// evaluated by CloudFormation (a change set that is created, read and deleted) except on the
/// emulator, whose change sets are unreliable.
#[derive(Debug, clap::Args)]
pub(crate) struct DiffArgs {
    #[command(flatten)]
    aws: AwsArgs,
}

impl DiffArgs {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        let synth = self.aws.synth_dir()?;
        tokio::runtime::Runtime::new()?.block_on(async {
            let emulator = self.aws.endpoint().await.emulator;
            let ctx = self.aws.context(&synth).await?;
            let diffs = plan_diff(&ctx, &synth, !emulator).await?;
            let mut changed = 0;
            for (name, d) in &diffs {
                let s = synth.plan.stack(name).expect("diffs follow the plan");
                let at = format!("{name} ({}/{})", s.account_id, s.region);
                match d {
                    StackDiff::Create { resources } => {
                        changed += 1;
                        println!("{at}: create, {resources} resources");
                    }
                    StackDiff::NoChanges => println!("{at}: no changes"),
                    StackDiff::Update {
                        parameters,
                        changes,
                        tags,
                    } => {
                        changed += 1;
                        println!("{at}: update");
                        for p in parameters {
                            println!("  parameter {p}");
                        }
                        for c in changes {
                            let mark = match c.action {
                                Action::Add => "+",
                                Action::Remove => "-",
                                Action::Modify => "~",
                            };
                            let replace = match c.replacement.as_deref() {
                                Some("True") => "  REPLACEMENT",
                                Some("Conditional") => "  may be replaced",
                                Some(_) => "",
                                None if emulator && c.action == Action::Modify => {
                                    "  (replacement not evaluated on the emulator)"
                                }
                                None => "",
                            };
                            println!("  {mark} {} ({}){replace}", c.logical_id, c.resource_type);
                        }
                        if *tags {
                            println!("  stack tags change");
                        }
                    }
                }
            }
            println!("{changed} of {} stack(s) would change", diffs.len());
            Ok(())
        })
    }
}
