//! Captures of instances outside the home region.
//!
//! An instance in a subnet without internet reaches S3 only through its region's gateway
//! endpoint, so presigned URLs of the home-region evidence bucket are out of its reach. Its
//! capture goes to the forensics account's ingest bucket of its own region instead: the
//! multipart upload, the plan, the receipts, the symbol bundle, and copies of the streamer (and
//! LiME module) it downloads, all under the case's `memory/` prefix there. Verification then
//! copies the image server-side into the evidence bucket (`UploadPartCopy`, every part from the
//! one version the host uploaded, resumable across runs through [`CopyCursor`]), copies the small
//! objects beside it, and hashes the copy: its SHA-256 must equal the host's, so the copy is
//! verified, not trusted. The copy's upload and the ETags of the parts copied so far are kept in
//! `memory/copy.json` of the evidence bucket (the workflow's cursor stays small whatever the
//! image's size), so that a retried first run reuses its upload, a run resumes with the ETags of
//! the runs before it, and clean-up can abort an unfinished copy.

use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use irf_core::contract::evidence_keys;
use irf_core::steps::{Capture, Case, CopyCursor, Ingest, Receipts};
use irf_isf::bundle;

use super::{CommandRunner, Memory, Store};
use crate::error::{self, HandlerError, Result};

/// Bytes per part of the server-side copy (S3 allows 5 MiB to 5 GiB per part, 10,000 parts):
/// large enough that a 256 GiB image copies in 512 parts, small enough that a part copies in
/// seconds across regions.
pub const COPY_PART_SIZE: u64 = 512 << 20;

/// `memory/copy.json`: the copy's cursor as last saved, each copied part's ETag, and whether the
/// copy is complete (plan, receipts and bundle included).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CopyState {
    #[serde(flatten)]
    cursor: CopyCursor,
    #[serde(default)]
    etags: Vec<String>,
    #[serde(default)]
    completed: bool,
}

/// An ingest bucket and a client in its region.
#[derive(Clone, Debug)]
pub struct IngestBucket {
    /// The bucket (forensics account).
    pub bucket: String,
    /// S3 in the bucket's region, presigning plain URLs.
    pub s3: aws_sdk_s3::Client,
}

impl<R: CommandRunner> Memory<R> {
    /// Where the host of an instance in `region` uploads: that region's ingest bucket when there
    /// is one, else the evidence bucket.
    pub(super) fn upload_store_for(&self, region: &str) -> (Store<'_>, Option<Ingest>) {
        match self.ingest.get(region) {
            Some(i) => (
                Store {
                    s3: &i.s3,
                    bucket: &i.bucket,
                },
                Some(Ingest {
                    region: region.to_owned(),
                    bucket: i.bucket.clone(),
                }),
            ),
            None => (self.evidence_store(), None),
        }
    }

