//! `AWS::Events::*`.

use serde::Serialize;

use crate::cfn::Expr;

/// `AWS::Events::Rule`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Rule {
    /// Physical name.
    pub name: Option<Expr>,
    /// What the rule matches.
    pub description: String,
    /// Bus (default bus when absent).
    pub event_bus_name: Option<Expr>,
    /// Pattern.
    pub event_pattern: Option<Expr>,
    /// Schedule.
    pub schedule_expression: Option<String>,
    /// `ENABLED`.
    pub state: String,
    /// Targets.
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
    /// Retries.
    pub retry_policy: Option<RetryPolicy>,
}

/// Delivery retries.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RetryPolicy {
    /// Seconds.
    pub maximum_event_age_in_seconds: u32,
    /// Attempts.
    pub maximum_retry_attempts: u32,
}

/// `AWS::Events::EventBus`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventBus {
    /// Name.
    pub name: Expr,
    /// What the bus carries.
    pub description: Option<String>,
    /// Resource policy (who may put events).
    pub policy: Option<crate::iam::PolicyDocument>,
}
