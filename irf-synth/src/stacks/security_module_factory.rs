//! Security account: the LiME module factory.
//!
//! The AMI list is a stack parameter stored in an SSM parameter: changing it is an in-place
//! update, and the parameter's change event starts a build right away. Builders are ephemeral:
//! launched from a hardened launch template (IMDSv2, encrypted volumes, no inbound), they build,
//! upload with SHA-256 sidecars and power off into termination.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use irf_core::blueprints::{self, FactoryContext};
use irf_core::cfn::resources::{Tag, ec2, events, iam, ssm};
use irf_core::cfn::{CheckovCheck, Expr, Parameter, Template};
use irf_core::env::ModuleFactoryEnv;
use irf_core::handler::Handler;
use irf_core::iam::{PolicyDocument, Statement};
use irf_core::model::Framework;

use super::common::{
    Concurrency, FunctionSpec, Invocation, Network, OperationsKeyRef, add_function,
    add_internet_gateway, add_invoke_permission, add_operations_key, add_vpc, dead_letter_queue_id,
    dead_letter_statements, lambda_role, logging_statements, objects_arn,
};
use super::{Binding, StackKind, outputs};

const MODULES_BUCKET: &str = "ModulesBucketName";
const SECURITY_KEY: &str = "SecurityKeyArn";
const FLOW_LOGS: &str = "FlowLogsBucketArn";
const AMI_IDS: &str = "AmiIds";

/// LiME upstream and the commit builders check out (2026-04-05, maintained again upstream).
pub(crate) const LIME_REPO: &str = "https://github.com/504ensicsLabs/LiME.git";
/// Pinned LiME commit.
pub(crate) const LIME_COMMIT: &str = "7511bffe797d";

pub(super) fn bindings(fw: &Framework) -> BTreeMap<String, Binding> {
    let amis: Vec<&str> = fw.module_factory.amis.iter().map(|a| a.as_str()).collect();
    BTreeMap::from([
        (
            MODULES_BUCKET.to_owned(),
            Binding::output(StackKind::SecurityAutomation, outputs::MODULES_BUCKET),
        ),
        (
            SECURITY_KEY.to_owned(),
            Binding::output(StackKind::SecurityAutomation, outputs::SECURITY_KEY_ARN),
        ),
        (
            FLOW_LOGS.to_owned(),
            Binding::output(StackKind::ForensicsAnalysis, outputs::FLOW_LOGS_BUCKET_ARN),
        ),
        (AMI_IDS.to_owned(), Binding::value(amis.join(","))),
    ])
}

