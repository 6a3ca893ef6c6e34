//! Preparing an instance for analysis, containing it, and releasing it.
//!
//! Before anything changes, the instance's state (instance profile, security groups per network
//! interface, termination protection, shutdown behaviour, volume retention, Elastic IPs) is
//! written once to an SSM parameter in the instance's account
//! (`/<prefix>/containment/<instance-id>`), so containment can be reviewed and reversed. Every
//! step checks the current state first, so running the same request twice (a Lambda retry)
//! ends in the same state without duplicate groups, policies or notifications.
//!
//! Containment swaps each network interface first to an "untrack" group that allows all
//! traffic in and out (which makes every existing flow untracked) and then to the isolation
//! group with no rules, which drops those untracked flows at once: established sessions are
//! cut, not just new ones. Paths AWS always tracks are not cut this way (see
//! [`ALWAYS_TRACKED`]).

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{
    AttributeBooleanValue, AttributeValue, Filter, IamInstanceProfileSpecification,
    InstanceAttributeName, InstanceBlockDeviceMappingSpecification, IpPermission, IpRange,
    Ipv6Range, ResourceType, Tag, TagSpecification,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde::{Deserialize, Serialize};

use crate::error::{self, HandlerError, Result};

/// Connections AWS tracks whatever the security groups say, so the untrack-then-isolate swap
/// does not cut them (AWS "automatically tracked connections"): traffic through an egress-only
/// internet gateway, a Gateway Load Balancer, Global Accelerator, a NAT gateway, a Network
/// Firewall endpoint, a Network Load Balancer, AWS PrivateLink (interface endpoints), a transit
/// gateway attachment, and Lambda's Hyperplane interfaces. For those paths the isolation
/// group still blocks new connections; established ones end at their idle timeout.
pub const ALWAYS_TRACKED: &[&str] = &[
    "egress-only internet gateway",
    "Gateway Load Balancer",
    "Global Accelerator",
    "NAT gateway",
    "Network Firewall endpoint",
    "Network Load Balancer",
    "AWS PrivateLink (interface VPC endpoint)",
    "transit gateway attachment",
    "Lambda Hyperplane network interface",
];

/// Tag on the framework's security groups (IAM lets the tag handler shape only these).
pub const ISOLATION_TAG: &str = "irf:isolation";

/// Containment settings.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Org prefix (names the prior-state parameter).
    pub prefix: String,
    /// Instance profile for analysis (SSM only); `None` leaves the profile alone on analyze.
    pub ir_profile_arn: Option<String>,
    /// Deny-all instance profile; `None` (framework not deployed) removes the profile instead.
    pub isolation_profile_arn: Option<String>,
    /// Disassociate Elastic IPs on containment.
    pub disassociate_elastic_ips: bool,
    /// Revoke the previous roles' sessions issued to this instance.
    pub revoke_role_sessions: bool,
}

/// The instance worked on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Instance id.
    pub instance_id: String,
}

/// The state an instance was in before the framework touched it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorState {
    /// Instance.
    pub instance_id: String,
    /// When it was recorded (RFC 3339).
    pub recorded_at: String,
    /// Instance profile ARN.
    pub instance_profile_arn: Option<String>,
    /// Termination protection.
    pub disable_api_termination: bool,
    /// `stop` or `terminate`.
    pub shutdown_behavior: String,
    /// Delete-on-termination per device.
    pub delete_on_termination: BTreeMap<String, bool>,
    /// Security groups per network interface.
    pub network_interfaces: BTreeMap<String, Vec<String>>,
    /// Elastic IPs (recorded when containment disassociates them).
    pub elastic_ips: Vec<ElasticIp>,
}

/// An Elastic IP association.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElasticIp {
    /// Allocation id.
    pub allocation_id: String,
    /// Network interface.
    pub network_interface_id: String,
    /// Private IP it maps to.
    pub private_ip: Option<String>,
}

/// What one run did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Changes made, in order; empty when everything already was as required.
    pub changes: Vec<String>,
    /// The prior-state parameter.
    pub prior_state_parameter: String,
    /// True when this run recorded the prior state (first action on the instance).
    pub recorded: bool,
}

