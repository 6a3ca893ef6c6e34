//! The acquisition workflows as typed ASL: disk, memory and the combined case workflow.
//!
//! Error model:
//! * Waiting is not an error: a check returns `Ready: false` and the workflow polls it in a
//!   Choice/Wait loop with a counted budget ([`Polling`]); an exhausted budget fails the branch
//!   with `Irf.PollingBudgetExhausted`, naming what it still waited for.
//! * `Irf.Retryable` (throttling, brief unavailability) is retried a few times everywhere.
//! * Everything else is fatal: caught, cleaned up, recorded, and the branch reports `FAILED`.
//! * Every check covers every item (all snapshots, all volumes, the capture command itself).
//! * In the combined workflow a failed branch never prevents the other branch or containment;
//!   after containment the case fails visibly if any branch failed.

use irf_core::asl::{
    Catch, ChoiceRule, ERROR_RETRYABLE, Flow, GraphBuilder, MapState, Parallel, Retry, State,
    StateMachine, Task,
};
use irf_core::steps::{
    ACTION_FIELD, BranchStatus, CaseAction, CaseEvent, DiskAction, ImagingAction, MemoryAction,
    NotifyAction,
};
use serde_json::{Value, json};

use super::common::pascal;

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

/// A bounded polling loop: a check runs, and while it reports `Ready: false` the workflow waits
/// `interval_seconds` and checks again, at most `max_polls` times after the first check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Polling {
    /// Wait between two checks.
    pub interval_seconds: u32,
    /// Checks after the first before the branch fails with `Irf.PollingBudgetExhausted`.
    pub max_polls: u32,
}

/// Execution history events of one check and its decision (Task 5, Choice 2).
const CHECK_EVENTS: u32 = 7;
/// Execution history events of one wait and its count (Wait 2, Pass 2).
const WAIT_EVENTS: u32 = 4;

impl Polling {
    /// Longest time the loop waits, in seconds.
    pub fn budget_seconds(&self) -> u64 {
        u64::from(self.interval_seconds) * u64::from(self.max_polls)
    }

    /// History events of the loop when its whole budget is used.
    pub fn worst_case_history_events(&self) -> u32 {
        (self.max_polls + 1) * CHECK_EVENTS + self.max_polls * WAIT_EVENTS
    }
}

/// Snapshot, re-encryption and copy checks: every minute for six hours.
pub const SNAPSHOT_POLLING: Polling = Polling {
    interval_seconds: 60,
    max_polls: 360,
};

/// The memory preflight: every five seconds for five minutes.
pub const PREFLIGHT_POLLING: Polling = Polling {
    interval_seconds: 5,
    max_polls: 60,
};

/// The memory capture: every two minutes for twelve hours.
pub const CAPTURE_POLLING: Polling = Polling {
    interval_seconds: 120,
    max_polls: 360,
};

/// Where a polling loop keeps its data and where it goes.
struct PollLoop<'a> {
    /// Stem of the state names (`Snapshots` → `WaitForSnapshots`, `CheckSnapshots`, …).
    stem: &'a str,
    /// What is awaited, for the budget error (`snapshots`).
    what: &'a str,
    /// The branch's working data (`$.Disk`); the counter lives at `<branch>.Polls.Count`.
    branch: &'a str,
    /// The check (its `ResultPath` holds `Ready` and, while waiting, `Waiting`).
    check: Task,
    polling: Polling,
    /// Next state once ready.
    ready: &'a str,
    /// Where the budget error goes and which state handles it.
    error_path: &'a str,
    on_error: &'a str,
}

