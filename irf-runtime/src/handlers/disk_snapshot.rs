//! Security account: the disk steps before imaging (snapshot, re-encrypt and share, copy into
//! the security account) and the clean-up, through `IRAutomation` in the member account.

use irf_core::contract;
use serde_json::{Value, json};

use crate::aws::Aws;
use crate::disk::{Disk, VolumeSnapshot};
use crate::error::{HandlerError, Result};
use crate::handlers::case_record::Case;
use crate::handlers::disk_imaging::DiskCopy;

fn field<T: serde::de::DeserializeOwned>(payload: &Value, pointer: &str) -> Result<T> {
    super::input(payload, pointer, "disk")
}

/// Runs one disk step with `disk`.
pub async fn step(disk: &Disk, payload: &Value) -> Result<Value> {
    let case: Case = field(payload, "/Case")?;
    let action = payload
        .get("Action")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match action {
        "CreateSnapshots" => Ok(json!({ "Snapshots": disk.create_snapshots(&case).await? })),
        "CheckSnapshots" => {
            let s: Vec<VolumeSnapshot> = field(payload, "/Snapshots/Snapshots")?;
            super::polled(disk.check_snapshots(&s).await.map(|()| json!({})))
        }
        "ShareSnapshots" => {
            let s: Vec<VolumeSnapshot> = field(payload, "/Snapshots/Snapshots")?;
            Ok(json!({ "Shared": disk.share_snapshots(&case, &s).await? }))
        }
        "CheckShared" => {
            let s: Vec<VolumeSnapshot> = field(payload, "/Shared/Shared")?;
            super::polled(disk.check_shared(&s).await.map(|()| json!({})))
        }
        "CopySnapshots" => {
            let s: Vec<VolumeSnapshot> = field(payload, "/Shared/Shared")?;
            Ok(json!({ "Copies": disk.copy_snapshots(&case, &s).await? }))
        }
        "CheckCopies" => {
            let c: Vec<DiskCopy> = field(payload, "/Copies/Copies")?;
            super::polled(disk.check_copies(&c).await.map(|()| json!({})))
        }
        "CleanUp" => {
            let report = disk.clean_up(&case).await?;
            if !report.not_deleted.is_empty() {
                tracing::warn!(case_id = %case.case_id, not_deleted = ?report.not_deleted, "some snapshots could not be deleted");
            }
            serde_json::to_value(report).map_err(HandlerError::fatal)
        }
        other => Err(HandlerError::Fatal(format!(
            "disk-snapshot has no action {other:?}"
        ))),
    }
}

/// Handles a disk step in Lambda.
pub async fn handle(aws: &Aws, payload: Value) -> Result<Value> {
    let case: Case = field(&payload, "/Case")?;
    let home = aws.home_region();
    let disk = Disk {
        member: aws.ec2(
            &aws.assume(&case.account, contract::IR_AUTOMATION_ROLE, &case.region)
                .await?,
        ),
        member_home: aws.ec2(
            &aws.assume(&case.account, contract::IR_AUTOMATION_ROLE, &home)
                .await?,
        ),
        security: aws.ec2(&aws.here(&home)),
        security_account: aws.caller_account().await?,
        home_region: home,
    };
    step(&disk, &payload).await
}
