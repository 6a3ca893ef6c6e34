//! Notifications: member narration to Slack (SNS-triggered), and case outcome notices from the
//! security account (a workflow task, or an EventBridge execution status change) to the outcome
//! topic and Slack. Each message names the account, the instance, the case and the step.

use irf_core::env::NotifyEnv;
use irf_core::events::{EXECUTION_STATUS_CHANGE_DETAIL_TYPE, ExecutionStatusChangeEvent, SnsEvent};
use irf_core::handler::Handler;
use irf_core::steps::{BranchStatus, CaseEvent, NotifyAction, NotifyStep};
use serde_json::Value;

use crate::aws::Aws;
use crate::error::{self, HandlerError, Result};
use crate::slack::Slack;

/// A notice to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Subject line.
    pub subject: String,
    /// Body of the notice (the SNS message and the Slack text).
    pub text: String,
    /// Whether it also goes to the outcome topic (security account notices).
    pub to_topic: bool,
}

fn case_fields(case: &Value) -> (String, String, String, String) {
    let get = |k: &str, alt: &str| {
        case.get(k)
            .or_else(|| case.get(alt))
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_owned()
    };
    (
        get("case_id", "CaseId"),
        get("account", "Account"),
        get("instance_id", "InstanceId"),
        get("region", "Region"),
    )
}

