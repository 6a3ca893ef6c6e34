//! The stack set: one module per stack kind, each building its template from the [`Framework`]
//! and declaring where every template parameter's value comes from.

mod common;
mod forensics_analysis;
mod forensics_evidence_policy;
mod forensics_image_builder;
mod forensics_ingest;
mod member_automation;
mod member_baseline;
mod security_automation;
mod security_hub;
mod security_ir_vpc;
mod security_module_factory;
pub mod workflows;

/// What the memory-capture document is rendered with (the streamer's staged name, LiME's port).
pub use member_automation::{LIME_PORT, STREAMER_NAME};

use std::collections::BTreeMap;
use std::fmt;

use irf_core::cfn::Template;
use irf_core::model::{AccountId, Framework, Member};
use irf_core::region::Region;

pub(crate) use common::{ASSET_BUCKET, ASSET_KEY};

/// A kind of stack: one template, deployed once or once per member (and region).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StackKind {
    /// Forensics: evidence bucket, log buckets, CloudTrail, analysis VPC, analyst roles.
    ForensicsAnalysis,
    /// Forensics: maintenance VPC and the SIFT workstation image pipeline.
    ForensicsImageBuilder,
    /// Security: isolated VPC of the disk-imaging functions.
    SecurityIrVpc,
    /// Security: incident entry point, acquisition functions and state machines.
    SecurityAutomation,
    /// Security: LiME module factory.
    SecurityModuleFactory,
    /// Security: Security Hub custom action.
    SecurityHub,
    /// Forensics: evidence bucket policy (needs the security roles).
    ForensicsEvidencePolicy,
    /// Member account: IAM (`IRAutomation`, instance profiles, function roles).
    MemberBaseline,
    /// Member account and region: tag rule, containment and notification functions, keys,
    /// SSM documents.
    MemberAutomation,
    /// Forensics account, each member region other than the home region: the ingest bucket
    /// memory captures land in before their copy into the evidence bucket.
    ForensicsIngest,
}

impl StackKind {
    /// Every kind, in deploy order (the `NN-` of the template files).
    pub const ORDER: [StackKind; 10] = [
        StackKind::ForensicsAnalysis,
        StackKind::ForensicsImageBuilder,
        StackKind::SecurityIrVpc,
        StackKind::SecurityAutomation,
        StackKind::SecurityModuleFactory,
        StackKind::SecurityHub,
        StackKind::ForensicsEvidencePolicy,
        StackKind::MemberBaseline,
        StackKind::MemberAutomation,
        // Last: nothing reads its outputs and its policies name the memory role by ARN pattern,
        // so it only has to exist before the first capture outside the home region.
        StackKind::ForensicsIngest,
    ];

    /// Short name used in files and stack names.
    pub fn slug(self) -> &'static str {
        match self {
            StackKind::ForensicsAnalysis => "forensics-analysis",
            StackKind::ForensicsImageBuilder => "forensics-image-builder",
            StackKind::SecurityIrVpc => "security-ir-vpc",
            StackKind::SecurityAutomation => "security-automation",
            StackKind::SecurityModuleFactory => "security-module-factory",
            StackKind::SecurityHub => "security-hub",
            StackKind::ForensicsEvidencePolicy => "forensics-evidence-policy",
            StackKind::MemberBaseline => "member-baseline",
            StackKind::MemberAutomation => "member-automation",
            StackKind::ForensicsIngest => "forensics-ingest",
        }
    }

    /// Template file name, `NN-<slug>.yaml`.
    pub fn file_name(self) -> String {
        let n = StackKind::ORDER
            .iter()
            .position(|k| *k == self)
            .map_or(0, |i| i + 1);
        format!("{n:02}-{}.yaml", self.slug())
    }

    /// Kinds that must be deployed before this one although no parameter reads their outputs
    /// (resources referenced by fixed name). For member kinds, the same member's stack.
    pub fn after(self) -> &'static [StackKind] {
        match self {
            StackKind::MemberAutomation => &[StackKind::MemberBaseline],
            _ => &[],
        }
    }

    /// Whether the template runs Lambda functions (and so needs the runtime asset).
    pub fn uses_asset(self) -> bool {
        matches!(
            self,
            StackKind::SecurityAutomation
                | StackKind::SecurityModuleFactory
                | StackKind::SecurityHub
                | StackKind::MemberAutomation
        )
    }

    /// Builds the template.
    pub fn template(self, fw: &Framework) -> Template {
        match self {
            StackKind::ForensicsAnalysis => forensics_analysis::template(fw),
            StackKind::ForensicsImageBuilder => forensics_image_builder::template(fw),
            StackKind::SecurityIrVpc => security_ir_vpc::template(fw),
            StackKind::SecurityAutomation => security_automation::template(fw),
            StackKind::SecurityModuleFactory => security_module_factory::template(fw),
            StackKind::SecurityHub => security_hub::template(fw),
            StackKind::ForensicsEvidencePolicy => forensics_evidence_policy::template(fw),
            StackKind::MemberBaseline => member_baseline::template(fw),
            StackKind::MemberAutomation => member_automation::template(fw),
            StackKind::ForensicsIngest => forensics_ingest::template(fw),
        }
    }

    /// Where each parameter of one instance gets its value.
    pub fn bindings(self, fw: &Framework, target: &Target<'_>) -> BTreeMap<String, Binding> {
        let mut b = match self {
            StackKind::ForensicsAnalysis => forensics_analysis::bindings(fw),
            StackKind::ForensicsImageBuilder => forensics_image_builder::bindings(),
            StackKind::SecurityIrVpc => security_ir_vpc::bindings(),
            StackKind::SecurityAutomation => security_automation::bindings(fw),
            StackKind::SecurityModuleFactory => security_module_factory::bindings(fw),
            StackKind::SecurityHub => security_hub::bindings(fw),
            StackKind::ForensicsEvidencePolicy => forensics_evidence_policy::bindings(),
            StackKind::MemberBaseline => member_baseline::bindings(fw),
            StackKind::MemberAutomation => member_automation::bindings(fw, target),
            StackKind::ForensicsIngest => forensics_ingest::bindings(fw),
        };
        if self.uses_asset() {
            b.insert(ASSET_BUCKET.to_owned(), Binding::Asset);
            b.insert(ASSET_KEY.to_owned(), Binding::Asset);
        }
        b
    }
}

