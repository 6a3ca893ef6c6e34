//! One typed struct per CloudFormation resource type the framework uses.
//!
//! Properties are named as in CloudFormation (PascalCase on the wire); optional properties are
//! `Option`s and are omitted when `None`, lists are omitted when empty. Nested property types are
//! typed where the framework sets them.

pub mod cloudtrail;
pub mod ec2;
pub mod events;
pub mod iam;
pub mod imagebuilder;
pub mod kms;
pub mod lambda;
pub mod logs;
pub mod s3;
pub mod securityhub;
pub mod sfn;
pub mod sns;
pub mod sqs;
pub mod ssm;

use serde::Serialize;

use super::expr::Expr;

/// A `{Key, Value}` tag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// Tag key (the `aws:` prefix is reserved).
    pub key: String,
    /// Tag value.
    pub value: Expr,
}

impl Tag {
    /// A `Name` tag.
    pub fn name(value: impl Into<Expr>) -> Vec<Tag> {
        vec![Tag {
            key: "Name".to_owned(),
            value: value.into(),
        }]
    }
}

/// Typed access to one variant of [`Resource`].
pub trait AsKind<T> {
    /// The resource as `T`, if it is one.
    fn as_kind(&self) -> Option<&T>;
}

macro_rules! resource_kinds {
    ($($variant:ident($ty:path) = $name:literal,)*) => {
        /// Every resource type the framework emits.
        // Variants differ in size; a template holds a few hundred at most, built once per synth.
        #[allow(clippy::large_enum_variant)]
        #[derive(Clone, Debug, PartialEq, Serialize)]
        #[serde(untagged)]
        pub enum Resource {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant($ty),
            )*
        }

        impl Resource {
            /// The CloudFormation type name.
            pub fn type_name(&self) -> &'static str {
                match self {
                    $(Resource::$variant(_) => $name,)*
                }
            }
        }

        $(
            impl From<$ty> for Resource {
                fn from(v: $ty) -> Self {
                    Resource::$variant(v)
                }
            }

            impl AsKind<$ty> for Resource {
                fn as_kind(&self) -> Option<&$ty> {
                    match self {
                        Resource::$variant(v) => Some(v),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }
            }
        )*
    };
}

resource_kinds! {
    Bucket(s3::Bucket) = "AWS::S3::Bucket",
    BucketPolicy(s3::BucketPolicy) = "AWS::S3::BucketPolicy",
    Key(kms::Key) = "AWS::KMS::Key",
    Alias(kms::Alias) = "AWS::KMS::Alias",
    Role(iam::Role) = "AWS::IAM::Role",
    InstanceProfile(iam::InstanceProfile) = "AWS::IAM::InstanceProfile",
    ManagedPolicy(iam::ManagedPolicy) = "AWS::IAM::ManagedPolicy",
    Vpc(ec2::Vpc) = "AWS::EC2::VPC",
    Subnet(ec2::Subnet) = "AWS::EC2::Subnet",
    RouteTable(ec2::RouteTable) = "AWS::EC2::RouteTable",
    SubnetRouteTableAssociation(ec2::SubnetRouteTableAssociation) = "AWS::EC2::SubnetRouteTableAssociation",
    Route(ec2::Route) = "AWS::EC2::Route",
    InternetGateway(ec2::InternetGateway) = "AWS::EC2::InternetGateway",
    VpcGatewayAttachment(ec2::VpcGatewayAttachment) = "AWS::EC2::VPCGatewayAttachment",
    NatGateway(ec2::NatGateway) = "AWS::EC2::NatGateway",
    Eip(ec2::Eip) = "AWS::EC2::EIP",
    SecurityGroup(ec2::SecurityGroup) = "AWS::EC2::SecurityGroup",
    SecurityGroupIngress(ec2::SecurityGroupIngress) = "AWS::EC2::SecurityGroupIngress",
    SecurityGroupEgress(ec2::SecurityGroupEgress) = "AWS::EC2::SecurityGroupEgress",
    VpcEndpoint(ec2::VpcEndpoint) = "AWS::EC2::VPCEndpoint",
    FlowLog(ec2::FlowLog) = "AWS::EC2::FlowLog",
    LaunchTemplate(ec2::LaunchTemplate) = "AWS::EC2::LaunchTemplate",
    Function(lambda::Function) = "AWS::Lambda::Function",
    Permission(lambda::Permission) = "AWS::Lambda::Permission",
    Rule(events::Rule) = "AWS::Events::Rule",
    EventBus(events::EventBus) = "AWS::Events::EventBus",
    Topic(sns::Topic) = "AWS::SNS::Topic",
    TopicPolicy(sns::TopicPolicy) = "AWS::SNS::TopicPolicy",
    Subscription(sns::Subscription) = "AWS::SNS::Subscription",
    Queue(sqs::Queue) = "AWS::SQS::Queue",
    StateMachine(sfn::StateMachine) = "AWS::StepFunctions::StateMachine",
    LogGroup(logs::LogGroup) = "AWS::Logs::LogGroup",
    Parameter(ssm::Parameter) = "AWS::SSM::Parameter",
    Document(ssm::Document) = "AWS::SSM::Document",
    Trail(cloudtrail::Trail) = "AWS::CloudTrail::Trail",
    Component(imagebuilder::Component) = "AWS::ImageBuilder::Component",
    ImageRecipe(imagebuilder::ImageRecipe) = "AWS::ImageBuilder::ImageRecipe",
    InfrastructureConfiguration(imagebuilder::InfrastructureConfiguration) = "AWS::ImageBuilder::InfrastructureConfiguration",
    DistributionConfiguration(imagebuilder::DistributionConfiguration) = "AWS::ImageBuilder::DistributionConfiguration",
    ImagePipeline(imagebuilder::ImagePipeline) = "AWS::ImageBuilder::ImagePipeline",
    ActionTarget(securityhub::ActionTarget) = "AWS::SecurityHub::ActionTarget",
}

impl Resource {
    /// Logical ids and parameters this resource references (`Ref`, `GetAtt`, `${...}` in `Sub`).
    pub fn references(&self, out: &mut Vec<String>) {
        let v = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        collect_references(&v, out);
    }
}

/// Walks the JSON form of a resource. Short-form intrinsics serialize there as
/// `["!Tag", argument]` pairs (how `serde_saphyr::Tagged` looks to a non-YAML serializer).
fn collect_references(v: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    match v {
        Value::Array(items) => {
            if let [Value::String(tag), arg] = items.as_slice() {
                match (tag.as_str(), arg) {
                    ("!Ref", Value::String(name)) => return out.push(name.clone()),
                    ("!GetAtt", Value::String(path)) => {
                        return out.push(path.split('.').next().unwrap_or(path).to_owned());
                    }
                    ("!Sub", Value::String(t)) => return crate::cfn::sub_references(t, out),
                    ("!Sub", Value::Array(pair)) => {
                        if let [Value::String(t), Value::Object(vars)] = pair.as_slice() {
                            let mut names = Vec::new();
                            crate::cfn::sub_references(t, &mut names);
                            out.extend(names.into_iter().filter(|n| !vars.contains_key(n)));
                            vars.values().for_each(|x| collect_references(x, out));
                            return;
                        }
                    }
                    _ => {}
                }
            }
            items.iter().for_each(|x| collect_references(x, out));
        }
        Value::Object(m) => m.values().for_each(|x| collect_references(x, out)),
        _ => {}
    }
}
