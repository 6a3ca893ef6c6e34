//! The acquisition workflows executed by the emulator's Step Functions, with queued Lambda
//! results: the case workflow succeeds; a check that is not ready yet is polled until it is; a
//! step that fails for good is caught, cleaned up and fails the case; a memory branch that
//! cannot acquire fails the case visibly while the disk branch and containment still run.
//!
//! **Emulator limits, named here:** state machines made by CloudFormation are not executable
//! there, so each test creates the synthesized definition through the API. Its Lambda stand-in
//! returns queued results; the one function error it raises is for a response over Lambda's
//! 6 MB limit (`Function.ResponseSizeTooLarge`, an unhandled function error as AWS reports it),
//! which the fatal-path tests queue to make a step fail for real. The transient-error retriers
//! (`Irf.Retryable`, Lambda's service errors) cannot be triggered there and are checked
//! statically. The emulator's Step Functions invokes Lambda as its default account
//! (123456789012), so results are queued there and the tests take turns (`TURN`). The branches
//! of a `Parallel` run concurrently, so every queued result is the same document holding what
//! every step reads (`Method`, `Done`, `Copies`, `Status`, `Ready`).
//!
//! Run through the emulator: `scripts/emulator run -- cargo test -p irf-e2e --test workflows`.

use crate::common;

use aws_config::SdkConfig;
use aws_sdk_sfn::types::ExecutionStatus;
use irf_core::asl::StateMachine;
use irf_core::steps::DiskAction;
use serde_json::{Value, json};

const HOME: &str = "us-east-1";

/// The account the emulator's Step Functions invokes Lambda as.
const EMULATOR_DEFAULT_ACCOUNT: &str = "123456789012";

