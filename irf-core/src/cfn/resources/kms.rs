//! `AWS::KMS::*`.

use serde::Serialize;

use super::Tag;
use crate::cfn::Expr;

/// `AWS::KMS::Key`. The key policy is a JSON string (see
/// [`crate::iam::PolicyDocument::to_sub_json`]).
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Key {
    /// What the key protects.
    pub description: String,
    /// Rotation (symmetric keys only).
    pub enable_key_rotation: Option<bool>,
    /// The key policy as a JSON string (often a `!Sub`, to fill in account and partition).
    pub key_policy: Expr,
    /// `SYMMETRIC_DEFAULT`, `ECC_NIST_P256`, ...
    pub key_spec: Option<String>,
    /// `ENCRYPT_DECRYPT` or `SIGN_VERIFY`.
    pub key_usage: Option<String>,
    /// Days before deletion completes.
    pub pending_window_in_days: Option<u32>,
    /// Resource tags beyond the stack tags, which CloudFormation propagates.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

/// `AWS::KMS::Alias`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Alias {
    /// Alias name, `alias/...` (e.g. `alias/ir/ebs`); unique in the account and region.
    pub alias_name: String,
    /// Id or ARN of the key the alias points to.
    pub target_key_id: Expr,
}
