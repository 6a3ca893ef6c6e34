//! `AWS::IAM::*`.

use serde::Serialize;

use super::Tag;
use crate::cfn::Expr;
use crate::iam::PolicyDocument;

/// `AWS::IAM::Role`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Role {
    /// Physical name (contract roles only; others get generated names).
    pub role_name: Option<String>,
    /// What the role is for.
    pub description: Option<String>,
    /// Trust policy: who may assume the role.
    pub assume_role_policy_document: PolicyDocument,
    /// Managed policies attached to the role, as ARNs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub managed_policy_arns: Vec<Expr>,
    /// Longest session, in seconds.
    pub max_session_duration: Option<u32>,
    /// Policies embedded in the role.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<InlinePolicy>,
    /// Resource tags beyond the stack tags, which CloudFormation propagates.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

impl Role {
    /// A role trusted by `trust`, with no permissions yet.
    pub fn new(trust: PolicyDocument) -> Self {
        Role {
            role_name: None,
            description: None,
            assume_role_policy_document: trust,
            managed_policy_arns: Vec::new(),
            max_session_duration: None,
            policies: Vec::new(),
            tags: Vec::new(),
        }
    }

    /// Adds an inline policy.
    pub fn inline(mut self, name: &str, doc: PolicyDocument) -> Self {
        self.policies.push(InlinePolicy {
            policy_name: name.to_owned(),
            policy_document: doc,
        });
        self
    }

    /// Attaches an AWS-managed policy by name.
    pub fn managed(mut self, name: &str) -> Self {
        self.managed_policy_arns.push(Expr::sub(format!(
            "arn:${{AWS::Partition}}:iam::aws:policy/{name}"
        )));
        self
    }
}

/// An inline role policy.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InlinePolicy {
    /// Name of the policy, unique among the role's inline policies.
    pub policy_name: String,
    /// The permissions it grants.
    pub policy_document: PolicyDocument,
}

/// `AWS::IAM::InstanceProfile`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceProfile {
    /// Physical name (contract profiles such as `IRInstanceProfile`); `None` gets a generated one.
    pub instance_profile_name: Option<String>,
    /// The role (one).
    pub roles: Vec<Expr>,
}

/// `AWS::IAM::ManagedPolicy`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ManagedPolicy {
    /// What it grants.
    pub description: Option<String>,
    /// The permissions it grants.
    pub policy_document: PolicyDocument,
    /// Roles it is attached to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<Expr>,
}
