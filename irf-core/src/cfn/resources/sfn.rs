//! `AWS::StepFunctions::StateMachine`.

use indexmap::IndexMap;
use serde::Serialize;

use super::Tag;
use crate::asl;
use crate::cfn::Expr;

/// `AWS::StepFunctions::StateMachine`, with the definition as a typed ASL mapping (cfn-lint
/// validates it) and ARNs passed through `DefinitionSubstitutions`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StateMachine {
    /// Physical name (`<prefix>-...`); `None` gets a generated one.
    pub state_machine_name: Option<Expr>,
    /// `STANDARD`.
    pub state_machine_type: String,
    /// ARN of the role executions run as.
    pub role_arn: Expr,
    /// Typed ASL, emitted as the `Definition` mapping.
    pub definition: asl::StateMachine,
    /// `${Name}` placeholders in the definition and their values.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub definition_substitutions: IndexMap<String, Expr>,
    /// Execution history logging.
    pub logging_configuration: Option<LoggingConfiguration>,
    /// X-Ray tracing of executions.
    pub tracing_configuration: Option<TracingConfiguration>,
    /// Resource tags beyond the stack tags, which CloudFormation propagates.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

/// Execution logging.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfiguration {
    /// Log groups the execution history goes to (Step Functions takes one).
    pub destinations: Vec<LogDestination>,
    /// Whether the logs carry each state's input and output, not only the events.
    pub include_execution_data: bool,
    /// `ALL`.
    pub level: String,
}

/// Where the execution history is logged.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LogDestination {
    /// The log group, by ARN.
    pub cloud_watch_logs_log_group: LogGroupRef,
}

/// A log group by ARN.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LogGroupRef {
    /// ARN of the log group (ending in `:*`).
    pub log_group_arn: Expr,
}

/// X-Ray tracing.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TracingConfiguration {
    /// Whether executions are traced with X-Ray.
    pub enabled: bool,
}
