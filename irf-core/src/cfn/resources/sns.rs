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
    /// Physical name (`<prefix>-...`); `None` gets a generated one.
    pub topic_name: Option<Expr>,
    /// Sender name shown in email and SMS messages from the topic.
    pub display_name: Option<String>,
    /// KMS key (id, ARN or alias) encrypting the topic's messages at rest.
    pub kms_master_key_id: Option<Expr>,
    /// Resource tags beyond the stack tags, which CloudFormation propagates.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

/// `AWS::SNS::TopicPolicy`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TopicPolicy {
    /// Who may publish to or subscribe to the topics.
    pub policy_document: PolicyDocument,
    /// ARNs of the topics the policy applies to.
    pub topics: Vec<Expr>,
}

/// `AWS::SNS::Subscription`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Subscription {
    /// ARN of the topic subscribed to.
    pub topic_arn: Expr,
    /// `lambda`, `email`.
    pub protocol: String,
    /// What receives the messages: a function ARN for `lambda`, an address for `email`.
    pub endpoint: Expr,
}
