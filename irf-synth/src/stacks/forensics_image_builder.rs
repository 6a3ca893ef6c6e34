//! Forensics account: maintenance VPC (with NAT) and the EC2 Image Builder pipeline producing
//! the SANS SIFT analysis workstation AMI.
//!
//! The `cast` download is verified against a pinned SHA-256, build instances terminate on
//! failure, images are tested, every build updates the SSM parameter with the newest AMI (through
//! the distribution configuration), and no image is built during stack creation (the pipeline
//! runs on its schedule or on demand).

use std::collections::BTreeMap;

use irf_core::blueprints::{self, SiftContext, SiftToolsContext};
use irf_core::cfn::resources::{Tag, ec2, iam, imagebuilder};
use irf_core::cfn::{Expr, Parameter, Template, Validator};
use irf_core::iam::{PolicyDocument, Statement};
use irf_core::model::Framework;
use sha2::{Digest, Sha256};

use super::common::{BucketSpec, add_bucket, add_internet_gateway, add_vpc, objects_arn};
use super::{Binding, StackKind, outputs};

const FLOW_LOGS: &str = "FlowLogsBucketArn";
const ACCESS_LOGS: &str = "AccessLogsBucketName";

/// Commands the finished image must provide (validate phase).
pub(crate) const SIFT_TOOLS: &[&str] = &["log2timeline.py", "psort.py", "vol.py", "fls", "mmls"];

pub(super) fn bindings() -> BTreeMap<String, Binding> {
    BTreeMap::from([
        (
            FLOW_LOGS.to_owned(),
            Binding::output(StackKind::ForensicsAnalysis, outputs::FLOW_LOGS_BUCKET_ARN),
        ),
        (
            ACCESS_LOGS.to_owned(),
            Binding::output(StackKind::ForensicsAnalysis, outputs::ACCESS_LOGS_BUCKET),
        ),
    ])
}

/// A semantic version whose patch number follows the content, because Image Builder components
/// and recipes are immutable: a changed document needs a new version.
fn content_version(content: &str) -> String {
    let digest = Sha256::digest(content.as_bytes());
    let patch = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % 1_000_000;
    format!("1.0.{patch}")
}

/// The Image Builder component document installing SIFT.
pub(crate) fn sift_component(fw: &Framework) -> String {
    let install = blueprints::INSTALL_SIFT
        .render(&SiftContext {
            cast_version: &fw.sift.cast_version,
            cast_sha256: &fw.sift.cast_sha256,
        })
        .expect("the SIFT blueprint renders with a validated config");
    let validate = blueprints::VALIDATE_SIFT
        .render(&SiftToolsContext { tools: SIFT_TOOLS })
        .expect("the SIFT validation blueprint renders");
    let step = |name: &str, script: &str| {
        serde_json::json!({
            "name": name,
            "action": "ExecuteBash",
            "timeoutSeconds": 7200,
            "onFailure": "Abort",
            "inputs": { "commands": [script] },
        })
    };
    let doc = serde_json::json!({
        "name": "install-sift",
        "description": "SANS SIFT workstation installed with a checksum-verified cast",
        "schemaVersion": 1.0,
        "phases": [
            { "name": "build", "steps": [step("InstallSift", &install)] },
            { "name": "validate", "steps": [step("CheckSiftTools", &validate)] },
            { "name": "test", "steps": [step("CheckSiftToolsOnLaunch", &validate)] },
        ],
    });
    irf_core::cfn::yaml::to_yaml(&doc)
}

