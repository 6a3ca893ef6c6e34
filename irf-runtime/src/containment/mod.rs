//! Preparing an instance for analysis, containing it, and releasing it.
//!
//! Before anything changes, the instance's state (instance profile, security groups per network
//! interface, termination protection, shutdown behaviour, volume retention, Elastic IPs) is
//! written once to an SSM parameter in the instance's account (`record`), so containment can
//! be reviewed and reversed. Every run reads the instance's state first (`state`), then
//! computes the changes not in place yet (`plan`, no AWS calls) and makes them, so running the
//! same request twice (a Lambda retry) ends in the same state without duplicate groups, policies
//! or notifications.
//!
//! Containment isolates each network interface through the framework's security groups, which
//! cuts established connections too (`groups`, see [`ALWAYS_TRACKED`] for what it cannot
//! cut); it swaps the instance profile (`profile`), can take Elastic IPs off
//! (`elastic_ips`) and revokes the sessions the previous roles issued to the instance
//! (`sessions`).

mod attributes;
mod change;
mod elastic_ips;
mod groups;
mod plan;
mod profile;
mod record;
mod sessions;
mod state;

use futures::future::try_join_all;
use serde::{Deserialize, Serialize};

pub use change::{Change, ProfilePurpose, Report};
pub use groups::{ALWAYS_TRACKED, ISOLATION_TAG};
pub use record::{ElasticIp, PriorState};

use crate::error::Result;
use plan::Plan;
use state::{Addresses, Current};

/// Containment settings.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Org prefix (names the prior-state parameter).
    pub prefix: String,
    /// Instance profile for analysis (SSM only); `None` leaves the profile alone on analyze.
    pub ir_profile_arn: Option<String>,
    /// Deny-all instance profile; `None` (framework not deployed) removes the profile instead.
    pub isolation_profile_arn: Option<String>,
    /// Disassociate Elastic IPs on containment.
    pub disassociate_elastic_ips: bool,
    /// Revoke the previous roles' sessions issued to this instance.
    pub revoke_role_sessions: bool,
}

/// The instance worked on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// The instance's account (the clients work in it).
    pub account: String,
    /// The instance's region.
    pub region: String,
    /// Id of the instance (`i-…`).
    pub instance_id: String,
}

/// The containment engine for one instance.
#[derive(Debug)]
pub struct Containment {
    ec2: aws_sdk_ec2::Client,
    iam: aws_sdk_iam::Client,
    ssm: aws_sdk_ssm::Client,
    settings: Settings,
    target: Target,
    partition: String,
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

impl Containment {
    /// An engine working with clients in the instance's account and region.
    pub fn new(
        ec2: aws_sdk_ec2::Client,
        iam: aws_sdk_iam::Client,
        ssm: aws_sdk_ssm::Client,
        settings: Settings,
        target: Target,
        partition: &str,
    ) -> Self {
        Containment {
            ec2,
            iam,
            ssm,
            settings,
            target,
            partition: partition.to_owned(),
        }
    }

    /// The SSM parameter holding the prior state.
    pub fn parameter_name(&self) -> String {
        format!(
            "/{}/{}/{}",
            self.settings.prefix,
            irf_core::contract::PRIOR_STATE_PARAMETER_PREFIX,
            self.target.instance_id
        )
    }

    /// Name of the per-instance revocation policy put on roles.
    pub fn revocation_policy_name(&self) -> String {
        sessions::policy_name(&self.target.instance_id)
    }

    fn instance_arn(&self) -> String {
        format!(
            "arn:{}:ec2:{}:{}:instance/{}",
            self.partition, self.target.region, self.target.account, self.target.instance_id
        )
    }

    /// Reads the prior-state record, if there is one.
    pub async fn prior_state(&self) -> Result<Option<PriorState>> {
        record::read(&self.ssm, &self.parameter_name()).await
    }

    /// Reads the instance's state, and records it unless a record exists; returns the state,
    /// the record in force and whether this call wrote it.
    async fn read_and_record(&self) -> Result<(Current, PriorState, bool)> {
        let addresses = if self.settings.disassociate_elastic_ips {
            Addresses::OfInstance
        } else {
            Addresses::Skip
        };
        let now = state::read(&self.ec2, &self.target, addresses).await?;
        let (record, recorded) = record::ensure(
            &self.ssm,
            &self.parameter_name(),
            PriorState::of(&now, now_rfc3339()),
        )
        .await?;
        Ok((now, record, recorded))
    }

    /// Prepares the instance for acquisition: record, protect, SSM-capable profile.
    pub async fn analyze(&self) -> Result<Report> {
        let (now, _, recorded) = self.read_and_record().await?;
        let plan = plan::analyze(&now, &self.settings);
        Ok(self.report(self.make(plan).await?, recorded))
    }

