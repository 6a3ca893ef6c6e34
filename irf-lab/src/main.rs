//! `irf-lab case`: walks one case through the deployed case workflow on the local emulator,
//! with a real Linux guest as the suspect's memory (see the library's stand-ins), and leaves the
//! memory image and its ISF in the work directory for Volatility.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use irf_lab::case::Walk;
use irf_runtime::containment::Target;
use irf_runtime::workflow::{Event, Outcome};

/// The local lab: what the emulator cannot run, played for real.
#[derive(Debug, Parser)]
#[command(name = "irf-lab", version, about, long_about = None)]
enum Cli {
    /// Prepare a suspect instance and walk its case through the deployed case workflow: the
    /// disks snapshotted, copied and imaged, the memory captured from a real guest kernel, the
    /// custody ledger signed; then the memory image and its ISF are downloaded into --work.
    Case(CaseArgs),
}

/// `irf-lab case`.
#[derive(Debug, clap::Args)]
struct CaseArgs {
    /// The org config the emulator's deployment came from.
    #[arg(long = "org-config", value_name = "FILE")]
    org_config: PathBuf,
    /// The emulator's endpoint.
    #[arg(long, value_name = "URL", env = "AWS_ENDPOINT_URL")]
    endpoint_url: String,
    /// Account of the suspect instance.
    #[arg(long, value_name = "ACCOUNT")]
    account: String,
    /// Region of the suspect instance.
    #[arg(long, value_name = "REGION")]
    region: String,
    /// The suspect instance.
    #[arg(long, value_name = "ID")]
    instance: String,
    /// The guest kit (`scripts/guest-kit amd64` prints it).
    #[arg(long, value_name = "DIR")]
    kit: PathBuf,
    /// `scripts/guest-run`.
    #[arg(long, value_name = "PATH")]
    guest_run: PathBuf,
    /// Guest RAM in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 512)]
    guest_memory: u64,
    /// Raw image the suspect's volumes hold (EBS direct stand-in).
    #[arg(long, value_name = "FILE")]
    volume_image: PathBuf,
    /// Where the guests' jobs and the downloaded evidence go.
    #[arg(long, value_name = "DIR")]
    work: PathBuf,
    /// Longest real sleep of a Wait state or retry interval (poll counts are unchanged).
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = humantime::parse_duration)]
    max_wait: Duration,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // The emulator's assumed-role credentials last an hour, so the SDK warns for
                // every presigned part URL that its 6 h lifetime is cut short; not news here.
                .unwrap_or_else(|_| {
                    tracing_subscriber::EnvFilter::new("warn,aws_runtime::auth::sigv4=error")
                }),
        )
        .with_writer(std::io::stderr)
        .init();
    let Cli::Case(args) = Cli::parse();
    args.run().await
}

impl CaseArgs {
    async fn run(&self) -> anyhow::Result<()> {
        let fw = irf_core::config::load(&self.org_config)?;
        let walk = Walk {
            fw,
            endpoint: self.endpoint_url.clone(),
            target: Target {
                account: self.account.clone(),
                region: self.region.clone(),
                instance_id: self.instance.clone(),
            },
            kit: self.kit.clone(),
            guest_run: self.guest_run.clone(),
            guest_memory_mib: self.guest_memory,
            volume_image: self.volume_image.clone(),
            work: self.work.clone(),
            max_wait: self.max_wait,
        };
        let seen: Arc<Mutex<BTreeMap<String, u32>>> = Arc::default();
        let walked = walk
            .run({
                let seen = seen.clone();
                move |e| progress(&seen, e)
            })
            .await?;
        let repeated: Vec<String> = seen
            .lock()
            .map_err(|_| anyhow::anyhow!("progress lock poisoned"))?
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(s, n)| format!("{s} ×{n}"))
            .collect();
        println!(
            "{} states entered; polled: {}",
            walked.execution.entered().len(),
            repeated.join(", ")
        );
        for c in &walked.prepared {
            println!("prepared: {c}");
        }
        match &walked.execution.outcome {
            Outcome::Succeeded { output } => println!(
                "case {} SUCCEEDED: {}",
                walked.case_id,
                output
                    .pointer("/Outcome/Result")
                    .map_or_else(String::new, ToString::to_string)
            ),
            Outcome::Failed { error } => {
                anyhow::bail!("case {} FAILED: {error}", walked.case_id)
            }
        }
        let summary = serde_json::to_string_pretty(&walked.summary())?;
        std::fs::write(self.work.join("case-id"), &walked.case_id)?;
        std::fs::write(self.work.join("case.json"), &summary)?;
        println!("{summary}");
        Ok(())
    }
}

/// One line per state the first time it is entered (polling loops would repeat), every retry
/// and caught error; `seen` counts the entries.
fn progress(seen: &Mutex<BTreeMap<String, u32>>, e: &Event) {
    match e {
        Event::Entered { state, at_ms } => {
            let Ok(mut seen) = seen.lock() else { return };
            let n = seen.entry(state.clone()).or_default();
            *n += 1;
            if *n > 1 {
                return;
            }
            println!(
                "  {:>6.1} s  {state}",
                f64::from(u32::try_from(*at_ms).unwrap_or(u32::MAX)) / 1000.0
            );
        }
        Event::Retried {
            state,
            error,
            attempt,
            ..
        } => println!("           {state}: retry {attempt} after {error}"),
        Event::Caught { state, error, next } => {
            println!("           {state}: {error} -> {next}");
        }
    }
}
