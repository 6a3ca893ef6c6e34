//! The cross-stack and runbook contract: every fixed name, tag and key layout that other stacks,
//! the runtime handlers and existing runbooks depend on.
//!
//! These names are fixed, so that SOC runbooks, IAM policies written around them and muscle
//! memory (`aws ec2 create-tags ... SecurityIncidentStatus=Contain`) keep working. Nothing else in
//! the workspace spells these strings out: templates and handlers import them from here. The other
//! halves of the contract between templates and handlers are typed: the workflows' step requests
//! in [`crate::steps`], the events the handlers receive in [`crate::events`], and each handler's
//! environment in [`crate::env`].

/// Tag key whose value triggers the automation on an EC2 instance.
pub const INCIDENT_STATUS_TAG: &str = "SecurityIncidentStatus";

/// Tag value that starts evidence acquisition (case-sensitive).
pub const STATUS_ANALYZE: &str = "Analyze";

/// Tag value that isolates the instance (case-sensitive).
pub const STATUS_CONTAIN: &str = "Contain";

/// Tag key marking resources created by an acquisition; IAM conditions gate deletes on it.
pub const ACQUISITION_TAG: &str = "ir-acquisition";

/// The value acquisition resources carry under [`ACQUISITION_TAG`]; the IAM conditions that
/// gate creating, copying, sharing and deleting case snapshots compare against it.
pub const ACQUISITION_TAG_VALUE: &str = "True";

/// Tag key carrying the case id on every resource an acquisition creates.
pub const CASE_ID_TAG: &str = "case-id";

/// Tag key naming the acquisition step that made a snapshot (`original`, `shared`, `evidence`).
pub const SNAPSHOT_STAGE_TAG: &str = "irf-stage";

/// Tag key naming the member volume a snapshot descends from.
pub const SOURCE_VOLUME_TAG: &str = "irf-source-volume";

/// Role assumed by the security account in every member account.
pub const IR_AUTOMATION_ROLE: &str = "IRAutomation";

/// Security-account role of the disk-acquisition Lambda functions.
pub const SNAPSHOT_AUTOMATION_ROLE: &str = "SnapshotAutomationLambdaRole";

/// Security-account role of the memory-acquisition Lambda functions.
pub const MEMORY_AUTOMATION_ROLE: &str = "MemoryAutomationLambdaRole";

/// Security-account role of the case-record functions (custody ledger, final containment tag).
pub const CASE_RECORD_ROLE: &str = "IRCaseRecordRole";

/// Forensics-account analyst instance role with read-only evidence access.
pub const ANALYST_READ_ONLY_ROLE: &str = "AnalysisEC2InstanceRoleS3ReadOnly";

/// Forensics-account analyst instance role that may also write analysis results.
pub const ANALYST_READ_WRITE_ROLE: &str = "AnalysisEC2InstanceRoleS3ReadWrite";

/// Principal tag that marks the evidence custodian allowed to lift Object Lock (break-glass).
pub const EVIDENCE_CUSTODIAN_TAG: &str = "irf-evidence-custodian";

/// Security-account role of the Security Hub custom-action Lambda function.
pub const SECURITY_HUB_ACTION_ROLE: &str = "SecurityHubCustomActionLambdaRole";

/// Member-account KMS alias used to re-encrypt snapshots before sharing them.
pub const MEMBER_EBS_KEY_ALIAS: &str = "alias/ir/ebs";

/// Security-account KMS alias used for the security copies of evidence snapshots.
pub const SECURITY_KEY_ALIAS: &str = "alias/ir/sec";

/// Forensics-account KMS alias protecting the evidence bucket.
pub const EVIDENCE_KEY_ALIAS: &str = "alias/ir/evidence";

/// Forensics-account KMS alias, in every member region other than the home region, of the key
/// protecting that region's ingest bucket (memory captures land there, in the instance's region,
/// before the server-side copy into the evidence bucket).
pub const INGEST_KEY_ALIAS: &str = "alias/ir/ingest";

/// Forensics-account KMS alias of the asymmetric key that signs custody ledgers.
pub const CUSTODY_SIGNING_KEY_ALIAS: &str = "alias/ir/custody";

/// Member-account instance profile attached to an instance under analysis (SSM only).
pub const IR_INSTANCE_PROFILE: &str = "IRInstanceProfile";

/// Member-account instance profile whose role denies everything (containment).
pub const ISOLATION_INSTANCE_PROFILE: &str = "IRIsolationInstanceProfile";

/// Name of the isolation security group created per VPC on containment.
pub const ISOLATION_SECURITY_GROUP: &str = "security_isolate";

