//! `AWS::ImageBuilder::*`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cfn::Expr;

/// `AWS::ImageBuilder::Component`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Component {
    /// Physical name (`<prefix>-...`); with `version`, identifies the component.
    pub name: Expr,
    /// What it installs.
    pub description: String,
    /// `Linux`.
    pub platform: String,
    /// Semantic version; bumped whenever `data` changes (components are immutable).
    pub version: String,
    /// The component document (YAML text).
    pub data: String,
    /// Tags as a key → value map (Image Builder's form); stack tags are propagated on top.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// `AWS::ImageBuilder::ImageRecipe`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageRecipe {
    /// Physical name (`<prefix>-...`); with `version`, identifies the recipe.
    pub name: Expr,
    /// Semantic version; recipes are immutable too, so it changes with anything the recipe holds.
    pub version: String,
    /// Image the build starts from (an Image Builder image ARN, `x.x.x` for the newest).
    pub parent_image: Expr,
    /// Volumes of the build instance and of the resulting AMI.
    pub block_device_mappings: Vec<RecipeBlockDevice>,
    /// Components in order.
    pub components: Vec<ComponentRef>,
    /// What the image is.
    pub description: String,
    /// Tags as a key → value map (Image Builder's form); stack tags are propagated on top.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// A volume of the recipe's image.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RecipeBlockDevice {
    /// Device the volume is attached as, e.g. `/dev/sda1` for the root volume.
    pub device_name: String,
    /// Volume settings.
    pub ebs: RecipeEbs,
}

/// Recipe EBS settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RecipeEbs {
    /// Delete with the instance.
    pub delete_on_termination: bool,
    /// Whether the volume is EBS-encrypted.
    pub encrypted: bool,
    /// Size in GiB.
    pub volume_size: u32,
    /// `gp3`.
    pub volume_type: String,
}

/// A component reference.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ComponentRef {
    /// ARN of the component (an AWS-owned one with `x.x.x` for its newest version, or a `!Ref`).
    pub component_arn: Expr,
}

/// `AWS::ImageBuilder::InfrastructureConfiguration`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InfrastructureConfiguration {
    /// Physical name (`<prefix>-...`).
    pub name: Expr,
    /// What it is.
    pub description: String,
    /// Instance profile the build instances run with.
    pub instance_profile_name: Expr,
    /// Instance types tried for the build instances, in order.
    pub instance_types: Vec<String>,
    /// IMDS settings of the build instances.
    pub instance_metadata_options: InstanceMetadataOptions,
    /// Where the build logs go.
    pub logging: ImageBuilderLogging,
    /// Ids of the security groups of the build instances.
    pub security_group_ids: Vec<Expr>,
    /// Subnet (private, with NAT).
    pub subnet_id: Expr,
    /// Terminate the build instance when the build fails.
    pub terminate_instance_on_failure: bool,
    /// Tags as a key → value map (Image Builder's form); stack tags are propagated on top.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// IMDS settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceMetadataOptions {
    /// `required`.
    pub http_tokens: String,
    /// IMDS response hop limit (2 lets containers on the build instance reach IMDS).
    pub http_put_response_hop_limit: u32,
}

/// Build logs.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageBuilderLogging {
    /// Bucket and prefix the build logs are written to.
    pub s3_logs: S3Logs,
}

/// S3 log location.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct S3Logs {
    /// Bucket the logs are written to.
    pub s3_bucket_name: Expr,
    /// Key prefix of the logs, ending in `/`.
    pub s3_key_prefix: String,
}

/// `AWS::ImageBuilder::DistributionConfiguration`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DistributionConfiguration {
    /// Physical name (`<prefix>-...`).
    pub name: Expr,
    /// What it does.
    pub description: String,
    /// One entry per region the AMI is distributed to.
    pub distributions: Vec<Distribution>,
    /// Tags as a key → value map (Image Builder's form); stack tags are propagated on top.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// One region's distribution.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Distribution {
    /// Region the AMI is distributed to.
    pub region: Expr,
    /// Name, description and tags of the distributed AMI.
    pub ami_distribution_configuration: AmiDistribution,
    /// SSM parameters updated with the new AMI id on every build.
    pub ssm_parameter_configurations: Vec<SsmParameterConfiguration>,
}

/// AMI settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AmiDistribution {
    /// AMI name template; `{{ imagebuilder:buildDate }}` makes each build's name unique.
    pub name: String,
    /// Description of the distributed AMI.
    pub description: String,
    /// Tags put on the distributed AMI.
    pub ami_tags: BTreeMap<String, String>,
}

/// An SSM parameter kept pointing at the newest AMI.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SsmParameterConfiguration {
    /// Name of the SSM parameter that receives the AMI id.
    pub parameter_name: String,
    /// `aws:ec2:image`.
    pub data_type: String,
}

/// `AWS::ImageBuilder::ImagePipeline`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImagePipeline {
    /// Physical name (`<prefix>-...`).
    pub name: Expr,
    /// What it builds.
    pub description: String,
    /// ARN of the recipe the pipeline builds.
    pub image_recipe_arn: Expr,
    /// ARN of the infrastructure configuration builds run on.
    pub infrastructure_configuration_arn: Expr,
    /// ARN of the distribution configuration applied to each image.
    pub distribution_configuration_arn: Expr,
    /// Whether and how long images are tested after the build.
    pub image_tests_configuration: ImageTestsConfiguration,
    /// When the pipeline starts a build.
    pub schedule: Schedule,
    /// `ENABLED`.
    pub status: String,
    /// Tags as a key → value map (Image Builder's form); stack tags are propagated on top.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// Test phase of a pipeline's builds.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageTestsConfiguration {
    /// Whether the recipe's test components run after the build.
    pub image_tests_enabled: bool,
    /// Longest test phase, in minutes, before the build fails.
    pub timeout_minutes: u32,
}

/// Pipeline schedule.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Schedule {
    /// Image Builder cron expression, from org.toml's `[sift] schedule`.
    pub schedule_expression: String,
    /// `EXPRESSION_MATCH_ONLY` (build on every match) or
    /// `EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE` (only when a dependency changed).
    pub pipeline_execution_start_condition: String,
}
