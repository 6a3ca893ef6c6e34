//! `AWS::EC2::*`.

use serde::Serialize;

use super::Tag;
use crate::cfn::Expr;
use crate::iam::PolicyDocument;

/// `AWS::EC2::VPC`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Vpc {
    /// CIDR.
    pub cidr_block: String,
    /// DNS hostnames (needed by interface endpoints' private DNS).
    pub enable_dns_hostnames: bool,
    /// DNS resolution.
    pub enable_dns_support: bool,
    /// Tags.
    pub tags: Vec<Tag>,
}

/// `AWS::EC2::Subnet`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Subnet {
    /// VPC.
    pub vpc_id: Expr,
    /// CIDR.
    pub cidr_block: String,
    /// Availability zone.
    pub availability_zone: Expr,
    /// Public IPs on launch.
    pub map_public_ip_on_launch: bool,
    /// Tags.
    pub tags: Vec<Tag>,
}

/// `AWS::EC2::RouteTable`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RouteTable {
    /// VPC.
    pub vpc_id: Expr,
    /// Tags.
    pub tags: Vec<Tag>,
}

/// `AWS::EC2::SubnetRouteTableAssociation`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SubnetRouteTableAssociation {
    /// Route table.
    pub route_table_id: Expr,
    /// Subnet.
    pub subnet_id: Expr,
}

/// `AWS::EC2::Route`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Route {
    /// Route table.
    pub route_table_id: Expr,
    /// Destination.
    pub destination_cidr_block: String,
    /// Internet gateway target.
    pub gateway_id: Option<Expr>,
    /// NAT gateway target.
    pub nat_gateway_id: Option<Expr>,
}

/// `AWS::EC2::InternetGateway`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InternetGateway {
    /// Tags.
    pub tags: Vec<Tag>,
}

/// `AWS::EC2::VPCGatewayAttachment`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpcGatewayAttachment {
    /// VPC.
    pub vpc_id: Expr,
    /// Internet gateway.
    pub internet_gateway_id: Expr,
}

/// `AWS::EC2::NatGateway`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NatGateway {
    /// EIP allocation.
    pub allocation_id: Expr,
    /// Public subnet.
    pub subnet_id: Expr,
    /// Tags.
    pub tags: Vec<Tag>,
}

/// `AWS::EC2::EIP`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Eip {
    /// `vpc`.
    pub domain: String,
    /// Tags.
    pub tags: Vec<Tag>,
}

/// A rule inside a security group.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SgRule {
    /// What the rule is for.
    pub description: String,
    /// `tcp`, `-1`, ...
    pub ip_protocol: String,
    /// First port.
    pub from_port: Option<i64>,
    /// Last port.
    pub to_port: Option<i64>,
    /// Peer CIDR.
    pub cidr_ip: Option<String>,
    /// Peer security group (ingress).
    pub source_security_group_id: Option<Expr>,
    /// Peer security group (egress).
    pub destination_security_group_id: Option<Expr>,
    /// Peer prefix list (egress).
    pub destination_prefix_list_id: Option<Expr>,
}

impl SgRule {
    /// TCP on one port.
    pub fn tcp(description: &str, port: i64) -> Self {
        SgRule {
            description: description.to_owned(),
            ip_protocol: "tcp".to_owned(),
            from_port: Some(port),
            to_port: Some(port),
            cidr_ip: None,
            source_security_group_id: None,
            destination_security_group_id: None,
            destination_prefix_list_id: None,
        }
    }

    /// With a CIDR peer.
    pub fn cidr(mut self, cidr: &str) -> Self {
        self.cidr_ip = Some(cidr.to_owned());
        self
    }

    /// With a source security group.
    pub fn from_group(mut self, sg: Expr) -> Self {
        self.source_security_group_id = Some(sg);
        self
    }

    /// With a destination prefix list.
    pub fn to_prefix_list(mut self, pl: Expr) -> Self {
        self.destination_prefix_list_id = Some(pl);
        self
    }
}

/// `AWS::EC2::SecurityGroup`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecurityGroup {
    /// What the group is for.
    pub group_description: String,
    /// VPC.
    pub vpc_id: Expr,
    /// Ingress rules.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub security_group_ingress: Vec<SgRule>,
    /// Egress rules. Empty means "no egress": a deny-all placeholder rule is emitted, because
    /// CloudFormation keeps the default allow-all egress when this property is absent.
    pub security_group_egress: Vec<SgRule>,
    /// Tags.
    pub tags: Vec<Tag>,
}

