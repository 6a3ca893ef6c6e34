//! The changes a run makes to an instance, and the report of a run.
//!
//! Each change carries what it needs to be made and reads as one line for operators
//! ([`fmt::Display`]); that line is also its JSON form (the handler's output, `irf --json`).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Serialize, Serializer};

use super::record::ElasticIp;

/// Why the instance profile changes (it decides how the change reads).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfilePurpose {
    /// Analysis: the SSM-only profile, so acquisition can command the instance.
    Analysis,
    /// Containment: the deny-all profile, or none where the framework is not deployed.
    Isolation,
    /// Release: the recorded profile.
    Restoration,
}

/// One change to an instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Termination protection turned on.
    TerminationProtected,
    /// A shutdown from inside the instance now stops it instead of terminating it.
    StopOnShutdown,
    /// The volumes at these device names are now kept when the instance terminates.
    VolumesKept {
        /// Device names (`/dev/xvda`).
        devices: Vec<String>,
    },
    /// The instance profile replaced, given or removed.
    ProfileSwapped {
        /// The association the swap replaces or removes; `None` when there was no profile.
        association_id: Option<String>,
        /// The profile before; `None` for no profile.
        from: Option<String>,
        /// The profile after; `None` for no profile.
        to: Option<String>,
        /// What the new profile is for.
        purpose: ProfilePurpose,
    },
    /// An interface's security groups replaced by the isolation group, through the untrack
    /// group (which cuts established connections).
    SecurityGroupsReplaced {
        /// Id of the network interface (`eni-...`).
        eni: String,
        /// Its groups before.
        from: Vec<String>,
        /// The group that allows everything, set first.
        untrack_group: String,
        /// The group that allows nothing, set last.
        isolation_group: String,
    },
    /// An Elastic IP taken off the instance.
    ElasticIpDisassociated {
        /// Allocation id of the address (`eipalloc-...`).
        allocation_id: String,
        /// The association removed.
        association_id: String,
    },
    /// Sessions issued to the instance by an instance profile's roles revoked.
    SessionsRevoked {
        /// The profile whose roles carry the revocation.
        profile: String,
        /// Names of the profile's roles, each given the revocation policy.
        roles: Vec<String>,
    },
    /// An interface's recorded security groups set again.
    SecurityGroupsRestored {
        /// Id of the network interface (`eni-...`).
        eni: String,
        /// Its recorded groups.
        groups: Vec<String>,
    },
    /// Termination protection, shutdown behaviour and volume retention set as recorded.
    AttributesRestored {
        /// Recorded termination protection.
        termination_protection: bool,
        /// Recorded shutdown behaviour.
        shutdown_behavior: String,
        /// Recorded delete-on-termination of the devices where it differs now.
        delete_on_termination: BTreeMap<String, bool>,
    },
    /// An Elastic IP put back where it was.
    ElasticIpReassociated {
        /// The recorded association.
        address: ElasticIp,
    },
    /// A session revocation removed from a role.
    RevocationLifted {
        /// Name of the role the revocation policy was deleted from.
        role: String,
    },
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::TerminationProtected => f.write_str("termination protection on"),
            Change::StopOnShutdown => f.write_str("shutdown stops instead of terminating"),
            Change::VolumesKept { .. } => f.write_str("volumes kept on termination"),
            Change::ProfileSwapped { to, purpose, .. } => match (purpose, to) {
                (ProfilePurpose::Analysis, Some(p)) => {
                    write!(f, "instance profile set to {p} (SSM only)")
                }
                (ProfilePurpose::Isolation, Some(p)) => {
                    write!(f, "instance profile set to {p} (denies everything)")
                }
                (ProfilePurpose::Analysis | ProfilePurpose::Isolation, None) => {
                    f.write_str("instance profile removed")
                }
                (ProfilePurpose::Restoration, to) => write!(
                    f,
                    "instance profile restored to {}",
                    to.as_deref().unwrap_or("none")
                ),
            },
            Change::SecurityGroupsReplaced {
                eni,
                from,
                isolation_group,
                ..
            } => write!(
                f,
                "{eni}: security groups {from:?} replaced by the isolation group {isolation_group}"
            ),
            Change::ElasticIpDisassociated { allocation_id, .. } => {
                write!(f, "Elastic IP {allocation_id} disassociated")
            }
            Change::SessionsRevoked { roles, .. } => write!(
                f,
                "sessions issued to this instance revoked on {}",
                roles.join(", ")
            ),
            Change::SecurityGroupsRestored { eni, groups } => {
                write!(f, "{eni}: security groups restored to {groups:?}")
            }
            Change::AttributesRestored {
                termination_protection,
                shutdown_behavior,
                ..
            } => write!(
                f,
                "termination protection {}, shutdown {shutdown_behavior}, volume retention restored",
                if *termination_protection { "on" } else { "off" }
            ),
            Change::ElasticIpReassociated { address } => {
                write!(f, "Elastic IP {} re-associated", address.allocation_id)
            }
            Change::RevocationLifted { role } => write!(f, "session revocation lifted on {role}"),
        }
    }
}

