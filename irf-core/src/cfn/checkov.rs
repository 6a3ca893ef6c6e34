//! The checkov checks an IRF resource may skip, typed so a skip names a known check and says
//! what the check asks for. A skip is emitted as checkov's own
//! `Metadata.checkov.skip: [{id, comment}]`, the comment being the reason a reviewer checks.

/// A checkov check (`CKV_AWS_*`) that some IRF resource skips with a reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CheckovCheck {
    /// `CKV_AWS_18`: the S3 bucket has server access logging enabled.
    S3AccessLogging,
    /// `CKV_AWS_35`: the CloudTrail trail encrypts its log files with a KMS key.
    TrailKmsEncrypted,
    /// `CKV_AWS_88`: an instance or launch template assigns no public IP.
    NoPublicIp,
    /// `CKV_AWS_115`: the Lambda function has reserved concurrency.
    LambdaReservedConcurrency,
    /// `CKV_AWS_116`: the Lambda function has a dead-letter queue.
    LambdaDeadLetterQueue,
    /// `CKV_AWS_117`: the Lambda function runs in a VPC.
    LambdaInVpc,
    /// `CKV_AWS_173`: the Lambda function encrypts its environment with a customer KMS key.
    LambdaEnvironmentKms,
}

impl CheckovCheck {
    /// The check id checkov reports and reads in `Metadata.checkov.skip[].id`.
    pub fn id(self) -> &'static str {
        match self {
            CheckovCheck::S3AccessLogging => "CKV_AWS_18",
            CheckovCheck::TrailKmsEncrypted => "CKV_AWS_35",
            CheckovCheck::NoPublicIp => "CKV_AWS_88",
            CheckovCheck::LambdaReservedConcurrency => "CKV_AWS_115",
            CheckovCheck::LambdaDeadLetterQueue => "CKV_AWS_116",
            CheckovCheck::LambdaInVpc => "CKV_AWS_117",
            CheckovCheck::LambdaEnvironmentKms => "CKV_AWS_173",
        }
    }
}
