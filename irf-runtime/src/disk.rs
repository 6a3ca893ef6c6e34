//! Disk acquisition up to the imaging: snapshot every attached EBS volume, re-encrypt each
//! snapshot with the member key and move it to the home region, share it with the security
//! account, copy it there with the security key, and clean up.
//!
//! Every snapshot carries `case-id`, `ir-acquisition=True` (the IAM conditions gating deletes),
//! `irf-stage` (`original`, `shared` or `evidence`) and `irf-source-volume`, so every step finds
//! what an earlier try already made and a retried step never creates a duplicate. Every check
//! covers every snapshot, and each client works in the region where its snapshots are.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{
    Filter, InstanceSpecification, OperationType, ResourceType, Tag, TagSpecification,
};
use irf_core::contract;
use irf_core::steps::{Case, DiskCopy, VolumeSnapshot};
use serde::{Deserialize, Serialize};

use crate::error::{self, HandlerError, Result};

use contract::{SNAPSHOT_STAGE_TAG as STAGE_TAG, SOURCE_VOLUME_TAG};

/// What clean-up did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CleanUpReport {
    /// Snapshots deleted.
    pub deleted: Vec<String>,
    /// Snapshots kept (the security copies when `RetainArtefacts`).
    pub kept: Vec<String>,
    /// Snapshots that could not be deleted, with the error.
    pub not_deleted: BTreeMap<String, String>,
}

/// EC2 access for one case.
#[derive(Debug)]
pub struct Disk {
    /// Member account, the instance's region.
    pub member: aws_sdk_ec2::Client,
    /// Member account, the home region.
    pub member_home: aws_sdk_ec2::Client,
    /// Security account, the home region.
    pub security: aws_sdk_ec2::Client,
    /// 12-digit id of the security account, which the shared snapshots are granted to.
    pub security_account: String,
    /// The home region: snapshots are re-encrypted into it and the security copies live there.
    pub home_region: String,
}

fn tags(case: &Case, stage: &str, volume: Option<&str>) -> TagSpecification {
    let mut t = TagSpecification::builder()
        .resource_type(ResourceType::Snapshot)
        .tags(
            Tag::builder()
                .key(contract::CASE_ID_TAG)
                .value(&case.case_id)
                .build(),
        )
        .tags(
            Tag::builder()
                .key(contract::ACQUISITION_TAG)
                .value(contract::ACQUISITION_TAG_VALUE)
                .build(),
        )
        .tags(Tag::builder().key(STAGE_TAG).value(stage).build());
    if let Some(v) = volume {
        t = t.tags(Tag::builder().key(SOURCE_VOLUME_TAG).value(v).build());
    }
    t.build()
}

fn tag_of<'a>(tags: &'a [Tag], key: &str) -> Option<&'a str> {
    tags.iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

/// Snapshots of `case` at `stage` owned by the client's account: source volume → (id, state).
async fn staged(
    ec2: &aws_sdk_ec2::Client,
    case: &Case,
    stage: &str,
) -> Result<BTreeMap<String, (String, String)>> {
    let mut found = BTreeMap::new();
    let mut pages = ec2
        .describe_snapshots()
        .owner_ids("self")
        .filters(
            Filter::builder()
                .name(format!("tag:{}", contract::CASE_ID_TAG))
                .values(&case.case_id)
                .build(),
        )
        .filters(
            Filter::builder()
                .name(format!("tag:{STAGE_TAG}"))
                .values(stage)
                .build(),
        )
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| error::aws(&format!("ec2:DescribeSnapshots {stage}"), e))?;
        for s in page.snapshots() {
            let volume = tag_of(s.tags(), SOURCE_VOLUME_TAG)
                .or(s.volume_id())
                .unwrap_or_default();
            found.insert(
                volume.to_owned(),
                (
                    s.snapshot_id().unwrap_or_default().to_owned(),
                    s.state().map(|x| x.as_str().to_owned()).unwrap_or_default(),
                ),
            );
        }
    }
    Ok(found)
}

