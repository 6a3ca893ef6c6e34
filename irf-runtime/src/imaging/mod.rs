//! Disk imaging without a worker instance: a snapshot's blocks are read with the EBS direct
//! APIs, each checked against the SHA-256 EBS returns, laid out as a true raw (`dd`) image with
//! unallocated blocks zero-filled, hashed (SHA-256 and MD5 of the whole image, in order), and
//! written as an S3 multipart upload whose every part S3 checks against its SHA-256 and MD5.
//!
//! A volume larger than one Lambda invocation can image is imaged over several: each
//! invocation stops at a part boundary once its time budget is spent and returns a [`Cursor`]
//! (upload id, next block, next part, the hashers' saved states) that the next invocation
//! resumes from. The Step Functions workflow loops on the cursor; `irf evidence image-snapshot`
//! loops locally. After the last part the upload is completed and S3's composite checksum of
//! the object is compared with the one computed here: the object holds exactly the bytes that
//! were hashed. A per-block manifest (block, offset, EBS checksum) is stored beside the image.

mod ebs;
mod s3;

use std::collections::VecDeque;
use std::io::Write;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

pub use ebs::{EBS_BLOCK_SIZE, EbsBlocks};
pub use s3::S3Store;

use crate::digests::{self, Digests, Sha256State, StreamHashes};
use crate::error::{HandlerError, Result};

/// S3's smallest part (all but the last).
pub const MIN_PART: u64 = 5 * 1024 * 1024;
/// S3's largest number of parts; a margin is kept below it.
const MAX_PARTS: u64 = 9_000;
const GIB: u64 = 1024 * 1024 * 1024;

/// One page of a snapshot's allocated blocks.
#[derive(Clone, Debug, Default)]
pub struct BlockPage {
    /// (block index, block token), ascending.
    pub blocks: Vec<(u64, String)>,
    /// Volume size in GiB.
    pub volume_gib: u64,
    /// Block size in bytes.
    pub block_size: u64,
    /// Token of the next page.
    pub next_token: Option<String>,
}

/// One block's data as EBS returns it.
#[derive(Clone, Debug)]
pub struct BlockData {
    /// The block's contents.
    pub data: bytes::Bytes,
    /// EBS's checksum (base64) and its algorithm.
    pub checksum: Option<(String, String)>,
}

/// Where blocks come from (the EBS direct APIs; tests may wrap it).
pub trait BlockSource: Send + Sync {
    /// Allocated blocks from `start` on.
    fn list(
        &self,
        snapshot: &str,
        start: u64,
        next_token: Option<String>,
    ) -> impl std::future::Future<Output = Result<BlockPage>> + Send;
    /// One block.
    fn get(
        &self,
        snapshot: &str,
        index: u64,
        token: &str,
    ) -> impl std::future::Future<Output = Result<BlockData>> + Send;
}

/// A part S3 accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StoredPart {
    /// Part number, from 1.
    pub number: i32,
    /// ETag S3 returned for the part (completing the upload names it).
    pub etag: String,
    /// Its SHA-256 (base64) as S3 verified it.
    pub sha256: Option<String>,
}

/// Where the image goes (S3; tests may wrap it).
pub trait ObjectStore: Send + Sync {
    /// Starts a multipart upload with SHA-256 part checksums; returns its id.
    fn create_upload(
        &self,
        key: &str,
        metadata: &[(&str, &str)],
    ) -> impl std::future::Future<Output = Result<String>> + Send;
    /// Uploads one part, checked by S3 against `sha256_b64` (a signed `x-amz-checksum-sha256`,
    /// which also satisfies Object Lock's integrity requirement); returns the ETag.
    fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: i32,
        body: bytes::Bytes,
        sha256_b64: &str,
    ) -> impl std::future::Future<Output = Result<String>> + Send;
    /// Reads a small object.
    fn get(&self, key: &str) -> impl std::future::Future<Output = Result<Vec<u8>>> + Send;
    /// Completes the upload.
    fn complete(
        &self,
        key: &str,
        upload_id: &str,
        parts: Vec<StoredPart>,
    ) -> impl std::future::Future<Output = Result<()>> + Send;
    /// The object's checksum as S3 reports it (`<base64>-<parts>` for multipart objects).
    fn checksum(
        &self,
        key: &str,
    ) -> impl std::future::Future<Output = Result<Option<String>>> + Send;
    /// Writes a small object.
    fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> impl std::future::Future<Output = Result<()>> + Send;
}

