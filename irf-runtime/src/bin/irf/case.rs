//! `irf case start` and `irf case status`.

use anyhow::Context as _;

use crate::context::{Context, TargetArgs};

/// Case commands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Prepare the instance (as `analyze`) and start its case workflow; a case already running
    /// for the instance is reported, not started twice.
    Start(StartArgs),
    /// Show a case's workflow state.
    Status(StatusArgs),
    /// Check a case's custody record: re-read every artifact and recompute its hashes, walk the
    /// ledger's hash chain and check the head's KMS signature. Exits 1 when anything fails.
    Verify(StatusArgs),
    /// Print a Markdown report of a case: timeline, actions, artifacts, hashes, verification.
    Report(StatusArgs),
}

/// `case start`.
#[derive(Debug, clap::Args)]
pub(crate) struct StartArgs {
    #[command(flatten)]
    target: TargetArgs,
}

/// `case status`.
#[derive(Debug, clap::Args)]
pub(crate) struct StatusArgs {
    /// Case id (`<account>-<instance>-<region>-<epoch>`).
    case_id: String,
}

impl Command {
    pub(crate) async fn run(&self, ctx: &Context) -> anyhow::Result<()> {
        match self {
            Command::Start(a) => {
                let target = a.target.target()?;
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .context("system clock before 1970")?
                    .as_secs();
                let (prepared, started) = ctx.responder.start_case(&target, now).await?;
                if ctx.json {
                    let v = serde_json::json!({ "prepared": prepared, "case": started });
                    println!("{}", serde_json::to_string_pretty(&v)?);
                } else {
                    ctx.print_report("prepared for analysis", &target, &prepared)?;
                    if started.started {
                        println!(
                            "case {} started: {}",
                            started.case_id, started.execution_arn
                        );
                    } else {
                        println!(
                            "case {} is already running: {}",
                            started.case_id, started.execution_arn
                        );
                    }
                }
                Ok(())
            }
            Command::Verify(a) => {
                let v = ctx.custody().await?.verify(&a.case_id).await?;
                if ctx.json {
                    println!("{}", serde_json::to_string_pretty(&v)?);
                } else {
                    println!("case {}: {} ledger entries", v.case_id, v.entries);
                    match &v.chain_problem {
                        None => println!("  chain      intact"),
                        Some(p) => println!("  chain      BROKEN: {p}"),
                    }
                    match &v.signature_problem {
                        None => println!("  signature  valid"),
                        Some(p) => println!("  signature  INVALID: {p}"),
                    }
                    for art in &v.artifacts {
                        println!("  {:<16} {} (entry {})", art.status, art.key, art.seq);
                        if let Some(d) = &art.detail {
                            println!("                   {d}");
                        }
                    }
                    println!("verdict: {}", if v.ok() { "VERIFIED" } else { "FAILED" });
                }
                if v.ok() {
                    Ok(())
                } else {
                    Err(anyhow::anyhow!("case {} failed verification", v.case_id))
                }
            }
            Command::Report(a) => {
                let v = ctx.custody().await?.verify(&a.case_id).await?;
                print!("{}", irf_runtime::custody::report(&v));
                Ok(())
            }
            Command::Status(a) => {
                let status = ctx.responder.case_status(&a.case_id).await?;
                if ctx.json {
                    println!("{}", serde_json::to_string_pretty(&status)?);
                } else {
                    println!("case {}: {}", status.case_id, status.status);
                    println!("  started {}", status.started_at);
                    if let Some(t) = &status.stopped_at {
                        println!("  ended   {t}");
                    }
                    if let Some(e) = &status.error {
                        println!("  error   {e}: {}", status.cause.as_deref().unwrap_or(""));
                    }
                    println!("  execution {}", status.execution_arn);
                }
                Ok(())
            }
        }
    }
}
