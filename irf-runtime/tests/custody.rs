//! The custody ledger against the local emulator: real S3 conditional writes and real KMS
//! ECDSA P-256 signatures; `irf case verify` and `irf case report` as a responder runs them;
//! a changed artifact, an edited line and a truncated ledger are each detected.
//!
//! Run through the emulator: `scripts/emulator run -- cargo test -p irf-runtime --test custody`.

mod common;

use aws_sdk_kms::types::{KeySpec, KeyUsageType};
use common::{emulator, fresh_account, irf, text};
use irf_runtime::custody::{Artifact, Custody, Record};
use irf_runtime::digests;

const REGION: &str = "us-east-1";
const CASE: &str = "INC-2026-0042";

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: Vec<u8>) {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(body.into())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{key}: {e:?}"));
}

async fn get(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> String {
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    String::from_utf8(out.body.collect().await.unwrap().into_bytes().to_vec()).unwrap()
}

fn record(id: &str, action: &str) -> Record {
    Record {
        id: id.to_owned(),
        action: action.to_owned(),
        ..Record::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_ledger_is_chained_signed_and_verified_and_tampering_is_caught() {
    let Some(endpoint) = emulator() else { return };
    let (account, conf) = fresh_account(&endpoint, REGION).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(true)
            .build(),
    );
    let bucket = format!("irf-evidence-{account}");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let kms = aws_sdk_kms::Client::new(&conf);
    let key = kms
        .create_key()
        .key_spec(KeySpec::EccNistP256)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    kms.create_alias()
        .alias_name(irf_core::contract::CUSTODY_SIGNING_KEY_ALIAS)
        .target_key_id(key.key_id())
        .send()
        .await
        .unwrap();
    let custody = Custody {
        s3: s3.clone(),
        bucket: bucket.clone(),
        kms,
        key_id: key.arn().unwrap().to_owned(),
        actor: format!("arn:aws:sts::{account}:assumed-role/IRCaseRecordRole/test"),
    };

    // An artifact with its sha256sum-style sidecar, as the acquisitions write them.
    let image_key =
        format!("{CASE}/333333333333/i-0123456789abcdef0/memory/i-0123456789abcdef0.lime");
    let image: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let sha = hex::encode(digests::sha256(&image));
    let md5 = hex::encode(digests::md5(&image));
    put(&s3, &bucket, &image_key, image.clone()).await;
    put(
        &s3,
        &bucket,
        &format!("{image_key}.sha256"),
        format!("{sha}  i-0123456789abcdef0.lime\n").into_bytes(),
    )
    .await;

    let opened = custody
        .append(CASE, record("case-opened", "case-opened"))
        .await
        .unwrap();
    assert_eq!(
        (opened.seq, opened.prev.as_str()),
        (1, irf_runtime::custody::GENESIS)
    );
    let mut captured = record("memory-captured:i-0123456789abcdef0", "memory-captured");
    captured.artifact = Some(Artifact {
        key: image_key.clone(),
        bytes: image.len() as u64,
        sha256: sha.clone(),
        md5: Some(md5),
        raw_sha256: None,
    });
    captured.method = Some("kcore".into());
    captured.reason = Some("lockdown none; /proc/kcore readable".into());
    let entry = custody.append(CASE, captured.clone()).await.unwrap();
    assert_eq!(entry.seq, 2);
    // A retried step appends nothing new.
    assert_eq!(custody.append(CASE, captured).await.unwrap(), entry);

    // Concurrent branches: every append lands, none is lost, the chain stays whole.
    let appends = (0..6).map(|i| {
        let c = custody.clone();
        async move { c.append(CASE, record(&format!("step-{i}"), "step")).await }
    });
    let entries = futures::future::join_all(appends).await;
    let mut seqs: Vec<u64> = entries.into_iter().map(|e| e.unwrap().seq).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (3..=8).collect::<Vec<_>>());

    let v = custody.verify(CASE).await.unwrap();
    assert!(v.ok(), "{v:?}");
    assert_eq!(v.entries, 8);
    assert_eq!(v.artifacts.len(), 1);
    assert_eq!(v.artifacts[0].status, "intact");
    assert_eq!(v.artifacts[0].actual_sha256.as_deref(), Some(sha.as_str()));

    // The responder's view, through the forensics account's alias/ir/custody.
    let args = [
        "--forensics-account",
        account.as_str(),
        "--evidence-bucket",
        bucket.as_str(),
    ];
    let out = irf(
        &endpoint,
        &[&["case", "verify", CASE][..], &args[..]].concat(),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("verdict: VERIFIED"), "{}", text(&out));
    let out = irf(
        &endpoint,
        &[&["case", "report", CASE][..], &args[..]].concat(),
    );
    let report = text(&out);
    assert!(out.status.success(), "{report}");
    assert!(report.contains(&format!("# Case {CASE}")), "{report}");
    assert!(report.contains("**Custody record: VERIFIED**"), "{report}");
    assert!(
        report.contains(&format!("| `{image_key}` | 3145728 | `{sha}` | intact |")),
        "{report}"
    );
    assert!(
        report.contains("| memory-captured | `arn:aws:sts::"),
        "{report}"
    );

    // A changed artifact.
    let mut changed = image.clone();
    changed[1_000_000] ^= 1;
    put(&s3, &bucket, &image_key, changed).await;
    let v = custody.verify(CASE).await.unwrap();
    assert!(!v.ok());
    assert_eq!(v.artifacts[0].status, "modified");
    assert!(
        v.chain_problem.is_none() && v.signature_problem.is_none(),
        "{v:?}"
    );
    let out = irf(
        &endpoint,
        &[&["case", "verify", CASE][..], &args[..]].concat(),
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("modified"), "{}", text(&out));
    assert!(text(&out).contains("verdict: FAILED"), "{}", text(&out));
    put(&s3, &bucket, &image_key, image).await;
    assert!(custody.verify(CASE).await.unwrap().ok());

    // An edited line breaks the chain after it (and the signed head no longer matches).
    let ledger_key = irf_core::contract::evidence_keys::custody_ledger(CASE);
    let original = get(&s3, &bucket, &ledger_key).await;
    let edited = original.replacen("lockdown none", "lockdown integrity", 1);
    assert_ne!(edited, original);
    put(&s3, &bucket, &ledger_key, edited.into_bytes()).await;
    let v = custody.verify(CASE).await.unwrap();
    assert_eq!(
        v.chain_problem
            .as_deref()
            .map(|p| p.starts_with("entry 3 does not follow entry 2")),
        Some(true),
        "{v:?}"
    );
    assert!(!v.ok());

    // Dropping the last line keeps the chain whole, but the signed head covers more.
    let truncated: String = original.lines().take(7).map(|l| format!("{l}\n")).collect();
    put(&s3, &bucket, &ledger_key, truncated.into_bytes()).await;
    let v = custody.verify(CASE).await.unwrap();
    assert!(v.chain_problem.is_none(), "{v:?}");
    assert_eq!(
        v.signature_problem.as_deref(),
        Some("the signed head covers 8 entries, the ledger holds 7")
    );
    let out = irf(
        &endpoint,
        &[&["case", "verify", CASE][..], &args[..]].concat(),
    );
    assert!(text(&out).contains("signature  INVALID"), "{}", text(&out));

    // A head re-signed by someone else's key does not verify with the custody key.
    put(&s3, &bucket, &ledger_key, original.into_bytes()).await;
    let head_key = irf_runtime::custody::head_key(CASE);
    let head = get(&s3, &bucket, &head_key).await;
    let mut forged: serde_json::Value = serde_json::from_str(&head).unwrap();
    forged["signature"] = serde_json::Value::from(digests::b64(b"not a signature"));
    put(&s3, &bucket, &head_key, forged.to_string().into_bytes()).await;
    let v = custody.verify(CASE).await.unwrap();
    assert!(
        v.signature_problem
            .as_deref()
            .is_some_and(|p| p.contains("does not verify")),
        "{v:?}"
    );
}

/// `irf evidence image-snapshot` images a snapshot written through the EBS direct API into a
/// bucket, as the workflow does, and refuses a malformed snapshot id before any call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_images_a_snapshot_into_a_bucket() {
    let Some(endpoint) = emulator() else { return };
    let (account, conf) = fresh_account(&endpoint, REGION).await;
    let ebs = aws_sdk_ebs::Client::new(&conf);
    let snapshot = ebs
        .start_snapshot()
        .volume_size(1)
        .send()
        .await
        .unwrap()
        .snapshot_id()
        .unwrap()
        .to_owned();
    let block: Vec<u8> = (0..512 * 1024u32).map(|i| (i % 253) as u8).collect();
    ebs.put_snapshot_block()
        .snapshot_id(&snapshot)
        .block_index(3)
        .data_length(i32::try_from(block.len()).unwrap())
        .checksum(digests::b64(&digests::sha256(&block)))
        .checksum_algorithm(aws_sdk_ebs::types::ChecksumAlgorithm::ChecksumAlgorithmSha256)
        .block_data(block.clone().into())
        .send()
        .await
        .unwrap();
    ebs.complete_snapshot()
        .snapshot_id(&snapshot)
        .changed_blocks_count(1)
        .send()
        .await
        .unwrap();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(true)
            .build(),
    );
    let bucket = format!("irf-cli-images-{account}");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();

    let out = irf(
        &endpoint,
        &[
            "evidence",
            "image-snapshot",
            "--account",
            &account,
            "--region",
            REGION,
            "--snapshot-id",
            &snapshot,
            "--bucket",
            &bucket,
            "--prefix",
            "CASE-CLI/333333333333/i-0123456789abcdef0",
            "--volume-id",
            "vol-0123456789abcdef0",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    // The expected image: 1 GiB of zeros but block 3.
    let mut sha = sha2::Sha256::default();
    let zeros = vec![0u8; 512 * 1024];
    for i in 0..2048 {
        sha2::Digest::update(&mut sha, if i == 3 { &block } else { &zeros });
    }
    let expected = hex::encode(sha2::Digest::finalize(sha));
    let key =
        "CASE-CLI/333333333333/i-0123456789abcdef0/vol-0123456789abcdef0/vol-0123456789abcdef0.raw";
    assert!(text(&out).contains(key), "{}", text(&out));
    assert_eq!(
        get(&s3, &bucket, &format!("{key}.sha256")).await,
        format!("{expected}  vol-0123456789abcdef0.raw\n")
    );

    let bad = irf(
        &endpoint,
        &[
            "evidence",
            "image-snapshot",
            "--account",
            &account,
            "--region",
            REGION,
            "--snapshot-id",
            "vol-123",
            "--bucket",
            &bucket,
            "--prefix",
            "P",
        ],
    );
    assert!(!bad.status.success());
    assert!(text(&bad).contains("--snapshot-id"), "{}", text(&bad));
}
