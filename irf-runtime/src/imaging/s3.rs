//! The evidence bucket as the image's destination.

use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, CompletedMultipartUpload, CompletedPart};

use super::{ObjectStore, StoredPart};
use crate::error::{self, HandlerError, Result};

/// A bucket (the evidence bucket; its default encryption applies).
#[derive(Debug)]
pub struct S3Store {
    /// S3 client that reaches the bucket.
    pub client: aws_sdk_s3::Client,
    /// Name of the bucket.
    pub bucket: String,
}

impl ObjectStore for S3Store {
    async fn create_upload(&self, key: &str, metadata: &[(&str, &str)]) -> Result<String> {
        let mut req = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/octet-stream")
            .checksum_algorithm(ChecksumAlgorithm::Sha256);
        for (k, v) in metadata {
            req = req.metadata(*k, *v);
        }
        let out = req
            .send()
            .await
            .map_err(|e| error::aws(&format!("s3:CreateMultipartUpload {key}"), e))?;
        Ok(out.upload_id().unwrap_or_default().to_owned())
    }

    async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: i32,
        body: bytes::Bytes,
        sha256_b64: &str,
    ) -> Result<String> {
        let out = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(number)
            .checksum_sha256(sha256_b64)
            .body(body.into())
            .send()
            .await
            .map_err(|e| error::aws(&format!("s3:UploadPart {key} part {number}"), e))?;
        Ok(out.e_tag().unwrap_or_default().to_owned())
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>> {
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| error::aws(&format!("s3:GetObject {key}"), e))?;
        let body = out.body.collect().await.map_err(|e| {
            HandlerError::retryable(format!("s3:GetObject {key}: reading the body: {e}"))
        })?;
        Ok(body.into_bytes().to_vec())
    }

    async fn complete(&self, key: &str, upload_id: &str, parts: Vec<StoredPart>) -> Result<()> {
        let completed = CompletedMultipartUpload::builder()
            .set_parts(Some(
                parts
                    .into_iter()
                    .map(|p| {
                        CompletedPart::builder()
                            .part_number(p.number)
                            .e_tag(p.etag)
                            .set_checksum_sha256(p.sha256)
                            .build()
                    })
                    .collect(),
            ))
            .build();
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(completed)
            .send()
            .await
            .map_err(|e| error::aws(&format!("s3:CompleteMultipartUpload {key}"), e))?;
        Ok(())
    }

    async fn checksum(&self, key: &str) -> Result<Option<String>> {
        let out = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .map_err(|e| error::aws(&format!("s3:HeadObject {key}"), e))?;
        Ok(out.checksum_sha256().map(str::to_owned))
    }

    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<()> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .body(body.into())
            .send()
            .await
            .map_err(|e| error::aws(&format!("s3:PutObject {key}"), e))?;
        Ok(())
    }
}
