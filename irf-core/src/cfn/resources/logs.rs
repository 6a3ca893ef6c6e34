//! `AWS::Logs::*`.

use serde::Serialize;

use crate::cfn::Expr;

/// `AWS::Logs::LogGroup`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LogGroup {
    /// Name.
    pub log_group_name: Option<Expr>,
    /// Encryption key.
    pub kms_key_id: Option<Expr>,
    /// Days.
    pub retention_in_days: u32,
}
