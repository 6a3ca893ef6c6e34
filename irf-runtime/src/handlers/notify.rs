//! Notifications: member narration to Slack (SNS-triggered), and case outcome notices from the
//! security account (a workflow task, or an EventBridge execution status change) to the outcome
//! topic and Slack. Each message names the account, the instance, the case and the step.

use serde_json::Value;

use crate::aws::Aws;
use crate::error::{self, HandlerError, Result};
use crate::slack::Slack;

/// A notice to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Subject line.
    pub subject: String,
    /// Text.
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
        .filter(|r| r.get("Status").and_then(Value::as_str) == Some("FAILED"))
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
    if let Some(records) = event.get("Records").and_then(Value::as_array) {
        return records
            .iter()
            .map(|r| {
                let sns = r
                    .get("Sns")
                    .ok_or_else(|| HandlerError::Fatal("SNS record without Sns".into()))?;
                Ok(Notice {
                    subject: sns
                        .get("Subject")
                        .and_then(Value::as_str)
                        .unwrap_or("IRF")
                        .to_owned(),
                    text: sns
                        .get("Message")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    to_topic: false,
                })
            })
            .collect();
    }
    if event.get("Action").and_then(Value::as_str) == Some("Notify") {
        let what = event
            .get("Event")
            .and_then(Value::as_str)
            .unwrap_or("CaseEvent");
        let detail = event.get("Detail").cloned().unwrap_or(Value::Null);
        let case = detail.get("Case").cloned().unwrap_or(Value::Null);
        let (case_id, account, instance, region) = case_fields(&case);
        let (subject, text) = match what {
            "CaseStarted" => (
                format!("IRF case {case_id} started"),
                format!(
                    "[irf][{account}] case {case_id} started for {instance} in {region}: memory and disk acquisition, then containment"
                ),
            ),
            "CaseSucceeded" => (
                format!("IRF case {case_id} succeeded"),
                format!(
                    "[irf][{account}] case {case_id} for {instance} in {region} succeeded: evidence acquired and verified, instance contained"
                ),
            ),
            "CaseFailed" => (
                format!("IRF case {case_id} FAILED"),
                format!(
                    "[irf][{account}] case {case_id} for {instance} in {region} FAILED at {}",
                    failed_step(&detail).unwrap_or_else(|| "closing the case".to_owned())
                ),
            ),
            "ContainFailed" => (
                format!("IRF case {case_id}: containment FAILED"),
                format!(
                    "[irf][{account}] case {case_id}: CONTAINMENT of {instance} in {region} FAILED: {}; contain it by hand (irf contain)",
                    detail
                        .pointer("/ContainError/Cause")
                        .and_then(Value::as_str)
                        .unwrap_or("no cause recorded")
                ),
            ),
            other => (
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
    if event.get("detail-type").and_then(Value::as_str)
        == Some("Step Functions Execution Status Change")
    {
        let d = event.get("detail").cloned().unwrap_or(Value::Null);
        let status = d.get("status").and_then(Value::as_str).unwrap_or("?");
        let name = d.get("name").and_then(Value::as_str).unwrap_or("?");
        let case_id = name.trim_start_matches(irf_core::contract::EXECUTION_NAME_PREFIX);
        let why = [d.get("error"), d.get("cause")]
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
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
    /// The security account's outcome topic (`IRF_OUTCOME_TOPIC_ARN`).
    pub outcome_topic_arn: Option<String>,
    /// Slack webhook secret and channel (`IRF_SLACK_SECRET_ARN`, `IRF_SLACK_CHANNEL`).
    pub slack: Option<(String, String)>,
}

impl NotifyConfig {
    /// From the function's environment.
    pub fn from_env() -> Self {
        NotifyConfig {
            outcome_topic_arn: std::env::var("IRF_OUTCOME_TOPIC_ARN").ok(),
            slack: match (
                std::env::var("IRF_SLACK_SECRET_ARN"),
                std::env::var("IRF_SLACK_CHANNEL"),
            ) {
                (Ok(secret), Ok(channel)) => Some((secret, channel)),
                _ => None,
            },
        }
    }
}

/// Sends the notices of one event (configuration from the environment).
pub async fn handle(aws: &Aws, event: Value) -> Result<Value> {
    handle_with(aws, &NotifyConfig::from_env(), event).await
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
        let task = serde_json::json!({"Action": "Notify", "Event": "CaseFailed", "Detail": {
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
