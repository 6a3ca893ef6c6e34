//! `irf-synth modules list`.

use irf_runtime::factory::coverage::{self, Fallback};
use irf_runtime::factory::inventory::{self, SsmInventory};

use super::{FactoryArgs, Output};

/// Coverage: per AMI in the factory's list, its kernels with a module and an ISF, when built,
/// from which LiME commit; then the running instances of the member accounts and regions that
/// the factory does not cover, grouped by AMI, with what a capture of them does today.
#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    factory: FactoryArgs,
}

impl ListArgs {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        tokio::runtime::Runtime::new()?.block_on(self.list())
    }

    async fn list(&self) -> anyhow::Result<()> {
        let c = self.factory.connect().await?;
        let list = c.factory.list().await?;
        let manifests = c.factory.store.manifests().await?;
        let targets: Vec<(String, String)> =
            c.fw.members
                .iter()
                .filter_map(|m| m.account().map(|a| (a, &m.regions)))
                .flat_map(|(a, regions)| {
                    regions
                        .iter()
                        .map(move |r| (a.as_str().to_owned(), r.as_str().to_owned()))
                })
                .collect();
        let instances = coverage::running_instances(&c.aws, &c.role_name, &targets).await?;
        let kernels = inventory::survey(
            &SsmInventory {
                aws: &c.aws,
                role: &c.role_name,
            },
            &instances,
        )
        .await;
        let uncovered = coverage::uncovered(
            &list,
            &manifests,
            &instances,
            c.fw.home_region().as_str(),
            &kernels,
        );
        if self.factory.output == Output::Json {
            let amis: Vec<serde_json::Value> = list
                .iter()
                .map(|(ami, source)| {
                    let m = manifests.iter().find(|m| &m.manifest.ami_id == ami);
                    serde_json::json!({
                        "ami": ami,
                        "source": source.as_str(),
                        "manifest": m.map(|m| &m.manifest),
                    })
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "bucket": c.factory.store.bucket(),
                    "amis": amis,
                    "instances_surveyed": instances.len(),
                    "inventory": {
                        "instances_with_kernels": kernels.by_instance.len(),
                        "unreadable": kernels.unreadable,
                    },
                    "uncovered": uncovered,
                }))?
            );
            return Ok(());
        }
        println!(
            "factory list ({} AMIs, modules in s3://{}):",
            list.len(),
            c.factory.store.bucket()
        );
        for (ami, source) in &list {
            match manifests.iter().find(|m| &m.manifest.ami_id == ami) {
                None => println!("  {ami} [{}]: not built yet", source.as_str()),
                Some(m) => {
                    let m = &m.manifest;
                    println!(
                        "  {ami} [{}]: {} {} {} at {} by {}, LiME {}",
                        source.as_str(),
                        m.os.id,
                        m.os.version_id,
                        m.outcome.as_str(),
                        m.ended_at,
                        m.builder.instance_id,
                        m.lime_commit.as_deref().unwrap_or("-")
                    );
                    for k in &m.kernels {
                        println!(
                            "    {}{}: module {}, ISF {}",
                            k.release,
                            if k.boot { " (boots)" } else { "" },
                            if k.module.is_some() { "yes" } else { "no" },
                            isf_sources(k),
                        );
                    }
                }
            }
        }
        println!(
            "running instances surveyed: {} in {} account-regions",
            instances.len(),
            targets.len()
        );
        println!(
            "SSM Inventory listed the kernels of {} of them",
            kernels.by_instance.len()
        );
        for (place, why) in &kernels.unreadable {
            // The whole error is in the JSON output; a line gets its start.
            let mut short: String = why.chars().take(160).collect();
            if short.len() < why.len() {
                short.push_str(" ...");
            }
            println!("  SSM Inventory unreadable in {place} (judged by AMI): {short}");
        }
        if uncovered.is_empty() {
            println!("every running instance is covered");
        }
        for u in &uncovered {
            let fate = match u.fallback {
                Fallback::IsfFromBundle => "LiME, ISF from the capture's bundle",
                Fallback::Kcore => "falls back to kcore",
                Fallback::None => "cannot be captured today",
            };
            let places: Vec<String> = u.places.iter().map(|(p, n)| format!("{p} ({n})")).collect();
            println!(
                "  {}{}: {} instance(s) {}: {fate}: {}",
                u.ami_id,
                u.kernel
                    .as_deref()
                    .map(|k| format!(" kernel {k}"))
                    .unwrap_or_default(),
                u.instances.len(),
                places.join(", "),
                u.reason
            );
        }
        Ok(())
    }
}

/// `btf`, `btf+dwarf`, or `no` when the kernel has no ISF.
fn isf_sources(k: &irf_core::factory::KernelBuild) -> String {
    if k.isf.is_empty() {
        return "no".to_owned();
    }
    k.isf
        .iter()
        .map(|i| match i.source {
            irf_core::factory::IsfSource::Btf => "btf",
            irf_core::factory::IsfSource::Dwarf => "dwarf",
        })
        .collect::<Vec<_>>()
        .join("+")
}
