//! The factory's EC2 side: the AMIs it builds for, and its builder instances.

use aws_sdk_ec2::types::{
    Filter, InstanceType, LaunchTemplateSpecification, ResourceType, Tag, TagSpecification,
};
use irf_core::factory::BUILDER_TAG;

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

    /// Launches one builder for `ami` from the launch template (its id, `lt-...`, or its name), as `instance_type`. The client
    /// token makes a retry (or a second caller) on the same `day` get the same instance.
    pub async fn launch(
        &self,
        launch_template: &str,
        ami: &str,
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
            .image_id(ami)
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