/// The containment engine for one instance.
pub struct Containment {
    ec2: aws_sdk_ec2::Client,
    iam: aws_sdk_iam::Client,
    ssm: aws_sdk_ssm::Client,
    settings: Settings,
    target: Target,
    partition: String,
}

struct Current {
    vpc_id: String,
    /// Termination protection now (read by `ensure_record`).
    termination_protected: bool,
    /// Shutdown behaviour now (read by `ensure_record`).
    shutdown_behavior: String,
    enis: BTreeMap<String, Vec<String>>,
    devices: BTreeMap<String, bool>,
    association: Option<(String, String)>,
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// Whether `rules` allow all traffic from/to anywhere: (IPv4, IPv6).
fn allows_everything(rules: &[IpPermission]) -> (bool, bool) {
    let all = rules.iter().filter(|p| p.ip_protocol() == Some("-1"));
    let v4 = all.clone().any(|p| {
        p.ip_ranges()
            .iter()
            .any(|r| r.cidr_ip() == Some("0.0.0.0/0"))
    });
    let v6 = all.clone().any(|p| {
        p.ipv6_ranges()
            .iter()
            .any(|r| r.cidr_ipv6() == Some("::/0"))
    });
    (v4, v6)
}

/// The result of a call whose error `code` means the required state already holds (a rule
/// already there, or already gone, because a concurrent containment got there first); any
/// other error is returned with `what` was being done.
fn unless_already<T, E>(
    r: std::result::Result<T, SdkError<E, HttpResponse>>,
    code: &str,
    what: &str,
) -> Result<()>
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    match r {
        Ok(_) => Ok(()),
        Err(e) if error::code(&e) == Some(code) => Ok(()),
        Err(e) => Err(error::aws(what, e)),
    }
}

impl Containment {
    /// An engine working with clients in the instance's account and region.
    pub fn new(
        ec2: aws_sdk_ec2::Client,
        iam: aws_sdk_iam::Client,
        ssm: aws_sdk_ssm::Client,
        settings: Settings,
        target: Target,
        partition: &str,
    ) -> Self {
        Containment {
            ec2,
            iam,
            ssm,
            settings,
            target,
            partition: partition.to_owned(),
        }
    }

    /// The SSM parameter holding the prior state.
    pub fn parameter_name(&self) -> String {
        format!(
            "/{}/{}/{}",
            self.settings.prefix,
            irf_core::contract::PRIOR_STATE_PARAMETER_PREFIX,
            self.target.instance_id
        )
    }

    fn instance_arn(&self) -> String {
        format!(
            "arn:{}:ec2:{}:{}:instance/{}",
            self.partition, self.target.region, self.target.account, self.target.instance_id
        )
    }

    async fn current(&self) -> Result<Current> {
        let id = &self.target.instance_id;
        let out = self
            .ec2
            .describe_instances()
            .instance_ids(id)
            .send()
            .await
            .map_err(|e| error::aws(&format!("ec2:DescribeInstances {id}"), e))?;
        let inst = out
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .find(|i| i.instance_id() == Some(id.as_str()))
            .ok_or_else(|| {
                HandlerError::Fatal(format!(
                    "instance {id} not found in {}/{}",
                    self.target.account, self.target.region
                ))
            })?;
        let enis = inst
            .network_interfaces()
            .iter()
            .filter_map(|n| {
                Some((
                    n.network_interface_id()?.to_owned(),
                    n.groups()
                        .iter()
                        .filter_map(|g| g.group_id().map(str::to_owned))
                        .collect(),
                ))
            })
            .collect();
        let devices = inst
            .block_device_mappings()
            .iter()
            .filter_map(|b| {
                Some((
                    b.device_name()?.to_owned(),
                    b.ebs()?.delete_on_termination().unwrap_or(true),
                ))
            })
            .collect();
        // The association API is authoritative for the instance profile (DescribeInstances may
        // lag behind a replaced association, and does in the emulator).
        let assoc = self
            .ec2
            .describe_iam_instance_profile_associations()
            .filters(Filter::builder().name("instance-id").values(id).build())
            .send()
            .await
            .map_err(|e| error::aws("ec2:DescribeIamInstanceProfileAssociations", e))?;
        let association = assoc
            .iam_instance_profile_associations()
            .iter()
            .find(|a| {
                matches!(
                    a.state().map(|s| s.as_str()),
                    Some("associated" | "associating")
                )
            })
            .and_then(|a| {
                Some((
                    a.association_id()?.to_owned(),
                    a.iam_instance_profile()?.arn()?.to_owned(),
                ))
            });
        Ok(Current {
            vpc_id: inst.vpc_id().unwrap_or_default().to_owned(),
            termination_protected: false,
            shutdown_behavior: String::new(),
            enis,
            devices,
            association,
        })
    }

