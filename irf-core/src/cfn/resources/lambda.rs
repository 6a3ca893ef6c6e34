//! `AWS::Lambda::*`.

use indexmap::IndexMap;
use serde::Serialize;

use super::Tag;
use crate::cfn::Expr;

/// `AWS::Lambda::Function`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Function {
    /// Physical name.
    pub function_name: Option<Expr>,
    /// What the function does.
    pub description: Option<String>,
    /// `arm64` or `x86_64`.
    pub architectures: Vec<String>,
    /// Code location.
    pub code: Code,
    /// Where asynchronous invocations that failed every retry go.
    pub dead_letter_config: Option<DeadLetterConfig>,
    /// Environment variables.
    pub environment: Option<Environment>,
    /// `bootstrap` for custom runtimes.
    pub handler: String,
    /// Log group and format.
    pub logging_config: Option<LoggingConfig>,
    /// MiB.
    pub memory_size: u32,
    /// Reserved concurrency.
    pub reserved_concurrent_executions: Option<u32>,
    /// Execution role.
    pub role: Expr,
    /// `provided.al2023`.
    pub runtime: String,
    /// Seconds.
    pub timeout: u32,
    /// X-Ray.
    pub tracing_config: Option<TracingConfig>,
    /// VPC attachment.
    pub vpc_config: Option<VpcConfig>,
    /// Tags.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

/// Code in S3.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Code {
    /// Bucket.
    pub s3_bucket: Expr,
    /// Key.
    pub s3_key: Expr,
}

/// Dead-letter target of asynchronous invocations (the events EventBridge or SNS handed to
/// Lambda that still failed after Lambda's retries).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeadLetterConfig {
    /// SQS queue or SNS topic ARN.
    pub target_arn: Expr,
}

/// Environment variables.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Environment {
    /// Variables, in insertion order.
    pub variables: IndexMap<String, Expr>,
}

/// Logging settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfig {
    /// `JSON`.
    pub log_format: String,
    /// Log group name.
    pub log_group: Expr,
}

/// Tracing.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TracingConfig {
    /// `Active`.
    pub mode: String,
}

/// VPC attachment.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpcConfig {
    /// Security groups.
    pub security_group_ids: Vec<Expr>,
    /// Subnets (a list, or a `CommaDelimitedList` parameter).
    pub subnet_ids: Expr,
}

/// `AWS::Lambda::Permission`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Permission {
    /// `lambda:InvokeFunction`.
    pub action: String,
    /// Function.
    pub function_name: Expr,
    /// Service principal.
    pub principal: String,
    /// Only this account's resources may invoke.
    pub source_account: Option<Expr>,
    /// Only this resource may invoke.
    pub source_arn: Option<Expr>,
}
