//! Security account: the disk steps before imaging (snapshot, re-encrypt and share, copy into
//! the security account) and the clean-up, through `IRAutomation` in the member account.

use irf_core::contract;
use irf_core::handler::Handler;
use irf_core::steps::{Copies, DiskStep, Shared, Snapshots};
use serde_json::{Value, json};

use crate::aws::Aws;
use crate::disk::Disk;
use crate::error::{HandlerError, Result};

fn to_value<T: serde::Serialize>(value: &T) -> Result<Value> {
    serde_json::to_value(value).map_err(HandlerError::fatal)
}

/// Runs the disk step `payload` asks for with `disk`.
pub async fn step(disk: &Disk, payload: &Value) -> Result<Value> {
    run(disk, super::request(Handler::DiskSnapshot, payload)?).await
}

/// Runs one disk step with `disk`.
pub async fn run(disk: &Disk, request: DiskStep) -> Result<Value> {
    match request {
        DiskStep::CreateSnapshots { case } => to_value(&Snapshots {
            snapshots: disk.create_snapshots(&case).await?,
        }),
        DiskStep::CheckSnapshots { snapshots, .. } => super::polled(
            disk.check_snapshots(&snapshots.snapshots)
                .await
                .map(|()| json!({})),
        ),
        DiskStep::ShareSnapshots { case, snapshots } => to_value(&Shared {
            shared: disk.share_snapshots(&case, &snapshots.snapshots).await?,
        }),
        DiskStep::CheckShared { shared, .. } => {
            super::polled(disk.check_shared(&shared.shared).await.map(|()| json!({})))
        }
        DiskStep::CopySnapshots { case, shared } => to_value(&Copies {
            copies: disk.copy_snapshots(&case, &shared.shared).await?,
        }),
        DiskStep::CheckCopies { copies, .. } => {
            super::polled(disk.check_copies(&copies.copies).await.map(|()| json!({})))
        }
        DiskStep::CleanUp { case, .. } => {
            let report = disk.clean_up(&case).await?;
            if !report.not_deleted.is_empty() {
                tracing::warn!(case_id = %case.case_id, not_deleted = ?report.not_deleted, "some snapshots could not be deleted");
            }
            to_value(&report)
        }
    }
}

/// Handles a disk step in Lambda.
pub async fn handle(aws: &Aws, payload: Value) -> Result<Value> {
    let request: DiskStep = super::request(Handler::DiskSnapshot, &payload)?;
    let case = request.case();
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
    run(&disk, request).await
}
