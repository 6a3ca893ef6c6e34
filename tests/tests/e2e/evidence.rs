//! Evidence acquisition against the local emulator through the real SDK: disk imaging from a
//! snapshot written through the EBS direct APIs into S3.
//!
//! Run through the emulator: `scripts/emulator run -- cargo test -p irf-e2e --test evidence`.
//!
//! The emulator stores EBS blocks byte-exact and cannot corrupt one on demand: the corruption
//! test wraps the real EBS reader (`Corrupting`, below) and flips one byte of one block after
//! it was read, as a damaged transfer would.

use crate::common;

use std::io::Read;

use aws_config::SdkConfig;
use irf_runtime::error::ErrorKind;
use irf_runtime::imaging::{
    BlockData, BlockPage, BlockSource, EbsBlocks, Imager, Job, S3Store, Settings,
};
use md5::Md5;
use sha2::{Digest, Sha256};

const REGION: &str = "us-east-1";
const BLOCK: usize = 512 * 1024;
const GIB_BLOCKS: u64 = 2048;

/// Deterministic, incompressible-looking block content.
fn block_bytes(index: u64) -> Vec<u8> {
    let mut x = index.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..BLOCK)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[3]
        })
        .collect()
}

/// The blocks the test snapshot holds: a run at the start, a run in the middle, the last block.
fn written_blocks() -> Vec<u64> {
    let mut b: Vec<u64> = (0..6).collect();
    b.extend(600..606);
    b.push(GIB_BLOCKS - 1);
    b
}

/// Writes a 1 GiB snapshot through the EBS direct APIs; returns its id.
async fn seeded_snapshot(conf: &SdkConfig) -> String {
    let ebs = aws_sdk_ebs::Client::new(conf);
    let snap = ebs
        .start_snapshot()
        .volume_size(1)
        .description("irf imaging test")
        .send()
        .await
        .expect("StartSnapshot")
        .snapshot_id()
        .unwrap()
        .to_owned();
    for index in written_blocks() {
        let data = block_bytes(index);
        let checksum = irf_runtime::digests::b64(&Sha256::digest(&data));
        ebs.put_snapshot_block()
            .snapshot_id(&snap)
            .block_index(i32::try_from(index).unwrap())
            .data_length(i32::try_from(BLOCK).unwrap())
            .checksum(checksum)
            .checksum_algorithm(aws_sdk_ebs::types::ChecksumAlgorithm::ChecksumAlgorithmSha256)
            .block_data(data.into())
            .send()
            .await
            .expect("PutSnapshotBlock");
    }
    ebs.complete_snapshot()
        .snapshot_id(&snap)
        .changed_blocks_count(i32::try_from(written_blocks().len()).unwrap())
        .send()
        .await
        .expect("CompleteSnapshot");
    snap
}

/// SHA-256 and MD5 of the 1 GiB raw image the snapshot stands for, computed independently of
/// the product (block by block, zeros where nothing was written).
fn expected_digests() -> (String, String) {
    let written = written_blocks();
    let zeros = vec![0u8; BLOCK];
    let (mut sha, mut md5) = (Sha256::new(), Md5::new());
    for i in 0..GIB_BLOCKS {
        let data = if written.contains(&i) {
            block_bytes(i)
        } else {
            zeros.clone()
        };
        sha.update(&data);
        md5.update(&data);
    }
    (hex::encode(sha.finalize()), hex::encode(md5.finalize()))
}

async fn bucket(conf: &SdkConfig, name: &str) -> aws_sdk_s3::Client {
    let s3 = common::s3(conf);
    s3.create_bucket()
        .bucket(name)
        .send()
        .await
        .expect("bucket");
    s3
}

/// Flips one byte of one block after it was read.
struct Corrupting<B> {
    inner: B,
    block: u64,
}

impl<B: BlockSource> BlockSource for Corrupting<B> {
    async fn list(
        &self,
        snapshot: &str,
        start: u64,
        next_token: Option<String>,
    ) -> irf_runtime::error::Result<BlockPage> {
        self.inner.list(snapshot, start, next_token).await
    }

