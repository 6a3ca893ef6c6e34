//! Elastic IPs: with `disassociate_elastic_ips` set, containment takes the instance's public
//! addresses off it (they stay allocated to the account, and are recorded), and release puts
//! them back on the interfaces they were on.

use aws_sdk_ec2::types::Filter;

use super::record::ElasticIp;
use super::state::{Address, Addresses};
use crate::error::{self, Result};

/// Reads the addresses `which` names.
pub(super) async fn read(
    ec2: &aws_sdk_ec2::Client,
    instance_id: &str,
    which: Addresses,
) -> Result<Vec<Address>> {
    let request = match which {
        Addresses::Skip => return Ok(Vec::new()),
        Addresses::Allocations(ids) if ids.is_empty() => return Ok(Vec::new()),
        Addresses::OfInstance => ec2.describe_addresses().filters(
            Filter::builder()
                .name("instance-id")
                .values(instance_id)
                .build(),
        ),
        Addresses::Allocations(ids) => ec2.describe_addresses().set_allocation_ids(Some(ids)),
    };
    let out = request
        .send()
        .await
        .map_err(|e| error::aws("ec2:DescribeAddresses", e))?;
    Ok(out
        .addresses()
        .iter()
        .filter_map(|a| {
            Some(Address {
                allocation_id: a.allocation_id()?.to_owned(),
                association_id: a.association_id().map(str::to_owned),
                network_interface_id: a.network_interface_id().map(str::to_owned),
                private_ip: a.private_ip_address().map(str::to_owned),
            })
        })
        .collect())
}

/// Takes an address off the instance.
pub(super) async fn disassociate(ec2: &aws_sdk_ec2::Client, association_id: &str) -> Result<()> {
    ec2.disassociate_address()
        .association_id(association_id)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| error::aws("ec2:DisassociateAddress", e))
}

/// Puts an address back on the interface and private IP it had; fails rather than take it from
/// wherever it is now.
pub(super) async fn associate(ec2: &aws_sdk_ec2::Client, ip: &ElasticIp) -> Result<()> {
    ec2.associate_address()
        .allocation_id(&ip.allocation_id)
        .network_interface_id(&ip.network_interface_id)
        .set_private_ip_address(ip.private_ip.clone())
        .allow_reassociation(false)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| error::aws("ec2:AssociateAddress", e))
}
