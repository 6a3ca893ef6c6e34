//! The case around the branches: open, notify, close, and the combined workflow.

use irf_core::asl::{Catch, ChoiceRule, Flow, GraphBuilder, Parallel, State, StateMachine, Task};
use irf_core::steps::{
    ACTION_FIELD, BranchStatus, CaseAction, CaseEvent, DiskAction, NotifyAction,
};
use serde_json::json;

use super::*;

pub(super) fn open_case(g: &mut GraphBuilder, next: &str) {
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

pub(super) fn notify(g: &mut GraphBuilder, name: &str, event: &CaseEvent, next: &str) {
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

pub(super) fn close_case(g: &mut GraphBuilder, results_path: &str) {
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

pub(super) fn collect(g: &mut GraphBuilder) {
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
        super::memory::MEMORY_ENTRY,
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
