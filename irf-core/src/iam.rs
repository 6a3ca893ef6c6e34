//! Typed IAM policy documents.
//!
//! Statements are built with [`Statement::allow`] / [`Statement::deny`] and refined with
//! resources, principals and conditions. A wildcard action (`"*"`) can only be written through
//! [`Statement::any_action`], which demands a reason that ends up as the statement's `Sid`, so
//! every wildcard is visible and explained in review.

use indexmap::IndexMap;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::cfn::Expr;

/// `Allow` or `Deny`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Effect {
    /// Grants.
    Allow,
    /// Denies, overriding any allow.
    Deny,
}

/// Who a resource policy or trust policy applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// IAM principals (account roots, roles) by ARN.
    Aws(Vec<Expr>),
    /// AWS service principals such as `lambda.amazonaws.com`.
    Service(Vec<Expr>),
    /// Everyone (`"*"`); always paired with conditions in this codebase.
    Anyone,
}

impl Serialize for Principal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Principal::Anyone => s.serialize_str("*"),
            Principal::Aws(v) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("AWS", v)?;
                m.end()
            }
            Principal::Service(v) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("Service", v)?;
                m.end()
            }
        }
    }
}

/// One policy statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    /// Statement id (also the reason of a wildcard).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Allow or deny.
    pub effect: Effect,
    /// Principals (resource and trust policies only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<Principal>,
    /// Actions as `service:Action`, e.g. `s3:GetObject`.
    #[serde(rename = "Action")]
    pub actions: Vec<String>,
    /// Resources (omitted in trust policies).
    #[serde(rename = "Resource", skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Expr>,
    /// Conditions: operator → key → values.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub condition: IndexMap<String, IndexMap<String, Expr>>,
}

impl Statement {
    fn new(effect: Effect, actions: &[&str]) -> Self {
        assert!(
            actions.iter().all(|a| *a != "*"),
            "use Statement::any_action for \"*\", with a reason"
        );
        Statement {
            sid: None,
            effect,
            principal: None,
            actions: actions.iter().map(|a| (*a).to_owned()).collect(),
            resources: Vec::new(),
            condition: IndexMap::new(),
        }
    }

    /// Allows `actions`.
    pub fn allow(actions: &[&str]) -> Self {
        Statement::new(Effect::Allow, actions)
    }

    /// Denies `actions`.
    pub fn deny(actions: &[&str]) -> Self {
        Statement::new(Effect::Deny, actions)
    }

    /// A statement over every action (`"*"`), with the reason recorded as its `Sid`.
    pub fn any_action(effect: Effect, reason_sid: &str) -> Self {
        Statement {
            sid: Some(reason_sid.to_owned()),
            effect,
            principal: None,
            actions: vec!["*".to_owned()],
            resources: Vec::new(),
            condition: IndexMap::new(),
        }
    }

    /// Sets the statement id.
    pub fn sid(mut self, sid: &str) -> Self {
        self.sid = Some(sid.to_owned());
        self
    }

    /// Adds resources.
    pub fn on(mut self, resources: impl IntoIterator<Item = Expr>) -> Self {
        self.resources.extend(resources);
        self
    }

    /// Applies to every resource (`"*"`), for actions that support no resource-level scoping.
    pub fn on_all(mut self) -> Self {
        self.resources.push(Expr::s("*"));
        self
    }

    /// Sets the principal.
    pub fn principal(mut self, p: Principal) -> Self {
        self.principal = Some(p);
        self
    }

    /// Adds a condition `operator: { key: values }`.
    pub fn when(mut self, operator: &str, key: &str, values: impl Into<Expr>) -> Self {
        self.condition
            .entry(operator.to_owned())
            .or_default()
            .insert(key.to_owned(), values.into());
        self
    }
}

/// A policy document (`Version: 2012-10-17`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyDocument {
    /// Statements, in order.
    pub statements: Vec<Statement>,
}

impl Serialize for PolicyDocument {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("Version", "2012-10-17")?;
        m.serialize_entry("Statement", &self.statements)?;
        m.end()
    }
}

impl PolicyDocument {
    /// A document from statements.
    pub fn new(statements: impl IntoIterator<Item = Statement>) -> Self {
        PolicyDocument {
            statements: statements.into_iter().collect(),
        }
    }