/// A change is serialized as its line.
impl Serialize for Change {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What one run did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Changes made, in order; empty when everything already was as required.
    pub changes: Vec<Change>,
    /// Name of the SSM parameter holding the prior-state record
    /// (`/<prefix>/containment/<instance-id>`).
    pub prior_state_parameter: String,
    /// True when this run recorded the prior state (first action on the instance).
    pub recorded: bool,
}

impl Report {
    /// The changes as one line, `; `-separated (narration).
    pub fn summary(&self) -> String {
        self.changes
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn swapped(to: Option<&str>, purpose: ProfilePurpose) -> Change {
        Change::ProfileSwapped {
            association_id: Some("iip-assoc-1".into()),
            from: Some("arn:aws:iam::1:instance-profile/web".into()),
            to: to.map(str::to_owned),
            purpose,
        }
    }

    /// The lines operators, narration and `--json` have always shown.
    #[test]
    fn each_change_reads_as_its_line() {
        let p = "arn:aws:iam::1:instance-profile/p";
        let lines = [
            (Change::TerminationProtected, "termination protection on"),
            (
                Change::StopOnShutdown,
                "shutdown stops instead of terminating",
            ),
            (
                Change::VolumesKept {
                    devices: vec!["/dev/xvda".into()],
                },
                "volumes kept on termination",
            ),
            (
                swapped(Some(p), ProfilePurpose::Analysis),
                "instance profile set to arn:aws:iam::1:instance-profile/p (SSM only)",
            ),
            (
                swapped(Some(p), ProfilePurpose::Isolation),
                "instance profile set to arn:aws:iam::1:instance-profile/p (denies everything)",
            ),
            (
                swapped(None, ProfilePurpose::Isolation),
                "instance profile removed",
            ),
            (
                swapped(Some(p), ProfilePurpose::Restoration),
                "instance profile restored to arn:aws:iam::1:instance-profile/p",
            ),
            (
                swapped(None, ProfilePurpose::Restoration),
                "instance profile restored to none",
            ),
            (
                Change::SecurityGroupsReplaced {
                    eni: "eni-1".into(),
                    from: vec!["sg-a".into(), "sg-b".into()],
                    untrack_group: "sg-u".into(),
                    isolation_group: "sg-i".into(),
                },
                r#"eni-1: security groups ["sg-a", "sg-b"] replaced by the isolation group sg-i"#,
            ),
            (
                Change::ElasticIpDisassociated {
                    allocation_id: "eipalloc-1".into(),
                    association_id: "eipassoc-1".into(),
                },
                "Elastic IP eipalloc-1 disassociated",
            ),
            (
                Change::SessionsRevoked {
                    profile: p.into(),
                    roles: vec!["web".into(), "batch".into()],
                },
                "sessions issued to this instance revoked on web, batch",
            ),
            (
                Change::SecurityGroupsRestored {
                    eni: "eni-1".into(),
                    groups: vec!["sg-a".into()],
                },
                r#"eni-1: security groups restored to ["sg-a"]"#,
            ),
            (
                Change::AttributesRestored {
                    termination_protection: false,
                    shutdown_behavior: "terminate".into(),
                    delete_on_termination: BTreeMap::new(),
                },
                "termination protection off, shutdown terminate, volume retention restored",
            ),
            (
                Change::ElasticIpReassociated {
                    address: ElasticIp {
                        allocation_id: "eipalloc-1".into(),
                        network_interface_id: "eni-1".into(),
                        private_ip: None,
                    },
                },
                "Elastic IP eipalloc-1 re-associated",
            ),
            (
                Change::RevocationLifted { role: "web".into() },
                "session revocation lifted on web",
            ),
        ];
        for (change, line) in lines {
            assert_eq!(change.to_string(), line, "{change:?}");
        }
    }

    #[test]
    fn the_report_serializes_changes_as_their_lines() {
        let report = Report {
            changes: vec![
                Change::TerminationProtected,
                swapped(None, ProfilePurpose::Isolation),
            ],
            prior_state_parameter: "/irf/containment/i-1".into(),
            recorded: true,
        };
        assert_eq!(
            serde_json::to_value(&report).unwrap(),
            serde_json::json!({
                "changes": ["termination protection on", "instance profile removed"],
                "prior_state_parameter": "/irf/containment/i-1",
                "recorded": true,
            })
        );
        assert_eq!(
            report.summary(),
            "termination protection on; instance profile removed"
        );
    }
}
