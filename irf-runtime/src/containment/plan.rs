//! What a run changes, computed from the instance's current state and its prior-state record,
//! without any AWS call: the changes not already in place, in the order they are made.
//!
//! Running the same request again (a Lambda or Step Functions retry) therefore plans only what
//! the earlier attempt did not finish, and nothing at all once it is done.

use std::collections::{BTreeMap, BTreeSet};

use super::Settings;
use super::attributes::STOP;
use super::change::{Change, ProfilePurpose};
use super::groups::IsolationGroups;
use super::record::PriorState;
use super::sessions::Roles;
use super::state::Current;

/// The changes of one run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Made in order, and reported.
    pub(crate) changes: Vec<Change>,
    /// Made after `changes` and not reported: session revocations an earlier run made already
    /// as far as the record and the profile show. Whether it got to them cannot be read (the
    /// policy is the same with an older date), so they are made again, which only moves their
    /// cut-off to now.
    pub(crate) reapplied: Vec<Change>,
}

/// Termination protection, stop on shutdown and volumes kept: those not so already.
fn protections(now: &Current) -> Vec<Change> {
    let mut changes = Vec::new();
    if !now.termination_protected {
        changes.push(Change::TerminationProtected);
    }
    if now.shutdown_behavior != STOP {
        changes.push(Change::StopOnShutdown);
    }
    let deleted: Vec<String> = now
        .delete_on_termination
        .iter()
        .filter(|(_, delete)| **delete)
        .map(|(device, _)| device.clone())
        .collect();
    if !deleted.is_empty() {
        changes.push(Change::VolumesKept { devices: deleted });
    }
    changes
}

/// The swap to profile `to` (`None`: no profile), unless the instance has it already.
fn profile(now: &Current, to: Option<&str>, purpose: ProfilePurpose) -> Option<Change> {
    let from = now.profile.as_ref();
    if from.map(|p| p.arn.as_str()) == to {
        return None;
    }
    Some(Change::ProfileSwapped {
        association_id: from.map(|p| p.association_id.clone()),
        from: from.map(|p| p.arn.clone()),
        to: to.map(str::to_owned),
        purpose,
    })
}

/// Analysis preparation: protections, then the SSM-only profile (when there is one).
pub(crate) fn analyze(now: &Current, settings: &Settings) -> Plan {
    let mut changes = protections(now);
    if let Some(p) = settings.ir_profile_arn.as_deref() {
        changes.extend(profile(now, Some(p), ProfilePurpose::Analysis));
    }
    Plan {
        changes,
        reapplied: Vec::new(),
    }
}

/// The profiles whose roles' sessions containment revokes: the recorded one and the one in
/// force now (the SSM-only one after analysis), never the deny-all one.
pub(crate) fn revoked_profiles(
    now: &Current,
    record: &PriorState,
    settings: &Settings,
) -> Vec<String> {
    let isolation = settings.isolation_profile_arn.as_deref();
    [
        record.instance_profile_arn.clone(),
        now.profile.as_ref().map(|p| p.arn.clone()),
    ]
    .into_iter()
    .flatten()
    .filter(|p| Some(p.as_str()) != isolation)
    .collect::<BTreeSet<_>>()
    .into_iter()
    .collect()
}

/// Containment: protections, the deny-all profile, the isolation group on every interface
/// (`groups` is `None` when the instance has no interface in a VPC), Elastic IPs off (by
/// setting), then session revocation on `roles` (by setting).
///
/// `recorded` says whether this run wrote the record. Revocations are reported when this run
/// recorded the state or swaps the profile (the first containment of this record); otherwise an
/// earlier run made them and they are [`Plan::reapplied`].
pub(crate) fn contain(
    now: &Current,
    record: &PriorState,
    recorded: bool,
    settings: &Settings,
    groups: Option<&IsolationGroups>,
    roles: &Roles,
) -> Plan {
    let mut changes = protections(now);
    let isolation = settings.isolation_profile_arn.as_deref();
    changes.extend(profile(now, isolation, ProfilePurpose::Isolation));
    if let Some(g) = groups {
        for (eni, from) in &now.interfaces {
            if from.as_slice() != std::slice::from_ref(&g.isolate) {
                changes.push(Change::SecurityGroupsReplaced {
                    eni: eni.clone(),
                    from: from.clone(),
                    untrack_group: g.untrack.clone(),
                    isolation_group: g.isolate.clone(),
                });
            }
        }
    }
    if settings.disassociate_elastic_ips {
        for a in &now.addresses {
            if let Some(association_id) = &a.association_id {
                changes.push(Change::ElasticIpDisassociated {
                    allocation_id: a.allocation_id.clone(),
                    association_id: association_id.clone(),
                });
            }
        }
    }
    let mut reapplied = Vec::new();
    if settings.revoke_role_sessions {
        let first = recorded
            || changes
                .iter()
                .any(|c| matches!(c, Change::ProfileSwapped { .. }));
        for profile in revoked_profiles(now, record, settings) {
            let revocation = Change::SessionsRevoked {
                roles: roles.get(&profile).cloned().unwrap_or_default(),
                profile,
            };
            if first {
                changes.push(revocation);
            } else {
                reapplied.push(revocation);
            }
        }
    }
    Plan { changes, reapplied }
}

