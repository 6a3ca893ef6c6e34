//! The disk steps before imaging against the local emulator through the real SDK: every
//! attached volume snapshotted (with its device), re-encrypted into the home region, shared,
//! copied with the security key, checked, retried without duplicates, and cleaned up with and
//! without `RetainArtefacts`.
//!
//! **Emulator limit, named here:** a snapshot shared with another account stays invisible to it in
//! the emulator (`InvalidSnapshot.NotFound`), so the security copy cannot be made across
//! accounts there. These tests therefore run the member and security sides in **one** account
//! (two regions: the instance's and the home region); every call is the real one, and the steps
//! tell their snapshots apart by the `irf-stage` tag, as they do across accounts.
//!
//! Run through the emulator: `scripts/emulator run -- cargo test -p irf-e2e --test disk`.

use crate::common;

use aws_config::SdkConfig;
use aws_sdk_ec2::types::{BlockDeviceMapping, EbsBlockDevice, Filter, InstanceType};
use irf_core::steps::DiskAction;
use irf_runtime::disk::Disk;
use irf_runtime::error::ErrorKind;
use irf_runtime::handlers::disk_snapshot::step;
use serde_json::{Value, json};

const MEMBER_REGION: &str = "eu-west-1";
const HOME: &str = "us-east-1";