/// Tag key on the framework's security groups: IAM lets the member tag handler shape only the
/// groups carrying it with [`ISOLATION_TAG_VALUE`].
pub const ISOLATION_TAG: &str = "irf:isolation";

/// The value the framework's security groups carry under [`ISOLATION_TAG`] (the condition in the
/// tag handler's policy compares against it).
pub const ISOLATION_TAG_VALUE: &str = "true";

/// Prefix of the inline role policy that revokes the sessions a contained instance's role
/// issued; the instance id follows ([`revocation_policy_name`]).
pub const REVOCATION_POLICY_PREFIX: &str = "irf-revoke-";

/// The revocation policy of one instance: `irf-revoke-<InstanceId>`.
pub fn revocation_policy_name(instance_id: &str) -> String {
    format!("{REVOCATION_POLICY_PREFIX}{instance_id}")
}

/// Id of the Security Hub custom action (the last part of the action target's ARN).
pub const SECURITY_HUB_ACTION_ID: &str = "SHResponseIsolate";

/// The case workflow (disk and memory, then containment), behind the org prefix.
pub const CASE_STATE_MACHINE: &str = "DiskAndMemAcquisition";

/// Prefix of Step Functions execution names; the case id follows (the idempotency key).
pub const EXECUTION_NAME_PREFIX: &str = "sf-forensics-";

/// EventBridge `source` of incident requests a member sends to the security account's bus.
pub const INCIDENT_EVENT_SOURCE: &str = "irf.member";

/// EventBridge `detail-type` of incident requests.
pub const INCIDENT_EVENT_DETAIL_TYPE: &str = "IRF Incident Requested";

/// Name of the member-account SSM parameter prefix holding pre-containment state records.
pub const PRIOR_STATE_PARAMETER_PREFIX: &str = "containment";

/// Names of the member-account SSM documents, after the org prefix.
pub mod documents {
    /// Read-only preflight: reports what the instance allows and picks the capture method.
    pub const MEMORY_PREFLIGHT: &str = "MemoryPreflight";
    /// Capture: streams the memory image to the evidence bucket through presigned URLs.
    pub const MEMORY_CAPTURE: &str = "MemoryCapture";
}

/// S3 key layout of the evidence bucket, shared by the workflows and the responder CLI.
pub mod evidence_keys {
    /// Directory of one instance's artifacts: `<CaseId>/<Account>/<InstanceId>/`.
    pub fn instance_prefix(case_id: &str, account: &str, instance_id: &str) -> String {
        format!("{case_id}/{account}/{instance_id}/")
    }

    /// Raw disk image of one volume: `<CaseId>/<Account>/<InstanceId>/<VolumeId>/<VolumeId>.raw`.
    /// `VolumeId` is the member account's original volume id, not the id of a copy.
    pub fn disk_image(case_id: &str, account: &str, instance_id: &str, volume_id: &str) -> String {
        format!(
            "{}{volume_id}/{volume_id}.raw",
            instance_prefix(case_id, account, instance_id)
        )
    }

    /// Memory image: `<CaseId>/<Account>/<InstanceId>/memory/<InstanceId>.lime`.
    pub fn memory_image(case_id: &str, account: &str, instance_id: &str) -> String {
        format!(
            "{}memory/{instance_id}.lime",
            instance_prefix(case_id, account, instance_id)
        )
    }

    /// The running kernel's symbol bundle uploaded beside the memory image, one object per file:
    /// `<CaseId>/<Account>/<InstanceId>/memory/symbols/` + the bundle's file name.
    pub fn memory_symbols(case_id: &str, account: &str, instance_id: &str) -> String {
        format!(
            "{}memory/symbols/",
            instance_prefix(case_id, account, instance_id)
        )
    }

    /// The Volatility 3 symbol table built for the memory image:
    /// `<CaseId>/<Account>/<InstanceId>/memory/<InstanceId>.isf.json.xz` (a directory holding it
    /// is what `vol -s` takes).
    pub fn memory_isf(case_id: &str, account: &str, instance_id: &str) -> String {
        format!(
            "{}memory/{instance_id}.isf.json.xz",
            instance_prefix(case_id, account, instance_id)
        )
    }

    /// Hash sidecar of an artifact (`.sha256` or `.md5`), in `sha256sum` format.
    pub fn sidecar(artifact_key: &str, algorithm: &str) -> String {
        format!("{artifact_key}.{algorithm}")
    }

    /// The case's custody ledger (JSON lines, hash chained).
    pub fn custody_ledger(case_id: &str) -> String {
        format!("{case_id}/custody/ledger.jsonl")
    }

