//! One stack: its state as a typed enum, and create/update/delete through change sets or
//! directly, with failure reasons collected from the stack events.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{
    Capability, ChangeSetStatus, ChangeSetType, Parameter, StackStatus, Tag,
};
use irf_sdk_error::AwsErrorInfo;

use super::DeployError;
use super::progress::Reporter;
pub use super::report::Outcome;

/// What a stack's status means for the deployer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StackState {
    /// No such stack (or deleted).
    Missing,
    /// A completed create or update: can be updated.
    Stable,
    /// An operation is running: wait for it.
    InProgress,
    /// The first create failed and rolled back: the stack is empty and must be deleted.
    RollbackComplete,
    /// Created through a change set that was never executed.
    ReviewInProgress,
    /// A state the deployer does not repair (failed rollback, failed delete, ...).
    Blocked,
}

impl StackState {
    /// Classifies a CloudFormation status.
    pub fn of(status: &StackStatus) -> StackState {
        use StackStatus as S;
        match status {
            S::CreateComplete
            | S::UpdateComplete
            | S::UpdateRollbackComplete
            | S::ImportComplete
            | S::ImportRollbackComplete => StackState::Stable,
            S::DeleteComplete => StackState::Missing,
            S::RollbackComplete => StackState::RollbackComplete,
            S::ReviewInProgress => StackState::ReviewInProgress,
            S::CreateInProgress
            | S::DeleteInProgress
            | S::RollbackInProgress
            | S::UpdateInProgress
            | S::UpdateCompleteCleanupInProgress
            | S::UpdateRollbackInProgress
            | S::UpdateRollbackCompleteCleanupInProgress
            | S::ImportInProgress
            | S::ImportRollbackInProgress => StackState::InProgress,
            S::CreateFailed
            | S::DeleteFailed
            | S::RollbackFailed
            | S::UpdateFailed
            | S::UpdateRollbackFailed
            | S::ImportRollbackFailed => StackState::Blocked,
            _ => StackState::Blocked,
        }
    }

    /// What to do about a blocked status, for the error message.
    pub fn advice(status: &StackStatus) -> &'static str {
        use StackStatus as S;
        match status {
            S::UpdateRollbackFailed => {
                "continue the rollback (aws cloudformation continue-update-rollback), fix what blocked it, then deploy again"
            }
            S::DeleteFailed => {
                "delete the stack again, retaining the resources that failed to delete (aws cloudformation delete-stack --retain-resources), then deploy again"
            }
            _ => {
                "inspect the stack's events in the console, repair or delete it, then deploy again"
            }
        }
    }
}

/// A deployed stack as the deployer needs it.
#[derive(Clone, Debug, Default)]
pub struct Deployed {
    /// CloudFormation status, when one was reported.
    pub status: Option<StackStatus>,
    /// Output values by key.
    pub outputs: BTreeMap<String, String>,
    /// Parameter values by key, list values as `a,b` whichever form the service used.
    pub parameters: BTreeMap<String, String>,
    /// Stack tags by key.
    pub tags: BTreeMap<String, String>,
    /// Last update (or creation) time.
    pub updated: Option<String>,
}

/// Describes a stack; `None` when it does not exist.
pub async fn describe(cfn: &Client, name: &str) -> Result<Option<Deployed>, DeployError> {
    let out = match cfn.describe_stacks().stack_name(name).send().await {
        Ok(o) => o,
        Err(e) => {
            let info = AwsErrorInfo::of(&e);
            if is_missing_stack(&info) {
                return Ok(None);
            }
            return Err(DeployError::from_aws_info(
                &format!("cloudformation:DescribeStacks {name}"),
                info,
            ));
        }
    };
    let Some(s) = out.stacks().first() else {
        return Ok(None);
    };
    if s.stack_status() == Some(&StackStatus::DeleteComplete) {
        return Ok(None);
    }
    Ok(Some(Deployed {
        status: s.stack_status().cloned(),
        outputs: s
            .outputs()
            .iter()
            .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
            .collect(),
        parameters: s
            .parameters()
            .iter()
            .filter_map(|p| {
                Some((
                    p.parameter_key()?.to_owned(),
                    normalize_list(p.parameter_value().unwrap_or("")),
                ))
            })
            .collect(),
        tags: s
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
            .collect(),
        updated: s.last_updated_time().or(s.creation_time()).map(|t| {
            t.fmt(aws_smithy_types::date_time::Format::DateTime)
                .unwrap_or_default()
        }),
    }))
}

