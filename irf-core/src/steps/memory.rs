//! The memory branch: the memory-acquisition function's steps and the records they pass on.

pub use irf_isf::bundle::SymbolsReceipt;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Case, Ready, actions};

/// A command sent to the instance over SSM Run Command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SentCommand {
    /// SSM command id.
    pub command_id: String,
    /// The instance it runs on.
    pub instance_id: String,
}

/// The preflight's one-line JSON report (the `memory-preflight` document), as the host printed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreflightReport {
    /// `uname -m`: `x86_64` or `aarch64` pick the streamer.
    pub arch: String,
    /// `uname -r`, the kernel a LiME module must be built for.
    pub kernel: String,
    /// `/etc/os-release` `ID` (`amzn`, `ubuntu`, `debian`, `rhel`, ...).
    pub os_id: String,
    /// `/etc/os-release` `VERSION_ID` (`2023`, `22.04`, ...; `rolling` when absent).
    pub os_version_id: String,
    /// `PRETTY_NAME` with spaces as underscores, for people.
    pub os_name: String,
    /// The lockdown mode in `/sys/kernel/security/lockdown` (`none`, `integrity`,
    /// `confidentiality`) or `absent`.
    pub lockdown: String,
    /// Whether the first byte of `/proc/kcore` could be read.
    pub kcore_readable: bool,
    /// Whether the kernel refuses unsigned modules (`module.sig_enforce`).
    pub module_sig_enforce: bool,
    /// `MemTotal` of `/proc/meminfo`, KiB.
    pub mem_total_kib: u64,
    /// Free space in `/dev/shm`, KiB.
    pub shm_free_kib: u64,
    /// The method chosen (`kcore`, `lime`) or `none`.
    pub method: String,
    /// Why, per method considered.
    pub reason: String,
}

/// The method the preflight chose, and what it saw.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MethodChoice {
    /// `kcore`, `lime` or `none` (nothing usable: the branch fails and says why).
    pub method: String,
    /// Why, per method considered.
    pub reason: String,
    /// The preflight's JSON report.
    pub preflight: PreflightReport,
}

/// A capture in progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Capture {
    /// The SSM command running the capture document.
    pub command: SentCommand,
    /// `kcore` or `lime`.
    pub method: String,
    /// Why this method.
    pub reason: String,
    /// Object key of the memory image.
    pub key: String,
    /// Multipart upload id.
    pub upload_id: String,
    /// Part size in bytes.
    pub part_size: u64,
    /// Parts planned (capacity; the image uses as many as it needs).
    pub parts: u32,
    /// Where the streamer writes its receipts.
    pub receipts_key: String,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// Where the host uploads when the instance is outside the home region: that region's ingest
    /// bucket, copied server-side into the evidence bucket before verification. `None`: the host
    /// uploads into the evidence bucket itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingest: Option<Ingest>,
}

/// A capture's ingest bucket, in the instance's region (forensics account).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ingest {
    /// The instance's region.
    pub region: String,
    /// The bucket there.
    pub bucket: String,
}

/// Where the server-side copy of an ingested image into the evidence bucket stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CopyCursor {
    /// The copy's multipart upload in the evidence bucket.
    pub upload_id: String,
    /// The ingested image's version, so that every part comes from the same bytes.
    pub version_id: String,
    /// The ingested image's size.
    pub size: u64,
    /// Bytes per copied part.
    pub part_size: u64,
    /// Parts copied so far (the next is `copied + 1`).
    pub copied: u32,
}

/// The streamer's report and part receipts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Receipts {
    /// The streamer's report (`bytes`, `sha256`, `format`, ranges...).
    pub report: Value,
    /// One per part uploaded.
    pub parts: Vec<PartReceipt>,
    /// The symbol bundle uploaded before the image (absent from a streamer that was not asked
    /// for one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbols: Option<SymbolsReceipt>,
}

/// Where a memory verification stopped (one invocation re-reads what fits its time budget).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyCursor {
    /// Bytes of the image hashed so far.
    pub offset: u64,
    /// The image's size.
    pub size: u64,
    /// The SHA-256 and MD5 hashers' saved state after `offset` bytes (base64).
    pub hashes: String,
    /// While an ingested image is still being copied into the evidence bucket, where that copy
    /// stands (hashing starts once it is done).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy: Option<CopyCursor>,
}