/// Adds `WaitFor<stem>` (starts the count), `Check<stem>` (the check), `<stem>Ready` (the
/// decision), `<stem>NotReady` (the wait), `Count<stem>Poll` and `<stem>TimedOut`.
fn poll(g: &mut GraphBuilder, l: PollLoop<'_>) {
    let stem = l.stem;
    let count = format!("{}.Polls.Count", l.branch);
    let result = l.check.result_path.clone().unwrap_or_default();
    g.then(
        &format!("WaitFor{stem}"),
        State::Pass {
            comment: Some(format!(
                "Checks again every {} s, at most {} times",
                l.polling.interval_seconds, l.polling.max_polls
            )),
            result: Some(json!({ "Count": 0 })),
            parameters: None,
            result_path: Some(format!("{}.Polls", l.branch)),
        },
        &format!("Check{stem}"),
    );
    g.then(
        &format!("Check{stem}"),
        State::Task(l.check.catch(Catch::all(l.on_error, l.error_path))),
        &format!("{stem}Ready"),
    );
    g.add(
        &format!("{stem}Ready"),
        State::Choice(irf_core::asl::Choice {
            comment: None,
            choices: vec![
                ChoiceRule {
                    condition: json!({ "Variable": format!("{result}.Result.Ready"), "BooleanEquals": true }),
                    next: l.ready.to_owned(),
                },
                ChoiceRule {
                    condition: json!({ "Variable": count, "NumericGreaterThanEquals": l.polling.max_polls }),
                    next: format!("{stem}TimedOut"),
                },
            ],
            default: Some(format!("{stem}NotReady")),
        }),
        Flow::End,
    );
    g.then(
        &format!("{stem}NotReady"),
        State::Wait {
            seconds: l.polling.interval_seconds,
        },
        &format!("Count{stem}Poll"),
    );
    g.then(
        &format!("Count{stem}Poll"),
        State::Pass {
            comment: None,
            result: None,
            parameters: Some(json!({ "Count.$": format!("States.MathAdd({count}, 1)") })),
            result_path: Some(format!("{}.Polls", l.branch)),
        },
        &format!("Check{stem}"),
    );
    g.then(
        &format!("{stem}TimedOut"),
        State::Pass {
            comment: None,
            result: None,
            parameters: Some(json!({
                "Error": "Irf.PollingBudgetExhausted",
                "Cause.$": format!(
                    "States.Format('{} not ready after {{}} checks {} s apart: {{}}', {count}, {}.Result.Waiting)",
                    l.what, l.polling.interval_seconds, result
                ),
            })),
            result_path: Some(l.error_path.to_owned()),
        },
        l.on_error,
    );
}

