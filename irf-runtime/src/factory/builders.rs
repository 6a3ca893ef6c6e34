//! The factory's EC2 side: the AMIs it builds for, and its builder instances.

use aws_sdk_ec2::types::{
    Filter, InstanceType, LaunchTemplateSpecification, ResourceType, Tag, TagSpecification,
};
use irf_core::factory::{BUILDER_TAG, COPY_SOURCE_TAG};

use crate::error::{self, HandlerError, Result};

/// What DescribeImages says about an AMI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Image {
    /// The factory can launch it.
    Visible {
        /// `x86_64`, `arm64`, ...
        architecture: String,
        /// Its name, for people.
        name: String,
    },
    /// Not visible to the factory's account in its region: private to another account,
    /// deregistered, or in another region.
    Invisible,
}

/// The factory's copy of an AMI of another region (tagged [`COPY_SOURCE_TAG`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Copy {
    /// The copy's id in the factory's region.
    pub image_id: String,
    /// `pending`, `available`, `failed`, ...
    pub state: String,
    /// Why EC2 says it failed, when it did.
    pub reason: Option<String>,
    /// The snapshots behind it.
    pub snapshots: Vec<String>,
}

/// A builder instance (tagged [`BUILDER_TAG`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Builder {
    /// Its id.
    pub instance_id: String,
    /// The AMI it builds for.
    pub ami_id: String,
    /// Its type.
    pub instance_type: String,
    /// `pending`, `running`, `shutting-down`, `terminated`, ...
    pub state: String,
    /// When it was launched (seconds since the epoch).
    pub launched_at: i64,
}

impl Builder {
    /// Whether it is still working (or about to).
    pub fn active(&self) -> bool {
        matches!(self.state.as_str(), "pending" | "running")
    }
}

/// EC2 in the factory's account and region.
#[derive(Clone, Debug)]
pub struct Fleet {
    ec2: aws_sdk_ec2::Client,
}

impl Fleet {
    /// The factory's EC2.
    pub fn new(ec2: aws_sdk_ec2::Client) -> Self {
        Self { ec2 }
    }

    /// The EC2 client.
    pub fn ec2(&self) -> &aws_sdk_ec2::Client {
        &self.ec2
    }

    /// What DescribeImages says about `ami`.
    pub async fn image(&self, ami: &str) -> Result<Image> {
        match self.ec2.describe_images().image_ids(ami).send().await {
            Ok(out) => Ok(match out.images().first() {
                Some(image) => Image::Visible {
                    architecture: image
                        .architecture()
                        .map_or_else(String::new, |a| a.as_str().to_owned()),
                    name: image.name().unwrap_or_default().to_owned(),
                },
                None => Image::Invisible,
            }),
            Err(e)
                if matches!(
                    error::code(&e),
                    Some("InvalidAMIID.NotFound" | "InvalidAMIID.Unavailable")
                ) =>
            {
                Ok(Image::Invisible)
            }
            Err(e) => Err(error::aws(&format!("ec2:DescribeImages {ami}"), e)),
        }
    }

    /// The factory's copy of `ami`, when it made one.
    pub async fn copy_of(&self, ami: &str) -> Result<Option<Copy>> {
        let out = self
            .ec2
            .describe_images()
            .owners("self")
            .filters(
                Filter::builder()
                    .name(format!("tag:{COPY_SOURCE_TAG}"))
                    .values(ami)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| error::aws(&format!("ec2:DescribeImages (the copy of {ami})"), e))?;
        // Deregistered copies linger in some listings; the newest live one counts.
        let mut images: Vec<_> = out
            .images()
            .iter()
            .filter(|i| i.state().is_none_or(|s| s.as_str() != "deregistered"))
            .collect();
        images.sort_by_key(|i| i.creation_date().unwrap_or_default().to_owned());
        Ok(images.last().map(|i| Copy {
            image_id: i.image_id().unwrap_or_default().to_owned(),
            state: i
                .state()
                .map_or_else(|| "unknown".to_owned(), |s| s.as_str().to_owned()),
            reason: i
                .state_reason()
                .and_then(|r| r.message())
                .map(str::to_owned),
            snapshots: i
                .block_device_mappings()
                .iter()
                .filter_map(|m| m.ebs().and_then(|e| e.snapshot_id()))
                .map(str::to_owned)
                .collect(),
        }))
    }

    /// Starts copying `ami` from `region` into the factory's region, tagged with its source.
    /// The client token makes a retry return the same copy. `None` when `ami` is not visible
    /// in `region` to the factory's account.
    pub async fn copy_image(&self, ami: &str, region: &str) -> Result<Option<String>> {
        let copied = self
            .ec2
            .copy_image()
            .source_region(region)
            .source_image_id(ami)
            .name(format!("irf-factory-{ami}"))
            .description(format!(
                "IRF module factory: copy of {ami} from {region}, to build its LiME modules and symbols"
            ))
            .client_token(format!("irf-factory-copy-{ami}"))
            .send()
            .await;
        let image_id = match copied {
            Ok(out) => out.image_id().unwrap_or_default().to_owned(),
            Err(e)
                if matches!(
                    error::code(&e),
                    Some("InvalidAMIID.NotFound" | "InvalidAMIID.Unavailable")
                ) =>
            {
                return Ok(None);
            }
            Err(e) => {
                return Err(error::aws(&format!("ec2:CopyImage {ami} from {region}"), e));
            }
        };
        // Tagged apart from the copy so that a retry (same token, same copy) tags it too.
        self.ec2
            .create_tags()
            .resources(&image_id)
            .tags(Tag::builder().key(COPY_SOURCE_TAG).value(ami).build())
            .tags(
                Tag::builder()
                    .key("Name")
                    .value(format!("irf-factory-{ami}"))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| error::aws(&format!("ec2:CreateTags {image_id} (copy of {ami})"), e))?;
        Ok(Some(image_id))
    }