/// CloudFormation reports a `CommaDelimitedList` parameter as the comma-separated string it was
/// given; the emulator reports it as a Python list (`['a', 'b']`). Both become `a,b`.
fn normalize_list(value: &str) -> String {
    match value.strip_prefix("['").and_then(|v| v.strip_suffix("']")) {
        Some(inner) => inner.split("', '").collect::<Vec<_>>().join(","),
        None => value.to_owned(),
    }
}

/// The template body of a deployed stack.
pub async fn template_body(cfn: &Client, name: &str) -> Result<String, DeployError> {
    let out = cfn
        .get_template()
        .stack_name(name)
        .send()
        .await
        .map_err(|e| DeployError::aws(&format!("cloudformation:GetTemplate {name}"), e))?;
    Ok(out.template_body().unwrap_or_default().to_owned())
}

/// Everything a create or update sends.
#[derive(Debug)]
pub struct StackInput<'a> {
    /// CloudFormation stack name, as planned.
    pub name: &'a str,
    /// Template body, or `None` when `template_url` is used.
    pub body: Option<&'a str>,
    /// S3 URL of the template (templates over 51,200 bytes).
    pub template_url: Option<String>,
    /// Parameter values by name, every stack output and asset location already filled in.
    pub parameters: &'a BTreeMap<String, String>,
    /// Capabilities the template needs, e.g. `CAPABILITY_NAMED_IAM`.
    pub capabilities: &'a [String],
    /// Stack tags (CloudFormation propagates them to every taggable resource).
    pub tags: &'a BTreeMap<String, String>,
}

impl StackInput<'_> {
    fn parameters(&self) -> Vec<Parameter> {
        self.parameters
            .iter()
            .map(|(k, v)| {
                Parameter::builder()
                    .parameter_key(k)
                    .parameter_value(v)
                    .build()
            })
            .collect()
    }

    fn tags(&self) -> Vec<Tag> {
        self.tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect()
    }

    fn capabilities(&self) -> Vec<Capability> {
        self.capabilities
            .iter()
            .map(|c| Capability::from(c.as_str()))
            .collect()
    }
}

/// How the deployer changes stacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Create and execute a change set (review and safety on AWS).
    ChangeSet,
    /// CreateStack / UpdateStack (the emulator loses outputs of change-set stacks).
    Direct,
}

/// CloudFormation has no error code of its own for "nothing to update" or "no such stack": both
/// come as `ValidationError`, told apart from other validation failures by their message.
const VALIDATION_ERROR: &str = "ValidationError";

/// Whether UpdateStack was refused because the stack already is as requested.
fn is_no_update(e: &AwsErrorInfo) -> bool {
    e.is(VALIDATION_ERROR)
        && e.message
            .as_deref()
            .is_some_and(|m| m.contains("No updates are to be performed"))
}

/// Whether DescribeStacks answered that the stack does not exist.
fn is_missing_stack(e: &AwsErrorInfo) -> bool {
    e.is(VALIDATION_ERROR)
        && e.message
            .as_deref()
            .is_some_and(|m| m.contains("does not exist"))
}

/// Whether a failed change set's status reason says it had nothing to change (a status reason,
/// not an error: there is no code to match).
fn is_empty_change_set(reason: &str) -> bool {
    ["No updates are to be performed", "didn't contain changes"]
        .iter()
        .any(|m| reason.contains(m))
}

/// Polls a stack until it leaves the in-progress states; reports new events as they come.
pub async fn wait(
    cfn: &Client,
    name: &str,
    started: std::time::SystemTime,
    poll: Duration,
    timeout: Duration,
    reporter: &Reporter,
) -> Result<Option<StackStatus>, DeployError> {
    let deadline = Instant::now() + timeout;
    let mut seen: BTreeSet<String> = BTreeSet::new();
    loop {
        for (id, line) in events_since(cfn, name, started).await.unwrap_or_default() {
            if seen.insert(id) {
                reporter.event(name, &line);
            }
        }
        let status = describe(cfn, name).await?.and_then(|d| d.status);
        match status.as_ref().map(StackState::of) {
            Some(StackState::InProgress) => {}
            _ => return Ok(status),
        }
        if Instant::now() > deadline {
            return Err(DeployError::Stack {
                stack: name.to_owned(),
                message: format!("still in progress after {} s", timeout.as_secs()),
                failures: Vec::new(),
            });
        }
        tokio::time::sleep(poll).await;
    }
}