/// Pending until every snapshot in `ids` completed; fatal when one is in error or gone.
async fn all_completed(ec2: &aws_sdk_ec2::Client, ids: &[&str], what: &str) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let out = ec2
        .describe_snapshots()
        .set_snapshot_ids(Some(ids.iter().map(|s| (*s).to_owned()).collect()))
        .send()
        .await
        .map_err(|e| error::aws(&format!("ec2:DescribeSnapshots {what}"), e))?;
    let states: BTreeMap<&str, (&str, &str)> = out
        .snapshots()
        .iter()
        .map(|s| {
            (
                s.snapshot_id().unwrap_or_default(),
                (
                    s.state().map_or("", |x| x.as_str()),
                    s.state_message().unwrap_or_default(),
                ),
            )
        })
        .collect();
    let mut pending = Vec::new();
    for id in ids {
        match states.get(id) {
            None => {
                return Err(HandlerError::fatal(format!(
                    "{what} snapshot {id} no longer exists"
                )));
            }
            Some(("error", why)) => {
                return Err(HandlerError::fatal(format!(
                    "{what} snapshot {id} failed: {why}"
                )));
            }
            Some(("completed", _)) => {}
            Some((state, _)) => pending.push(format!("{id} {state}")),
        }
    }
    if pending.is_empty() {
        Ok(())
    } else {
        Err(HandlerError::pending(format!(
            "{what} snapshots not completed: {}",
            pending.join(", ")
        )))
    }
}

impl Disk {
    /// Snapshots every attached EBS volume at once (crash-consistent), tagged with the case.
    pub async fn create_snapshots(&self, case: &Case) -> Result<Vec<VolumeSnapshot>> {
        let out = self
            .member
            .describe_instances()
            .instance_ids(&case.instance_id)
            .send()
            .await
            .map_err(|e| error::aws(&format!("ec2:DescribeInstances {}", case.instance_id), e))?;
        let instance = out
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .next()
            .ok_or_else(|| {
                HandlerError::fatal(format!("instance {} not found", case.instance_id))
            })?;
        let devices: BTreeMap<String, String> = instance
            .block_device_mappings()
            .iter()
            .filter_map(|m| {
                Some((
                    m.ebs()?.volume_id()?.to_owned(),
                    m.device_name()?.to_owned(),
                ))
            })
            .collect();
        if devices.is_empty() {
            return Err(HandlerError::fatal(format!(
                "instance {} has no EBS volume",
                case.instance_id
            )));
        }
        let mut made = staged(&self.member, case, "original").await?;
        if !devices.keys().all(|v| made.contains_key(v)) {
            self.member
                .create_snapshots()
                .instance_specification(
                    InstanceSpecification::builder()
                        .instance_id(&case.instance_id)
                        .build(),
                )
                .description(format!("IRF case {}: {}", case.case_id, case.instance_id))
                .tag_specifications(tags(case, "original", None))
                .send()
                .await
                .map_err(|e| error::aws(&format!("ec2:CreateSnapshots {}", case.instance_id), e))?;
            made = staged(&self.member, case, "original").await?;
        }
        let sizes = self
            .volume_sizes(&devices.keys().cloned().collect::<Vec<_>>())
            .await?;
        devices
            .iter()
            .map(|(volume, device)| {
                let (id, _) = made.get(volume).ok_or_else(|| {
                    HandlerError::fatal(format!("CreateSnapshots made no snapshot of {volume}"))
                })?;
                Ok(VolumeSnapshot {
                    volume_id: volume.clone(),
                    device: device.clone(),
                    snapshot_id: id.clone(),
                    region: case.region.clone(),
                    size_gib: sizes.get(volume).copied().unwrap_or(0),
                })
            })
            .collect()
    }

    async fn volume_sizes(&self, volumes: &[String]) -> Result<BTreeMap<String, i32>> {
        let out = self
            .member
            .describe_volumes()
            .set_volume_ids(Some(volumes.to_vec()))
            .send()
            .await
            .map_err(|e| error::aws("ec2:DescribeVolumes", e))?;
        Ok(out
            .volumes()
            .iter()
            .filter_map(|v| Some((v.volume_id()?.to_owned(), v.size()?)))
            .collect())
    }

    /// Pending until every original snapshot completed.
    pub async fn check_snapshots(&self, snapshots: &[VolumeSnapshot]) -> Result<()> {
        let ids: Vec<&str> = snapshots.iter().map(|s| s.snapshot_id.as_str()).collect();
        all_completed(&self.member, &ids, "original").await
    }

