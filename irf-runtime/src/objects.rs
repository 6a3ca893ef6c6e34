//! Reading evidence-side S3 objects: small text documents (ledgers, heads, plans, receipts,
//! sidecars) and whole artifacts re-hashed while streaming.

use crate::digests::{Digests, StreamHashes};
use crate::error::{self, HandlerError, Result};

/// An object as text with its ETag; `None` when it does not exist. Invalid UTF-8 is an error.
pub async fn text(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<Option<(String, String)>> {
    match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => {
            let etag = out.e_tag().unwrap_or_default().to_owned();
            let body = out.body.collect().await.map_err(|e| {
                HandlerError::retryable(format!("s3:GetObject {key}: reading the body: {e}"))
            })?;
            let text = String::from_utf8(body.into_bytes().to_vec()).map_err(|_| {
                HandlerError::fatal(format!("s3://{bucket}/{key} is not UTF-8 text"))
            })?;
            Ok(Some((text, etag)))
        }
        Err(e) if error::code(&e) == Some("NoSuchKey") => Ok(None),
        Err(e) => Err(error::aws(&format!("s3:GetObject s3://{bucket}/{key}"), e)),
    }
}

/// An object's bytes; `None` when it does not exist.
pub async fn bytes(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<Option<Vec<u8>>> {
    match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => {
            let body = out.body.collect().await.map_err(|e| {
                HandlerError::retryable(format!("s3:GetObject {key}: reading the body: {e}"))
            })?;
            Ok(Some(body.into_bytes().to_vec()))
        }
        Err(e) if error::code(&e) == Some("NoSuchKey") => Ok(None),
        Err(e) => Err(error::aws(&format!("s3:GetObject s3://{bucket}/{key}"), e)),
    }
}

/// An object's size, SHA-256 and MD5, computed while streaming it; `None` when it does not exist.
pub async fn rehash(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<Option<(u64, Digests)>> {
    let out = match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(o) => o,
        Err(e) if error::code(&e) == Some("NoSuchKey") => return Ok(None),
        Err(e) => return Err(error::aws(&format!("s3:GetObject s3://{bucket}/{key}"), e)),
    };
    let mut body = out.body;
    let mut hashes = StreamHashes::default();
    let mut bytes = 0u64;
    while let Some(chunk) = body.try_next().await.map_err(|e| {
        HandlerError::retryable(format!("s3:GetObject {key}: reading the body: {e}"))
    })? {
        bytes += chunk.len() as u64;
        hashes.update(&chunk);
    }
    Ok(Some((bytes, hashes.finish())))
}
