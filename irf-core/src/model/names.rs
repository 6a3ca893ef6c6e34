//! Physical names derived from the org prefix and account ids.
//!
//! Contract names that runbooks rely on (roles, aliases, tags) live in [`crate::contract`] and are
//! not prefixed; everything else that needs a physical name gets it here, once.

use serde::Serialize;

use super::ids::AccountId;
use crate::region::Region;

/// Physical names of the framework's named resources.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Names {
    prefix: String,
    forensics: AccountId,
    security: AccountId,
}

impl Names {
    pub(crate) fn new(prefix: &str, security: &AccountId, forensics: &AccountId) -> Self {
        Names {
            prefix: prefix.to_owned(),
            forensics: forensics.clone(),
            security: security.clone(),
        }
    }

    /// The org prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn forensics_bucket(&self, suffix: &str) -> String {
        format!("{}-{}-{suffix}", self.prefix, self.forensics)
    }

    /// Evidence bucket (forensics account).
    pub fn evidence_bucket(&self) -> String {
        self.forensics_bucket("ir-artifacts")
    }

    /// S3 server-access-log bucket (forensics account).
    pub fn access_logs_bucket(&self) -> String {
        self.forensics_bucket("s3-access-logs")
    }

    /// CloudTrail bucket (forensics account).
    pub fn cloudtrail_bucket(&self) -> String {
        self.forensics_bucket("cloudtrail-logs")
    }

    /// VPC flow-log bucket for every framework VPC (forensics account).
    pub fn flow_logs_bucket(&self) -> String {
        self.forensics_bucket("vpc-flowlogs")
    }

    /// Session Manager transcript bucket (forensics account).
    pub fn session_logs_bucket(&self) -> String {
        self.forensics_bucket("session-manager-logs")
    }

    /// Image Builder log bucket (forensics account).
    pub fn image_builder_logs_bucket(&self) -> String {
        self.forensics_bucket("imagebuilder-logs")
    }

    /// Ingest bucket of a member region other than the home region (forensics account): a
    /// suspect whose subnet reaches S3 only through its region's gateway endpoint uploads its
    /// memory image there, and the workflow copies it server-side into the evidence bucket.
    pub fn ingest_bucket(&self, region: Region) -> String {
        self.forensics_bucket(&format!("ingest-{region}"))
    }

    /// S3 server-access-log bucket of a region other than the home region (forensics account),
    /// for the ingest bucket there.
    pub fn regional_access_logs_bucket(&self, region: Region) -> String {
        self.forensics_bucket(&format!("logs-{region}"))
    }

    /// Memory-modules bucket (security account).
    pub fn modules_bucket(&self) -> String {
        format!("{}-{}-memory-modules", self.prefix, self.security)
    }

    /// Per-account, per-region bucket the deployer uploads Lambda assets to.
    pub fn asset_bucket(&self, account: &AccountId, region: Region) -> String {
        format!("{}-assets-{account}-{region}", self.prefix)
    }

    /// Every bucket name the framework creates for `accounts` × `regions` and the ingest
    /// regions, for validation.
    pub fn all_buckets<'a>(
        &self,
        deploy_targets: impl IntoIterator<Item = (&'a AccountId, Region)>,
        ingest_regions: impl IntoIterator<Item = Region>,
    ) -> Vec<String> {
        let mut names = vec![
            self.evidence_bucket(),
            self.access_logs_bucket(),
            self.cloudtrail_bucket(),
            self.flow_logs_bucket(),
            self.session_logs_bucket(),
            self.image_builder_logs_bucket(),
            self.modules_bucket(),
        ];
        names.extend(
            deploy_targets
                .into_iter()
                .map(|(a, r)| self.asset_bucket(a, r)),
        );
        for r in ingest_regions {
            names.push(self.ingest_bucket(r));
            names.push(self.regional_access_logs_bucket(r));
        }
        names
    }

    /// CloudFormation stack name of a stack kind (`forensics-analysis`, ...).
    pub fn stack(&self, kind: &str) -> String {
        format!("{}-{kind}", self.prefix)
    }

    /// Name of a Lambda function or other prefixed resource.
    pub fn resource(&self, base: &str) -> String {
        format!("{}-{base}", self.prefix)
    }

    /// Member-account role of the tag handler (named, so per-region stacks and StackSets can
    /// reference it without per-account parameters).
    pub fn member_tag_role(&self) -> String {
        self.resource("MemberTagHandlerRole")
    }

    /// Member-account role of the notification function.
    pub fn member_notify_role(&self) -> String {
        self.resource("MemberNotifyRole")
    }

    /// Custom EventBridge bus in the security account receiving incident requests.
    pub fn incident_bus(&self) -> String {
        self.resource("incidents")
    }

    /// SSM parameter holding the latest SIFT AMI id (forensics account).
    pub fn sift_ami_parameter(&self) -> String {
        format!("/{}/images/sift/latest", self.prefix)
    }

    /// SSM parameter holding the module-factory AMI list (security account).
    pub fn factory_amis_parameter(&self) -> String {
        format!("/{}/module-factory/amis", self.prefix)
    }
}

/// Checks a bucket name against the S3 naming rules; the error names the broken rule.
pub fn check_bucket_name(name: &str) -> Result<(), String> {
    if !(3..=63).contains(&name.len()) {
        return Err(format!(
            "bucket name {name:?} is {} characters long; S3 allows 3 to 63",
            name.len()
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    {
        return Err(format!(
            "bucket name {name:?} may only contain lowercase letters, digits, '-' and '.'"
        ));
    }
    let first = name.as_bytes()[0];
    let last = name.as_bytes()[name.len() - 1];
    if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
        return Err(format!(
            "bucket name {name:?} must start and end with a letter or digit"
        ));
    }
    if name.contains("..") || name.starts_with("xn--") || name.starts_with("sthree-") {
        return Err(format!(
            "bucket name {name:?} uses a reserved pattern ('..', 'xn--', 'sthree-')"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_rules() {
        assert!(check_bucket_name("irf-222222222222-ir-artifacts").is_ok());
        assert!(check_bucket_name("Irf-x").is_err());
        assert!(check_bucket_name("-irf").is_err());
        assert!(check_bucket_name(&"a".repeat(64)).is_err());
        assert!(check_bucket_name("xn--abc").is_err());
    }

    #[test]
    fn a_28_character_prefix_names_valid_buckets_in_the_longest_regions() {
        let security = AccountId::parse("111111111111").unwrap();
        let forensics = AccountId::parse("222222222222").unwrap();
        let names = Names::new(&"p".repeat(28), &security, &forensics);
        let longest = Region::lookup("ap-southeast-2").unwrap();
        let all = names.all_buckets([(&security, longest)], [longest]);
        assert!(all.contains(&names.ingest_bucket(longest)));
        assert!(all.contains(&names.regional_access_logs_bucket(longest)));
        for name in all {
            assert!(check_bucket_name(&name).is_ok(), "{name}");
        }
        let longer = Names::new(&"p".repeat(29), &security, &forensics);
        assert!(
            longer
                .all_buckets([(&security, longest)], [longest])
                .iter()
                .any(|n| check_bucket_name(n).is_err())
        );
    }
}
