//! The capture loop: read the source one part at a time, hash while reading, upload the part.
//!
//! Memory: exactly one part buffer (`part_size` bytes, 16 MiB in the Lambda's default plan, at most
//! 512 MiB) plus the plan is held; the part is read into it, hashed, PUT, and the buffer reused.
//! Parts are not uploaded while the next one is read, which would need a second buffer.
//!
//! CPU: every byte goes through one digest, the image's SHA-256 (the MD5 is the Lambda's, see
//! [`crate::hash`]). While the main thread reads the part in [`CHUNK`]-sized pieces, a scoped
//! thread hashes each piece as soon as it is in the buffer (no copy: it borrows the filled front of
//! the buffer while the reader writes to the rest), so hashing overlaps reading.

use std::io::{self, Read};
use std::sync::mpsc;
use std::thread;
use std::time::Instant;

use sha2::Digest as _;

use crate::error::{Error, Result};
use crate::hash::{ImageDigests, ImageHasher};
use crate::kcore::{Layout, Skipped};
use crate::lime::{self, Range};
use crate::plan::Plan;
use crate::source::Source;
use crate::upload::{Client, PartReceipt};

/// Bytes read per `read` call (and handed to the hashing threads at a time).
pub const CHUNK: usize = 4 << 20;

/// What was captured and uploaded.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// `kcore`, `file` or `tcp`.
    pub source: &'static str,
    /// `lime` when the image is well-formed LiME, `raw` otherwise.
    pub format: &'static str,
    /// Image length in bytes.
    pub bytes: u64,
    /// SHA-256 of the image.
    pub digests: ImageDigests,
    /// The part size of the plan.
    pub part_size: u64,
    /// One receipt per uploaded part, in part order.
    pub parts: Vec<PartReceipt>,
    /// The LiME ranges of the image.
    pub ranges: Vec<Range>,
    /// RAM that is not in the image (kcore only).
    pub skipped: Vec<Skipped>,
    /// Why a `file:`/`tcp:` stream that starts like LiME is not well-formed LiME.
    pub lime_problem: Option<String>,
    /// Wall time from the first read to the last part's receipt.
    pub seconds: f64,
}

/// Streams `source` through `plan`'s part URLs with `client`.
///
/// Fails before reading when the source's known length exceeds the plan's capacity, and after
/// the plan's last part when a stream of unknown length has bytes left (counting them to the end).
pub fn run(mut source: Source, plan: &Plan, client: &Client) -> Result<Outcome> {
    let started = Instant::now();
    let too_long = |left: u64| Error::SourceTooLong {
        parts: plan.parts.len(),
        part_size: plan.part_size,
        capacity: plan.capacity(),
        left,
    };
    match source.len {
        Some(0) => return Err(Error::EmptySource),
        Some(len) if len > plan.capacity() => return Err(too_long(len - plan.capacity())),
        _ => {}
    }
    let part_size = usize::try_from(plan.part_size).expect("part_size is at most 512 MiB");
    let buf_len = source.len.map_or(part_size, |len| {
        part_size.min(usize::try_from(len).unwrap_or(part_size))
    });
    let mut buf = vec![0u8; buf_len];
    let mut image = ImageHasher::new();
    let mut tracker = source.layout.is_none().then(lime::Tracker::new);
    let mut receipts = Vec::new();
    let mut total: u64 = 0;

    for (index, part) in plan.parts.iter().enumerate() {
        let filled = read_part(
            &mut source.reader,
            &mut buf,
            &mut image,
            tracker.as_mut(),
            total,
        )?;
        if filled == 0 {
            break;
        }
        let last_in_plan = index + 1 == plan.parts.len();
        if last_in_plan && filled == part_size {
            let left = count_rest(&mut source.reader, total + filled as u64)?;
            if left > 0 {
                return Err(too_long(left));
            }
        }
        receipts.push(client.put_part(part.number, &part.url, &buf[..filled])?);
        total += filled as u64;
        if filled < buf.len() {
            break;
        }
    }
    if total == 0 {
        return Err(Error::EmptySource);
    }

    let (format, ranges, skipped, lime_problem) = image_layout(source.layout, tracker);
    Ok(Outcome {
        source: source.kind,
        format,
        bytes: total,
        digests: image.finish(),
        part_size: plan.part_size,
        parts: receipts,
        ranges,
        skipped,
        lime_problem,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The image's format, LiME ranges, skipped RAM and, for a stream that starts like LiME but is
/// not well-formed, why: from the kcore layout when the image was framed here, else from what
/// `tracker` saw pass by.
pub(crate) fn image_layout(
    layout: Option<Layout>,
    tracker: Option<lime::Tracker>,
) -> (&'static str, Vec<Range>, Vec<Skipped>, Option<String>) {
    match (layout, tracker) {
        (Some(layout), _) => ("lime", layout.ranges(), layout.skipped, None),
        (None, Some(tracker)) => {
            let looks_like_lime = tracker.saw_magic();
            match tracker.finish() {
                Ok(ranges) => ("lime", ranges, Vec::new(), None),
                Err(why) => (
                    "raw",
                    Vec::new(),
                    Vec::new(),
                    looks_like_lime.then_some(why),
                ),
            }
        }
        (None, None) => ("raw", Vec::new(), Vec::new(), None),
    }
}

/// Fills `buf` from `reader` (stopping early only at EOF) while a thread feeds what has been read
/// to the image's SHA-256. Returns the bytes read. `offset` is the image offset of the part, for
/// error messages.
pub fn read_part(
    reader: &mut dyn Read,
    buf: &mut [u8],
    image: &mut ImageHasher,
    mut tracker: Option<&mut lime::Tracker>,
    offset: u64,
) -> Result<usize> {
    let ImageHasher { sha256 } = image;
    thread::scope(|scope| -> Result<usize> {
        let (sha_tx, sha_rx) = mpsc::channel::<&[u8]>();
        scope.spawn(move || feed(sha_rx, |c| sha256.update(c)));

        let mut rest: &mut [u8] = buf;
        let mut filled = 0usize;
        while !rest.is_empty() {
            let want = rest.len().min(CHUNK);
            let n = read_full(reader, &mut rest[..want]).map_err(|source| Error::Read {
                offset: offset + filled as u64,
                source,
            })?;
            if n == 0 {
                break;
            }
            let (done, tail) = std::mem::take(&mut rest).split_at_mut(n);
            let done: &[u8] = done;
            if let Some(t) = tracker.as_deref_mut() {
                t.observe(done);
            }
            // The receiver only stops early if the hashing thread panicked; the scope re-raises that.
            let _ = sha_tx.send(done);
            filled += n;
            rest = tail;
            if n < want {
                break;
            }
        }
        Ok(filled)
        // Leaving the closure drops the sender; the scope joins the thread once it drained.
    })
}

fn feed(rx: mpsc::Receiver<&[u8]>, mut update: impl FnMut(&[u8])) {
    for chunk in rx {
        update(chunk);
    }
}

/// Reads until `buf` is full or EOF; returns the bytes read.
pub(crate) fn read_full(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match reader.read(&mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Reads the source to its end and counts the bytes (`offset` is where it starts, for errors).
fn count_rest(reader: &mut dyn Read, offset: u64) -> Result<u64> {
    let mut scratch = vec![0u8; 1 << 16];
    let mut left = 0u64;
    loop {
        match reader.read(&mut scratch) {
            Ok(0) => return Ok(left),
            Ok(n) => left += n as u64,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(Error::Read {
                    offset: offset + left,
                    source,
                });
            }
        }
    }
}
