//! Templates: parameters, conditions, resources and outputs, emitted in rain's canonical order.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::checkov::CheckovCheck;
use super::expr::Expr;
use super::resources::Resource;

/// CloudFormation's hard limits that synthesis checks before anything is deployed.
pub mod limits {
    /// Resources per template.
    pub const RESOURCES: usize = 500;
    /// Parameters per template.
    pub const PARAMETERS: usize = 200;
    /// Outputs per template.
    pub const OUTPUTS: usize = 200;
    /// Bytes of a template uploaded to S3 (larger than the 51,200 bytes allowed inline).
    pub const TEMPLATE_BYTES: usize = 1_000_000;
}

/// A template parameter.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Parameter {
    /// What the parameter is for.
    pub description: String,
    /// `String`, `Number`, `CommaDelimitedList`, ...
    #[serde(rename = "Type")]
    pub kind: String,
    /// Regex the value must match.
    pub allowed_pattern: Option<String>,
    /// The only values accepted; empty accepts any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_values: Vec<String>,
    /// Explanation shown when the pattern does not match.
    pub constraint_description: Option<String>,
    /// Value used when the deployer passes none; `None` makes the parameter required.
    pub default: Option<String>,
}

impl Parameter {
    /// A `String` parameter.
    pub fn string(description: &str) -> Self {
        Parameter {
            description: description.to_owned(),
            kind: "String".to_owned(),
            allowed_pattern: None,
            allowed_values: Vec::new(),
            constraint_description: None,
            default: None,
        }
    }

    /// A `CommaDelimitedList` parameter.
    pub fn list(description: &str) -> Self {
        Parameter {
            kind: "CommaDelimitedList".to_owned(),
            ..Parameter::string(description)
        }
    }

    /// Restricts the value to a regex.
    pub fn pattern(mut self, regex: &str, explanation: &str) -> Self {
        self.allowed_pattern = Some(regex.to_owned());
        self.constraint_description = Some(explanation.to_owned());
        self
    }

    /// Sets a default.
    pub fn default_value(mut self, v: &str) -> Self {
        self.default = Some(v.to_owned());
        self
    }
}

/// A template output (never exported: consumers in other accounts get it as a parameter).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Output {
    /// What the value is.
    pub description: String,
    /// The value; the deployer passes it on to consuming stacks as a parameter.
    pub value: Expr,
}

/// A validator whose finding a resource suppresses, with the reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Validator {
    /// cfn-lint rule ids (`W3005`).
    CfnLint,
    /// cfn-guard rule names.
    Guard,
    /// checkov check ids (`CKV_AWS_117`); see [`ResourceEntry::skip_checkov`].
    Checkov,
}

/// A suppressed validator finding and why it does not apply.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Suppression {
    /// The tool whose finding is suppressed.
    pub validator: Validator,
    /// The tool's rule: a cfn-lint rule id, a guard rule name or a checkov check id.
    pub rule: String,
    /// Why the finding does not apply here.
    pub reason: String,
}

/// `DeletionPolicy` / `UpdateReplacePolicy` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Policy {
    /// Keep the physical resource when the stack drops it.
    Retain,
    /// Delete it (CloudFormation's default).
    Delete,
}

/// A resource with its attributes.
#[derive(Clone, Debug)]
pub struct ResourceEntry {
    /// `DeletionPolicy`: `Retain` keeps the physical resource when the stack deletes it.
    pub deletion_policy: Option<Policy>,
    /// `UpdateReplacePolicy`: `Retain` keeps the old physical resource when an update replaces it.
    pub update_replace_policy: Option<Policy>,
    /// `DependsOn` (explicit ordering beyond references).
    pub depends_on: BTreeSet<String>,
    /// `Condition`: a template condition's name; the resource exists only where it holds.
    pub condition: Option<String>,
    /// Validator suppressions, each with a reason (emitted under `Metadata`).
    pub suppressions: BTreeSet<Suppression>,
    /// The typed resource.
    pub resource: Resource,
}

