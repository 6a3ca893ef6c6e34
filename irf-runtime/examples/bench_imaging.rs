//! Benchmark of the imaging pipeline (read → verify → hash → part upload) without the network:
//! blocks come from memory with their SHA-256 as EBS sends them, parts go to a store that keeps
//! only their checksums. Run by `scripts/bench imaging`, which also times the baseline pipeline
//! `dd | tee >(gzip) >(md5sum) | sha256sum` on the same bytes (written to the path given).
//!
//! `cargo run --release -p irf-runtime --example bench_imaging -- IMAGE_PATH [GIB]`

use std::sync::Mutex;
use std::time::Instant;

use irf_runtime::digests;
use irf_runtime::error::Result;
use irf_runtime::imaging::{
    BlockData, BlockPage, BlockSource, Imager, Job, ObjectStore, Settings, StoredPart,
};

const BLOCK: u64 = 512 * 1024;

/// Blocks held in memory: every other 512 KiB block allocated (random bytes), the rest sparse.
struct MemoryBlocks {
    gib: u64,
    blocks: Vec<(u64, bytes::Bytes, String)>,
}

impl MemoryBlocks {
    fn new(gib: u64) -> Self {
        let total = gib * 1024 * 1024 * 1024 / BLOCK;
        let mut x = 0x9E37_79B9_7F4A_7C15_u64;
        let blocks = (0..total)
            .filter(|i| i % 2 == 0)
            .map(|i| {
                let data: Vec<u8> = (0..BLOCK)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        x.to_le_bytes()[3]
                    })
                    .collect();
                let sum = digests::b64(&digests::sha256(&data));
                (i, bytes::Bytes::from(data), sum)
            })
            .collect();
        MemoryBlocks { gib, blocks }
    }

    /// The raw image the snapshot stands for.
    fn write_image(&self, path: &str) -> std::io::Result<()> {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
        let zeros = vec![0u8; usize::try_from(BLOCK).unwrap()];
        let total = self.gib * 1024 * 1024 * 1024 / BLOCK;
        let mut next = self.blocks.iter().peekable();
        for i in 0..total {
            match next.peek() {
                Some((j, data, _)) if *j == i => {
                    f.write_all(data)?;
                    next.next();
                }
                _ => f.write_all(&zeros)?,
            }
        }
        f.flush()
    }
}

impl BlockSource for MemoryBlocks {
    async fn list(
        &self,
        _snapshot: &str,
        start: u64,
        next_token: Option<String>,
    ) -> Result<BlockPage> {
        let from = next_token.map_or(start, |t| t.parse().unwrap_or(start));
        let page: Vec<(u64, String)> = self
            .blocks
            .iter()
            .filter(|(i, _, _)| *i >= from)
            .take(10_000)
            .map(|(i, _, _)| (*i, i.to_string()))
            .collect();
        let next_token = (page.len() == 10_000).then(|| (page[page.len() - 1].0 + 1).to_string());
        Ok(BlockPage {
            blocks: page,
            volume_gib: self.gib,
            block_size: BLOCK,
            next_token,
        })
    }

    async fn get(&self, _snapshot: &str, index: u64, _token: &str) -> Result<BlockData> {
        let (_, data, sum) = &self.blocks[usize::try_from(index / 2).unwrap_or(0)];
        Ok(BlockData {
            data: data.clone(),
            checksum: Some((sum.clone(), "SHA256".into())),
        })
    }
}

/// Keeps the parts' checksums and the small objects, drops the part bytes.
#[derive(Default)]
struct ChecksumStore {
    parts: Mutex<Vec<[u8; 32]>>,
    objects: Mutex<std::collections::BTreeMap<String, Vec<u8>>>,
}

impl ObjectStore for ChecksumStore {
    async fn create_upload(&self, _key: &str, _metadata: &[(&str, &str)]) -> Result<String> {
        Ok("bench-upload".into())
    }

    async fn upload_part(
        &self,
        _key: &str,
        _upload: &str,
        number: i32,
        body: bytes::Bytes,
        sha256_b64: &str,
    ) -> Result<String> {
        let sha = digests::from_b64(sha256_b64)?;
        let mut parts = self.parts.lock().unwrap_or_else(|e| e.into_inner());
        parts.resize(usize::try_from(number).unwrap_or(0), [0; 32]);
        parts[usize::try_from(number - 1).unwrap_or(0)].copy_from_slice(&sha);
        Ok(format!("\"{}\"", body.len()))
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>> {
        Ok(self
            .objects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
            .unwrap_or_default())
    }

    async fn complete(&self, _key: &str, _upload: &str, _parts: Vec<StoredPart>) -> Result<()> {
        Ok(())
    }

    async fn checksum(&self, _key: &str) -> Result<Option<String>> {
        let parts = self.parts.lock().unwrap_or_else(|e| e.into_inner());
        let joined: Vec<u8> = parts.iter().flatten().copied().collect();
        Ok(Some(format!(
            "{}-{}",
            digests::b64(&digests::sha256(&joined)),
            parts.len()
        )))
    }

    async fn put(&self, key: &str, body: Vec<u8>, _content_type: &str) -> Result<()> {
        self.objects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.to_owned(), body);
        Ok(())
    }
}

/// CPU seconds (user + system) of this process so far, from /proc.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: bench_imaging IMAGE_PATH [GIB]");
    let gib: u64 = args.next().and_then(|g| g.parse().ok()).unwrap_or(1);
    let source = MemoryBlocks::new(gib);
    source.write_image(&path).expect("writes the raw image");
    let imager = Imager::new(source, ChecksumStore::default(), Settings::default());
    let cpu = cpu_seconds();
    let began = Instant::now();
    let done = imager
        .image(Job {
            snapshot_id: "snap-bench".into(),
            volume_id: "vol-bench".into(),
            key: "BENCH/vol-bench/vol-bench.raw".into(),
            case_id: "BENCH".into(),
        })
        .await
        .expect("imaging succeeds");
    let wall = began.elapsed().as_secs_f64();
    let cores = (cpu_seconds() - cpu) / wall;
    let r = done.result.expect("result");
    println!("{wall:.3} {cores:.2} {}", r.digests.sha256);
}
