//! The prior-state record: the instance's state before the framework first changed it, kept as
//! JSON in an SSM parameter of the instance's account (`/<prefix>/containment/<instance-id>`),
//! written once and read by every later run and by release.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::state::Current;
use crate::error::{self, ErrorKind, HandlerError, Result};

/// SSM standard parameters hold up to 4 KiB; a larger record needs the advanced tier.
const STANDARD_TIER_LIMIT: usize = 4096;

/// The state an instance was in before the framework touched it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorState {
    /// The instance the record is about.
    pub instance_id: String,
    /// When it was recorded (RFC 3339).
    pub recorded_at: String,
    /// Instance profile ARN; `None` when the instance had no profile.
    pub instance_profile_arn: Option<String>,
    /// Whether termination protection was on.
    pub disable_api_termination: bool,
    /// `stop` or `terminate`.
    pub shutdown_behavior: String,
    /// Delete-on-termination per device name (`/dev/xvda`).
    pub delete_on_termination: BTreeMap<String, bool>,
    /// Security group ids per network interface id.
    pub network_interfaces: BTreeMap<String, Vec<String>>,
    /// Elastic IPs (recorded only when containment disassociates them).
    pub elastic_ips: Vec<ElasticIp>,
}

/// An Elastic IP association.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElasticIp {
    /// The address's allocation id (`eipalloc-…`).
    pub allocation_id: String,
    /// The interface it was associated with.
    pub network_interface_id: String,
    /// The private IP it mapped to; `None` lets AWS choose the interface's primary address.
    pub private_ip: Option<String>,
}

impl PriorState {
    /// The record of the instance as it is now.
    pub(super) fn of(current: &Current, recorded_at: String) -> Self {
        PriorState {
            instance_id: current.instance_id.clone(),
            recorded_at,
            instance_profile_arn: current.profile.as_ref().map(|p| p.arn.clone()),
            disable_api_termination: current.termination_protected,
            shutdown_behavior: current.shutdown_behavior.clone(),
            delete_on_termination: current.delete_on_termination.clone(),
            network_interfaces: current.interfaces.clone(),
            elastic_ips: current
                .addresses
                .iter()
                .filter_map(|a| {
                    Some(ElasticIp {
                        allocation_id: a.allocation_id.clone(),
                        network_interface_id: a.network_interface_id.clone()?,
                        private_ip: a.private_ip.clone(),
                    })
                })
                .collect(),
        }
    }
}

/// Reads the record in parameter `name`, if there is one.
pub(super) async fn read(ssm: &aws_sdk_ssm::Client, name: &str) -> Result<Option<PriorState>> {
    match ssm.get_parameter().name(name).send().await {
        Ok(out) => {
            let text = out.parameter().and_then(|p| p.value()).unwrap_or_default();
            serde_json::from_str(text).map(Some).map_err(|e| {
                HandlerError::caused_by(
                    ErrorKind::Fatal,
                    format!("prior-state record {name} is not valid"),
                    e,
                )
            })
        }
        Err(e) if error::code(&e) == Some("ParameterNotFound") => Ok(None),
        Err(e) => Err(error::aws(&format!("ssm:GetParameter {name}"), e)),
    }
}

/// Writes `record` to parameter `name` unless a record is there already; returns the record in
/// force and whether this call wrote it. The write is conditional (no overwrite), so of two
/// concurrent first runs one records and the other reads what it recorded.
pub(super) async fn ensure(
    ssm: &aws_sdk_ssm::Client,
    name: &str,
    record: PriorState,
) -> Result<(PriorState, bool)> {
    let text = serde_json::to_string(&record).map_err(HandlerError::fatal)?;
    let put = ssm
        .put_parameter()
        .name(name)
        .description(format!(
            "IRF: state of {} before incident response changed it",
            record.instance_id
        ))
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .tier(if text.len() > STANDARD_TIER_LIMIT {
            aws_sdk_ssm::types::ParameterTier::Advanced
        } else {
            aws_sdk_ssm::types::ParameterTier::Standard
        })
        .value(&text)
        .overwrite(false)
        .send()
        .await;
    match put {
        Ok(_) => Ok((record, true)),
        Err(e) if error::code(&e) == Some("ParameterAlreadyExists") => {
            let existing = read(ssm, name).await?.ok_or_else(|| {
                HandlerError::retryable(format!(
                    "prior-state record {name} exists but cannot be read yet"
                ))
            })?;
            Ok((existing, false))
        }
        Err(e) => Err(error::aws(&format!("ssm:PutParameter {name}"), e)),
    }
}

/// Removes the record (release, once the state is restored).
pub(super) async fn delete(ssm: &aws_sdk_ssm::Client, name: &str) -> Result<()> {
    ssm.delete_parameter()
        .name(name)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| error::aws("ssm:DeleteParameter", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::containment::state::{Address, ProfileAssociation};

    #[test]
    fn the_record_is_the_current_state() {
        let current = Current {
            instance_id: "i-1".into(),
            vpc_id: Some("vpc-1".into()),
            profile: Some(ProfileAssociation {
                association_id: "iip-assoc-1".into(),
                arn: "arn:aws:iam::1:instance-profile/web".into(),
            }),
            termination_protected: false,
            shutdown_behavior: "terminate".into(),
            delete_on_termination: BTreeMap::from([("/dev/xvda".into(), true)]),
            interfaces: BTreeMap::from([("eni-1".into(), vec!["sg-web".into()])]),
            addresses: vec![
                Address {
                    allocation_id: "eipalloc-1".into(),
                    association_id: Some("eipassoc-1".into()),
                    network_interface_id: Some("eni-1".into()),
                    private_ip: Some("10.0.0.5".into()),
                },
                // Not on an interface: nothing to restore it to.
                Address {
                    allocation_id: "eipalloc-2".into(),
                    association_id: None,
                    network_interface_id: None,
                    private_ip: None,
                },
            ],
        };
        let record = PriorState::of(&current, "2026-11-29T10:00:00Z".into());
        assert_eq!(
            record,
            PriorState {
                instance_id: "i-1".into(),
                recorded_at: "2026-11-29T10:00:00Z".into(),
                instance_profile_arn: Some("arn:aws:iam::1:instance-profile/web".into()),
                disable_api_termination: false,
                shutdown_behavior: "terminate".into(),
                delete_on_termination: BTreeMap::from([("/dev/xvda".into(), true)]),
                network_interfaces: BTreeMap::from([("eni-1".into(), vec!["sg-web".into()])]),
                elastic_ips: vec![ElasticIp {
                    allocation_id: "eipalloc-1".into(),
                    network_interface_id: "eni-1".into(),
                    private_ip: Some("10.0.0.5".into()),
                }],
            }
        );
        // The parameter's JSON reads back to the same record.
        let text = serde_json::to_string(&record).unwrap();
        assert_eq!(serde_json::from_str::<PriorState>(&text).unwrap(), record);
    }
}