pub(super) fn template(fw: &Framework) -> Template {
    let names = &fw.names;
    let mut t = Template::new(
        "IRF security account: LiME module factory. The AMI list is a parameter: updating it \
         rebuilds modules without re-creating anything.",
    );
    let bucket = t.parameter(MODULES_BUCKET, Parameter::string("Memory-modules bucket."));
    let key = t.parameter(
        SECURITY_KEY,
        Parameter::string("KMS key of the memory-modules bucket."),
    );
    let flow_logs = t.parameter(
        FLOW_LOGS,
        Parameter::string("ARN of the central VPC flow-log bucket."),
    );
    t.parameter(
        AMI_IDS,
        Parameter::string("Comma-separated AMI ids to build LiME modules for (may be empty).")
            .pattern(
                "^(ami-[0-9a-f]{8,17}(,ami-[0-9a-f]{8,17})*)?$",
                "comma-separated AMI ids",
            ),
    );
    super::common::asset_parameters(&mut t);

    let vpc = add_vpc(
        &mut t,
        "Factory",
        &names.resource("module-factory"),
        &fw.network.factory,
        &flow_logs,
        false,
        &[0],
    );
    add_internet_gateway(
        &mut t,
        "Factory",
        &names.resource("module-factory"),
        &vpc,
        &vpc.route_tables[0],
    );
    t.add(
        "BuilderSecurityGroup",
        ec2::SecurityGroup {
            group_description:
                "IRF module builders: nothing inbound; HTTP(S) out to mirrors, GitHub and S3"
                    .to_owned(),
            vpc_id: Expr::r#ref(&vpc.vpc),
            security_group_ingress: Vec::new(),
            security_group_egress: vec![
                ec2::SgRule::tcp("HTTPS to mirrors, GitHub and S3", 443).cidr("0.0.0.0/0"),
                ec2::SgRule::tcp("HTTP to distribution mirrors", 80).cidr("0.0.0.0/0"),
            ],
            tags: Tag::name(names.resource("module-builders")),
        },
    );

    let mut builder = iam::Role::new(PolicyDocument::service_trust(&["ec2.amazonaws.com"])).inline(
        "UploadModules",
        PolicyDocument::new([
            Statement::allow(&["s3:PutObject"])
                .sid("UploadModulesSymbolsManifestsAndLogs")
                .on([objects_arn(&bucket, "*")]),
            Statement::allow(&["s3:GetObject"])
                .sid("ReadTheStagedIsfBuilder")
                .on([objects_arn(&bucket, "tools/irf-isf-*")]),
            Statement::allow(&["kms:GenerateDataKey", "kms:Decrypt"])
                .sid("EncryptUploadsDecryptTheTool")
                .on([key.clone()]),
        ]),
    );
    builder.description =
        Some("IRF module builders: read the ISF builder, upload modules and symbols".to_owned());
    t.add("BuilderRole", builder);
    t.add(
        "BuilderInstanceProfile",
        iam::InstanceProfile {
            instance_profile_name: None,
            roles: vec![Expr::r#ref("BuilderRole")],
        },
    );
    let user_data = blueprints::BUILD_LIME
        .render(&FactoryContext {
            bucket: "${ModulesBucketName}",
            region: "${AWS::Region}",
            lime_repo: LIME_REPO,
            lime_commit: LIME_COMMIT,
            kernels: fw.module_factory.kernels,
            build_kernel: &blueprints::build_kernel_script(),
        })
        .expect("the factory blueprint renders");
    // The script's own ${...} shell expansions must survive Fn::Sub; only the two template
    // placeholders above are CloudFormation references.
    let user_data = escape_for_sub(&user_data, &["ModulesBucketName", "AWS::Region"]);
    t.add(
        "BuilderLaunchTemplate",
        ec2::LaunchTemplate {
            launch_template_name: Some(Expr::s(names.resource("module-builder"))),
            launch_template_data: ec2::LaunchTemplateData {
                block_device_mappings: vec![ec2::BlockDeviceMapping {
                    device_name: "/dev/xvda".to_owned(),
                    ebs: ec2::EbsSpec {
                        delete_on_termination: true,
                        encrypted: true,
                        volume_size: 40,
                        volume_type: "gp3".to_owned(),
                    },
                }],
                iam_instance_profile: Some(ec2::IamInstanceProfileSpec {
                    arn: Expr::arn("BuilderInstanceProfile"),
                }),
                instance_initiated_shutdown_behavior: Some("terminate".to_owned()),
                instance_type: Some(Expr::s(&fw.module_factory.builder_types.x86_64)),
                metadata_options: Some(ec2::MetadataOptions {
                    http_endpoint: "enabled".to_owned(),
                    http_tokens: "required".to_owned(),
                    http_put_response_hop_limit: 1,
                    instance_metadata_tags: Some("enabled".to_owned()),
                }),
                network_interfaces: vec![ec2::NetworkInterfaceSpec {
                    associate_public_ip_address: true,
                    device_index: 0,
                    groups: vec![Expr::r#ref("BuilderSecurityGroup")],
                    subnet_id: Expr::r#ref(&vpc.subnets[0]),
                }],
                tag_specifications: vec![ec2::TagSpecification {
                    resource_type: "instance".to_owned(),
                    tags: Tag::name(names.resource("module-builder")),
                }],
                user_data: Some(Expr::Base64(Box::new(Expr::sub(user_data)))),
            },
        },
    )
    .skip_checkov(
        CheckovCheck::NoPublicIp,
        "ephemeral builders fetch kernel headers, packages and LiME from the internet; the public IP replaces a NAT gateway, and their security group admits nothing inbound",
    );

    t.add(
        "AmiListParameter",
        ssm::Parameter {
            name: Expr::s(names.factory_amis_parameter()),
            description: Some("AMIs the module factory builds LiME modules for".to_owned()),
            kind: "String".to_owned(),
            value: Expr::If(
                "HasAmis".to_owned(),
                Box::new(Expr::r#ref(AMI_IDS)),
                Box::new(Expr::s("none")),
            ),
            tags: BTreeMap::new(),
        },
    );
    t.condition(
        "HasAmis",
        Expr::Not(Box::new(Expr::Equals(
            Box::new(Expr::r#ref(AMI_IDS)),
            Box::new(Expr::s("")),
        ))),
    );

    let function_name = names.resource("module-factory");
    let mut statements = vec![
        Statement::allow(&["ssm:GetParameter"])
            .sid("ReadAmiList")
            .on([Expr::sub(format!(
                "arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter{}",
                names.factory_amis_parameter()
            ))]),
        Statement::allow(&["s3:GetObject", "s3:ListBucket"])
            .sid("ReadRequestsAndManifests")
            .on([super::common::bucket_arn(&bucket), objects_arn(&bucket, "factory/*")]),
        Statement::allow(&["s3:PutObject"])
            .sid("ReportTimedOutBuildersAndAddWatchedAmis")
            .on([
                objects_arn(&bucket, "factory/ami-*"),
                objects_arn(&bucket, "factory/requests/*"),
            ]),
        Statement::allow(&["kms:Decrypt", "kms:GenerateDataKey"])
            .sid("ReadAndWriteFactoryDocuments")
            .on([key]),
        Statement::allow(&["ec2:RunInstances"])
            .sid("LaunchBuildersFromTheTemplate")
            .on([
                Expr::sub("arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:launch-template/${BuilderLaunchTemplate}"),
                Expr::sub("arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:instance/*"),
                Expr::sub("arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:volume/*"),
                Expr::sub("arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:network-interface/*"),
                Expr::sub("arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:subnet/*"),
                Expr::sub("arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:security-group/*"),
                Expr::sub("arn:${AWS::Partition}:ec2:${AWS::Region}::image/*"),
            ]),
        Statement::allow(&["ec2:CreateTags"])
            .sid("TagBuildersAtLaunch")
            .on([Expr::sub("arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:*/*")])
            .when("StringEquals", "ec2:CreateAction", Expr::s("RunInstances")),
        Statement::allow(&["ec2:DescribeInstances", "ec2:DescribeImages"])
            .sid("FindRunningBuildersAndImageArchitectures")
            .on_all(),
        // An AMI of another region (modules build --region) is built from a copy made here.
        Statement::allow(&["ec2:CopyImage"])
            .sid("CopyAmisOfOtherRegionsHere")
            .on([Expr::sub("arn:${AWS::Partition}:ec2:*::image/*")]),
        Statement::allow(&["ec2:CreateTags"])
            .sid("TagTheCopiesWithTheirSource")
            .on([Expr::sub("arn:${AWS::Partition}:ec2:${AWS::Region}::image/*")])
            .when(
                "Null",
                &format!("aws:RequestTag/{}", irf_core::factory::COPY_SOURCE_TAG),
                Expr::s("false"),
            ),
        Statement::allow(&["ec2:TerminateInstances"])
            .sid("WatchdogTerminatesOverdueBuilders")
            .on([Expr::sub("arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:instance/*")])
            .when("Null", &format!("aws:ResourceTag/{}", irf_core::factory::BUILDER_TAG), Expr::s("false")),
        Statement::allow(&["iam:PassRole"])
            .sid("PassTheBuilderRole")
            .on([Expr::arn("BuilderRole")]),
    ];
    if !fw.module_factory.watch_parameters.is_empty() {
        statements.push(
            Statement::allow(&["ssm:GetParameters"])
                .sid("ReadWatchedAmiParameters")
                .on(fw.module_factory.watch_parameters.iter().map(|name| {
                    // Public parameters (/aws/service/...) belong to no account.
                    let account = if name.starts_with("/aws/service/") {
                        ""
                    } else {
                        "${AWS::AccountId}"
                    };
                    Expr::sub(format!(
                        "arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:{account}:parameter{name}"
                    ))
                })),
        );
    }
    statements.extend(logging_statements(std::slice::from_ref(&function_name)));
    statements.extend(dead_letter_statements(
        vec![Expr::arn(dead_letter_queue_id("FactoryFunction"))],
        OperationsKeyRef::InThisTemplate,
    ));
    t.add(
        "FactoryFunctionRole",
        lambda_role(
            None,
            "IRF module factory: launches builders for the configured AMIs",
        )
        .inline("LaunchBuilders", PolicyDocument::new(statements)),
    );
    let env = ModuleFactoryEnv {
        modules_bucket: bucket.clone(),
        ami_parameter: Expr::r#ref("AmiListParameter"),
        launch_template_id: Expr::r#ref("BuilderLaunchTemplate"),
        x86_64_builder_type: Expr::s(&fw.module_factory.builder_types.x86_64),
        arm64_builder_type: Expr::s(&fw.module_factory.builder_types.arm64),
        build_timeout_minutes: Expr::s(fw.module_factory.build_timeout_minutes.to_string()),
        watch_parameters: (!fw.module_factory.watch_parameters.is_empty())
            .then(|| Expr::s(fw.module_factory.watch_parameters.join(","))),
    }
    .variables();
    add_function(
        &mut t,
        fw,
        FunctionSpec {
            id: "FactoryFunction",
            name: "module-factory",
            description: "Launches one ephemeral builder per configured AMI whose modules are missing",
            handler: Handler::ModuleFactory,
            role: Expr::arn("FactoryFunctionRole"),
            env,
            timeout: 120,
            memory: 256,
            network: Network::Managed {
                calls: "SSM, S3, KMS and EC2",
            },
            invocation: Invocation::Asynchronous,
            concurrency: Concurrency::Shared(
                "runs nightly and when the AMI list changes; RunInstances is idempotent per AMI and day (client token), so neither a guarantee nor a cap changes anything",
            ),
        },
    );
    add_operations_key(&mut t, fw, StackKind::SecurityModuleFactory);

    let mut detail = IndexMap::new();
    detail.insert(
        "name".to_owned(),
        Expr::strs([names.factory_amis_parameter()]),
    );
    let mut pattern = IndexMap::new();
    pattern.insert("source".to_owned(), Expr::strs(["aws.ssm"]));
    pattern.insert(
        "detail-type".to_owned(),
        Expr::strs(["Parameter Store Change"]),
    );
    pattern.insert("detail".to_owned(), Expr::Map(detail));
    let mut image_state = IndexMap::new();
    image_state.insert("status".to_owned(), Expr::strs(["AVAILABLE"]));
    let mut image_detail = IndexMap::new();
    image_detail.insert("state".to_owned(), Expr::Map(image_state));
    let mut image_pattern = IndexMap::new();
    image_pattern.insert("source".to_owned(), Expr::strs(["aws.imagebuilder"]));
    image_pattern.insert(
        "detail-type".to_owned(),
        Expr::strs(["EC2 Image Builder Image State Change"]),
    );
    image_pattern.insert("detail".to_owned(), Expr::Map(image_detail));
    let mut copy_detail = IndexMap::new();
    copy_detail.insert("State".to_owned(), Expr::strs(["available"]));
    let mut copy_pattern = IndexMap::new();
    copy_pattern.insert("source".to_owned(), Expr::strs(["aws.ec2"]));
    copy_pattern.insert(
        "detail-type".to_owned(),
        Expr::strs(["EC2 AMI State Change"]),
    );
    copy_pattern.insert("detail".to_owned(), Expr::Map(copy_detail));
    for (id, slug, description, pattern, schedule) in [
        (
            "AmiListChangedRule",
            "ami-change",
            "Builds modules as soon as the AMI list changes",
            Some(Expr::Map(pattern)),
            None,
        ),
        (
            "NightlyBuildRule",
            "nightly",
            "Rebuilds nightly so new kernels of the listed AMIs get modules; reads the watched parameters",
            None,
            Some("cron(0 3 * * ? *)".to_owned()),
        ),
        (
            "ImageAvailableRule",
            "image-available",
            "Adds AMIs that EC2 Image Builder makes in this account and region to the list and builds them",
            Some(Expr::Map(image_pattern)),
            None,
        ),
        (
            "CopyAvailableRule",
            "copy-available",
            "Launches the builder for an AMI of another region once the factory's copy of it is available",
            Some(Expr::Map(copy_pattern)),
            None,
        ),
    ] {
        t.add(
            id,
            events::Rule {
                name: Some(Expr::s(names.resource(&format!("module-factory-{slug}")))),
                description: description.to_owned(),
                event_bus_name: None,
                event_pattern: pattern,
                schedule_expression: schedule,
                state: "ENABLED".to_owned(),
                targets: vec![events::Target {
                    arn: Expr::arn("FactoryFunction"),
                    id: "ModuleFactory".to_owned(),
                    role_arn: None,
                    retry_policy: None,
                }],
            },
        );
        add_invoke_permission(
            &mut t,
            &format!("{id}Permission"),
            "FactoryFunction",
            "events.amazonaws.com",
            Expr::arn(id),
        );
    }

    t.output(
        "FactoryFunctionArn",
        "Module factory function",
        Expr::arn("FactoryFunction"),
    );
    t.output(
        "AmiListParameterName",
        "SSM parameter with the AMI list",
        Expr::r#ref("AmiListParameter"),
    );
    t
}

/// Escapes every `${...}` in `text` for `Fn::Sub` except the listed CloudFormation references.
pub(crate) fn escape_for_sub(text: &str, keep: &[&str]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let name = after.split('}').next().unwrap_or("");
        if keep.contains(&name) {
            out.push_str("${");
        } else {
            out.push_str("${!");
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::escape_for_sub;

    #[test]
    fn the_builder_user_data_fits_ec2s_16_kib() {
        let user_data = irf_core::blueprints::BUILD_LIME
            .render(&irf_core::blueprints::FactoryContext {
                bucket: "irf-111111111111-memory-modules",
                region: "us-east-1",
                lime_repo: super::LIME_REPO,
                lime_commit: super::LIME_COMMIT,
                kernels: 20,
                build_kernel: &irf_core::blueprints::build_kernel_script(),
            })
            .unwrap();
        // EC2 limits user data to 16 KiB before base64.
        assert!(user_data.len() < 16 * 1024, "{} bytes", user_data.len());
    }

    #[test]
    fn only_listed_references_survive_sub() {
        assert_eq!(
            escape_for_sub("a=${B} ${AWS::Region} ${x[*]}", &["AWS::Region"]),
            "a=${!B} ${AWS::Region} ${!x[*]}"
        );
    }
}
