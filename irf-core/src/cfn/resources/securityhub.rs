//! `AWS::SecurityHub::ActionTarget`.

use serde::Serialize;

/// `AWS::SecurityHub::ActionTarget`: a custom action in the Security Hub console.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ActionTarget {
    /// Console label.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Action id (part of its ARN).
    pub id: String,
}