async fn snapshots_of(ec2: &aws_sdk_ec2::Client, case: &str) -> Vec<String> {
    let out = ec2
        .describe_snapshots()
        .owner_ids("self")
        .filters(Filter::builder().name("tag:case-id").values(case).build())
        .send()
        .await
        .unwrap();
    let mut ids: Vec<String> = out
        .snapshots()
        .iter()
        .filter_map(|s| s.snapshot_id().map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

async fn suspect(conf: &SdkConfig) -> String {
    let ec2 = aws_sdk_ec2::Client::new(conf);
    let image = ec2
        .register_image()
        .name(format!("disk-test-{}", std::process::id()))
        .root_device_name("/dev/xvda")
        .send()
        .await
        .unwrap()
        .image_id()
        .unwrap()
        .to_owned();
    let ebs = |size| {
        EbsBlockDevice::builder()
            .volume_size(size)
            .delete_on_termination(true)
            .build()
    };
    ec2.run_instances()
        .image_id(image)
        .instance_type(InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .block_device_mappings(
            BlockDeviceMapping::builder()
                .device_name("/dev/xvda")
                .ebs(ebs(8))
                .build(),
        )
        .block_device_mappings(
            BlockDeviceMapping::builder()
                .device_name("/dev/sdf")
                .ebs(ebs(20))
                .build(),
        )
        .send()
        .await
        .unwrap()
        .instances()[0]
        .instance_id()
        .unwrap()
        .to_owned()
}

async fn keys(conf: &SdkConfig) {
    let kms = aws_sdk_kms::Client::new(conf);
    for alias in [
        irf_core::contract::MEMBER_EBS_KEY_ALIAS,
        irf_core::contract::SECURITY_KEY_ALIAS,
    ] {
        let key = kms.create_key().send().await.unwrap().key_metadata.unwrap();
        kms.create_alias()
            .alias_name(alias)
            .target_key_id(key.key_id())
            .send()
            .await
            .unwrap();
    }
}

async fn run(disk: &Disk, payload: Value) -> Value {
    common::until_ready(&payload, std::time::Duration::from_millis(200), || {
        step(disk, &payload)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_volume_is_snapshotted_shared_copied_and_cleaned_up_once() {
    let Some(endpoint) = common::emulator() else {
        return;
    };
    let (_, a) = common::fresh_org();
    let account = a.payments.clone();
    let member_conf = common::account(&endpoint, &account, MEMBER_REGION).await;
    let home_conf = common::account(&endpoint, &account, HOME).await;
    keys(&home_conf).await;
    let disk = Disk {
        member: aws_sdk_ec2::Client::new(&member_conf),
        member_home: aws_sdk_ec2::Client::new(&home_conf),
        security: aws_sdk_ec2::Client::new(&home_conf),
        security_account: a.security.clone(),
        home_region: HOME.to_owned(),
    };

    for (case_id, retain) in [("DISK-KEEP", true), ("DISK-DROP", false)] {
        let instance = suspect(&member_conf).await;
        let case = json!({"case_id": case_id, "account": account, "region": MEMBER_REGION,
                          "instance_id": instance, "retain_artefacts": retain});
        let p = |action: &str, extra: Value| {
            let mut p = json!({"Action": action, "Case": case.clone()});
            p.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            p
        };

        let snaps = run(&disk, p(DiskAction::CreateSnapshots.name(), json!({}))).await;
        let list = snaps["Snapshots"].as_array().unwrap();
        let mut devices: Vec<(&str, i64)> = list
            .iter()
            .map(|s| {
                (
                    s["Device"].as_str().unwrap(),
                    s["SizeGib"].as_i64().unwrap(),
                )
            })
            .collect();
        devices.sort_unstable();
        assert_eq!(
            devices,
            [("/dev/sdf", 20), ("/dev/xvda", 8)],
            "every attached volume, with its device and size"
        );
        assert!(
            list.iter()
                .all(|s| s["VolumeId"].as_str().unwrap().starts_with("vol-"))
        );
        // Retried: nothing new.
        assert_eq!(
            run(&disk, p(DiskAction::CreateSnapshots.name(), json!({}))).await,
            snaps
        );
        assert_eq!(snapshots_of(&disk.member, case_id).await.len(), 2);
        run(
            &disk,
            p(
                DiskAction::CheckSnapshots.name(),
                json!({"Snapshots": snaps.clone()}),
            ),
        )
        .await;

        let shared = run(
            &disk,
            p(
                DiskAction::ShareSnapshots.name(),
                json!({"Snapshots": snaps.clone()}),
            ),
        )
        .await;
        assert_eq!(
            run(
                &disk,
                p(
                    DiskAction::ShareSnapshots.name(),
                    json!({"Snapshots": snaps.clone()})
                )
            )
            .await,
            shared
        );
        for s in shared["Shared"].as_array().unwrap() {
            assert_eq!(s["Region"], HOME, "re-encrypted into the home region");
        }
        run(
            &disk,
            p(
                DiskAction::CheckShared.name(),
                json!({"Shared": shared.clone()}),
            ),
        )
        .await;
        for s in shared["Shared"].as_array().unwrap() {
            let attr = disk
                .member_home
                .describe_snapshot_attribute()
                .snapshot_id(s["SnapshotId"].as_str().unwrap())
                .attribute(aws_sdk_ec2::types::SnapshotAttributeName::CreateVolumePermission)
                .send()
                .await
                .unwrap();
            let users: Vec<&str> = attr
                .create_volume_permissions()
                .iter()
                .filter_map(|p| p.user_id())
                .collect();
            assert_eq!(
                users,
                [a.security.as_str()],
                "shared with the security account"
            );
        }

        let copies = run(
            &disk,
            p(
                DiskAction::CopySnapshots.name(),
                json!({"Shared": shared.clone()}),
            ),
        )
        .await;
        assert_eq!(
            run(
                &disk,
                p(
                    DiskAction::CopySnapshots.name(),
                    json!({"Shared": shared.clone()})
                )
            )
            .await,
            copies
        );
        let copy_ids: Vec<&str> = copies["Copies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["SnapshotId"].as_str().unwrap())
            .collect();
        let described = disk
            .security
            .describe_snapshots()
            .set_snapshot_ids(Some(copy_ids.iter().map(|s| s.to_string()).collect()))
            .send()
            .await
            .unwrap();
        assert!(
            described
                .snapshots()
                .iter()
                .all(|s| s.encrypted() == Some(true)),
            "security copies are encrypted"
        );
        run(
            &disk,
            p(
                DiskAction::CheckCopies.name(),
                json!({"Copies": copies.clone()}),
            ),
        )
        .await;
        assert_eq!(
            snapshots_of(&disk.member_home, case_id).await.len(),
            4,
            "2 re-encrypted + 2 security copies, no duplicates"
        );

        let report = run(
            &disk,
            p(
                DiskAction::CleanUp.name(),
                json!({"Disk": {}, "Failed": false}),
            ),
        )
        .await;
        let left = snapshots_of(&disk.member_home, case_id).await;
        assert_eq!(report["NotDeleted"], json!({}));
        assert!(
            snapshots_of(&disk.member, case_id)
                .await
                .iter()
                .all(|id| left.contains(id))
        );
        if retain {
            assert_eq!(report["Deleted"].as_array().unwrap().len(), 4);
            let mut kept: Vec<String> = report["Kept"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect();
            kept.sort();
            let mut expected: Vec<String> = copy_ids.iter().map(|s| s.to_string()).collect();
            expected.sort();
            assert_eq!(kept, expected, "RetainArtefacts keeps the security copies");
            assert_eq!(left, expected);
        } else {
            assert_eq!(report["Deleted"].as_array().unwrap().len(), 6);
            assert!(left.is_empty(), "{left:?}");
        }
        // A second clean-up (a retry) has nothing left to do and fails nothing.
        let again = run(
            &disk,
            p(
                DiskAction::CleanUp.name(),
                json!({"Disk": {}, "Failed": true}),
            ),
        )
        .await;
        assert_eq!(again["Deleted"], json!([]));
    }

    // A snapshot that vanished fails the check at once (not a 12-hour wait).
    let bad = json!({"Action": DiskAction::CheckSnapshots.name(), "Case": {"case_id": "X", "account": account, "region": MEMBER_REGION,
                     "instance_id": "i-0123456789abcdef0", "retain_artefacts": true},
                     "Snapshots": {"Snapshots": [{"VolumeId": "vol-1", "Device": "/dev/xvda", "SnapshotId": "snap-0123456789abcdef0",
                                                  "Region": MEMBER_REGION, "SizeGib": 8}]}});
    let err = step(&disk, &bad).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Fatal, "{err:?}");
}
