//! Members that name an OU: their stacks as service-managed StackSets, administered from the
//! security account (registered as a CloudFormation StackSets delegated administrator), with
//! automatic deployment to every account that joins the OU.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{
    AutoDeployment, CallAs, Capability, DeploymentTargets, ManagedExecution, Parameter,
    PermissionModels, StackSetOperationStatus, Tag,
};

use irf_sdk_error::AwsErrorInfo;

use super::DeployError;
use super::progress::Reporter;
use super::stack::Outcome;
use crate::plan::{PlannedStack, StackSetTarget};

/// A StackSet as deployed.
#[derive(Clone, Debug)]
pub struct DeployedSet {
    /// The template body it deploys.
    pub template: String,
    /// StackSet parameters by key (per-region overrides are not included).
    pub parameters: BTreeMap<String, String>,
    /// `SERVICE_MANAGED` or `SELF_MANAGED`, when reported.
    pub permission_model: Option<String>,
    /// Whether accounts joining the OU get the stacks (`None` when not reported; the emulator
    /// omits it).
    pub auto_deployment: Option<bool>,
}

/// Describes a StackSet (as delegated administrator); `None` when it does not exist.
pub async fn describe(cfn: &Client, name: &str) -> Result<Option<DeployedSet>, DeployError> {
    match cfn
        .describe_stack_set()
        .stack_set_name(name)
        .call_as(CallAs::DelegatedAdmin)
        .send()
        .await
    {
        Ok(out) => Ok(out.stack_set().map(|s| DeployedSet {
            template: s.template_body().unwrap_or_default().to_owned(),
            parameters: s
                .parameters()
                .iter()
                .filter_map(|p| {
                    Some((
                        p.parameter_key()?.to_owned(),
                        p.parameter_value().unwrap_or("").to_owned(),
                    ))
                })
                .collect(),
            permission_model: s.permission_model().map(|p| p.as_str().to_owned()),
            auto_deployment: s.auto_deployment().and_then(|a| a.enabled()),
        })),
        Err(e) => {
            let info = AwsErrorInfo::of(&e);
            if info.is("StackSetNotFoundException") {
                Ok(None)
            } else {
                Err(DeployError::from_aws_info(
                    &format!("cloudformation:DescribeStackSet {name}"),
                    info,
                ))
            }
        }
    }
}

