//! `AWS::CloudTrail::Trail`.

use serde::Serialize;

use crate::cfn::Expr;

/// `AWS::CloudTrail::Trail`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Trail {
    /// Physical trail name; `None` lets CloudFormation generate one.
    pub trail_name: Option<Expr>,
    /// Bucket CloudTrail delivers the log files and digest files to.
    pub s3_bucket_name: Expr,
    /// Whether the trail records events (required by CloudFormation).
    pub is_logging: bool,
    /// Writes signed hourly digest files, so that a changed or deleted log file can be detected.
    pub enable_log_file_validation: bool,
    /// Also records events of global services (IAM, STS, CloudFront).
    pub include_global_service_events: bool,
    /// Records the events of every region, not only the stack's.
    pub is_multi_region_trail: bool,
    /// KMS key encrypting the log files; `None` leaves them SSE-S3.
    #[serde(rename = "KMSKeyId")]
    pub kms_key_id: Option<Expr>,
    /// Data and management event selection.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub advanced_event_selectors: Vec<AdvancedEventSelector>,
}

/// One advanced event selector: an event is logged when it matches all its field conditions.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdvancedEventSelector {
    /// Label of the selector; it does not affect matching.
    pub name: String,
    /// Field conditions, all of which must hold.
    pub field_selectors: Vec<FieldSelector>,
}

/// One field condition.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FieldSelector {
    /// `eventCategory`, `resources.type`, `resources.ARN`.
    pub field: String,
    /// Exact matches.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub equals: Vec<Expr>,
    /// Prefix matches.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub starts_with: Vec<Expr>,
}