/// Imaging settings.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Raw bytes per part (rounded to whole blocks; raised for very large volumes).
    pub part_size: u64,
    /// Blocks fetched at once.
    pub concurrency: usize,
    /// Time after which an invocation stops at the next part boundary.
    pub budget: Duration,
    /// Store the image gzip-compressed (one gzip member per raw part; hashes stay those of
    /// the raw image).
    pub compress: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            part_size: 64 * 1024 * 1024,
            concurrency: 16,
            budget: Duration::from_secs(600),
            compress: false,
        }
    }
}

/// What to image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Job {
    /// Snapshot to read.
    pub snapshot_id: String,
    /// The original volume (names the artifact).
    pub volume_id: String,
    /// Object key of the image (`….raw`, or `….raw.gz` when compressed).
    pub key: String,
    /// Case id (object metadata).
    pub case_id: String,
}

/// The imaging result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Imaged {
    /// Object key of the stored image in the evidence bucket.
    pub key: String,
    /// Raw image size in bytes.
    pub bytes: u64,
    /// SHA-256 and MD5 of the raw image.
    pub digests: Digests,
    /// SHA-256 (hex) of the stored object when it is compressed.
    pub stored_sha256: Option<String>,
    /// Size of the stored object when it is compressed.
    #[serde(default)]
    pub stored_bytes: Option<u64>,
    /// S3's composite checksum of the object, checked equal to the one computed here.
    pub s3_checksum: String,
    /// Blocks EBS returned (allocated).
    pub allocated_blocks: u64,
    /// Blocks zero-filled.
    pub sparse_blocks: u64,
    /// EBS block size in bytes.
    pub block_size: u64,
    /// The manifest summary object.
    pub manifest_key: String,
    /// When imaging began (RFC 3339).
    pub started_at: String,
    /// When imaging ended (RFC 3339).
    pub finished_at: String,
}

impl Imaged {
    /// The custody ledger's view of the stored object.
    pub fn artifact(&self) -> crate::custody::Artifact {
        match (&self.stored_sha256, self.stored_bytes) {
            (Some(sha256), Some(bytes)) => crate::custody::Artifact {
                key: self.key.clone(),
                bytes,
                sha256: sha256.clone(),
                md5: None,
                raw_sha256: Some(self.digests.sha256.clone()),
            },
            _ => crate::custody::Artifact {
                key: self.key.clone(),
                bytes: self.bytes,
                sha256: self.digests.sha256.clone(),
                md5: Some(self.digests.md5.clone()),
                raw_sha256: None,
            },
        }
    }
}

/// Progress carried between invocations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Cursor {
    /// What is imaged.
    pub job: Job,
    /// Multipart upload id.
    pub upload_id: String,
    /// Blocks in the volume.
    pub total_blocks: u64,
    /// EBS block size in bytes.
    pub block_size: u64,
    /// Blocks per raw part.
    pub blocks_per_part: u64,
    /// First block not yet imaged.
    pub next_block: u64,
    /// Next part number.
    pub next_part: i32,
    /// Whether the image is stored gzip-compressed (fixed by the first run).
    pub compress: bool,
    /// Saved raw-image hashers.
    pub hashes: String,
    /// Saved composite (SHA-256 of the parts' SHA-256s).
    pub composite: String,
    /// Saved SHA-256 of the stored (compressed) bytes.
    pub stored: String,
    /// Block-manifest chunks written so far (`<key>.blocks/NNNNNN.jsonl`).
    pub manifest_chunks: u32,
    /// Part receipt files written (`<key>.parts/NNNNNN.json`, one per run that uploaded parts).
    ///
    /// The receipts are kept in S3, not in the cursor, because a cursor must stay under Step
    /// Functions' 256 KiB payload limit and a large volume has up to 10,000 parts.
    #[serde(default)]
    pub part_files: u32,
    /// Bytes uploaded so far (the stored object's size once done).
    #[serde(default)]
    pub stored_bytes: u64,
    /// Allocated blocks imaged.
    pub allocated_blocks: u64,
    /// Zero-filled blocks.
    pub sparse_blocks: u64,
    /// When the first run began (RFC 3339).
    pub started_at: String,
    /// Invocations so far.
    pub runs: u32,
    /// True when the image is complete and verified.
    pub done: bool,
    /// The result, when done.
    pub result: Option<Imaged>,
}

