//! The LiME module and Volatility symbol factory (security account, home region).
//!
//! The factory's list is the AMIs of org.toml (the stack's AMI list parameter) and the AMIs
//! added without a stack update ([`store::Store::request`]: `irf-synth modules build`, the Image
//! Builder rule, the public-parameter watch). For each, [`Factory::reconcile`] decides from what
//! EC2 and the modules bucket say ([`assess`]) and launches a builder only when one is due:
//!
//! * a builder for the AMI is still pending or running: nothing is launched;
//! * a manifest says the AMI was built within the last day: current, nothing is launched;
//! * a builder ran today (UTC) and failed, timed out, or ended without a manifest: reported, not
//!   relaunched before tomorrow (one builder per AMI and day; the RunInstances client token
//!   enforces the same on AWS's side);
//! * otherwise the AMI's architecture (DescribeImages) picks the builder type and one builder is
//!   launched from the hardened launch template. An AMI of another region (`modules build
//!   --region`) is first copied into the factory's region (tagged with its source, one copy per
//!   AMI): the builder boots the copy once it is available, tagged with the original id, so the
//!   manifest, modules and symbols are the original AMI's. `modules forget` removes the copy.
//!
//! The watchdog ([`Factory::watchdog`]) terminates builders running past the build timeout and
//! writes a `timed-out` manifest for them, so no builder outlives its budget even when its own
//! power-off never comes.

pub mod builders;
pub mod coverage;
pub mod inventory;
pub mod sources;
pub mod store;

use irf_core::factory::{
    BuildOutcome, BuilderInstance, FORMAT, FactoryManifest, OsRelease, RequestSource,
};
use irf_core::model::{BuilderTypes, Framework};

use aws_config::SdkConfig;

use crate::aws::Aws;
use crate::error::{self, Result};
pub use builders::{Builder, Copy, Fleet, Image};
pub use store::{Store, StoredManifest};

/// Seconds a built manifest stays current.
pub const CURRENT_FOR: i64 = 86_400;

/// Where and how the factory builds.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The builders' launch template (id or name).
    pub launch_template: String,
    /// Builder type per AMI architecture.
    pub builder_types: BuilderTypes,
    /// Builders running longer than this (seconds) are terminated.
    pub build_timeout: i64,
    /// The factory's region (the org's home region): AMIs of other regions are copied here.
    pub region: String,
}

/// Where one AMI stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AmiStatus {
    /// A builder is pending or running.
    Building(Builder),
    /// Built within [`CURRENT_FOR`].
    Current(Box<FactoryManifest>),
    /// A builder ran today and did not build every kernel (failed, partial, timed out).
    Finished(Box<FactoryManifest>),
    /// A builder ran today and ended without writing a manifest.
    Lost(Builder),
    /// A builder was launched by this call.
    Launched(Builder),
    /// The AMI is of another region, and the factory's copy of it is not available yet.
    Copying {
        /// The copy in the factory's region.
        copy_id: String,
        /// The AMI's region.
        from: String,
    },
    /// The factory cannot build it (why, with the fix).
    Unavailable(String),
    /// Nothing stops a build: one should be launched.
    Due,
}

impl AmiStatus {
    /// A short name for output: `building`, `current`, `partial`, `failed`, `timed-out`,
    /// `lost`, `launched`, `unavailable`, `due`.
    pub fn label(&self) -> &'static str {
        match self {
            AmiStatus::Building(_) => "building",
            AmiStatus::Current(_) => "current",
            AmiStatus::Finished(m) => m.outcome.as_str(),
            AmiStatus::Lost(_) => "lost",
            AmiStatus::Launched(_) => "launched",
            AmiStatus::Copying { .. } => "copying",
            AmiStatus::Unavailable(_) => "unavailable",
            AmiStatus::Due => "due",
        }
    }

    /// Whether the AMI's build is over (nothing will change without a new day or a new AMI).
    pub fn settled(&self) -> bool {
        !matches!(
            self,
            AmiStatus::Building(_)
                | AmiStatus::Launched(_)
                | AmiStatus::Copying { .. }
                | AmiStatus::Due
        )
    }
}

/// The UTC day (days since the epoch) of a time in seconds.
pub fn day_of(secs: i64) -> i64 {
    secs.div_euclid(86_400)
}

/// Where `ami` stands, from its builders (any state) and its manifest, at `now`.
pub fn assess(
    ami: &str,
    now: i64,
    builders: &[Builder],
    manifest: Option<&StoredManifest>,
) -> AmiStatus {
    let mine: Vec<&Builder> = builders.iter().filter(|b| b.ami_id == ami).collect();
    if let Some(b) = mine.iter().find(|b| b.active()) {
        return AmiStatus::Building((*b).clone());
    }
    if let Some(m) = manifest {
        if m.manifest.outcome == BuildOutcome::Built && now - m.stored_at < CURRENT_FOR {
            return AmiStatus::Current(Box::new(m.manifest.clone()));
        }
        if day_of(m.stored_at) == day_of(now) {
            return AmiStatus::Finished(Box::new(m.manifest.clone()));
        }
    }
    let stored_at = manifest.map_or(i64::MIN, |m| m.stored_at);
    if let Some(b) = mine
        .iter()
        .filter(|b| day_of(b.launched_at) == day_of(now) && b.launched_at > stored_at)
        .max_by_key(|b| b.launched_at)
    {
        return AmiStatus::Lost((*b).clone());
    }
    AmiStatus::Due
}

