//! `irf evidence image-snapshot`: images one snapshot into a bucket with the workflow's code.

use anyhow::Context as _;
use irf_runtime::imaging::{EbsBlocks, Imager, Job, S3Store, Settings};

use crate::context::Context;

/// Evidence commands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Image a snapshot into a bucket as a raw (dd) image with SHA-256 and MD5 sidecars and a
    /// per-block manifest, reading blocks with the EBS direct APIs (no instance, no volume).
    ImageSnapshot(ImageArgs),
}

/// `evidence image-snapshot`.
#[derive(Debug, clap::Args)]
pub(crate) struct ImageArgs {
    /// Account of the snapshot.
    #[arg(long, value_name = "ACCOUNT")]
    account: String,
    /// Region of the snapshot.
    #[arg(long, value_name = "REGION")]
    region: String,
    /// Snapshot id.
    #[arg(long, value_name = "ID")]
    snapshot_id: String,
    /// Destination bucket (written with the base credentials).
    #[arg(long, value_name = "BUCKET")]
    bucket: String,
    /// Region of the bucket (default: the snapshot's).
    #[arg(long, value_name = "REGION")]
    bucket_region: Option<String>,
    /// Key prefix; the image is `<prefix>/<volume-id>/<volume-id>.raw`.
    #[arg(long, value_name = "PREFIX")]
    prefix: String,
    /// The original volume id, naming the image (default: the snapshot's source volume).
    #[arg(long, value_name = "ID")]
    volume_id: Option<String>,
    /// Store gzip-compressed (`.raw.gz`; hashes stay those of the raw image).
    #[arg(long)]
    compress: bool,
}

impl Command {
    pub(crate) async fn run(&self, ctx: &Context) -> anyhow::Result<()> {
        match self {
            Command::ImageSnapshot(a) => a.run(ctx).await,
        }
    }
}

impl ImageArgs {
    async fn run(&self, ctx: &Context) -> anyhow::Result<()> {
        irf_core::model::AccountId::parse(&self.account)
            .map_err(|e| anyhow::anyhow!("--account: {e}"))?;
        if !self.snapshot_id.starts_with("snap-") {
            anyhow::bail!(
                "--snapshot-id: {:?} is not a snapshot id (snap-…)",
                self.snapshot_id
            );
        }
        let r = &ctx.responder;
        let conf = r
            .aws
            .account(&self.account, &r.role_name, &self.region)
            .await?;
        let volume = match &self.volume_id {
            Some(v) => v.clone(),
            None => {
                let out = r
                    .aws
                    .ec2(&conf)
                    .describe_snapshots()
                    .snapshot_ids(&self.snapshot_id)
                    .send()
                    .await
                    .map_err(|e| irf_runtime::error::aws("ec2:DescribeSnapshots", e))?;
                out.snapshots()
                    .first()
                    .and_then(|s| s.volume_id())
                    .filter(|v| v.starts_with("vol-"))
                    .map_or_else(|| self.snapshot_id.clone(), str::to_owned)
            }
        };
        let prefix = self.prefix.trim_matches('/');
        let mut key = format!("{prefix}/{volume}/{volume}.raw");
        if self.compress {
            key.push_str(".gz");
        }
        let bucket_region = self
            .bucket_region
            .clone()
            .unwrap_or_else(|| self.region.clone());
        let settings = Settings {
            compress: self.compress,
            ..Settings::default()
        };
        let imager = Imager::new(
            EbsBlocks(aws_sdk_ebs::Client::new(&conf)),
            S3Store {
                client: r.aws.s3(&r.aws.here(&bucket_region)),
                bucket: self.bucket.clone(),
            },
            settings,
        );
        let cursor = imager
            .image(Job {
                snapshot_id: self.snapshot_id.clone(),
                volume_id: volume,
                key,
                case_id: prefix.to_owned(),
            })
            .await?;
        let result = cursor.result.context("imaging ended without a result")?;
        if ctx.json {
            println!("{}", serde_json::to_string_pretty(&result)?);
        } else {
            println!(
                "imaged {} into s3://{}/{}",
                self.snapshot_id, self.bucket, result.key
            );
            println!(
                "  {} bytes ({} blocks read, {} zero-filled, {} KiB each)",
                result.bytes,
                result.allocated_blocks,
                result.sparse_blocks,
                result.block_size / 1024
            );
            println!("  sha256 {}", result.digests.sha256);
            println!("  md5    {}", result.digests.md5);
            println!(
                "  S3 checksum {} matches the parts written",
                result.s3_checksum
            );
            println!("  manifest s3://{}/{}", self.bucket, result.manifest_key);
        }
        Ok(())
    }
}