/// A manifest line: one allocated block.
#[derive(Debug, Serialize, Deserialize)]
struct ManifestLine<'a> {
    block: u64,
    offset: u64,
    sha256: &'a str,
}

fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// The imaging engine.
#[derive(Debug)]
pub struct Imager<B, S> {
    blocks: B,
    store: S,
    settings: Settings,
}

impl<B: BlockSource, S: ObjectStore> Imager<B, S> {
    /// An engine reading from `blocks` and writing to `store`.
    pub fn new(blocks: B, store: S, settings: Settings) -> Self {
        Imager {
            blocks,
            store,
            settings,
        }
    }

    /// Starts imaging `job`: sizes the parts and opens the upload.
    pub async fn start(&self, job: Job) -> Result<Cursor> {
        let first = self.blocks.list(&job.snapshot_id, 0, None).await?;
        if first.block_size == 0 || first.volume_gib == 0 {
            return Err(HandlerError::fatal(format!(
                "snapshot {} reports block size {} and volume size {} GiB",
                job.snapshot_id, first.block_size, first.volume_gib
            )));
        }
        let total_blocks = first.volume_gib * GIB / first.block_size;
        let wanted =
            (self.settings.part_size / first.block_size).max(MIN_PART.div_ceil(first.block_size));
        let blocks_per_part = wanted.max(total_blocks.div_ceil(MAX_PARTS));
        let upload_id = self
            .store
            .create_upload(
                &job.key,
                &[
                    ("irf-case-id", job.case_id.as_str()),
                    ("irf-snapshot-id", job.snapshot_id.as_str()),
                    ("irf-volume-id", job.volume_id.as_str()),
                ],
            )
            .await?;
        tracing::info!(snapshot = %job.snapshot_id, total_blocks, blocks_per_part, "imaging started");
        Ok(Cursor {
            job,
            upload_id,
            total_blocks,
            block_size: first.block_size,
            blocks_per_part,
            next_block: 0,
            next_part: 1,
            compress: self.settings.compress,
            hashes: StreamHashes::default().save(),
            composite: Sha256State::default().save(),
            stored: Sha256State::default().save(),
            manifest_chunks: 0,
            part_files: 0,
            stored_bytes: 0,
            allocated_blocks: 0,
            sparse_blocks: 0,
            started_at: now(),
            runs: 0,
            done: false,
            result: None,
        })
    }

