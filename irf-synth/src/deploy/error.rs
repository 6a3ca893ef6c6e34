//! What can go wrong while deploying or destroying.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use irf_sdk_error::AwsErrorInfo;

/// A deployment failure.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// An AWS call failed.
    #[error("{context}: {info}")]
    Aws {
        /// The call and its subject, e.g. `s3:CreateBucket my-bucket`.
        context: String,
        /// What the SDK error says (code, message, status, request id); boxed, because it is
        /// large and every `Result` of the deployer carries this type.
        info: Box<AwsErrorInfo>,
    },
    /// A stack operation failed.
    #[error("stack {stack}: {message}{}", failure_lines(failures))]
    Stack {
        /// The stack (or StackSet) name.
        stack: String,
        /// What happened.
        message: String,
        /// Failed resources with their reasons, oldest first.
        failures: Vec<String>,
    },
    /// A stack is in a state the deployer does not repair.
    #[error("stack {stack} is {status}; the deployer will not touch it: {advice}")]
    Blocked {
        /// Name of the blocked stack.
        stack: String,
        /// Its CloudFormation status, e.g. `UPDATE_ROLLBACK_FAILED`.
        status: String,
        /// What the operator can do about it.
        advice: String,
    },
    /// Building or uploading the runtime asset failed.
    #[error("runtime asset: {0}")]
    Asset(String),
    /// The synth directory is unusable.
    #[error("synth directory {dir}: {message}")]
    Synth {
        /// The directory as given.
        dir: String,
        /// What is wrong.
        message: String,
    },
}

fn failure_lines(failures: &[String]) -> String {
    failures.iter().map(|f| format!("\n    - {f}")).collect()
}

impl DeployError {
    /// Wraps an SDK error with what was being done.
    pub fn aws<E>(context: &str, e: SdkError<E, HttpResponse>) -> Self
    where
        E: std::error::Error + ProvideErrorMetadata + 'static,
    {
        DeployError::from_aws_info(context, AwsErrorInfo::of(&e))
    }

    /// An AWS call failed with an SDK error already read (to match on its code first).
    pub fn from_aws_info(context: &str, info: AwsErrorInfo) -> Self {
        DeployError::Aws {
            context: context.to_owned(),
            info: Box::new(info),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_as_one_line_per_failed_resource() {
        let e = DeployError::from_aws_info(
            "s3:CreateBucket b",
            AwsErrorInfo::from_parts(Some("AccessDenied"), Some("no"), Some(403), true),
        );
        assert_eq!(e.to_string(), "s3:CreateBucket b: AccessDenied: no");
        let e = DeployError::Stack {
            stack: "s".to_owned(),
            message: "ended in ROLLBACK_COMPLETE".to_owned(),
            failures: vec!["Fn (AWS::Lambda::Function): bad role".to_owned()],
        };
        assert_eq!(
            e.to_string(),
            "stack s: ended in ROLLBACK_COMPLETE\n    - Fn (AWS::Lambda::Function): bad role"
        );
    }
}
