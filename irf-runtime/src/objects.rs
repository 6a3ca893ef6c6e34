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

/// A re-hash that may span invocations: where it stands.
#[derive(Debug)]
pub struct Rehashing {
    /// Bytes hashed so far (the next offset to read).
    pub offset: u64,
    /// The object's size.
    pub size: u64,
    /// The hashes of the first `offset` bytes.
    pub hashes: StreamHashes,
}

impl Rehashing {
    /// Whether the whole object is hashed.
    pub fn done(&self) -> bool {
        self.offset >= self.size
    }
}

/// Continues hashing `key` from `offset` with `hashes` (the state of the bytes before it) until
/// `budget` is spent, once at least `min_bytes` were read in this call, or the object ends;
/// `None` when the object does not exist.
pub async fn rehash_from(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    offset: u64,
    mut hashes: StreamHashes,
    budget: std::time::Duration,
    min_bytes: u64,
) -> Result<Option<Rehashing>> {
    let began = std::time::Instant::now();
    let size = match s3.head_object().bucket(bucket).key(key).send().await {
        Ok(o) => u64::try_from(o.content_length().unwrap_or_default()).unwrap_or_default(),
        Err(e) if error::code(&e) == Some("NotFound") || error::code(&e) == Some("NoSuchKey") => {
            return Ok(None);
        }
        Err(e) => return Err(error::aws(&format!("s3:HeadObject s3://{bucket}/{key}"), e)),
    };
    let mut at = offset;
    if at < size {
        let out = s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .range(format!("bytes={at}-"))
            .send()
            .await
            .map_err(|e| error::aws(&format!("s3:GetObject s3://{bucket}/{key} from {at}"), e))?;
        let mut body = out.body;
        while let Some(chunk) = body.try_next().await.map_err(|e| {
            HandlerError::retryable(format!("s3:GetObject {key}: reading the body at {at}: {e}"))
        })? {
            at += chunk.len() as u64;
            hashes.update(&chunk);
            if at - offset >= min_bytes && began.elapsed() >= budget {
                break;
            }
        }
    }
    Ok(Some(Rehashing {
        offset: at,
        size,
        hashes,
    }))
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
