//! `irf-synth modules build`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use anyhow::bail;
use irf_core::factory::RequestSource;
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
    /// Region of the AMIs: the factory's (the org's home region) unless given.
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
        if let Some(region) = self.region.as_deref()
            && region != home
        {
            bail!(
                "--region {region}: the factory builds in the org's home region {home}, and AMI ids are regional; copy the AMI there (aws ec2 copy-image --source-region {region} --source-image-id AMI --region {home} --name NAME) and build the copy"
            );
        }
        let factory = &c.factory;
        let bucket = factory.store.bucket().to_owned();
        let caller = c.aws.caller_arn().await?;
        let configured = factory.config_list.amis().await?;
        let started = now();
        for ami in &amis {
            if configured.contains(ami) {
                continue;
            }
            let (request, added) = factory
                .store
                .request(ami, RequestSource::Cli, &caller, &rfc3339(started))
                .await?;
            if added {
                tracing::info!(%ami, "added to the factory's list");
            } else {
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
                let waiting: Vec<String> = statuses
                    .iter()
                    .filter(|(_, s)| !s.settled())
                    .map(|(a, _)| a.clone())
                    .collect();
                for (ami, status) in factory.reconcile(&waiting, t, false).await? {
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
