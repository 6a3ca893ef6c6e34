//! Forensics account, every member region other than the home region: the ingest bucket memory
//! captures land in.
//!
//! A suspect instance in a subnet without internet reaches S3 only through its VPC's gateway
//! endpoint, which serves its own region: the presigned URLs of the home-region evidence bucket
//! are out of its reach. Its capture goes into this region's ingest bucket instead, and the
//! memory workflow copies it server-side into the evidence bucket (pinned to the uploaded
//! version) and verifies the copy's SHA-256 against the host's. The ingest bucket has the
//! evidence bucket's locks: Object Lock with the same mode and retention, SSE-KMS with a key of
//! its own (`alias/ir/ingest`, usable only through S3 by the memory role), versioning, Block
//! Public Access, TLS only, access logs into a log bucket of the same region, and no deletion or
//! retention change but by the evidence custodian. Objects expire one day after their lock ends:
//! the evidence bucket holds the copy for the case's full life.

use std::collections::BTreeMap;

use irf_core::cfn::resources::s3;
use irf_core::cfn::{Expr, Parameter, Template};
use irf_core::contract;
use irf_core::iam::{PolicyDocument, Principal, Statement};
use irf_core::model::Framework;

use super::common::{
    BucketSpec, add_access_log_bucket, add_bucket, add_key, bucket_arn, custodian_only_statements,
    deny_insecure_transport, objects_arn, role_in, root_of,
};
use super::{Binding, outputs};

const SECURITY_ACCOUNT: &str = "SecurityAccountId";

pub(super) fn bindings(fw: &Framework) -> BTreeMap<String, Binding> {
    BTreeMap::from([(
        SECURITY_ACCOUNT.to_owned(),
        Binding::value(fw.security.as_str()),
    )])
}

/// The ingest bucket's name in the stack's region: [`irf_core::model::Names::ingest_bucket`],
/// spelled with the pseudo parameters (the template is the same in every region).
fn ingest_bucket_name(fw: &Framework) -> Expr {
    Expr::sub(format!(
        "{}-${{AWS::AccountId}}-ingest-${{AWS::Region}}",
        fw.names.prefix()
    ))
}

/// The region's S3 server-access-log bucket ([`irf_core::model::Names::regional_access_logs_bucket`]):
/// access logs go to a bucket of the same region and account.
fn access_log_bucket_name(fw: &Framework) -> Expr {
    Expr::sub(format!(
        "{}-${{AWS::AccountId}}-logs-${{AWS::Region}}",
        fw.names.prefix()
    ))
}

