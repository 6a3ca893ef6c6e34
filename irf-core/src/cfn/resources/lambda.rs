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
    /// Physical name (`<prefix>-...`); `None` gets a generated one.
    pub function_name: Option<Expr>,
    /// What the function does.
    pub description: Option<String>,
    /// `arm64` or `x86_64`.
    pub architectures: Vec<String>,
    /// Bucket and key of the deployment package.
    pub code: Code,
    /// Where asynchronous invocations that failed every retry go.
    pub dead_letter_config: Option<DeadLetterConfig>,
    /// Environment variables of the function.
    pub environment: Option<Environment>,
    /// `bootstrap` for custom runtimes.
    pub handler: String,
    /// Log group and format.
    pub logging_config: Option<LoggingConfig>,
    /// Memory in MiB (128..=10,240); CPU is allocated in proportion.
    pub memory_size: u32,
    /// Concurrent executions reserved for the function, which also caps it; `None` draws on the
    /// account's unreserved pool.
    pub reserved_concurrent_executions: Option<u32>,
    /// ARN of the execution role the function runs as.
    pub role: Expr,
    /// `provided.al2023`.
    pub runtime: String,
    /// Longest invocation, in seconds (at most 900).
    pub timeout: u32,
    /// X-Ray tracing mode.
    pub tracing_config: Option<TracingConfig>,
    /// Subnets and security groups, for functions that run inside a VPC.
    pub vpc_config: Option<VpcConfig>,
    /// Resource tags beyond the stack tags, which CloudFormation propagates.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

/// Code in S3.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Code {
    /// Bucket holding the asset zip (`<prefix>-assets-<account>-<region>`, a stack parameter).
    pub s3_bucket: Expr,
    /// Key of the asset zip (content-hashed, a stack parameter).
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
    /// Name of the log group the function writes to.
    pub log_group: Expr,
}

/// X-Ray tracing of the function.
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
    /// Ids of the security groups of the function's network interfaces.
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
    /// Name or ARN of the function the permission is on.
    pub function_name: Expr,
    /// Service that may invoke the function, e.g. `events.amazonaws.com`.
    pub principal: String,
    /// Only this account's resources may invoke.
    pub source_account: Option<Expr>,
    /// Only this resource may invoke.
    pub source_arn: Option<Expr>,
}
