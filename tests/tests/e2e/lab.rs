//! A whole case on a deployed example org, as the demo walks it (`irf-lab case`): the instance
//! prepared, the deployed case workflow run by the local executor with the deployed functions'
//! environments, the disk snapshotted, copied and imaged, the memory captured from a real Linux
//! guest through presigned URLs, the ISF built, the instance tagged for containment and
//! contained by the member's tag handler, the case closed; then the custody record verified as `irf case verify` does (forensics account, its
//! signing key) and the memory image opened in Volatility with that ISF.
//!
//! **Stand-ins, named here** (each documented in `irf_lab`): the emulator runs neither Lambda code
//! nor the state machine (the local executor runs the definition); SSM Run Command is a guest
//! boot per command (`GuestSsm`); the EBS direct APIs on EC2-made snapshots answer 500 there, so
//! the volume's blocks come from a local raw image (`FileBlocks`: the guest's initramfs as the
//! root volume's first bytes); shared snapshots are invisible across accounts there, so the disk
//! steps' security side runs in the member account; the emulator finds no KMS key by another
//! account's ARN and its CloudFormation makes every key symmetric, so the ledger is signed through
//! the forensics account with a real signing key behind `alias/ir/custody`; EventBridge does not
//! deliver the tag change to the member's handler there, so the walk hands it the event.

use crate::common::{self, incident};
use crate::guest::{self, GUEST_MIB};

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use irf_lab::case::{MARKER, Walk};
use irf_runtime::containment::Target;
use irf_runtime::workflow::Outcome;
use sha2::{Digest, Sha256};

/// SHA-256 of `file`'s bytes followed by zeros up to `total` bytes: the dd image of a volume
/// holding that file at its start.
fn padded_sha256(file: &Path, total: u64) -> String {
    let mut h = Sha256::new();
    let mut f = std::fs::File::open(file).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let mut done = 0u64;
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        done += n as u64;
    }
    buf.fill(0);
    while done < total {
        let n = (total - done).min(buf.len() as u64);
        h.update(&buf[..usize::try_from(n).unwrap()]);
        done += n;
    }
    hex::encode(h.finalize())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_whole_case_walks_the_deployed_workflow_and_its_memory_image_opens_in_volatility() {
    let Some(org) = incident::deployed_org().await else {
        return;
    };
    let Some(kit) = guest::kit() else { return };
    let Some(vol) = guest::vol() else { return };
    let conf = common::account(&org.endpoint, &org.acct.payments, incident::REGION).await;
    let mut estate = incident::Estate::create(&conf, "lab").await;
    estate.root_gib = Some(1);
    let suspect = estate.launch(1).await;
    let fw = irf_core::config::parse(Path::new("org.toml"), &org.text).unwrap();
    let evidence_bucket = fw.names.evidence_bucket();
    let work = guest::work_dir();
    let volume_image = kit.join("initramfs.cpio");
    let walk = Walk {
        fw,
        endpoint: org.endpoint.clone(),
        target: Target {
            account: org.acct.payments.clone(),
            region: incident::REGION.to_owned(),
            instance_id: suspect.instance_id.clone(),
        },
        kit: kit.clone(),
        guest_run: common::root().join("scripts/guest-run"),
        guest_memory_mib: GUEST_MIB,
        volume_image: volume_image.clone(),
        work: work.path().to_owned(),
        max_wait: Duration::from_secs(1),
    };
    let walked = walk.run(|_| {}).await.expect("the walk sets up");
    let entered = walked.execution.entered();
    let Outcome::Succeeded { output } = &walked.execution.outcome else {
        panic!("{:?} after {entered:?}", walked.execution.outcome);
    };
    assert_eq!(
        output["Outcome"]["Result"]["Status"], "SUCCEEDED",
        "{output}"
    );
    for state in [
        "CreateSnapshots",
        "CopySnapshots",
        "ImageChunk",
        "CleanUpDisk",
        "CheckAgent",
        "StartCapture",
        "VerifyMemory",
        "BuildSymbols",
        "Contain",
        "CloseCase",
    ] {
        assert!(
            entered.iter().any(|s| s.rsplit('/').next() == Some(state)),
            "{state} not entered: {entered:?}"
        );
    }

    // The custody record, checked as `irf case verify` checks it: every artifact re-read and
    // re-hashed from the forensics account, the chain walked, the head's signature verified.
    let forensics = common::account(&org.endpoint, &org.acct.forensics, incident::REGION).await;
    let custody = irf_runtime::custody::Custody {
        s3: aws_sdk_s3::Client::new(&forensics),
        bucket: evidence_bucket,
        kms: aws_sdk_kms::Client::new(&forensics),
        key_id: format!(
            "arn:aws:kms:{}:{}:{}",
            incident::REGION,
            org.acct.forensics,
            irf_core::contract::CUSTODY_SIGNING_KEY_ALIAS
        ),
        actor: "test".to_owned(),
    };
    let v = custody.verify(&walked.case_id).await.unwrap();
    assert!(v.ok(), "{v:?}");
    let disk = v
        .artifacts
        .iter()
        .find(|a| a.key.ends_with(".raw"))
        .unwrap_or_else(|| panic!("a disk image in {:?}", v.artifacts));
    assert_eq!(disk.bytes, 1 << 30);
    assert_eq!(
        disk.recorded_sha256,
        padded_sha256(&volume_image, 1 << 30),
        "the disk image is the volume's bytes"
    );
    for key in [&walked.memory_image.0, &walked.isf.0] {
        assert!(
            v.artifacts.iter().any(|a| &a.key == key),
            "{key} in the ledger: {:?}",
            v.artifacts
        );
    }

    // The memory image and ISF the walk downloaded open in Volatility; the guest's marker is in
    // pslist with its PID.
    let marker_pid = walked
        .marker_pid
        .expect("the capture's guest recorded its marker");
    let cache = common::root().join("target/volatility-cache");
    std::fs::create_dir_all(&cache).unwrap();
    let pslist = guest::volatility(
        &vol,
        &walked.isf.1,
        &cache,
        &walked.memory_image.1,
        "linux.pslist.PsList",
    );
    assert!(
        pslist
            .iter()
            .any(|r| r["PID"] == marker_pid && r["COMM"] == MARKER),
        "pslist shows {MARKER} with PID {marker_pid}: {pslist:?}"
    );

    // Containment was requested at the end (the Contain tag), and the member's tag handler,
    // handed the tag change EventBridge would deliver, isolated every interface.
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let tags = ec2
        .describe_tags()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("resource-id")
                .values(&suspect.instance_id)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(
        tags.tags()
            .iter()
            .any(|t| t.key() == Some(irf_core::contract::INCIDENT_STATUS_TAG)
                && t.value() == Some(irf_core::contract::STATUS_CONTAIN)),
        "{:?}",
        tags.tags()
    );
    assert!(walked.containment.is_some(), "the tag handler ran");
    let isolation = incident::isolation_group_id(&ec2, &suspect.vpc_id).await;
    let interfaces = incident::interfaces_of(&ec2, &suspect.instance_id).await;
    assert!(
        !interfaces.is_empty() && interfaces.values().all(|g| *g == [isolation.clone()]),
        "every interface has only the isolation group {isolation}: {interfaces:?}"
    );
}