/// Stack events after `since`: (event id, "LogicalId STATUS reason").
async fn events_since(
    cfn: &Client,
    name: &str,
    since: std::time::SystemTime,
) -> Result<Vec<(String, String)>, DeployError> {
    let out = cfn
        .describe_stack_events()
        .stack_name(name)
        .send()
        .await
        .map_err(|e| DeployError::aws("cloudformation:DescribeStackEvents", e))?;
    let since = aws_smithy_types::DateTime::from(since);
    let mut events: Vec<(String, String)> = out
        .stack_events()
        .iter()
        .filter(|e| e.timestamp().is_some_and(|t| t.secs() >= since.secs()))
        .map(|e| {
            let line = format!(
                "{} {}{}",
                e.logical_resource_id().unwrap_or("?"),
                e.resource_status().map(|s| s.as_str()).unwrap_or("?"),
                e.resource_status_reason()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            );
            (e.event_id().unwrap_or_default().to_owned(), line)
        })
        .collect();
    events.reverse();
    Ok(events)
}

/// One stack event, as the failure recap needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Logical id of the resource (the stack's own events carry the stack name).
    pub logical_id: String,
    /// CloudFormation resource type, e.g. `AWS::Lambda::Function`.
    pub resource_type: String,
    /// Status, e.g. `CREATE_FAILED`.
    pub status: String,
    /// Status reason, when CloudFormation gave one.
    pub reason: Option<String>,
}

/// The failed resources among `events` (newest first, as CloudFormation lists them) with their
/// reasons, oldest first, without the stack's own event and without resources CloudFormation
/// cancelled because another one failed.
pub fn recap(stack: &str, events: &[Event]) -> Vec<String> {
    let mut lines: Vec<String> = events
        .iter()
        .filter(|e| e.status.ends_with("_FAILED") && e.logical_id != stack)
        .filter_map(|e| {
            let reason = e.reason.as_deref().unwrap_or("no reason given");
            if reason.contains("Resource creation cancelled")
                || reason.contains("Resource update cancelled")
            {
                return None;
            }
            Some(format!("{} ({}): {reason}", e.logical_id, e.resource_type))
        })
        .collect();
    lines.reverse();
    lines.dedup();
    lines
}

/// Failed resources of the latest operation with their reasons (see [`recap`]).
pub async fn failures(cfn: &Client, name: &str, since: std::time::SystemTime) -> Vec<String> {
    let Ok(out) = cfn.describe_stack_events().stack_name(name).send().await else {
        return Vec::new();
    };
    let since = aws_smithy_types::DateTime::from(since);
    let events: Vec<Event> = out
        .stack_events()
        .iter()
        .filter(|e| e.timestamp().is_some_and(|t| t.secs() >= since.secs()))
        .map(|e| Event {
            logical_id: e.logical_resource_id().unwrap_or("?").to_owned(),
            resource_type: e.resource_type().unwrap_or("?").to_owned(),
            status: e
                .resource_status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            reason: e.resource_status_reason().map(str::to_owned),
        })
        .collect();
    recap(name, &events)
}

