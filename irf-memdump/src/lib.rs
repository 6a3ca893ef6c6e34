//! `irf-memdump`: the memory streamer that runs on a suspect EC2 instance.
//!
//! Started by the memory-capture SSM document, it reads physical memory ([`source`]: `/proc/kcore`
//! framed as LiME by [`kcore`] and [`lime`], a LiME file, or LiME's TCP mode), hashes it (SHA-256
//! of the whole image, in order, [`hash`]) while streaming it ([`stream`]) in parts of the
//! plan's size ([`plan`]) to presigned S3 `UploadPart` URLs ([`upload`]), and prints one JSON
//! result line ([`report`]). Before the image, it uploads the running kernel's symbol bundle when
//! the plan asks for it ([`symbols`]), for the ISF the workflow builds. It never holds AWS credentials and never writes to the host's disks:
//! its only outputs are the HTTP requests, stdout and stderr. Its memory cost on the host is one
//! part buffer (the plan's `part_size`, at most 512 MiB) plus the plan.

pub mod capture;
pub mod error;
pub mod hash;
pub mod kcore;
pub mod lime;
pub mod plan;
pub mod report;
pub mod source;
pub mod stream;
pub mod symbols;
pub mod upload;

pub use error::{Error, Result};
