//! The instance-profile swap: the credentials the instance gets. Analysis gives it the SSM-only
//! profile, containment the deny-all one (or none where the framework is not deployed), release
//! the recorded one.

use aws_sdk_ec2::types::{Filter, IamInstanceProfileSpecification};

use super::state::ProfileAssociation;
use crate::error::{self, Result};

/// The association in force, read from the association API: it is authoritative for the
/// instance profile (DescribeInstances may lag behind a replaced association, and does in the
/// emulator).
pub(super) async fn association(
    ec2: &aws_sdk_ec2::Client,
    id: &str,
) -> Result<Option<ProfileAssociation>> {
    let out = ec2
        .describe_iam_instance_profile_associations()
        .filters(Filter::builder().name("instance-id").values(id).build())
        .send()
        .await
        .map_err(|e| error::aws("ec2:DescribeIamInstanceProfileAssociations", e))?;
    Ok(out
        .iam_instance_profile_associations()
        .iter()
        .find(|a| {
            matches!(
                a.state().map(|s| s.as_str()),
                Some("associated" | "associating")
            )
        })
        .and_then(|a| {
            Some(ProfileAssociation {
                association_id: a.association_id()?.to_owned(),
                arn: a.iam_instance_profile()?.arn()?.to_owned(),
            })
        }))
}

/// Makes `to` the profile of instance `id` (`None`: no profile), from its association
/// `association_id` (`None`: no profile now). Returns whether a call was made.
pub(super) async fn swap(
    ec2: &aws_sdk_ec2::Client,
    id: &str,
    association_id: Option<&str>,
    to: Option<&str>,
) -> Result<bool> {
    let spec = |arn: &str| IamInstanceProfileSpecification::builder().arn(arn).build();
    match (association_id, to) {
        (Some(assoc), Some(p)) => ec2
            .replace_iam_instance_profile_association()
            .association_id(assoc)
            .iam_instance_profile(spec(p))
            .send()
            .await
            .map(|_| true)
            .map_err(|e| error::aws(&format!("ec2:ReplaceIamInstanceProfileAssociation {id}"), e)),
        (None, Some(p)) => ec2
            .associate_iam_instance_profile()
            .instance_id(id)
            .iam_instance_profile(spec(p))
            .send()
            .await
            .map(|_| true)
            .map_err(|e| error::aws(&format!("ec2:AssociateIamInstanceProfile {id}"), e)),
        (Some(assoc), None) => ec2
            .disassociate_iam_instance_profile()
            .association_id(assoc)
            .send()
            .await
            .map(|_| true)
            .map_err(|e| error::aws(&format!("ec2:DisassociateIamInstanceProfile {id}"), e)),
        (None, None) => Ok(false),
    }
}
