//! `AWS::Logs::*`.

use serde::Serialize;

use crate::cfn::Expr;

/// `AWS::Logs::LogGroup`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LogGroup {
    /// Physical name (`/aws/lambda/<function>`, `/aws/vendedlogs/states/...`); `None` gets a
    /// generated one.
    pub log_group_name: Option<Expr>,
    /// KMS key ARN encrypting the group's events; `None` leaves CloudWatch Logs' own encryption.
    pub kms_key_id: Option<Expr>,
    /// Days events are kept; one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, ...).
    pub retention_in_days: u32,
}