/// The step a failed case stopped at, from the workflow state.
fn failed_step(detail: &Value) -> Option<String> {
    let results = detail.get("Results")?;
    let list: Vec<&Value> = match results {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    let failed: Vec<String> = list
        .iter()
        .filter(|r| r.get("Status").and_then(Value::as_str) == Some(BranchStatus::Failed.as_str()))
        .map(|r| {
            let kind = r
                .get("Kind")
                .and_then(Value::as_str)
                .unwrap_or("acquisition");
            let cause = r
                .pointer("/Error/Cause")
                .or_else(|| r.pointer("/Error/Error"))
                .and_then(Value::as_str)
                .unwrap_or("no cause recorded");
            format!("{kind}: {}", cause.chars().take(300).collect::<String>())
        })
        .collect();
    (!failed.is_empty()).then(|| failed.join("; "))
}

/// Turns any of the three inputs into notices.
pub fn notices(event: &Value) -> Result<Vec<Notice>> {
    if event.get("Records").and_then(Value::as_array).is_some() {
        let sns: SnsEvent = super::request(Handler::Notify, event)?;
        return sns
            .records
            .into_iter()
            .map(|r| {
                let sns = r
                    .sns
                    .ok_or_else(|| HandlerError::Fatal("SNS record without Sns".into()))?;
                Ok(Notice {
                    subject: sns.subject.unwrap_or_else(|| "IRF".to_owned()),
                    text: sns.message,
                    to_topic: false,
                })
            })
            .collect();
    }
    if event
        .get(irf_core::steps::ACTION_FIELD)
        .and_then(Value::as_str)
        == Some(NotifyAction::Notify.name())
    {
        let NotifyStep::Notify {
            event: what,
            detail,
            ..
        } = super::request(Handler::Notify, event)?;
        let case = detail.get("Case").cloned().unwrap_or(Value::Null);
        let (case_id, account, instance, region) = case_fields(&case);
        let (subject, text) = match &what {
            CaseEvent::CaseStarted => (
                format!("IRF case {case_id} started"),
                format!(
                    "[irf][{account}] case {case_id} started for {instance} in {region}: memory and disk acquisition, then containment"
                ),
            ),
            CaseEvent::CaseSucceeded => (
                format!("IRF case {case_id} succeeded"),
                format!(
                    "[irf][{account}] case {case_id} for {instance} in {region} succeeded: evidence acquired and verified, instance contained"
                ),
            ),
            CaseEvent::CaseFailed => (
                format!("IRF case {case_id} FAILED"),
                format!(
                    "[irf][{account}] case {case_id} for {instance} in {region} FAILED at {}",
                    failed_step(&detail).unwrap_or_else(|| "closing the case".to_owned())
                ),
            ),
            CaseEvent::ContainFailed => (
                format!("IRF case {case_id}: containment FAILED"),
                format!(
                    "[irf][{account}] case {case_id}: CONTAINMENT of {instance} in {region} FAILED: {}; contain it by hand (irf contain)",
                    detail
                        .pointer("/ContainError/Cause")
                        .and_then(Value::as_str)
                        .unwrap_or("no cause recorded")
                ),
            ),
            CaseEvent::Other(other) => (
                format!("IRF case {case_id}: {other}"),
                format!("[irf][{account}] case {case_id}: {other}"),
            ),
        };
        return Ok(vec![Notice {
            subject,
            text,
            to_topic: true,
        }]);
    }
    if event.get("detail-type").and_then(Value::as_str) == Some(EXECUTION_STATUS_CHANGE_DETAIL_TYPE)
    {
        let e: ExecutionStatusChangeEvent = super::request(Handler::Notify, event)?;
        let d = e.detail;
        let status = d.status.as_deref().unwrap_or("?");
        let name = d.name.as_deref().unwrap_or("?");
        let case_id = name.trim_start_matches(irf_core::contract::EXECUTION_NAME_PREFIX);
        let why = [d.error.as_deref(), d.cause.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(": ");
        return Ok(vec![Notice {
            subject: format!("IRF case {case_id} {status}"),
            text: format!(
                "[irf] case {case_id} ended {status}{}",
                if why.is_empty() {
                    String::new()
                } else {
                    format!(" ({why})")
                }
            ),
            to_topic: true,
        }]);
    }
    Err(HandlerError::Fatal(format!(
        "notify cannot handle this input: {}",
        event.to_string().chars().take(200).collect::<String>()
    )))
}

/// Where notices go (the function's environment).
#[derive(Clone, Debug, Default)]
pub struct NotifyConfig {
    /// The security account's outcome topic (security account notices go there).
    pub outcome_topic_arn: Option<String>,
    /// Slack webhook secret and channel (Slack is used only when both are set).
    pub slack: Option<(String, String)>,
}

impl NotifyConfig {
    /// From the function's environment `env`.
    pub fn from_vars(env: NotifyEnv) -> Self {
        NotifyConfig {
            outcome_topic_arn: env.outcome_topic_arn,
            slack: env.slack_secret_arn.zip(env.slack_channel),
        }
    }

    /// From the process environment.
    pub fn from_env() -> Result<Self> {
        NotifyEnv::from_env()
            .map(NotifyConfig::from_vars)
            .map_err(HandlerError::fatal)
    }
}

/// Sends the notices of one event (configuration from the environment).
pub async fn handle(aws: &Aws, event: Value) -> Result<Value> {
    handle_with(aws, &NotifyConfig::from_env()?, event).await
}

/// Sends the notices of one event: to the outcome topic (security account notices) and Slack.
pub async fn handle_with(aws: &Aws, cfg: &NotifyConfig, event: Value) -> Result<Value> {
    let notices = notices(&event)?;
    let slack = match &cfg.slack {
        Some((secret, channel)) => {
            let secret_region = secret.split(':').nth(3).unwrap_or("us-east-1").to_owned();
            Some(Slack::new(
                aws.secrets(&aws.here(&secret_region)),
                secret,
                channel,
            )?)
        }
        None => None,
    };
    for n in &notices {
        if n.to_topic
            && let Some(t) = &cfg.outcome_topic_arn
        {
            let topic_region = t
                .split(':')
                .nth(3)
                .map_or_else(|| aws.home_region(), str::to_owned);
            aws.sns(&aws.here(&topic_region))
                .publish()
                .topic_arn(t)
                .subject(n.subject.chars().take(99).collect::<String>())
                .message(&n.text)
                .send()
                .await
                .map_err(|e| error::aws("sns:Publish", e))?;
        }
        if let Some(s) = &slack {
            s.post(&n.text).await?;
        }
        tracing::info!(subject = %n.subject, "notified");
    }
    Ok(serde_json::json!({ "sent": notices.len() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_inputs() {
        let sns = serde_json::json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Subject": "s", "Message": "[irf] i-1 contained"}}]});
        assert_eq!(notices(&sns).unwrap()[0].text, "[irf] i-1 contained");
        let task = serde_json::json!({"Action": NotifyAction::Notify.name(), "Event": CaseEvent::CaseFailed.name(), "Detail": {
            "Case": {"case_id": "C1", "account": "333333333333", "instance_id": "i-1", "region": "eu-west-1"},
            "Results": [{"Kind": "disk", "Status": "SUCCEEDED"}, {"Kind": "memory", "Status": "FAILED", "Error": {"Error": "Irf.Fatal", "Cause": "preflight: lockdown"}}]
        }});
        let n = &notices(&task).unwrap()[0];
        assert_eq!(n.subject, "IRF case C1 FAILED");
        assert!(
            n.text.contains("FAILED at memory: preflight: lockdown"),
            "{}",
            n.text
        );
        assert!(n.text.contains("333333333333") && n.text.contains("i-1"));
        let status = serde_json::json!({"detail-type": "Step Functions Execution Status Change", "detail": {
            "status": "TIMED_OUT", "name": "sf-forensics-C2", "error": "States.Timeout"}});
        assert_eq!(
            notices(&status).unwrap()[0].text,
            "[irf] case C2 ended TIMED_OUT (States.Timeout)"
        );
        assert!(notices(&serde_json::json!({"x": 1})).is_err());
    }
}
