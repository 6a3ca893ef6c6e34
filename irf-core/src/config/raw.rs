//! The `org.toml` schema exactly as the user writes it.
//!
//! Every table denies unknown keys so a misspelt key is an error with a suggestion, never a
//! silently ignored setting. Defaults live here, next to the field, and are the values the
//! README and `irf-synth init` document. Validation into the resolved model happens in
//! [`super::validate`].

use std::collections::BTreeMap;

use serde::Deserialize;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOrgConfig {
    pub(crate) organization: RawOrganization,
    pub(crate) security: RawAccount,
    pub(crate) forensics: RawAccount,
    #[serde(default)]
    pub(crate) members: Vec<RawMember>,
    #[serde(default)]
    pub(crate) network: RawNetwork,
    #[serde(default)]
    pub(crate) evidence: RawEvidence,
    #[serde(default)]
    pub(crate) acquisition: RawAcquisition,
    #[serde(default)]
    pub(crate) containment: RawContainment,
    #[serde(default)]
    pub(crate) notifications: RawNotifications,
    #[serde(default)]
    pub(crate) module_factory: RawModuleFactory,
    #[serde(default)]
    pub(crate) sift: RawSift,
    #[serde(default)]
    pub(crate) lambda: RawLambda,
    #[serde(default)]
    pub(crate) tags: BTreeMap<String, String>,
}

/// `[organization]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOrganization {
    pub(crate) id: String,
    #[serde(default = "default_partition")]
    pub(crate) partition: String,
    pub(crate) home_region: String,
    #[serde(default = "default_prefix")]
    pub(crate) prefix: String,
}

fn default_partition() -> String {
    "aws".into()
}

fn default_prefix() -> String {
    "irf".into()
}

/// `[security]` and `[forensics]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAccount {
    pub(crate) account_id: String,
}

/// One `[[members]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMember {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) account_id: Option<String>,
    #[serde(default)]
    pub(crate) ou: Option<String>,
    pub(crate) regions: Vec<String>,
}

/// `[network]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawNetwork {
    pub(crate) analysis_vpc_cidr: String,
    pub(crate) analysis_subnets: i64,
    pub(crate) analysis_subnet_prefix: i64,
    pub(crate) maintenance_vpc_cidr: String,
    pub(crate) ir_vpc_cidr: String,
    pub(crate) factory_vpc_cidr: String,
}

impl Default for RawNetwork {
    fn default() -> Self {
        RawNetwork {
            analysis_vpc_cidr: "10.66.0.0/16".into(),
            analysis_subnets: 3,
            analysis_subnet_prefix: 24,
            maintenance_vpc_cidr: "10.0.0.0/16".into(),
            ir_vpc_cidr: "10.192.0.0/16".into(),
            factory_vpc_cidr: "10.193.0.0/24".into(),
        }
    }
}

/// `[evidence]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawEvidence {
    pub(crate) retention_days: i64,
    pub(crate) lock_mode: String,
    pub(crate) glacier_after_days: i64,
    pub(crate) expire_after_days: i64,
}

impl Default for RawEvidence {
    fn default() -> Self {
        RawEvidence {
            retention_days: 90,
            lock_mode: "governance".into(),
            glacier_after_days: 395,
            expire_after_days: 2555,
        }
    }
}

/// `[acquisition]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawAcquisition {
    pub(crate) retain_artefacts: bool,
    pub(crate) memory_methods: Vec<String>,
    pub(crate) disk_method: String,
    pub(crate) compress_disk_images: bool,
}

impl Default for RawAcquisition {
    fn default() -> Self {
        RawAcquisition {
            retain_artefacts: true,
            memory_methods: vec!["kcore".into(), "lime".into()],
            disk_method: "ebs-direct".into(),
            compress_disk_images: false,
        }
    }
}

/// `[containment]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawContainment {
    pub(crate) disassociate_elastic_ips: bool,
    pub(crate) revoke_role_sessions: bool,
}

impl Default for RawContainment {
    fn default() -> Self {
        RawContainment {
            disassociate_elastic_ips: false,
            revoke_role_sessions: true,
        }
    }
}

/// `[notifications]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawNotifications {
    pub(crate) slack: Option<RawSlack>,
    pub(crate) emails: Vec<String>,
}

/// `[notifications.slack]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSlack {
    pub(crate) webhook_secret_arn: String,
    pub(crate) channel: String,
}

/// `[module_factory]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawModuleFactory {
    pub(crate) amis: Vec<String>,
    /// The former single builder type; read only to say what replaced it.
    pub(crate) instance_type: Option<String>,
    pub(crate) instance_types: RawBuilderTypes,
    pub(crate) kernels: u32,
    pub(crate) build_timeout_minutes: u32,
    pub(crate) watch_parameters: Vec<String>,
}

impl Default for RawModuleFactory {
    fn default() -> Self {
        RawModuleFactory {
            amis: Vec::new(),
            instance_type: None,
            instance_types: RawBuilderTypes::default(),
            kernels: 3,
            build_timeout_minutes: 90,
            watch_parameters: Vec::new(),
        }
    }
}

/// `[module_factory.instance_types]`: one builder type per AMI architecture.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawBuilderTypes {
    pub(crate) x86_64: String,
    pub(crate) arm64: String,
}

impl Default for RawBuilderTypes {
    fn default() -> Self {
        RawBuilderTypes {
            x86_64: "t3.large".into(),
            arm64: "t4g.large".into(),
        }
    }
}

/// `[sift]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawSift {
    pub(crate) schedule: String,
    pub(crate) cast_version: String,
    pub(crate) cast_sha256: String,
    pub(crate) instance_types: Vec<String>,
}

impl Default for RawSift {
    fn default() -> Self {
        RawSift {
            schedule: "cron(0 9 ? * sun *)".into(),
            cast_version: "v0.14.0".into(),
            cast_sha256: String::new(),
            instance_types: vec!["t3.large".into(), "t3.xlarge".into()],
        }
    }
}

/// `[lambda]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawLambda {
    pub(crate) architecture: String,
    pub(crate) log_retention_days: i64,
}

impl Default for RawLambda {
    fn default() -> Self {
        RawLambda {
            architecture: "arm64".into(),
            log_retention_days: 365,
        }
    }
}