    /// Re-encrypts each snapshot with the member key (`alias/ir/ebs`) into the home region.
    pub async fn share_snapshots(
        &self,
        case: &Case,
        snapshots: &[VolumeSnapshot],
    ) -> Result<Vec<VolumeSnapshot>> {
        let made = staged(&self.member_home, case, "shared").await?;
        let mut shared = Vec::new();
        for s in snapshots {
            let id = match made.get(&s.volume_id) {
                Some((id, _)) => id.clone(),
                None => self
                    .member_home
                    .copy_snapshot()
                    .source_region(&s.region)
                    .source_snapshot_id(&s.snapshot_id)
                    .encrypted(true)
                    .kms_key_id(contract::MEMBER_EBS_KEY_ALIAS)
                    .description(format!(
                        "IRF case {}: re-encryption and sharing of {}",
                        case.case_id, s.volume_id
                    ))
                    .tag_specifications(tags(case, "shared", Some(&s.volume_id)))
                    .send()
                    .await
                    .map_err(|e| {
                        error::aws(
                            &format!("ec2:CopySnapshot {} (re-encrypt)", s.snapshot_id),
                            e,
                        )
                    })?
                    .snapshot_id()
                    .unwrap_or_default()
                    .to_owned(),
            };
            shared.push(VolumeSnapshot {
                snapshot_id: id,
                region: self.home_region.clone(),
                ..s.clone()
            });
        }
        Ok(shared)
    }

    /// Pending until every re-encrypted snapshot completed; then grants the security account
    /// `createVolumePermission` on each (idempotent).
    pub async fn check_shared(&self, shared: &[VolumeSnapshot]) -> Result<()> {
        let ids: Vec<&str> = shared.iter().map(|s| s.snapshot_id.as_str()).collect();
        all_completed(&self.member_home, &ids, "re-encrypted").await?;
        for id in ids {
            self.member_home
                .modify_snapshot_attribute()
                .snapshot_id(id)
                .attribute(aws_sdk_ec2::types::SnapshotAttributeName::CreateVolumePermission)
                .operation_type(OperationType::Add)
                .user_ids(&self.security_account)
                .send()
                .await
                .map_err(|e| error::aws(&format!("ec2:ModifySnapshotAttribute {id}"), e))?;
        }
        Ok(())
    }

    /// Copies each shared snapshot into the security account's home region with `alias/ir/sec`.
    pub async fn copy_snapshots(
        &self,
        case: &Case,
        shared: &[VolumeSnapshot],
    ) -> Result<Vec<DiskCopy>> {
        let made = staged(&self.security, case, "evidence").await?;
        let mut copies = Vec::new();
        for s in shared {
            let id = match made.get(&s.volume_id) {
                Some((id, _)) => id.clone(),
                None => self
                    .security
                    .copy_snapshot()
                    .source_region(&s.region)
                    .source_snapshot_id(&s.snapshot_id)
                    .encrypted(true)
                    .kms_key_id(contract::SECURITY_KEY_ALIAS)
                    .description(format!(
                        "IRF case {}: source account {}, instance {}, volume {} ({})",
                        case.case_id, case.account, case.instance_id, s.volume_id, s.device
                    ))
                    .tag_specifications(tags(case, "evidence", Some(&s.volume_id)))
                    .send()
                    .await
                    .map_err(|e| {
                        error::aws(
                            &format!("ec2:CopySnapshot {} (security copy)", s.snapshot_id),
                            e,
                        )
                    })?
                    .snapshot_id()
                    .unwrap_or_default()
                    .to_owned(),
            };
            copies.push(DiskCopy {
                volume_id: s.volume_id.clone(),
                device: s.device.clone(),
                snapshot_id: id,
                region: self.home_region.clone(),
                size_gib: s.size_gib,
            });
        }
        Ok(copies)
    }

    /// Pending until every security copy completed (polled in the home region, where they are).
    pub async fn check_copies(&self, copies: &[DiskCopy]) -> Result<()> {
        let ids: Vec<&str> = copies.iter().map(|c| c.snapshot_id.as_str()).collect();
        all_completed(&self.security, &ids, "security copy").await
    }

    /// Deletes the case's member snapshots (original and re-encrypted), and its security copies
    /// unless `case.retain_artefacts`; reports what it could not delete instead of stopping.
    pub async fn clean_up(&self, case: &Case) -> Result<CleanUpReport> {
        let mut report = CleanUpReport::default();
        let targets = [
            (&self.member, "original", true),
            (&self.member_home, "shared", true),
            (&self.security, "evidence", !case.retain_artefacts),
        ];
        for (ec2, stage, delete) in targets {
            for (id, _) in staged(ec2, case, stage).await?.into_values() {
                if report.deleted.contains(&id) {
                    continue;
                }
                if !delete {
                    report.kept.push(id);
                    continue;
                }
                match ec2.delete_snapshot().snapshot_id(&id).send().await {
                    Ok(_) => report.deleted.push(id),
                    Err(e) if error::code(&e) == Some("InvalidSnapshot.NotFound") => {}
                    Err(e) => {
                        let err = error::aws(&format!("ec2:DeleteSnapshot {id}"), e);
                        report.not_deleted.insert(id, err.to_string());
                    }
                }
            }
        }
        Ok(report)
    }
}
