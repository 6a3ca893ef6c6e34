//! The acquisition workflows as typed ASL: disk, memory and the combined case workflow.
//!
//! Error model (the sample's bugs fixed):
//! * `Irf.Pending` means "not finished yet": only polling states retry it, with a bounded budget.
//! * `Irf.Retryable` (throttling, brief unavailability) is retried a few times everywhere.
//! * Everything else is fatal: caught, cleaned up, recorded, and the branch reports `FAILED`.
//! * Every check covers every item (all snapshots, all volumes, the capture command itself).
//! * In the combined workflow a failed branch never prevents the other branch or containment;
//!   after containment the case fails visibly if any branch failed.

use irf_core::asl::{
    Catch, ChoiceRule, ERROR_PENDING, ERROR_RETRYABLE, Flow, GraphBuilder, MapState, Parallel,
    Retry, State, StateMachine, Task,
};
use serde_json::{Value, json};

/// Placeholder of the disk snapshot function.
pub const DISK_SNAPSHOT_FN: &str = "DiskSnapshotFunctionArn";
/// Placeholder of the disk imaging function.
pub const DISK_IMAGING_FN: &str = "DiskImagingFunctionArn";
/// Placeholder of the memory function.
pub const MEMORY_FN: &str = "MemoryFunctionArn";
/// Placeholder of the case-record function.
pub const CASE_FN: &str = "CaseRecordFunctionArn";
/// Placeholder of the notification function.
pub const NOTIFY_FN: &str = "NotifyFunctionArn";

/// Whole-case timeout: snapshots of large volumes and big memory images take hours.
const CASE_TIMEOUT_SECONDS: u32 = 24 * 3600;

fn transient() -> Retry {
    Retry::on(&[ERROR_RETRYABLE], 5, 5, 2.0).max_delay(60)
}

/// Polling budget of snapshot and copy states: about six hours.
fn snapshot_polling() -> Retry {
    Retry::on(&[ERROR_PENDING], 15, 80, 1.5).max_delay(300)
}

/// Polling budget of the memory preflight: about five minutes.
fn preflight_polling() -> Retry {
    Retry::on(&[ERROR_PENDING], 5, 20, 1.3).max_delay(30)
}

/// Polling budget of the memory capture: about twelve hours.
fn capture_polling() -> Retry {
    Retry::on(&[ERROR_PENDING], 30, 160, 1.5).max_delay(300)
}