/// The profiles whose roles may carry this instance's revocation: the recorded one, the one in
/// force now, and the SSM-only one.
pub(crate) fn lifted_profiles(
    now: &Current,
    record: &PriorState,
    settings: &Settings,
) -> Vec<String> {
    [
        record.instance_profile_arn.clone(),
        now.profile.as_ref().map(|p| p.arn.clone()),
        settings.ir_profile_arn.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<BTreeSet<_>>()
    .into_iter()
    .collect()
}

/// Release: the recorded profile, the recorded groups on each interface, the recorded
/// attributes (always set: they are one step), the recorded Elastic IPs where they are not
/// back already, and with `lift` (the roles of [`lifted_profiles`]) the revocations lifted.
pub(crate) fn release(now: &Current, record: &PriorState, lift: Option<&Roles>) -> Plan {
    let mut changes = Vec::new();
    changes.extend(profile(
        now,
        record.instance_profile_arn.as_deref(),
        ProfilePurpose::Restoration,
    ));
    for (eni, groups) in &record.network_interfaces {
        if now.interfaces.get(eni) != Some(groups) {
            changes.push(Change::SecurityGroupsRestored {
                eni: eni.clone(),
                groups: groups.clone(),
            });
        }
    }
    changes.push(Change::AttributesRestored {
        termination_protection: record.disable_api_termination,
        shutdown_behavior: record.shutdown_behavior.clone(),
        delete_on_termination: record
            .delete_on_termination
            .iter()
            .filter(|(device, delete)| now.delete_on_termination.get(*device) != Some(delete))
            .map(|(device, delete)| (device.clone(), *delete))
            .collect::<BTreeMap<_, _>>(),
    });
    for ip in &record.elastic_ips {
        let back = now.addresses.iter().any(|a| {
            a.allocation_id == ip.allocation_id
                && a.network_interface_id.as_deref() == Some(ip.network_interface_id.as_str())
        });
        if !back {
            changes.push(Change::ElasticIpReassociated {
                address: ip.clone(),
            });
        }
    }
    if let Some(roles) = lift {
        // A role in two profiles carries one policy: lifted once.
        let mut seen = BTreeSet::new();
        for role in roles.values().flatten() {
            if seen.insert(role) {
                changes.push(Change::RevocationLifted { role: role.clone() });
            }
        }
    }
    Plan {
        changes,
        reapplied: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::containment::record::ElasticIp;
    use crate::containment::state::{Address, ProfileAssociation};

    const WEB: &str = "arn:aws:iam::111111111111:instance-profile/web";
    const IR: &str = "arn:aws:iam::111111111111:instance-profile/irf-ir";
    const ISOLATION: &str = "arn:aws:iam::111111111111:instance-profile/irf-isolation";

    fn settings() -> Settings {
        Settings {
            prefix: "irf".into(),
            ir_profile_arn: Some(IR.into()),
            isolation_profile_arn: Some(ISOLATION.into()),
            disassociate_elastic_ips: false,
            revoke_role_sessions: true,
        }
    }

    fn groups() -> IsolationGroups {
        IsolationGroups {
            untrack: "sg-untrack".into(),
            isolate: "sg-isolate".into(),
        }
    }

    fn roles() -> Roles {
        Roles::from([
            (WEB.to_owned(), vec!["web".to_owned()]),
            (IR.to_owned(), vec!["irf-ir".to_owned()]),
        ])
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    /// An instance nobody has touched: profile `web`, two interfaces, unprotected, terminating
    /// on shutdown, its root volume deleted on termination.
    fn fresh() -> Current {
        Current {
            instance_id: "i-1".into(),
            vpc_id: Some("vpc-1".into()),
            profile: Some(ProfileAssociation {
                association_id: "iip-assoc-1".into(),
                arn: WEB.into(),
            }),
            termination_protected: false,
            shutdown_behavior: "terminate".into(),
            delete_on_termination: BTreeMap::from([
                ("/dev/xvda".into(), true),
                ("/dev/xvdb".into(), false),
            ]),
            interfaces: BTreeMap::from([
                ("eni-1".into(), strings(&["sg-web"])),
                ("eni-2".into(), strings(&["sg-db", "sg-admin"])),
            ]),
            addresses: Vec::new(),
        }
    }

    fn record_of(now: &Current) -> PriorState {
        PriorState::of(now, "2026-11-29T10:00:00Z".into())
    }

    fn swap(from: Option<(&str, &str)>, to: Option<&str>, purpose: ProfilePurpose) -> Change {
        Change::ProfileSwapped {
            association_id: from.map(|(a, _)| a.to_owned()),
            from: from.map(|(_, p)| p.to_owned()),
            to: to.map(str::to_owned),
            purpose,
        }
    }

    fn isolated(eni: &str, from: &[&str]) -> Change {
        Change::SecurityGroupsReplaced {
            eni: eni.into(),
            from: strings(from),
            untrack_group: "sg-untrack".into(),
            isolation_group: "sg-isolate".into(),
        }
    }

    fn revoked(profile: &str, roles: &[&str]) -> Change {
        Change::SessionsRevoked {
            profile: profile.into(),
            roles: strings(roles),
        }
    }

    fn protections() -> Vec<Change> {
        vec![
            Change::TerminationProtected,
            Change::StopOnShutdown,
            Change::VolumesKept {
                devices: strings(&["/dev/xvda"]),
            },
        ]
    }

    /// The state `changes` lead to, as EC2 would show it afterwards.
    fn after(now: &Current, changes: &[Change]) -> Current {
        let mut s = now.clone();
        for c in changes {
            match c {
                Change::TerminationProtected => s.termination_protected = true,
                Change::StopOnShutdown => s.shutdown_behavior = STOP.into(),
                Change::VolumesKept { devices } => {
                    for d in devices {
                        s.delete_on_termination.insert(d.clone(), false);
                    }
                }
                Change::ProfileSwapped { to, .. } => {
                    s.profile = to.as_ref().map(|arn| ProfileAssociation {
                        association_id: format!("iip-assoc-for-{arn}"),
                        arn: arn.clone(),
                    });
                }
                Change::SecurityGroupsReplaced {
                    eni,
                    isolation_group,
                    ..
                } => {
                    s.interfaces
                        .insert(eni.clone(), vec![isolation_group.clone()]);
                }
                Change::SecurityGroupsRestored { eni, groups } => {
                    s.interfaces.insert(eni.clone(), groups.clone());
                }
                Change::ElasticIpDisassociated { allocation_id, .. } => {
                    for a in s
                        .addresses
                        .iter_mut()
                        .filter(|a| &a.allocation_id == allocation_id)
                    {
                        a.association_id = None;
                        a.network_interface_id = None;
                        a.private_ip = None;
                    }
                }
                Change::ElasticIpReassociated { address } => {
                    s.addresses
                        .retain(|a| a.allocation_id != address.allocation_id);
                    s.addresses.push(Address {
                        allocation_id: address.allocation_id.clone(),
                        association_id: Some(format!("eipassoc-for-{}", address.allocation_id)),
                        network_interface_id: Some(address.network_interface_id.clone()),
                        private_ip: address.private_ip.clone(),
                    });
                }
                Change::AttributesRestored {
                    termination_protection,
                    shutdown_behavior,
                    delete_on_termination,
                } => {
                    s.termination_protected = *termination_protection;
                    s.shutdown_behavior.clone_from(shutdown_behavior);
                    s.delete_on_termination
                        .extend(delete_on_termination.iter().map(|(d, v)| (d.clone(), *v)));
                }
                Change::SessionsRevoked { .. } | Change::RevocationLifted { .. } => {}
            }
        }
        s
    }

    fn contain_fresh() -> Plan {
        let now = fresh();
        contain(
            &now,
            &record_of(&now),
            true,
            &settings(),
            Some(&groups()),
            &roles(),
        )
    }

    #[test]
    fn analysis_prepares_and_containment_isolates() {
        let now = fresh();
        let analysis = analyze(&now, &settings());
        let mut expected = protections();
        expected.push(swap(
            Some(("iip-assoc-1", WEB)),
            Some(IR),
            ProfilePurpose::Analysis,
        ));
        assert_eq!(analysis.changes, expected);
        assert!(analysis.reapplied.is_empty());

        // Without an SSM-only profile (framework not deployed) analysis leaves the profile.
        let bare = Settings {
            ir_profile_arn: None,
            ..settings()
        };
        assert_eq!(analyze(&now, &bare).changes, protections());

        let containment = contain_fresh();
        let mut expected = protections();
        expected.extend([
            swap(
                Some(("iip-assoc-1", WEB)),
                Some(ISOLATION),
                ProfilePurpose::Isolation,
            ),
            isolated("eni-1", &["sg-web"]),
            isolated("eni-2", &["sg-db", "sg-admin"]),
            revoked(WEB, &["web"]),
        ]);
        assert_eq!(containment.changes, expected);
        assert!(containment.reapplied.is_empty());
    }

    #[test]
    fn an_already_contained_instance_plans_no_change() {
        let now = fresh();
        let record = record_of(&now);
        let contained = after(&now, &contain_fresh().changes);
        let retry = contain(
            &contained,
            &record,
            false,
            &settings(),
            Some(&groups()),
            &roles(),
        );
        assert_eq!(retry.changes, Vec::new());
        // The revocation is made again without being reported (see `Plan::reapplied`).
        assert_eq!(retry.reapplied, vec![revoked(WEB, &["web"])]);

        let prepared = after(&now, &analyze(&now, &settings()).changes);
        assert_eq!(analyze(&prepared, &settings()), Plan::default());

        // Break-glass: no deny-all profile, so the profile is removed, once.
        let bare = Settings {
            isolation_profile_arn: None,
            ..settings()
        };
        let first = contain(&now, &record, true, &bare, Some(&groups()), &roles());
        assert_eq!(
            first.changes[3],
            swap(Some(("iip-assoc-1", WEB)), None, ProfilePurpose::Isolation)
        );
        assert_eq!(first.changes.last(), Some(&revoked(WEB, &["web"])));
        let done = after(&now, &first.changes);
        let again = contain(&done, &record, false, &bare, Some(&groups()), &roles());
        assert_eq!(again.changes, Vec::new());
    }

    #[test]
    fn a_retry_after_a_partial_containment_makes_only_the_rest() {
        let now = fresh();
        let record = record_of(&now);
        let full = contain_fresh().changes;
        let profile_at = full
            .iter()
            .position(|c| matches!(c, Change::ProfileSwapped { .. }))
            .unwrap();
        // The first run failed after `k` changes; the retry finds the record written.
        for k in 0..full.len() {
            let partial = after(&now, &full[..k]);
            let retry = contain(
                &partial,
                &record,
                false,
                &settings(),
                Some(&groups()),
                &roles(),
            );
            // The revocation is the last change.
            let unrevoked = full[k..full.len() - 1].to_vec();
            let revocation = vec![revoked(WEB, &["web"])];
            if k <= profile_at {
                // The profile swap is still to come: this is the first containment.
                assert_eq!(retry.changes, [unrevoked, revocation].concat(), "after {k}");
                assert!(retry.reapplied.is_empty(), "after {k}");
            } else {
                assert_eq!(retry.changes, unrevoked, "after {k}");
                assert_eq!(retry.reapplied, revocation, "after {k}");
            }
            assert_eq!(
                after(&partial, &retry.changes),
                after(&now, &full),
                "after {k}: the retry ends where one run would have"
            );
        }

        // As in the emulator test: the second interface's first swap failed.
        let second = full
            .iter()
            .position(|c| matches!(c, Change::SecurityGroupsReplaced { eni, .. } if eni == "eni-2"))
            .unwrap();
        let retry = contain(
            &after(&now, &full[..second]),
            &record,
            false,
            &settings(),
            Some(&groups()),
            &roles(),
        );
        assert_eq!(
            retry.changes,
            vec![isolated("eni-2", &["sg-db", "sg-admin"])]
        );
    }

    #[test]
    fn containment_after_analysis_revokes_both_profiles() {
        let now = fresh();
        let record = record_of(&now);
        let prepared = after(&now, &analyze(&now, &settings()).changes);
        let plan = contain(
            &prepared,
            &record,
            false,
            &settings(),
            Some(&groups()),
            &roles(),
        );
        assert_eq!(
            plan.changes,
            vec![
                swap(
                    Some((&format!("iip-assoc-for-{IR}"), IR)),
                    Some(ISOLATION),
                    ProfilePurpose::Isolation,
                ),
                isolated("eni-1", &["sg-web"]),
                isolated("eni-2", &["sg-db", "sg-admin"]),
                revoked(IR, &["irf-ir"]),
                revoked(WEB, &["web"]),
            ]
        );
        // Without revocation by setting, none is planned.
        let keep = Settings {
            revoke_role_sessions: false,
            ..settings()
        };
        let plan = contain(&prepared, &record, false, &keep, Some(&groups()), &roles());
        assert!(
            !plan
                .changes
                .iter()
                .chain(&plan.reapplied)
                .any(|c| matches!(c, Change::SessionsRevoked { .. })),
            "{plan:?}"
        );
    }

    #[test]
    fn every_interface_is_isolated_in_order() {
        let mut now = fresh();
        now.interfaces.insert("eni-0".into(), strings(&["sg-a"]));
        now.interfaces
            .insert("eni-3".into(), strings(&["sg-isolate"]));
        now.interfaces
            .insert("eni-4".into(), strings(&["sg-isolate", "sg-b"]));
        let plan = contain(
            &now,
            &record_of(&now),
            true,
            &settings(),
            Some(&groups()),
            &roles(),
        );
        let swaps: Vec<&Change> = plan
            .changes
            .iter()
            .filter(|c| matches!(c, Change::SecurityGroupsReplaced { .. }))
            .collect();
        assert_eq!(
            swaps,
            [
                &isolated("eni-0", &["sg-a"]),
                &isolated("eni-1", &["sg-web"]),
                &isolated("eni-2", &["sg-db", "sg-admin"]),
                // Only the isolation group means isolated; with another group it is not.
                &isolated("eni-4", &["sg-isolate", "sg-b"]),
            ]
        );

        // No interface in a VPC: no groups to shape, nothing to swap.
        let plan = contain(&now, &record_of(&now), true, &settings(), None, &roles());
        assert!(
            !plan
                .changes
                .iter()
                .any(|c| matches!(c, Change::SecurityGroupsReplaced { .. })),
            "{plan:?}"
        );
    }

    #[test]
    fn elastic_ips_are_taken_off_by_setting_and_put_back_on_release() {
        let mut now = fresh();
        now.addresses = vec![
            Address {
                allocation_id: "eipalloc-1".into(),
                association_id: Some("eipassoc-1".into()),
                network_interface_id: Some("eni-1".into()),
                private_ip: Some("10.0.0.5".into()),
            },
            Address {
                allocation_id: "eipalloc-2".into(),
                association_id: Some("eipassoc-2".into()),
                network_interface_id: Some("eni-2".into()),
                private_ip: Some("10.0.1.7".into()),
            },
        ];
        let record = record_of(&now);
        let taken = Settings {
            disassociate_elastic_ips: true,
            ..settings()
        };
        let plan = contain(&now, &record, true, &taken, Some(&groups()), &roles());
        let off: Vec<&Change> = plan
            .changes
            .iter()
            .filter(|c| matches!(c, Change::ElasticIpDisassociated { .. }))
            .collect();
        assert_eq!(
            off,
            [
                &Change::ElasticIpDisassociated {
                    allocation_id: "eipalloc-1".into(),
                    association_id: "eipassoc-1".into(),
                },
                &Change::ElasticIpDisassociated {
                    allocation_id: "eipalloc-2".into(),
                    association_id: "eipassoc-2".into(),
                },
            ]
        );
        // They come after the interfaces are isolated and before sessions are revoked.
        let at = |p: fn(&Change) -> bool| plan.changes.iter().position(p).unwrap();
        assert!(
            at(|c| matches!(c, Change::SecurityGroupsReplaced { .. }))
                < at(|c| matches!(c, Change::ElasticIpDisassociated { .. }))
        );
        assert!(
            at(|c| matches!(c, Change::ElasticIpDisassociated { .. }))
                < at(|c| matches!(c, Change::SessionsRevoked { .. }))
        );
        // Without the setting they stay.
        let plan = contain(&now, &record, true, &settings(), Some(&groups()), &roles());
        assert!(
            !plan
                .changes
                .iter()
                .any(|c| matches!(c, Change::ElasticIpDisassociated { .. }))
        );

        // Release puts back those not back already.
        let contained = after(
            &now,
            &contain(&now, &record, true, &taken, Some(&groups()), &roles()).changes,
        );
        let back = |allocation_id: &str, eni: &str, ip: &str| Change::ElasticIpReassociated {
            address: ElasticIp {
                allocation_id: allocation_id.into(),
                network_interface_id: eni.into(),
                private_ip: Some(ip.into()),
            },
        };
        let plan = release(&contained, &record, None);
        let on: Vec<&Change> = plan
            .changes
            .iter()
            .filter(|c| matches!(c, Change::ElasticIpReassociated { .. }))
            .collect();
        assert_eq!(
            on,
            [
                &back("eipalloc-1", "eni-1", "10.0.0.5"),
                &back("eipalloc-2", "eni-2", "10.0.1.7")
            ]
        );
        let half = after(&contained, &[back("eipalloc-1", "eni-1", "10.0.0.5")]);
        let plan = release(&half, &record, None);
        assert!(
            !plan
                .changes
                .contains(&back("eipalloc-1", "eni-1", "10.0.0.5")),
            "{plan:?}"
        );
        assert!(
            plan.changes
                .contains(&back("eipalloc-2", "eni-2", "10.0.1.7"))
        );
    }

    #[test]
    fn release_restores_the_recorded_state() {
        let now = fresh();
        let record = record_of(&now);
        let contained = after(&now, &contain_fresh().changes);
        let plan = release(&contained, &record, None);
        assert_eq!(
            plan.changes,
            vec![
                swap(
                    Some((&format!("iip-assoc-for-{ISOLATION}"), ISOLATION)),
                    Some(WEB),
                    ProfilePurpose::Restoration,
                ),
                Change::SecurityGroupsRestored {
                    eni: "eni-1".into(),
                    groups: strings(&["sg-web"]),
                },
                Change::SecurityGroupsRestored {
                    eni: "eni-2".into(),
                    groups: strings(&["sg-db", "sg-admin"]),
                },
                Change::AttributesRestored {
                    termination_protection: false,
                    shutdown_behavior: "terminate".into(),
                    delete_on_termination: BTreeMap::from([("/dev/xvda".into(), true)]),
                },
            ]
        );
        let released = after(&contained, &plan.changes);
        assert_eq!(
            Current {
                profile: released.profile.map(|p| ProfileAssociation {
                    association_id: "iip-assoc-1".into(),
                    ..p
                }),
                ..released
            },
            now,
            "the instance is as recorded"
        );
        assert!(plan.reapplied.is_empty());

        // An instance that had no profile gets none back.
        let mut bare = fresh();
        bare.profile = None;
        let record = record_of(&bare);
        let contained = after(
            &bare,
            &contain(&bare, &record, true, &settings(), Some(&groups()), &roles()).changes,
        );
        assert_eq!(
            release(&contained, &record, None).changes[0],
            swap(
                Some((&format!("iip-assoc-for-{ISOLATION}"), ISOLATION)),
                None,
                ProfilePurpose::Restoration
            )
        );
    }

    #[test]
    fn release_lifts_revocations_only_when_asked() {
        let now = fresh();
        let record = record_of(&now);
        let contained = after(&now, &contain_fresh().changes);
        assert_eq!(
            lifted_profiles(&contained, &record, &settings()),
            strings(&[IR, ISOLATION, WEB])
        );
        let mut roles = roles();
        // The same role in two profiles is lifted once; the deny-all profile's role never
        // carried one, which the lift finds out (it is planned, and reported only if made).
        roles.insert(ISOLATION.into(), strings(&["irf-isolation", "web"]));
        let plan = release(&contained, &record, Some(&roles));
        let lifted: Vec<&Change> = plan
            .changes
            .iter()
            .filter(|c| matches!(c, Change::RevocationLifted { .. }))
            .collect();
        assert_eq!(
            lifted,
            [
                &Change::RevocationLifted {
                    role: "irf-ir".into()
                },
                &Change::RevocationLifted {
                    role: "irf-isolation".into()
                },
                &Change::RevocationLifted { role: "web".into() },
            ]
        );
        assert!(
            !release(&contained, &record, None)
                .changes
                .iter()
                .any(|c| matches!(c, Change::RevocationLifted { .. }))
        );
    }
}
