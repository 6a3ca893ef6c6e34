//! Incident fixtures: a deployed fresh org, suspect instances in a member account, and readers
//! of the state containment changes. Shared by the runtime tests and the containment bench.
//!
//! Emulator gaps worked around here (each is explained where it is handled):
//! `RunInstances` with an instance profile records no association; launch-time security groups
//! are added to every attached interface; a replaced profile still shows in `DescribeInstances`.

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_ec2::types::{Filter, IamInstanceProfileSpecification, IpPermission, IpRange};
use irf_core::contract;
use irf_core::env::MemberTagEnv;
use irf_runtime::aws::Aws;
use irf_runtime::handlers::member_tag::MemberConfig;
use serde_json::Value;

/// The region the suspects run in.
pub const REGION: &str = "us-east-1";

/// A deployed fresh example org.
pub struct Org {
    pub endpoint: String,
    pub acct: super::Accounts,
    /// The org config deployed.
    pub text: String,
    _dir: tempfile::TempDir,
}

/// Deploys a fresh example org to the emulator (`None`: no emulator, test skipped).
pub async fn deployed_org() -> Option<Org> {
    let endpoint = super::emulator()?;
    let (text, acct) = super::fresh_org();
    let dir = tempfile::tempdir().unwrap();
    let synth = super::synth(&text, dir.path());
    let (deployer, _) = super::deployer(&endpoint, &synth).await;
    let report = deployer.deploy(&synth).await;
    assert!(report.ok(), "deploy failed:\n{report}");
    Some(Org {
        endpoint,
        acct,
        text,
        _dir: dir,
    })
}

/// An instance as an incident finds it: its own profile, interfaces with their own groups.
#[derive(Clone, Debug)]
pub struct Suspect {
    pub instance_id: String,
    pub vpc_id: String,
    /// Security groups per interface, before anything changed (sorted).
    pub groups: BTreeMap<String, Vec<String>>,
    pub profile_arn: String,
    pub role_name: String,
}

/// A member's workload network where suspects are launched: a VPC, a subnet, a web group
/// (HTTPS in) and an admin group, an image, and an application role with its profile.
pub struct Estate {
    ec2: aws_sdk_ec2::Client,
    pub vpc_id: String,
    subnet: String,
    web: String,
    admin: String,
    image: String,
    pub profile_arn: String,
    pub role_name: String,
    /// Size of the root volume of instances launched from now on (the emulator's default when
    /// unset).
    pub root_gib: Option<i32>,
}

impl Estate {
    pub async fn create(conf: &SdkConfig, tag: &str) -> Estate {
        let ec2 = aws_sdk_ec2::Client::new(conf);
        let iam = aws_sdk_iam::Client::new(conf);
        let role_name = format!("app-{tag}");
        iam.create_role()
            .role_name(&role_name)
            .assume_role_policy_document(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
            )
            .send()
            .await
            .unwrap();
        let profile = iam
            .create_instance_profile()
            .instance_profile_name(&role_name)
            .send()
            .await
            .unwrap();
        let profile_arn = profile.instance_profile().unwrap().arn().to_owned();
        iam.add_role_to_instance_profile()
            .instance_profile_name(&role_name)
            .role_name(&role_name)
            .send()
            .await
            .unwrap();
        let vpc_id = ec2
            .create_vpc()
            .cidr_block("10.20.0.0/16")
            .send()
            .await
            .unwrap()
            .vpc()
            .unwrap()
            .vpc_id()
            .unwrap()
            .to_owned();
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc_id)
            .cidr_block("10.20.0.0/18")
            .send()
            .await
            .unwrap()
            .subnet()
            .unwrap()
            .subnet_id()
            .unwrap()
            .to_owned();
        let mut groups = Vec::new();
        for name in ["web", "admin"] {
            groups.push(
                ec2.create_security_group()
                    .group_name(name)
                    .description(name)
                    .vpc_id(&vpc_id)
                    .send()
                    .await
                    .unwrap()
                    .group_id()
                    .unwrap()
                    .to_owned(),
            );
        }
        let admin = groups.pop().unwrap();
        let web = groups.pop().unwrap();
        ec2.authorize_security_group_ingress()
            .group_id(&web)
            .ip_permissions(
                IpPermission::builder()
                    .ip_protocol("tcp")
                    .from_port(443)
                    .to_port(443)
                    .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let image = ec2
            .register_image()
            .name(format!("suspect-base-{tag}"))
            .root_device_name("/dev/xvda")
            .send()
            .await
            .unwrap()
            .image_id()
            .unwrap()
            .to_owned();
        Estate {
            ec2,
            vpc_id,
            subnet,
            web,
            admin,
            image,
            profile_arn,
            role_name,
            root_gib: None,
        }
    }