/// The factory: its bucket, its EC2, its settings.
#[derive(Clone, Debug)]
pub struct Factory {
    /// The modules bucket.
    pub store: Store,
    /// EC2 of the factory's account and region.
    pub fleet: Fleet,
    /// SSM of the factory's account and region, with org.toml's AMI list parameter.
    pub config_list: ConfigList,
    /// Launch template, builder types, timeout.
    pub settings: Settings,
}

/// org.toml's AMI list, as the factory stack stored it (an SSM parameter).
#[derive(Clone, Debug)]
pub struct ConfigList {
    /// SSM of the factory's account and region.
    pub ssm: aws_sdk_ssm::Client,
    /// The parameter's name.
    pub parameter: String,
}

impl ConfigList {
    /// The AMIs in the parameter (`none` or comma-separated ids).
    pub async fn amis(&self) -> Result<Vec<String>> {
        let value = self
            .ssm
            .get_parameter()
            .name(&self.parameter)
            .send()
            .await
            .map_err(|e| error::aws(&format!("ssm:GetParameter {}", self.parameter), e))?
            .parameter()
            .and_then(|p| p.value())
            .unwrap_or_default()
            .to_owned();
        Ok(parse_list(&value))
    }
}

/// AMI ids in the list parameter's value (`"none"` or comma-separated ids).
pub fn parse_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|a| a.starts_with("ami-"))
        .map(str::to_owned)
        .collect()
}

impl Factory {
    /// The factory whose bucket, AMI list parameter and EC2 `conf` reaches (the security
    /// account, home region).
    pub fn new(
        aws: &Aws,
        conf: &SdkConfig,
        modules_bucket: &str,
        ami_parameter: &str,
        settings: Settings,
    ) -> Factory {
        Factory {
            store: Store::new(aws.s3(conf), modules_bucket),
            fleet: Fleet::new(aws.ec2(conf)),
            config_list: ConfigList {
                ssm: aws.ssm(conf),
                parameter: ami_parameter.to_owned(),
            },
            settings,
        }
    }

    /// The factory of an org, reached from `aws` with `role_name` in the security account
    /// (the base credentials when they are that account's), configured from org.toml (the
    /// deployed factory's own handler is configured from its environment instead).
    pub async fn for_org(aws: &Aws, role_name: &str, fw: &Framework) -> Result<Factory> {
        let region = fw.home_region().as_str();
        let conf = aws.account(fw.security.as_str(), role_name, region).await?;
        Ok(Factory::new(
            aws,
            &conf,
            &fw.names.modules_bucket(),
            &fw.names.factory_amis_parameter(),
            Settings {
                launch_template: fw.names.resource("module-builder"),
                builder_types: fw.module_factory.builder_types.clone(),
                build_timeout: i64::from(fw.module_factory.build_timeout_minutes) * 60,
                region: region.to_owned(),
            },
        ))
    }

    /// The whole list: org.toml's AMIs (the parameter), then those requested without a stack
    /// update, each once.
    pub async fn list(&self) -> Result<Vec<(String, RequestSource)>> {
        let mut list: Vec<(String, RequestSource)> = self
            .config_list
            .amis()
            .await?
            .into_iter()
            .map(|a| (a, RequestSource::Config))
            .collect();
        for request in self.store.requests().await? {
            if !list.iter().any(|(a, _)| *a == request.ami_id) {
                list.push((request.ami_id, request.source));
            }
        }
        Ok(list)
    }

    /// Where each of `amis` stands, launching builders for those due (unless `launch` is false).
    pub async fn reconcile(
        &self,
        amis: &[String],
        now: i64,
        launch: bool,
    ) -> Result<Vec<(String, AmiStatus)>> {
        let builders = self.fleet.builders().await?;
        let mut out = Vec::new();
        for ami in amis {
            let manifest = self.store.manifest(ami).await?;
            let mut status = assess(ami, now, &builders, manifest.as_ref());
            if status == AmiStatus::Due && launch {
                status = self.launch(ami, now).await?;
            }
            out.push((ami.clone(), status));
        }
        Ok(out)
    }