/// One execution at a time: they share the default account's result queue.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn queue(endpoint: &str, results: Vec<Value>) {
    let body = json!({
        "results": results.iter().map(Value::to_string).collect::<Vec<_>>(),
        "region": HOME,
        "account_id": EMULATOR_DEFAULT_ACCOUNT,
    });
    let resp = reqwest::Client::new()
        .post(format!("{endpoint}/moto-api/static/lambda-simple/response"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
}

/// What an execution did.
struct Execution {
    status: ExecutionStatus,
    error: Option<String>,
    /// States entered, in order.
    entered: Vec<String>,
    /// Error names of the tasks that failed, in order.
    task_errors: Vec<String>,
}

impl Execution {
    /// Asserts how the execution ended, showing its error and path otherwise.
    fn ended(&self, status: ExecutionStatus) {
        assert_eq!(
            self.status, status,
            "{:?} after {:?}",
            self.error, self.entered
        );
    }

    fn entered(&self, state: &str) -> usize {
        self.entered.iter().filter(|s| *s == state).count()
    }

    /// Asserts that every one of `states` was entered.
    fn passed_through(&self, states: &[&str]) {
        for state in states {
            assert!(
                self.entered(state) > 0,
                "{state} not entered: {:?}",
                self.entered
            );
        }
    }
}

/// Runs `machine` on a case workflow input (`{CaseId, InstanceId, Account, Region,
/// RetainArtefacts}`) until it ends.
async fn execute(conf: &SdkConfig, account: &str, name: &str, machine: &StateMachine) -> Execution {
    let sfn = aws_sdk_sfn::Client::new(conf);
    let arn = sfn
        .create_state_machine()
        .name(name)
        .role_arn(format!("arn:aws:iam::{account}:role/irf-workflows"))
        .definition(machine.resolved(|p| {
            format!(
                "arn:aws:lambda:{HOME}:{account}:function:{}",
                p.trim_end_matches("Arn")
            )
        }))
        .send()
        .await
        .unwrap()
        .state_machine_arn()
        .to_owned();
    let input = input();
    let exec = sfn
        .start_execution()
        .state_machine_arn(arn)
        .input(input.to_string())
        .send()
        .await
        .unwrap()
        .execution_arn()
        .to_owned();
    let mut described = None;
    for _ in 0..600 {
        let d = sfn
            .describe_execution()
            .execution_arn(&exec)
            .send()
            .await
            .unwrap();
        if d.status() != &ExecutionStatus::Running {
            described = Some(d);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let d = described.expect("the execution ends within 60 s");
    let history = sfn
        .get_execution_history()
        .execution_arn(&exec)
        .max_results(1000)
        .send()
        .await
        .unwrap();
    let events = history.events();
    Execution {
        status: d.status().clone(),
        error: d.error().map(str::to_owned),
        entered: events
            .iter()
            .filter_map(|e| e.state_entered_event_details().map(|s| s.name().to_owned()))
            .collect(),
        task_errors: events
            .iter()
            .filter_map(|e| e.task_failed_event_details().and_then(|f| f.error()))
            .map(str::to_owned)
            .collect(),
    }
}

/// Runs `machine` in a fresh security account with `results` queued for its Lambda calls
/// (taking its turn); `None` without the emulator. The same machine and results then run
/// through the local executor (`irf_runtime::workflow`, which the demo's case walk uses): it
/// must end the same way and enter the same states as the emulator's Step Functions.
async fn scenario(name: &str, machine: &StateMachine, results: Vec<Value>) -> Option<Execution> {
    let endpoint = common::emulator()?;
    let (_, a) = common::fresh_org();
    let conf = common::account(&endpoint, &a.security, HOME).await;
    let run = {
        let _turn = TURN.lock().await;
        queue(&endpoint, results.clone()).await;
        execute(&conf, &a.security, name, machine).await
    };
    let local = irf_runtime::workflow::Executor::new(
        Queued(std::sync::Mutex::new(results.into())),
        irf_runtime::workflow::Pace {
            max_wait: Some(std::time::Duration::from_millis(1)),
        },
    )
    .execute(machine, input())
    .await;
    let mut ours: Vec<&str> = local
        .entered()
        .into_iter()
        .map(|p| p.rsplit('/').next().unwrap_or(p))
        .collect();
    ours.sort_unstable();
    let mut theirs: Vec<&str> = run.entered.iter().map(String::as_str).collect();
    theirs.sort_unstable();
    assert_eq!(
        ours, theirs,
        "{name}: states entered, local executor vs emulator"
    );
    match &local.outcome {
        irf_runtime::workflow::Outcome::Succeeded { .. } => {
            assert_eq!(
                run.status,
                ExecutionStatus::Succeeded,
                "{name}: {:?}",
                local.outcome
            );
        }
        irf_runtime::workflow::Outcome::Failed { error } => {
            assert_eq!(run.status, ExecutionStatus::Failed, "{name}: {error}");
            assert_eq!(run.error.as_deref(), Some(error.error.as_str()), "{name}");
        }
    }
    Some(run)
}

/// The workflow input every scenario starts with.
fn input() -> Value {
    json!({"CaseId": "WF-1", "InstanceId": "i-0123456789abcdef0", "Account": "333333333333",
           "Region": "eu-west-1", "RetainArtefacts": "true"})
}

/// Queued results for the local executor, as the emulator's Lambda stand-in answers them: in
/// order, and the oversized one as the unhandled function error it reports.
struct Queued(std::sync::Mutex<std::collections::VecDeque<Value>>);

impl irf_runtime::workflow::Tasks for Queued {
    async fn call(
        &self,
        _target: &irf_core::asl::TaskTarget,
        _resource: &str,
        _parameters: Value,
    ) -> Result<Value, irf_runtime::workflow::Failure> {
        let next = self.0.lock().unwrap().pop_front();
        match next {
            Some(r) if r.get("Padding").is_some() => Err(irf_runtime::workflow::Failure::new(
                "Function.ResponseSizeTooLarge",
                "the response exceeds Lambda's 6 MB limit",
            )),
            Some(r) => Ok(json!({ "Payload": r, "StatusCode": 200 })),
            None => Err(irf_runtime::workflow::Failure::new(
                "Test.NoResultQueued",
                "more calls than queued results",
            )),
        }
    }
}

/// A result over Lambda's 6 MB response limit: the emulator reports it as an unhandled
/// function error, `Function.ResponseSizeTooLarge` (see the module doc).
fn function_error() -> Value {
    json!({ "Padding": "x".repeat(6_100_000) })
}

/// The document every queued Lambda result is (see the module doc).
fn result(method: &str, status: &str) -> Value {
    json!({
        "case_id": "WF-1", "account": "333333333333", "region": "eu-west-1",
        "instance_id": "i-0123456789abcdef0", "retain_artefacts": true,
        "Method": method, "Reason": format!("{method}: from the test"),
        "Done": true,
        "Copies": [{"VolumeId": "vol-0123456789abcdef0", "Device": "/dev/xvda", "SnapshotId": "snap-0123456789abcdef0",
                    "Region": HOME, "SizeGib": 8}],
        "Status": status, "Failed": [], "Ready": true,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_case_workflow_acquires_then_contains_then_closes() {
    let machine = irf_synth::stacks::workflows::combined_machine();

    // Open, notify, 6 disk steps, 1 imaging run, disk clean-up, 7 memory steps, contain,
    // close, notify.
    let results = vec![result("kcore", "SUCCEEDED"); 20];
    let Some(run) = scenario("wf-success", &machine, results).await else {
        return;
    };
    let entered = &run.entered;
    run.ended(ExecutionStatus::Succeeded);
    run.passed_through(&[
        DiskAction::CreateSnapshots.name(),
        "CheckSnapshots",
        "CheckShared",
        "CheckCopies",
        "ImageChunk",
        "CleanUpDisk",
        "DiskSucceeded",
        "CheckAgent",
        "VerifyMemory",
        "BuildSymbols",
        "MemorySucceeded",
        "Contain",
        "CloseCase",
        "CaseSucceeded",
    ]);
    let contain = entered.iter().position(|s| s == "Contain").unwrap();
    assert!(
        entered.iter().position(|s| s == "DiskSucceeded").unwrap() < contain,
        "containment after acquisition"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_branch_that_cannot_acquire_fails_the_case_but_not_disk_or_containment() {
    let machine = irf_synth::stacks::workflows::combined_machine();

    // Open, notify, 8 disk steps, agent, preflight (2), memory clean-up, contain, close, notify.
    let Some(run) = scenario("wf-no-memory", &machine, vec![result("none", "FAILED"); 17]).await
    else {
        return;
    };
    run.ended(ExecutionStatus::Failed);
    assert_eq!(run.error.as_deref(), Some("Irf.CaseFailed"));
    run.passed_through(&[
        "CheckPreflight",
        "MemoryNotAcquirable",
        "MemoryCleanupAfterFailure",
        "MemoryFailed",
        "DiskSucceeded",
        "Contain",
        "NotifyFailed",
        "CaseFailed",
    ]);
    assert_eq!(
        run.entered("StartCapture"),
        0,
        "no capture without a method"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standalone_memory_workflow_runs_its_steps_in_order() {
    let machine = irf_synth::stacks::workflows::memory_machine();
    // Open, notify, agent, preflight (2), capture (2), verify, symbols, close, notify.
    let Some(run) = scenario("wf-memory", &machine, vec![result("lime", "SUCCEEDED"); 11]).await
    else {
        return;
    };
    run.ended(ExecutionStatus::Succeeded);
    let tasks: Vec<&str> = run
        .entered
        .iter()
        .map(String::as_str)
        .filter(|s| {
            [
                "OpenCase",
                "CheckAgent",
                "MemoryPreflight",
                "CheckPreflight",
                "StartCapture",
                "CheckCapture",
                "VerifyMemory",
                "BuildSymbols",
                "CloseCase",
            ]
            .contains(s)
        })
        .collect();
    assert_eq!(
        tasks,
        [
            "OpenCase",
            "CheckAgent",
            "MemoryPreflight",
            "CheckPreflight",
            "StartCapture",
            "CheckCapture",
            "VerifyMemory",
            "BuildSymbols",
            "CloseCase"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_that_is_not_ready_is_polled_until_it_is() {
    let machine = irf_synth::stacks::workflows::memory_machine();
    let waiting = json!({ "Ready": false, "Waiting": "preflight c-1: InProgress" });
    let ready = result("kcore", "SUCCEEDED");
    // Open, notify, agent, preflight, check (waiting), check (ready), capture, check, verify,
    // symbols, close, notify.
    let mut results = vec![ready.clone(); 4];
    results.push(waiting);
    results.extend(vec![ready; 7]);
    let Some(run) = scenario("wf-poll", &machine, results).await else {
        return;
    };
    run.ended(ExecutionStatus::Succeeded);
    assert_eq!(run.entered("CheckPreflight"), 2, "{:?}", run.entered);
    assert_eq!(run.entered("PreflightNotReady"), 1);
    assert_eq!(run.entered("CountPreflightPoll"), 1);
    assert_eq!(run.entered("PreflightTimedOut"), 0);
    assert_eq!(run.entered("CheckCapture"), 1);
    assert!(
        run.task_errors.is_empty(),
        "waiting is no error: {:?}",
        run.task_errors
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_step_that_fails_is_caught_cleaned_up_and_fails_the_case() {
    let machine = irf_synth::stacks::workflows::disk_machine();
    // Open, notify, snapshots (function error), clean-up, close, notify.
    let failed = result("kcore", "FAILED");
    let results = vec![
        failed.clone(),
        failed.clone(),
        function_error(),
        failed.clone(),
        failed.clone(),
        failed,
    ];
    let Some(run) = scenario("wf-disk-fatal", &machine, results).await else {
        return;
    };
    run.ended(ExecutionStatus::Failed);
    assert_eq!(run.error.as_deref(), Some("Irf.CaseFailed"));
    assert_eq!(
        run.task_errors,
        ["Function.ResponseSizeTooLarge"],
        "not retried"
    );
    for state in [
        "DiskCleanupAfterFailure",
        "DiskFailed",
        "CloseCase",
        "NotifyFailed",
        "CaseFailed",
    ] {
        assert_eq!(run.entered(state), 1, "{state}: {:?}", run.entered);
    }
    assert_eq!(run.entered("WaitForSnapshots"), 0, "{:?}", run.entered);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capture_that_fails_while_polled_is_caught_cleaned_up_and_fails_the_case() {
    let machine = irf_synth::stacks::workflows::memory_machine();
    // Open, notify, agent, preflight, check, capture, check (function error), clean-up, close,
    // notify.
    let ok = result("kcore", "SUCCEEDED");
    let failed = result("kcore", "FAILED");
    let mut results = vec![ok; 6];
    results.push(function_error());
    results.extend(vec![failed; 3]);
    let Some(run) = scenario("wf-memory-fatal", &machine, results).await else {
        return;
    };
    run.ended(ExecutionStatus::Failed);
    assert_eq!(run.error.as_deref(), Some("Irf.CaseFailed"));
    assert_eq!(run.task_errors, ["Function.ResponseSizeTooLarge"]);
    for state in [
        "MemoryCleanupAfterFailure",
        "MemoryFailed",
        "NotifyFailed",
        "CaseFailed",
    ] {
        assert_eq!(run.entered(state), 1, "{state}: {:?}", run.entered);
    }
    assert_eq!(run.entered("VerifyMemory"), 0);
    assert_eq!(run.entered("CaptureNotReady"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_isf_that_cannot_be_built_leaves_the_verified_image_and_the_case_succeeds() {
    let machine = irf_synth::stacks::workflows::memory_machine();
    // Open, notify, agent, preflight, check, capture, check, verify, symbols (function error),
    // close, notify.
    let ok = result("kcore", "SUCCEEDED");
    let mut results = vec![ok.clone(); 8];
    results.push(function_error());
    results.extend(vec![ok; 2]);
    let Some(run) = scenario("wf-memory-no-isf", &machine, results).await else {
        return;
    };
    run.ended(ExecutionStatus::Succeeded);
    assert_eq!(run.task_errors, ["Function.ResponseSizeTooLarge"]);
    for state in [
        "VerifyMemory",
        "BuildSymbols",
        "MemorySymbolsNotBuilt",
        "MemorySucceeded",
    ] {
        assert_eq!(run.entered(state), 1, "{state}: {:?}", run.entered);
    }
    assert_eq!(run.entered("MemoryCleanupAfterFailure"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verification_that_needs_more_runs_resumes_from_its_cursor() {
    let machine = irf_synth::stacks::workflows::memory_machine();
    // Open, notify, agent, preflight, check, capture, check, verify (not done), verify (done),
    // symbols, close, notify.
    let ok = result("kcore", "SUCCEEDED");
    let mut part_way = ok.clone();
    part_way["Done"] = false.into();
    part_way["Cursor"] = json!({"Offset": 8 << 20, "Size": 12 << 20, "Hashes": "AAAA"});
    let mut results = vec![ok.clone(); 7];
    results.push(part_way);
    results.extend(vec![ok; 4]);
    let Some(run) = scenario("wf-memory-verify-runs", &machine, results).await else {
        return;
    };
    run.ended(ExecutionStatus::Succeeded);
    assert_eq!(run.entered("StartVerify"), 1, "{:?}", run.entered);
    assert_eq!(run.entered("VerifyMemory"), 2, "{:?}", run.entered);
    assert_eq!(run.entered("BuildSymbols"), 1, "{:?}", run.entered);
}