    /// Images until the budget is spent (stopping at a part boundary) or the image is done.
    pub async fn run(&self, mut c: Cursor) -> Result<Cursor> {
        if c.done {
            return Ok(c);
        }
        let began = Instant::now();
        let first_block = c.next_block;
        let mut hashes = StreamHashes::restore(&c.hashes)?;
        let mut composite = Sha256State::restore(&c.composite)?;
        let mut stored = Sha256State::restore(&c.stored)?;
        let mut listed: VecDeque<(u64, String)> = VecDeque::new();
        let mut listed_to = c.next_block; // every allocated block below this is in `listed` or done
        let mut list_token: Option<String> = None;
        let mut list_start = c.next_block; // where the current pagination began
        let mut list_exhausted = false;
        let mut manifest = Vec::new();
        let mut pending: Vec<u8> = Vec::new();
        let mut receipts: Vec<StoredPart> = Vec::new();
        loop {
            if c.next_block >= c.total_blocks {
                break;
            }
            // Every run images at least one part, so a cursor always moves forward.
            if c.next_block > first_block
                && began.elapsed() >= self.settings.budget
                && pending.is_empty()
            {
                break;
            }
            let end = (c.next_block + c.blocks_per_part).min(c.total_blocks);
            // List allocated blocks up to `end` (pages continue where the last one stopped).
            let mut empty_pages = 0;
            while !list_exhausted && listed_to < end {
                if list_token.is_none() {
                    list_start = listed_to;
                }
                let page = self
                    .blocks
                    .list(&c.job.snapshot_id, list_start, list_token.take())
                    .await?;
                let last = page.blocks.last().map(|(i, _)| *i);
                listed.extend(page.blocks.into_iter().filter(|(i, _)| *i >= c.next_block));
                match (page.next_token, last) {
                    (Some(t), Some(l)) => {
                        list_token = Some(t);
                        listed_to = l + 1;
                    }
                    (Some(t), None) if empty_pages < 100 => {
                        empty_pages += 1;
                        list_token = Some(t);
                    }
                    _ => {
                        list_exhausted = true;
                        listed_to = c.total_blocks;
                    }
                }
            }
            let mut wanted = Vec::new();
            while listed.front().is_some_and(|(i, _)| *i < end) {
                if let Some(b) = listed.pop_front() {
                    wanted.push(b);
                }
            }
            let snapshot = c.job.snapshot_id.clone();
            let block_size = c.block_size;
            let fetched: Vec<(u64, BlockData)> =
                futures::stream::iter(wanted.into_iter().map(|(index, token)| {
                    let snapshot = snapshot.clone();
                    async move {
                        let data = self.blocks.get(&snapshot, index, &token).await?;
                        // Checked on the blocking pool, so blocks are verified in parallel.
                        let checked = data.clone();
                        tokio::task::spawn_blocking(move || {
                            verify_block(&snapshot, index, block_size, &checked)
                        })
                        .await
                        .map_err(HandlerError::fatal)??;
                        Ok::<_, HandlerError>((index, data))
                    }
                }))
                .buffered(self.settings.concurrency.max(1))
                .try_collect()
                .await?;
            let raw_len = usize::try_from((end - c.next_block) * c.block_size)
                .map_err(HandlerError::fatal)?;
            let mut raw = vec![0u8; raw_len];
            for (index, data) in &fetched {
                let at = usize::try_from((index - c.next_block) * c.block_size)
                    .map_err(HandlerError::fatal)?;
                raw[at..at + data.data.len()].copy_from_slice(&data.data);
                let sha = data.checksum.as_ref().map_or("", |(s, _)| s.as_str());
                manifest.push(
                    serde_json::to_string(&ManifestLine {
                        block: *index,
                        offset: index * c.block_size,
                        sha256: sha,
                    })
                    .map_err(HandlerError::fatal)?,
                );
            }
            c.allocated_blocks += fetched.len() as u64;
            c.sparse_blocks += (end - c.next_block) - fetched.len() as u64;
            // The image's SHA-256 and MD5 and the raw part's SHA-256 are three passes over the
            // same bytes: run them on three threads.
            let raw_part_sha = std::thread::scope(|s| {
                let part = (!c.compress).then(|| s.spawn(|| digests::sha256(&raw)));
                hashes.update_parallel(&raw);
                part.map(|h| h.join().expect("hashing thread"))
            });
            c.next_block = end;
            let last = c.next_block >= c.total_blocks;
            let body = if c.compress {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                gz.write_all(&raw).map_err(HandlerError::fatal)?;
                pending.extend(gz.finish().map_err(HandlerError::fatal)?);
                if (pending.len() as u64) < MIN_PART && !last {
                    continue;
                }
                std::mem::take(&mut pending)
            } else {
                raw
            };
            if c.compress {
                stored.update(&body);
            }
            let sha = match raw_part_sha {
                Some(sha) => sha,
                None => digests::sha256(&body),
            };
            receipts.push(self.upload(&mut c, &mut composite, body, sha).await?);
        }
        c.runs += 1;
        if !receipts.is_empty() {
            c.part_files += 1;
            let key = format!("{}.parts/{:06}.json", c.job.key, c.part_files);
            let text = serde_json::to_vec(&receipts).map_err(HandlerError::fatal)?;
            self.store.put(&key, text, "application/json").await?;
        }
        c.hashes = hashes.save();
        c.composite = composite.save();
        c.stored = stored.save();
        if !manifest.is_empty() {
            c.manifest_chunks += 1;
            let key = format!("{}.blocks/{:06}.jsonl", c.job.key, c.manifest_chunks);
            let mut text = manifest.join("\n");
            text.push('\n');
            self.store
                .put(&key, text.into_bytes(), "application/x-ndjson")
                .await?;
        }
        if c.next_block >= c.total_blocks {
            self.finish(&mut c, hashes, composite, stored).await?;
        }
        tracing::info!(
            snapshot = %c.job.snapshot_id,
            next_block = c.next_block,
            total = c.total_blocks,
            done = c.done,
            seconds = began.elapsed().as_secs_f64(),
            "imaging run ended"
        );
        Ok(c)
    }