pub(super) fn template(fw: &Framework) -> Template {
    let mut t = Template::new(
        "IRF forensics account, member region: ingest bucket for memory captures of instances \
         outside the home region (Object Lock, KMS, TLS only, written only by the memory role), \
         copied server-side into the evidence bucket.",
    );
    let security = t.parameter(
        SECURITY_ACCOUNT,
        Parameter::string("Account id of the IRF security account.")
            .pattern("^[0-9]{12}$", "a 12-digit account id"),
    );
    let memory_role = role_in(&security, contract::MEMORY_AUTOMATION_ROLE);

    add_key(
        &mut t,
        "IngestKey",
        contract::INGEST_KEY_ALIAS,
        "IRF ingest bucket encryption (memory captures outside the home region)",
        vec![
            Statement::allow(&[
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:DescribeKey",
            ])
            .sid("MemoryRoleUsesKeyThroughS3")
            .principal(Principal::Aws(vec![root_of(&security)]))
            .on_all()
            .when(
                "StringEquals",
                "kms:ViaService",
                Expr::sub("s3.${AWS::Region}.amazonaws.com"),
            )
            .when(
                "ArnLike",
                "aws:PrincipalArn",
                Expr::List(vec![memory_role.clone()]),
            ),
        ],
    );

    let logs = access_log_bucket_name(fw);
    add_access_log_bucket(
        &mut t,
        "IngestAccessLogsBucket",
        &logs,
        fw.evidence.expire_after_days,
        Expr::r#ref("AWS::AccountId"),
    );

    let bucket = ingest_bucket_name(fw);
    add_bucket(
        &mut t,
        BucketSpec {
            id: "IngestBucket",
            name: bucket.clone(),
            key: Some(Expr::arn("IngestKey")),
            access_logs: Some((logs, "ingest/".to_owned())),
            lifecycle: vec![s3::LifecycleRule {
                id: "ExpireAfterTheLock".to_owned(),
                status: "Enabled".to_owned(),
                expiration_in_days: Some(fw.evidence.retention_days + 1),
                transitions: Vec::new(),
                noncurrent_version_expiration: Some(s3::NoncurrentVersionExpiration {
                    noncurrent_days: fw.evidence.retention_days + 1,
                }),
                abort_incomplete_multipart_upload: None,
            }],
            object_lock: Some(super::common::evidence_lock(fw)),
            retain: true,
        },
    );
    t.resources
        .get_mut("IngestBucket")
        .expect("just added")
        .depends_on("IngestAccessLogsBucketPolicy");
    let objects = objects_arn(&bucket, "*");
    t.add(
        "IngestBucketPolicy",
        s3::BucketPolicy {
            bucket: Expr::r#ref("IngestBucket"),
            policy_document: PolicyDocument::new(
                [
                    deny_insecure_transport(&bucket),
                    // The host's presigned uploads are signed by the memory role, so they are the
                    // memory role's requests.
                    Statement::allow(&[
                        "s3:PutObject",
                        "s3:GetObject",
                        "s3:GetObjectVersion",
                        "s3:AbortMultipartUpload",
                        "s3:ListMultipartUploadParts",
                    ])
                    .sid("MemoryRoleWritesCaptures")
                    .principal(Principal::Aws(vec![root_of(&security)]))
                    .on([objects.clone()])
                    .when(
                        "ArnLike",
                        "aws:PrincipalArn",
                        Expr::List(vec![memory_role.clone()]),
                    ),
                    Statement::allow(&["s3:ListBucket", "s3:GetBucketLocation"])
                        .sid("MemoryRoleListsCaptures")
                        .principal(Principal::Aws(vec![root_of(&security)]))
                        .on([bucket_arn(&bucket)])
                        .when(
                            "ArnLike",
                            "aws:PrincipalArn",
                            Expr::List(vec![memory_role.clone()]),
                        ),
                    Statement::deny(&["s3:PutObject"])
                        .sid("OnlyTheMemoryRoleWrites")
                        .principal(Principal::Anyone)
                        .on([objects.clone()])
                        .when(
                            "ArnNotLike",
                            "aws:PrincipalArn",
                            Expr::List(vec![memory_role]),
                        ),
                    Statement::deny(&["s3:PutObject"])
                        .sid("OnlyTheIngestKeyEncrypts")
                        .principal(Principal::Anyone)
                        .on([objects.clone()])
                        .when(
                            "StringNotEqualsIfExists",
                            "s3:x-amz-server-side-encryption-aws-kms-key-id",
                            Expr::arn("IngestKey"),
                        ),
                ]
                .into_iter()
                .chain(custodian_only_statements(&bucket))
                .collect::<Vec<_>>(),
            ),
        },
    );

    t.output(
        outputs::INGEST_BUCKET,
        "Ingest bucket of this region",
        Expr::r#ref("IngestBucket"),
    );
    t.output(
        outputs::INGEST_KEY_ARN,
        "Ingest bucket KMS key",
        Expr::arn("IngestKey"),
    );
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_names_the_bucket_as_the_handlers_expect_it() {
        let fw = irf_core::config::parse(
            std::path::Path::new("org.toml"),
            crate::fixtures::EXAMPLE_ORG,
        )
        .unwrap();
        let region = irf_core::region::Region::lookup("eu-west-1").unwrap();
        let expected = fw.names.ingest_bucket(region);
        let resolve = |name: Expr| {
            let Expr::Sub(pattern) = name else {
                panic!("a Sub")
            };
            pattern
                .replace("${AWS::AccountId}", fw.forensics.as_str())
                .replace("${AWS::Region}", "eu-west-1")
        };
        assert_eq!(resolve(ingest_bucket_name(&fw)), expected);
        assert_eq!(
            resolve(access_log_bucket_name(&fw)),
            fw.names.regional_access_logs_bucket(region)
        );
    }
}
