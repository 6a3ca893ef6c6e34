//! The events the handlers receive from AWS services and from member accounts, with the names
//! the templates' EventBridge rules match on.
//!
//! Each type models the fields a handler reads; the rest of each object is kept in `other` as
//! received, so an event read and written back is the event (`irf-core/tests/fixtures/` holds
//! one of each, round-tripped).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `source` of tag-change events.
pub const TAG_CHANGE_SOURCE: &str = "aws.tag";
/// `detail-type` of tag-change events.
pub const TAG_CHANGE_DETAIL_TYPE: &str = "Tag Change on Resource";
/// `detail.service` of the tag changes the member handler acts on.
pub const TAG_CHANGE_SERVICE: &str = "ec2";
/// `detail.resource-type` of the tag changes the member handler acts on.
pub const TAG_CHANGE_RESOURCE_TYPE: &str = "instance";

/// `source` of Security Hub events.
pub const SECURITY_HUB_SOURCE: &str = "aws.securityhub";
/// `detail-type` of a Security Hub custom action on findings.
pub const CUSTOM_ACTION_DETAIL_TYPE: &str = "Security Hub Findings - Custom Action";
/// Security Hub's resource type of an EC2 instance.
pub const EC2_INSTANCE_RESOURCE_TYPE: &str = "AwsEc2Instance";

/// `source` of Step Functions events.
pub const STEP_FUNCTIONS_SOURCE: &str = "aws.states";
/// `detail-type` of an execution's status change.
pub const EXECUTION_STATUS_CHANGE_DETAIL_TYPE: &str = "Step Functions Execution Status Change";

/// An EventBridge "Tag Change on Resource" event: a tag of an EC2 instance changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TagChangeEvent {
    /// [`TAG_CHANGE_DETAIL_TYPE`].
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    /// [`TAG_CHANGE_SOURCE`].
    pub source: String,
    /// Account of the resource.
    pub account: String,
    /// Region of the resource.
    pub region: String,
    /// When the tags changed (RFC 3339): part of the case id.
    pub time: String,
    /// The resource's ARN (one).
    pub resources: Vec<String>,
    /// What changed.
    pub detail: TagChangeDetail,
    /// The rest of the envelope (`version`, `id`), as received.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// What a tag change changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TagChangeDetail {
    /// Keys added, changed or removed.
    #[serde(rename = "changed-tag-keys")]
    pub changed_tag_keys: Vec<String>,
    /// [`TAG_CHANGE_SERVICE`] for the changes the handler acts on.
    pub service: String,
    /// [`TAG_CHANGE_RESOURCE_TYPE`] for the changes the handler acts on.
    #[serde(rename = "resource-type")]
    pub resource_type: String,
    /// Every tag after the change (a removed key is absent).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The rest (`version`), as received.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// An incident request as it arrives on the security account's incident bus.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncidentRequestEvent {
    /// The account that put the event (set by EventBridge, not by the sender).
    pub account: String,
    /// [`crate::contract::INCIDENT_EVENT_SOURCE`].
    pub source: String,
    /// [`crate::contract::INCIDENT_EVENT_DETAIL_TYPE`].
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    /// What the member asks for.
    pub detail: IncidentRequest,
    /// The rest of the envelope, as received.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// What a member asks the security account for: evidence acquisition, then containment, of
/// one of its instances (the `detail` the member's tag handler sends).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentRequest {
    /// Account of the instance.
    pub account: String,
    /// Region of the instance.
    pub region: String,
    /// Id of the instance to acquire and contain (`i-...`).
    pub instance_id: String,
    /// When the incident tag was set (Unix seconds): part of the case id, so retries of the
    /// same request map to the same case.
    pub requested_at: u64,
    /// The member's SSM parameter holding the instance's pre-containment state, when the
    /// member's tag handler recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior_state_parameter: Option<String>,
}

