//! Security account: imaging one copied snapshot into the evidence bucket (the workflow's
//! `ImageChunk` loop). Each invocation resumes from the cursor it is given and returns the
//! next one; `Done` ends the loop.

use std::time::Duration;

use irf_core::env::{DiskImagingEnv, flag};
use irf_core::handler::Handler;
use irf_core::steps::{Case, DiskCopy, ImagingStep};
use serde_json::Value;

use crate::aws::Aws;
use crate::error::{HandlerError, Result};
use crate::imaging::{BlockSource, Cursor, EbsBlocks, Imager, Job, ObjectStore, S3Store, Settings};

/// The object key of a volume's image.
pub fn image_key(case: &Case, volume_id: &str, compress: bool) -> String {
    let raw = irf_core::contract::evidence_keys::disk_image(
        &case.case_id,
        &case.account,
        &case.instance_id,
        volume_id,
    );
    if compress { format!("{raw}.gz") } else { raw }
}

/// The custody record of an imaged volume.
pub fn record(case: &Case, copy: &DiskCopy, r: &crate::imaging::Imaged) -> crate::custody::Record {
    let sources = [
        ("account", case.account.as_str()),
        ("region", case.region.as_str()),
        ("instance", case.instance_id.as_str()),
        ("volume", copy.volume_id.as_str()),
        ("device", copy.device.as_str()),
        ("snapshot", copy.snapshot_id.as_str()),
        ("snapshot_region", copy.region.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    crate::custody::Record {
        id: format!("disk-imaged:{}", copy.volume_id),
        action: "disk-imaged".to_owned(),
        artifact: Some(r.artifact()),
        sources,
        method: Some("ebs-direct".to_owned()),
        reason: Some(format!(
            "{} blocks read and checked against EBS checksums, {} zero-filled; S3 composite checksum {} verified",
            r.allocated_blocks, r.sparse_blocks, r.s3_checksum
        )),
        started_at: Some(r.started_at.clone()),
    }
}

/// Imaging settings from the function's environment.
pub fn settings(env: &DiskImagingEnv) -> Settings {
    let budget = env
        .imaging_budget_seconds
        .as_deref()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600);
    Settings {
        budget: Duration::from_secs(budget),
        compress: flag(env.compress_disk_images.as_deref(), false),
        ..Settings::default()
    }
}

/// Handles one `ImageSnapshot` step (configuration from the process environment).
pub async fn handle(aws: &Aws, payload: Value) -> Result<Value> {
    let request = super::request::<ImagingStep<Cursor>>(Handler::DiskImaging, &payload)?;
    let ImagingStep::ImageSnapshot { copy, .. } = &request;
    let env = DiskImagingEnv::from_env().map_err(HandlerError::fatal)?;
    let settings = settings(&env);
    let compress = settings.compress;
    let imager = Imager::new(
        EbsBlocks(aws_sdk_ebs::Client::new(&aws.here(&copy.region))),
        S3Store {
            client: aws.s3(&aws.here(&aws.home_region())),
            bucket: env.evidence_bucket.clone(),
        },
        settings,
    );
    let custody =
        crate::custody::Custody::connect(aws, &env.evidence_bucket, &env.custody_key_arn).await?;
    run(&imager, compress, &custody, request).await
}

/// Runs one `ImageSnapshot` step with `imager` (any block source and store), recording the
/// finished image in the case's custody ledger; `compress` names the image `.raw.gz`.
pub async fn run<B: BlockSource, S: ObjectStore>(
    imager: &Imager<B, S>,
    compress: bool,
    custody: &crate::custody::Custody,
    request: ImagingStep<Cursor>,
) -> Result<Value> {
    let ImagingStep::ImageSnapshot { case, copy, cursor } = request;
    let cursor = match cursor {
        Some(c) => c,
        None => {
            imager
                .start(Job {
                    snapshot_id: copy.snapshot_id.clone(),
                    volume_id: copy.volume_id.clone(),
                    key: image_key(&case, &copy.volume_id, compress),
                    case_id: case.case_id.clone(),
                })
                .await?
        }
    };
    let cursor = imager.run(cursor).await?;
    if let Some(r) = &cursor.result {
        tracing::info!(key = %r.key, sha256 = %r.digests.sha256, bytes = r.bytes, "volume imaged and verified");
        custody
            .append(&case.case_id, record(&case, &copy, r))
            .await?;
    }
    serde_json::to_value(cursor).map_err(HandlerError::fatal)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The workflow passes the cursor a run returned to the next run: the fixture's cursor is
    /// this engine's.
    #[test]
    fn a_resumed_request_carries_the_engines_cursor() {
        let json: Value = serde_json::from_str(include_str!(
            "../../../irf-core/tests/fixtures/step-imaging-image-snapshot-resumed.json"
        ))
        .unwrap();
        let request: ImagingStep<Cursor> = serde_json::from_value(json.clone()).unwrap();
        let ImagingStep::ImageSnapshot { cursor, .. } = &request;
        assert_eq!(cursor.as_ref().map(|c| c.next_block), Some(4096));
        assert_eq!(serde_json::to_value(&request).unwrap(), json);
    }
}