impl ResourceEntry {
    /// Keeps the resource when the stack is deleted or the resource replaced.
    pub fn retain(&mut self) -> &mut Self {
        self.deletion_policy = Some(Policy::Retain);
        self.update_replace_policy = Some(Policy::Retain);
        self
    }

    /// Adds a `DependsOn`.
    pub fn depends_on(&mut self, logical_id: &str) -> &mut Self {
        self.depends_on.insert(logical_id.to_owned());
        self
    }

    /// Only creates the resource when `condition` holds.
    pub fn when(&mut self, condition: &str) -> &mut Self {
        self.condition = Some(condition.to_owned());
        self
    }

    /// Suppresses a validator rule for this resource, recording why. Panics on an empty rule or
    /// reason: a suppression nobody can review is a synthesizer bug.
    pub fn suppress(&mut self, validator: Validator, rule: &str, reason: &str) -> &mut Self {
        assert!(
            !rule.trim().is_empty() && !reason.trim().is_empty(),
            "a {validator:?} suppression needs a rule and a reason (rule {rule:?})"
        );
        self.suppressions.insert(Suppression {
            validator,
            rule: rule.to_owned(),
            reason: reason.to_owned(),
        });
        self
    }

    /// Skips a checkov check for this resource; `reason` becomes the skip's `comment`.
    pub fn skip_checkov(&mut self, check: CheckovCheck, reason: &str) -> &mut Self {
        self.suppress(Validator::Checkov, check.id(), reason)
    }
}

/// Emits `cfn-lint` and `guard` suppressions in their validators' formats with the reasons under
/// `irf:suppressions`, and checkov skips in checkov's format, whose `comment` is the reason.
struct Metadata<'a>(&'a BTreeSet<Suppression>);

impl Serialize for Metadata<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Reason<'a> {
            rule: &'a str,
            reason: &'a str,
        }
        #[derive(Serialize)]
        struct Skip<'a> {
            id: &'a str,
            comment: &'a str,
        }
        let of = |v: Validator| -> Vec<&str> {
            self.0
                .iter()
                .filter(|x| x.validator == v)
                .map(|x| x.rule.as_str())
                .collect()
        };
        let mut m = s.serialize_map(None)?;
        let lint = of(Validator::CfnLint);
        if !lint.is_empty() {
            let mut config = BTreeMap::new();
            config.insert("ignore_checks", lint);
            let mut outer = BTreeMap::new();
            outer.insert("config", config);
            m.serialize_entry("cfn-lint", &outer)?;
        }
        let guard = of(Validator::Guard);
        if !guard.is_empty() {
            let mut g = BTreeMap::new();
            g.insert("SuppressedRules", guard);
            m.serialize_entry("guard", &g)?;
        }
        let skips: Vec<Skip<'_>> = self
            .0
            .iter()
            .filter(|x| x.validator == Validator::Checkov)
            .map(|x| Skip {
                id: &x.rule,
                comment: &x.reason,
            })
            .collect();
        if !skips.is_empty() {
            let mut c = BTreeMap::new();
            c.insert("skip", skips);
            m.serialize_entry("checkov", &c)?;
        }
        let reasons: Vec<Reason<'_>> = self
            .0
            .iter()
            .filter(|x| x.validator != Validator::Checkov)
            .map(|x| Reason {
                rule: &x.rule,
                reason: &x.reason,
            })
            .collect();
        if !reasons.is_empty() {
            m.serialize_entry("irf:suppressions", &reasons)?;
        }
        m.end()
    }
}

