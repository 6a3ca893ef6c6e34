//! The memory branch: preflight, capture through the streamer, verify, the ISF, clean up.

use irf_core::asl::{Catch, ChoiceRule, Flow, GraphBuilder, State, StateMachine};
use irf_core::steps::{BranchStatus, CaseEvent, MemoryAction};
use serde_json::json;

use super::case::{close_case, collect, notify, open_case};
use super::*;

/// The first memory state: waiting for the instance's SSM agent.
pub(crate) const MEMORY_ENTRY: &str = "WaitForAgent";

/// The memory states: the SSM agent online (containment swapped the instance profile, so the
/// agent re-registers), preflight, capture through presigned URLs, verify, the ISF. Ends in
/// `MemorySucceeded` or `MemoryFailed` continuing with `exit`. The image is the evidence: once
/// it is verified, a failure to build its ISF is recorded (`$.Memory.SymbolsError`, and the custody
/// ledger says why) but does not fail the branch.
pub fn memory_states(g: &mut GraphBuilder, exit: &Flow) {
    let fail = || Catch::all("MemoryCleanupAfterFailure", "$.MemoryError");
    poll(
        g,
        PollLoop {
            stem: "Agent",
            what: "the SSM agent",
            branch: "$.Memory",
            check: call(
                MEMORY_FN,
                MemoryAction::AgentOnline.name(),
                json!({}),
                "$.Memory.Agent",
            )
            .comment(
                "Ready once SSM reports the instance's agent Online (DescribeInstanceInformation)",
            ),
            polling: AGENT_POLLING,
            ready: "MemoryPreflight",
            error_path: "$.MemoryError",
            on_error: "MemoryCleanupAfterFailure",
        },
    );
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
            ready: "StartVerify",
            error_path: "$.MemoryError",
            on_error: "MemoryCleanupAfterFailure",
        },
    );
    g.then(
        "StartVerify",
        State::Pass {
            comment: Some("The first verification run starts without a cursor".to_owned()),
            result: Some(json!({ "Result": { "Cursor": null } })),
            parameters: None,
            result_path: Some("$.Memory.Verified".to_owned()),
        },
        "VerifyMemory",
    );
    g.then(
        "VerifyMemory",
        State::Task(
            call(
                MEMORY_FN,
                MemoryAction::Verify.name(),
                json!({
                    "Capture.$": "$.Memory.Capture.Result",
                    "Captured.$": "$.Memory.Captured.Result",
                    "Cursor.$": "$.Memory.Verified.Result.Cursor",
                }),
                "$.Memory.Verified",
            )
            .comment("Completes the upload, then re-reads the stored image from the cursor for one run's budget; once all of it is read, checks it against the host's hash")
            .catch(fail()),
        ),
        "MemoryVerified",
    );
    g.add(
        "MemoryVerified",
        State::Choice(irf_core::asl::Choice {
            comment: Some("Loops until the whole image is re-read and checked".to_owned()),
            choices: vec![ChoiceRule {
                condition: json!({ "Variable": "$.Memory.Verified.Result.Done", "BooleanEquals": true }),
                next: MemoryAction::BuildSymbols.name().to_owned(),
            }],
            default: Some("VerifyMemory".to_owned()),
        }),
        Flow::End,
    );
    g.then(
        MemoryAction::BuildSymbols.name(),
        State::Task(
            call(
                MEMORY_FN,
                MemoryAction::BuildSymbols.name(),
                json!({
                    "Method.$": "$.Memory.Method.Result",
                    "Capture.$": "$.Memory.Capture.Result",
                    "Captured.$": "$.Memory.Captured.Result",
                }),
                "$.Memory.Symbols",
            )
            .comment("Checks the host's symbol bundle and puts the Volatility 3 ISF beside the image: the module factory's for the kernel, else one built from the bundle")
            .catch(Catch::all("MemorySymbolsNotBuilt", "$.Memory.SymbolsError")),
        ),
        "MemorySucceeded",
    );
    g.then(
        "MemorySymbolsNotBuilt",
        State::Pass {
            comment: Some(
                "The verified image stays the branch's result; the error says why it has no ISF"
                    .to_owned(),
            ),
            result: None,
            parameters: None,
            result_path: None,
        },
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

/// The standalone memory workflow (`MemoryAcquisition`).
pub fn memory_machine() -> StateMachine {
    let mut g = GraphBuilder::new();
    open_case(&mut g, "NotifyStarted");
    notify(
        &mut g,
        "NotifyStarted",
        &CaseEvent::CaseStarted,
        MEMORY_ENTRY,
    );
    memory_states(&mut g, &Flow::Next("CollectResult".to_owned()));
    collect(&mut g);
    close_case(&mut g, "$.Results");
    g.machine(
        "IRF memory acquisition: preflight, capture without credentials on the host, verify",
        CASE_TIMEOUT_SECONDS,
    )
}
