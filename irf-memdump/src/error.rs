//! The library's error type and the exit code each error maps to.

use std::io;
use std::path::PathBuf;

use crate::kcore::KcoreError;
use crate::plan::PlanError;

/// Exit code of a usage or plan error (bad arguments, invalid plan): retrying cannot help.
pub const EXIT_USAGE: u8 = 2;
/// Exit code of an I/O, source or upload error.
pub const EXIT_FAILURE: u8 = 1;

/// Everything that can stop a capture.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A command-line value is malformed (for example `--source`).
    #[error("{0}")]
    Usage(String),
    /// The plan is not valid JSON or fails validation.
    #[error("invalid plan: {0}")]
    Plan(#[from] PlanError),
    /// The plan could not be read or fetched.
    #[error("cannot read the plan from {what}: {reason}")]
    PlanUnreadable {
        /// The file path, or the redacted URL.
        what: String,
        /// The read or fetch error.
        reason: String,
    },
    /// /proc/kcore or /proc/iomem cannot be used.
    #[error(transparent)]
    Kcore(#[from] KcoreError),
    /// A file could not be opened or read.
    #[error("{}: {source}", path.display())]
    File {
        /// Path of the file, as given.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The TCP source could not be reached within the connect window.
    #[error("cannot connect to {addr} within {seconds} s: {source}")]
    Connect {
        /// `host:port`.
        addr: String,
        /// How long connecting was retried.
        seconds: u64,
        /// The last connect error.
        source: io::Error,
    },
    /// Reading the source failed part-way.
    #[error("reading the source failed after {offset} bytes: {source}")]
    Read {
        /// Bytes of the image read before the error.
        offset: u64,
        /// The I/O error.
        source: io::Error,
    },
    /// Writing a local capture failed part-way.
    #[error("writing {} failed after {offset} bytes: {source}", path.display())]
    Write {
        /// The destination (`-` for standard output).
        path: PathBuf,
        /// Bytes of the image written before the error.
        offset: u64,
        /// The I/O error.
        source: io::Error,
    },
    /// The source produced no bytes at all.
    #[error("the source is empty: nothing to capture")]
    EmptySource,
    /// The source holds more bytes than the plan's parts can take.
    #[error(
        "the source is longer than the plan: {parts} parts of {part_size} bytes hold {capacity} bytes, \
         {left} more bytes were left (the plan must be sized for the whole image)"
    )]
    SourceTooLong {
        /// Parts in the plan.
        parts: usize,
        /// The plan's part size.
        part_size: u64,
        /// parts × part_size.
        capacity: u64,
        /// Bytes of the source that did not fit.
        left: u64,
    },
    /// A part could not be uploaded.
    #[error("upload of part {part} failed: {reason}")]
    Upload {
        /// S3 part number, from 1.
        part: u32,
        /// Why (HTTP status and the start of the body, or the transport error).
        reason: String,
    },
    /// A file of the symbol bundle could not be uploaded.
    #[error("upload of symbol file {file} failed: {reason}")]
    SymbolUpload {
        /// The bundle file name.
        file: String,
        /// Why (HTTP status and the start of the body, or the transport error).
        reason: String,
    },
    /// The receipts could not be written after every part was uploaded.
    #[error("writing the receipts failed (every part was uploaded): {0}")]
    Receipts(String),
}

impl Error {
    /// The process exit code for this error: [`EXIT_USAGE`] for usage and plan errors,
    /// [`EXIT_FAILURE`] for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::Plan(_) => EXIT_USAGE,
            _ => EXIT_FAILURE,
        }
    }
}

/// Result with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
