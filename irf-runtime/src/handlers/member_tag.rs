//! Member account: the `SecurityIncidentStatus` tag handler.
//!
//! `Analyze` prepares the instance (prior state recorded, termination protection, stop on
//! shutdown, volumes kept, SSM-only profile) and *then* asks the security account to acquire
//! evidence, so the memory branch never meets an instance it cannot command. `Contain` isolates
//! it. Any other value is reported as not triggering anything; removing the tag does nothing.

use irf_core::contract;
use irf_core::env::{MemberTagEnv, flag};
use irf_core::events::{
    IncidentRequest, TAG_CHANGE_RESOURCE_TYPE, TAG_CHANGE_SERVICE, TAG_CHANGE_SOURCE,
    TagChangeEvent,
};
use serde::Serialize;
use serde_json::Value;

use crate::aws::Aws;
use crate::containment::{self, Containment};
use crate::error::{self, HandlerError, Result};

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
        /// The tag's value, as set (values are case-sensitive).
        value: String,
    },
    /// `Analyze`: prepare the instance for acquisition, then request it.
    Analyze,
    /// `Contain`: isolate the instance.
    Contain,
}

/// Parses the event and decides; a malformed event is a fatal error naming what is wrong.
pub fn decide(event: &Value) -> Result<(TagChangeEvent, String, Decision)> {
    let e: TagChangeEvent = serde_json::from_value(event.clone())
        .map_err(|err| HandlerError::Fatal(format!("malformed tag-change event: {err}")))?;
    if e.source != TAG_CHANGE_SOURCE
        || e.detail.service != TAG_CHANGE_SERVICE
        || e.detail.resource_type != TAG_CHANGE_RESOURCE_TYPE
    {
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
    /// Profiles, prefix and choices of the containment engine.
    pub settings: containment::Settings,
    /// Member name (in narration).
    pub member_name: String,
    /// Narration topic (narration is only logged without one).
    pub topic_arn: Option<String>,
    /// The security account's incident bus (no acquisition is requested without one).
    pub bus_arn: Option<String>,
}

impl MemberConfig {
    /// From the function's environment `env`.
    pub fn from_vars(env: MemberTagEnv) -> Self {
        MemberConfig {
            settings: containment::Settings {
                prefix: env.prefix,
                ir_profile_arn: env.ir_profile_arn,
                isolation_profile_arn: env.isolation_profile_arn,
                disassociate_elastic_ips: flag(env.disassociate_elastic_ips.as_deref(), false),
                revoke_role_sessions: flag(env.revoke_role_sessions.as_deref(), true),
            },
            member_name: env.member_name.unwrap_or_default(),
            topic_arn: env.notification_topic_arn,
            bus_arn: env.incident_bus_arn,
        }
    }

    /// From the process environment.
    pub fn from_env() -> Result<Self> {
        MemberTagEnv::from_env()
            .map(MemberConfig::from_vars)
            .map_err(HandlerError::fatal)
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
    let detail = IncidentRequest {
        account: account.to_owned(),
        region: region.to_owned(),
        instance_id: instance_id.to_owned(),
        requested_at,
        prior_state_parameter: Some(prior_state_parameter.to_owned()),
    };
    let detail = serde_json::to_string(&detail).map_err(HandlerError::fatal)?;
    let out = aws
        .events(&aws.here(bus_region))
        .put_events()
        .entries(
            aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                .event_bus_name(bus_arn)
                .source(contract::INCIDENT_EVENT_SOURCE)
                .detail_type(contract::INCIDENT_EVENT_DETAIL_TYPE)
                .detail(detail)
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
