//! The case record's steps (open, contain, close), the notification step, and what every step
//! receives about the case.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::actions;

/// A case, as every workflow step receives it (the result of [`CaseStep::Open`], kept at
/// `$.Case`; snake_case on the wire).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// The case id (`<account>-<instance>-<region>-<epoch>` when the automation opened it).
    pub case_id: String,
    /// Member account of the instance.
    pub account: String,
    /// Region of the instance.
    pub region: String,
    /// Id of the EC2 instance under investigation (`i-...`).
    pub instance_id: String,
    /// Keep the security-account snapshot copies after imaging.
    pub retain_artefacts: bool,
}

/// The case workflow's input, a fixed schema so that existing callers keep working; the
/// incident trigger and the responder CLI start it, and [`CaseStep::Open`] validates it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CaseInput {
    /// 1 to 64 letters, digits, `-` or `_` (it names S3 prefixes and executions).
    pub case_id: String,
    /// Id of the EC2 instance under investigation (`i-...`).
    pub instance_id: String,
    /// Member account of the instance.
    pub account: String,
    /// Region of the instance.
    pub region: String,
    /// `"true"` keeps the security-account snapshot copies (a string, not a JSON boolean: the
    /// schema is fixed).
    pub retain_artefacts: String,
}

/// A request to the case-record function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "Action", rename_all_fields = "PascalCase")]
pub enum CaseStep {
    /// Validates the workflow input and records who opened the case; the answer is the
    /// [`Case`] every later step receives.
    Open {
        /// The execution input, as started (validated field by field, so a bad input is
        /// refused with what is wrong; see [`CaseInput`]).
        input: Value,
    },
    /// Tags the instance `SecurityIncidentStatus=Contain` in its account.
    Contain {
        /// The case, from the workflow's `$.Case`.
        case: Case,
    },
    /// Seals the custody ledger and computes the outcome from the branch results.
    Close {
        /// The case, from the workflow's `$.Case`.
        case: Case,
        /// The branch results: one `{Kind, Status, Error?, …}` object or a list of them
        /// ([`BranchStatus`] in `Status`); absent counts as failed.
        #[serde(default)]
        results: Value,
    },
}

actions! {
    /// The steps of the case-record function.
    CaseAction for CaseStep { Open, Contain, Close }
}

/// How a branch of the case (disk, memory) or the whole case ended: the `Status` of a branch
/// result and of the case outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BranchStatus {
    /// Everything acquired and verified.
    Succeeded,
    /// Something failed; the branch result says what.
    Failed,
}

impl BranchStatus {
    /// The value on the wire (`SUCCEEDED`, `FAILED`).
    pub const fn as_str(self) -> &'static str {
        match self {
            BranchStatus::Succeeded => "SUCCEEDED",
            BranchStatus::Failed => "FAILED",
        }
    }
}

/// A request to the notification function from a workflow (it also takes SNS records and
/// execution status changes, see [`crate::events`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "Action", rename_all_fields = "PascalCase")]
pub enum NotifyStep {
    /// Sends the notice of a case event to the outcome topic and Slack.
    Notify {
        /// The case (every workflow task sends it; the notice reads the case from `Detail`,
        /// which the direct callers also fill).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        case: Option<Case>,
        /// What happened.
        #[serde(default)]
        event: CaseEvent,
        /// The workflow state when it happened (`Case`, `Results`, `ContainError`, …).
        #[serde(default)]
        detail: Value,
    },
}

actions! {
    /// The steps of the notification function.
    NotifyAction for NotifyStep { Notify }
}

/// A case event the workflows announce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CaseEvent {
    /// The case was opened; acquisition starts.
    CaseStarted,
    /// Every branch succeeded and the instance is contained.
    CaseSucceeded,
    /// A branch failed (the notice names which and why).
    CaseFailed,
    /// Containment failed: the instance must be contained by hand.
    ContainFailed,
    /// Any other name, announced as it is.
    #[serde(untagged)]
    Other(String),
}

impl CaseEvent {
    /// The value on the wire.
    pub fn name(&self) -> &str {
        match self {
            CaseEvent::CaseStarted => "CaseStarted",
            CaseEvent::CaseSucceeded => "CaseSucceeded",
            CaseEvent::CaseFailed => "CaseFailed",
            CaseEvent::ContainFailed => "ContainFailed",
            CaseEvent::Other(name) => name,
        }
    }
}

/// A request without `Event` announces a generic case event.
impl Default for CaseEvent {
    fn default() -> Self {
        CaseEvent::Other("CaseEvent".to_owned())
    }
}