/// Creates or updates a stack and waits for the result.
pub async fn apply(
    cfn: &Client,
    input: &StackInput<'_>,
    exists: bool,
    method: Method,
    poll: Duration,
    reporter: &Reporter,
) -> Result<Outcome, DeployError> {
    let started = std::time::SystemTime::now() - Duration::from_secs(1);
    let fail = |message: String, failures: Vec<String>| DeployError::Stack {
        stack: input.name.to_owned(),
        message,
        failures,
    };
    match method {
        Method::Direct => {
            let result = if exists {
                cfn.update_stack()
                    .stack_name(input.name)
                    .set_template_body(input.body.map(str::to_owned))
                    .set_template_url(input.template_url.clone())
                    .set_parameters(Some(input.parameters()))
                    .set_capabilities(Some(input.capabilities()))
                    .set_tags(Some(input.tags()))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| AwsErrorInfo::of(&e))
            } else {
                cfn.create_stack()
                    .stack_name(input.name)
                    .set_template_body(input.body.map(str::to_owned))
                    .set_template_url(input.template_url.clone())
                    .set_parameters(Some(input.parameters()))
                    .set_capabilities(Some(input.capabilities()))
                    .set_tags(Some(input.tags()))
                    .on_failure(aws_sdk_cloudformation::types::OnFailure::Rollback)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| AwsErrorInfo::of(&e))
            };
            if let Err(info) = result {
                if exists && is_no_update(&info) {
                    return Ok(Outcome::Unchanged);
                }
                return Err(fail(
                    format!(
                        "{} was rejected: {info}",
                        if exists { "UpdateStack" } else { "CreateStack" }
                    ),
                    Vec::new(),
                ));
            }
        }
        Method::ChangeSet => {
            let cs_name = format!("irf-{}", std::process::id());
            let created = cfn
                .create_change_set()
                .stack_name(input.name)
                .change_set_name(&cs_name)
                .change_set_type(if exists {
                    ChangeSetType::Update
                } else {
                    ChangeSetType::Create
                })
                .set_template_body(input.body.map(str::to_owned))
                .set_template_url(input.template_url.clone())
                .set_parameters(Some(input.parameters()))
                .set_capabilities(Some(input.capabilities()))
                .set_tags(Some(input.tags()))
                .send()
                .await;
            if let Err(e) = created {
                return Err(fail(
                    format!("CreateChangeSet was rejected: {}", AwsErrorInfo::of(&e)),
                    Vec::new(),
                ));
            }
            loop {
                let cs = cfn
                    .describe_change_set()
                    .stack_name(input.name)
                    .change_set_name(&cs_name)
                    .send()
                    .await
                    .map_err(|e| DeployError::aws("cloudformation:DescribeChangeSet", e))?;
                match cs.status() {
                    Some(ChangeSetStatus::CreateComplete) => {
                        for c in cs.changes() {
                            if let Some(rc) = c.resource_change() {
                                reporter.event(
                                    input.name,
                                    &format!(
                                        "change: {} {} ({}){}",
                                        rc.action().map(|a| a.as_str()).unwrap_or("?"),
                                        rc.logical_resource_id().unwrap_or("?"),
                                        rc.resource_type().unwrap_or("?"),
                                        match rc.replacement().map(|r| r.as_str()) {
                                            Some("True") => " REPLACEMENT",
                                            Some("Conditional") => " may replace",
                                            _ => "",
                                        }
                                    ),
                                );
                            }
                        }
                        break;
                    }
                    Some(ChangeSetStatus::Failed) => {
                        let reason = cs.status_reason().unwrap_or_default().to_owned();
                        let _ = cfn
                            .delete_change_set()
                            .stack_name(input.name)
                            .change_set_name(&cs_name)
                            .send()
                            .await;
                        if is_empty_change_set(&reason) {
                            return Ok(Outcome::Unchanged);
                        }
                        return Err(fail(format!("change set failed: {reason}"), Vec::new()));
                    }
                    _ => tokio::time::sleep(poll).await,
                }
            }
            cfn.execute_change_set()
                .stack_name(input.name)
                .change_set_name(&cs_name)
                .send()
                .await
                .map_err(|e| DeployError::aws("cloudformation:ExecuteChangeSet", e))?;
        }
    }
    let status = wait(
        cfn,
        input.name,
        started,
        poll,
        Duration::from_secs(3 * 3600),
        reporter,
    )
    .await?;
    match status {
        Some(StackStatus::CreateComplete) => Ok(Outcome::Created),
        Some(StackStatus::UpdateComplete) => Ok(Outcome::Updated),
        other => {
            let failures = failures(cfn, input.name, started).await;
            Err(fail(
                format!(
                    "ended in {}",
                    other.as_ref().map_or("a deleted state", |s| s.as_str())
                ),
                failures,
            ))
        }
    }
}

/// Physical ids of a stack's resources by logical id.
pub async fn physical_ids(
    cfn: &Client,
    name: &str,
) -> Result<BTreeMap<String, String>, DeployError> {
    let out = cfn
        .describe_stack_resources()
        .stack_name(name)
        .send()
        .await
        .map_err(|e| {
            DeployError::aws(&format!("cloudformation:DescribeStackResources {name}"), e)
        })?;
    Ok(out
        .stack_resources()
        .iter()
        .filter_map(|r| {
            Some((
                r.logical_resource_id()?.to_owned(),
                r.physical_resource_id()?.to_owned(),
            ))
        })
        .collect())
}

