//! Session revocation: credentials the instance's roles issued to it before containment may be
//! in an attacker's hands, and swapping the profile does not invalidate them. An inline policy
//! on each role denies everything to sessions issued to this instance before now; it stays
//! after release unless lifted.

use std::collections::BTreeMap;

use crate::error::{self, Result};

/// Role names per instance profile ARN.
pub(crate) type Roles = BTreeMap<String, Vec<String>>;

/// The name of the per-instance revocation policy put on roles.
pub(crate) fn policy_name(instance_id: &str) -> String {
    irf_core::contract::revocation_policy_name(instance_id)
}

/// The instance profile's name, from its ARN (`arn:aws:iam::1:instance-profile/path/name`).
fn profile_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// The roles of each of `profiles`. With `skip_missing`, a profile that does not exist (deleted
/// since, or a framework profile never deployed) has no roles to look at; otherwise, as every
/// other failure, it is an error.
pub(super) async fn roles(
    iam: &aws_sdk_iam::Client,
    profiles: &[String],
    skip_missing: bool,
) -> Result<Roles> {
    let mut roles = Roles::new();
    for arn in profiles {
        let name = profile_name(arn);
        match iam
            .get_instance_profile()
            .instance_profile_name(name)
            .send()
            .await
        {
            Ok(out) => {
                let names = out
                    .instance_profile()
                    .map(|p| p.roles().iter().map(|r| r.role_name().to_owned()).collect())
                    .unwrap_or_default();
                roles.insert(arn.clone(), names);
            }
            Err(e) if skip_missing && error::code(&e) == Some("NoSuchEntity") => {}
            Err(e) => return Err(error::aws(&format!("iam:GetInstanceProfile {name}"), e)),
        }
    }
    Ok(roles)
}

/// Denies, on each of `roles`, every credential issued to instance `instance_arn` before now.
pub(super) async fn revoke(
    iam: &aws_sdk_iam::Client,
    instance_arn: &str,
    policy_name: &str,
    roles: &[String],
) -> Result<()> {
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "RevokeSessionsOfContainedInstance",
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {
                "StringEquals": { "ec2:SourceInstanceARN": instance_arn },
                "DateLessThan": { "aws:TokenIssueTime": now },
            },
        }],
    })
    .to_string();
    for role in roles {
        iam.put_role_policy()
            .role_name(role)
            .policy_name(policy_name)
            .policy_document(&policy)
            .send()
            .await
            .map_err(|e| error::aws(&format!("iam:PutRolePolicy {role}"), e))?;
    }
    Ok(())
}

/// Removes the revocation policy from `role`; false when it was not there.
pub(super) async fn lift(iam: &aws_sdk_iam::Client, role: &str, policy_name: &str) -> Result<bool> {
    match iam
        .delete_role_policy()
        .role_name(role)
        .policy_name(policy_name)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if error::code(&e) == Some("NoSuchEntity") => Ok(false),
        Err(e) => Err(error::aws("iam:DeleteRolePolicy", e)),
    }
}