    /// Reads the prior-state record, if there is one.
    pub async fn prior_state(&self) -> Result<Option<PriorState>> {
        let name = self.parameter_name();
        match self.ssm.get_parameter().name(&name).send().await {
            Ok(out) => {
                let text = out.parameter().and_then(|p| p.value()).unwrap_or_default();
                serde_json::from_str(text).map(Some).map_err(|e| {
                    HandlerError::Fatal(format!("prior-state record {name} is not valid: {e}"))
                })
            }
            Err(e) if error::code(&e) == Some("ParameterNotFound") => Ok(None),
            Err(e) => Err(error::aws(&format!("ssm:GetParameter {name}"), e)),
        }
    }

    /// Records the state before any change, once; returns the record in force and whether this
    /// call wrote it.
    async fn ensure_record(&self, cur: &mut Current) -> Result<(PriorState, bool)> {
        let id = &self.target.instance_id;
        let attr = |name: InstanceAttributeName| {
            self.ec2
                .describe_instance_attribute()
                .instance_id(id)
                .attribute(name)
                .send()
        };
        let (termination, shutdown) = tokio::try_join!(
            async {
                attr(InstanceAttributeName::DisableApiTermination)
                    .await
                    .map_err(|e| error::aws("ec2:DescribeInstanceAttribute", e))
            },
            async {
                attr(InstanceAttributeName::InstanceInitiatedShutdownBehavior)
                    .await
                    .map_err(|e| error::aws("ec2:DescribeInstanceAttribute", e))
            },
        )?;
        let elastic_ips = if self.settings.disassociate_elastic_ips {
            self.elastic_ips().await?
        } else {
            Vec::new()
        };
        cur.termination_protected = termination
            .disable_api_termination()
            .and_then(|v| v.value())
            .unwrap_or(false);
        shutdown
            .instance_initiated_shutdown_behavior()
            .and_then(|v| v.value())
            .unwrap_or("stop")
            .clone_into(&mut cur.shutdown_behavior);
        let record = PriorState {
            instance_id: id.clone(),
            recorded_at: now_rfc3339(),
            instance_profile_arn: cur.association.as_ref().map(|(_, arn)| arn.clone()),
            disable_api_termination: cur.termination_protected,
            shutdown_behavior: cur.shutdown_behavior.clone(),
            delete_on_termination: cur.devices.clone(),
            network_interfaces: cur.enis.clone(),
            elastic_ips,
        };
        let text = serde_json::to_string(&record).map_err(HandlerError::fatal)?;
        let name = self.parameter_name();
        let put = self
            .ssm
            .put_parameter()
            .name(&name)
            .description(format!(
                "IRF: state of {id} before incident response changed it"
            ))
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .tier(if text.len() > 4096 {
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
                let existing = self.prior_state().await?.ok_or_else(|| {
                    HandlerError::Retryable(format!(
                        "prior-state record {name} exists but cannot be read yet"
                    ))
                })?;
                Ok((existing, false))
            }
            Err(e) => Err(error::aws(&format!("ssm:PutParameter {name}"), e)),
        }
    }

