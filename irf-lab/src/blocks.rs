//! **Stand-in for the EBS direct APIs on EC2-made snapshots** (the emulator answers
//! `ListSnapshotBlocks` on them with a 500): the blocks of a snapshot are read from a local raw
//! image, as `ListSnapshotBlocks`/`GetSnapshotBlock` serve them: 512 KiB blocks, all-zero blocks
//! not allocated, each with its base64 SHA-256, and the snapshot's volume size in GiB (blocks past
//! the file's end are unallocated too). The imager on top is the workflow's own.

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine as _;
use irf_runtime::error::{HandlerError, Result};
use irf_runtime::imaging::{BlockData, BlockPage, BlockSource, EBS_BLOCK_SIZE};
use sha2::{Digest, Sha256};

/// Blocks per listed page, as `ListSnapshotBlocks` pages them.
const PAGE: usize = 1_000;

/// A snapshot's blocks from a local raw image (see the module doc).
#[derive(Debug)]
pub struct FileBlocks {
    /// Snapshot id → (raw image, volume size in GiB).
    pub snapshots: BTreeMap<String, (PathBuf, u64)>,
}

impl FileBlocks {
    fn image(&self, snapshot: &str) -> Result<&(PathBuf, u64)> {
        self.snapshots.get(snapshot).ok_or_else(|| {
            HandlerError::fatal(format!(
                "ebs: snapshot {snapshot} is not known to the stand-in"
            ))
        })
    }

    fn read(path: &PathBuf, index: u64) -> Result<Vec<u8>> {
        use std::io::{Read, Seek, SeekFrom};
        let mut f = std::fs::File::open(path)
            .map_err(|e| HandlerError::fatal(format!("{}: {e}", path.display())))?;
        let mut block = Vec::with_capacity(usize::try_from(EBS_BLOCK_SIZE).unwrap_or(0));
        f.seek(SeekFrom::Start(index * EBS_BLOCK_SIZE))
            .and_then(|_| f.take(EBS_BLOCK_SIZE).read_to_end(&mut block))
            .map_err(|e| HandlerError::fatal(format!("{}: {e}", path.display())))?;
        block.resize(usize::try_from(EBS_BLOCK_SIZE).unwrap_or(0), 0);
        Ok(block)
    }
}

impl BlockSource for FileBlocks {
    async fn list(
        &self,
        snapshot: &str,
        start: u64,
        next_token: Option<String>,
    ) -> Result<BlockPage> {
        let (path, volume_gib) = self.image(snapshot)?;
        let from = match next_token {
            Some(t) => t
                .parse()
                .map_err(|_| HandlerError::fatal(format!("ebs: bad page token {t}")))?,
            None => start,
        };
        let len = std::fs::metadata(path)
            .map_err(|e| HandlerError::fatal(format!("{}: {e}", path.display())))?
            .len();
        let last = len
            .div_ceil(EBS_BLOCK_SIZE)
            .min(volume_gib * (1 << 30) / EBS_BLOCK_SIZE);
        let mut blocks = Vec::new();
        let mut index = from;
        while index < last && blocks.len() < PAGE {
            if Self::read(path, index)?.iter().any(|b| *b != 0) {
                blocks.push((index, index.to_string()));
            }
            index += 1;
        }
        Ok(BlockPage {
            blocks,
            volume_gib: *volume_gib,
            block_size: EBS_BLOCK_SIZE,
            next_token: (index < last).then(|| index.to_string()),
        })
    }

    async fn get(&self, snapshot: &str, index: u64, _token: &str) -> Result<BlockData> {
        let (path, _) = self.image(snapshot)?;
        let data = Self::read(path, index)?;
        let checksum = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&data));
        Ok(BlockData {
            data: bytes::Bytes::from(data),
            checksum: Some((checksum, "SHA256".to_owned())),
        })
    }
}
