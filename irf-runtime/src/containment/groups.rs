//! Security-group shaping: the framework's two groups per VPC and the swap through them.
//!
//! Containment moves each network interface first to an "untrack" group that allows all
//! traffic in and out (which makes every existing flow untracked) and then to the isolation
//! group with no rules, which drops those untracked flows at once: established sessions are
//! cut, not just new ones. Paths AWS always tracks are not cut this way (see
//! [`ALWAYS_TRACKED`]). Both groups are found or created per VPC, tagged [`ISOLATION_TAG`], and
//! put back in shape when someone changed their rules.

use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, Ipv6Range, ResourceType, SecurityGroup, Tag, TagSpecification,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

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
pub use irf_core::contract::ISOLATION_TAG;

/// How many times the groups are looked up again when a concurrent containment in the same
/// VPC creates one first.
const CREATE_ATTEMPTS: usize = 4;

/// The framework's groups of one VPC, in shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IsolationGroups {
    /// Allows all traffic in and out (IPv4 and IPv6).
    pub(crate) untrack: String,
    /// Allows nothing.
    pub(crate) isolate: String,
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
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
{
    match r {
        Ok(_) => Ok(()),
        Err(e) if error::code(&e) == Some(code) => Ok(()),
        Err(e) => Err(error::aws(what, e)),
    }
}

/// Finds or creates the untrack and isolation groups of `vpc` and puts them in shape.
pub(super) async fn ensure(ec2: &aws_sdk_ec2::Client, vpc: &str) -> Result<IsolationGroups> {
    let isolate_name = irf_core::contract::ISOLATION_SECURITY_GROUP.to_owned();
    let untrack_name = format!("{isolate_name}_untrack");
    for attempt in 1..=CREATE_ATTEMPTS {
        let out = ec2
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
            clear_rules(ec2, g).await?;
        }
        if let Some(g) = find(&untrack_name)
            && (allows_everything(g.ip_permissions()) != (true, true)
                || allows_everything(g.ip_permissions_egress()) != (true, true))
        {
            // Found before its creator finished opening it (or narrowed since): a swap
            // through a group that does not allow everything would leave flows tracked.
            open_fully(ec2, g).await?;
        }
        let id = |n: &str| find(n).and_then(|g| g.group_id().map(str::to_owned));
        let created = async {
            let isolate = match id(&isolate_name) {
                Some(g) => g,
                None => create(ec2, vpc, &isolate_name, false).await?,
            };
            let untrack = match id(&untrack_name) {
                Some(g) => g,
                None => create(ec2, vpc, &untrack_name, true).await?,
            };
            Ok::<_, HandlerError>(IsolationGroups { untrack, isolate })
        }
        .await;
        match created {
            Ok(groups) => return Ok(groups),
            // A concurrent containment in the same VPC created it first: look again.
            Err(e) if attempt < CREATE_ATTEMPTS && e.is_aws_code("InvalidGroup.Duplicate") => {}
            Err(e) => return Err(e),
        }
    }
    Err(HandlerError::retryable(format!(
        "isolation groups of {vpc} are being created concurrently"
    )))
}

async fn create(
    ec2: &aws_sdk_ec2::Client,
    vpc: &str,
    name: &str,
    allow_all: bool,
) -> Result<String> {
    let description = if allow_all {
        "IRF transitional group: allows all traffic so existing connections become untracked, then is replaced by the isolation group"
    } else {
        "IRF isolation: no inbound and no outbound traffic"
    };
    let out = ec2
        .create_security_group()
        .group_name(name)
        .description(description)
        .vpc_id(vpc)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::SecurityGroup)
                .tags(
                    Tag::builder()
                        .key(ISOLATION_TAG)
                        .value(irf_core::contract::ISOLATION_TAG_VALUE)
                        .build(),
                )
                .tags(Tag::builder().key("Name").value(name).build())
                .build(),
        )
        .send()
        .await
        .map_err(|e| error::aws(&format!("ec2:CreateSecurityGroup {name}"), e))?;
    let id = out.group_id().unwrap_or_default().to_owned();
    // A new group starts with the default egress rules (IPv4, and IPv6 in a dual-stack
    // VPC): read them, then open or clear from there.
    let out = ec2
        .describe_security_groups()
        .group_ids(&id)
        .send()
        .await
        .map_err(|e| error::aws("ec2:DescribeSecurityGroups", e))?;
    let group = out.security_groups().first().ok_or_else(|| {
        HandlerError::retryable(format!(
            "security group {id} just created is not visible yet"
        ))
    })?;
    if allow_all {
        open_fully(ec2, group).await?;
    } else {
        clear_rules(ec2, group).await?;
    }
    Ok(id)
}

/// Makes a framework group allow all traffic in and out (IPv4 and IPv6), adding only the
/// rules it lacks.
async fn open_fully(ec2: &aws_sdk_ec2::Client, g: &SecurityGroup) -> Result<()> {
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
        let r = ec2
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
        let r = ec2
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
async fn clear_rules(ec2: &aws_sdk_ec2::Client, g: &SecurityGroup) -> Result<()> {
    let id = g.group_id().unwrap_or_default();
    if !g.ip_permissions().is_empty() {
        let r = ec2
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
        let r = ec2
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

/// Sets the security groups of interface `eni`.
pub(super) async fn set(ec2: &aws_sdk_ec2::Client, eni: &str, groups: &[String]) -> Result<()> {
    ec2.modify_network_interface_attribute()
        .network_interface_id(eni)
        .set_groups(Some(groups.to_vec()))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| error::aws(&format!("ec2:ModifyNetworkInterfaceAttribute {eni}"), e))
}

/// Isolates interface `eni`: untrack first (existing flows become untracked), then isolate
/// (they drop).
pub(super) async fn isolate(
    ec2: &aws_sdk_ec2::Client,
    eni: &str,
    untrack: &str,
    isolate: &str,
) -> Result<()> {
    set(ec2, eni, &[untrack.to_owned()]).await?;
    set(ec2, eni, &[isolate.to_owned()]).await
}