impl fmt::Display for StackKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

/// Where one instance of a stack kind goes.
#[derive(Clone, Debug)]
pub struct Target<'a> {
    /// Account (for a StackSet, the administering account).
    pub account: &'a AccountId,
    /// Region (for a StackSet, where it is administered).
    pub region: Region,
    /// The member, for member stacks.
    pub member: Option<&'a Member>,
    /// For members that name an OU: the OU and the regions of the StackSet instances.
    pub stack_set: Option<(&'a irf_core::model::OuId, Vec<Region>)>,
}

/// Where a parameter's value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Binding {
    /// A value known at synth time.
    Value(String),
    /// An output of another stack (of the same member for member stacks).
    Output {
        /// Kind of the stack that publishes the output.
        kind: StackKind,
        /// Name of the output, one of [`outputs`].
        output: &'static str,
    },
    /// Filled by the deployer from the uploaded runtime asset.
    Asset,
}

impl Binding {
    /// A synth-time value.
    pub fn value(v: impl Into<String>) -> Binding {
        Binding::Value(v.into())
    }

    /// Another stack's output.
    pub fn output(kind: StackKind, output: &'static str) -> Binding {
        Binding::Output { kind, output }
    }
}

/// Output names each stack publishes for its consumers.
pub mod outputs {
    /// forensics-analysis: name of the evidence bucket.
    pub const EVIDENCE_BUCKET: &str = "EvidenceBucketName";
    /// forensics-analysis: ARN of the evidence bucket's key (`alias/ir/evidence`).
    pub const EVIDENCE_KEY_ARN: &str = "EvidenceKeyArn";
    /// forensics-analysis: ARN of the custody ledger signing key (`alias/ir/custody`).
    pub const CUSTODY_KEY_ARN: &str = "CustodyKeyArn";
    /// forensics-analysis: ARN of the central bucket every framework VPC's flow logs go to.
    pub const FLOW_LOGS_BUCKET_ARN: &str = "FlowLogsBucketArn";
    /// forensics-analysis: name of the S3 server-access-log bucket.
    pub const ACCESS_LOGS_BUCKET: &str = "AccessLogsBucketName";
    /// forensics-ingest: name of the region's ingest bucket.
    pub const INGEST_BUCKET: &str = "IngestBucketName";
    /// forensics-ingest: ARN of the ingest bucket's key (`alias/ir/ingest`).
    pub const INGEST_KEY_ARN: &str = "IngestKeyArn";
    /// forensics-analysis: ARN of the analyst role that may also write analysis results.
    pub const ANALYST_RW_ROLE_ARN: &str = "AnalystReadWriteRoleArn";
    /// security-ir-vpc: the IR VPC's subnet ids, comma-separated.
    pub const IR_SUBNET_IDS: &str = "IrSubnetIds";
    /// security-ir-vpc: id of the imaging functions' security group.
    pub const IMAGING_SG: &str = "ImagingSecurityGroupId";
    /// security-automation: ARN of `SnapshotAutomationLambdaRole` (disk acquisition).
    pub const SNAPSHOT_ROLE_ARN: &str = "SnapshotRoleArn";
    /// security-automation: ARN of `MemoryAutomationLambdaRole` (memory acquisition).
    pub const MEMORY_ROLE_ARN: &str = "MemoryRoleArn";
    /// security-automation: ARN of `IRCaseRecordRole` (custody ledger, final containment tag).
    pub const CASE_ROLE_ARN: &str = "CaseRoleArn";
    /// security-automation: ARN of the incident trigger's role (it verifies instances through
    /// `IRAutomation`).
    pub const TRIGGER_ROLE_ARN: &str = "IncidentTriggerRoleArn";
    /// security-automation: ARN of the incident bus members send requests to.
    pub const INCIDENT_BUS_ARN: &str = "IncidentBusArn";
    /// security-automation: name of the memory-modules bucket.
    pub const MODULES_BUCKET: &str = "ModulesBucketName";
    /// security-automation: ARN of the key behind `alias/ir/sec`.
    pub const SECURITY_KEY_ARN: &str = "SecurityKeyArn";
    /// security-hub: ARN of `SecurityHubCustomActionLambdaRole`.
    pub const SECURITY_HUB_ROLE_ARN: &str = "SecurityHubRoleArn";
    /// member-baseline: ARN of the tag handler's role.
    pub const CONTAINMENT_ROLE_ARN: &str = "ContainmentRoleArn";
    /// member-baseline: ARN of the member notification function's role.
    pub const NOTIFY_ROLE_ARN: &str = "NotifyRoleArn";
    /// member-baseline: ARN of `IRInstanceProfile`.
    pub const IR_PROFILE_ARN: &str = "IrInstanceProfileArn";
    /// member-baseline: ARN of `IRIsolationInstanceProfile`.
    pub const ISOLATION_PROFILE_ARN: &str = "IsolationInstanceProfileArn";
    /// member-baseline: ARN of the deny-all role of the isolation profile.
    pub const ISOLATION_ROLE_ARN: &str = "IsolationRoleArn";
}