impl Serialize for ResourceEntry {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        if let Some(p) = self.deletion_policy {
            m.serialize_entry("DeletionPolicy", &p)?;
        }
        if let Some(p) = self.update_replace_policy {
            m.serialize_entry("UpdateReplacePolicy", &p)?;
        }
        m.serialize_entry("Type", self.resource.type_name())?;
        if let Some(c) = &self.condition {
            m.serialize_entry("Condition", c)?;
        }
        if !self.depends_on.is_empty() {
            m.serialize_entry("DependsOn", &self.depends_on)?;
        }
        if !self.suppressions.is_empty() {
            m.serialize_entry("Metadata", &Metadata(&self.suppressions))?;
        }
        m.serialize_entry("Properties", &self.resource)?;
        m.end()
    }
}

/// A CloudFormation template.
#[derive(Clone, Debug)]
pub struct Template {
    /// One-paragraph description.
    pub description: String,
    /// Parameters by name.
    pub parameters: BTreeMap<String, Parameter>,
    /// Conditions by name.
    pub conditions: BTreeMap<String, Expr>,
    /// Resources by logical id.
    pub resources: BTreeMap<String, ResourceEntry>,
    /// Outputs by name.
    pub outputs: BTreeMap<String, Output>,
}

impl Serialize for Template {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("AWSTemplateFormatVersion", "2010-09-09")?;
        m.serialize_entry("Description", &self.description)?;
        if !self.parameters.is_empty() {
            m.serialize_entry("Parameters", &self.parameters)?;
        }
        if !self.conditions.is_empty() {
            m.serialize_entry("Conditions", &self.conditions)?;
        }
        m.serialize_entry("Resources", &self.resources)?;
        if !self.outputs.is_empty() {
            m.serialize_entry("Outputs", &self.outputs)?;
        }
        m.end()
    }
}

/// A structural problem in a template, found before emission.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(pub String);

/// Pseudo parameters every template may reference.
const PSEUDO: &[&str] = &[
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
];

impl Template {
    /// An empty template.
    pub fn new(description: impl Into<String>) -> Self {
        Template {
            description: description.into(),
            parameters: BTreeMap::new(),
            conditions: BTreeMap::new(),
            resources: BTreeMap::new(),
            outputs: BTreeMap::new(),
        }
    }

    /// Declares a parameter and returns `!Ref` to it.
    pub fn parameter(&mut self, name: &str, p: Parameter) -> Expr {
        let prev = self.parameters.insert(name.to_owned(), p);
        assert!(prev.is_none(), "parameter {name} declared twice");
        Expr::r#ref(name)
    }

    /// Declares a condition.
    pub fn condition(&mut self, name: &str, e: Expr) {
        let prev = self.conditions.insert(name.to_owned(), e);
        assert!(prev.is_none(), "condition {name} declared twice");
    }

    /// Adds a resource under a human-chosen, stable logical id.
    pub fn add(&mut self, logical_id: &str, resource: impl Into<Resource>) -> &mut ResourceEntry {
        assert!(
            !self.resources.contains_key(logical_id),
            "logical id {logical_id} used twice"
        );
        self.resources
            .entry(logical_id.to_owned())
            .or_insert(ResourceEntry {
                deletion_policy: None,
                update_replace_policy: None,
                depends_on: BTreeSet::new(),
                condition: None,
                suppressions: BTreeSet::new(),
                resource: resource.into(),
            })
    }

    /// Adds an output.
    pub fn output(&mut self, name: &str, description: &str, value: Expr) {
        let prev = self.outputs.insert(
            name.to_owned(),
            Output {
                description: description.to_owned(),
                value,
            },
        );
        assert!(prev.is_none(), "output {name} declared twice");
    }