    async fn get(
        &self,
        snapshot: &str,
        index: u64,
        token: &str,
    ) -> irf_runtime::error::Result<BlockData> {
        let mut b = self.inner.get(snapshot, index, token).await?;
        if index == self.block {
            let mut data = b.data.to_vec();
            data[1234] ^= 0x40;
            b.data = bytes::Bytes::from(data);
        }
        Ok(b)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_snapshot_is_imaged_into_s3_as_a_verified_raw_image_across_runs() {
    let Some(endpoint) = common::emulator() else {
        return;
    };
    let (_, a) = common::fresh_org();
    let conf = common::account(&endpoint, &a.security, REGION).await;
    let snap = seeded_snapshot(&conf).await;
    let bucket_name = format!("{}-evidence", a.prefix);
    let s3 = bucket(&conf, &bucket_name).await;
    let store = || S3Store {
        client: s3.clone(),
        bucket: bucket_name.clone(),
    };
    let ebs = || EbsBlocks(aws_sdk_ebs::Client::new(&conf));
    // Parts of 128 MiB and no time budget: every run images one part and hands over a cursor,
    // as Lambda invocations do for a volume too large for one.
    let settings = Settings {
        part_size: 128 * 1024 * 1024,
        concurrency: 8,
        budget: std::time::Duration::ZERO,
        compress: false,
    };
    let imager = Imager::new(ebs(), store(), settings.clone());
    let job = Job {
        snapshot_id: snap.clone(),
        volume_id: "vol-0123456789abcdef0".into(),
        key: "C1/333333333333/i-0123456789abcdef0/vol-0123456789abcdef0/vol-0123456789abcdef0.raw"
            .into(),
        case_id: "C1".into(),
    };
    let mut cursor = imager.start(job.clone()).await.expect("starts");
    while !cursor.done {
        // Through JSON, as Step Functions carries it.
        let carried = serde_json::to_value(&cursor).unwrap();
        cursor = imager
            .run(serde_json::from_value(carried).unwrap())
            .await
            .expect("runs");
        assert!(cursor.runs <= 8, "every run moves the cursor forward");
    }
    assert_eq!(cursor.runs, 8, "one run per part");
    let r = cursor.result.clone().expect("result");
    let (sha, md5) = expected_digests();
    assert_eq!(
        r.digests.sha256, sha,
        "the image's SHA-256 is that of the source bytes"
    );
    assert_eq!(r.digests.md5, md5);
    assert_eq!(r.bytes, GIB_BLOCKS * BLOCK as u64);
    assert_eq!(r.allocated_blocks, written_blocks().len() as u64);
    assert_eq!(r.sparse_blocks, GIB_BLOCKS - written_blocks().len() as u64);

    // What S3 holds hashes to the same value (read back independently).
    let stored = common::object(&s3, &bucket_name, &job.key).await;
    assert_eq!(hex::encode(Sha256::digest(&stored)), sha);
    assert_eq!(
        &stored[600 * BLOCK..601 * BLOCK],
        block_bytes(600).as_slice()
    );
    assert!(
        stored[6 * BLOCK..600 * BLOCK].iter().all(|b| *b == 0),
        "sparse blocks are zero-filled"
    );
    let sidecar =
        String::from_utf8(common::object(&s3, &bucket_name, &format!("{}.sha256", job.key)).await)
            .unwrap();
    assert_eq!(sidecar, format!("{sha}  vol-0123456789abcdef0.raw\n"));
    let md5_sidecar =
        String::from_utf8(common::object(&s3, &bucket_name, &format!("{}.md5", job.key)).await)
            .unwrap();
    assert_eq!(md5_sidecar, format!("{md5}  vol-0123456789abcdef0.raw\n"));
    // The block manifest lists every allocated block with EBS's checksum.
    let summary: serde_json::Value =
        serde_json::from_slice(&common::object(&s3, &bucket_name, &r.manifest_key).await).unwrap();
    let mut listed = Vec::new();
    for chunk in summary["BlockManifests"].as_array().unwrap() {
        let text =
            String::from_utf8(common::object(&s3, &bucket_name, chunk.as_str().unwrap()).await)
                .unwrap();
        for line in text.lines() {
            let l: serde_json::Value = serde_json::from_str(line).unwrap();
            let i = l["block"].as_u64().unwrap();
            assert_eq!(l["offset"].as_u64().unwrap(), i * BLOCK as u64);
            assert_eq!(
                l["sha256"],
                irf_runtime::digests::b64(&Sha256::digest(block_bytes(i)))
            );
            listed.push(i);
        }
    }
    assert_eq!(listed, written_blocks());

    // Compressed: one gzip member per part; the raw hashes are unchanged and the stored bytes'
    // own SHA-256 is recorded.
    let gz = Imager::new(
        ebs(),
        store(),
        Settings {
            compress: true,
            ..settings.clone()
        },
    );
    let gz_job = Job {
        key: format!("{}.gz", job.key.replace("C1/", "C2/")),
        case_id: "C2".into(),
        ..job.clone()
    };
    let done = gz.image(gz_job.clone()).await.expect("compressed image");
    let gr = done.result.unwrap();
    assert_eq!(gr.digests.sha256, sha);
    let packed = common::object(&s3, &bucket_name, &gz_job.key).await;
    assert!(
        packed.len() < 24 * 1024 * 1024,
        "1 GiB, mostly zeros, compresses: {} bytes",
        packed.len()
    );
    assert_eq!(
        gr.stored_sha256.as_deref(),
        Some(hex::encode(Sha256::digest(&packed)).as_str())
    );
    let mut raw = Vec::new();
    flate2::read::MultiGzDecoder::new(packed.as_slice())
        .read_to_end(&mut raw)
        .unwrap();
    assert_eq!(
        hex::encode(Sha256::digest(&raw)),
        sha,
        "gunzip gives the raw image back"
    );

    // A block damaged on the way is detected (retryable: a new read may be intact).
    let bad = Imager::new(
        Corrupting {
            inner: ebs(),
            block: 601,
        },
        store(),
        settings,
    );
    let err = bad
        .image(Job {
            key: "C3/corrupt.raw".into(),
            ..job
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Retryable, "{err:?}");
    assert!(err.to_string().contains("block 601 is corrupt"), "{err}");
}
