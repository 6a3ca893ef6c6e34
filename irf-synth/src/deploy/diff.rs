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
    /// Logical id.
    pub logical_id: String,
    /// Resource type.
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