    /// Prior-state record written before containment changes anything.
    pub fn prior_state(case_id: &str, account: &str, instance_id: &str) -> String {
        format!(
            "{}containment/prior-state.json",
            instance_prefix(case_id, account, instance_id)
        )
    }
}

/// S3 key layout of the memory-modules bucket (the module factory writes it, the memory
/// workflow reads it).
pub mod module_keys {
    /// LiME module for one distribution release and kernel:
    /// `<ID>/<VERSION_ID>/<kernel>/lime-<kernel>.ko`, from `/etc/os-release` and `uname -r`
    /// (a display name such as `PRETTY_NAME` changes with point releases; these do not).
    pub fn lime_module(os_id: &str, os_version_id: &str, kernel: &str) -> String {
        format!("{os_id}/{os_version_id}/{kernel}/lime-{kernel}.ko")
    }

    /// The ISF the factory built for one kernel, beside its module:
    /// `<ID>/<VERSION_ID>/<kernel>/<kernel>.isf.json.xz`.
    pub fn isf(os_id: &str, os_version_id: &str, kernel: &str) -> String {
        format!("{os_id}/{os_version_id}/{kernel}/{kernel}.isf.json.xz")
    }

    /// Where the factory's documents live.
    pub const FACTORY_PREFIX: &str = "factory/";
    /// Where AMIs added outside org.toml are listed, one object each.
    pub const FACTORY_REQUESTS_PREFIX: &str = "factory/requests/";

    /// An AMI's builder manifest: `factory/<ami>.json`.
    pub fn factory_manifest(ami: &str) -> String {
        format!("{FACTORY_PREFIX}{ami}.json")
    }

    /// The AMI in a manifest key, when `key` is one (not a request, not a log).
    pub fn manifest_ami(key: &str) -> Option<&str> {
        key.strip_prefix(FACTORY_PREFIX)?
            .strip_suffix(".json")
            .filter(|ami| ami.starts_with("ami-") && !ami.contains('/'))
    }

    /// An AMI's build request: `factory/requests/<ami>.json`.
    pub fn factory_request(ami: &str) -> String {
        format!("{FACTORY_REQUESTS_PREFIX}{ami}.json")
    }

    /// A builder's log: `factory/logs/<ami>/<instance>.log`.
    pub fn factory_log(ami: &str, instance_id: &str) -> String {
        format!("{FACTORY_PREFIX}logs/{ami}/{instance_id}.log")
    }

    /// The module factory's static ISF builder for builders of `arch` (`uname -m`):
    /// `tools/irf-isf-<arch>`, with its SHA-256 in `tools/irf-isf-<arch>.sha256`.
    pub fn isf_builder(arch: &str) -> String {
        format!("tools/irf-isf-{arch}")
    }

    /// The static memory streamer for instances of `arch` (`uname -m`: `x86_64`, `aarch64`):
    /// `tools/irf-memdump-<arch>`, with its SHA-256 in `tools/irf-memdump-<arch>.sha256`.
    pub fn streamer(arch: &str) -> String {
        format!("tools/irf-memdump-{arch}")
    }
}

#[cfg(test)]
mod tests {
    use super::evidence_keys::*;

    #[test]
    fn evidence_layout_matches_the_sample() {
        assert_eq!(
            disk_image("C1", "333333333333", "i-0abc", "vol-01"),
            "C1/333333333333/i-0abc/vol-01/vol-01.raw"
        );
        assert_eq!(
            sidecar(&disk_image("C1", "3", "i", "v"), "sha256"),
            "C1/3/i/v/v.raw.sha256"
        );
        assert_eq!(
            memory_image("C1", "333333333333", "i-0abc"),
            "C1/333333333333/i-0abc/memory/i-0abc.lime"
        );
        assert_eq!(
            super::module_keys::lime_module("amzn", "2023", "6.1.0"),
            "amzn/2023/6.1.0/lime-6.1.0.ko"
        );
        use super::module_keys::*;
        assert_eq!(
            manifest_ami(&factory_manifest("ami-12345678")),
            Some("ami-12345678")
        );
        assert_eq!(manifest_ami(&factory_request("ami-12345678")), None);
        assert_eq!(manifest_ami("factory/logs/ami-12345678/i-1.json"), None);
        assert_eq!(
            isf("debian", "12", "6.1.0-41-cloud-amd64"),
            "debian/12/6.1.0-41-cloud-amd64/6.1.0-41-cloud-amd64.isf.json.xz"
        );
    }
}
