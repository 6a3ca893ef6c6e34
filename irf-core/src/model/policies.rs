//! Behavioural settings of the framework: evidence retention, acquisition, containment,
//! notifications, the module factory, the SIFT image pipeline and Lambda settings.

use serde::Serialize;

use super::ids::AmiId;

/// S3 Object Lock mode of the evidence bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum LockMode {
    /// Users with `s3:BypassGovernanceRetention` can still delete (org.toml's default).
    Governance,
    /// Nobody, not even the root user, can delete before retention ends.
    Compliance,
}

impl LockMode {
    /// The value CloudFormation expects.
    pub fn as_cfn(self) -> &'static str {
        match self {
            LockMode::Governance => "GOVERNANCE",
            LockMode::Compliance => "COMPLIANCE",
        }
    }
}

/// Evidence retention and lifecycle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EvidencePolicy {
    /// Default Object Lock retention, in days.
    pub retention_days: u32,
    /// Mode of the default retention.
    pub lock_mode: LockMode,
    /// Days after which evidence moves to Glacier.
    pub glacier_after_days: u32,
    /// Days after which evidence expires.
    pub expire_after_days: u32,
}

/// A way of capturing memory, in order of preference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum MemoryMethod {
    /// Read `/proc/kcore` from user space (no kernel module; AVML's approach).
    Kcore,
    /// Load a prebuilt LiME kernel module (`format=lime`).
    Lime,
}

impl MemoryMethod {
    /// Name as written in `org.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            MemoryMethod::Kcore => "kcore",
            MemoryMethod::Lime => "lime",
        }
    }
}

/// How disks are imaged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum DiskMethod {
    /// Read snapshot blocks with the EBS direct APIs and write a raw image to S3 (no instance).
    EbsDirect,
}

/// Evidence acquisition settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AcquisitionPolicy {
    /// Keep the security-account snapshot copies after imaging: the `RetainArtefacts` the incident
    /// trigger gives each case.
    pub retain_artefacts: bool,
    /// Memory methods in order of preference.
    pub memory_methods: Vec<MemoryMethod>,
    /// How disks are imaged (see [`DiskMethod`]).
    pub disk_method: DiskMethod,
    /// Also write a compressed copy of each disk image.
    pub compress_disk_images: bool,
}

/// Containment settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContainmentPolicy {
    /// Disassociate Elastic IPs from a contained instance.
    pub disassociate_elastic_ips: bool,
    /// Revoke the previous role's sessions issued to this instance.
    pub revoke_role_sessions: bool,
}

/// Slack notification target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SlackTarget {
    /// Secrets Manager ARN of the incoming-webhook URL.
    pub webhook_secret_arn: String,
    /// Channel name (`#...`) or id.
    pub channel: String,
}

/// Notification targets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Notifications {
    /// Slack, when configured.
    pub slack: Option<SlackTarget>,
    /// Email addresses subscribed to the case-outcome topic.
    pub emails: Vec<String>,
}

/// Memory-module factory settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ModuleFactory {
    /// AMIs to build LiME modules for (one builder per AMI and run); `irf-synth modules build`
    /// adds more without a stack update.
    pub amis: Vec<AmiId>,
    /// Builder instance type per AMI architecture.
    pub builder_types: BuilderTypes,
    /// How many of the newest kernels of the AMI's distribution stream get modules and symbols.
    pub kernels: u32,
    /// Builders still running this long after launch are terminated by the watchdog.
    pub build_timeout_minutes: u32,
    /// SSM parameters (public ones such as `/aws/service/ami-amazon-linux-latest/...`, or the
    /// security account's own) whose AMI ids the factory adds to its list at each run.
    pub watch_parameters: Vec<String>,
}

/// A builder instance type for each architecture an AMI can have.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BuilderTypes {
    /// For `x86_64` AMIs.
    pub x86_64: String,
    /// For `arm64` AMIs (a Graviton type).
    pub arm64: String,
}

impl BuilderTypes {
    /// The type for an AMI of `architecture` (DescribeImages' `Architecture`: `x86_64`,
    /// `arm64`), or `None` for one the factory does not build on (`i386`, `x86_64_mac`, ...).
    pub fn for_architecture(&self, architecture: &str) -> Option<&str> {
        match architecture {
            "x86_64" => Some(&self.x86_64),
            "arm64" => Some(&self.arm64),
            _ => None,
        }
    }
}

/// SANS SIFT workstation image pipeline settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SiftImage {
    /// Image Builder schedule expression.
    pub schedule: String,
    /// `cast` release to install SIFT with.
    pub cast_version: String,
    /// SHA-256 of the `cast` .deb; the build fails if the download does not match.
    pub cast_sha256: String,
    /// Instance types Image Builder may use.
    pub instance_types: Vec<String>,
}

/// Lambda CPU architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Architecture {
    /// Graviton.
    Arm64,
    /// Intel/AMD.
    X86_64,
}

impl Architecture {
    /// The value CloudFormation expects.
    pub fn as_cfn(self) -> &'static str {
        match self {
            Architecture::Arm64 => "arm64",
            Architecture::X86_64 => "x86_64",
        }
    }
}

/// Settings shared by every Lambda function.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LambdaSettings {
    /// CPU architecture of the `irf-runtime` asset.
    pub architecture: Architecture,
    /// CloudWatch Logs retention of every function's log group.
    pub log_retention_days: u32,
}