pub(super) fn template(fw: &Framework) -> Template {
    let names = &fw.names;
    let mut t = Template::new(
        "IRF forensics account: maintenance VPC with NAT and the EC2 Image Builder pipeline \
         building the SANS SIFT analysis workstation AMI.",
    );
    let flow_logs = t.parameter(
        FLOW_LOGS,
        Parameter::string("ARN of the central VPC flow-log bucket."),
    );
    let access_logs = t.parameter(
        ACCESS_LOGS,
        Parameter::string("Name of the S3 access-log bucket."),
    );

    let vpc = add_vpc(
        &mut t,
        "Maintenance",
        &names.resource("maintenance"),
        &fw.network.maintenance,
        &flow_logs,
        true,
        &[0],
    );
    add_internet_gateway(
        &mut t,
        "Maintenance",
        &names.resource("maintenance"),
        &vpc,
        &vpc.route_tables[0],
    );
    t.add(
        "MaintenanceNatAddress",
        ec2::Eip {
            domain: "vpc".to_owned(),
            tags: Tag::name(names.resource("maintenance-nat")),
        },
    )
    .depends_on("MaintenanceGatewayAttachment");
    t.add(
        "MaintenanceNatGateway",
        ec2::NatGateway {
            allocation_id: Expr::att("MaintenanceNatAddress", "AllocationId"),
            subnet_id: Expr::r#ref(&vpc.subnets[0]),
            tags: Tag::name(names.resource("maintenance")),
        },
    );
    t.add(
        "MaintenancePrivateRoute",
        ec2::Route {
            route_table_id: Expr::r#ref(&vpc.route_tables[1]),
            destination_cidr_block: "0.0.0.0/0".to_owned(),
            gateway_id: None,
            nat_gateway_id: Some(Expr::r#ref("MaintenanceNatGateway")),
        },
    );
    t.add(
        "BuildSecurityGroup",
        ec2::SecurityGroup {
            group_description: "IRF image builds: no inbound; HTTP(S) out through the NAT gateway"
                .to_owned(),
            vpc_id: Expr::r#ref(&vpc.vpc),
            security_group_ingress: Vec::new(),
            security_group_egress: vec![
                ec2::SgRule::tcp("HTTPS to package mirrors, GitHub and AWS", 443).cidr("0.0.0.0/0"),
                ec2::SgRule::tcp("HTTP to distribution package mirrors", 80).cidr("0.0.0.0/0"),
            ],
            tags: Tag::name(names.resource("image-builds")),
        },
    );

    let logs_bucket = Expr::s(names.image_builder_logs_bucket());
    add_bucket(
        &mut t,
        BucketSpec {
            id: "BuildLogsBucket",
            name: logs_bucket.clone(),
            key: None,
            access_logs: Some((access_logs, "imagebuilder-logs/".to_owned())),
            lifecycle: vec![irf_core::cfn::resources::s3::LifecycleRule {
                id: "ExpireBuildLogs".to_owned(),
                status: "Enabled".to_owned(),
                expiration_in_days: Some(365),
                transitions: Vec::new(),
                noncurrent_version_expiration: Some(
                    irf_core::cfn::resources::s3::NoncurrentVersionExpiration {
                        noncurrent_days: 30,
                    },
                ),
                abort_incomplete_multipart_upload: None,
            }],
            object_lock: None,
            retain: false,
        },
    );
    t.resources
        .get_mut("BuildLogsBucket")
        .expect("just added")
        .suppress(
            Validator::Guard,
            "s3_kms_encrypted",
            "build logs hold no evidence; SSE-S3 avoids granting the build role a key",
        );

    let mut role = iam::Role::new(PolicyDocument::service_trust(&["ec2.amazonaws.com"]))
        .managed("AmazonSSMManagedInstanceCore")
        .managed("EC2InstanceProfileForImageBuilder")
        .inline(
            "WriteBuildLogs",
            PolicyDocument::new([Statement::allow(&["s3:PutObject"])
                .sid("WriteBuildLogs")
                .on([objects_arn(&logs_bucket, "*")])]),
        );
    role.description = Some("IRF SIFT image build instances".to_owned());
    t.add("BuildRole", role);
    t.add(
        "BuildInstanceProfile",
        iam::InstanceProfile {
            instance_profile_name: None,
            roles: vec![Expr::r#ref("BuildRole")],
        },
    );

    let component = sift_component(fw);
    let component_version = content_version(&component);
    t.add(
        "SiftComponent",
        imagebuilder::Component {
            name: Expr::s(names.resource("install-sift")),
            description: "Installs the SANS SIFT workstation with a checksum-verified cast"
                .to_owned(),
            platform: "Linux".to_owned(),
            version: component_version.clone(),
            data: component,
            tags: BTreeMap::new(),
        },
    );
    let aws_component = |name: &str| imagebuilder::ComponentRef {
        component_arn: Expr::sub(format!(
            "arn:${{AWS::Partition}}:imagebuilder:${{AWS::Region}}:aws:component/{name}/x.x.x"
        )),
    };
    let components = vec![
        aws_component("update-linux"),
        aws_component("aws-cli-version-2-linux"),
        imagebuilder::ComponentRef {
            component_arn: Expr::r#ref("SiftComponent"),
        },
        aws_component("reboot-test-linux"),
    ];
    t.add(
        "SiftRecipe",
        imagebuilder::ImageRecipe {
            name: Expr::s(names.resource("sift-workstation")),
            version: content_version(&format!("{component_version}|ubuntu-22|64")),
            parent_image: Expr::sub(
                "arn:${AWS::Partition}:imagebuilder:${AWS::Region}:aws:image/ubuntu-server-22-lts-x86/x.x.x",
            ),
            block_device_mappings: vec![imagebuilder::RecipeBlockDevice {
                device_name: "/dev/sda1".to_owned(),
                ebs: imagebuilder::RecipeEbs {
                    delete_on_termination: true,
                    encrypted: true,
                    volume_size: 64,
                    volume_type: "gp3".to_owned(),
                },
            }],
            components,
            description: "SANS SIFT workstation on Ubuntu 22.04 for IRF analysts".to_owned(),
            tags: BTreeMap::new(),
        },
    );
    t.add(
        "SiftInfrastructure",
        imagebuilder::InfrastructureConfiguration {
            name: Expr::s(names.resource("sift-infrastructure")),
            description: "Builds in the private maintenance subnet; instances terminate on failure"
                .to_owned(),
            instance_profile_name: Expr::r#ref("BuildInstanceProfile"),
            instance_types: fw.sift.instance_types.clone(),
            instance_metadata_options: imagebuilder::InstanceMetadataOptions {
                http_tokens: "required".to_owned(),
                http_put_response_hop_limit: 2,
            },
            logging: imagebuilder::ImageBuilderLogging {
                s3_logs: imagebuilder::S3Logs {
                    s3_bucket_name: Expr::r#ref("BuildLogsBucket"),
                    s3_key_prefix: "sift/".to_owned(),
                },
            },
            security_group_ids: vec![Expr::r#ref("BuildSecurityGroup")],
            subnet_id: Expr::r#ref(&vpc.subnets[1]),
            terminate_instance_on_failure: true,
            tags: BTreeMap::new(),
        },
    );
    t.add(
        "SiftDistribution",
        imagebuilder::DistributionConfiguration {
            name: Expr::s(names.resource("sift-distribution")),
            description: "SIFT AMIs in the home region; the SSM parameter always names the newest"
                .to_owned(),
            distributions: vec![imagebuilder::Distribution {
                region: Expr::r#ref("AWS::Region"),
                ami_distribution_configuration: imagebuilder::AmiDistribution {
                    name: format!("{}-sift-{{{{ imagebuilder:buildDate }}}}", names.prefix()),
                    description: "IRF SANS SIFT analysis workstation".to_owned(),
                    ami_tags: BTreeMap::from([(
                        "irf:image".to_owned(),
                        "sift-workstation".to_owned(),
                    )]),
                },
                ssm_parameter_configurations: vec![imagebuilder::SsmParameterConfiguration {
                    parameter_name: names.sift_ami_parameter(),
                    data_type: "aws:ec2:image".to_owned(),
                }],
            }],
            tags: BTreeMap::new(),
        },
    );
    t.add(
        "SiftPipeline",
        imagebuilder::ImagePipeline {
            name: Expr::s(names.resource("sift-pipeline")),
            description: "Rebuilds the SIFT workstation on schedule with current patches"
                .to_owned(),
            image_recipe_arn: Expr::r#ref("SiftRecipe"),
            infrastructure_configuration_arn: Expr::r#ref("SiftInfrastructure"),
            distribution_configuration_arn: Expr::r#ref("SiftDistribution"),
            image_tests_configuration: imagebuilder::ImageTestsConfiguration {
                image_tests_enabled: true,
                timeout_minutes: 120,
            },
            schedule: imagebuilder::Schedule {
                schedule_expression: fw.sift.schedule.clone(),
                pipeline_execution_start_condition: "EXPRESSION_MATCH_ONLY".to_owned(),
            },
            status: "ENABLED".to_owned(),
            tags: BTreeMap::new(),
        },
    );

    t.output(
        "SiftPipelineArn",
        "SIFT image pipeline",
        Expr::r#ref("SiftPipeline"),
    );
    t.output(
        "SiftAmiParameterName",
        "SSM parameter holding the newest SIFT AMI id",
        Expr::s(names.sift_ami_parameter()),
    );
    t.output("MaintenanceVpcId", "Maintenance VPC", Expr::r#ref(&vpc.vpc));
    t
}
