//! The factory's documents in the memory-modules bucket: build requests and builder manifests.

use irf_core::contract::module_keys;
use irf_core::factory::{BuildRequest, FORMAT, FactoryManifest, RequestSource};

use crate::error::{self, HandlerError, Result};
use crate::objects;

/// The memory-modules bucket, as the factory uses it.
#[derive(Clone, Debug)]
pub struct Store {
    s3: aws_sdk_s3::Client,
    bucket: String,
}

/// A manifest with when S3 last stored it (seconds since the epoch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredManifest {
    /// The manifest.
    pub manifest: FactoryManifest,
    /// S3's `LastModified`.
    pub stored_at: i64,
}

impl Store {
    /// The factory's documents in `bucket`.
    pub fn new(s3: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self {
            s3,
            bucket: bucket.into(),
        }
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Every key under `prefix`.
    async fn keys(&self, prefix: &str) -> Result<Vec<(String, i64)>> {
        let mut keys = Vec::new();
        let mut pages = self
            .s3
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                error::aws(
                    &format!("s3:ListObjectsV2 s3://{}/{prefix}", self.bucket),
                    e,
                )
            })?;
            for o in page.contents() {
                if let Some(k) = o.key() {
                    keys.push((k.to_owned(), o.last_modified().map_or(0, |t| t.secs())));
                }
            }
        }
        Ok(keys)
    }

    /// The AMIs added outside org.toml, oldest request first.
    pub async fn requests(&self) -> Result<Vec<BuildRequest>> {
        let mut out = Vec::new();
        for (key, _) in self.keys(module_keys::FACTORY_REQUESTS_PREFIX).await? {
            let Some((text, _)) = objects::text(&self.s3, &self.bucket, &key).await? else {
                continue; // forgotten between the listing and the read
            };
            out.push(self.parse_request(&key, &text)?);
        }
        out.sort_by(|a, b| a.requested_at.cmp(&b.requested_at));
        Ok(out)
    }

    /// `ami`'s request, when it was added outside org.toml.
    pub async fn request_for(&self, ami: &str) -> Result<Option<BuildRequest>> {
        let key = module_keys::factory_request(ami);
        let Some((text, _)) = objects::text(&self.s3, &self.bucket, &key).await? else {
            return Ok(None);
        };
        self.parse_request(&key, &text).map(Some)
    }

    /// The request stored at `key`.
    fn parse_request(&self, key: &str, text: &str) -> Result<BuildRequest> {
        serde_json::from_str(text).map_err(|e| {
            HandlerError::fatal(format!(
                "s3://{}/{key} is not a build request ({e}); delete it or forget its AMI",
                self.bucket
            ))
        })
    }

    /// Adds `ami` (of `region`, when not the factory's) to the list; an AMI already requested
    /// keeps its first request (returned with `false`).
    pub async fn request(
        &self,
        ami: &str,
        region: Option<&str>,
        source: RequestSource,
        requested_by: &str,
        now: &str,
    ) -> Result<(BuildRequest, bool)> {
        let key = module_keys::factory_request(ami);
        if let Some((text, _)) = objects::text(&self.s3, &self.bucket, &key).await?
            && let Ok(existing) = serde_json::from_str::<BuildRequest>(&text)
        {
            return Ok((existing, false));
        }
        let request = BuildRequest {
            version: FORMAT,
            ami_id: ami.to_owned(),
            source,
            requested_at: now.to_owned(),
            requested_by: requested_by.to_owned(),
            region: region.map(str::to_owned),
        };
        self.put_json(
            &key,
            &serde_json::to_vec_pretty(&request).expect("serializes"),
        )
        .await?;
        Ok((request, true))
    }

    /// Removes `ami`'s request; `false` when there was none.
    pub async fn forget(&self, ami: &str) -> Result<bool> {
        let key = module_keys::factory_request(ami);
        let existed = objects::text(&self.s3, &self.bucket, &key).await?.is_some();
        if existed {
            self.s3
                .delete_object()
                .bucket(&self.bucket)
                .key(&key)
                .send()
                .await
                .map_err(|e| {
                    error::aws(&format!("s3:DeleteObject s3://{}/{key}", self.bucket), e)
                })?;
        }
        Ok(existed)
    }

    /// `ami`'s manifest, when a builder (or the watchdog) wrote one.
    pub async fn manifest(&self, ami: &str) -> Result<Option<StoredManifest>> {
        let key = module_keys::factory_manifest(ami);
        // One GetObject: its LastModified is when the manifest was stored.
        let out = match self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(&key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if error::code(&e) == Some("NoSuchKey") => return Ok(None),
            Err(e) => {
                return Err(error::aws(
                    &format!("s3:GetObject s3://{}/{key}", self.bucket),
                    e,
                ));
            }
        };
        let stored_at = out.last_modified().map_or(0, |t| t.secs());
        let body = out.body.collect().await.map_err(|e| {
            HandlerError::retryable(format!("s3:GetObject {key}: reading the body: {e}"))
        })?;
        let text = String::from_utf8(body.into_bytes().to_vec()).map_err(|_| {
            HandlerError::fatal(format!("s3://{}/{key} is not UTF-8 text", self.bucket))
        })?;
        let manifest = FactoryManifest::parse(&text).map_err(|why| {
            HandlerError::fatal(format!(
                "s3://{}/{key} is not a factory manifest: {why}",
                self.bucket
            ))
        })?;
        Ok(Some(StoredManifest {
            manifest,
            stored_at,
        }))
    }

    /// Every AMI's manifest, by AMI id.
    pub async fn manifests(&self) -> Result<Vec<StoredManifest>> {
        let mut out = Vec::new();
        for (key, _) in self.keys(module_keys::FACTORY_PREFIX).await? {
            if let Some(ami) = module_keys::manifest_ami(&key)
                && let Some(m) = self.manifest(ami).await?
            {
                out.push(m);
            }
        }
        out.sort_by(|a, b| a.manifest.ami_id.cmp(&b.manifest.ami_id));
        Ok(out)
    }

    /// Writes `manifest` (the watchdog's report for a builder it stopped; tests playing a
    /// builder).
    pub async fn put_manifest(&self, manifest: &FactoryManifest) -> Result<()> {
        self.put_json(
            &module_keys::factory_manifest(&manifest.ami_id),
            &serde_json::to_vec_pretty(manifest).expect("serializes"),
        )
        .await
    }

    async fn put_json(&self, key: &str, body: &[u8]) -> Result<()> {
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/json")
            .body(body.to_vec().into())
            .send()
            .await
            .map_err(|e| error::aws(&format!("s3:PutObject s3://{}/{key}", self.bucket), e))?;
        Ok(())
    }
}
