//! `AWS::ImageBuilder::*`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cfn::Expr;

/// `AWS::ImageBuilder::Component`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Component {
    /// Name.
    pub name: Expr,
    /// What it installs.
    pub description: String,
    /// `Linux`.
    pub platform: String,
    /// Semantic version; bumped whenever `data` changes (components are immutable).
    pub version: String,
    /// The component document (YAML text).
    pub data: String,
    /// Tags.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// `AWS::ImageBuilder::ImageRecipe`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageRecipe {
    /// Name.
    pub name: Expr,
    /// Semantic version.
    pub version: String,
    /// Parent image ARN.
    pub parent_image: Expr,
    /// Volumes.
    pub block_device_mappings: Vec<RecipeBlockDevice>,
    /// Components in order.
    pub components: Vec<ComponentRef>,
    /// What the image is.
    pub description: String,
    /// Tags.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// A recipe block device.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RecipeBlockDevice {
    /// Device.
    pub device_name: String,
    /// EBS.
    pub ebs: RecipeEbs,
}

/// Recipe EBS settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RecipeEbs {
    /// Delete with the instance.
    pub delete_on_termination: bool,
    /// Encrypt.
    pub encrypted: bool,
    /// GiB.
    pub volume_size: u32,
    /// `gp3`.
    pub volume_type: String,
}

/// A component reference.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ComponentRef {
    /// ARN.
    pub component_arn: Expr,
}

/// `AWS::ImageBuilder::InfrastructureConfiguration`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InfrastructureConfiguration {
    /// Name.
    pub name: Expr,
    /// What it is.
    pub description: String,
    /// Instance profile name.
    pub instance_profile_name: Expr,
    /// Instance types.
    pub instance_types: Vec<String>,
    /// IMDS.
    pub instance_metadata_options: InstanceMetadataOptions,
    /// Build logs.
    pub logging: ImageBuilderLogging,
    /// Security groups.
    pub security_group_ids: Vec<Expr>,
    /// Subnet (private, with NAT).
    pub subnet_id: Expr,
    /// Terminate the build instance when the build fails.
    pub terminate_instance_on_failure: bool,
    /// Tags.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// IMDS settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceMetadataOptions {
    /// `required`.
    pub http_tokens: String,
    /// Hops.
    pub http_put_response_hop_limit: u32,
}

/// Build logs.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageBuilderLogging {
    /// S3.
    pub s3_logs: S3Logs,
}

/// S3 log location.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct S3Logs {
    /// Bucket.
    pub s3_bucket_name: Expr,
    /// Prefix.
    pub s3_key_prefix: String,
}

/// `AWS::ImageBuilder::DistributionConfiguration`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DistributionConfiguration {
    /// Name.
    pub name: Expr,
    /// What it does.
    pub description: String,
    /// Regions.
    pub distributions: Vec<Distribution>,
    /// Tags.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// One region's distribution.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Distribution {
    /// Region.
    pub region: Expr,
    /// AMI settings.
    pub ami_distribution_configuration: AmiDistribution,
    /// SSM parameters updated with the new AMI id on every build.
    pub ssm_parameter_configurations: Vec<SsmParameterConfiguration>,
}

/// AMI settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AmiDistribution {
    /// Name template.
    pub name: String,
    /// Description.
    pub description: String,
    /// AMI tags.
    pub ami_tags: BTreeMap<String, String>,
}

/// An SSM parameter kept pointing at the newest AMI.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SsmParameterConfiguration {
    /// Parameter name.
    pub parameter_name: String,
    /// `aws:ec2:image`.
    pub data_type: String,
}

/// `AWS::ImageBuilder::ImagePipeline`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImagePipeline {
    /// Name.
    pub name: Expr,
    /// What it builds.
    pub description: String,
    /// Recipe.
    pub image_recipe_arn: Expr,
    /// Infrastructure.
    pub infrastructure_configuration_arn: Expr,
    /// Distribution.
    pub distribution_configuration_arn: Expr,
    /// Image tests.
    pub image_tests_configuration: ImageTestsConfiguration,
    /// Schedule.
    pub schedule: Schedule,
    /// `ENABLED`.
    pub status: String,
    /// Tags.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// Image tests.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageTestsConfiguration {
    /// Run tests.
    pub image_tests_enabled: bool,
    /// Minutes.
    pub timeout_minutes: u32,
}

/// Pipeline schedule.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Schedule {
    /// cron.
    pub schedule_expression: String,
    /// `EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE`.
    pub pipeline_execution_start_condition: String,
}