fn pascal(kind: &str) -> String {
    let mut c = kind.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

fn call(placeholder: &str, action: &str, extra: Value, result_path: &str) -> Task {
    let mut payload = json!({ "Action": action, "Case.$": "$.Case" });
    if let (Some(p), Some(e)) = (payload.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    Task::lambda(placeholder, payload, result_path).retry(transient())
}

/// The branch result: `{Kind, Status, Error?, Case, Detail}`, where `Detail` is the branch's
/// working data (`$.Disk` or `$.Memory`, initialised to `{}` when the branch starts).
fn status_pass(kind: &str, status: &str, error_path: Option<&str>) -> State {
    let detail = format!("$.{}", pascal(kind));
    let mut parameters =
        json!({ "Kind": kind, "Status": status, "Case.$": "$.Case", "Detail.$": detail });
    if let (Some(p), Some(o)) = (error_path, parameters.as_object_mut()) {
        o.insert("Error.$".to_owned(), p.into());
    }
    State::Pass {
        comment: None,
        result: None,
        parameters: Some(parameters),
        result_path: None,
    }
}

/// The disk states: snapshot every volume, re-encrypt and share, copy into the security account,
/// image every copy into the evidence bucket, clean up. Ends in `DiskSucceeded` or `DiskFailed`
/// (each a Pass producing `{Status, Error?}`) continuing with `exit`.
pub fn disk_states(g: &mut GraphBuilder, exit: &Flow) {
    let fail = || Catch::all("DiskCleanupAfterFailure", "$.DiskError");
    g.then(
        "CreateSnapshots",
        State::Task(
            call(
                DISK_SNAPSHOT_FN,
                "CreateSnapshots",
                json!({}),
                "$.Disk.Snapshots",
            )
            .comment("Snapshots every attached EBS volume, tagged with the case; idempotent")
            .catch(fail()),
        ),
        "WaitForSnapshots",
    );
    g.then(
        "WaitForSnapshots",
        State::Task(
            call(
                DISK_SNAPSHOT_FN,
                "CheckSnapshots",
                json!({ "Snapshots.$": "$.Disk.Snapshots.Result" }),
                "$.Disk.SnapshotsReady",
            )
            .comment("Pending until every snapshot completed; a snapshot in error fails at once")
            .retry(snapshot_polling())
            .catch(fail()),
        ),
        "ShareSnapshots",
    );
    g.then(
        "ShareSnapshots",
        State::Task(
            call(
                DISK_SNAPSHOT_FN,
                "ShareSnapshots",
                json!({ "Snapshots.$": "$.Disk.Snapshots.Result" }),
                "$.Disk.Shared",
            )
            .comment("Re-encrypts each snapshot with the member key (alias/ir/ebs) and shares it with the security account")
            .catch(fail()),
        ),
        "WaitForShared",
    );
    g.then(
        "WaitForShared",
        State::Task(
            call(
                DISK_SNAPSHOT_FN,
                "CheckShared",
                json!({ "Shared.$": "$.Disk.Shared.Result" }),
                "$.Disk.SharedReady",
            )
            .retry(snapshot_polling())
            .catch(fail()),
        ),
        "CopySnapshots",
    );
    g.then(
        "CopySnapshots",
        State::Task(
            call(
                DISK_SNAPSHOT_FN,
                "CopySnapshots",
                json!({ "Shared.$": "$.Disk.Shared.Result" }),
                "$.Disk.Copies",
            )
            .comment("Copies each shared snapshot into the security account's home region with alias/ir/sec")
            .catch(fail()),
        ),
        "WaitForCopies",
    );
    g.then(
        "WaitForCopies",
        State::Task(
            call(
                DISK_SNAPSHOT_FN,
                "CheckCopies",
                json!({ "Copies.$": "$.Disk.Copies.Result" }),
                "$.Disk.CopiesReady",
            )
            .comment("Polls the copies in the security account's home region (where they are)")
            .retry(snapshot_polling())
            .catch(fail()),
        ),
        "ImageVolumes",
    );

    let mut per_volume = GraphBuilder::new();
    per_volume.then(
        "ImageChunk",
        State::Task(
            Task::lambda(
                DISK_IMAGING_FN,
                json!({
                    "Action": "ImageSnapshot",
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
                "CleanUp",
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
        status_pass("disk", "SUCCEEDED", None),
        exit.clone(),
    );
    g.then(
        "DiskCleanupAfterFailure",
        State::Task(
            call(
                DISK_SNAPSHOT_FN,
                "CleanUp",
                json!({ "Disk.$": "$.Disk", "Failed": true, "Error.$": "$.DiskError" }),
                "$.Disk.CleanUp",
            )
            .catch(Catch::all("DiskFailed", "$.DiskCleanupError")),
        ),
        "DiskFailed",
    );
    g.add(
        "DiskFailed",
        status_pass("disk", "FAILED", Some("$.DiskError")),
        exit.clone(),
    );
}

/// The memory states: preflight, capture through presigned URLs, verify. Ends in
/// `MemorySucceeded` or `MemoryFailed` continuing with `exit`.
pub fn memory_states(g: &mut GraphBuilder, exit: &Flow) {
    let fail = || Catch::all("MemoryCleanupAfterFailure", "$.MemoryError");
    g.then(
        "MemoryPreflight",
        State::Task(
            call(MEMORY_FN, "StartPreflight", json!({}), "$.Memory.Preflight")
                .comment("Runs the read-only preflight document on the instance")
                .catch(fail()),
        ),
        "WaitForPreflight",
    );
    g.then(
        "WaitForPreflight",
        State::Task(
            call(
                MEMORY_FN,
                "PreflightResult",
                json!({ "Command.$": "$.Memory.Preflight.Result" }),
                "$.Memory.Method",
            )
            .comment("Picks the method from the configured order and records why")
            .retry(preflight_polling())
            .catch(fail()),
        ),
        "MemoryAcquirable",
    );
    g.add(
        "MemoryAcquirable",
        State::Choice(irf_core::asl::Choice {
            comment: Some("No usable method: the case records why memory was not acquired".to_owned()),
            choices: vec![ChoiceRule {
                condition: json!({ "Variable": "$.Memory.Method.Result.Method", "StringEquals": "none" }),
                next: "MemoryNotAcquirable".to_owned(),
            }],
            default: Some("StartCapture".to_owned()),
        }),
        Flow::End,
    );
    g.then(
        "MemoryNotAcquirable",
        State::Pass {
            comment: None,
            result: None,
            parameters: Some(json!({
                "Error": "Irf.MemoryNotAcquirable",
                "Cause.$": "$.Memory.Method.Result.Reason",
            })),
            result_path: Some("$.MemoryError".to_owned()),
        },
        "MemoryCleanupAfterFailure",
    );
    g.then(
        "StartCapture",
        State::Task(
            call(
                MEMORY_FN,
                "StartCapture",
                json!({ "Method.$": "$.Memory.Method.Result" }),
                "$.Memory.Capture",
            )
            .comment("Creates the multipart upload and presigned part URLs, then runs the capture document")
            .catch(fail()),
        ),
        "WaitForCapture",
    );
    g.then(
        "WaitForCapture",
        State::Task(
            call(
                MEMORY_FN,
                "CaptureResult",
                json!({ "Capture.$": "$.Memory.Capture.Result" }),
                "$.Memory.Captured",
            )
            .comment("Pending until the capture command itself finished; its status is checked, not the first command's")
            .retry(capture_polling())
            .catch(fail()),
        ),
        "VerifyMemory",
    );
    g.then(
        "VerifyMemory",
        State::Task(
            call(
                MEMORY_FN,
                "Verify",
                json!({ "Capture.$": "$.Memory.Capture.Result", "Captured.$": "$.Memory.Captured.Result" }),
                "$.Memory.Verified",
            )
            .comment("Completes the upload and checks the stored object against the hash computed on the host")
            .catch(fail()),
        ),
        "MemorySucceeded",
    );
    g.add(
        "MemorySucceeded",
        status_pass("memory", "SUCCEEDED", None),
        exit.clone(),
    );
    g.then(
        "MemoryCleanupAfterFailure",
        State::Task(
            call(
                MEMORY_FN,
                "CleanUp",
                json!({ "Memory.$": "$.Memory", "Error.$": "$.MemoryError" }),
                "$.Memory.CleanUp",
            )
            .comment("Aborts the upload and cancels the capture command; the host script unloads LiME and removes its files")
            .catch(Catch::all("MemoryFailed", "$.MemoryCleanupError")),
        ),
        "MemoryFailed",
    );
    g.add(
        "MemoryFailed",
        status_pass("memory", "FAILED", Some("$.MemoryError")),
        exit.clone(),
    );
}

fn open_case(g: &mut GraphBuilder, next: &str) {
    g.then(
        "OpenCase",
        State::Task(
            Task::lambda(
                CASE_FN,
                json!({ "Action": "Open", "Input.$": "$" }),
                "$.Case",
            )
            .comment(
                "Validates the input (the sample's schema), records who started the case and when",
            )
            .retry(transient())
            .catch(Catch::all("CaseRejected", "$.Error")),
        ),
        "CaseFromResult",
    );
    g.then(
        "CaseFromResult",
        State::Pass {
            comment: None,
            result: None,
            parameters: Some(json!({ "Case.$": "$.Case.Result", "Disk": {}, "Memory": {} })),
            result_path: None,
        },
        next,
    );
    g.end(
        "CaseRejected",
        State::Fail {
            error: "Irf.CaseRejected".to_owned(),
            cause_path: Some("$.Error.Cause".to_owned()),
            cause: None,
        },
    );
}

fn notify(g: &mut GraphBuilder, name: &str, event: &str, next: &str) {
    g.then(
        name,
        State::Task(
            call(NOTIFY_FN, "Notify", json!({ "Event": event, "Detail.$": "$" }), "$.Notified")
                .result_path("null")
                .comment("Notifications never decide the case: a failed notice is logged and the case goes on")
                .catch(Catch::all(next, "$.NotifyError")),
        ),
        next,
    );
}

fn close_case(g: &mut GraphBuilder, results_path: &str) {
    g.then(
        "CloseCase",
        State::Task(
            call(
                CASE_FN,
                "Close",
                json!({ "Results.$": results_path }),
                "$.Outcome",
            )
            .comment(
                "Seals the custody ledger (signed head) and computes the outcome from every branch",
            )
            .catch(Catch::all("NotifyFailed", "$.CloseError")),
        ),
        "CaseOutcome",
    );
    g.add(
        "CaseOutcome",
        State::Choice(irf_core::asl::Choice {
            comment: None,
            choices: vec![ChoiceRule {
                condition: json!({ "Variable": "$.Outcome.Result.Status", "StringEquals": "SUCCEEDED" }),
                next: "NotifySucceeded".to_owned(),
            }],
            default: Some("NotifyFailed".to_owned()),
        }),
        Flow::End,
    );
    notify(g, "NotifySucceeded", "CaseSucceeded", "CaseSucceeded");
    g.end("CaseSucceeded", State::Succeed);
    notify(g, "NotifyFailed", "CaseFailed", "CaseFailed");
    g.end(
        "CaseFailed",
        State::Fail {
            error: "Irf.CaseFailed".to_owned(),
            cause: Some(
                "At least one acquisition step failed; the case record lists which and why"
                    .to_owned(),
            ),
            cause_path: None,
        },
    );
}

/// The standalone disk workflow (`DiskAcquisition`).
pub fn disk_machine() -> StateMachine {
    let mut g = GraphBuilder::new();
    open_case(&mut g, "NotifyStarted");
    notify(&mut g, "NotifyStarted", "CaseStarted", "CreateSnapshots");
    disk_states(&mut g, &Flow::Next("CollectResult".to_owned()));
    collect(&mut g);
    close_case(&mut g, "$.Results");
    g.machine(
        "IRF disk acquisition: snapshot, share, copy and image every EBS volume of an instance",
        CASE_TIMEOUT_SECONDS,
    )
}

/// The standalone memory workflow (`MemoryAcquisition`).
pub fn memory_machine() -> StateMachine {
    let mut g = GraphBuilder::new();
    open_case(&mut g, "NotifyStarted");
    notify(&mut g, "NotifyStarted", "CaseStarted", "MemoryPreflight");
    memory_states(&mut g, &Flow::Next("CollectResult".to_owned()));
    collect(&mut g);
    close_case(&mut g, "$.Results");
    g.machine(
        "IRF memory acquisition: preflight, capture without credentials on the host, verify",
        CASE_TIMEOUT_SECONDS,
    )
}

fn collect(g: &mut GraphBuilder) {
    g.then(
        "CollectResult",
        State::Pass {
            comment: Some("Gathers the branch result for the case record".to_owned()),
            result: None,
            parameters: Some(json!({ "Case.$": "$.Case", "Results.$": "$" })),
            result_path: None,
        },
        "CloseCase",
    );
}

/// The combined workflow (`DiskAndMemAcquisition`) the automation starts: disk and memory in
/// parallel, then containment (always), then the outcome.
pub fn combined_machine() -> StateMachine {
    let mut g = GraphBuilder::new();
    open_case(&mut g, "NotifyStarted");
    notify(&mut g, "NotifyStarted", "CaseStarted", "Acquire");

    let mut disk = GraphBuilder::new();
    disk.then(
        "DiskBranch",
        State::Pass {
            comment: None,
            result: None,
            parameters: Some(json!({ "Case.$": "$.Case", "Disk": {} })),
            result_path: None,
        },
        "CreateSnapshots",
    );
    disk_states(&mut disk, &Flow::End);
    let mut memory = GraphBuilder::new();
    memory.then(
        "MemoryBranch",
        State::Pass {
            comment: None,
            result: None,
            parameters: Some(json!({ "Case.$": "$.Case", "Memory": {} })),
            result_path: None,
        },
        "MemoryPreflight",
    );
    memory_states(&mut memory, &Flow::End);
    g.then(
        "Acquire",
        State::Parallel(Parallel {
            comment: Some("Disk and memory in parallel; each branch catches its own failures and reports a status".to_owned()),
            branches: vec![disk.graph(), memory.graph()],
            result_path: Some("$.Results".to_owned()),
            catch: vec![Catch::all("AcquireFailed", "$.AcquireError")],
        }),
        "Contain",
    );
    g.then(
        "AcquireFailed",
        State::Pass {
            comment: Some(
                "Never expected (branches catch their own errors); containment still runs"
                    .to_owned(),
            ),
            result: None,
            parameters: Some(
                json!({ "Kind": "acquisition", "Status": "FAILED", "Error.$": "$.AcquireError" }),
            ),
            result_path: Some("$.Results".to_owned()),
        },
        "Contain",
    );
    g.then(
        "Contain",
        State::Task(
            call(CASE_FN, "Contain", json!({}), "$.Contained")
                .comment("Tags the instance SecurityIncidentStatus=Contain through IRAutomation; the member account isolates it. Runs whatever acquisition did.")
                .catch(Catch::all("NotifyContainFailed", "$.ContainError")),
        ),
        "CloseCase",
    );
    notify(
        &mut g,
        "NotifyContainFailed",
        "ContainFailed",
        "ContainFailed",
    );
    g.end(
        "ContainFailed",
        State::Fail {
            error: "Irf.ContainFailed".to_owned(),
            cause_path: Some("$.ContainError.Cause".to_owned()),
            cause: None,
        },
    );
    close_case(&mut g, "$.Results");
    g.machine(
        "IRF case: disk and memory acquisition in parallel, then containment, then the outcome",
        CASE_TIMEOUT_SECONDS,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use irf_core::asl::TaskTarget;

    #[test]
    fn machines_are_valid_graphs() {
        for m in [disk_machine(), memory_machine(), combined_machine()] {
            if let Err(e) = m.validate() {
                panic!("{}: {e:?}", m.comment);
            }
        }
    }

    #[test]
    fn combined_machine_calls_every_function() {
        let targets: Vec<TaskTarget> = combined_machine().targets().into_iter().collect();
        let names: Vec<String> = targets
            .iter()
            .map(|t| match t {
                TaskTarget::Lambda(p) | TaskTarget::Sns(p) => p.clone(),
            })
            .collect();
        assert_eq!(
            names,
            [
                CASE_FN,
                DISK_IMAGING_FN,
                DISK_SNAPSHOT_FN,
                MEMORY_FN,
                NOTIFY_FN
            ]
        );
    }

    #[test]
    fn polling_budgets_are_bounded() {
        let hours = |r: Retry| r.budget_seconds() as f64 / 3600.0;
        assert!(
            (5.0..8.0).contains(&hours(snapshot_polling())),
            "{}",
            hours(snapshot_polling())
        );
        assert!(preflight_polling().budget_seconds() <= 600);
        assert!((10.0..14.0).contains(&hours(capture_polling())));
        assert!(transient().budget_seconds() <= 180);
    }
}