    /// Contains the instance: record, protect, deny-all profile, isolation on every interface
    /// (cutting established connections), optional Elastic IP removal, session revocation.
    pub async fn contain(&self) -> Result<Report> {
        let (now, record, recorded) = self.read_and_record().await?;
        // The framework's groups belong to the VPC, not to the instance: found or created (and
        // put back in shape) before planning, since the plan names them.
        let groups = match &now.vpc_id {
            Some(vpc) if !now.interfaces.is_empty() => Some(groups::ensure(&self.ec2, vpc).await?),
            _ => None,
        };
        let roles = if self.settings.revoke_role_sessions {
            let profiles = plan::revoked_profiles(&now, &record, &self.settings);
            sessions::roles(&self.iam, &profiles, false).await?
        } else {
            sessions::Roles::new()
        };
        let plan = plan::contain(
            &now,
            &record,
            recorded,
            &self.settings,
            groups.as_ref(),
            &roles,
        );
        Ok(self.report(self.make(plan).await?, recorded))
    }

    /// Restores the recorded state and removes the record. Session revocations stay unless
    /// `lift_revocations`: they only deny credentials issued before containment, which may be in
    /// an attacker's hands.
    pub async fn release(&self, lift_revocations: bool) -> Result<Report> {
        let Some(record) = self.prior_state().await? else {
            return Ok(self.report(Vec::new(), false));
        };
        let allocations = record
            .elastic_ips
            .iter()
            .map(|ip| ip.allocation_id.clone())
            .collect();
        let now = state::read(&self.ec2, &self.target, Addresses::Allocations(allocations)).await?;
        let lift = if lift_revocations {
            let profiles = plan::lifted_profiles(&now, &record, &self.settings);
            // A profile deleted since has no roles to lift a revocation from.
            Some(sessions::roles(&self.iam, &profiles, true).await?)
        } else {
            None
        };
        let plan = plan::release(&now, &record, lift.as_ref());
        let changes = self.make(plan).await?;
        record::delete(&self.ssm, &self.parameter_name()).await?;
        Ok(self.report(changes, false))
    }

    fn report(&self, changes: Vec<Change>, recorded: bool) -> Report {
        Report {
            changes,
            prior_state_parameter: self.parameter_name(),
            recorded,
        }
    }

    /// Makes the plan's changes in order and returns those that took effect. The leading
    /// instance-attribute changes are independent of each other and made at once.
    async fn make(&self, plan: Plan) -> Result<Vec<Change>> {
        let (attributes, rest) = plan.changes.split_at(
            plan.changes
                .iter()
                .take_while(|c| {
                    matches!(
                        c,
                        Change::TerminationProtected
                            | Change::StopOnShutdown
                            | Change::VolumesKept { .. }
                    )
                })
                .count(),
        );
        let made = try_join_all(attributes.iter().map(|c| self.apply(c))).await?;
        let mut done: Vec<Change> = attributes
            .iter()
            .zip(made)
            .filter(|(_, made)| *made)
            .map(|(c, _)| c.clone())
            .collect();
        for change in rest {
            if self.apply(change).await? {
                done.push(change.clone());
            }
        }
        for change in &plan.reapplied {
            self.apply(change).await?;
        }
        Ok(done)
    }

    /// Makes one change; false when it turned out to be in place already.
    async fn apply(&self, change: &Change) -> Result<bool> {
        let (ec2, id) = (&self.ec2, self.target.instance_id.as_str());
        match change {
            Change::TerminationProtected => {
                attributes::set_termination_protection(ec2, id, true).await?;
            }
            Change::StopOnShutdown => {
                attributes::set_shutdown_behavior(ec2, id, attributes::STOP).await?;
            }
            Change::VolumesKept { devices } => {
                let keep = devices.iter().map(|d| (d.clone(), false)).collect();
                attributes::set_delete_on_termination(ec2, id, &keep, "keep volumes").await?;
            }
            Change::ProfileSwapped {
                association_id, to, ..
            } => {
                return profile::swap(ec2, id, association_id.as_deref(), to.as_deref()).await;
            }
            Change::SecurityGroupsReplaced {
                eni,
                untrack_group,
                isolation_group,
                ..
            } => groups::isolate(ec2, eni, untrack_group, isolation_group).await?,
            Change::SecurityGroupsRestored { eni, groups } => {
                groups::set(ec2, eni, groups).await?;
            }
            Change::ElasticIpDisassociated { association_id, .. } => {
                elastic_ips::disassociate(ec2, association_id).await?;
            }
            Change::ElasticIpReassociated { address } => {
                elastic_ips::associate(ec2, address).await?;
            }
            Change::SessionsRevoked { roles, .. } => {
                let policy = self.revocation_policy_name();
                sessions::revoke(&self.iam, &self.instance_arn(), &policy, roles).await?;
            }
            Change::RevocationLifted { role } => {
                return sessions::lift(&self.iam, role, &self.revocation_policy_name()).await;
            }
            Change::AttributesRestored {
                termination_protection,
                shutdown_behavior,
                delete_on_termination,
            } => {
                attributes::set_termination_protection(ec2, id, *termination_protection).await?;
                attributes::set_shutdown_behavior(ec2, id, shutdown_behavior).await?;
                if !delete_on_termination.is_empty() {
                    attributes::set_delete_on_termination(
                        ec2,
                        id,
                        delete_on_termination,
                        "volume retention",
                    )
                    .await?;
                }
            }
        }
        Ok(true)
    }
}
