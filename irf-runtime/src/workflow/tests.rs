use std::collections::BTreeMap;
use std::sync::Mutex;

use irf_core::asl::{Catch, GraphBuilder, MapState, Parallel, Retry, State, Task};
use serde_json::{Value, json};

use super::*;

/// Answers each function's calls from a script, in order, and records the payloads.
#[derive(Default)]
struct Script {
    answers: Mutex<BTreeMap<String, Vec<Result<Value, Failure>>>>,
    calls: Mutex<Vec<(String, Value)>>,
}

impl Script {
    fn answer(self, function: &str, answers: Vec<Result<Value, Failure>>) -> Self {
        self.answers
            .lock()
            .unwrap()
            .insert(function.to_owned(), answers);
        self
    }

    fn calls_of(&self, function: &str) -> Vec<Value> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|(f, _)| f == function)
            .map(|(_, p)| p.clone())
            .collect()
    }
}

impl Tasks for Script {
    async fn call(
        &self,
        target: &TaskTarget,
        resource: &str,
        parameters: Value,
    ) -> Result<Value, Failure> {
        let TaskTarget::Lambda(f) = target else {
            return Ok(json!({"MessageId": "m-1", "Resource": resource}));
        };
        assert_eq!(resource, "arn:aws:states:::lambda:invoke");
        assert_eq!(parameters["FunctionName"], format!("${{{f}}}"));
        self.calls
            .lock()
            .unwrap()
            .push((f.clone(), parameters["Payload"].clone()));
        let mut answers = self.answers.lock().unwrap();
        let queue = answers
            .get_mut(f)
            .unwrap_or_else(|| panic!("{f} has no answers"));
        assert!(!queue.is_empty(), "{f} called more often than scripted");
        queue
            .remove(0)
            .map(|p| json!({ "Payload": p, "StatusCode": 200 }))
    }
}

const FAST: Pace = Pace {
    max_wait: Some(Duration::from_millis(1)),
};

fn fatal(cause: &str) -> Failure {
    Failure::new("Irf.Fatal", cause)
}

/// Poll until ready (Choice/Wait, counted), retry a retryable error, map over the result,
/// publish, then succeed; any error is caught into `$.Error` and fails with its cause.
fn machine() -> StateMachine {
    let mut item = GraphBuilder::new();
    item.end(
        "Each",
        State::Task(Task::lambda(
            "ItemFn",
            json!({"Item.$": "$.Item", "Index.$": "$.Index", "Case.$": "$.Case"}),
            "$.Done",
        )),
    );
    let mut left = GraphBuilder::new();
    left.end(
        "Left",
        State::Pass {
            comment: None,
            result: Some(json!("left")),
            parameters: None,
            result_path: None,
        },
    );
    let mut right = GraphBuilder::new();
    right.end(
        "Right",
        State::Pass {
            comment: None,
            result: None,
            parameters: Some(json!({"Case.$": "$.Case"})),
            result_path: None,
        },
    );
    let mut g = GraphBuilder::new();
    g.then(
        "Count",
        State::Pass {
            comment: None,
            result: Some(json!({"Count": 0})),
            parameters: None,
            result_path: Some("$.Polls".into()),
        },
        "Check",
    )
    .then(
        "Check",
        State::Task(
            Task::lambda("CheckFn", json!({"Case.$": "$.Case"}), "$.Checked")
                .retry(Retry::on(&["Irf.Retryable"], 1, 2, 2.0))
                .catch(Catch::all("Failed", "$.Error")),
        ),
        "Ready?",
    )
    .then(
        "Ready?",
        State::Choice(irf_core::asl::Choice {
            comment: None,
            choices: vec![
                irf_core::asl::ChoiceRule {
                    condition: json!({"Variable": "$.Checked.Result.Ready", "BooleanEquals": true}),
                    next: "Each".into(),
                },
                irf_core::asl::ChoiceRule {
                    condition: json!({"Variable": "$.Polls.Count", "NumericGreaterThanEquals": 3}),
                    next: "TooLong".into(),
                },
            ],
            default: Some("Again".into()),
        }),
        "",
    )
    .then(
        "Again",
        State::Pass {
            comment: None,
            result: None,
            parameters: Some(json!({"Count.$": "States.MathAdd($.Polls.Count, 1)"})),
            result_path: Some("$.Polls".into()),
        },
        "Pause",
    )
    .then("Pause", State::Wait { seconds: 60 }, "Check")
    .end(
        "TooLong",
        State::Fail {
            error: "Irf.NotReady".into(),
            cause_path: None,
            cause: Some("not ready after 3 checks".into()),
        },
    )
    .then(
        "Each",
        State::Map(MapState {
            comment: None,
            items_path: "$.Checked.Result.Items".into(),
            item_selector: Some(
                json!({"Item.$": "$$.Map.Item.Value", "Index.$": "$$.Map.Item.Index", "Case.$": "$.Case"}),
            ),
            item_processor: item.processor(),
            max_concurrency: 2,
            result_path: Some("$.Items".into()),
            catch: vec![Catch::all("Failed", "$.Error")],
        }),
        "Both",
    )
    .then(
        "Both",
        State::Parallel(Parallel {
            comment: None,
            branches: vec![left.graph(), right.graph()],
            result_path: Some("$.Both".into()),
            catch: Vec::new(),
        }),
        "Publish",
    )
    .then(
        "Publish",
        State::Task(Task::sns_publish(
            "TopicArn",
            "done",
            json!({"Case.$": "$.Case"}),
        )),
        "Done",
    )
    .end("Done", State::Succeed)
    .end(
        "Failed",
        State::Fail {
            error: "Irf.CaseFailed".into(),
            cause_path: Some("$.Error.Cause".into()),
            cause: None,
        },
    );
    let m = g.machine("test", 60);
    m.validate().unwrap();
    m
}

