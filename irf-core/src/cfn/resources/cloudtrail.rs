//! `AWS::CloudTrail::Trail`.

use serde::Serialize;

use crate::cfn::Expr;

/// `AWS::CloudTrail::Trail`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Trail {
    /// Name.
    pub trail_name: Option<Expr>,
    /// Bucket.
    pub s3_bucket_name: Expr,
    /// Logging on.
    pub is_logging: bool,
    /// Digest files.
    pub enable_log_file_validation: bool,
    /// IAM, STS, ...
    pub include_global_service_events: bool,
    /// All regions.
    pub is_multi_region_trail: bool,
    /// Log encryption key.
    #[serde(rename = "KMSKeyId")]
    pub kms_key_id: Option<Expr>,
    /// Data and management event selection.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub advanced_event_selectors: Vec<AdvancedEventSelector>,
}

/// An advanced event selector.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdvancedEventSelector {
    /// Name.
    pub name: String,
    /// Field conditions.
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
