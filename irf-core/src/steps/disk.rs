//! The disk branch: the disk-snapshot function's steps and the disk-imaging function's step.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Case, actions};

/// A snapshot of one of the instance's volumes at some stage (original, re-encrypted and
/// shared).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VolumeSnapshot {
    /// The member's original volume.
    pub volume_id: String,
    /// Its device name on the instance (`/dev/xvda`).
    pub device: String,
    /// Id of the snapshot at this stage (`snap-...`).
    pub snapshot_id: String,
    /// Where the snapshot is.
    pub region: String,
    /// Volume size in GiB.
    pub size_gib: i32,
}

/// A snapshot copied into the security account with the security key (what is imaged).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DiskCopy {
    /// The member's original volume.
    pub volume_id: String,
    /// Its device name on the instance.
    pub device: String,
    /// Id of the copy in the security account (`snap-...`).
    pub snapshot_id: String,
    /// Region of the copy (the security account's home region).
    pub region: String,
    /// Volume size in GiB.
    pub size_gib: i32,
}

/// The answer of `CreateSnapshots`: one snapshot per attached volume.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Snapshots {
    /// The member snapshots, in the instance's region.
    pub snapshots: Vec<VolumeSnapshot>,
}

/// The answer of `ShareSnapshots`: the re-encrypted snapshots shared with the security account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Shared {
    /// The re-encrypted snapshots, in the home region.
    pub shared: Vec<VolumeSnapshot>,
}

/// The answer of `CopySnapshots`: the security account's copies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Copies {
    /// One copy per volume (the imaging map iterates over them).
    pub copies: Vec<DiskCopy>,
}

/// A request to the disk-snapshot function. Each step gets the answer of the one before it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "Action", rename_all_fields = "PascalCase")]
pub enum DiskStep {
    /// Snapshots every attached EBS volume (idempotent: a retry finds the earlier snapshots).
    CreateSnapshots {
        /// The case, from the workflow's `$.Case`.
        case: Case,
    },
    /// Ready once every snapshot completed.
    CheckSnapshots {
        /// The case, from the workflow's `$.Case`.
        case: Case,
        /// `CreateSnapshots`' answer.
        snapshots: Snapshots,
    },
    /// Re-encrypts each snapshot with the member key into the home region and shares it.
    ShareSnapshots {
        /// The case, from the workflow's `$.Case`.
        case: Case,
        /// `CreateSnapshots`' answer.
        snapshots: Snapshots,
    },
    /// Ready once every re-encrypted snapshot completed and is shared.
    CheckShared {
        /// The case, from the workflow's `$.Case`.
        case: Case,
        /// `ShareSnapshots`' answer.
        shared: Shared,
    },
    /// Copies each shared snapshot into the security account with the security key.
    CopySnapshots {
        /// The case, from the workflow's `$.Case`.
        case: Case,
        /// `ShareSnapshots`' answer.
        shared: Shared,
    },
    /// Ready once every copy completed.
    CheckCopies {
        /// The case, from the workflow's `$.Case`.
        case: Case,
        /// `CopySnapshots`' answer.
        copies: Copies,
    },
    /// Deletes the case's member snapshots, and the security copies unless the case retains
    /// them; after success and after a failure alike.
    CleanUp {
        /// The case, from the workflow's `$.Case`.
        case: Case,
        /// The branch's working data (`$.Disk`), for the record.
        #[serde(default)]
        disk: Value,
        /// Whether the branch failed.
        #[serde(default)]
        failed: bool,
        /// The failure (`{Error, Cause}`), after one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<Value>,
    },
}

impl DiskStep {
    /// The case the step works on.
    pub fn case(&self) -> &Case {
        match self {
            DiskStep::CreateSnapshots { case }
            | DiskStep::CheckSnapshots { case, .. }
            | DiskStep::ShareSnapshots { case, .. }
            | DiskStep::CheckShared { case, .. }
            | DiskStep::CopySnapshots { case, .. }
            | DiskStep::CheckCopies { case, .. }
            | DiskStep::CleanUp { case, .. } => case,
        }
    }
}

actions! {
    /// The steps of the disk-snapshot function.
    DiskAction for DiskStep {
        CreateSnapshots,
        CheckSnapshots,
        ShareSnapshots,
        CheckShared,
        CopySnapshots,
        CheckCopies,
        CleanUp,
    }
}

/// A request to the disk-imaging function. `C` is the imaging cursor, opaque to the workflow
/// (the runtime's type; [`Value`] reads any).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "Action", rename_all_fields = "PascalCase")]
pub enum ImagingStep<C = Value> {
    /// Images one security copy into the evidence bucket, one bounded run at a time: starts
    /// without a cursor, resumes from the cursor the last run returned.
    ImageSnapshot {
        /// The case, from the workflow's `$.Case`.
        case: Case,
        /// The copy to image (an item of `CopySnapshots`' answer).
        copy: DiskCopy,
        /// Where the last run stopped; `null` on the first run.
        cursor: Option<C>,
    },
}

actions! {
    /// The step of the disk-imaging function.
    ImagingAction for ImagingStep<C> { ImageSnapshot }
}
