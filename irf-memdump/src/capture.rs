//! Local capture: the image [`crate::stream`] would upload, written instead to a file, a block
//! device or stdout (a responder's SSM session, an evidence volume attached to the instance).
//!
//! Every byte is hashed (image SHA-256 and MD5, on two threads) while the main thread writes it,
//! so the report's digests are of exactly the bytes written. A regular file is created new (an
//! existing file is never overwritten, it may be evidence); a block device is written from its
//! start. Both are flushed to stable storage before the report is printed.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileTypeExt as _;
use std::path::PathBuf;
use std::thread;
use std::time::Instant;

use crate::error::{Error, Result};
use crate::hash::ImageHasher;
use crate::lime;
use crate::source::Source;
use crate::stream::{self, Outcome};

/// Bytes read, hashed and written at a time.
pub const BLOCK: usize = 4 * stream::CHUNK;

/// Where a local capture goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// Standard output (`-`); the report then goes to standard error.
    Stdout,
    /// A new regular file, or an existing block device.
    Path(PathBuf),
}

impl Destination {
    /// `-` is standard output; anything else a path.
    pub fn parse(value: &str) -> Self {
        if value == "-" {
            Destination::Stdout
        } else {
            Destination::Path(PathBuf::from(value))
        }
    }
}

/// An opened destination.
#[derive(Debug)]
pub enum Output {
    /// Standard output.
    Stdout(io::Stdout),
    /// A file or block device, synced at the end.
    File {
        /// The opened file.
        file: File,
        /// Its path, for errors.
        path: PathBuf,
    },
}

impl Output {
    /// Opens `destination`: a regular file must not exist yet; a block device is written from
    /// its first byte.
    pub fn open(destination: &Destination) -> Result<Self> {
        let path = match destination {
            Destination::Stdout => return Ok(Output::Stdout(io::stdout())),
            Destination::Path(path) => path,
        };
        let file_error = |source| Error::File {
            path: path.clone(),
            source,
        };
        let file = match std::fs::metadata(path) {
            Ok(meta) if meta.file_type().is_block_device() => OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(file_error)?,
            Ok(_) => {
                return Err(Error::Usage(format!(
                    "{} exists; a capture never overwrites a file (choose a new path, or a block device)",
                    path.display()
                )));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .map_err(file_error)?,
            Err(e) => return Err(file_error(e)),
        };
        Ok(Output::File {
            file,
            path: path.clone(),
        })
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Output::Stdout(out) => out.lock().write_all(bytes),
            Output::File { file, .. } => file.write_all(bytes),
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        match self {
            Output::Stdout(out) => out.lock().flush(),
            Output::File { file, .. } => file.sync_all(),
        }
    }

    fn describe(&self) -> PathBuf {
        match self {
            Output::Stdout(_) => PathBuf::from("-"),
            Output::File { path, .. } => path.clone(),
        }
    }
}

/// Captures `source` into `output`; the outcome has no parts (part size 0).
pub fn run(mut source: Source, output: &mut Output) -> Result<Outcome> {
    let started = Instant::now();
    let mut buf = vec![0u8; BLOCK];
    let mut image = ImageHasher::new();
    let mut tracker = source.layout.is_none().then(lime::Tracker::new);
    let mut total: u64 = 0;
    let write_error = |output: &Output, offset: u64, source: io::Error| Error::Write {
        path: output.describe(),
        offset,
        source,
    };
    loop {
        let n = stream::read_full(&mut source.reader, &mut buf).map_err(|source| Error::Read {
            offset: total,
            source,
        })?;
        if n == 0 {
            break;
        }
        let filled = &buf[..n];
        if let Some(t) = tracker.as_mut() {
            t.observe(filled);
        }
        let ImageHasher { sha256 } = &mut image;
        let written = thread::scope(|scope| {
            scope.spawn(|| sha2::Digest::update(sha256, filled));
            output.write_all(filled)
        });
        written.map_err(|e| write_error(output, total, e))?;
        total += u64::try_from(n).expect("a block fits in u64");
        if n < buf.len() {
            break;
        }
    }
    if total == 0 {
        return Err(Error::EmptySource);
    }
    output.finish().map_err(|e| write_error(output, total, e))?;
    let (format, ranges, skipped, lime_problem) = stream::image_layout(source.layout, tracker);
    Ok(Outcome {
        source: source.kind,
        format,
        bytes: total,
        digests: image.finish(),
        part_size: 0,
        parts: Vec::new(),
        ranges,
        skipped,
        lime_problem,
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash;
    use crate::source::{self, SourceSpec};
    use std::path::Path;

    #[test]
    fn a_file_source_is_copied_and_hashed_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.raw");
        let data: Vec<u8> = (0..(BLOCK + 12_345))
            .map(|i| u8::try_from(i % 251).unwrap())
            .collect();
        std::fs::write(&input, &data).unwrap();
        let out_path = dir.path().join("out.lime");
        let spec = SourceSpec::File(input.clone());
        let src = source::open(&spec, Path::new("/proc/kcore"), Path::new("/proc/iomem")).unwrap();
        let mut out = Output::open(&Destination::Path(out_path.clone())).unwrap();
        let outcome = run(src, &mut out).unwrap();
        drop(out);
        assert_eq!(std::fs::read(&out_path).unwrap(), data);
        assert_eq!(outcome.bytes, u64::try_from(data.len()).unwrap());
        assert_eq!(outcome.digests.sha256, hash::sha256(&data));
        assert_eq!(outcome.format, "raw");
        assert!(outcome.parts.is_empty());
    }

    #[test]
    fn an_existing_file_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("evidence.lime");
        std::fs::write(&path, b"earlier capture").unwrap();
        let err = Output::open(&Destination::Path(path.clone())).unwrap_err();
        assert!(err.to_string().contains("never overwrites"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"earlier capture");
    }

    #[test]
    fn dash_is_stdout() {
        assert_eq!(Destination::parse("-"), Destination::Stdout);
        assert_eq!(
            Destination::parse("/dev/xvdf"),
            Destination::Path(PathBuf::from("/dev/xvdf"))
        );
    }
}
