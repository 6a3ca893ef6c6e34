//! Coverage: which running instances of the member accounts the factory's modules and symbols
//! cover, and what a capture of the others would do today.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::Filter;
use irf_core::factory::RequestSource;
use serde::Serialize;

use super::StoredManifest;
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

/// Running instances of one AMI that the factory does not cover.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Uncovered {
    /// The AMI.
    pub ami_id: String,
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

/// The instances the factory does not cover, grouped by AMI: an instance is covered when its
/// AMI's manifest gives the kernel the AMI boots both a module and an ISF. `home` is the
/// factory's region: the fix for an AMI of another region names its `--region`.
pub fn uncovered(
    list: &[(String, RequestSource)],
    manifests: &[StoredManifest],
    instances: &[RunningInstance],
    home: &str,
) -> Vec<Uncovered> {
    let mut groups: BTreeMap<&str, Vec<&RunningInstance>> = BTreeMap::new();
    for i in instances {
        groups.entry(&i.ami_id).or_default().push(i);
    }
    let mut out = Vec::new();
    for (ami, members) in groups {
        let manifest = manifests.iter().find(|m| m.manifest.ami_id == ami);
        let listed = list.iter().any(|(a, _)| a == ami);
        let (fallback, reason) = match manifest.map(|m| (&m.manifest, m.manifest.boot_kernel())) {
            Some((_, Some(k))) if k.covered() => continue,
            Some((_, Some(k))) if k.module.is_some() => (
                Fallback::IsfFromBundle,
                format!(
                    "kernel {} has a module but no ISF; the capture builds one from its own symbol bundle",
                    k.release
                ),
            ),
            Some((_, Some(k))) if k.kcore == Some(false) => (
                Fallback::None,
                format!(
                    "kernel {} has no module ({}) and no /proc/kcore",
                    k.release,
                    k.error.as_deref().unwrap_or("not built")
                ),
            ),
            Some((_, Some(k))) => (
                Fallback::Kcore,
                format!(
                    "kernel {} has no module ({})",
                    k.release,
                    k.error.as_deref().unwrap_or("not built")
                ),
            ),
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
                let region = members
                    .iter()
                    .map(|i| i.region.as_str())
                    .find(|r| *r != home)
                    .map(|r| format!(" --region {r}"))
                    .unwrap_or_default();
                (
                    Fallback::Kcore,
                    format!(
                        "not in the factory's list: irf-synth modules build --ami {ami}{region}"
                    ),
                )
            }
        };
        let mut places: BTreeMap<String, usize> = BTreeMap::new();
        for i in &members {
            *places
                .entry(format!("{}/{}", i.account, i.region))
                .or_default() += 1;
        }
        out.push(Uncovered {
            ami_id: ami.to_owned(),
            fallback,
            reason,
            places,
            instances: members.iter().map(|i| i.instance_id.clone()).collect(),
        });
    }
    out
}
