//! Security account: imaging one copied snapshot into the evidence bucket (the workflow's
//! `ImageChunk` loop). Each invocation resumes from the cursor it is given and returns the
//! next one; `Done` ends the loop.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::aws::{Aws, env, env_flag};
use crate::error::{HandlerError, Result};
use crate::handlers::case_record::Case;
use crate::imaging::{Cursor, EbsBlocks, Imager, Job, S3Store, Settings};

/// A snapshot copied into the security account (an item of `CopySnapshots`' result).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DiskCopy {
    /// The member's original volume.
    pub volume_id: String,
    /// Its device name on the instance.
    pub device: String,
    /// The copy in the security account.
    pub snapshot_id: String,
    /// Region of the copy.
    pub region: String,
    /// Volume size in GiB.
    pub size_gib: i32,
}

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
pub fn settings() -> Settings {
    let budget = std::env::var("IRF_IMAGING_BUDGET_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600);
    Settings {
        budget: Duration::from_secs(budget),
        compress: env_flag("IRF_COMPRESS_DISK_IMAGES", false),
        ..Settings::default()
    }
}

/// Handles one `ImageSnapshot` step.
pub async fn handle(aws: &Aws, payload: Value) -> Result<Value> {
    if payload.get("Action").and_then(Value::as_str) != Some("ImageSnapshot") {
        return Err(HandlerError::Fatal(format!(
            "disk-imaging has no action {:?}",
            payload.get("Action")
        )));
    }
    let case: Case = serde_json::from_value(payload.get("Case").cloned().unwrap_or(Value::Null))
        .map_err(|e| HandlerError::Fatal(format!("ImageSnapshot without a valid Case: {e}")))?;
    let copy: DiskCopy =
        serde_json::from_value(payload.get("Copy").cloned().unwrap_or(Value::Null))
            .map_err(|e| HandlerError::Fatal(format!("ImageSnapshot without a valid Copy: {e}")))?;
    let cursor: Option<Cursor> = match payload.get("Cursor") {
        None | Some(Value::Null) => None,
        Some(c) => Some(serde_json::from_value(c.clone()).map_err(|e| {
            HandlerError::Fatal(format!("ImageSnapshot with a corrupt Cursor: {e}"))
        })?),
    };
    let settings = settings();
    let imager = Imager::new(
        EbsBlocks(aws_sdk_ebs::Client::new(&aws.here(&copy.region))),
        S3Store {
            client: aws.s3(&aws.here(&aws.home_region())),
            bucket: env("IRF_EVIDENCE_BUCKET")?,
        },
        settings.clone(),
    );
    let cursor = match cursor {
        Some(c) => c,
        None => {
            imager
                .start(Job {
                    snapshot_id: copy.snapshot_id.clone(),
                    volume_id: copy.volume_id.clone(),
                    key: image_key(&case, &copy.volume_id, settings.compress),
                    case_id: case.case_id.clone(),
                })
                .await?
        }
    };
    let cursor = imager.run(cursor).await?;
    if let Some(r) = &cursor.result {
        tracing::info!(key = %r.key, sha256 = %r.digests.sha256, bytes = r.bytes, "volume imaged and verified");
        crate::custody::Custody::from_env(aws)
            .await?
            .append(&case.case_id, record(&case, &copy, r))
            .await?;
    }
    serde_json::to_value(cursor).map_err(HandlerError::fatal)
}
