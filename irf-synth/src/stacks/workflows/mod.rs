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

//!
//! One module per workflow part: [`disk`] and [`memory`] (the acquisition branches, each also a
//! workflow of its own) and [`case`] (opening, notifying and closing the case, and the combined
//! workflow); the building blocks they share are here.

mod case;
mod disk;
mod memory;
#[cfg(test)]
mod tests;

pub use case::combined_machine;
pub use disk::{disk_machine, disk_states};
pub use memory::{memory_machine, memory_states};

use irf_core::asl::{Catch, ChoiceRule, ERROR_RETRYABLE, Flow, GraphBuilder, Retry, State, Task};
use irf_core::steps::{ACTION_FIELD, BranchStatus};
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

/// The SSM agent coming Online after containment swapped the instance profile (the agent picks up
/// new credentials within minutes): every fifteen seconds for ten minutes.
pub const AGENT_POLLING: Polling = Polling {
    interval_seconds: 15,
    max_polls: 40,
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
