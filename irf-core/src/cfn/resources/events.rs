//! `AWS::Events::*`.

use serde::Serialize;

use crate::cfn::Expr;

/// `AWS::Events::Rule`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Rule {
    /// Physical name (`<prefix>-...`); `None` gets a generated one.
    pub name: Option<Expr>,
    /// What the rule matches.
    pub description: String,
    /// Bus (default bus when absent).
    pub event_bus_name: Option<Expr>,
    /// Events the rule matches (JSON pattern); set this or `schedule_expression`.
    pub event_pattern: Option<Expr>,
    /// `cron(...)` or `rate(...)`: the rule fires on a schedule instead of on events.
    pub schedule_expression: Option<String>,
    /// `ENABLED`.
    pub state: String,
    /// Where matching events are sent (at most five per rule).
    pub targets: Vec<Target>,
}

/// A rule target.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Target {
    /// Target ARN.
    pub arn: Expr,
    /// Target id within the rule.
    pub id: String,
    /// Role EventBridge assumes (cross-account buses, Step Functions).
    pub role_arn: Option<Expr>,
    /// How long and how often EventBridge retries a failed delivery; `None` keeps its default.
    pub retry_policy: Option<RetryPolicy>,
}

/// Delivery retries.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RetryPolicy {
    /// Age in seconds after which an undelivered event is dropped (60..=86,400).
    pub maximum_event_age_in_seconds: u32,
    /// Retries before an event is dropped (0..=185).
    pub maximum_retry_attempts: u32,
}

/// `AWS::Events::EventBus`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventBus {
    /// Bus name (not an ARN), unique in the account and region.
    pub name: Expr,
    /// What the bus carries.
    pub description: Option<String>,
    /// Resource policy (who may put events).
    pub policy: Option<crate::iam::PolicyDocument>,
}