/// A Security Hub custom action on selected findings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomActionEvent {
    /// [`CUSTOM_ACTION_DETAIL_TYPE`].
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    /// The action and the findings.
    pub detail: CustomActionDetail,
    /// The rest of the envelope, as received.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The findings a custom action was run on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomActionDetail {
    /// The selected findings (ASFF).
    pub findings: Vec<Finding>,
    /// The rest (`actionName`, `actionDescription`), as received.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A Security Hub finding, as far as the custom action reads it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Finding id (with the product ARN, what `BatchUpdateFindings` names).
    #[serde(rename = "Id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The product that reported it.
    #[serde(
        rename = "ProductArn",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub product_arn: Option<String>,
    /// The resources involved.
    #[serde(rename = "Resources", default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Vec<FindingResource>>,
    /// The rest of the finding, as received.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A resource of a finding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FindingResource {
    /// Resource type ([`EC2_INSTANCE_RESOURCE_TYPE`] for an instance).
    #[serde(rename = "Type", default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// Resource id (an ARN for an instance).
    #[serde(rename = "Id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The rest, as received.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A Step Functions execution status change (the rule passes only executions that ended
/// without their own notice: [`ExecutionStatus::ENDED_ABNORMALLY`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecutionStatusChangeEvent {
    /// [`EXECUTION_STATUS_CHANGE_DETAIL_TYPE`].
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    /// The execution and its new status.
    pub detail: ExecutionStatusDetail,
    /// The rest of the envelope, as received.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The execution whose status changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecutionStatusDetail {
    /// Execution name (`sf-forensics-<CaseId>` for a case).
    #[serde(default)]
    pub name: Option<String>,
    /// Its new status ([`ExecutionStatus`], as a string: it is only shown).
    #[serde(default)]
    pub status: Option<String>,
    /// Error name, when it failed (`null` otherwise).
    #[serde(default)]
    pub error: Option<String>,
    /// Error cause, when it failed (`null` otherwise).
    #[serde(default)]
    pub cause: Option<String>,
    /// The rest (ARNs, dates, input and output), as received.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The status of a Step Functions execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionStatus {
    /// Still running.
    Running,
    /// Ended successfully.
    Succeeded,
    /// Ended with an error.
    Failed,
    /// Ran past its timeout.
    TimedOut,
    /// Stopped by someone.
    Aborted,
    /// Failed and may be redriven.
    PendingRedrive,
}

impl ExecutionStatus {
    /// Every status.
    pub const ALL: [ExecutionStatus; 6] = [
        ExecutionStatus::Running,
        ExecutionStatus::Succeeded,
        ExecutionStatus::Failed,
        ExecutionStatus::TimedOut,
        ExecutionStatus::Aborted,
        ExecutionStatus::PendingRedrive,
    ];

    /// The ends an execution reaches without its own notice (a timeout, an abort, a runtime
    /// error), which the outcome rule reports.
    pub const ENDED_ABNORMALLY: [ExecutionStatus; 3] = [
        ExecutionStatus::Failed,
        ExecutionStatus::TimedOut,
        ExecutionStatus::Aborted,
    ];

    /// The value on the wire (`TIMED_OUT`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Running => "RUNNING",
            ExecutionStatus::Succeeded => "SUCCEEDED",
            ExecutionStatus::Failed => "FAILED",
            ExecutionStatus::TimedOut => "TIMED_OUT",
            ExecutionStatus::Aborted => "ABORTED",
            ExecutionStatus::PendingRedrive => "PENDING_REDRIVE",
        }
    }
}

/// The records SNS delivers to a subscribed function (the member's Slack notifier).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnsEvent {
    /// One per message.
    #[serde(rename = "Records")]
    pub records: Vec<SnsRecord>,
}

/// One SNS delivery.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnsRecord {
    /// The delivered message (`Sns`).
    #[serde(rename = "Sns", default, skip_serializing_if = "Option::is_none")]
    pub sns: Option<SnsMessage>,
    /// The rest (`EventSource`, `EventSubscriptionArn`, …), as received.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// An SNS message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnsMessage {
    /// Subject (`null` when the publisher set none).
    #[serde(rename = "Subject", default)]
    pub subject: Option<String>,
    /// The message body as published.
    #[serde(rename = "Message", default)]
    pub message: String,
    /// The rest (ids, signature, attributes), as received.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}
