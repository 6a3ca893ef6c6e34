//! What `modules build` reports per AMI and kernel, as lines and as JSON.

use irf_core::factory::{FactoryManifest, KernelBuild};
use irf_runtime::factory::AmiStatus;
use serde::Serialize;

/// One AMI's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct AmiReport {
    pub(crate) ami: String,
    /// `built`, `skipped`, `failed`, `partial`, `building`, `launched`, `copying`.
    pub(crate) result: &'static str,
    /// Why (failed), or what is going on (building, launched, skipped).
    pub(crate) detail: String,
    /// The builder instance, when one ran or runs.
    pub(crate) builder: Option<String>,
    /// One entry per kernel the builder selected.
    pub(crate) kernels: Vec<KernelReport>,
}

/// One kernel's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct KernelReport {
    pub(crate) release: String,
    /// `built`, `failed`, `skipped`.
    pub(crate) result: &'static str,
    pub(crate) module_sha256: Option<String>,
    pub(crate) isf_sha256: Option<String>,
    /// Why it failed.
    pub(crate) reason: Option<String>,
}

impl AmiReport {
    /// Whether the AMI counts as failed for the exit code.
    pub(crate) fn failed(&self) -> bool {
        matches!(self.result, "failed" | "partial")
    }

    /// The report for `status`; `was_due` says whether this command launched or found the
    /// builder running (so a current manifest means built now, not skipped).
    pub(crate) fn new(ami: &str, status: &AmiStatus, was_due: bool, bucket: &str) -> Self {
        let r = |result, detail: String, builder: Option<&str>, kernels| AmiReport {
            ami: ami.to_owned(),
            result,
            detail,
            builder: builder.map(str::to_owned),
            kernels,
        };
        match status {
            AmiStatus::Current(m) if was_due => r(
                "built",
                format!(
                    "{} {}, LiME {}",
                    m.os.id,
                    m.os.version_id,
                    m.lime_commit.as_deref().unwrap_or("?")
                ),
                Some(&m.builder.instance_id),
                kernels(m, false, bucket),
            ),
            AmiStatus::Current(m) => r(
                "skipped",
                format!(
                    "already current: built {} by {}",
                    m.ended_at, m.builder.instance_id
                ),
                Some(&m.builder.instance_id),
                kernels(m, true, bucket),
            ),
            AmiStatus::Finished(m) => {
                let reason = m.reason.clone().unwrap_or_else(|| {
                    format!(
                        "{} of {} kernels built",
                        m.kernels.iter().filter(|k| k.covered()).count(),
                        m.kernels.len()
                    )
                });
                let log = m
                    .log_key
                    .as_ref()
                    .map(|k| format!("; builder log s3://{bucket}/{k}"))
                    .unwrap_or_default();
                let result = if m.kernels.iter().any(KernelBuild::covered) {
                    "partial"
                } else {
                    "failed"
                };
                r(
                    result,
                    format!("{reason}{log}"),
                    Some(&m.builder.instance_id),
                    kernels(m, false, bucket),
                )
            }
            AmiStatus::Lost(b) => r(
                "failed",
                format!(
                    "builder {} ({}) ended without a manifest; its console output: aws ec2 get-console-output --instance-id {}",
                    b.instance_id, b.state, b.instance_id
                ),
                Some(&b.instance_id),
                Vec::new(),
            ),
            AmiStatus::Unavailable(why) => r("failed", why.clone(), None, Vec::new()),
            AmiStatus::Building(b) => r(
                "building",
                format!(
                    "builder {} ({}, {})",
                    b.instance_id, b.instance_type, b.state
                ),
                Some(&b.instance_id),
                Vec::new(),
            ),
            AmiStatus::Launched(b) => r(
                "launched",
                format!("builder {} ({})", b.instance_id, b.instance_type),
                Some(&b.instance_id),
                Vec::new(),
            ),
            AmiStatus::Copying { copy_id, from } => r(
                "copying",
                format!(
                    "an AMI of {from}: the factory's copy {copy_id} is not available yet; its builder starts when it is"
                ),
                None,
                Vec::new(),
            ),
            AmiStatus::Due => r("due", "not launched".to_owned(), None, Vec::new()),
        }
    }

    /// The report's lines: one per kernel when the builder reported kernels, else one.
    pub(crate) fn lines(&self) -> Vec<String> {
        if self.kernels.is_empty() {
            return vec![format!("{}: {} ({})", self.ami, self.result, self.detail)];
        }
        self.kernels
            .iter()
            .map(|k| {
                let what = match k.result {
                    "failed" => k.reason.clone().unwrap_or_default(),
                    _ => format!(
                        "module SHA-256 {}, ISF SHA-256 {}",
                        k.module_sha256.as_deref().unwrap_or("-"),
                        k.isf_sha256.as_deref().unwrap_or("-")
                    ),
                };
                format!("{} {}: {} ({what})", self.ami, k.release, k.result)
            })
            .collect()
    }
}

fn kernels(m: &FactoryManifest, skipped: bool, bucket: &str) -> Vec<KernelReport> {
    m.kernels
        .iter()
        .map(|k| {
            let covered = k.covered();
            let log = m
                .log_key
                .as_ref()
                .map(|key| format!("; builder log s3://{bucket}/{key}"))
                .unwrap_or_default();
            KernelReport {
                release: k.release.clone(),
                result: match (covered, skipped) {
                    (false, _) => "failed",
                    (true, true) => "skipped",
                    (true, false) => "built",
                },
                module_sha256: k.module.as_ref().map(|a| a.sha256.clone()),
                isf_sha256: k.isf.first().map(|i| i.artifact.sha256.clone()),
                reason: (!covered).then(|| {
                    format!(
                        "{}{log}",
                        k.error.clone().unwrap_or_else(|| {
                            if k.module.is_none() {
                                "no module".to_owned()
                            } else {
                                "no ISF".to_owned()
                            }
                        })
                    )
                }),
            }
        })
        .collect()
}
