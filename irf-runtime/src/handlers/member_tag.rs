//! Member account: the `SecurityIncidentStatus` tag handler.
//!
//! `Analyze` prepares the instance (prior state recorded, termination protection, stop on
//! shutdown, volumes kept, SSM-only profile) and *then* asks the security account to acquire
//! evidence, so the memory branch never meets an instance it cannot command. `Contain` isolates
//! it. Any other value is reported as not triggering anything; removing the tag does nothing.

use std::collections::BTreeMap;

use irf_core::contract;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::aws::{Aws, env, env_flag};
use crate::containment::{self, Containment};
use crate::error::{self, HandlerError, Result};

/// An EventBridge "Tag Change on Resource" event.
#[derive(Debug, Deserialize)]
pub struct TagChangeEvent {
    /// Detail type.
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    /// `aws.tag`.
    pub source: String,
    /// Account of the resource.
    pub account: String,
    /// Region of the resource.
    pub region: String,
    /// Event time (RFC 3339).
    pub time: String,
    /// The resource ARN.
    pub resources: Vec<String>,
    /// Detail.
    pub detail: TagChangeDetail,
}

/// Detail of a tag change.
#[derive(Debug, Deserialize)]
pub struct TagChangeDetail {
    /// Keys that changed.
    #[serde(rename = "changed-tag-keys")]
    pub changed_tag_keys: Vec<String>,
    /// `ec2`.
    pub service: String,
    /// `instance`.
    #[serde(rename = "resource-type")]
    pub resource_type: String,
    /// Tags after the change.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// What the handler decided.
#[derive(Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "decision")]
pub enum Decision {
    /// Not about the incident tag.
    Ignored,
    /// The incident tag was removed.
    Removed,
    /// A value that triggers nothing.
    NotTriggered {
        /// The value.
        value: String,
    },
    /// Prepare for acquisition.
    Analyze,
    /// Isolate.
    Contain,
}

/// Parses the event and decides; a malformed event is a fatal error naming what is wrong.
pub fn decide(event: &Value) -> Result<(TagChangeEvent, String, Decision)> {
    let e: TagChangeEvent = serde_json::from_value(event.clone())
        .map_err(|err| HandlerError::Fatal(format!("malformed tag-change event: {err}")))?;
    if e.source != "aws.tag" || e.detail.service != "ec2" || e.detail.resource_type != "instance" {
        return Err(HandlerError::Fatal(format!(
            "not an EC2 instance tag change (source {}, service {}, type {})",
            e.source, e.detail.service, e.detail.resource_type
        )));
    }
    let arn = e
        .resources
        .first()
        .ok_or_else(|| HandlerError::Fatal("tag-change event names no resource".into()))?;
    let instance_id = arn
        .rsplit_once(":instance/")
        .map(|(_, id)| id.to_owned())
        .filter(|id| {
            id.starts_with("i-") && id.len() >= 10 && id[2..].bytes().all(|b| b.is_ascii_hexdigit())
        })
        .ok_or_else(|| {
            HandlerError::Fatal(format!("resource {arn:?} is not an EC2 instance ARN"))
        })?;
    let key = contract::INCIDENT_STATUS_TAG;
    let decision = if !e.detail.changed_tag_keys.iter().any(|k| k == key) {
        Decision::Ignored
    } else {
        match e.detail.tags.get(key).map(String::as_str) {
            None => Decision::Removed,
            Some(v) if v == contract::STATUS_ANALYZE => Decision::Analyze,
            Some(v) if v == contract::STATUS_CONTAIN => Decision::Contain,
            Some(v) => Decision::NotTriggered {
                value: v.to_owned(),
            },
        }
    };
    Ok((e, instance_id, decision))
}

/// The member handler's configuration (its function environment).
#[derive(Clone, Debug)]
pub struct MemberConfig {
    /// Containment settings.
    pub settings: containment::Settings,
    /// Member name (in narration).
    pub member_name: String,
    /// Narration topic (`IRF_NOTIFICATION_TOPIC_ARN`).
    pub topic_arn: Option<String>,
    /// The security account's incident bus (`IRF_INCIDENT_BUS_ARN`).
    pub bus_arn: Option<String>,
}

impl MemberConfig {
    /// From the function's environment.
    pub fn from_env() -> Result<Self> {
        Ok(MemberConfig {
            settings: containment::Settings {
                prefix: env("IRF_PREFIX")?,
                ir_profile_arn: std::env::var("IRF_IR_PROFILE_ARN").ok(),
                isolation_profile_arn: std::env::var("IRF_ISOLATION_PROFILE_ARN").ok(),
                disassociate_elastic_ips: env_flag("IRF_DISASSOCIATE_ELASTIC_IPS", false),
                revoke_role_sessions: env_flag("IRF_REVOKE_ROLE_SESSIONS", true),
            },
            member_name: std::env::var("IRF_MEMBER_NAME").unwrap_or_default(),
            topic_arn: std::env::var("IRF_NOTIFICATION_TOPIC_ARN").ok(),
            bus_arn: std::env::var("IRF_INCIDENT_BUS_ARN").ok(),
        })
    }
}

/// Publishes a narration line to the member's topic.
pub async fn narrate(aws: &Aws, topic_arn: &str, region: &str, text: &str) -> Result<()> {
    let topic_region = topic_arn.split(':').nth(3).unwrap_or(region);
    aws.sns(&aws.here(topic_region))
        .publish()
        .topic_arn(topic_arn)
        .subject("IRF incident response")
        .message(text)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| error::aws("sns:Publish", e))
}

