//! Blocks from the EBS direct APIs.

use super::{BlockData, BlockPage, BlockSource};
use crate::error::{self, HandlerError, Result};

/// The size of every EBS direct API block (documented as fixed). The emulator reports 512 in
/// `ListSnapshotBlocks` while serving 512 KiB blocks, so the documented size is used and a block
/// of any other length fails verification loudly.
pub const EBS_BLOCK_SIZE: u64 = 512 * 1024;

/// The EBS direct APIs in the snapshot's account and region.
#[derive(Debug)]
pub struct EbsBlocks(pub aws_sdk_ebs::Client);

impl BlockSource for EbsBlocks {
    async fn list(
        &self,
        snapshot: &str,
        start: u64,
        next_token: Option<String>,
    ) -> Result<BlockPage> {
        let out = self
            .0
            .list_snapshot_blocks()
            .snapshot_id(snapshot)
            .starting_block_index(i32::try_from(start).map_err(HandlerError::fatal)?)
            .max_results(10_000)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| error::aws(&format!("ebs:ListSnapshotBlocks {snapshot}"), e))?;
        Ok(BlockPage {
            blocks: out
                .blocks()
                .iter()
                .filter_map(|b| {
                    Some((
                        u64::try_from(b.block_index()?).ok()?,
                        b.block_token()?.to_owned(),
                    ))
                })
                .collect(),
            volume_gib: out
                .volume_size()
                .and_then(|v| u64::try_from(v).ok())
                .unwrap_or(0),
            block_size: match out.block_size().and_then(|v| u64::try_from(v).ok()) {
                Some(EBS_BLOCK_SIZE) | None => EBS_BLOCK_SIZE,
                Some(other) => {
                    tracing::warn!(
                        snapshot,
                        reported = other,
                        "ListSnapshotBlocks reports an unexpected block size; using the documented 512 KiB"
                    );
                    EBS_BLOCK_SIZE
                }
            },
            next_token: out.next_token().map(str::to_owned),
        })
    }

    async fn get(&self, snapshot: &str, index: u64, token: &str) -> Result<BlockData> {
        let out = self
            .0
            .get_snapshot_block()
            .snapshot_id(snapshot)
            .block_index(i32::try_from(index).map_err(HandlerError::fatal)?)
            .block_token(token)
            .send()
            .await
            .map_err(|e| error::aws(&format!("ebs:GetSnapshotBlock {snapshot} {index}"), e))?;
        let checksum = match (out.checksum(), out.checksum_algorithm()) {
            (Some(c), Some(a)) => Some((c.to_owned(), a.as_str().to_owned())),
            _ => None,
        };
        let data = out
            .block_data
            .collect()
            .await
            .map_err(|e| {
                HandlerError::retryable(format!(
                    "ebs:GetSnapshotBlock {snapshot} {index}: reading the body: {e}"
                ))
            })?
            .into_bytes();
        Ok(BlockData { data, checksum })
    }
}