    async fn upload(
        &self,
        c: &mut Cursor,
        composite: &mut Sha256State,
        body: Vec<u8>,
        sha: [u8; 32],
    ) -> Result<StoredPart> {
        c.stored_bytes += body.len() as u64;
        composite.update(&sha);
        let sha256 = digests::b64(&sha);
        let etag = self
            .store
            .upload_part(
                &c.job.key,
                &c.upload_id,
                c.next_part,
                bytes::Bytes::from(body),
                &sha256,
            )
            .await?;
        let part = StoredPart {
            number: c.next_part,
            etag,
            sha256: Some(sha256),
        };
        c.next_part += 1;
        Ok(part)
    }

    async fn finish(
        &self,
        c: &mut Cursor,
        hashes: StreamHashes,
        composite: Sha256State,
        stored: Sha256State,
    ) -> Result<()> {
        let mut parts = Vec::new();
        for n in 1..=c.part_files {
            let key = format!("{}.parts/{n:06}.json", c.job.key);
            let chunk: Vec<StoredPart> = serde_json::from_slice(&self.store.get(&key).await?)
                .map_err(|e| {
                    HandlerError::fatal(format!("part receipts {key} are corrupt: {e}"))
                })?;
            parts.extend(chunk);
        }
        let expected = usize::try_from(c.next_part - 1).map_err(HandlerError::fatal)?;
        if parts.len() != expected
            || parts
                .iter()
                .enumerate()
                .any(|(i, p)| i32::try_from(i + 1).ok() != Some(p.number))
        {
            return Err(HandlerError::fatal(format!(
                "upload {} of {} holds {} parts, {} were written",
                c.upload_id,
                c.job.key,
                parts.len(),
                expected
            )));
        }
        self.store.complete(&c.job.key, &c.upload_id, parts).await?;
        let ours = format!("{}-{expected}", digests::b64(&composite.finish()));
        let theirs = self.store.checksum(&c.job.key).await?.ok_or_else(|| {
            HandlerError::fatal(format!(
                "S3 reports no checksum for {}: the upload cannot be verified",
                c.job.key
            ))
        })?;
        // S3 reports a multipart object's composite checksum as `<base64>-<parts>`; the emulator
        // leaves the `-<parts>` off. The digest must match; a part count, when given, too.
        let (their_digest, their_parts) = match theirs.rsplit_once('-') {
            Some((d, n)) if n.bytes().all(|b| b.is_ascii_digit()) => (d, Some(n)),
            _ => (theirs.as_str(), None),
        };
        let expected_parts = expected.to_string();
        if their_digest != ours.trim_end_matches(&format!("-{expected}"))
            || their_parts.is_some_and(|n| n != expected_parts)
        {
            return Err(HandlerError::fatal(format!(
                "{} does not hold the bytes imaged: S3's checksum {theirs} is not {ours}",
                c.job.key
            )));
        }
        let digests = hashes.finish();
        let raw_name = c
            .job
            .key
            .rsplit('/')
            .next()
            .unwrap_or(&c.job.key)
            .trim_end_matches(".gz")
            .to_owned();
        let raw_key = c.job.key.trim_end_matches(".gz").to_owned();
        for (algorithm, value) in [("sha256", &digests.sha256), ("md5", &digests.md5)] {
            let key = irf_core::contract::evidence_keys::sidecar(&raw_key, algorithm);
            self.store
                .put(
                    &key,
                    format!("{value}  {raw_name}\n").into_bytes(),
                    "text/plain",
                )
                .await?;
        }
        let bytes = c.total_blocks * c.block_size;
        let manifest_key = format!("{raw_key}.manifest.json");
        let result = Imaged {
            key: c.job.key.clone(),
            bytes,
            digests,
            stored_sha256: c.compress.then(|| hex::encode(stored.finish())),
            stored_bytes: c.compress.then_some(c.stored_bytes),
            s3_checksum: theirs,
            allocated_blocks: c.allocated_blocks,
            sparse_blocks: c.sparse_blocks,
            block_size: c.block_size,
            manifest_key: manifest_key.clone(),
            started_at: c.started_at.clone(),
            finished_at: now(),
        };
        let summary = serde_json::json!({
            "Snapshot": c.job.snapshot_id,
            "Volume": c.job.volume_id,
            "Case": c.job.case_id,
            "Image": result,
            "BlockManifests": (1..=c.manifest_chunks).map(|n| format!("{}.blocks/{n:06}.jsonl", c.job.key)).collect::<Vec<_>>(),
            "Runs": c.runs,
        });
        self.store
            .put(
                &manifest_key,
                serde_json::to_vec_pretty(&summary).map_err(HandlerError::fatal)?,
                "application/json",
            )
            .await?;
        c.done = true;
        c.result = Some(result);
        Ok(())
    }

