//! `AWS::EC2::*`.

use serde::Serialize;

use super::Tag;
use crate::cfn::Expr;
use crate::iam::PolicyDocument;

/// `AWS::EC2::VPC`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Vpc {
    /// IPv4 range of the VPC, from the network plan.
    pub cidr_block: String,
    /// DNS hostnames (needed by interface endpoints' private DNS).
    pub enable_dns_hostnames: bool,
    /// Whether the Amazon-provided DNS server answers in the VPC.
    pub enable_dns_support: bool,
    /// Resource tags (the synthesizer sets `Name`); stack tags are propagated on top.
    pub tags: Vec<Tag>,
}

/// `AWS::EC2::Subnet`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Subnet {
    /// VPC the subnet belongs to.
    pub vpc_id: Expr,
    /// The subnet's range, inside the VPC's, from the network plan.
    pub cidr_block: String,
    /// Zone of the subnet, `!Select [slot, !GetAZs '']` for the plan's zone slot.
    pub availability_zone: Expr,
    /// Whether instances launched here get a public IPv4 address by default.
    pub map_public_ip_on_launch: bool,
    /// Resource tags (the synthesizer sets `Name`); stack tags are propagated on top.
    pub tags: Vec<Tag>,
}

/// `AWS::EC2::RouteTable`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RouteTable {
    /// VPC the table routes for.
    pub vpc_id: Expr,
    /// Resource tags (the synthesizer sets `Name`); stack tags are propagated on top.
    pub tags: Vec<Tag>,
}

/// `AWS::EC2::SubnetRouteTableAssociation`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SubnetRouteTableAssociation {
    /// Table whose routes the subnet uses from now on.
    pub route_table_id: Expr,
    /// Subnet leaving the VPC's main route table.
    pub subnet_id: Expr,
}

/// `AWS::EC2::Route`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Route {
    /// Table the route is added to.
    pub route_table_id: Expr,
    /// IPv4 range the route sends to its target (`0.0.0.0/0` for a default route).
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
    /// Resource tags (the synthesizer sets `Name`); stack tags are propagated on top.
    pub tags: Vec<Tag>,
}

/// `AWS::EC2::VPCGatewayAttachment`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpcGatewayAttachment {
    /// VPC the gateway is attached to.
    pub vpc_id: Expr,
    /// Gateway to attach.
    pub internet_gateway_id: Expr,
}

/// `AWS::EC2::NatGateway`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NatGateway {
    /// Allocation id of the gateway's Elastic IP.
    pub allocation_id: Expr,
    /// Public subnet the gateway is placed in.
    pub subnet_id: Expr,
    /// Resource tags (the synthesizer sets `Name`); stack tags are propagated on top.
    pub tags: Vec<Tag>,
}

/// `AWS::EC2::EIP`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Eip {
    /// `vpc` (an address for use in a VPC).
    pub domain: String,
    /// Resource tags (the synthesizer sets `Name`); stack tags are propagated on top.
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
    /// First port of the range, or the ICMP type; `None` with protocol `-1` (all traffic).
    pub from_port: Option<i64>,
    /// Last port of the range, or the ICMP code; `None` with protocol `-1` (all traffic).
    pub to_port: Option<i64>,
    /// Peer IPv4 range: the source of an ingress rule, the destination of an egress rule.
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
    /// VPC the group is created in.
    pub vpc_id: Expr,
    /// Ingress rules.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub security_group_ingress: Vec<SgRule>,
    /// Egress rules. Empty means "no egress": a deny-all placeholder rule is emitted, because
    /// CloudFormation keeps the default allow-all egress when this property is absent.
    pub security_group_egress: Vec<SgRule>,
    /// Resource tags (the synthesizer sets `Name`); stack tags are propagated on top.
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
    /// Protocol, ports, peer and description, flattened into the resource's properties.
    #[serde(flatten)]
    pub rule: SgRule,
}

/// `AWS::EC2::SecurityGroupEgress` (used to break reference cycles between groups).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecurityGroupEgress {
    /// Group receiving the rule.
    pub group_id: Expr,
    /// Protocol, ports, peer and description, flattened into the resource's properties.
    #[serde(flatten)]
    pub rule: SgRule,
}

/// `AWS::EC2::VPCEndpoint`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpcEndpoint {
    /// VPC the endpoint serves.
    pub vpc_id: Expr,
    /// `com.amazonaws.<region>.<service>`.
    pub service_name: Expr,
    /// `Gateway` or `Interface`.
    pub vpc_endpoint_type: String,
    /// Policy limiting what the endpoint may be used for; `None` allows everything.
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
    /// `s3`: records are delivered to a bucket.
    pub log_destination_type: String,
    /// Bucket ARN; AWS writes under `AWSLogs/<account>/vpcflowlogs/<region>/` in it.
    pub log_destination: Expr,
    /// Record format (`${field} ...`): the fields each record carries, in order.
    pub log_format: String,
    /// VPC whose traffic is logged.
    pub resource_id: Expr,
    /// `VPC`.
    pub resource_type: String,
    /// `ALL`: accepted and rejected traffic.
    pub traffic_type: String,
    /// Longest time, in seconds, a flow is aggregated before its record is written: 60 or 600.
    pub max_aggregation_interval: u32,
}

/// `AWS::EC2::LaunchTemplate`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LaunchTemplate {
    /// Physical name (`<prefix>-...`); `None` gets a generated one.
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
    /// Profile the instance is launched with (its role is what the instance may call).
    pub iam_instance_profile: Option<IamInstanceProfileSpec>,
    /// `stop` or `terminate`.
    pub instance_initiated_shutdown_behavior: Option<String>,
    /// EC2 instance type, e.g. `t3.large`.
    pub instance_type: Option<Expr>,
    /// IMDS settings.
    pub metadata_options: Option<MetadataOptions>,
    /// Interfaces to create at launch (`DeviceIndex` 0 is the primary).
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
    /// Device the volume is attached as, e.g. `/dev/sda1` for the root volume.
    pub device_name: String,
    /// EBS settings.
    pub ebs: EbsSpec,
}

/// EBS settings of a mapping.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EbsSpec {
    /// Whether the volume is deleted when the instance terminates.
    pub delete_on_termination: bool,
    /// Whether the volume is EBS-encrypted (with the account's default EBS key).
    pub encrypted: bool,
    /// Size in GiB.
    pub volume_size: u32,
    /// `gp3`.
    pub volume_type: String,
}

/// Instance profile reference.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IamInstanceProfileSpec {
    /// ARN of the instance profile.
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
    /// IMDS response hop limit: 1 keeps the token on the instance itself; 2 also reaches a
    /// container on it.
    pub http_put_response_hop_limit: u32,
    /// `enabled` exposes the instance's tags in instance metadata (the module builders read the
    /// AMI they build for from theirs); left out, tags stay hidden.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_metadata_tags: Option<String>,
}

/// Network interface of a launch.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkInterfaceSpec {
    /// Whether the interface gets a public IPv4 address.
    pub associate_public_ip_address: bool,
    /// Position on the instance; 0 is the primary interface.
    pub device_index: u32,
    /// Ids of the security groups the interface is in.
    pub groups: Vec<Expr>,
    /// Subnet the interface is created in.
    pub subnet_id: Expr,
}

/// Tags for resources launched from a template.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagSpecification {
    /// `instance`, `volume`.
    pub resource_type: String,
    /// Tags put on the launched resources of that type.
    pub tags: Vec<Tag>,
}
