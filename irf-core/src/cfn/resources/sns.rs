//! `AWS::SNS::*`.

use serde::Serialize;

use super::Tag;
use crate::cfn::Expr;
use crate::iam::PolicyDocument;

/// `AWS::SNS::Topic`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Topic {
    /// Physical name.
    pub topic_name: Option<Expr>,
    /// Display name.
    pub display_name: Option<String>,
    /// SSE key.
    pub kms_master_key_id: Option<Expr>,
    /// Tags.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

/// `AWS::SNS::TopicPolicy`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TopicPolicy {
    /// Policy.
    pub policy_document: PolicyDocument,
    /// Topics.
    pub topics: Vec<Expr>,
}

/// `AWS::SNS::Subscription`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Subscription {
    /// Topic.
    pub topic_arn: Expr,
    /// `lambda`, `email`.
    pub protocol: String,
    /// Endpoint.
    pub endpoint: Expr,
}
