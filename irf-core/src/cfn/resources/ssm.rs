//! `AWS::SSM::*`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cfn::Expr;

/// `AWS::SSM::Parameter`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Parameter {
    /// Parameter name, a path such as `/<prefix>/...`.
    pub name: Expr,
    /// What the value is.
    pub description: Option<String>,
    /// `String` or `StringList`.
    #[serde(rename = "Type")]
    pub kind: String,
    /// The stored value (comma-separated for a `StringList`).
    pub value: Expr,
    /// Tags (a map for this type).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// `AWS::SSM::Document`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Document {
    /// Physical document name; `None` gets a generated one.
    pub name: Option<Expr>,
    /// `Command`, `Session`.
    pub document_type: String,
    /// Always explicit (the emulator needs it).
    pub document_format: String,
    /// Content (a mapping).
    pub content: Expr,
    /// `NewVersion` so updates keep the name.
    pub update_method: Option<String>,
}