    /// Where `capture`'s host uploaded.
    pub(super) fn upload_store<'a>(&'a self, capture: &Capture) -> Result<Store<'a>> {
        let Some(ingest) = &capture.ingest else {
            return Ok(self.evidence_store());
        };
        match self.ingest.get(&ingest.region) {
            Some(i) if i.bucket == ingest.bucket => Ok(Store {
                s3: &i.s3,
                bucket: &i.bucket,
            }),
            _ => Err(HandlerError::fatal(format!(
                "the capture landed in s3://{}/{} ({}), but {} no longer names that bucket for {}: \
                 restore the ingest stack's bucket in the configuration (irf-synth deploy) and retry",
                ingest.bucket,
                capture.key,
                ingest.region,
                irf_core::env::keys::INGEST_BUCKETS,
                ingest.region
            ))),
        }
    }

    /// A presigned URL of the tool or module at `key` of the modules bucket, where the host can
    /// reach it: for an ingest capture, a server-side copy under the case's `memory/tools/` in the
    /// ingest bucket (so the case also keeps the exact binary that ran).
    pub(super) async fn tool_url(
        &self,
        store: Store<'_>,
        ingested: bool,
        dir: &str,
        key: &str,
    ) -> Result<String> {
        if !ingested {
            return self
                .presign_get(&self.modules, &self.modules_bucket, key)
                .await;
        }
        let name = key.rsplit('/').next().unwrap_or(key);
        let staged = format!("{dir}tools/{name}");
        store
            .s3
            .copy_object()
            .bucket(store.bucket)
            .key(&staged)
            .copy_source(format!("{}/{key}", self.modules_bucket))
            .send()
            .await
            .map_err(|e| {
                error::aws(
                    &format!(
                        "s3:CopyObject s3://{}/{key} to s3://{}/{staged}",
                        self.modules_bucket, store.bucket
                    ),
                    e,
                )
            })?;
        self.presign_get(store.s3, store.bucket, &staged).await
    }

    fn copy_state_key(case: &Case) -> String {
        format!(
            "{}memory/copy.json",
            evidence_keys::instance_prefix(&case.case_id, &case.account, &case.instance_id)
        )
    }

    /// One run of the copy of an ingested image into the evidence bucket: copies parts for up to
    /// the verification budget (one at least), and once all are copied completes the upload and
    /// copies the small objects beside it. `Some` is where the next run resumes; `None`: done.
    pub(super) async fn copy_run(
        &self,
        case: &Case,
        capture: &Capture,
        receipts: &Receipts,
        cursor: Option<&CopyCursor>,
    ) -> Result<Option<CopyCursor>> {
        let source = self.upload_store(capture)?;
        let began = std::time::Instant::now();
        let mut state = match cursor {
            Some(c) => {
                let mut state = self.copy_state(case).await?.ok_or_else(|| {
                    HandlerError::fatal(format!(
                        "{} is missing while the copy of {} is under way",
                        Self::copy_state_key(case),
                        capture.key
                    ))
                })?;
                state.cursor = c.clone();
                state
            }
            None => self.start_copy(case, capture, receipts, source).await?,
        };
        if state.completed {
            // A retried run after the copy was completed.
            return Ok(None);
        }
        let mut cursor = state.cursor.clone();
        // Parts after the cursor may have been copied by a run whose answer was lost; they are
        // copied again.
        state.etags.truncate(cursor.copied as usize);
        if state.etags.len() != cursor.copied as usize {
            return Err(HandlerError::fatal(format!(
                "{} lists {} copied parts; the cursor says {}",
                Self::copy_state_key(case),
                state.etags.len(),
                cursor.copied
            )));
        }
        let parts = cursor.size.div_ceil(cursor.part_size);
        let copy_source = format!(
            "{}/{}?versionId={}",
            source.bucket, capture.key, cursor.version_id
        );
        while u64::from(cursor.copied) < parts {
            let number = cursor.copied + 1;
            let first = u64::from(cursor.copied) * cursor.part_size;
            let last = (first + cursor.part_size).min(cursor.size) - 1;
            let copied = match self
                .evidence
                .upload_part_copy()
                .bucket(&self.evidence_bucket)
                .key(&capture.key)
                .upload_id(&cursor.upload_id)
                .part_number(i32::try_from(number).map_err(HandlerError::fatal)?)
                .copy_source(&copy_source)
                .copy_source_range(format!("bytes={first}-{last}"))
                .send()
                .await
            {
                Ok(out) => out,
                // A retried run after the copy was completed.
                Err(e) if error::code(&e) == Some("NoSuchUpload") => {
                    return self.copied_already(capture, &cursor).await;
                }
                Err(e) => {
                    return Err(error::aws(
                        &format!(
                            "s3:UploadPartCopy part {number} of s3://{copy_source} into s3://{}/{}",
                            self.evidence_bucket, capture.key
                        ),
                        e,
                    ));
                }
            };
            let etag = copied
                .copy_part_result()
                .and_then(|r| r.e_tag())
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    HandlerError::fatal(format!(
                        "s3:UploadPartCopy part {number} of {} returned no ETag",
                        capture.key
                    ))
                })?;
            state.etags.push(etag.to_owned());
            cursor.copied = number;
            if u64::from(cursor.copied) < parts && began.elapsed() >= self.verify_budget {
                state.cursor = cursor.clone();
                self.save_copy_state(case, &state).await?;
                return Ok(Some(cursor));
            }
        }
        self.complete_copy(capture, &cursor, &state.etags).await?;
        self.copy_beside(case, capture, source).await?;
        state.cursor = cursor;
        state.completed = true;
        self.save_copy_state(case, &state).await?;
        Ok(None)
    }

    /// Opens the copy's multipart upload (or finds the one a retried run cursor), pinned to the
    /// version of the image the host uploaded.
    async fn start_copy(
        &self,
        case: &Case,
        capture: &Capture,
        receipts: &Receipts,
        source: Store<'_>,
    ) -> Result<CopyState> {
        // A retried first run: the host's upload was completed before the copy was opened.
        if let Some(state) = self.copy_state(case).await? {
            return Ok(state);
        }
        self.complete_upload(capture, receipts).await?;
        let head = source
            .s3
            .head_object()
            .bucket(source.bucket)
            .key(&capture.key)
            .send()
            .await
            .map_err(|e| {
                error::aws(
                    &format!("s3:HeadObject s3://{}/{}", source.bucket, capture.key),
                    e,
                )
            })?;
        let version_id = head
            .version_id()
            .filter(|v| !v.is_empty() && *v != "null")
            .ok_or_else(|| {
                HandlerError::fatal(format!(
                    "s3://{} is not versioned, so the copy could not be pinned to the uploaded image \
                     (the forensics-ingest stack makes it versioned: redeploy it)",
                    source.bucket
                ))
            })?
            .to_owned();
        let size = u64::try_from(head.content_length().unwrap_or_default()).unwrap_or_default();
        if size == 0 {
            return Err(HandlerError::fatal(format!(
                "s3://{}/{} is empty",
                source.bucket, capture.key
            )));
        }
        let part_size = self
            .copy_part_size
            .max(size.div_ceil(10_000).next_multiple_of(1 << 20));
        let upload_id = self
            .evidence
            .create_multipart_upload()
            .bucket(&self.evidence_bucket)
            .key(&capture.key)
            .metadata("case-id", &case.case_id)
            .metadata("method", &capture.method)
            .metadata("ingest-bucket", source.bucket)
            .metadata("ingest-version-id", &version_id)
            .send()
            .await
            .map_err(|e| error::aws(&format!("s3:CreateMultipartUpload {}", capture.key), e))?
            .upload_id()
            .unwrap_or_default()
            .to_owned();
        let state = CopyState {
            cursor: CopyCursor {
                upload_id,
                version_id,
                size,
                part_size,
                copied: 0,
            },
            etags: Vec::new(),
            completed: false,
        };
        self.save_copy_state(case, &state).await?;
        Ok(state)
    }

    /// The copy's saved state, once a run cursor it.
    async fn copy_state(&self, case: &Case) -> Result<Option<CopyState>> {
        let key = Self::copy_state_key(case);
        let Some(text) = self
            .text(&self.evidence, &self.evidence_bucket, &key)
            .await?
        else {
            return Ok(None);
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| HandlerError::fatal(format!("{key} is corrupt: {e}")))
    }

    async fn save_copy_state(&self, case: &Case, state: &CopyState) -> Result<()> {
        self.put_evidence(
            &Self::copy_state_key(case),
            "application/json",
            serde_json::to_vec(state).map_err(HandlerError::fatal)?,
        )
        .await
    }

    /// Completes the copy with the ETags of its parts.
    async fn complete_copy(
        &self,
        capture: &Capture,
        cursor: &CopyCursor,
        etags: &[String],
    ) -> Result<()> {
        let expected = cursor.size.div_ceil(cursor.part_size);
        if etags.len() as u64 != expected {
            return Err(HandlerError::fatal(format!(
                "the copy of {} has {} parts; it needs {expected}",
                capture.key,
                etags.len()
            )));
        }
        let mut parts = Vec::with_capacity(etags.len());
        for (i, etag) in etags.iter().enumerate() {
            parts.push(
                CompletedPart::builder()
                    .part_number(i32::try_from(i + 1).map_err(HandlerError::fatal)?)
                    .e_tag(etag)
                    .build(),
            );
        }
        match self
            .evidence
            .complete_multipart_upload()
            .bucket(&self.evidence_bucket)
            .key(&capture.key)
            .upload_id(&cursor.upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if error::code(&e) == Some("NoSuchUpload") => {
                self.copied_already(capture, cursor).await.map(|_| ())
            }
            Err(e) => Err(error::aws(
                &format!("s3:CompleteMultipartUpload of the copy of {}", capture.key),
                e,
            )),
        }
    }

    /// The copy's upload is gone: done when the evidence bucket holds an object of the image's
    /// size (the hash check that follows decides whether it is the image).
    async fn copied_already(
        &self,
        capture: &Capture,
        cursor: &CopyCursor,
    ) -> Result<Option<CopyCursor>> {
        let found = match self
            .evidence
            .head_object()
            .bucket(&self.evidence_bucket)
            .key(&capture.key)
            .send()
            .await
        {
            Ok(o) => u64::try_from(o.content_length().unwrap_or_default()).ok(),
            Err(e) if matches!(error::code(&e), Some("NotFound" | "NoSuchKey")) => None,
            Err(e) => return Err(error::aws(&format!("s3:HeadObject {}", capture.key), e)),
        };
        if found == Some(cursor.size) {
            Ok(None)
        } else {
            Err(HandlerError::fatal(format!(
                "the copy upload {} of {} is gone and the evidence bucket holds no {}-byte image: \
                 abort the case's memory branch and capture again",
                cursor.upload_id, capture.key, cursor.size
            )))
        }
    }

    /// Copies what the host wrote beside the image (plan, receipts, symbol bundle) into the
    /// evidence bucket, under the same keys.
    async fn copy_beside(&self, case: &Case, capture: &Capture, source: Store<'_>) -> Result<()> {
        let dir = format!(
            "{}memory/",
            evidence_keys::instance_prefix(&case.case_id, &case.account, &case.instance_id)
        );
        let symbols =
            evidence_keys::memory_symbols(&case.case_id, &case.account, &case.instance_id);
        let mut keys = vec![format!("{dir}plan.json"), capture.receipts_key.clone()];
        keys.extend(
            std::iter::once(bundle::MANIFEST)
                .chain(bundle::KNOWN)
                .map(|name| format!("{symbols}{name}")),
        );
        for key in keys {
            match self
                .evidence
                .copy_object()
                .bucket(&self.evidence_bucket)
                .key(&key)
                .copy_source(format!("{}/{key}", source.bucket))
                .send()
                .await
            {
                Ok(_) => {}
                // Bundle files the host's kernel did not have.
                Err(e) if error::code(&e) == Some("NoSuchKey") => {}
                Err(e) => {
                    return Err(error::aws(
                        &format!(
                            "s3:CopyObject s3://{}/{key} into the evidence bucket",
                            source.bucket
                        ),
                        e,
                    ));
                }
            }
        }
        Ok(())
    }

    /// Aborts the copy of an ingested image if one was cursor and not completed.
    pub(super) async fn abort_copy(&self, case: &Case, capture: &Capture) -> Result<()> {
        let Some(CopyState {
            cursor, completed, ..
        }) = self.copy_state(case).await?
        else {
            return Ok(());
        };
        if completed {
            return Ok(());
        }
        match self
            .evidence
            .abort_multipart_upload()
            .bucket(&self.evidence_bucket)
            .key(&capture.key)
            .upload_id(&cursor.upload_id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if error::code(&e) == Some("NoSuchUpload") => Ok(()),
            Err(e) => Err(error::aws(
                &format!("s3:AbortMultipartUpload of the copy of {}", capture.key),
                e,
            )),
        }
    }
}