    async fn elastic_ips(&self) -> Result<Vec<ElasticIp>> {
        let out = self
            .ec2
            .describe_addresses()
            .filters(
                Filter::builder()
                    .name("instance-id")
                    .values(&self.target.instance_id)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| error::aws("ec2:DescribeAddresses", e))?;
        Ok(out
            .addresses()
            .iter()
            .filter_map(|a| {
                Some(ElasticIp {
                    allocation_id: a.allocation_id()?.to_owned(),
                    network_interface_id: a.network_interface_id()?.to_owned(),
                    private_ip: a.private_ip_address().map(str::to_owned),
                })
            })
            .collect())
    }

    /// Termination protection, stop on shutdown, volumes kept on termination: only what is not
    /// so already. Returns what changed.
    async fn protect(&self, cur: &Current) -> Result<Vec<String>> {
        let id = &self.target.instance_id;
        let protect = async {
            if cur.termination_protected {
                return Ok(None);
            }
            self.ec2
                .modify_instance_attribute()
                .instance_id(id)
                .disable_api_termination(AttributeBooleanValue::builder().value(true).build())
                .send()
                .await
                .map(|_| Some("termination protection on".to_owned()))
                .map_err(|e| error::aws("ec2:ModifyInstanceAttribute (termination protection)", e))
        };
        let stop = async {
            if cur.shutdown_behavior == "stop" {
                return Ok(None);
            }
            self.ec2
                .modify_instance_attribute()
                .instance_id(id)
                .instance_initiated_shutdown_behavior(
                    AttributeValue::builder().value("stop").build(),
                )
                .send()
                .await
                .map(|_| Some("shutdown stops instead of terminating".to_owned()))
                .map_err(|e| error::aws("ec2:ModifyInstanceAttribute (shutdown behaviour)", e))
        };
        let keep = async {
            let deleted: Vec<InstanceBlockDeviceMappingSpecification> = cur
                .devices
                .iter()
                .filter(|(_, delete)| **delete)
                .map(|(d, _)| {
                    InstanceBlockDeviceMappingSpecification::builder()
                        .device_name(d)
                        .ebs(
                            aws_sdk_ec2::types::EbsInstanceBlockDeviceSpecification::builder()
                                .delete_on_termination(false)
                                .build(),
                        )
                        .build()
                })
                .collect();
            if deleted.is_empty() {
                return Ok(None);
            }
            self.ec2
                .modify_instance_attribute()
                .instance_id(id)
                .set_block_device_mappings(Some(deleted))
                .send()
                .await
                .map(|_| Some("volumes kept on termination".to_owned()))
                .map_err(|e| error::aws("ec2:ModifyInstanceAttribute (keep volumes)", e))
        };
        let (a, b, c) = tokio::join!(protect, stop, keep);
        Ok([a?, b?, c?].into_iter().flatten().collect())
    }

    /// Makes `profile` the instance's profile (`None`: no profile). Returns true if it changed.
    async fn set_profile(&self, cur: &Current, profile: Option<&str>) -> Result<bool> {
        let id = &self.target.instance_id;
        match (&cur.association, profile) {
            (Some((_, arn)), Some(p)) if arn == p => Ok(false),
            (None, None) => Ok(false),
            (Some((assoc, _)), Some(p)) => {
                self.ec2
                    .replace_iam_instance_profile_association()
                    .association_id(assoc)
                    .iam_instance_profile(IamInstanceProfileSpecification::builder().arn(p).build())
                    .send()
                    .await
                    .map_err(|e| {
                        error::aws(&format!("ec2:ReplaceIamInstanceProfileAssociation {id}"), e)
                    })?;
                Ok(true)
            }
            (None, Some(p)) => {
                self.ec2
                    .associate_iam_instance_profile()
                    .instance_id(id)
                    .iam_instance_profile(IamInstanceProfileSpecification::builder().arn(p).build())
                    .send()
                    .await
                    .map_err(|e| error::aws(&format!("ec2:AssociateIamInstanceProfile {id}"), e))?;
                Ok(true)
            }
            (Some((assoc, _)), None) => {
                self.ec2
                    .disassociate_iam_instance_profile()
                    .association_id(assoc)
                    .send()
                    .await
                    .map_err(|e| {
                        error::aws(&format!("ec2:DisassociateIamInstanceProfile {id}"), e)
                    })?;
                Ok(true)
            }
        }
    }