fn call(placeholder: &str, action: &str, extra: Value, result_path: &str) -> Task {
    let mut payload = json!({ ACTION_FIELD: action, "Case.$": "$.Case" });
    if let (Some(p), Some(e)) = (payload.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    Task::lambda(placeholder, payload, result_path).retry(transient())
}

/// The branch result: `{Kind, Status, Error?, Case, Detail}`, where `Detail` is the branch's
/// working data (`$.Disk` or `$.Memory`, initialised to `{}` when the branch starts).
fn status_pass(kind: &str, status: BranchStatus, error_path: Option<&str>) -> State {
    let detail = format!("$.{}", pascal(kind));
    let mut parameters =
        json!({ "Kind": kind, "Status": status.as_str(), "Case.$": "$.Case", "Detail.$": detail });
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

/// The memory states: preflight, capture through presigned URLs, verify. Ends in
/// `MemorySucceeded` or `MemoryFailed` continuing with `exit`.
pub fn memory_states(g: &mut GraphBuilder, exit: &Flow) {
    let fail = || Catch::all("MemoryCleanupAfterFailure", "$.MemoryError");
    g.then(
        "MemoryPreflight",
        State::Task(
            call(
                MEMORY_FN,
                MemoryAction::StartPreflight.name(),
                json!({}),
                "$.Memory.Preflight",
            )
            .comment("Runs the read-only preflight document on the instance")
            .catch(fail()),
        ),
        "WaitForPreflight",
    );
    poll(
        g,
        PollLoop {
            stem: "Preflight",
            what: "memory preflight",
            branch: "$.Memory",
            check: call(
                MEMORY_FN,
                MemoryAction::PreflightResult.name(),
                json!({ "Command.$": "$.Memory.Preflight.Result" }),
                "$.Memory.Method",
            )
            .comment("Once the preflight finished: picks the method from the configured order and records why"),
            polling: PREFLIGHT_POLLING,
            ready: "MemoryAcquirable",
            error_path: "$.MemoryError",
            on_error: "MemoryCleanupAfterFailure",
        },
    );
    g.add(
        "MemoryAcquirable",
        State::Choice(irf_core::asl::Choice {
            comment: Some("No usable method: the case records why memory was not acquired".to_owned()),
            choices: vec![ChoiceRule {
                condition: json!({ "Variable": "$.Memory.Method.Result.Method", "StringEquals": "none" }),
                next: "MemoryNotAcquirable".to_owned(),
            }],
            default: Some(MemoryAction::StartCapture.name().to_owned()),
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
        MemoryAction::StartCapture.name(),
        State::Task(
            call(
                MEMORY_FN,
                MemoryAction::StartCapture.name(),
                json!({ "Method.$": "$.Memory.Method.Result" }),
                "$.Memory.Capture",
            )
            .comment("Creates the multipart upload and presigned part URLs, then runs the capture document")
            .catch(fail()),
        ),
        "WaitForCapture",
    );
    poll(
        g,
        PollLoop {
            stem: "Capture",
            what: "memory capture",
            branch: "$.Memory",
            check: call(
                MEMORY_FN,
                MemoryAction::CaptureResult.name(),
                json!({ "Capture.$": "$.Memory.Capture.Result" }),
                "$.Memory.Captured",
            )
            .comment("Ready once the capture command itself finished; its status is checked, not the first command's"),
            polling: CAPTURE_POLLING,
            ready: "VerifyMemory",
            error_path: "$.MemoryError",
            on_error: "MemoryCleanupAfterFailure",
        },
    );
    g.then(
        "VerifyMemory",
        State::Task(
            call(
                MEMORY_FN,
                MemoryAction::Verify.name(),
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
        status_pass("memory", BranchStatus::Succeeded, None),
        exit.clone(),
    );
    g.then(
        "MemoryCleanupAfterFailure",
        State::Task(
            call(
                MEMORY_FN,
                MemoryAction::CleanUp.name(),
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
        status_pass("memory", BranchStatus::Failed, Some("$.MemoryError")),
        exit.clone(),
    );
}

fn open_case(g: &mut GraphBuilder, next: &str) {
    g.then(
        "OpenCase",
        State::Task(
            Task::lambda(
                CASE_FN,
                json!({ ACTION_FIELD: CaseAction::Open.name(), "Input.$": "$" }),
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

fn notify(g: &mut GraphBuilder, name: &str, event: &CaseEvent, next: &str) {
    g.then(
        name,
        State::Task(
            call(
                NOTIFY_FN,
                NotifyAction::Notify.name(),
                json!({ "Event": event.name(), "Detail.$": "$" }),
                "$.Notified",
            )
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
                CaseAction::Close.name(),
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
                condition: json!({ "Variable": "$.Outcome.Result.Status", "StringEquals": BranchStatus::Succeeded.as_str() }),
                next: "NotifySucceeded".to_owned(),
            }],
            default: Some("NotifyFailed".to_owned()),
        }),
        Flow::End,
    );
    notify(
        g,
        "NotifySucceeded",
        &CaseEvent::CaseSucceeded,
        "CaseSucceeded",
    );
    g.end("CaseSucceeded", State::Succeed);
    notify(g, "NotifyFailed", &CaseEvent::CaseFailed, "CaseFailed");
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

/// The standalone memory workflow (`MemoryAcquisition`).
pub fn memory_machine() -> StateMachine {
    let mut g = GraphBuilder::new();
    open_case(&mut g, "NotifyStarted");
    notify(
        &mut g,
        "NotifyStarted",
        &CaseEvent::CaseStarted,
        "MemoryPreflight",
    );
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
    notify(&mut g, "NotifyStarted", &CaseEvent::CaseStarted, "Acquire");

    let mut disk = GraphBuilder::new();
    disk.then(
        "DiskBranch",
        State::Pass {
            comment: None,
            result: None,
            parameters: Some(json!({ "Case.$": "$.Case", "Disk": {} })),
            result_path: None,
        },
        DiskAction::CreateSnapshots.name(),
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
        CaseAction::Contain.name(),
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
                json!({ "Kind": "acquisition", "Status": BranchStatus::Failed.as_str(), "Error.$": "$.AcquireError" }),
            ),
            result_path: Some("$.Results".to_owned()),
        },
        CaseAction::Contain.name(),
    );
    g.then(
        CaseAction::Contain.name(),
        State::Task(
            call(CASE_FN, CaseAction::Contain.name(), json!({}), "$.Contained")
                .comment("Tags the instance SecurityIncidentStatus=Contain through IRAutomation; the member account isolates it. Runs whatever acquisition did.")
                .catch(Catch::all("NotifyContainFailed", "$.ContainError")),
        ),
        "CloseCase",
    );
    notify(
        &mut g,
        "NotifyContainFailed",
        &CaseEvent::ContainFailed,
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

    /// The fields of every step request in `irf-core/tests/fixtures` (which round-trip through
    /// the handlers' types), by action.
    fn fixture_fields() -> Vec<(String, std::collections::BTreeSet<String>)> {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../irf-core/tests/fixtures");
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if !path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("step-")
            {
                continue;
            }
            let json: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let action = json[ACTION_FIELD].as_str().unwrap().to_owned();
            found.push((action, json.as_object().unwrap().keys().cloned().collect()));
        }
        found
    }

    /// Every `Payload` a Lambda task sends, anywhere in `v`.
    fn payloads<'a>(v: &'a Value, out: &mut Vec<&'a serde_json::Map<String, Value>>) {
        match v {
            Value::Object(o) => {
                if let Some(Value::Object(p)) = o.get("Payload") {
                    out.push(p);
                }
                o.values().for_each(|x| payloads(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| payloads(x, out)),
            _ => {}
        }
    }

    /// The workflows send exactly the fields the step types read: each task's payload has the
    /// fields of a fixture of its action.
    #[test]
    fn every_task_sends_a_request_its_step_type_reads() {
        let fixtures = fixture_fields();
        let mut sent = std::collections::BTreeSet::new();
        for m in [disk_machine(), memory_machine(), combined_machine()] {
            let definition: Value = serde_json::from_str(&m.resolved(str::to_owned)).unwrap();
            let mut found = Vec::new();
            payloads(&definition, &mut found);
            for p in found {
                let action = p[ACTION_FIELD].as_str().unwrap().to_owned();
                let fields: std::collections::BTreeSet<String> = p
                    .keys()
                    .map(|k| k.trim_end_matches(".$").to_owned())
                    .collect();
                assert!(
                    fixtures.contains(&(action.clone(), fields.clone())),
                    "{}: {action} sends {fields:?}, which no step fixture has",
                    m.comment
                );
                sent.insert(action);
            }
        }
        let every: std::collections::BTreeSet<String> = DiskAction::ALL
            .iter()
            .map(|a| a.name())
            .chain(ImagingAction::ALL.iter().map(|a| a.name()))
            .chain(MemoryAction::ALL.iter().map(|a| a.name()))
            .chain(CaseAction::ALL.iter().map(|a| a.name()))
            .chain(NotifyAction::ALL.iter().map(|a| a.name()))
            .map(str::to_owned)
            .collect();
        assert_eq!(sent, every, "every step is used by a workflow");
    }

    #[test]
    fn polling_budgets_are_bounded() {
        let hours = |p: Polling| p.budget_seconds() as f64 / 3600.0;
        assert!((5.0..8.0).contains(&hours(SNAPSHOT_POLLING)));
        assert!(PREFLIGHT_POLLING.budget_seconds() <= 600);
        assert!((10.0..14.0).contains(&hours(CAPTURE_POLLING)));
        assert!(transient().budget_seconds() <= 180);
    }

    /// A Standard workflow fails at 25,000 history events. The combined case, with every
    /// polling budget used up (three snapshot loops, preflight, capture), stays well below it.
    #[test]
    fn worst_case_polling_fits_the_execution_history() {
        let loops = [
            SNAPSHOT_POLLING,
            SNAPSHOT_POLLING,
            SNAPSHOT_POLLING,
            PREFLIGHT_POLLING,
            CAPTURE_POLLING,
        ];
        let events: u32 = loops.iter().map(Polling::worst_case_history_events).sum();
        assert!(events <= 20_000, "{events} history events");
    }

    #[test]
    fn waiting_is_polled_not_retried_as_an_error() {
        let disk = ["Snapshots", "Shared", "Copies"];
        let memory = ["Preflight", "Capture"];
        let both = [&disk[..], &memory[..]].concat();
        for (m, stems) in [
            (disk_machine(), &disk[..]),
            (memory_machine(), &memory[..]),
            (combined_machine(), &both[..]),
        ] {
            let text = m.resolved(str::to_owned);
            assert!(
                !text.contains(irf_core::asl::ERROR_PENDING),
                "{}",
                m.comment
            );
            for stem in stems {
                for state in [
                    format!("WaitFor{stem}"),
                    format!("Check{stem}"),
                    format!("{stem}Ready"),
                    format!("{stem}NotReady"),
                    format!("Count{stem}Poll"),
                    format!("{stem}TimedOut"),
                ] {
                    assert!(
                        text.contains(&format!("\"{state}\": {{")),
                        "{}: no state {state}",
                        m.comment
                    );
                }
            }
        }
    }
}