/// Waits for a StackSet operation; failures list each account and region with its reason.
async fn wait_operation(
    cfn: &Client,
    name: &str,
    operation: &str,
    poll: Duration,
) -> Result<(), DeployError> {
    let deadline = Instant::now() + Duration::from_secs(3 * 3600);
    loop {
        let out = cfn
            .describe_stack_set_operation()
            .stack_set_name(name)
            .operation_id(operation)
            .call_as(CallAs::DelegatedAdmin)
            .send()
            .await
            .map_err(|e| DeployError::aws("cloudformation:DescribeStackSetOperation", e))?;
        match out.stack_set_operation().and_then(|o| o.status()) {
            Some(StackSetOperationStatus::Succeeded) => return Ok(()),
            Some(StackSetOperationStatus::Failed | StackSetOperationStatus::Stopped) => {
                let results = cfn
                    .list_stack_set_operation_results()
                    .stack_set_name(name)
                    .operation_id(operation)
                    .call_as(CallAs::DelegatedAdmin)
                    .send()
                    .await
                    .map(|r| {
                        r.summaries()
                            .iter()
                            .filter(|s| s.status().is_some_and(|x| x.as_str() != "SUCCEEDED"))
                            .map(|s| {
                                format!(
                                    "{}/{}: {}",
                                    s.account().unwrap_or("?"),
                                    s.region().unwrap_or("?"),
                                    s.status_reason().unwrap_or("no reason given")
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                return Err(DeployError::Stack {
                    stack: name.to_owned(),
                    message: format!("StackSet operation {operation} failed"),
                    failures: results,
                });
            }
            _ => {}
        }
        if Instant::now() > deadline {
            return Err(DeployError::Stack {
                stack: name.to_owned(),
                message: format!("StackSet operation {operation} still running after 3 h"),
                failures: Vec::new(),
            });
        }
        tokio::time::sleep(poll).await;
    }
}

/// Creates or updates the StackSet of `s` and its instances in the OU, one region at a time
/// with that region's asset bucket as a parameter override.
#[allow(clippy::too_many_arguments)]
pub async fn apply(
    cfn: &Client,
    s: &PlannedStack,
    target: &StackSetTarget,
    template: &str,
    template_url: Option<String>,
    params: &BTreeMap<String, String>,
    bucket_parameter: Option<&str>,
    poll: Duration,
    reporter: &Reporter,
) -> Result<Outcome, DeployError> {
    let current = describe(cfn, &s.name).await?;
    if let Some(d) = &current
        && d.template == template
        && params
            .iter()
            .all(|(k, v)| d.parameters.get(k) == Some(v) || Some(k.as_str()) == bucket_parameter)
        && d.auto_deployment != Some(false)
    {
        reporter.finish(&s.name, &Outcome::Unchanged.to_string());
        return Ok(Outcome::Unchanged);
    }
    let parameters: Vec<Parameter> = params
        .iter()
        .map(|(k, v)| {
            Parameter::builder()
                .parameter_key(k)
                .parameter_value(v)
                .build()
        })
        .collect();
    let tags: Vec<Tag> = s
        .tags
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    let capabilities: Vec<Capability> = s
        .capabilities
        .iter()
        .map(|c| Capability::from(c.as_str()))
        .collect();
    let targets = DeploymentTargets::builder()
        .organizational_unit_ids(&target.organizational_unit)
        .build();
    let outcome = if current.is_none() {
        cfn.create_stack_set()
            .stack_set_name(&s.name)
            .description(format!("IRF {} for {}", s.kind, target.organizational_unit))
            .set_template_body(template_url.is_none().then(|| template.to_owned()))
            .set_template_url(template_url.clone())
            .set_parameters(Some(parameters.clone()))
            .set_capabilities(Some(capabilities.clone()))
            .set_tags(Some(tags.clone()))
            .permission_model(PermissionModels::ServiceManaged)
            .auto_deployment(
                AutoDeployment::builder()
                    .enabled(true)
                    .retain_stacks_on_account_removal(false)
                    .build(),
            )
            .managed_execution(ManagedExecution::builder().active(true).build())
            .call_as(CallAs::DelegatedAdmin)
            .send()
            .await
            .map_err(|e| {
                DeployError::aws(&format!("cloudformation:CreateStackSet {}", s.name), e)
            })?;
        reporter.event(
            &s.name,
            &format!("created StackSet for {}", target.organizational_unit),
        );
        Outcome::Created
    } else {
        let op = cfn
            .update_stack_set()
            .stack_set_name(&s.name)
            .set_template_body(template_url.is_none().then(|| template.to_owned()))
            .set_template_url(template_url.clone())
            .set_parameters(Some(parameters.clone()))
            .set_capabilities(Some(capabilities.clone()))
            .set_tags(Some(tags.clone()))
            .permission_model(PermissionModels::ServiceManaged)
            .auto_deployment(
                AutoDeployment::builder()
                    .enabled(true)
                    .retain_stacks_on_account_removal(false)
                    .build(),
            )
            .deployment_targets(targets.clone())
            .set_regions(Some(target.regions.clone()))
            .call_as(CallAs::DelegatedAdmin)
            .send()
            .await
            .map_err(|e| {
                DeployError::aws(&format!("cloudformation:UpdateStackSet {}", s.name), e)
            })?;
        if let Some(id) = op.operation_id() {
            wait_operation(cfn, &s.name, id, poll).await?;
        }
        Outcome::Updated
    };
    for region in &target.regions {
        let overrides: Vec<Parameter> = bucket_parameter
            .zip(target.artifact_buckets.get(region))
            .map(|(p, b)| {
                vec![
                    Parameter::builder()
                        .parameter_key(p)
                        .parameter_value(b)
                        .build(),
                ]
            })
            .unwrap_or_default();
        let op = if outcome == Outcome::Created {
            cfn.create_stack_instances()
                .stack_set_name(&s.name)
                .deployment_targets(targets.clone())
                .regions(region)
                .set_parameter_overrides(Some(overrides))
                .call_as(CallAs::DelegatedAdmin)
                .send()
                .await
                .map_err(|e| {
                    DeployError::aws(
                        &format!("cloudformation:CreateStackInstances {} {region}", s.name),
                        e,
                    )
                })?
                .operation_id
        } else {
            cfn.update_stack_instances()
                .stack_set_name(&s.name)
                .deployment_targets(targets.clone())
                .regions(region)
                .set_parameter_overrides(Some(overrides))
                .call_as(CallAs::DelegatedAdmin)
                .send()
                .await
                .map_err(|e| {
                    DeployError::aws(
                        &format!("cloudformation:UpdateStackInstances {} {region}", s.name),
                        e,
                    )
                })?
                .operation_id
        };
        if let Some(id) = op {
            wait_operation(cfn, &s.name, &id, poll).await?;
        }
        reporter.event(
            &s.name,
            &format!(
                "instances in {} / {region} up to date",
                target.organizational_unit
            ),
        );
    }
    reporter.finish(&s.name, &outcome.to_string());
    Ok(outcome)
}

/// Deletes the instances of a StackSet and then the StackSet.
pub async fn delete(
    cfn: &Client,
    s: &PlannedStack,
    target: &StackSetTarget,
    poll: Duration,
) -> Result<Outcome, DeployError> {
    if describe(cfn, &s.name).await?.is_none() {
        return Ok(Outcome::Absent);
    }
    let op = cfn
        .delete_stack_instances()
        .stack_set_name(&s.name)
        .deployment_targets(
            DeploymentTargets::builder()
                .organizational_unit_ids(&target.organizational_unit)
                .build(),
        )
        .set_regions(Some(target.regions.clone()))
        .retain_stacks(false)
        .call_as(CallAs::DelegatedAdmin)
        .send()
        .await
        .map_err(|e| {
            DeployError::aws(
                &format!("cloudformation:DeleteStackInstances {}", s.name),
                e,
            )
        })?;
    if let Some(id) = op.operation_id() {
        wait_operation(cfn, &s.name, id, poll).await?;
    }
    cfn.delete_stack_set()
        .stack_set_name(&s.name)
        .call_as(CallAs::DelegatedAdmin)
        .send()
        .await
        .map_err(|e| DeployError::aws(&format!("cloudformation:DeleteStackSet {}", s.name), e))?;
    Ok(Outcome::Deleted)
}