    /// Images `job` to the end, one run after another (the CLI and tests).
    pub async fn image(&self, job: Job) -> Result<Cursor> {
        let mut c = self.start(job).await?;
        while !c.done {
            c = self.run(c).await?;
        }
        Ok(c)
    }
}

/// Checks a block against the checksum EBS returned with it.
fn verify_block(snapshot: &str, index: u64, block_size: u64, b: &BlockData) -> Result<()> {
    if b.data.len() as u64 != block_size {
        return Err(HandlerError::fatal(format!(
            "{snapshot} block {index}: {} bytes, expected {block_size}",
            b.data.len()
        )));
    }
    let Some((checksum, algorithm)) = &b.checksum else {
        return Err(HandlerError::fatal(format!(
            "{snapshot} block {index}: EBS returned no checksum"
        )));
    };
    if algorithm != "SHA256" {
        return Err(HandlerError::fatal(format!(
            "{snapshot} block {index}: unsupported checksum algorithm {algorithm}"
        )));
    }
    let actual = digests::b64(&digests::sha256(&b.data));
    if &actual != checksum {
        // A corrupted read: retrying may fetch it intact.
        return Err(HandlerError::retryable(format!(
            "{snapshot} block {index} is corrupt: SHA-256 {actual} is not EBS's {checksum}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_must_match_its_checksum() {
        let data = bytes::Bytes::from(vec![7u8; 16]);
        let good = BlockData {
            checksum: Some((digests::b64(&digests::sha256(&data)), "SHA256".into())),
            data: data.clone(),
        };
        verify_block("snap-1", 3, 16, &good).unwrap();
        let mut flipped = data.to_vec();
        flipped[5] ^= 1;
        let bad = BlockData {
            data: bytes::Bytes::from(flipped),
            checksum: good.checksum.clone(),
        };
        let err = verify_block("snap-1", 3, 16, &bad).unwrap_err();
        assert_eq!(err.kind(), crate::error::ErrorKind::Retryable);
        assert!(err.to_string().contains("block 3 is corrupt"), "{err}");
        assert!(
            verify_block("snap-1", 3, 32, &good)
                .unwrap_err()
                .to_string()
                .contains("expected 32")
        );
        let none = BlockData {
            data,
            checksum: None,
        };
        assert!(
            verify_block("snap-1", 3, 16, &none)
                .unwrap_err()
                .to_string()
                .contains("no checksum")
        );
    }
}