    /// Launches a suspect with `interfaces` network interfaces (the first with the web group,
    /// the others with the admin group) and the application profile.
    pub async fn launch(&self, interfaces: usize) -> Suspect {
        let ec2 = &self.ec2;
        let run = ec2
            .run_instances()
            .image_id(&self.image)
            .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
            .min_count(1)
            .max_count(1)
            // The primary interface is specified with its group (not the instance-level
            // `SecurityGroupIds`): the emulator adds instance-level groups to every attached
            // interface whatever it is later set to, AWS keeps groups per interface.
            .network_interfaces(
                aws_sdk_ec2::types::InstanceNetworkInterfaceSpecification::builder()
                    .device_index(0)
                    .subnet_id(&self.subnet)
                    .groups(&self.web)
                    .build(),
            )
            .set_block_device_mappings(self.root_gib.map(|gib| {
                vec![
                    aws_sdk_ec2::types::BlockDeviceMapping::builder()
                        .device_name("/dev/xvda")
                        .ebs(
                            aws_sdk_ec2::types::EbsBlockDevice::builder()
                                .volume_size(gib)
                                .delete_on_termination(true)
                                .build(),
                        )
                        .build(),
                ]
            }))
            .send()
            .await
            .unwrap();
        let instance_id = run.instances()[0].instance_id().unwrap().to_owned();
        // Emulator gap: a profile given to RunInstances creates no association there;
        // associating it afterwards gives the state AWS has after a launch with the profile.
        ec2.associate_iam_instance_profile()
            .instance_id(&instance_id)
            .iam_instance_profile(
                IamInstanceProfileSpecification::builder()
                    .arn(&self.profile_arn)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        for index in 1..interfaces {
            let eni = ec2
                .create_network_interface()
                .subnet_id(&self.subnet)
                .groups(&self.admin)
                .send()
                .await
                .unwrap()
                .network_interface()
                .unwrap()
                .network_interface_id()
                .unwrap()
                .to_owned();
            ec2.attach_network_interface()
                .instance_id(&instance_id)
                .network_interface_id(&eni)
                .device_index(i32::try_from(index).unwrap())
                .send()
                .await
                .unwrap();
        }
        let groups = interfaces_of(ec2, &instance_id).await;
        assert_eq!(
            groups.len(),
            interfaces,
            "the suspect's interfaces: {groups:?}"
        );
        assert_eq!(
            groups
                .values()
                .filter(|g| **g == [self.admin.clone()])
                .count(),
            interfaces - 1,
            "{groups:?}"
        );
        Suspect {
            instance_id,
            vpc_id: self.vpc_id.clone(),
            groups,
            profile_arn: self.profile_arn.clone(),
            role_name: self.role_name.clone(),
        }
    }
}

/// A two-interface suspect in a new estate.
pub async fn suspect(conf: &SdkConfig, tag: &str) -> Suspect {
    Estate::create(conf, tag).await.launch(2).await
}

/// Security groups per interface, now (sorted).
pub async fn interfaces_of(
    ec2: &aws_sdk_ec2::Client,
    instance: &str,
) -> BTreeMap<String, Vec<String>> {
    let out = ec2
        .describe_instances()
        .instance_ids(instance)
        .send()
        .await
        .unwrap();
    out.reservations()[0].instances()[0]
        .network_interfaces()
        .iter()
        .map(|n| {
            let mut g: Vec<String> = n
                .groups()
                .iter()
                .map(|g| g.group_id().unwrap().to_owned())
                .collect();
            g.sort();
            (n.network_interface_id().unwrap().to_owned(), g)
        })
        .collect()
}

/// The instance's profile from the association API (authoritative; the emulator's
/// `DescribeInstances` keeps showing a replaced profile).
pub async fn profile_of(ec2: &aws_sdk_ec2::Client, instance: &str) -> Vec<String> {
    ec2.describe_iam_instance_profile_associations()
        .filters(
            Filter::builder()
                .name("instance-id")
                .values(instance)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .iam_instance_profile_associations()
        .iter()
        .filter(|a| a.state().map(|s| s.as_str()) == Some("associated"))
        .map(|a| a.iam_instance_profile().unwrap().arn().unwrap().to_owned())
        .collect()
}

/// Termination protection, now.
pub async fn termination_protected(ec2: &aws_sdk_ec2::Client, instance: &str) -> bool {
    ec2.describe_instance_attribute()
        .instance_id(instance)
        .attribute(aws_sdk_ec2::types::InstanceAttributeName::DisableApiTermination)
        .send()
        .await
        .unwrap()
        .disable_api_termination()
        .and_then(|v| v.value())
        .unwrap()
}

/// The framework's isolation and untrack groups in a VPC.
pub async fn isolation_groups(
    ec2: &aws_sdk_ec2::Client,
    vpc: &str,
) -> Vec<aws_sdk_ec2::types::SecurityGroup> {
    ec2.describe_security_groups()
        .filters(Filter::builder().name("vpc-id").values(vpc).build())
        .send()
        .await
        .unwrap()
        .security_groups()
        .iter()
        .filter(|g| {
            g.group_name()
                .is_some_and(|n| n.starts_with(contract::ISOLATION_SECURITY_GROUP))
        })
        .cloned()
        .collect()
}

/// The id of the isolation group of a VPC.
pub async fn isolation_group_id(ec2: &aws_sdk_ec2::Client, vpc: &str) -> String {
    isolation_groups(ec2, vpc)
        .await
        .iter()
        .find(|g| g.group_name() == Some(contract::ISOLATION_SECURITY_GROUP))
        .and_then(|g| g.group_id().map(str::to_owned))
        .expect("isolation group exists")
}

/// The deployed tag handler's configuration, read from its function environment.
pub async fn member_config(endpoint: &str, account: &str, prefix: &str) -> MemberConfig {
    let conf = super::account(endpoint, account, REGION).await;
    let f = aws_sdk_lambda::Client::new(&conf)
        .get_function_configuration()
        .function_name(format!("{prefix}-member-tag"))
        .send()
        .await
        .expect("the member tag handler is deployed");
    let env: BTreeMap<String, String> = f
        .environment()
        .and_then(|e| e.variables())
        .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let get = |k: &str| env.get(k).cloned();
    assert_eq!(
        get(irf_core::env::keys::HANDLER).as_deref(),
        Some(irf_core::handler::Handler::MemberTag.as_str())
    );
    MemberConfig::from_vars(MemberTagEnv::read(get).expect("the handler's variables are set"))
}

/// The handler's AWS access: the member account, as the function's role would have it.
pub async fn as_member(endpoint: &str, account: &str) -> Aws {
    Aws::from_config(
        super::account(endpoint, account, REGION).await,
        Some(endpoint),
    )
}

/// An EventBridge "Tag Change on Resource" event setting the incident tag.
pub fn tag_event(account: &str, instance: &str, value: &str) -> Value {
    serde_json::json!({
        "version": "0", "id": "0b1c", "detail-type": "Tag Change on Resource", "source": "aws.tag",
        "account": account, "time": "2026-11-29T10:00:00Z", "region": REGION,
        "resources": [format!("arn:aws:ec2:{REGION}:{account}:instance/{instance}")],
        "detail": {
            "changed-tag-keys": [contract::INCIDENT_STATUS_TAG], "service": "ec2", "resource-type": "instance",
            "version": 2, "tags": { contract::INCIDENT_STATUS_TAG: value }
        }
    })
}
