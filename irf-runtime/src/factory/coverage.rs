//! Coverage: which running instances of the member accounts the factory's modules and symbols
//! cover, and what a capture of the others would do today.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::Filter;
use irf_core::factory::{KernelBuild, RequestSource};
use serde::Serialize;

use super::StoredManifest;
use super::inventory::InventoryKernels;
use crate::aws::Aws;
use crate::error::{self, Result};

/// A running instance of a member account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunningInstance {
    /// Its account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// Its id.
    pub instance_id: String,
    /// The AMI it was launched from.
    pub ami_id: String,
}

/// What a memory capture of an uncovered instance does today.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fallback {
    /// A LiME module exists but no ISF: the workflow builds one from the capture's own symbol
    /// bundle.
    IsfFromBundle,
    /// No module: the capture reads `/proc/kcore` with the static streamer.
    Kcore,
    /// No module and the kernel has no `/proc/kcore`: no capture is possible today.
    None,
}

/// Running instances of one AMI (and kernel, where SSM Inventory knows it) that the factory
/// does not cover.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Uncovered {
    /// The AMI.
    pub ami_id: String,
    /// The newest kernel installed on these instances, when SSM Inventory lists it (the
    /// verdict is about that kernel, not the AMI's).
    pub kernel: Option<String>,
    /// What a capture does today.
    pub fallback: Fallback,
    /// Why, with the fix.
    pub reason: String,
    /// Instance counts per `account/region`.
    pub places: BTreeMap<String, usize>,
    /// The instances.
    pub instances: Vec<String>,
}

/// Every running (or pending) instance in `targets` (account, region), through `role`.
pub async fn running_instances(
    aws: &Aws,
    role: &str,
    targets: &[(String, String)],
) -> Result<Vec<RunningInstance>> {
    let mut out = Vec::new();
    for (account, region) in targets {
        let conf = aws.account(account, role, region).await?;
        let mut pages = aws
            .ec2(&conf)
            .describe_instances()
            .filters(
                Filter::builder()
                    .name("instance-state-name")
                    .values("pending")
                    .values("running")
                    .build(),
            )
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                error::aws(&format!("ec2:DescribeInstances in {account} {region}"), e)
            })?;
            for i in page.reservations().iter().flat_map(|r| r.instances()) {
                out.push(RunningInstance {
                    account: account.clone(),
                    region: region.clone(),
                    instance_id: i.instance_id().unwrap_or_default().to_owned(),
                    ami_id: i.image_id().unwrap_or_default().to_owned(),
                });
            }
        }
    }
    Ok(out)
}

/// The instances the factory does not cover, grouped by AMI (and by kernel where SSM Inventory
/// knows it). An instance whose installed kernels Inventory lists is judged by the newest: covered
/// when any AMI's manifest built that kernel a module and an ISF (modules are filed by
/// distribution and kernel, not by AMI). Others are judged by their AMI: covered when its
/// manifest gives the kernel the AMI boots both. `home` is the factory's region: the fix for an
/// AMI of another region names its `--region`.
pub fn uncovered(
    list: &[(String, RequestSource)],
    manifests: &[StoredManifest],
    instances: &[RunningInstance],
    home: &str,
    inventory: &InventoryKernels,
) -> Vec<Uncovered> {
    type Group<'a> = (Fallback, String, Vec<&'a RunningInstance>);
    let mut groups: BTreeMap<(&str, Option<&str>), Group<'_>> = BTreeMap::new();
    for i in instances {
        let kernel = inventory.newest(&i.instance_id);
        let key = (i.ami_id.as_str(), kernel);
        if let Some(group) = groups.get_mut(&key) {
            group.2.push(i);
            continue;
        }
        let verdict = match kernel {
            Some(k) => by_kernel(k, &i.ami_id, manifests),
            None => by_ami(i, list, manifests, home),
        };
        if let Some((fallback, reason)) = verdict {
            groups.insert(key, (fallback, reason, vec![i]));
        }
    }
    groups
        .into_iter()
        .map(|((ami, kernel), (fallback, reason, members))| {
            let mut places: BTreeMap<String, usize> = BTreeMap::new();
            for i in &members {
                *places
                    .entry(format!("{}/{}", i.account, i.region))
                    .or_default() += 1;
            }
            Uncovered {
                ami_id: ami.to_owned(),
                kernel: kernel.map(str::to_owned),
                fallback,
                reason,
                places,
                instances: members.iter().map(|i| i.instance_id.clone()).collect(),
            }
        })
        .collect()
}

/// What a capture of an instance running `kernel` does today, `None` when it is covered.
fn by_kernel(kernel: &str, ami: &str, manifests: &[StoredManifest]) -> Option<(Fallback, String)> {
    let builds: Vec<&KernelBuild> = manifests
        .iter()
        .flat_map(|m| &m.manifest.kernels)
        .filter(|b| b.release == kernel)
        .collect();
    let which = format!("kernel {kernel} (its newest installed, from SSM Inventory)");
    if builds.is_empty() {
        return Some((
            Fallback::Kcore,
            format!(
                "{which} is in no build of the factory: irf-synth modules build --ami {ami} builds the newest kernels of its stream"
            ),
        ));
    }
    verdict(&which, &builds)
}

/// What a capture of a kernel (`which`, for the reason) does today, from the factory's builds
/// of it (at least one); `None` when one built it a module and an ISF.
fn verdict(which: &str, builds: &[&KernelBuild]) -> Option<(Fallback, String)> {
    let error = || {
        builds
            .iter()
            .find_map(|b| b.error.as_deref())
            .unwrap_or("not built")
            .to_owned()
    };
    if builds.iter().any(|b| b.covered()) {
        None
    } else if builds.iter().any(|b| b.module.is_some()) {
        Some((
            Fallback::IsfFromBundle,
            format!(
                "{which} has a module but no ISF; the capture builds one from its own symbol bundle"
            ),
        ))
    } else if builds.iter().any(|b| b.kcore == Some(false)) {
        Some((
            Fallback::None,
            format!("{which} has no module ({}) and no /proc/kcore", error()),
        ))
    } else {
        Some((
            Fallback::Kcore,
            format!("{which} has no module ({})", error()),
        ))
    }
}

/// What a capture of `instance` does today judged by its AMI, `None` when it is covered.
fn by_ami(
    instance: &RunningInstance,
    list: &[(String, RequestSource)],
    manifests: &[StoredManifest],
    home: &str,
) -> Option<(Fallback, String)> {
    let ami = instance.ami_id.as_str();
    let manifest = manifests.iter().find(|m| m.manifest.ami_id == ami);
    let listed = list.iter().any(|(a, _)| a == ami);
    Some(
        match manifest.map(|m| (&m.manifest, m.manifest.boot_kernel())) {
            Some((_, Some(k))) => return verdict(&format!("kernel {}", k.release), &[k]),
            Some((m, None)) => (
                Fallback::Kcore,
                format!(
                    "its last build ({}, {}) covered no kernel the AMI boots{}",
                    m.outcome.as_str(),
                    m.ended_at,
                    m.reason
                        .as_ref()
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default()
                ),
            ),
            None if listed => (
                Fallback::Kcore,
                "in the factory's list, not built yet".to_owned(),
            ),
            None => {
                let region = if instance.region == home {
                    String::new()
                } else {
                    format!(" --region {}", instance.region)
                };
                (
                    Fallback::Kcore,
                    format!(
                        "not in the factory's list: irf-synth modules build --ami {ami}{region}"
                    ),
                )
            }
        },
    )
}