/// What `BuildSymbols` made of the host's symbol bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Symbols {
    /// Key of the Volatility 3 ISF beside the image, when one was built.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isf_key: Option<String>,
    /// Its SHA-256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isf_sha256: Option<String>,
    /// What was built from what, or why nothing was.
    pub reason: String,
}

/// One uploaded part.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartReceipt {
    /// Part number (from 1).
    pub number: i32,
    /// ETag S3 returned for the part.
    pub etag: String,
}

/// A request to the memory-acquisition function. Each step gets the answers it needs from the
/// steps before it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "Action", rename_all_fields = "PascalCase")]
pub enum MemoryStep {
    /// Ready once SSM reports the instance's agent Online: containment swapped the instance
    /// profile, and a command sent before the agent re-registered would fail.
    AgentOnline {
        /// The case, from the workflow's `$.Case`.
        case: Case,
    },
    /// Sends the read-only preflight document to the instance.
    StartPreflight {
        /// The case, from the workflow's `$.Case`.
        case: Case,
    },
    /// Once the preflight finished: picks the method from the configured order and records why.
    PreflightResult {
        /// The case, from the workflow's `$.Case`.
        case: Case,
        /// `StartPreflight`'s answer.
        command: SentCommand,
    },
    /// Opens the multipart upload, presigns its URLs and sends the capture document.
    StartCapture {
        /// The case, from the workflow's `$.Case`.
        case: Case,
        /// `PreflightResult`'s answer.
        method: Ready<MethodChoice>,
    },
    /// Ready once the capture command finished; answers with the streamer's receipts.
    CaptureResult {
        /// The case, from the workflow's `$.Case`.
        case: Case,
        /// `StartCapture`'s answer.
        capture: Capture,
    },
    /// Completes the upload and checks the stored image against the host's hashes.
    Verify {
        /// The case, from the workflow's `$.Case`.
        case: Case,
        /// `StartCapture`'s answer.
        capture: Capture,
        /// `CaptureResult`'s answer.
        captured: Ready<Receipts>,
        /// Where the last run stopped; `null` on the first run.
        #[serde(default)]
        cursor: Option<VerifyCursor>,
    },
    /// Once the image is verified: checks the host's symbol bundle against its manifest, puts the
    /// Volatility 3 ISF beside the image (the module factory's for the kernel when it has one,
    /// else one built from the bundle), and records both, and which ISF, in the custody ledger.
    BuildSymbols {
        /// The case, from the workflow's `$.Case`.
        case: Case,
        /// `PreflightResult`'s answer: the distribution and kernel the factory's ISF is keyed by.
        method: Ready<MethodChoice>,
        /// `StartCapture`'s answer.
        capture: Capture,
        /// `CaptureResult`'s answer.
        captured: Ready<Receipts>,
    },
    /// Aborts an upload left open and cancels the capture command, after a failure.
    CleanUp {
        /// The case, from the workflow's `$.Case`.
        case: Case,
        /// The branch's working data (`$.Memory`); the capture, when one started, is at
        /// `/Capture/Result`.
        #[serde(default)]
        memory: Value,
        /// The failure (`{Error, Cause}`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<Value>,
    },
}

impl MemoryStep {
    /// The case the step works on.
    pub fn case(&self) -> &Case {
        match self {
            MemoryStep::StartPreflight { case }
            | MemoryStep::AgentOnline { case }
            | MemoryStep::PreflightResult { case, .. }
            | MemoryStep::StartCapture { case, .. }
            | MemoryStep::CaptureResult { case, .. }
            | MemoryStep::Verify { case, .. }
            | MemoryStep::BuildSymbols { case, .. }
            | MemoryStep::CleanUp { case, .. } => case,
        }
    }
}

actions! {
    /// The steps of the memory-acquisition function.
    MemoryAction for MemoryStep {
        AgentOnline,
        StartPreflight,
        PreflightResult,
        StartCapture,
        CaptureResult,
        Verify,
        BuildSymbols,
        CleanUp,
    }
}