/// Asks the security account to acquire evidence (the bus's region, wherever this runs).
pub async fn request_acquisition(
    aws: &Aws,
    bus_arn: &str,
    account: &str,
    region: &str,
    instance_id: &str,
    requested_at: u64,
    prior_state_parameter: &str,
) -> Result<()> {
    let bus_region = bus_arn.split(':').nth(3).unwrap_or(region);
    let detail = serde_json::json!({
        "account": account,
        "region": region,
        "instance_id": instance_id,
        "requested_at": requested_at,
        "prior_state_parameter": prior_state_parameter,
    });
    let out = aws
        .events(&aws.here(bus_region))
        .put_events()
        .entries(
            aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                .event_bus_name(bus_arn)
                .source(contract::INCIDENT_EVENT_SOURCE)
                .detail_type(contract::INCIDENT_EVENT_DETAIL_TYPE)
                .detail(detail.to_string())
                .build(),
        )
        .send()
        .await
        .map_err(|e| error::aws("events:PutEvents", e))?;
    if out.failed_entry_count() > 0 {
        let why = out
            .entries()
            .iter()
            .filter_map(|e| e.error_message())
            .collect::<Vec<_>>()
            .join("; ");
        return Err(HandlerError::Retryable(format!(
            "events:PutEvents rejected the request: {why}"
        )));
    }
    Ok(())
}

/// Handles one tag-change event (configuration from the environment).
pub async fn handle(aws: &Aws, event: Value) -> Result<Value> {
    handle_with(aws, &MemberConfig::from_env()?, event).await
}