    /// Deregisters a copy and deletes its snapshots.
    pub async fn remove_copy(&self, copy: &Copy) -> Result<()> {
        self.ec2
            .deregister_image()
            .image_id(&copy.image_id)
            .send()
            .await
            .map_err(|e| error::aws(&format!("ec2:DeregisterImage {}", copy.image_id), e))?;
        for snapshot in &copy.snapshots {
            match self
                .ec2
                .delete_snapshot()
                .snapshot_id(snapshot)
                .send()
                .await
            {
                Ok(_) => {}
                Err(e) if error::code(&e) == Some("InvalidSnapshot.NotFound") => {}
                Err(e) => {
                    return Err(error::aws(&format!("ec2:DeleteSnapshot {snapshot}"), e));
                }
            }
        }
        Ok(())
    }

    /// Every builder EC2 still lists (terminated ones stay listed for about an hour).
    pub async fn builders(&self) -> Result<Vec<Builder>> {
        let mut out = Vec::new();
        let mut pages = self
            .ec2
            .describe_instances()
            .filters(
                Filter::builder()
                    .name("tag-key")
                    .values(BUILDER_TAG)
                    .build(),
            )
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| error::aws("ec2:DescribeInstances (module builders)", e))?;
            for i in page.reservations().iter().flat_map(|r| r.instances()) {
                let ami_id = i
                    .tags()
                    .iter()
                    .find(|t| t.key() == Some(BUILDER_TAG))
                    .and_then(|t| t.value())
                    .unwrap_or_default()
                    .to_owned();
                out.push(Builder {
                    instance_id: i.instance_id().unwrap_or_default().to_owned(),
                    ami_id,
                    instance_type: i
                        .instance_type()
                        .map_or_else(String::new, |t| t.as_str().to_owned()),
                    state: i
                        .state()
                        .and_then(|s| s.name())
                        .map_or_else(|| "unknown".to_owned(), |n| n.as_str().to_owned()),
                    launched_at: i.launch_time().map_or(0, |t| t.secs()),
                });
            }
        }
        Ok(out)
    }

    /// Launches one builder for `ami` from the launch template (its id, `lt-...`, or its
    /// name), as `instance_type`, booting `image_id` (`ami` itself, or the factory's copy of
    /// it). The client token makes a retry (or a second caller) on the same `day` get the same
    /// instance.
    pub async fn launch(
        &self,
        launch_template: &str,
        ami: &str,
        image_id: &str,
        instance_type: &str,
        day: i64,
    ) -> Result<String> {
        let tags = TagSpecification::builder()
            .resource_type(ResourceType::Instance)
            .tags(Tag::builder().key(BUILDER_TAG).value(ami).build())
            .tags(
                Tag::builder()
                    .key("Name")
                    .value(format!("irf-module-builder-{ami}"))
                    .build(),
            )
            .build();
        let out = self
            .ec2
            .run_instances()
            .launch_template(template_spec(launch_template))
            .image_id(image_id)
            .instance_type(InstanceType::from(instance_type))
            .tag_specifications(tags)
            .min_count(1)
            .max_count(1)
            .client_token(format!("irf-factory-{ami}-{day}"))
            .send()
            .await
            .map_err(|e| error::aws(&format!("ec2:RunInstances (builder for {ami})"), e))?;
        out.instances()
            .first()
            .and_then(|i| i.instance_id())
            .map(str::to_owned)
            .ok_or_else(|| {
                HandlerError::fatal(format!("ec2:RunInstances for {ami} returned no instance"))
            })
    }

    /// Terminates builders (the watchdog).
    pub async fn terminate(&self, instance_ids: &[String]) -> Result<()> {
        if instance_ids.is_empty() {
            return Ok(());
        }
        self.ec2
            .terminate_instances()
            .set_instance_ids(Some(instance_ids.to_vec()))
            .send()
            .await
            .map_err(|e| {
                error::aws(
                    &format!("ec2:TerminateInstances {}", instance_ids.join(" ")),
                    e,
                )
            })?;
        Ok(())
    }

    /// Whether the launch template exists (the factory stack is deployed).
    pub async fn launch_template_exists(&self, id: &str) -> Result<bool> {
        let by_id = id.starts_with("lt-");
        let call = self.ec2.describe_launch_templates();
        let call = if by_id {
            call.launch_template_ids(id)
        } else {
            call.launch_template_names(id)
        };
        match call.send().await {
            Ok(out) => Ok(!out.launch_templates().is_empty()),
            Err(e)
                if matches!(
                    error::code(&e),
                    Some(
                        "InvalidLaunchTemplateName.NotFoundException"
                            | "InvalidLaunchTemplateId.NotFound"
                            | "InvalidLaunchTemplateId.Malformed"
                    )
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(error::aws(&format!("ec2:DescribeLaunchTemplates {id}"), e)),
        }
    }
}

/// A launch template by id (`lt-...`) or by name, at its latest version.
fn template_spec(template: &str) -> LaunchTemplateSpecification {
    let spec = LaunchTemplateSpecification::builder().version("$Latest");
    if template.starts_with("lt-") {
        spec.launch_template_id(template).build()
    } else {
        spec.launch_template_name(template).build()
    }
}
