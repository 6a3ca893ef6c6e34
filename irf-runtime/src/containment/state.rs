//! The instance as it is now, read in one phase before anything is planned or changed.

use std::collections::BTreeMap;

use super::{attributes, elastic_ips, profile};
use crate::error::{self, HandlerError, Result};

/// The state of one instance now: everything the plan compares with the wanted state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Current {
    pub(crate) instance_id: String,
    /// `None` for an instance outside a VPC (no security groups to shape).
    pub(crate) vpc_id: Option<String>,
    /// The instance profile association in force (associated or associating).
    pub(crate) profile: Option<ProfileAssociation>,
    pub(crate) termination_protected: bool,
    /// `stop` or `terminate`.
    pub(crate) shutdown_behavior: String,
    /// Delete-on-termination per EBS device name.
    pub(crate) delete_on_termination: BTreeMap<String, bool>,
    /// Security group ids per network interface id, in the order EC2 lists them.
    pub(crate) interfaces: BTreeMap<String, Vec<String>>,
    /// The Elastic IPs read (see [`Addresses`]).
    pub(crate) addresses: Vec<Address>,
}

/// An instance profile association.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ProfileAssociation {
    /// `iip-assoc-…`, which replace and disassociate name.
    pub(crate) association_id: String,
    pub(crate) arn: String,
}

/// An Elastic IP as it is now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Address {
    pub(crate) allocation_id: String,
    /// `eipassoc-…`; `None` when the address is not associated.
    pub(crate) association_id: Option<String>,
    pub(crate) network_interface_id: Option<String>,
    pub(crate) private_ip: Option<String>,
}

/// Which Elastic IPs to read.
#[derive(Clone, Debug)]
pub(crate) enum Addresses {
    /// None (the run does not touch Elastic IPs).
    Skip,
    /// Those associated with the instance (containment disassociates them).
    OfInstance,
    /// These allocations, wherever they are now (release re-associates them).
    Allocations(Vec<String>),
}

/// Reads the instance's state. The reads run at once; failures are reported in a fixed order
/// (the instance first), so a missing instance is named as such.
pub(crate) async fn read(
    ec2: &aws_sdk_ec2::Client,
    target: &super::Target,
    addresses: Addresses,
) -> Result<Current> {
    let id = &target.instance_id;
    let (instance, association, attributes, addresses) = tokio::join!(
        ec2.describe_instances().instance_ids(id).send(),
        profile::association(ec2, id),
        attributes::read(ec2, id),
        elastic_ips::read(ec2, id, addresses),
    );
    let out = instance.map_err(|e| error::aws(&format!("ec2:DescribeInstances {id}"), e))?;
    let inst = out
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .find(|i| i.instance_id() == Some(id.as_str()))
        .ok_or_else(|| {
            HandlerError::fatal(format!(
                "instance {id} not found in {}/{}",
                target.account, target.region
            ))
        })?;
    let (termination_protected, shutdown_behavior) = attributes?;
    Ok(Current {
        instance_id: id.clone(),
        vpc_id: inst.vpc_id().filter(|v| !v.is_empty()).map(str::to_owned),
        profile: association?,
        termination_protected,
        shutdown_behavior,
        delete_on_termination: inst
            .block_device_mappings()
            .iter()
            .filter_map(|b| {
                Some((
                    b.device_name()?.to_owned(),
                    b.ebs()?.delete_on_termination().unwrap_or(true),
                ))
            })
            .collect(),
        interfaces: inst
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
            .collect(),
        addresses: addresses?,
    })
}
