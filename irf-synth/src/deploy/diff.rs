//! Resource-level differences between a deployed template and a synthesized one.
//!
//! Both sides are templates this synthesizer emitted (GetTemplate returns the exact body that
//! was deployed), so their canonical layout lets a resource be cut out by its two-space-indented
//! logical id under `Resources:`.

use std::collections::BTreeMap;

/// How a resource changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// New resource.
    Add,
    /// Removed resource.
    Remove,
    /// Changed properties or attributes.
    Modify,
}

/// One resource change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Add, remove or modify.
    pub action: Action,
    /// Logical id of the resource.
    pub logical_id: String,
    /// CloudFormation type, e.g. `AWS::S3::Bucket`.
    pub resource_type: String,
    /// Replacement as CloudFormation evaluated it (`True`, `Conditional`, `False`), when known.
    pub replacement: Option<String>,
}

/// Each resource's type and text, by logical id.
pub fn resource_blocks(template: &str) -> BTreeMap<String, (String, String)> {
    let mut blocks = BTreeMap::new();
    let mut in_resources = false;
    let mut current: Option<(String, String, String)> = None;
    for line in template.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            in_resources = line == "Resources:";
            if let Some((id, ty, text)) = current.take() {
                blocks.insert(id, (ty, text));
            }
            continue;
        }
        if !in_resources {
            continue;
        }
        if let Some(id) = line
            .strip_prefix("  ")
            .filter(|l| !l.starts_with(' '))
            .and_then(|l| l.strip_suffix(':'))
        {
            if let Some((old, ty, text)) = current.take() {
                blocks.insert(old, (ty, text));
            }
            current = Some((id.to_owned(), String::new(), String::new()));
            continue;
        }
        if let Some((_, ty, text)) = current.as_mut() {
            if let Some(t) = line.strip_prefix("    Type: ") {
                *ty = t.to_owned();
            }
            text.push_str(line);
            text.push('\n');
        }
    }
    if let Some((id, ty, text)) = current {
        blocks.insert(id, (ty, text));
    }
    blocks
}

