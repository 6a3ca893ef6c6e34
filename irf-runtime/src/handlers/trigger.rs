//! Security account: the incident trigger.
//!
//! Incident requests arrive on the security account's EventBridge bus. EventBridge stamps each
//! event with the account that put it, so the trigger refuses a request for an instance in any
//! other account, then confirms the instance exists there (through `IRAutomation`) before it
//! starts the case workflow. The execution name `sf-forensics-<CaseId>` is the idempotency key,
//! and a case already running for the same instance is not started twice.

use irf_core::contract;
use irf_core::env::{IncidentTriggerEnv, flag};
use irf_core::events::{IncidentRequest, IncidentRequestEvent};
use irf_core::steps::CaseInput;
use serde::Serialize;
use serde_json::Value;

use crate::aws::Aws;
use crate::error::{self, HandlerError, Result};

/// The case id, `<account>-<instance>-<region>-<epoch>` (a fixed format, which also makes a
/// retried request map to the same case).
pub fn case_id(r: &IncidentRequest) -> String {
    format!(
        "{}-{}-{}-{}",
        r.account, r.instance_id, r.region, r.requested_at
    )
}

fn is_instance_id(s: &str) -> bool {
    s.strip_prefix("i-")
        .is_some_and(|h| (8..=17).contains(&h.len()) && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Parses and checks a request; the sender must own the instance.
pub fn validate(event: &Value) -> Result<IncidentRequest> {
    let e: IncidentRequestEvent = serde_json::from_value(event.clone())
        .map_err(|err| HandlerError::Fatal(format!("malformed incident request: {err}")))?;
    if e.source != contract::INCIDENT_EVENT_SOURCE
        || e.detail_type != contract::INCIDENT_EVENT_DETAIL_TYPE
    {
        return Err(HandlerError::Fatal(format!(
            "not an incident request (source {:?}, detail-type {:?})",
            e.source, e.detail_type
        )));
    }
    let r = e.detail;
    if r.account != e.account {
        return Err(HandlerError::Fatal(format!(
            "refused: account {} asked for an instance in account {}; a member may only start cases on its own instances",
            e.account, r.account
        )));
    }
    if irf_core::model::AccountId::parse(&r.account).is_err()
        || irf_core::region::Region::lookup(&r.region).is_none()
        || !is_instance_id(&r.instance_id)
    {
        return Err(HandlerError::Fatal(format!(
            "refused: malformed request {}/{}/{}",
            r.account, r.region, r.instance_id
        )));
    }
    Ok(r)
}

/// Confirms the instance exists in the requesting account and region.
pub async fn verify_instance(aws: &Aws, r: &IncidentRequest) -> Result<()> {
    let conf = aws
        .assume(&r.account, contract::IR_AUTOMATION_ROLE, &r.region)
        .await?;
    let out = aws
        .ec2(&conf)
        .describe_instances()
        .instance_ids(&r.instance_id)
        .send()
        .await;
    match out {
        Ok(o)
            if o.reservations()
                .iter()
                .flat_map(|x| x.instances())
                .any(|i| i.instance_id() == Some(r.instance_id.as_str())) =>
        {
            Ok(())
        }
        Ok(_) => Err(HandlerError::Fatal(format!(
            "refused: instance {} does not exist in {}/{}",
            r.instance_id, r.account, r.region
        ))),
        Err(e) if error::code(&e).is_some_and(|c| c.starts_with("InvalidInstanceID")) => {
            Err(HandlerError::Fatal(format!(
                "refused: instance {} does not exist in {}/{}",
                r.instance_id, r.account, r.region
            )))
        }
        Err(e) => Err(error::aws("ec2:DescribeInstances", e)),
    }
}

/// The result of a trigger.
#[derive(Debug, Serialize)]
pub struct Started {
    /// Id of the case started, or of the case already running for the instance.
    pub case_id: String,
    /// ARN of that case's execution (`sf-forensics-<CaseId>`).
    pub execution_arn: String,
    /// False when the case was already running (or already started by an earlier attempt).
    pub started: bool,
}

/// Starts the case workflow (in the state machine's region) unless a case for the instance is
/// already running.
pub async fn start_case(aws: &Aws, state_machine_arn: &str, input: &CaseInput) -> Result<Started> {
    let region = state_machine_arn
        .split(':')
        .nth(3)
        .map(str::to_owned)
        .unwrap_or_else(|| aws.home_region());
    start_case_with(&aws.sfn(&aws.here(&region)), state_machine_arn, input).await
}

/// [`start_case`] with a given Step Functions client.
pub async fn start_case_with(
    sfn: &aws_sdk_sfn::Client,
    state_machine_arn: &str,
    input: &CaseInput,
) -> Result<Started> {
    let name = format!("{}{}", contract::EXECUTION_NAME_PREFIX, input.case_id);
    let same_instance = format!(
        "{}{}-{}-{}-",
        contract::EXECUTION_NAME_PREFIX,
        input.account,
        input.instance_id,
        input.region
    );
    let mut pages = sfn
        .list_executions()
        .state_machine_arn(state_machine_arn)
        .status_filter(aws_sdk_sfn::types::ExecutionStatus::Running)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| error::aws("states:ListExecutions", e))?;
        if let Some(existing) = page
            .executions()
            .iter()
            .find(|x| x.name().starts_with(&same_instance))
        {
            return Ok(Started {
                case_id: existing
                    .name()
                    .trim_start_matches(contract::EXECUTION_NAME_PREFIX)
                    .to_owned(),
                execution_arn: existing.execution_arn().to_owned(),
                started: false,
            });
        }
    }
    let body = serde_json::to_string(input).map_err(HandlerError::fatal)?;
    match sfn
        .start_execution()
        .state_machine_arn(state_machine_arn)
        .name(&name)
        .input(body)
        .send()
        .await
    {
        Ok(out) => Ok(Started {
            case_id: input.case_id.clone(),
            execution_arn: out.execution_arn().to_owned(),
            started: true,
        }),
        Err(e) if error::code(&e) == Some("ExecutionAlreadyExists") => Ok(Started {
            case_id: input.case_id.clone(),
            execution_arn: format!(
                "{}:{name}",
                state_machine_arn.replacen(":stateMachine:", ":execution:", 1)
            ),
            started: false,
        }),
        Err(e) => Err(error::aws("states:StartExecution", e)),
    }
}