fn input() -> Value {
    json!({"Case": {"case_id": "C-1"}})
}

#[tokio::test]
async fn polls_retries_maps_and_joins_as_step_functions_does() {
    let script = Script::default()
        .answer(
            "CheckFn",
            vec![
                Ok(json!({"Ready": false})),
                Err(Failure::new("Irf.Retryable", "throttled")),
                Ok(json!({"Ready": true, "Items": ["a", "b", "c"]})),
            ],
        )
        .answer("ItemFn", vec![Ok(json!(1)), Ok(json!(2)), Ok(json!(3))]);
    let exec = Executor::new(script, FAST);
    let run = exec.execute(&machine(), input()).await;
    let Outcome::Succeeded { output } = &run.outcome else {
        panic!("{:?} after {:?}", run.outcome, run.entered());
    };
    assert_eq!(
        run.entered(),
        [
            "Count",
            "Check",
            "Ready?",
            "Again",
            "Pause",
            "Check",
            "Ready?",
            "Each",
            "Each/0/Each",
            "Each/1/Each",
            "Each/2/Each",
            "Both",
            "Both/0/Left",
            "Both/1/Right",
            "Publish",
            "Done"
        ]
    );
    // The retry is an event, with the rule's first interval paced down.
    assert!(run.events.iter().any(|e| matches!(e,
        Event::Retried { state, attempt: 1, error, .. } if state == "Check" && error.error == "Irf.Retryable")));
    assert_eq!(output["Polls"], json!({"Count": 1}));
    assert_eq!(output["Checked"]["Result"]["Items"], json!(["a", "b", "c"]));
    // Map results in item order, each iteration's ResultPath applied to its selected input.
    assert_eq!(
        output["Items"],
        json!([
            {"Item": "a", "Index": 0, "Case": {"case_id": "C-1"}, "Done": {"Result": 1}},
            {"Item": "b", "Index": 1, "Case": {"case_id": "C-1"}, "Done": {"Result": 2}},
            {"Item": "c", "Index": 2, "Case": {"case_id": "C-1"}, "Done": {"Result": 3}},
        ])
    );
    assert_eq!(
        output["Both"],
        json!(["left", {"Case": {"case_id": "C-1"}}])
    );
    let items = exec.tasks().calls_of("ItemFn");
    assert_eq!(
        items
            .iter()
            .map(|p| (p["Item"].clone(), p["Index"].clone()))
            .collect::<Vec<_>>(),
        [
            (json!("a"), json!(0)),
            (json!("b"), json!(1)),
            (json!("c"), json!(2))
        ]
    );
    assert_eq!(exec.tasks().calls_of("CheckFn").len(), 3);
}