    /// Finds or creates the untrack and isolation groups of the VPC: (untrack, isolate).
    async fn isolation_groups(&self, vpc: &str) -> Result<(String, String)> {
        let isolate_name = irf_core::contract::ISOLATION_SECURITY_GROUP.to_owned();
        let untrack_name = format!("{isolate_name}_untrack");
        for attempt in 0..4 {
            let out = self
                .ec2
                .describe_security_groups()
                .filters(Filter::builder().name("vpc-id").values(vpc).build())
                .filters(
                    Filter::builder()
                        .name("group-name")
                        .values(&isolate_name)
                        .values(&untrack_name)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| error::aws("ec2:DescribeSecurityGroups", e))?;
            let find = |n: &str| {
                out.security_groups()
                    .iter()
                    .find(|g| g.group_name() == Some(n))
            };
            if let Some(g) = find(&isolate_name)
                && (!g.ip_permissions().is_empty() || !g.ip_permissions_egress().is_empty())
            {
                // Someone added rules to the isolation group: it must allow nothing.
                tracing::warn!(group = ?g.group_id(), "the isolation group had rules; removing them");
                self.clear_rules(g).await?;
            }
            if let Some(g) = find(&untrack_name)
                && (allows_everything(g.ip_permissions()) != (true, true)
                    || allows_everything(g.ip_permissions_egress()) != (true, true))
            {
                // Found before its creator finished opening it (or narrowed since): a swap
                // through a group that does not allow everything would leave flows tracked.
                self.open_fully(g).await?;
            }
            let id = |n: &str| find(n).and_then(|g| g.group_id().map(str::to_owned));
            let (mut untrack, mut isolate) = (id(&untrack_name), id(&isolate_name));
            let created = async {
                if isolate.is_none() {
                    isolate = Some(self.create_group(vpc, &isolate_name, false).await?);
                }
                if untrack.is_none() {
                    untrack = Some(self.create_group(vpc, &untrack_name, true).await?);
                }
                Ok::<_, HandlerError>(())
            }
            .await;
            match created {
                Ok(()) => return Ok((untrack.unwrap_or_default(), isolate.unwrap_or_default())),
                // A concurrent containment in the same VPC created it first: look again.
                Err(HandlerError::Fatal(m))
                    if attempt < 3 && m.contains("InvalidGroup.Duplicate") =>
                {
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        Err(HandlerError::Retryable(format!(
            "isolation groups of {vpc} are being created concurrently"
        )))
    }

    async fn create_group(&self, vpc: &str, name: &str, allow_all: bool) -> Result<String> {
        let description = if allow_all {
            "IRF transitional group: allows all traffic so existing connections become untracked, then is replaced by the isolation group"
        } else {
            "IRF isolation: no inbound and no outbound traffic"
        };
        let out = self
            .ec2
            .create_security_group()
            .group_name(name)
            .description(description)
            .vpc_id(vpc)
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::SecurityGroup)
                    .tags(Tag::builder().key(ISOLATION_TAG).value("true").build())
                    .tags(Tag::builder().key("Name").value(name).build())
                    .build(),
            )
            .send()
            .await
            .map_err(|e| error::aws(&format!("ec2:CreateSecurityGroup {name}"), e))?;
        let id = out.group_id().unwrap_or_default().to_owned();
        // A new group starts with the default egress rules (IPv4, and IPv6 in a dual-stack
        // VPC): read them, then open or clear from there.
        let out = self
            .ec2
            .describe_security_groups()
            .group_ids(&id)
            .send()
            .await
            .map_err(|e| error::aws("ec2:DescribeSecurityGroups", e))?;
        let group = out.security_groups().first().ok_or_else(|| {
            HandlerError::Retryable(format!(
                "security group {id} just created is not visible yet"
            ))
        })?;
        if allow_all {
            self.open_fully(group).await?;
        } else {
            self.clear_rules(group).await?;
        }
        Ok(id)
    }

    /// Makes a framework group allow all traffic in and out (IPv4 and IPv6), adding only the
    /// rules it lacks.
    async fn open_fully(&self, g: &aws_sdk_ec2::types::SecurityGroup) -> Result<()> {
        let id = g.group_id().unwrap_or_default();
        let (in4, in6) = allows_everything(g.ip_permissions());
        let (out4, out6) = allows_everything(g.ip_permissions_egress());
        let everything = |v4: bool, v6: bool| {
            let mut v = Vec::new();
            if !v4 {
                v.push(
                    IpPermission::builder()
                        .ip_protocol("-1")
                        .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                        .build(),
                );
            }
            if !v6 {
                v.push(
                    IpPermission::builder()
                        .ip_protocol("-1")
                        .ipv6_ranges(Ipv6Range::builder().cidr_ipv6("::/0").build())
                        .build(),
                );
            }
            v
        };
        let ingress = everything(in4, in6);
        if !ingress.is_empty() {
            let r = self
                .ec2
                .authorize_security_group_ingress()
                .group_id(id)
                .set_ip_permissions(Some(ingress))
                .send()
                .await;
            unless_already(
                r,
                "InvalidPermission.Duplicate",
                &format!("ec2:AuthorizeSecurityGroupIngress {id}"),
            )?;
        }
        let egress = everything(out4, out6);
        if !egress.is_empty() {
            let r = self
                .ec2
                .authorize_security_group_egress()
                .group_id(id)
                .set_ip_permissions(Some(egress))
                .send()
                .await;
            unless_already(
                r,
                "InvalidPermission.Duplicate",
                &format!("ec2:AuthorizeSecurityGroupEgress {id}"),
            )?;
        }
        Ok(())
    }

    /// Removes every rule of a framework group.
    async fn clear_rules(&self, g: &aws_sdk_ec2::types::SecurityGroup) -> Result<()> {
        let id = g.group_id().unwrap_or_default();
        if !g.ip_permissions().is_empty() {
            let r = self
                .ec2
                .revoke_security_group_ingress()
                .group_id(id)
                .set_ip_permissions(Some(g.ip_permissions().to_vec()))
                .send()
                .await;
            unless_already(
                r,
                "InvalidPermission.NotFound",
                &format!("ec2:RevokeSecurityGroupIngress {id}"),
            )?;
        }
        if !g.ip_permissions_egress().is_empty() {
            let r = self
                .ec2
                .revoke_security_group_egress()
                .group_id(id)
                .set_ip_permissions(Some(g.ip_permissions_egress().to_vec()))
                .send()
                .await;
            unless_already(
                r,
                "InvalidPermission.NotFound",
                &format!("ec2:RevokeSecurityGroupEgress {id}"),
            )?;
        }
        Ok(())
    }

    async fn set_groups(&self, eni: &str, groups: &[String]) -> Result<()> {
        self.ec2
            .modify_network_interface_attribute()
            .network_interface_id(eni)
            .set_groups(Some(groups.to_vec()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| error::aws(&format!("ec2:ModifyNetworkInterfaceAttribute {eni}"), e))
    }

    /// Denies, on `profile`'s roles, every credential issued to this instance before now.
    async fn revoke_sessions(&self, profile_arn: &str) -> Result<Vec<String>> {
        let name = profile_arn.rsplit('/').next().unwrap_or(profile_arn);
        let out = self
            .iam
            .get_instance_profile()
            .instance_profile_name(name)
            .send()
            .await
            .map_err(|e| error::aws(&format!("iam:GetInstanceProfile {name}"), e))?;
        let roles: Vec<String> = out
            .instance_profile()
            .map(|p| p.roles().iter().map(|r| r.role_name().to_owned()).collect())
            .unwrap_or_default();
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "RevokeSessionsOfContainedInstance",
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {
                    "StringEquals": { "ec2:SourceInstanceARN": self.instance_arn() },
                    "DateLessThan": { "aws:TokenIssueTime": now_rfc3339() },
                },
            }],
        })
        .to_string();
        for role in &roles {
            self.iam
                .put_role_policy()
                .role_name(role)
                .policy_name(self.revocation_policy_name())
                .policy_document(&policy)
                .send()
                .await
                .map_err(|e| error::aws(&format!("iam:PutRolePolicy {role}"), e))?;
        }
        Ok(roles)
    }

    /// Name of the per-instance revocation policy put on roles.
    pub fn revocation_policy_name(&self) -> String {
        format!("irf-revoke-{}", self.target.instance_id)
    }

    /// Prepares the instance for acquisition: record, protect, SSM-capable profile.
    pub async fn analyze(&self) -> Result<Report> {
        let mut cur = self.current().await?;
        let (_, recorded) = self.ensure_record(&mut cur).await?;
        let mut changes = self.protect(&cur).await?;
        if let Some(p) = &self.settings.ir_profile_arn
            && self.set_profile(&cur, Some(p)).await?
        {
            changes.push(format!("instance profile set to {p} (SSM only)"));
        }
        Ok(Report {
            changes,
            prior_state_parameter: self.parameter_name(),
            recorded,
        })
    }

    /// Contains the instance: record, protect, deny-all profile, isolation on every interface
    /// (cutting established connections), optional Elastic IP removal, session revocation.
    pub async fn contain(&self) -> Result<Report> {
        let mut cur = self.current().await?;
        let (record, recorded) = self.ensure_record(&mut cur).await?;
        let mut changes = self.protect(&cur).await?;
        let isolation = self.settings.isolation_profile_arn.as_deref();
        let previous = cur.association.as_ref().map(|(_, a)| a.clone());
        if self.set_profile(&cur, isolation).await? {
            changes.push(match isolation {
                Some(p) => format!("instance profile set to {p} (denies everything)"),
                None => "instance profile removed".to_owned(),
            });
        }
        if !cur.enis.is_empty() && !cur.vpc_id.is_empty() {
            let (untrack, isolate) = self.isolation_groups(&cur.vpc_id).await?;
            for (eni, groups) in &cur.enis {
                if groups.as_slice() == [isolate.clone()] {
                    continue;
                }
                // Untrack first (existing flows become untracked), then isolate (they drop).
                self.set_groups(eni, std::slice::from_ref(&untrack)).await?;
                self.set_groups(eni, std::slice::from_ref(&isolate)).await?;
                changes.push(format!(
                    "{eni}: security groups {groups:?} replaced by the isolation group {isolate}"
                ));
            }
        }
        if self.settings.disassociate_elastic_ips {
            for ip in self.elastic_ips().await? {
                let assoc = self
                    .ec2
                    .describe_addresses()
                    .allocation_ids(&ip.allocation_id)
                    .send()
                    .await
                    .map_err(|e| error::aws("ec2:DescribeAddresses", e))?;
                if let Some(a) = assoc.addresses().first().and_then(|a| a.association_id()) {
                    self.ec2
                        .disassociate_address()
                        .association_id(a)
                        .send()
                        .await
                        .map_err(|e| error::aws("ec2:DisassociateAddress", e))?;
                    changes.push(format!("Elastic IP {} disassociated", ip.allocation_id));
                }
            }
        }
        if self.settings.revoke_role_sessions {
            let mut profiles: Vec<String> = [record.instance_profile_arn.clone(), previous]
                .into_iter()
                .flatten()
                .filter(|p| Some(p.as_str()) != isolation)
                .collect();
            profiles.sort();
            profiles.dedup();
            for p in profiles {
                let roles = self.revoke_sessions(&p).await?;
                if recorded || changes.iter().any(|c| c.contains("instance profile")) {
                    changes.push(format!(
                        "sessions issued to this instance revoked on {}",
                        roles.join(", ")
                    ));
                }
            }
        }
        Ok(Report {
            changes,
            prior_state_parameter: self.parameter_name(),
            recorded,
        })
    }

    /// Restores the recorded state and removes the record. Session revocations stay unless
    /// `lift_revocations`: they only deny credentials issued before containment, which may be in
    /// an attacker's hands.
    pub async fn release(&self, lift_revocations: bool) -> Result<Report> {
        let Some(record) = self.prior_state().await? else {
            return Ok(Report {
                changes: Vec::new(),
                prior_state_parameter: self.parameter_name(),
                recorded: false,
            });
        };
        let cur = self.current().await?;
        let id = &self.target.instance_id;
        let mut changes = Vec::new();
        let previous = cur.association.as_ref().map(|(_, a)| a.clone());
        if self
            .set_profile(&cur, record.instance_profile_arn.as_deref())
            .await?
        {
            changes.push(format!(
                "instance profile restored to {}",
                record.instance_profile_arn.as_deref().unwrap_or("none")
            ));
        }
        for (eni, groups) in &record.network_interfaces {
            if cur.enis.get(eni) != Some(groups) {
                self.set_groups(eni, groups).await?;
                changes.push(format!("{eni}: security groups restored to {groups:?}"));
            }
        }
        self.ec2
            .modify_instance_attribute()
            .instance_id(id)
            .disable_api_termination(
                AttributeBooleanValue::builder()
                    .value(record.disable_api_termination)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| error::aws("ec2:ModifyInstanceAttribute (termination protection)", e))?;
        self.ec2
            .modify_instance_attribute()
            .instance_id(id)
            .instance_initiated_shutdown_behavior(
                AttributeValue::builder()
                    .value(&record.shutdown_behavior)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| error::aws("ec2:ModifyInstanceAttribute (shutdown behaviour)", e))?;
        let mappings: Vec<InstanceBlockDeviceMappingSpecification> = record
            .delete_on_termination
            .iter()
            .filter(|(d, keep)| cur.devices.get(*d) != Some(keep))
            .map(|(d, v)| {
                InstanceBlockDeviceMappingSpecification::builder()
                    .device_name(d)
                    .ebs(
                        aws_sdk_ec2::types::EbsInstanceBlockDeviceSpecification::builder()
                            .delete_on_termination(*v)
                            .build(),
                    )
                    .build()
            })
            .collect();
        if !mappings.is_empty() {
            self.ec2
                .modify_instance_attribute()
                .instance_id(id)
                .set_block_device_mappings(Some(mappings))
                .send()
                .await
                .map_err(|e| error::aws("ec2:ModifyInstanceAttribute (volume retention)", e))?;
        }
        changes.push(format!(
            "termination protection {}, shutdown {}, volume retention restored",
            if record.disable_api_termination {
                "on"
            } else {
                "off"
            },
            record.shutdown_behavior
        ));
        for ip in &record.elastic_ips {
            self.ec2
                .associate_address()
                .allocation_id(&ip.allocation_id)
                .network_interface_id(&ip.network_interface_id)
                .set_private_ip_address(ip.private_ip.clone())
                .allow_reassociation(false)
                .send()
                .await
                .map_err(|e| error::aws("ec2:AssociateAddress", e))?;
            changes.push(format!("Elastic IP {} re-associated", ip.allocation_id));
        }
        if lift_revocations {
            let mut profiles: Vec<String> = [
                record.instance_profile_arn.clone(),
                previous,
                self.settings.ir_profile_arn.clone(),
            ]
            .into_iter()
            .flatten()
            .collect();
            profiles.sort();
            profiles.dedup();
            for p in profiles {
                let name = p.rsplit('/').next().unwrap_or(&p).to_owned();
                let Ok(out) = self
                    .iam
                    .get_instance_profile()
                    .instance_profile_name(&name)
                    .send()
                    .await
                else {
                    continue;
                };
                for role in out
                    .instance_profile()
                    .map(|p| p.roles().to_vec())
                    .unwrap_or_default()
                {
                    match self
                        .iam
                        .delete_role_policy()
                        .role_name(role.role_name())
                        .policy_name(self.revocation_policy_name())
                        .send()
                        .await
                    {
                        Ok(_) => changes
                            .push(format!("session revocation lifted on {}", role.role_name())),
                        Err(e) if error::code(&e) == Some("NoSuchEntity") => {}
                        Err(e) => return Err(error::aws("iam:DeleteRolePolicy", e)),
                    }
                }
            }
        }
        self.ssm
            .delete_parameter()
            .name(self.parameter_name())
            .send()
            .await
            .map_err(|e| error::aws("ssm:DeleteParameter", e))?;
        Ok(Report {
            changes,
            prior_state_parameter: self.parameter_name(),
            recorded: false,
        })
    }
}
