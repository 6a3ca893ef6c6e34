//! `AWS::SQS::*`.

use serde::Serialize;

use super::Tag;
use crate::cfn::Expr;

/// `AWS::SQS::Queue`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Queue {
    /// Physical name (at most 80 characters).
    pub queue_name: Option<Expr>,
    /// SSE-KMS key (id, ARN or alias) that encrypts the messages.
    pub kms_master_key_id: Option<Expr>,
    /// Seconds a message is kept, 60..=1,209,600 (14 days); SQS's default is 4 days.
    pub message_retention_period: Option<u32>,
    /// Resource tags beyond the stack tags, which CloudFormation propagates.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}