    /// A trust policy letting AWS services assume a role.
    pub fn service_trust(services: &[&str]) -> Self {
        PolicyDocument::new([
            Statement::allow(&["sts:AssumeRole"]).principal(Principal::Service(
                services.iter().map(|s| Expr::s(*s)).collect(),
            )),
        ])
    }

    /// Every action in the document (for reviews and tests).
    pub fn actions(&self) -> impl Iterator<Item = &str> {
        self.statements
            .iter()
            .flat_map(|s| s.actions.iter().map(String::as_str))
    }

    /// The document as pretty-printed JSON inside `!Sub`, with intrinsic values as `${...}`.
    ///
    /// KMS key policies are written this way: the emulator mishandles object-form key policies,
    /// and the JSON stays readable in review. Returns `None` if a value cannot be expressed in a
    /// `Sub` template (e.g. `!Join`).
    pub fn to_sub_json(&self) -> Option<Expr> {
        let escaped = self.to_json(true)?;
        let plain = self.to_json(false)?;
        if escaped == plain && !plain.contains("${") {
            Some(Expr::Str(plain))
        } else {
            Some(Expr::Sub(escaped))
        }
    }

    fn to_json(&self, as_sub: bool) -> Option<String> {
        let convert = |e: &Expr| -> Option<serde_json::Value> { expr_to_json(e, as_sub) };
        let mut statements = Vec::new();
        for st in &self.statements {
            let mut o = serde_json::Map::new();
            if let Some(sid) = &st.sid {
                o.insert("Sid".into(), sid.clone().into());
            }
            o.insert(
                "Effect".into(),
                match st.effect {
                    Effect::Allow => "Allow",
                    Effect::Deny => "Deny",
                }
                .into(),
            );
            if let Some(p) = &st.principal {
                let v = match p {
                    Principal::Anyone => serde_json::Value::from("*"),
                    Principal::Aws(v) | Principal::Service(v) => {
                        let key = if matches!(p, Principal::Aws(_)) {
                            "AWS"
                        } else {
                            "Service"
                        };
                        let list: Option<Vec<_>> = v.iter().map(convert).collect();
                        serde_json::json!({ key: list? })
                    }
                };
                o.insert("Principal".into(), v);
            }
            o.insert("Action".into(), st.actions.clone().into());
            if !st.resources.is_empty() {
                let list: Option<Vec<_>> = st.resources.iter().map(convert).collect();
                o.insert("Resource".into(), list?.into());
            }
            if !st.condition.is_empty() {
                let mut c = serde_json::Map::new();
                for (op, kv) in &st.condition {
                    let mut inner = serde_json::Map::new();
                    for (k, v) in kv {
                        inner.insert(k.clone(), convert(v)?);
                    }
                    c.insert(op.clone(), inner.into());
                }
                o.insert("Condition".into(), c.into());
            }
            statements.push(serde_json::Value::Object(o));
        }
        let doc = serde_json::json!({ "Version": "2012-10-17", "Statement": statements });
        serde_json::to_string_pretty(&doc).ok()
    }
}

fn expr_to_json(e: &Expr, as_sub: bool) -> Option<serde_json::Value> {
    match e {
        Expr::Str(s) if !as_sub => Some(s.clone().into()),
        Expr::Bool(b) => Some((*b).into()),
        Expr::Int(i) => Some((*i).into()),
        Expr::List(v) => v
            .iter()
            .map(|x| expr_to_json(x, as_sub))
            .collect::<Option<Vec<_>>>()
            .map(Into::into),
        other => other.to_sub_fragment().map(Into::into),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "any_action")]
    fn wildcard_needs_a_reason() {
        let _ = Statement::allow(&["*"]);
    }

    #[test]
    fn sub_json_form() {
        let doc = PolicyDocument::new([Statement::allow(&["kms:Decrypt"])
            .principal(Principal::Aws(vec![Expr::arn("Role")]))
            .on_all()
            .when(
                "StringEquals",
                "kms:ViaService",
                Expr::sub("ec2.${AWS::Region}.amazonaws.com"),
            )]);
        let Some(Expr::Sub(json)) = doc.to_sub_json() else {
            panic!("expected a Sub")
        };
        assert!(json.contains("\"AWS\": [\n"));
        assert!(json.contains("\"${Role.Arn}\""));
        assert!(json.contains("\"ec2.${AWS::Region}.amazonaws.com\""));
        let literal = PolicyDocument::new([Statement::allow(&["s3:GetObject"]).on_all()]);
        assert!(matches!(literal.to_sub_json(), Some(Expr::Str(_))));
    }
}
