//! AMIs that reach the factory's list without anyone typing: the current values of watched SSM
//! parameters (such as the public `/aws/service/ami-amazon-linux-latest/...` ones), and the AMIs
//! of EC2 Image Builder images that became available.

use aws_sdk_ec2::types::Filter;
use irf_core::factory::RequestSource;
use serde_json::Value;

use super::{Factory, rfc3339};
use crate::error::{self, HandlerError, Result};

/// The tag EC2 Image Builder puts on the AMIs it creates: the image build version's ARN.
pub const IMAGE_BUILDER_ARN_TAG: &str = "Ec2ImageBuilderArn";

/// An AMI added to the list, and by what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Added {
    /// The AMI.
    pub ami_id: String,
    /// The parameter or image ARN it came from.
    pub from: String,
}

impl Factory {
    /// Reads `parameters` (names) and requests every AMI id among their values. A parameter that
    /// does not exist is an error naming it; one whose value is no AMI id is skipped with a log.
    pub async fn watch_parameters(&self, parameters: &[String], now: i64) -> Result<Vec<Added>> {
        let mut added = Vec::new();
        for batch in parameters.chunks(10) {
            let out = self
                .config_list
                .ssm
                .get_parameters()
                .set_names(Some(batch.to_vec()))
                .send()
                .await
                .map_err(|e| error::aws(&format!("ssm:GetParameters {}", batch.join(" ")), e))?;
            if !out.invalid_parameters().is_empty() {
                return Err(HandlerError::fatal(format!(
                    "watched SSM parameters {} do not exist in this region: fix [module_factory] watch_parameters",
                    out.invalid_parameters().join(", ")
                )));
            }
            for p in out.parameters() {
                let name = p.name().unwrap_or_default();
                let value = p.value().unwrap_or_default().trim();
                if !value.starts_with("ami-") {
                    tracing::warn!(parameter = %name, %value, "watched parameter holds no AMI id");
                    continue;
                }
                let (_, new) = self
                    .store
                    .request(
                        value,
                        None,
                        RequestSource::ParameterWatch,
                        &format!("ssm:{name}"),
                        &rfc3339(now),
                    )
                    .await?;
                if new {
                    added.push(Added {
                        ami_id: value.to_owned(),
                        from: name.to_owned(),
                    });
                }
            }
        }
        Ok(added)
    }

    /// For an "EC2 Image Builder Image State Change" event whose image is `AVAILABLE`: requests
    /// the AMIs in the factory's account and region that Image Builder tagged with the image's
    /// ARN. Any other event adds nothing.
    pub async fn image_builder_event(&self, event: &Value, now: i64) -> Result<Vec<Added>> {
        if event["source"] != "aws.imagebuilder"
            || event["detail-type"] != "EC2 Image Builder Image State Change"
            || event["detail"]["state"]["status"] != "AVAILABLE"
        {
            return Ok(Vec::new());
        }
        let arns: Vec<&str> = event["resources"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if arns.is_empty() {
            return Err(HandlerError::fatal(format!(
                "an Image Builder state change names no image in its resources: {event}"
            )));
        }
        let mut added = Vec::new();
        for arn in arns {
            let out = self
                .fleet
                .ec2()
                .describe_images()
                .owners("self")
                .filters(
                    Filter::builder()
                        .name(format!("tag:{IMAGE_BUILDER_ARN_TAG}"))
                        .values(arn)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| error::aws(&format!("ec2:DescribeImages tagged {arn}"), e))?;
            if out.images().is_empty() {
                tracing::warn!(image = %arn, "no AMI of this account and region carries the image's ARN (distributed elsewhere?)");
            }
            for image in out.images() {
                let Some(ami) = image.image_id() else {
                    continue;
                };
                let (_, new) = self
                    .store
                    .request(ami, None, RequestSource::ImageBuilder, arn, &rfc3339(now))
                    .await?;
                if new {
                    added.push(Added {
                        ami_id: ami.to_owned(),
                        from: arn.to_owned(),
                    });
                }
            }
        }
        Ok(added)
    }
}