#[tokio::test]
async fn a_fatal_error_is_caught_and_fails_with_its_cause() {
    let script = Script::default().answer("CheckFn", vec![Err(fatal("snapshot in error"))]);
    let run = Executor::new(script, FAST)
        .execute(&machine(), input())
        .await;
    assert_eq!(
        run.outcome,
        Outcome::Failed {
            error: Failure::new("Irf.CaseFailed", "snapshot in error")
        }
    );
    assert_eq!(run.entered(), ["Count", "Check", "Failed"]);
    assert!(run.events.iter().any(|e| matches!(e,
        Event::Caught { next, error, .. } if next == "Failed" && error.error == "Irf.Fatal")));
}

#[tokio::test]
async fn retries_end_after_max_attempts_and_the_error_is_caught() {
    let throttled = || Err(Failure::new("Irf.Retryable", "throttled"));
    let script = Script::default().answer("CheckFn", vec![throttled(), throttled(), throttled()]);
    let exec = Executor::new(script, FAST);
    let run = exec.execute(&machine(), input()).await;
    assert_eq!(
        run.outcome,
        Outcome::Failed {
            error: Failure::new("Irf.CaseFailed", "throttled")
        }
    );
    // One call and the rule's two retries.
    assert_eq!(exec.tasks().calls_of("CheckFn").len(), 3);
    let delays: Vec<u32> = run
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Retried { attempt, .. } => Some(*attempt),
            _ => None,
        })
        .collect();
    assert_eq!(delays, [1, 2]);
}

#[tokio::test]
async fn a_budget_spent_polling_fails_the_execution() {
    let pending = || Ok(json!({"Ready": false}));
    let script =
        Script::default().answer("CheckFn", vec![pending(), pending(), pending(), pending()]);
    let run = Executor::new(script, FAST)
        .execute(&machine(), input())
        .await;
    assert_eq!(
        run.outcome,
        Outcome::Failed {
            error: Failure::new("Irf.NotReady", "not ready after 3 checks")
        }
    );
    assert_eq!(
        run.entered().iter().filter(|s| **s == "Check").count(),
        4,
        "checks 0, 1, 2 and 3"
    );
}

#[tokio::test]
async fn a_missing_path_is_a_runtime_error_no_catcher_takes() {
    // `Ready: true` without `Items`: the Map's ItemsPath is not in the input.
    let script = Script::default().answer("CheckFn", vec![Ok(json!({"Ready": true}))]);
    let run = Executor::new(script, FAST)
        .execute(&machine(), input())
        .await;
    let Outcome::Failed { error } = &run.outcome else {
        panic!("{:?}", run.outcome);
    };
    assert_eq!(error.error, "States.Runtime");
    assert!(error.cause.contains("$.Checked.Result.Items"), "{error:?}");
    assert_eq!(
        run.entered().last(),
        Some(&"Each"),
        "the Map's catcher did not take it"
    );
}

#[tokio::test]
async fn a_failing_iteration_fails_the_map_into_its_catcher() {
    let script = Script::default()
        .answer(
            "CheckFn",
            vec![Ok(json!({"Ready": true, "Items": ["a", "b"]}))],
        )
        .answer("ItemFn", vec![Ok(json!(1)), Err(fatal("volume gone"))]);
    let run = Executor::new(script, FAST)
        .execute(&machine(), input())
        .await;
    assert_eq!(
        run.outcome,
        Outcome::Failed {
            error: Failure::new("Irf.CaseFailed", "volume gone")
        }
    );
}

#[tokio::test]
async fn a_task_over_its_timeout_fails_with_states_timeout() {
    struct Slow;
    impl Tasks for Slow {
        async fn call(&self, _: &TaskTarget, _: &str, _: Value) -> Result<Value, Failure> {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(json!({}))
        }
    }
    let mut g = GraphBuilder::new();
    let mut t = Task::lambda("Fn", json!({}), "$.R");
    t.timeout_seconds = Some(1);
    t.retry.clear();
    g.end("Slow", State::Task(t));
    let run = Executor::new(Slow, Pace::AS_WRITTEN)
        .execute(&g.machine("t", 60), json!({}))
        .await;
    let Outcome::Failed { error } = &run.outcome else {
        panic!("{:?}", run.outcome);
    };
    assert_eq!(error.error, "States.Timeout");
    assert!(error.cause.contains("1 s"), "{error:?}");
}
