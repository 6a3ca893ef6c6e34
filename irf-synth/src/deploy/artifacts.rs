//! What the deployer prepares once per run and shares between stacks: the runtime asset per
//! architecture, the artifact buckets, templates too large to send inline, and the memory
//! streamers staged in the modules bucket.

use sha2::{Digest, Sha256};
use std::sync::Arc;

use super::DeployError;
use super::assets::{self, Asset};
use super::deployer::Deployer;
use crate::plan::PlannedStack;

/// CloudFormation's limit for an inline template body; larger ones go through S3.
pub const INLINE_TEMPLATE_BYTES: usize = 51_200;

impl Deployer {
    /// The runtime asset for `architecture`, built (or read) on first use.
    pub(super) async fn asset(&self, architecture: &str) -> Result<Arc<Asset>, DeployError> {
        let mut packaged = self.packaged.lock().await;
        if let Some(a) = packaged.get(architecture) {
            return Ok(a.clone());
        }
        self.reporter.info(&format!(
            "building the irf-runtime asset for {architecture}"
        ));
        let source = self.assets.clone();
        let arch = architecture.to_owned();
        let asset = tokio::task::spawn_blocking(move || assets::package(&source, &arch))
            .await
            .map_err(|e| DeployError::Asset(format!("build task: {e}")))??;
        self.reporter.info(&format!(
            "asset {} ({} bytes)",
            asset.key(),
            asset.zip.len()
        ));
        let asset = Arc::new(asset);
        packaged.insert(architecture.to_owned(), asset.clone());
        Ok(asset)
    }

    /// Ensures an artifact bucket exists (once per bucket and run).
    pub(super) async fn ensure_bucket(
        &self,
        bucket: &str,
        region: &str,
        s3: &aws_sdk_s3::Client,
        org_readers: Option<&str>,
    ) -> Result<(), DeployError> {
        let cell = {
            let mut ensured = self.ensured.lock().await;
            ensured.entry(bucket.to_owned()).or_default().clone()
        };
        cell.get_or_try_init(|| async {
            let plain_http = self
                .ctx
                .endpoint_url()
                .is_some_and(|e| e.starts_with("http://"));
            assets::ensure_bucket(s3, bucket, region, plain_http, org_readers).await
        })
        .await?;
        Ok(())
    }

    /// Uploads a template over the inline limit to the stack's artifact bucket; its URL.
    pub(super) async fn template_url(
        &self,
        s: &PlannedStack,
        template: &str,
        conf: &aws_config::SdkConfig,
    ) -> Result<Option<String>, DeployError> {
        if template.len() <= INLINE_TEMPLATE_BYTES {
            return Ok(None);
        }
        let s3 = self.ctx.s3(conf);
        self.ensure_bucket(&s.artifact_bucket, &s.region, &s3, None)
            .await?;
        let sha = hex::encode(Sha256::digest(template.as_bytes()));
        let key = format!("templates/{}/{sha}.yaml", s.name);
        assets::upload(&s3, &s.artifact_bucket, &key, template.as_bytes().to_vec()).await?;
        // CloudFormation (and the emulator, which reads its own S3) take the regional
        // virtual-hosted URL.
        let suffix = if s.region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        Ok(Some(format!(
            "https://{}.s3.{}.{suffix}/{key}",
            s.artifact_bucket, s.region
        )))
    }

    /// Stages the static tools (the memory streamer, the factory's ISF builder) for both
    /// instance architectures in the modules bucket (a package directory without one is
    /// reported: memory capture, or the factory, on such instances needs it).
    pub(super) async fn stage_streamers(
        &self,
        stack: &str,
        s3: &aws_sdk_s3::Client,
        bucket: &str,
    ) -> Result<(), DeployError> {
        for tool in assets::StaticTool::ALL {
            for arch in ["arm64", "x86_64"] {
                let source = self.assets.clone();
                let binary =
                    tokio::task::spawn_blocking(move || assets::static_tool(&source, tool, arch))
                        .await
                        .map_err(|e| {
                            DeployError::Asset(format!("building the {}: {e}", tool.what()))
                        })??;
                let what = tool.what();
                match binary {
                    Some(b) => {
                        if assets::stage_tool(s3, bucket, tool, arch, b).await? {
                            self.reporter
                                .event(stack, &format!("staged the {arch} {what} in {bucket}"));
                        }
                    }
                    None => self.reporter.event(
                        stack,
                        &format!("no {arch} {what} in the asset directory (irf-synth package --arch {arch}); instances of that architecture need it"),
                    ),
                }
            }
        }
        Ok(())
    }
}