impl SecurityGroup {
    /// The placeholder egress rule AWS documents for "no outbound traffic": ICMP to 255.255.255.255/32
    /// type 252 never matches real traffic and replaces the default allow-all rule.
    pub fn no_egress() -> Vec<SgRule> {
        vec![SgRule {
            description: "No egress (replaces the default allow-all rule)".to_owned(),
            ip_protocol: "icmp".to_owned(),
            from_port: Some(252),
            to_port: Some(86),
            cidr_ip: Some("255.255.255.255/32".to_owned()),
            source_security_group_id: None,
            destination_security_group_id: None,
            destination_prefix_list_id: None,
        }]
    }
}

/// `AWS::EC2::SecurityGroupIngress` (used to break reference cycles between groups).
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecurityGroupIngress {
    /// Group receiving the rule.
    pub group_id: Expr,
    /// The rule.
    #[serde(flatten)]
    pub rule: SgRule,
}

/// `AWS::EC2::SecurityGroupEgress` (used to break reference cycles between groups).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecurityGroupEgress {
    /// Group receiving the rule.
    pub group_id: Expr,
    /// The rule.
    #[serde(flatten)]
    pub rule: SgRule,
}

/// `AWS::EC2::VPCEndpoint`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpcEndpoint {
    /// VPC.
    pub vpc_id: Expr,
    /// `com.amazonaws.<region>.<service>`.
    pub service_name: Expr,
    /// `Gateway` or `Interface`.
    pub vpc_endpoint_type: String,
    /// Endpoint policy.
    pub policy_document: Option<PolicyDocument>,
    /// Private DNS (interface endpoints).
    pub private_dns_enabled: Option<bool>,
    /// Route tables (gateway endpoints).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub route_table_ids: Vec<Expr>,
    /// Security groups (interface endpoints).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub security_group_ids: Vec<Expr>,
    /// Subnets, at most one per AZ (interface endpoints).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subnet_ids: Vec<Expr>,
}

/// `AWS::EC2::FlowLog`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FlowLog {
    /// `s3`.
    pub log_destination_type: String,
    /// Bucket ARN (with optional prefix).
    pub log_destination: Expr,
    /// Custom format.
    pub log_format: String,
    /// The VPC.
    pub resource_id: Expr,
    /// `VPC`.
    pub resource_type: String,
    /// `ALL`.
    pub traffic_type: String,
    /// Seconds.
    pub max_aggregation_interval: u32,
}

/// `AWS::EC2::LaunchTemplate`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LaunchTemplate {
    /// Physical name.
    pub launch_template_name: Option<Expr>,
    /// Instance settings.
    pub launch_template_data: LaunchTemplateData,
}

/// Launch template settings.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LaunchTemplateData {
    /// Root and data volumes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub block_device_mappings: Vec<BlockDeviceMapping>,
    /// Instance profile.
    pub iam_instance_profile: Option<IamInstanceProfileSpec>,
    /// `stop` or `terminate`.
    pub instance_initiated_shutdown_behavior: Option<String>,
    /// Instance type.
    pub instance_type: Option<Expr>,
    /// IMDS settings.
    pub metadata_options: Option<MetadataOptions>,
    /// Network interfaces.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub network_interfaces: Vec<NetworkInterfaceSpec>,
    /// Tags for launched resources.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tag_specifications: Vec<TagSpecification>,
    /// Base64 user data.
    pub user_data: Option<Expr>,
}

/// A block device mapping.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BlockDeviceMapping {
    /// Device name.
    pub device_name: String,
    /// EBS settings.
    pub ebs: EbsSpec,
}

/// EBS settings of a mapping.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EbsSpec {
    /// Delete with the instance.
    pub delete_on_termination: bool,
    /// Encrypt.
    pub encrypted: bool,
    /// GiB.
    pub volume_size: u32,
    /// `gp3`.
    pub volume_type: String,
}

/// Instance profile reference.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IamInstanceProfileSpec {
    /// Profile ARN.
    pub arn: Expr,
}

/// IMDS settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetadataOptions {
    /// `enabled`.
    pub http_endpoint: String,
    /// `required` (IMDSv2 only).
    pub http_tokens: String,
    /// Hop limit.
    pub http_put_response_hop_limit: u32,
}

/// Network interface of a launch.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkInterfaceSpec {
    /// Public IPv4.
    pub associate_public_ip_address: bool,
    /// 0.
    pub device_index: u32,
    /// Security groups.
    pub groups: Vec<Expr>,
    /// Subnet.
    pub subnet_id: Expr,
}

/// Tags for resources launched from a template.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagSpecification {
    /// `instance`, `volume`.
    pub resource_type: String,
    /// Tags.
    pub tags: Vec<Tag>,
}
