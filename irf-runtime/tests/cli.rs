//! The responder CLI `irf` as a responder runs it, against the local emulator, where the
//! framework is not deployed (break-glass): contain, contain again, release; and its errors.
//!
//! Run through the emulator: `scripts/emulator run -- cargo test -p irf-runtime --test cli`.

mod common;

use aws_sdk_ec2::types::{
    Filter, IamInstanceProfileSpecification, InstanceNetworkInterfaceSpecification,
};
use common::{emulator, fresh_account, irf, text};

const REGION: &str = "eu-west-1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn break_glass_contain_and_release_where_the_framework_is_not_deployed() {
    let Some(endpoint) = emulator() else { return };
    let (account, conf) = fresh_account(&endpoint, REGION).await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let iam = aws_sdk_iam::Client::new(&conf);
    iam.create_role()
        .role_name("web")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await
        .unwrap();
    let profile = iam
        .create_instance_profile()
        .instance_profile_name("web")
        .send()
        .await
        .unwrap();
    let profile_arn = profile.instance_profile().unwrap().arn().to_owned();
    iam.add_role_to_instance_profile()
        .instance_profile_name("web")
        .role_name("web")
        .send()
        .await
        .unwrap();
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.9.0.0/16")
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
        .vpc_id(&vpc)
        .cidr_block("10.9.1.0/24")
        .send()
        .await
        .unwrap()
        .subnet()
        .unwrap()
        .subnet_id()
        .unwrap()
        .to_owned();
    let group = ec2
        .create_security_group()
        .group_name("web")
        .description("web")
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_owned();
    let image = ec2
        .register_image()
        .name("base")
        .send()
        .await
        .unwrap()
        .image_id()
        .unwrap()
        .to_owned();
    let instance = ec2
        .run_instances()
        .image_id(image)
        .min_count(1)
        .max_count(1)
        .network_interfaces(
            InstanceNetworkInterfaceSpecification::builder()
                .device_index(0)
                .subnet_id(&subnet)
                .groups(&group)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .instances()[0]
        .instance_id()
        .unwrap()
        .to_owned();
    // Emulator gap: RunInstances records no profile association; associate it as AWS would have.
    ec2.associate_iam_instance_profile()
        .instance_id(&instance)
        .iam_instance_profile(
            IamInstanceProfileSpecification::builder()
                .arn(&profile_arn)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let target = [
        "--account",
        &account,
        "--region",
        REGION,
        "--instance",
        &instance,
    ];
    let groups = || async {
        let out = ec2
            .describe_instances()
            .instance_ids(&instance)
            .send()
            .await
            .unwrap();
        out.reservations()[0].instances()[0].network_interfaces()[0]
            .groups()
            .iter()
            .map(|g| g.group_name().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let associations = || async {
        ec2.describe_iam_instance_profile_associations()
            .filters(
                Filter::builder()
                    .name("instance-id")
                    .values(&instance)
                    .build(),
            )
            .send()
            .await
            .unwrap()
            .iam_instance_profile_associations()
            .iter()
            .filter(|a| a.state().map(|s| s.as_str()) == Some("associated"))
            .count()
    };

    let out = irf(&endpoint, &[&["contain"][..], &target].concat());
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains(&format!("contained {instance} in {account}/{REGION}:")),
        "{said}"
    );
    assert!(
        said.contains("instance profile removed"),
        "no framework profile to swap to: {said}"
    );
    assert!(
        said.contains(&format!("/irf/containment/{instance}")),
        "{said}"
    );
    assert_eq!(groups().await, ["security_isolate"]);
    assert_eq!(associations().await, 0);

    let again = irf(&endpoint, &[&["contain"][..], &target].concat());
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        text(&again).contains("already done, nothing changed"),
        "{}",
        text(&again)
    );

    let json = irf(&endpoint, &[&["release", "--json"][..], &target].concat());
    assert!(json.status.success(), "{}", text(&json));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON report");
    assert!(
        report["changes"].as_array().is_some_and(|c| !c.is_empty()),
        "{report}"
    );
    assert_eq!(groups().await, ["web"]);
    assert_eq!(associations().await, 1);

    let nothing = irf(&endpoint, &[&["release"][..], &target].concat());
    assert!(
        text(&nothing).contains("no prior-state record, nothing to release"),
        "{}",
        text(&nothing)
    );
}

#[test]
fn bad_input_is_named_before_any_call() {
    // No endpoint needed: these fail before any AWS call.
    let bad = irf(
        "http://127.0.0.1:9",
        &[
            "contain",
            "--account",
            "12",
            "--region",
            "us-east-1",
            "--instance",
            "i-0123456789abcdef0",
        ],
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad).contains("--account"), "{}", text(&bad));
    let bad = irf(
        "http://127.0.0.1:9",
        &[
            "analyze",
            "--account",
            "123456789012",
            "--region",
            "mars-1",
            "--instance",
            "i-0123456789abcdef0",
        ],
    );
    assert!(
        text(&bad).contains("--region: \"mars-1\" is not a known region"),
        "{}",
        text(&bad)
    );
    let bad = irf(
        "http://127.0.0.1:9",
        &[
            "release",
            "--account",
            "123456789012",
            "--region",
            "us-east-1",
            "--instance",
            "vol-1",
        ],
    );
    assert!(
        text(&bad).contains("--instance: \"vol-1\" is not an EC2 instance id"),
        "{}",
        text(&bad)
    );
    let missing = irf("http://127.0.0.1:9", &["case", "status", "C1"]);
    assert!(
        text(&missing).contains("the security account is unknown: pass --org-config"),
        "{}",
        text(&missing)
    );
    let usage = irf(
        "http://127.0.0.1:9",
        &["contain", "--account", "123456789012"],
    );
    assert_eq!(usage.status.code(), Some(2), "clap usage error");
}

#[test]
fn an_unreadable_org_config_exits_4_and_an_invalid_one_3() {
    // No endpoint needed: the org config is read before any AWS call.
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    let out = irf(
        "http://127.0.0.1:9",
        &[
            "--org-config",
            missing.to_str().unwrap(),
            "case",
            "status",
            "C1",
        ],
    );
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("missing.toml"), "{}", text(&out));

    let invalid = dir.path().join("org.toml");
    std::fs::write(&invalid, "[org]\nprefix = 7\nno_such_key = true\n").unwrap();
    let out = irf(
        "http://127.0.0.1:9",
        &[
            "--org-config",
            invalid.to_str().unwrap(),
            "case",
            "status",
            "C1",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("org.toml"), "{}", text(&out));
}
