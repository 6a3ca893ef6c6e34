//! The disk branch: snapshot every volume, re-encrypt and share, copy into the security account,
//! image every copy into the evidence bucket, clean up.

use irf_core::asl::{Catch, ChoiceRule, Flow, GraphBuilder, MapState, State, StateMachine, Task};
use irf_core::steps::{ACTION_FIELD, BranchStatus, CaseEvent, DiskAction, ImagingAction};
use serde_json::json;

use super::case::{close_case, collect, notify, open_case};
use super::*;

/// The disk states: snapshot every volume, re-encrypt and share, copy into the security account,
/// image every copy into the evidence bucket, clean up. Ends in `DiskSucceeded` or `DiskFailed`
/// (each a Pass producing `{Status, Error?}`) continuing with `exit`.
pub fn disk_states(g: &mut GraphBuilder, exit: &Flow) {
    let fail = || Catch::all("DiskCleanupAfterFailure", "$.DiskError");
    g.then(
        DiskAction::CreateSnapshots.name(),
        State::Task(
            call(
                DISK_SNAPSHOT_FN,
                DiskAction::CreateSnapshots.name(),
                json!({}),
                "$.Disk.Snapshots",
            )
            .comment("Snapshots every attached EBS volume, tagged with the case; idempotent")
            .catch(fail()),
        ),
        "WaitForSnapshots",
    );
    poll(
        g,
        PollLoop {
            stem: "Snapshots",
            what: "snapshots",
            branch: "$.Disk",
            check: call(
                DISK_SNAPSHOT_FN,
                DiskAction::CheckSnapshots.name(),
                json!({ "Snapshots.$": "$.Disk.Snapshots.Result" }),
                "$.Disk.SnapshotsReady",
            )
            .comment("Ready once every snapshot completed; a snapshot in error fails at once"),
            polling: SNAPSHOT_POLLING,
            ready: DiskAction::ShareSnapshots.name(),
            error_path: "$.DiskError",
            on_error: "DiskCleanupAfterFailure",
        },
    );
    g.then(
        DiskAction::ShareSnapshots.name(),
        State::Task(
            call(
                DISK_SNAPSHOT_FN,
                DiskAction::ShareSnapshots.name(),
                json!({ "Snapshots.$": "$.Disk.Snapshots.Result" }),
                "$.Disk.Shared",
            )
            .comment("Re-encrypts each snapshot with the member key (alias/ir/ebs) and shares it with the security account")
            .catch(fail()),
        ),
        "WaitForShared",
    );
    poll(
        g,
        PollLoop {
            stem: "Shared",
            what: "re-encrypted snapshots",
            branch: "$.Disk",
            check: call(
                DISK_SNAPSHOT_FN,
                DiskAction::CheckShared.name(),
                json!({ "Shared.$": "$.Disk.Shared.Result" }),
                "$.Disk.SharedReady",
            )
            .comment("Ready once every re-encrypted snapshot completed and is shared with the security account"),
            polling: SNAPSHOT_POLLING,
            ready: DiskAction::CopySnapshots.name(),
            error_path: "$.DiskError",
            on_error: "DiskCleanupAfterFailure",
        },
    );
    g.then(
        DiskAction::CopySnapshots.name(),
        State::Task(
            call(
                DISK_SNAPSHOT_FN,
                DiskAction::CopySnapshots.name(),
                json!({ "Shared.$": "$.Disk.Shared.Result" }),
                "$.Disk.Copies",
            )
            .comment("Copies each shared snapshot into the security account's home region with alias/ir/sec")
            .catch(fail()),
        ),
        "WaitForCopies",
    );
    poll(
        g,
        PollLoop {
            stem: "Copies",
            what: "security copies",
            branch: "$.Disk",
            check: call(
                DISK_SNAPSHOT_FN,
                DiskAction::CheckCopies.name(),
                json!({ "Copies.$": "$.Disk.Copies.Result" }),
                "$.Disk.CopiesReady",
            )
            .comment("Checks the copies in the security account's home region (where they are)"),
            polling: SNAPSHOT_POLLING,
            ready: "ImageVolumes",
            error_path: "$.DiskError",
            on_error: "DiskCleanupAfterFailure",
        },
    );

    let mut per_volume = GraphBuilder::new();
    per_volume.then(
        "ImageChunk",
        State::Task(
            Task::lambda(
                DISK_IMAGING_FN,
                json!({
                    ACTION_FIELD: ImagingAction::ImageSnapshot.name(),
                    "Case.$": "$.Case",
                    "Copy.$": "$.Copy",
                    "Cursor.$": "$.Cursor",
                }),
                "$.Cursor",
            )
            .comment("Reads EBS blocks (checked against EBS's checksums) into an S3 multipart upload; resumes from the cursor")
            .result_path("$.Cursor")
            .retry(transient()),
        ),
        "ImageComplete",
    );
    per_volume.add(
        "ImageComplete",
        State::Choice(irf_core::asl::Choice {
            comment: Some("Loops until the whole snapshot is imaged and verified".to_owned()),
            choices: vec![ChoiceRule {
                condition: json!({ "Variable": "$.Cursor.Result.Done", "BooleanEquals": true }),
                next: "VolumeImaged".to_owned(),
            }],
            default: Some("NextChunk".to_owned()),
        }),
        Flow::End,
    );
    per_volume.then(
        "NextChunk",
        State::Pass {
            comment: Some("Feeds the returned cursor into the next invocation".to_owned()),
            result: None,
            parameters: Some(json!({
                "Case.$": "$.Case",
                "Copy.$": "$.Copy",
                "Cursor.$": "$.Cursor.Result",
            })),
            result_path: None,
        },
        "ImageChunk",
    );
    per_volume.end("VolumeImaged", State::Succeed);
    g.then(
        "ImageVolumes",
        State::Map(MapState {
            comment: Some("Images every copied snapshot in parallel".to_owned()),
            items_path: "$.Disk.Copies.Result.Copies".to_owned(),
            item_selector: Some(json!({
                "Case.$": "$.Case",
                "Copy.$": "$$.Map.Item.Value",
                "Cursor": null,
            })),
            item_processor: per_volume.processor(),
            max_concurrency: 4,
            result_path: Some("$.Disk.Images".to_owned()),
            catch: vec![fail()],
        }),
        "CleanUpDisk",
    );
    g.then(
        "CleanUpDisk",
        State::Task(
            call(
                DISK_SNAPSHOT_FN,
                DiskAction::CleanUp.name(),
                json!({ "Disk.$": "$.Disk", "Failed": false }),
                "$.Disk.CleanUp",
            )
            .comment("Deletes the member snapshots, and the security copies unless RetainArtefacts; reports what it could not delete")
            .catch(Catch::all("DiskFailed", "$.DiskError")),
        ),
        "DiskSucceeded",
    );
    g.add(
        "DiskSucceeded",
        status_pass("disk", BranchStatus::Succeeded, None),
        exit.clone(),
    );
    g.then(
        "DiskCleanupAfterFailure",
        State::Task(
            call(
                DISK_SNAPSHOT_FN,
                DiskAction::CleanUp.name(),
                json!({ "Disk.$": "$.Disk", "Failed": true, "Error.$": "$.DiskError" }),
                "$.Disk.CleanUp",
            )
            .catch(Catch::all("DiskFailed", "$.DiskCleanupError")),
        ),
        "DiskFailed",
    );
    g.add(
        "DiskFailed",
        status_pass("disk", BranchStatus::Failed, Some("$.DiskError")),
        exit.clone(),
    );
}

/// The standalone disk workflow (`DiskAcquisition`).
pub fn disk_machine() -> StateMachine {
    let mut g = GraphBuilder::new();
    open_case(&mut g, "NotifyStarted");
    notify(
        &mut g,
        "NotifyStarted",
        &CaseEvent::CaseStarted,
        DiskAction::CreateSnapshots.name(),
    );
    disk_states(&mut g, &Flow::Next("CollectResult".to_owned()));
    collect(&mut g);
    close_case(&mut g, "$.Results");
    g.machine(
        "IRF disk acquisition: snapshot, share, copy and image every EBS volume of an instance",
        CASE_TIMEOUT_SECONDS,
    )
}
