//! The deploy plan (`plan.json`): every stack instance with its account, region, template,
//! dependencies, parameter sources and assets. The deployer works from this file and the
//! templates beside it, never from the model, so what is deployed is what was reviewed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Version of the `plan.json` format; the deployer refuses a plan of another version.
pub const PLAN_VERSION: u32 = 1;

/// The deploy plan, as written to `plan.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// [`PLAN_VERSION`] of the irf-synth that wrote it.
    pub version: u32,
    /// Partition of every account (for role ARNs).
    pub partition: String,
    /// AWS Organizations id (asset buckets shared with StackSet targets are readable by it).
    pub organization_id: String,
    /// Stack instances in deploy order (every stack after the stacks it depends on).
    pub stacks: Vec<PlannedStack>,
}

/// Where a parameter value comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamSource {
    /// A value fixed at synth time.
    Value {
        /// The parameter's value, passed as is.
        value: String,
    },
    /// An output of a stack deployed earlier.
    Output {
        /// Name of the producing stack, which the plan deploys first.
        from_stack: String,
        /// Name of the producer's output whose value is passed.
        output: String,
    },
}

/// A runtime asset a stack needs, and the parameters the deployer fills with its location.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetRef {
    /// Asset name (`irf-runtime`).
    pub name: String,
    /// CPU architecture it is built for.
    pub architecture: String,
    /// Template parameter the deployer sets to the asset's bucket.
    pub bucket_parameter: String,
    /// Template parameter the deployer sets to the asset's key.
    pub key_parameter: String,
}

/// One stack instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedStack {
    /// CloudFormation stack name (unique in the plan).
    pub name: String,
    /// Stack kind (template slug).
    pub kind: String,
    /// 12-digit id of the account the stack is deployed to.
    pub account_id: String,
    /// Region the stack is deployed to.
    pub region: String,
    /// Template path relative to the synth directory.
    pub template: String,
    /// SHA-256 of the template bytes.
    pub template_sha256: String,
    /// Stacks that must be deployed first.
    pub depends_on: Vec<String>,
    /// Where each template parameter's value comes from, by parameter name.
    pub parameters: BTreeMap<String, ParamSource>,
    /// Assets the deployer uploads before this stack.
    pub assets: Vec<AssetRef>,
    /// Capabilities the template needs.
    pub capabilities: Vec<String>,
    /// Stack tags (CloudFormation propagates them to every taggable resource).
    pub tags: BTreeMap<String, String>,
    /// Private bucket of the stack's account and region for assets and templates over
    /// CloudFormation's inline size limit (the deployer creates it if missing).
    pub artifact_bucket: String,
    /// Logical ids of resources the stack keeps when it is deleted (`DeletionPolicy: Retain`).
    pub retains: Vec<String>,
    /// Set for members that name an OU: the stack is a service-managed StackSet administered
    /// from `account_id` (the security account, registered as a delegated administrator) and
    /// deployed to every account of the OU in these regions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_set: Option<StackSetTarget>,
}

/// Where a StackSet deploys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackSetTarget {
    /// OU id (`ou-...`) whose accounts receive the stack instances.
    pub organizational_unit: String,
    /// Regions of the stack instances in every account of the OU.
    pub regions: Vec<String>,
    /// Per region, the administrator's bucket holding the runtime asset (readable by the
    /// organization, because Lambda in each target account fetches the code from it).
    pub artifact_buckets: BTreeMap<String, String>,
}

impl Plan {
    /// Looks a stack up by name.
    pub fn stack(&self, name: &str) -> Option<&PlannedStack> {
        self.stacks.iter().find(|s| s.name == name)
    }

    /// Stacks grouped in waves: each wave depends only on earlier waves, so a wave's stacks can
    /// be deployed in parallel.
    pub fn waves(&self) -> Vec<Vec<&PlannedStack>> {
        let mut level: BTreeMap<&str, usize> = BTreeMap::new();
        let mut waves: Vec<Vec<&PlannedStack>> = Vec::new();
        for s in &self.stacks {
            let l = s
                .depends_on
                .iter()
                .filter_map(|d| level.get(d.as_str()))
                .map(|l| l + 1)
                .max()
                .unwrap_or(0);
            level.insert(&s.name, l);
            if waves.len() <= l {
                waves.resize_with(l + 1, Vec::new);
            }
            waves[l].push(s);
        }
        waves
    }
}