/// Handles one tag-change event.
pub async fn handle_with(aws: &Aws, cfg: &MemberConfig, event: Value) -> Result<Value> {
    let (e, instance_id, decision) = decide(&event)?;
    let label = format!("[irf][{}][{}]", e.account, cfg.member_name);
    let topic = cfg.topic_arn.clone();
    let say = |text: String| {
        let topic = topic.clone();
        let region = e.region.clone();
        async move {
            tracing::info!(%text, "narration");
            match topic {
                Some(t) => narrate(aws, &t, &region, &text).await,
                None => Ok(()),
            }
        }
    };
    let done = |changes: Vec<containment::Change>| serde_json::json!({ "decision": decision, "instance_id": instance_id, "changes": changes });
    match &decision {
        Decision::Ignored | Decision::Removed => return Ok(done(Vec::new())),
        Decision::NotTriggered { value } => {
            say(format!(
                "{label} {instance_id}: {} changed to {value:?}; nothing triggered (only {:?} and {:?}, case-sensitive)",
                contract::INCIDENT_STATUS_TAG,
                contract::STATUS_ANALYZE,
                contract::STATUS_CONTAIN
            ))
            .await?;
            return Ok(done(Vec::new()));
        }
        Decision::Analyze | Decision::Contain => {}
    }
    let conf = aws.here(&e.region);
    let engine = Containment::new(
        aws.ec2(&conf),
        aws.iam(&conf),
        aws.ssm(&conf),
        cfg.settings.clone(),
        containment::Target {
            account: e.account.clone(),
            region: e.region.clone(),
            instance_id: instance_id.clone(),
        },
        aws.partition(),
    );
    let result = match decision {
        Decision::Analyze => engine.analyze().await,
        _ => engine.contain().await,
    };
    let report = match result {
        Ok(r) => r,
        Err(err) => {
            if let Err(n) = say(format!("{label} {instance_id}: FAILED: {err}")).await {
                tracing::error!(error = %n, "the failure notification could not be sent either");
            }
            return Err(err);
        }
    };
    let step = if decision == Decision::Analyze {
        "analysis preparation"
    } else {
        "containment"
    };
    if decision == Decision::Analyze
        && let Some(bus) = &cfg.bus_arn
    {
        let requested_at = humantime::parse_rfc3339(&e.time)
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs())
            .ok_or_else(|| {
                HandlerError::Fatal(format!("event time {:?} is not RFC 3339", e.time))
            })?;
        if let Err(err) = request_acquisition(
            aws,
            bus,
            &e.account,
            &e.region,
            &instance_id,
            requested_at,
            &report.prior_state_parameter,
        )
        .await
        {
            if let Err(n) = say(format!(
                "{label} {instance_id}: acquisition request FAILED: {err}"
            ))
            .await
            {
                tracing::error!(error = %n, "the failure notification could not be sent either");
            }
            return Err(err);
        }
        if !report.changes.is_empty() {
            say(format!(
                "{label} {instance_id}: {step} done ({}); evidence acquisition requested from the security account",
                report.summary()
            ))
            .await?;
        }
    } else if !report.changes.is_empty() {
        say(format!(
            "{label} {instance_id}: {step} done: {}",
            report.summary()
        ))
        .await?;
    }
    Ok(done(report.changes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(keys: &[&str], tags: &[(&str, &str)]) -> Value {
        serde_json::json!({
            "version": "0", "id": "e1", "detail-type": "Tag Change on Resource", "source": "aws.tag",
            "account": "333333333333", "time": "2026-11-29T10:00:00Z", "region": "eu-west-1",
            "resources": ["arn:aws:ec2:eu-west-1:333333333333:instance/i-0123456789abcdef0"],
            "detail": {
                "changed-tag-keys": keys, "service": "ec2", "resource-type": "instance", "version": 3,
                "tags": tags.iter().map(|(k, v)| ((*k).to_owned(), Value::from(*v))).collect::<serde_json::Map<_, _>>(),
            }
        })
    }

    #[test]
    fn decisions() {
        let d = |keys: &[&str], tags: &[(&str, &str)]| decide(&event(keys, tags)).unwrap().2;
        assert_eq!(
            d(
                &["SecurityIncidentStatus"],
                &[("SecurityIncidentStatus", "Analyze")]
            ),
            Decision::Analyze
        );
        assert_eq!(
            d(
                &["SecurityIncidentStatus"],
                &[("SecurityIncidentStatus", "Contain")]
            ),
            Decision::Contain
        );
        assert_eq!(
            d(
                &["SecurityIncidentStatus"],
                &[("SecurityIncidentStatus", "contain")]
            ),
            Decision::NotTriggered {
                value: "contain".into()
            },
            "values are case-sensitive"
        );
        assert_eq!(
            d(&["SecurityIncidentStatus"], &[("Name", "web")]),
            Decision::Removed
        );
        assert_eq!(
            d(&["Name"], &[("SecurityIncidentStatus", "Analyze")]),
            Decision::Ignored
        );
        let (_, id, _) = decide(&event(&[], &[])).unwrap();
        assert_eq!(id, "i-0123456789abcdef0");
    }

    #[test]
    fn malformed_events_are_named() {
        let err = decide(&serde_json::json!({"detail-type": "x"})).unwrap_err();
        assert_eq!(err.kind(), crate::error::ErrorKind::Fatal);
        assert!(
            err.to_string().starts_with("malformed tag-change event"),
            "{err}"
        );
        let mut e = event(&["SecurityIncidentStatus"], &[]);
        e["resources"][0] = Value::from("arn:aws:s3:::bucket");
        assert!(
            decide(&e)
                .unwrap_err()
                .to_string()
                .contains("not an EC2 instance ARN")
        );
        let mut e = event(&["SecurityIncidentStatus"], &[]);
        e["detail"]["resource-type"] = Value::from("volume");
        assert!(
            decide(&e)
                .unwrap_err()
                .to_string()
                .contains("not an EC2 instance tag change")
        );
    }
}
