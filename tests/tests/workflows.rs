//! The acquisition workflows executed by the emulator's Step Functions, with queued Lambda
//! results: the case workflow succeeds; a memory branch that cannot acquire fails the case
//! visibly while the disk branch and containment still run.
//!
//! **Emulator limits, named here:** state machines made by CloudFormation are not executable
//! there, so each test creates the synthesized definition through the API; its Lambda stand-in
//! returns queued results and cannot raise a function error, so `Retry`/`Catch` of Lambda errors
//! (pending polls, fatal steps) are not exercised here. The error paths reachable by data (the
//! preflight choosing no method) are. The emulator's Step Functions invokes Lambda as its default
//! account (123456789012), so results are queued there and the tests take turns (`TURN`). The
//! branches of a `Parallel` run concurrently, so every
//! queued result is the same document holding what every step reads (`Method`, `Done`, `Copies`,
//! `Status`).
//!
//! Run through the emulator: `scripts/emulator run -- cargo test -p irf-e2e --test workflows`.

mod common;

use aws_config::SdkConfig;
use aws_sdk_sfn::types::ExecutionStatus;
use irf_core::asl::StateMachine;
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

/// Runs `machine` on the sample's input; returns the final status, error and states entered.
async fn execute(
    conf: &SdkConfig,
    account: &str,
    name: &str,
    machine: &StateMachine,
) -> (ExecutionStatus, Option<String>, Vec<String>) {
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
    let input = json!({"CaseId": "WF-1", "InstanceId": "i-0123456789abcdef0", "Account": "333333333333",
                       "Region": "eu-west-1", "RetainArtefacts": "true"});
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
    for _ in 0..300 {
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
    let d = described.expect("the execution ends within 30 s");
    let history = sfn
        .get_execution_history()
        .execution_arn(&exec)
        .max_results(1000)
        .send()
        .await
        .unwrap();
    let entered = history
        .events()
        .iter()
        .filter_map(|e| e.state_entered_event_details().map(|s| s.name().to_owned()))
        .collect();
    (d.status().clone(), d.error().map(str::to_owned), entered)
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
        "Status": status, "Failed": [],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_case_workflow_acquires_then_contains_then_closes() {
    let Some(endpoint) = common::emulator() else {
        return;
    };
    let (_, a) = common::fresh_org();
    let conf = common::account(&endpoint, &a.security, HOME).await;
    let machine = irf_synth::stacks::workflows::combined_machine();

    // Open, notify, 6 disk steps, 1 imaging run, disk clean-up, 5 memory steps, contain,
    // close, notify.
    let _turn = TURN.lock().await;
    queue(&endpoint, vec![result("kcore", "SUCCEEDED"); 18]).await;
    let (status, error, entered) = execute(&conf, &a.security, "wf-success", &machine).await;
    assert_eq!(
        status,
        ExecutionStatus::Succeeded,
        "{error:?} after {entered:?}"
    );
    for state in [
        "CreateSnapshots",
        "WaitForCopies",
        "ImageChunk",
        "CleanUpDisk",
        "DiskSucceeded",
        "VerifyMemory",
        "MemorySucceeded",
        "Contain",
        "CloseCase",
        "CaseSucceeded",
    ] {
        assert!(
            entered.iter().any(|s| s == state),
            "{state} not entered: {entered:?}"
        );
    }
    let contain = entered.iter().position(|s| s == "Contain").unwrap();
    assert!(
        entered.iter().position(|s| s == "DiskSucceeded").unwrap() < contain,
        "containment after acquisition"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_branch_that_cannot_acquire_fails_the_case_but_not_disk_or_containment() {
    let Some(endpoint) = common::emulator() else {
        return;
    };
    let (_, a) = common::fresh_org();
    let conf = common::account(&endpoint, &a.security, HOME).await;
    let machine = irf_synth::stacks::workflows::combined_machine();

    // Open, notify, 8 disk steps, preflight (2), memory clean-up, contain, close, notify.
    let _turn = TURN.lock().await;
    queue(&endpoint, vec![result("none", "FAILED"); 16]).await;
    let (status, error, entered) = execute(&conf, &a.security, "wf-no-memory", &machine).await;
    assert_eq!(status, ExecutionStatus::Failed, "{entered:?}");
    assert_eq!(error.as_deref(), Some("Irf.CaseFailed"));
    for state in [
        "MemoryNotAcquirable",
        "MemoryCleanupAfterFailure",
        "MemoryFailed",
        "DiskSucceeded",
        "Contain",
        "NotifyFailed",
        "CaseFailed",
    ] {
        assert!(
            entered.iter().any(|s| s == state),
            "{state} not entered: {entered:?}"
        );
    }
    assert!(
        !entered.iter().any(|s| s == "StartCapture"),
        "no capture without a method"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standalone_memory_workflow_runs_its_steps_in_order() {
    let Some(endpoint) = common::emulator() else {
        return;
    };
    let (_, a) = common::fresh_org();
    let conf = common::account(&endpoint, &a.security, HOME).await;
    let machine = irf_synth::stacks::workflows::memory_machine();
    // Open, notify, preflight (2), capture (2), verify, close, notify.
    let _turn = TURN.lock().await;
    queue(&endpoint, vec![result("lime", "SUCCEEDED"); 9]).await;
    let (status, error, entered) = execute(&conf, &a.security, "wf-memory", &machine).await;
    assert_eq!(
        status,
        ExecutionStatus::Succeeded,
        "{error:?} after {entered:?}"
    );
    let tasks: Vec<&str> = entered
        .iter()
        .map(String::as_str)
        .filter(|s| {
            [
                "OpenCase",
                "MemoryPreflight",
                "WaitForPreflight",
                "StartCapture",
                "WaitForCapture",
                "VerifyMemory",
                "CloseCase",
            ]
            .contains(s)
        })
        .collect();
    assert_eq!(
        tasks,
        [
            "OpenCase",
            "MemoryPreflight",
            "WaitForPreflight",
            "StartCapture",
            "WaitForCapture",
            "VerifyMemory",
            "CloseCase"
        ]
    );
}
