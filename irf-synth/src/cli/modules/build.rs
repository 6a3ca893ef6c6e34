//! `irf-synth modules build`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use anyhow::bail;
use irf_core::factory::RequestSource;
use irf_core::region::Region;
use irf_runtime::factory::{AmiStatus, rfc3339};

use super::report::AmiReport;
use super::{FactoryArgs, Output, SomeBuildsFailed, now, parse_amis};

/// Add AMIs to the factory's list (no stack is touched) and start their builds: one builder per
/// AMI and day, typed by the AMI's architecture.
#[derive(Debug, clap::Args)]
pub(crate) struct BuildArgs {
    #[command(flatten)]
    factory: FactoryArgs,
    /// An AMI id (repeat for more).
    #[arg(long = "ami", value_name = "AMI", required = true)]
    amis: Vec<String>,
    /// Region of the AMIs: the factory's (the org's home region) unless given. AMIs of another
    /// region are copied into the factory's region and built from the copy.
    #[arg(long, value_name = "REGION")]
    region: Option<String>,
    /// Follow the builds until each AMI is built, failed or skipped.
    #[arg(long)]
    wait: bool,
    /// With --wait: give up after this many minutes (default: the build timeout plus 10).
    #[arg(long, value_name = "MINUTES")]
    timeout_minutes: Option<u64>,
}

impl BuildArgs {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        let amis = parse_amis(&self.amis)?;
        tokio::runtime::Runtime::new()?.block_on(self.build(amis))
    }

    async fn build(&self, amis: Vec<String>) -> anyhow::Result<()> {
        let c = self.factory.connect().await?;
        let home = c.fw.home_region().as_str();
        // An AMI of another region is built from the factory's copy of it.
        let region = match self.region.as_deref() {
            Some(r) if Region::lookup(r).is_none() => bail!(
                "--region {r:?}: not a region code IRF knows (such as eu-west-1); nothing was added"
            ),
            Some(r) if r != home => Some(r),
            _ => None,
        };
        let factory = &c.factory;
        let bucket = factory.store.bucket().to_owned();
        let caller = c.aws.caller_arn().await?;
        let configured = factory.config_list.amis().await?;
        if let Some(r) = region
            && let Some(ami) = amis.iter().find(|a| configured.contains(a))
        {
            bail!(
                "{ami} is listed in {} ([module_factory] amis), which are AMIs of the home region {home}, not of --region {r}; nothing was added",
                self.factory.config.path.display()
            );
        }
        // An AMI listed as another region's is refused before anything is added.
        let mut listed = BTreeMap::new();
        for ami in &amis {
            if let Some(request) = factory.store.request_for(ami).await? {
                let from = request.region.as_deref().unwrap_or(home);
                if from != region.unwrap_or(home) {
                    bail!(
                        "{ami} is already in the factory's list as an AMI of {from}: irf-synth modules forget --ami {ami} first to build it from {}; nothing was added",
                        region.unwrap_or(home)
                    );
                }
                listed.insert(ami.clone(), request);
            }
        }
        let started = now();
        for ami in &amis {
            if configured.contains(ami) {
                continue;
            }
            if let Some(request) = listed.get(ami) {
                tracing::info!(%ami, since = %request.requested_at, by = %request.requested_by, "already in the factory's list");
                continue;
            }
            let (request, added) = factory
                .store
                .request(ami, region, RequestSource::Cli, &caller, &rfc3339(started))
                .await?;
            if added {
                tracing::info!(%ami, region = region.unwrap_or(home), "added to the factory's list");
            } else {
                // Another caller added it since the check above.
                tracing::info!(%ami, since = %request.requested_at, by = %request.requested_by, "already in the factory's list");
            }
        }
        factory.watchdog(started).await?;
        let mut statuses: BTreeMap<String, AmiStatus> = factory
            .reconcile(&amis, started, true)
            .await?
            .into_iter()
            .collect();
        let was_due: BTreeSet<String> = statuses
            .iter()
            .filter(|(_, s)| !s.settled())
            .map(|(a, _)| a.clone())
            .collect();
        // Progress goes to stderr in both output formats (stdout carries the result only).
        for ami in &amis {
            eprintln!(
                "{}",
                AmiReport::new(ami, &statuses[ami], true, &bucket).lines()[0]
            );
        }
        if self.wait {
            let budget = Duration::from_secs(
                60 * self
                    .timeout_minutes
                    .unwrap_or(u64::from(c.fw.module_factory.build_timeout_minutes) + 10),
            );
            let poll = if self.factory.endpoint_url.is_some() {
                Duration::from_millis(500)
            } else {
                Duration::from_secs(15)
            };
            let clock = Instant::now();
            while statuses.values().any(|s| !s.settled()) {
                if clock.elapsed() > budget {
                    for s in statuses.values_mut().filter(|s| !s.settled()) {
                        *s = AmiStatus::Unavailable(format!(
                            "still {} after {} minutes of --wait; follow it with irf-synth modules list",
                            s.label(),
                            budget.as_secs() / 60
                        ));
                    }
                    break;
                }
                tokio::time::sleep(poll).await;
                let t = now();
                factory.watchdog(t).await?;
                // A copy that became available gets its builder now; the rest are followed.
                let waiting_for = |copying: bool| -> Vec<String> {
                    statuses
                        .iter()
                        .filter(|(_, s)| {
                            !s.settled() && matches!(s, AmiStatus::Copying { .. }) == copying
                        })
                        .map(|(a, _)| a.clone())
                        .collect()
                };
                let (copying, waiting) = (waiting_for(true), waiting_for(false));
                let mut updates = factory.reconcile(&copying, t, true).await?;
                updates.extend(factory.reconcile(&waiting, t, false).await?);
                for (ami, status) in updates {
                    if status.label() != statuses[&ami].label() {
                        eprintln!(
                            "{}: {} after {} s",
                            ami,
                            status.label(),
                            clock.elapsed().as_secs()
                        );
                    }
                    statuses.insert(ami, status);
                }
            }
        }
        let reports: Vec<AmiReport> = amis
            .iter()
            .map(|ami| AmiReport::new(ami, &statuses[ami], was_due.contains(ami), &bucket))
            .collect();
        match self.factory.output {
            Output::Json => println!(
                "{}",
                serde_json::to_string_pretty(
                    &serde_json::json!({ "bucket": bucket, "amis": reports })
                )?
            ),
            Output::Text if self.wait => {
                for r in &reports {
                    for line in r.lines() {
                        println!("{line}");
                    }
                }
            }
            Output::Text => {}
        }
        let failed = reports.iter().filter(|r| r.failed()).count();
        if failed > 0 {
            return Err(SomeBuildsFailed {
                failed,
                total: reports.len(),
            }
            .into());
        }
        Ok(())
    }
}