    /// The image a builder for `ami` boots: `ami` itself, or for an AMI of another region the
    /// factory's copy of it once available (the copy is started here when there is none).
    /// `Err` carries the status to report instead of launching.
    async fn bootable(&self, ami: &str) -> Result<std::result::Result<String, AmiStatus>> {
        let region = self
            .store
            .request_for(ami)
            .await?
            .and_then(|r| r.region)
            .filter(|r| *r != self.settings.region);
        let Some(region) = region else {
            return Ok(Ok(ami.to_owned()));
        };
        let copy = match self.fleet.copy_of(ami).await? {
            Some(copy) => copy,
            None => {
                let Some(copy_id) = self.fleet.copy_image(ami, &region).await? else {
                    return Ok(Err(AmiStatus::Unavailable(format!(
                        "{ami} is not visible in {region} to the factory's account: share it with that account (ec2 modify-image-attribute --launch-permission) or check --region"
                    ))));
                };
                tracing::info!(%ami, %region, %copy_id, "copying the AMI into the factory's region");
                // The copy may be available at once (a small image, or the emulator).
                match self.fleet.copy_of(ami).await? {
                    Some(copy) => copy,
                    None => {
                        return Ok(Err(AmiStatus::Copying {
                            copy_id,
                            from: region,
                        }));
                    }
                }
            }
        };
        Ok(match copy.state.as_str() {
            "available" => Ok(copy.image_id),
            "pending" => Err(AmiStatus::Copying {
                copy_id: copy.image_id,
                from: region,
            }),
            state => Err(AmiStatus::Unavailable(format!(
                "the factory's copy {} of {ami} (from {region}) is {state}{}: irf-synth modules forget --ami {ami} removes it, then build again",
                copy.image_id,
                copy.reason.map(|r| format!(" ({r})")).unwrap_or_default()
            ))),
        })
    }

    /// Launches a builder for `ami` with the type of its architecture.
    async fn launch(&self, ami: &str, now: i64) -> Result<AmiStatus> {
        let image_id = match self.bootable(ami).await? {
            Ok(image_id) => image_id,
            Err(status) => return Ok(status),
        };
        let architecture = match self.fleet.image(&image_id).await? {
            Image::Invisible => {
                return Ok(AmiStatus::Unavailable(format!(
                    "{ami} is not visible to the factory's account in its region: share it with that account (ec2 modify-image-attribute --launch-permission), or, for an AMI of another region, build it with --region"
                )));
            }
            Image::Visible { architecture, .. } => architecture,
        };
        let Some(instance_type) = self.settings.builder_types.for_architecture(&architecture)
        else {
            return Ok(AmiStatus::Unavailable(format!(
                "{ami} is a {architecture} image; the factory builds x86_64 and arm64 AMIs only"
            )));
        };
        let instance_id = self
            .fleet
            .launch(
                &self.settings.launch_template,
                ami,
                &image_id,
                instance_type,
                day_of(now),
            )
            .await?;
        tracing::info!(%ami, %image_id, %instance_id, %instance_type, %architecture, "module builder launched");
        Ok(AmiStatus::Launched(Builder {
            instance_id,
            ami_id: ami.to_owned(),
            instance_type: instance_type.to_owned(),
            state: "pending".to_owned(),
            launched_at: now,
        }))
    }

    /// Terminates builders running past the build timeout and writes a `timed-out` manifest for
    /// each (unless its own manifest arrived after its launch). Returns the builders stopped.
    pub async fn watchdog(&self, now: i64) -> Result<Vec<Builder>> {
        let overdue: Vec<Builder> = self
            .fleet
            .builders()
            .await?
            .into_iter()
            .filter(|b| b.active() && now - b.launched_at > self.settings.build_timeout)
            .collect();
        let ids: Vec<String> = overdue.iter().map(|b| b.instance_id.clone()).collect();
        self.fleet.terminate(&ids).await?;
        for b in &overdue {
            tracing::warn!(instance = %b.instance_id, ami = %b.ami_id, "module builder overdue: terminated");
            let reported = self.store.manifest(&b.ami_id).await?.is_some_and(|m| {
                m.stored_at >= b.launched_at && m.manifest.builder.instance_id == b.instance_id
            });
            if reported {
                continue;
            }
            self.store
                .put_manifest(&FactoryManifest {
                    version: FORMAT,
                    ami_id: b.ami_id.clone(),
                    builder: BuilderInstance {
                        instance_id: b.instance_id.clone(),
                        instance_type: b.instance_type.clone(),
                        architecture: String::new(),
                    },
                    os: OsRelease::default(),
                    lime_commit: None,
                    started_at: rfc3339(b.launched_at),
                    ended_at: rfc3339(now),
                    outcome: BuildOutcome::TimedOut,
                    reason: Some(format!(
                        "the builder was still running {} minutes after launch; the watchdog terminated it (see its console output: aws ec2 get-console-output --instance-id {})",
                        (now - b.launched_at) / 60,
                        b.instance_id
                    )),
                    log_key: None,
                    kernels: Vec::new(),
                })
                .await?;
        }
        Ok(overdue)
    }
}

/// Seconds since the epoch as RFC 3339 (UTC, whole seconds).
pub fn rfc3339(secs: i64) -> String {
    let t =
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(secs).unwrap_or(0));
    humantime::format_rfc3339_seconds(t).to_string()
}

#[cfg(test)]
mod tests;