/// Deletes a stack and waits until it is gone.
pub async fn delete(
    cfn: &Client,
    name: &str,
    poll: Duration,
    reporter: &Reporter,
) -> Result<(), DeployError> {
    let started = std::time::SystemTime::now() - Duration::from_secs(1);
    if let Err(e) = cfn.delete_stack().stack_name(name).send().await {
        let error = DeployError::aws(&format!("cloudformation:DeleteStack {name}"), e);
        // What counts is whether the stack is gone: the emulator deletes synchronously and
        // reports a resource it could not delete as an API error, yet removes the stack.
        return match describe(cfn, name).await? {
            None => {
                reporter.event(
                    name,
                    &format!("stack gone, but CloudFormation reported: {error}"),
                );
                Ok(())
            }
            Some(_) => Err(error),
        };
    }
    match wait(
        cfn,
        name,
        started,
        poll,
        Duration::from_secs(3600),
        reporter,
    )
    .await?
    {
        None | Some(StackStatus::DeleteComplete) => Ok(()),
        Some(other) => Err(DeployError::Stack {
            stack: name.to_owned(),
            message: format!("delete ended in {}", other.as_str()),
            failures: failures(cfn, name, started).await,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_parameters_compare_in_one_form() {
        assert_eq!(
            normalize_list("['subnet-1', 'subnet-2']"),
            "subnet-1,subnet-2"
        );
        assert_eq!(normalize_list("subnet-1,subnet-2"), "subnet-1,subnet-2");
        assert_eq!(normalize_list("plain"), "plain");
    }

    #[test]
    fn missing_stacks_and_no_op_updates_are_validation_errors_with_their_message() {
        let e =
            |code, message| AwsErrorInfo::from_parts(Some(code), Some(message), Some(400), true);
        assert!(is_missing_stack(&e(
            "ValidationError",
            "Stack with id irf-x does not exist"
        )));
        assert!(!is_missing_stack(&e(
            "AccessDenied",
            "stack irf-x does not exist or you cannot see it"
        )));
        assert!(!is_missing_stack(&e(
            "ValidationError",
            "1 validation error detected"
        )));
        assert!(is_no_update(&e(
            "ValidationError",
            "No updates are to be performed."
        )));
        assert!(!is_no_update(&e(
            "ValidationError",
            "Template format error"
        )));
        assert!(is_empty_change_set(
            "The submitted information didn't contain changes. Submit different information to create a change set."
        ));
    }

    #[test]
    fn recap_keeps_real_failures_only() {
        let e = |id: &str, status: &str, reason: &str| Event {
            logical_id: id.to_owned(),
            resource_type: "AWS::Lambda::Function".to_owned(),
            status: status.to_owned(),
            reason: Some(reason.to_owned()),
        };
        let events = [
            e("stack", "ROLLBACK_COMPLETE", ""),
            e("Other", "CREATE_FAILED", "Resource creation cancelled"),
            e(
                "Fn",
                "CREATE_FAILED",
                "The role defined for the function cannot be assumed by Lambda.",
            ),
            e("Fn", "CREATE_IN_PROGRESS", ""),
            e(
                "stack",
                "CREATE_FAILED",
                "The following resource(s) failed to create: [Fn].",
            ),
        ];
        assert_eq!(
            recap("stack", &events),
            [
                "Fn (AWS::Lambda::Function): The role defined for the function cannot be assumed by Lambda."
            ]
        );
    }

    #[test]
    fn statuses_classify() {
        assert_eq!(
            StackState::of(&StackStatus::CreateComplete),
            StackState::Stable
        );
        assert_eq!(
            StackState::of(&StackStatus::UpdateRollbackComplete),
            StackState::Stable
        );
        assert_eq!(
            StackState::of(&StackStatus::RollbackComplete),
            StackState::RollbackComplete
        );
        assert_eq!(
            StackState::of(&StackStatus::UpdateInProgress),
            StackState::InProgress
        );
        assert_eq!(
            StackState::of(&StackStatus::UpdateRollbackFailed),
            StackState::Blocked
        );
        assert_eq!(
            StackState::of(&StackStatus::DeleteFailed),
            StackState::Blocked
        );
        assert!(
            StackState::advice(&StackStatus::UpdateRollbackFailed)
                .contains("continue-update-rollback")
        );
    }
}
