//! Security account: the isolated IR VPC where the disk-imaging functions run.
//!
//! No internet gateway, no NAT: the imaging functions reach EBS direct, EC2 and S3 through VPC
//! endpoints only, so evidence never crosses the internet. Flow logs go to the forensics
//! account's central bucket, and the S3 gateway endpoint allows bucket-level actions on the
//! evidence bucket as well as object actions.

use std::collections::BTreeMap;

use irf_core::cfn::resources::{Tag, ec2};
use irf_core::cfn::{Expr, Parameter, Template};
use irf_core::iam::Statement;
use irf_core::model::Framework;

use super::common::{
    add_interface_endpoints, add_s3_gateway_endpoint, add_vpc, bucket_arn, objects_arn,
};
use super::{Binding, StackKind, outputs};

const EVIDENCE_BUCKET: &str = "EvidenceBucketName";
const FLOW_LOGS: &str = "FlowLogsBucketArn";

/// Services the imaging functions call from inside the VPC.
pub(crate) const ENDPOINT_SERVICES: &[&str] = &["ebs", "ec2", "kms", "sts"];

pub(super) fn bindings() -> BTreeMap<String, Binding> {
    BTreeMap::from([
        (
            EVIDENCE_BUCKET.to_owned(),
            Binding::output(StackKind::ForensicsAnalysis, outputs::EVIDENCE_BUCKET),
        ),
        (
            FLOW_LOGS.to_owned(),
            Binding::output(StackKind::ForensicsAnalysis, outputs::FLOW_LOGS_BUCKET_ARN),
        ),
    ])
}

pub(super) fn template(fw: &Framework) -> Template {
    let names = &fw.names;
    let mut t = Template::new(
        "IRF security account: isolated IR VPC (no internet) with flow logs and the endpoints \
         the disk-imaging functions use.",
    );
    let evidence = t.parameter(
        EVIDENCE_BUCKET,
        Parameter::string("Name of the evidence bucket in the forensics account."),
    );
    let flow_logs = t.parameter(
        FLOW_LOGS,
        Parameter::string("ARN of the central VPC flow-log bucket."),
    );
    let vpc = add_vpc(
        &mut t,
        "Ir",
        &names.resource("ir"),
        &fw.network.ir,
        &flow_logs,
        false,
        &[],
    );
    t.add(
        "ImagingSecurityGroup",
        ec2::SecurityGroup {
            group_description:
                "IRF imaging functions: no inbound; HTTPS to endpoints only (no internet route)"
                    .to_owned(),
            vpc_id: Expr::r#ref(&vpc.vpc),
            security_group_ingress: Vec::new(),
            security_group_egress: vec![
                ec2::SgRule::tcp("HTTPS to VPC endpoints", 443).cidr("0.0.0.0/0"),
            ],
            tags: Tag::name(names.resource("ir-imaging")),
        },
    );
    t.add(
        "IrEndpointSecurityGroup",
        ec2::SecurityGroup {
            group_description: "IRF IR VPC endpoints: HTTPS from the imaging functions".to_owned(),
            vpc_id: Expr::r#ref(&vpc.vpc),
            security_group_ingress: vec![
                ec2::SgRule::tcp("HTTPS from imaging functions", 443)
                    .from_group(Expr::r#ref("ImagingSecurityGroup")),
            ],
            security_group_egress: ec2::SecurityGroup::no_egress(),
            tags: Tag::name(names.resource("ir-endpoints")),
        },
    );
    add_s3_gateway_endpoint(
        &mut t,
        "Ir",
        &vpc,
        Statement::allow(&[
            "s3:GetObject",
            "s3:PutObject",
            "s3:AbortMultipartUpload",
            "s3:ListMultipartUploadParts",
            "s3:ListBucket",
            "s3:ListBucketMultipartUploads",
            "s3:GetBucketLocation",
        ])
        .sid("EvidenceBucketOnly")
        .on([bucket_arn(&evidence), objects_arn(&evidence, "*")]),
    );
    add_interface_endpoints(
        &mut t,
        "Ir",
        &vpc,
        &fw.network.ir,
        "IrEndpointSecurityGroup",
        ENDPOINT_SERVICES,
    );
    t.output("IrVpcId", "IR VPC", Expr::r#ref(&vpc.vpc));
    t.output(
        outputs::IR_SUBNET_IDS,
        "IR VPC subnets (comma-separated)",
        Expr::join(",", vpc.subnets.iter().map(Expr::r#ref).collect()),
    );
    t.output(
        outputs::IMAGING_SG,
        "Security group of the imaging functions",
        Expr::r#ref("ImagingSecurityGroup"),
    );
    t
}