    /// Resources of one kind, with their logical ids.
    pub fn resources_of<'a, T: 'a>(&'a self) -> impl Iterator<Item = (&'a str, &'a T)>
    where
        Resource: super::resources::AsKind<T>,
    {
        use super::resources::AsKind;
        self.resources
            .iter()
            .filter_map(|(id, e)| e.resource.as_kind().map(|r| (id.as_str(), r)))
    }

    /// Checks limits, logical-id syntax and that every reference resolves.
    pub fn check(&self) -> Result<(), Vec<TemplateError>> {
        let mut errors = Vec::new();
        let mut err = |m: String| errors.push(TemplateError(m));
        if self.resources.len() > limits::RESOURCES {
            err(format!(
                "{} resources exceed CloudFormation's limit of {}",
                self.resources.len(),
                limits::RESOURCES
            ));
        }
        if self.parameters.len() > limits::PARAMETERS {
            err(format!(
                "{} parameters exceed the limit",
                self.parameters.len()
            ));
        }
        if self.outputs.len() > limits::OUTPUTS {
            err(format!("{} outputs exceed the limit", self.outputs.len()));
        }
        let known: BTreeSet<&str> = self
            .resources
            .keys()
            .chain(self.parameters.keys())
            .map(String::as_str)
            .chain(PSEUDO.iter().copied())
            .collect();
        for id in self.resources.keys().chain(self.outputs.keys()) {
            if id.is_empty() || id.len() > 255 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
                err(format!(
                    "logical id {id:?} must be 1..255 ASCII letters and digits"
                ));
            }
        }
        let unknown = |owner: &str, refs: Vec<String>| -> Vec<String> {
            refs.into_iter()
                .filter(|r| !known.contains(r.as_str()))
                .map(|r| format!("{owner} references unknown {r:?}"))
                .collect()
        };
        for (id, entry) in &self.resources {
            let mut refs = Vec::new();
            entry.resource.references(&mut refs);
            refs.extend(entry.depends_on.iter().cloned());
            unknown(id, refs).into_iter().for_each(&mut err);
            if let Some(c) = &entry.condition
                && !self.conditions.contains_key(c)
            {
                err(format!("{id} uses unknown condition {c:?}"));
            }
        }
        for (name, out) in &self.outputs {
            let mut refs = Vec::new();
            out.value.references(&mut refs);
            unknown(name, refs).into_iter().for_each(&mut err);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Emits the template as YAML (see [`super::yaml`]).
    pub fn to_yaml(&self) -> String {
        super::yaml::emit(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::resources::logs;

    fn with_log_group() -> Template {
        let mut t = Template::new("test");
        t.add(
            "Logs",
            logs::LogGroup {
                log_group_name: None,
                kms_key_id: None,
                retention_in_days: 30,
            },
        );
        t
    }

    #[test]
    fn checkov_skips_use_checkovs_format_with_the_reason_as_comment() {
        let mut t = with_log_group();
        t.resources
            .get_mut("Logs")
            .unwrap()
            .skip_checkov(CheckovCheck::LambdaInVpc, "why not")
            .suppress(Validator::Guard, "log_groups_encrypted", "why not either");
        let yaml = t.to_yaml();
        assert!(
            yaml.contains(
                "    Metadata:\n      guard:\n        SuppressedRules:\n        - log_groups_encrypted\n      checkov:\n        skip:\n        - id: CKV_AWS_117\n          comment: why not\n      \"irf:suppressions\":\n      - Rule: log_groups_encrypted\n        Reason: why not either\n"
            ),
            "{yaml}"
        );
    }

    #[test]
    fn checkov_skips_alone_need_no_irf_suppressions() {
        let mut t = with_log_group();
        t.resources
            .get_mut("Logs")
            .unwrap()
            .skip_checkov(CheckovCheck::LambdaDeadLetterQueue, "synchronous only");
        let yaml = t.to_yaml();
        assert!(
            yaml.contains("      checkov:\n        skip:\n        - id: CKV_AWS_116\n          comment: synchronous only\n    Properties:"),
            "{yaml}"
        );
        assert!(!yaml.contains("irf:suppressions"), "{yaml}");
    }

    #[test]
    #[should_panic(expected = "needs a rule and a reason")]
    fn a_suppression_without_a_reason_is_refused() {
        with_log_group()
            .resources
            .get_mut("Logs")
            .unwrap()
            .skip_checkov(CheckovCheck::LambdaInVpc, " ");
    }
}