/// Handles one incident request.
pub async fn handle(aws: &Aws, event: Value) -> Result<Value> {
    let r = validate(&event)?;
    verify_instance(aws, &r).await?;
    let env = IncidentTriggerEnv::from_env().map_err(HandlerError::fatal)?;
    let input = CaseInput {
        case_id: case_id(&r),
        instance_id: r.instance_id.clone(),
        account: r.account.clone(),
        region: r.region.clone(),
        retain_artefacts: flag(env.retain_artefacts.as_deref(), true).to_string(),
    };
    let started = start_case(aws, &env.case_state_machine_arn, &input).await?;
    tracing::info!(case_id = %started.case_id, started = started.started, "incident request handled");
    serde_json::to_value(started).map_err(HandlerError::fatal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(sender: &str, owner: &str) -> Value {
        serde_json::json!({
            "account": sender, "source": "irf.member", "detail-type": "IRF Incident Requested",
            "region": "us-east-1", "time": "2026-11-29T10:00:00Z",
            "detail": { "account": owner, "region": "eu-west-1", "instance_id": "i-0123456789abcdef0", "requested_at": 1_795_000_000u64 }
        })
    }

    #[test]
    fn a_member_cannot_start_a_case_on_another_accounts_instance() {
        let err = validate(&request("333333333333", "444444444444")).unwrap_err();
        assert!(err.to_string().contains(
            "refused: account 333333333333 asked for an instance in account 444444444444"
        ));
        let ok = validate(&request("333333333333", "333333333333")).unwrap();
        assert_eq!(
            case_id(&ok),
            "333333333333-i-0123456789abcdef0-eu-west-1-1795000000"
        );
    }

    #[test]
    fn malformed_requests_are_refused() {
        assert!(
            validate(&serde_json::json!({}))
                .unwrap_err()
                .to_string()
                .starts_with("malformed incident request")
        );
        let mut e = request("333333333333", "333333333333");
        e["detail"]["instance_id"] = Value::from("i-xyz");
        assert!(
            validate(&e)
                .unwrap_err()
                .to_string()
                .contains("malformed request")
        );
        let mut e = request("333333333333", "333333333333");
        e["source"] = Value::from("aws.ec2");
        assert!(
            validate(&e)
                .unwrap_err()
                .to_string()
                .contains("not an incident request")
        );
    }
}
