//! The LiME memory-image format: a sequence of ranges, each a 32-byte header followed by the
//! range's bytes.
//!
//! Header layout (all little-endian): magic `u32` `0x4C694D45` ("EMiL" on disk), version `u32` 1,
//! start address `u64`, end address `u64` (inclusive), 8 reserved zero bytes.

/// The LiME header magic.
pub const MAGIC: u32 = 0x4C69_4D45;
/// The LiME format version written and accepted.
pub const VERSION: u32 = 1;
/// Length of a LiME range header in bytes.
pub const HEADER_LEN: usize = 32;

/// A physical address range; `end` is inclusive, as in /proc/iomem and LiME headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Range {
    /// First byte address.
    pub start: u64,
    /// Last byte address (inclusive).
    pub end: u64,
}

impl Range {
    /// Number of bytes in the range (at least 1).
    pub fn size(&self) -> u64 {
        self.end - self.start + 1
    }
}

/// The 32-byte LiME header of `range`.
pub fn header(range: Range) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[0..4].copy_from_slice(&MAGIC.to_le_bytes());
    h[4..8].copy_from_slice(&VERSION.to_le_bytes());
    h[8..16].copy_from_slice(&range.start.to_le_bytes());
    h[16..24].copy_from_slice(&range.end.to_le_bytes());
    h
}

/// Parses a LiME header; `Err` says why the bytes are not one.
pub fn parse_header(h: &[u8; HEADER_LEN]) -> Result<Range, String> {
    let word = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    let quad = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&h[i..i + 8]);
        u64::from_le_bytes(b)
    };
    if word(0) != MAGIC {
        return Err(format!("bad magic {:#010x}", word(0)));
    }
    if word(4) != VERSION {
        return Err(format!("unsupported LiME version {}", word(4)));
    }
    let (start, end) = (quad(8), quad(16));
    if end < start || end - start == u64::MAX {
        return Err(format!("bad range {start:#x}-{end:#x}"));
    }
    Ok(Range { start, end })
}

/// Follows a byte stream chunk by chunk and checks whether it is well-formed LiME, collecting the
/// ranges of its headers. It only looks at the header bytes, so it costs next to nothing.
#[derive(Debug, Default)]
pub struct Tracker {
    header: Vec<u8>,
    data_left: u64,
    ranges: Vec<Range>,
    error: Option<String>,
    offset: u64,
}

impl Tracker {
    /// A tracker at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next bytes of the stream.
    pub fn observe(&mut self, mut chunk: &[u8]) {
        while !chunk.is_empty() && self.error.is_none() {
            if self.data_left > 0 {
                let n = usize::try_from(self.data_left).map_or(chunk.len(), |d| d.min(chunk.len()));
                self.data_left -= n as u64;
                self.offset += n as u64;
                chunk = &chunk[n..];
                continue;
            }
            let n = (HEADER_LEN - self.header.len()).min(chunk.len());
            self.header.extend_from_slice(&chunk[..n]);
            chunk = &chunk[n..];
            if self.header.len() == HEADER_LEN {
                let mut h = [0u8; HEADER_LEN];
                h.copy_from_slice(&self.header);
                self.header.clear();
                match parse_header(&h) {
                    Ok(range) => {
                        self.ranges.push(range);
                        self.data_left = range.size();
                        self.offset += HEADER_LEN as u64;
                    }
                    Err(why) => {
                        self.error = Some(format!("at byte {}: {why}", self.offset));
                    }
                }
            }
        }
    }

    /// Whether the stream began with a valid LiME header (so a later problem is worth reporting).
    pub fn saw_magic(&self) -> bool {
        !self.ranges.is_empty()
    }

    /// At the end of the stream: the ranges if the whole stream was well-formed LiME, else why not.
    pub fn finish(self) -> Result<Vec<Range>, String> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if !self.header.is_empty() {
            return Err(format!(
                "stream ends inside a header at byte {}",
                self.offset
            ));
        }
        if self.data_left > 0 {
            return Err(format!(
                "stream ends {} bytes short of the last range's end",
                self.data_left
            ));
        }
        if self.ranges.is_empty() {
            return Err("no LiME header".to_string());
        }
        Ok(self.ranges)
    }
}