/// Resource changes from `deployed` to `synthesized`.
pub fn diff_templates(deployed: &str, synthesized: &str) -> Vec<Change> {
    let old = resource_blocks(deployed);
    let new = resource_blocks(synthesized);
    let mut changes = Vec::new();
    for (id, (ty, text)) in &new {
        match old.get(id) {
            None => changes.push(Change {
                action: Action::Add,
                logical_id: id.clone(),
                resource_type: ty.clone(),
                replacement: None,
            }),
            Some((_, old_text)) if old_text != text => changes.push(Change {
                action: Action::Modify,
                logical_id: id.clone(),
                resource_type: ty.clone(),
                replacement: None,
            }),
            Some(_) => {}
        }
    }
    for (id, (ty, _)) in &old {
        if !new.contains_key(id) {
            changes.push(Change {
                action: Action::Remove,
                logical_id: id.clone(),
                resource_type: ty.clone(),
                replacement: None,
            });
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "AWSTemplateFormatVersion: \"2010-09-09\"\nResources:\n  Keep:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: a\n  Gone:\n    Type: AWS::SNS::Topic\n    Properties: {}\nOutputs:\n  X:\n    Value: 1\n";
    const B: &str = "AWSTemplateFormatVersion: \"2010-09-09\"\nResources:\n  Keep:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: b\n  New:\n    Type: AWS::KMS::Key\n    Properties: {}\n";

    #[test]
    fn finds_added_removed_and_modified_resources() {
        let c = diff_templates(A, B);
        let summary: Vec<(Action, &str, &str)> = c
            .iter()
            .map(|c| {
                (
                    c.action.clone(),
                    c.logical_id.as_str(),
                    c.resource_type.as_str(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (Action::Modify, "Keep", "AWS::S3::Bucket"),
                (Action::Add, "New", "AWS::KMS::Key"),
                (Action::Remove, "Gone", "AWS::SNS::Topic"),
            ]
        );
        assert!(diff_templates(A, A).is_empty());
    }
}

/// What a deploy would do to one stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StackDiff {
    /// Not deployed: created with this many resources.
    Create {
        /// Resources in the template.
        resources: usize,
    },
    /// Deployed and current.
    NoChanges,
    /// Deployed and different.
    Update {
        /// Parameter changes, `Key: old -> new`.
        parameters: Vec<String>,
        /// Resource changes.
        changes: Vec<Change>,
        /// Whether the stack tags change.
        tags: bool,
    },
}

/// Computes what deploying `synth` would change, stack by stack, without changing anything.
/// With `evaluate_replacements`, CloudFormation evaluates which modifications replace resources
/// (a change set is created, read and deleted).
pub async fn plan_diff(
    ctx: &super::aws::AwsContext,
    synth: &super::SynthDir,
    evaluate_replacements: bool,
) -> Result<Vec<(String, StackDiff)>, super::DeployError> {
    use crate::plan::ParamSource;
    let mut outputs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut diffs = Vec::new();
    for s in &synth.plan.stacks {
        let conf = ctx.config_for(&s.account_id, &s.region).await?;
        let cfn = super::aws::AwsContext::cloudformation(&conf);
        let template = synth.template(s);
        let Some(d) = super::stack::describe(&cfn, &s.name).await? else {
            diffs.push((
                s.name.clone(),
                StackDiff::Create {
                    resources: resource_blocks(template).len(),
                },
            ));
            continue;
        };
        outputs.insert(s.name.clone(), d.outputs.clone());
        let mut parameters = Vec::new();
        for (k, src) in &s.parameters {
            let want = match src {
                ParamSource::Value { value } => Some(value.clone()),
                ParamSource::Output { from_stack, output } => {
                    outputs.get(from_stack).and_then(|o| o.get(output)).cloned()
                }
            };
            if let Some(w) = want
                && Some(&w) != d.parameters.get(k)
            {
                parameters.push(format!(
                    "{k}: {} -> {w}",
                    d.parameters.get(k).map_or("(none)", String::as_str)
                ));
            }
        }
        let body = super::stack::template_body(&cfn, &s.name).await?;
        let mut changes = diff_templates(&body, template);
        let tags = d.tags != s.tags;
        if changes.is_empty() && parameters.is_empty() && !tags {
            diffs.push((s.name.clone(), StackDiff::NoChanges));
            continue;
        }
        if evaluate_replacements && !changes.is_empty() {
            replacements(&cfn, s, template, &d.parameters, &mut changes).await;
        }
        diffs.push((
            s.name.clone(),
            StackDiff::Update {
                parameters,
                changes,
                tags,
            },
        ));
    }
    Ok(diffs)
}

/// Asks CloudFormation which modifications replace resources (change set created, read, deleted).
async fn replacements(
    cfn: &aws_sdk_cloudformation::Client,
    s: &crate::plan::PlannedStack,
    template: &str,
    deployed_params: &BTreeMap<String, String>,
    changes: &mut [Change],
) {
    use aws_sdk_cloudformation::types::{Capability, ChangeSetStatus, ChangeSetType, Parameter};
    let name = format!("irf-diff-{}", std::process::id());
    let params: Vec<Parameter> = s
        .parameters
        .keys()
        .map(|k| {
            Parameter::builder()
                .parameter_key(k)
                .set_parameter_value(deployed_params.get(k).cloned())
                .build()
        })
        .collect();
    let created = cfn
        .create_change_set()
        .stack_name(&s.name)
        .change_set_name(&name)
        .change_set_type(ChangeSetType::Update)
        .template_body(template)
        .set_parameters(Some(params))
        .set_capabilities(Some(
            s.capabilities
                .iter()
                .map(|c| Capability::from(c.as_str()))
                .collect(),
        ))
        .send()
        .await;
    if created.is_err() {
        return;
    }
    for _ in 0..120 {
        let Ok(cs) = cfn
            .describe_change_set()
            .stack_name(&s.name)
            .change_set_name(&name)
            .send()
            .await
        else {
            break;
        };
        match cs.status() {
            Some(ChangeSetStatus::CreateComplete) => {
                for rc in cs.changes().iter().filter_map(|c| c.resource_change()) {
                    if let Some(c) = changes
                        .iter_mut()
                        .find(|c| Some(c.logical_id.as_str()) == rc.logical_resource_id())
                    {
                        c.replacement = rc.replacement().map(|r| r.as_str().to_owned());
                    }
                }
                break;
            }
            Some(ChangeSetStatus::Failed) => break,
            _ => tokio::time::sleep(std::time::Duration::from_secs(2)).await,
        }
    }
    let _ = cfn
        .delete_change_set()
        .stack_name(&s.name)
        .change_set_name(&name)
        .send()
        .await;
}
