//! The resolved framework: what `org.toml` means, with every default applied and every value
//! checked. Stacks are synthesized from a [`Framework`] only, never from the raw file.

mod ids;
mod names;
mod network;
mod policies;

use std::collections::BTreeMap;

use serde::Serialize;

pub use ids::{AccountId, AmiId, OrgId, OuId};
pub use names::{Names, check_bucket_name};
pub use network::{NetworkPlan, SubnetPlan, VpcPlan, capacity, carve};
pub use policies::{
    AcquisitionPolicy, Architecture, BuilderTypes, ContainmentPolicy, DiskMethod, EvidencePolicy,
    LambdaSettings, LockMode, MemoryMethod, ModuleFactory, Notifications, SiftImage, SlackTarget,
};

use crate::region::{Partition, Region};

/// The organization and where the framework's central stacks live.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Organization {
    /// AWS Organizations id; scopes the resource policies (`aws:PrincipalOrgID`).
    pub id: OrgId,
    /// Partition of every account and region.
    pub partition: Partition,
    /// Region of the security and forensics stacks (and the evidence bucket).
    pub home_region: Region,
    /// Prefix of every physical name the framework creates.
    pub prefix: String,
}

/// Where a member's stacks go: one account, or every account of an OU (service-managed StackSet).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum MemberTarget {
    /// One account, deployed directly.
    Account(AccountId),
    /// Every account in an organizational unit, deployed through a StackSet.
    Ou(OuId),
}

/// A member: accounts whose instances the framework protects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Member {
    /// Short name, used in stack names (`payments`).
    pub name: String,
    /// Account or OU.
    pub target: MemberTarget,
    /// Regions whose instances are covered; the first is where account-wide resources go.
    pub regions: Vec<Region>,
}

impl Member {
    /// The member's account, when it names one.
    pub fn account(&self) -> Option<&AccountId> {
        match &self.target {
            MemberTarget::Account(a) => Some(a),
            MemberTarget::Ou(_) => None,
        }
    }

    /// Region of the member's account-wide (IAM) stack.
    pub fn baseline_region(&self) -> Region {
        self.regions[0]
    }
}

/// The whole framework, resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Framework {
    /// Id, partition, home region and prefix.
    pub org: Organization,
    /// Security account (automation, state machines, modules).
    pub security: AccountId,
    /// Forensics account (evidence, analysis VPC, SIFT image).
    pub forensics: AccountId,
    /// Member accounts or OUs.
    pub members: Vec<Member>,
    /// Every VPC and subnet.
    pub network: NetworkPlan,
    /// Evidence retention.
    pub evidence: EvidencePolicy,
    /// Acquisition behaviour.
    pub acquisition: AcquisitionPolicy,
    /// Containment behaviour.
    pub containment: ContainmentPolicy,
    /// Notification targets.
    pub notifications: Notifications,
    /// Memory-module factory.
    pub module_factory: ModuleFactory,
    /// SIFT workstation image pipeline.
    pub sift: SiftImage,
    /// Architecture and log retention of every function.
    pub lambda: LambdaSettings,
    /// Tags applied to every taggable resource.
    pub tags: BTreeMap<String, String>,
    /// Every physical name, derived from the prefix.
    pub names: Names,
}

impl Framework {
    /// The partition (shortcut).
    pub fn partition(&self) -> Partition {
        self.org.partition
    }

    /// The home region (shortcut).
    pub fn home_region(&self) -> Region {
        self.org.home_region
    }

    /// ARN of a role in an account of this partition.
    pub fn role_arn(&self, account: &AccountId, role: &str) -> String {
        format!("arn:{}:iam::{account}:role/{role}", self.partition())
    }

    /// Every (account, region) pair the deployer touches directly (OU members excluded).
    pub fn deploy_targets(&self) -> Vec<(&AccountId, Region)> {
        let mut targets = vec![
            (&self.security, self.home_region()),
            (&self.forensics, self.home_region()),
        ];
        for m in &self.members {
            if let Some(a) = m.account() {
                targets.extend(m.regions.iter().map(|r| (a, *r)));
            }
        }
        targets.extend(
            self.ingest_regions()
                .into_iter()
                .map(|r| (&self.forensics, r)),
        );
        targets.sort();
        targets.dedup();
        targets
    }

    /// Every member region, deduplicated and sorted (OU members included).
    pub fn member_regions(&self) -> Vec<Region> {
        let mut regions: Vec<Region> = self
            .members
            .iter()
            .flat_map(|m| m.regions.iter().copied())
            .collect();
        regions.sort();
        regions.dedup();
        regions
    }

    /// Member regions other than the home region, sorted: each gets an ingest bucket in the
    /// forensics account ([`Names::ingest_bucket`]).
    pub fn ingest_regions(&self) -> Vec<Region> {
        let home = self.home_region();
        self.member_regions()
            .into_iter()
            .filter(|r| *r != home)
            .collect()
    }
}
