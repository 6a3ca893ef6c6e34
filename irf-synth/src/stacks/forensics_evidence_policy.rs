//! Forensics account: the evidence bucket policy.
//!
//! Deployed after the security stack because it names that stack's roles (IAM resolves
//! principals when the policy is written). TLS only; only the security account's acquisition
//! roles write (and the read-write analyst role, under `analysis/`); only the evidence key may
//! encrypt; nobody deletes versions or lifts Object Lock unless tagged as the evidence custodian.

use std::collections::BTreeMap;

use irf_core::cfn::resources::s3;
use irf_core::cfn::{Expr, Parameter, Template};
use irf_core::iam::{PolicyDocument, Principal, Statement};
use irf_core::model::Framework;

use super::common::{bucket_arn, deny_insecure_transport, objects_arn};
use super::{Binding, StackKind, outputs};

const EVIDENCE_BUCKET: &str = "EvidenceBucketName";
const EVIDENCE_KEY: &str = "EvidenceKeyArn";
const ANALYST_RW: &str = "AnalystReadWriteRoleArn";
const WRITERS: [(&str, &str); 3] = [
    ("SnapshotRoleArn", outputs::SNAPSHOT_ROLE_ARN),
    ("MemoryRoleArn", outputs::MEMORY_ROLE_ARN),
    ("CaseRoleArn", outputs::CASE_ROLE_ARN),
];

pub(super) fn bindings() -> BTreeMap<String, Binding> {
    let mut b = BTreeMap::from([
        (
            EVIDENCE_BUCKET.to_owned(),
            Binding::output(StackKind::ForensicsAnalysis, outputs::EVIDENCE_BUCKET),
        ),
        (
            EVIDENCE_KEY.to_owned(),
            Binding::output(StackKind::ForensicsAnalysis, outputs::EVIDENCE_KEY_ARN),
        ),
        (
            ANALYST_RW.to_owned(),
            Binding::output(StackKind::ForensicsAnalysis, outputs::ANALYST_RW_ROLE_ARN),
        ),
    ]);
    for (param, output) in WRITERS {
        b.insert(
            param.to_owned(),
            Binding::output(StackKind::SecurityAutomation, output),
        );
    }
    b
}

pub(super) fn template(_fw: &Framework) -> Template {
    let mut t = Template::new(
        "IRF forensics account: evidence bucket policy. TLS only, writes only by the security \
         account's acquisition roles, evidence key only, no deletion or retention bypass.",
    );
    let bucket = t.parameter(EVIDENCE_BUCKET, Parameter::string("Evidence bucket."));
    let key = t.parameter(EVIDENCE_KEY, Parameter::string("Evidence KMS key ARN."));
    let analyst = t.parameter(
        ANALYST_RW,
        Parameter::string("Read-write analyst role ARN."),
    );
    let writers: Vec<Expr> = WRITERS
        .iter()
        .map(|(param, _)| {
            t.parameter(
                param,
                Parameter::string("ARN of a security-account role that writes evidence."),
            )
        })
        .collect();
    let mut may_write = writers.clone();
    may_write.push(analyst);
    let objects = objects_arn(&bucket, "*");
    t.add(
        "EvidenceBucketPolicy",
        s3::BucketPolicy {
            bucket: bucket.clone(),
            policy_document: PolicyDocument::new(
                [
                    deny_insecure_transport(&bucket),
                    Statement::allow(&[
                        "s3:PutObject",
                        "s3:GetObject",
                        "s3:AbortMultipartUpload",
                        "s3:ListMultipartUploadParts",
                    ])
                    .sid("AcquisitionRolesWriteEvidence")
                    .principal(Principal::Aws(writers))
                    .on([objects.clone()]),
                    Statement::allow(&[
                        "s3:ListBucket",
                        "s3:ListBucketMultipartUploads",
                        "s3:GetBucketLocation",
                    ])
                    .sid("AcquisitionRolesListEvidence")
                    .principal(Principal::Aws(
                        WRITERS.iter().map(|(p, _)| Expr::r#ref(*p)).collect(),
                    ))
                    .on([bucket_arn(&bucket)]),
                    Statement::deny(&["s3:PutObject"])
                        .sid("OnlyAcquisitionRolesWrite")
                        .principal(Principal::Anyone)
                        .on([objects.clone()])
                        .when("ArnNotEquals", "aws:PrincipalArn", Expr::List(may_write)),
                    Statement::deny(&["s3:PutObject"])
                        .sid("OnlyTheEvidenceKeyEncrypts")
                        .principal(Principal::Anyone)
                        .on([objects.clone()])
                        .when(
                            "StringNotEqualsIfExists",
                            "s3:x-amz-server-side-encryption-aws-kms-key-id",
                            key,
                        ),
                ]
                .into_iter()
                .chain(super::common::custodian_only_statements(&bucket))
                .collect::<Vec<_>>(),
            ),
        },
    );
    t
}
