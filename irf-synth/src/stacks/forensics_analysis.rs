//! Forensics account: the evidence store and the isolated analysis environment.
//!
//! Evidence bucket (Object Lock, SSE-KMS, versioning, Block Public Access, lifecycle, access
//! logs, retained), the log buckets, a CloudTrail trail with data events on the evidence bucket,
//! the air-gapped analysis VPC with flow logs and endpoints, analyst roles *with* instance
//! profiles, the Session Manager document that logs analyst sessions, and the asymmetric key
//! that signs custody ledgers.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use irf_core::cfn::resources::{Tag, cloudtrail, ec2, iam, kms, s3, ssm};
use irf_core::cfn::{CheckovCheck, Expr, Parameter, Template, Validator};
use irf_core::contract;
use irf_core::iam::{PolicyDocument, Principal, Statement};
use irf_core::model::Framework;

use super::common::{
    BucketSpec, account_root, add_bucket, add_interface_endpoints, add_key,
    add_s3_gateway_endpoint, add_vpc, bucket_arn, deny_insecure_transport, objects_arn, role_in,
};
use super::{Binding, outputs};

const SECURITY_ACCOUNT: &str = "SecurityAccountId";

/// Roles in the security account that write evidence.
pub(crate) fn evidence_writer_roles() -> [&'static str; 3] {
    [
        contract::SNAPSHOT_AUTOMATION_ROLE,
        contract::MEMORY_AUTOMATION_ROLE,
        contract::CASE_RECORD_ROLE,
    ]
}

pub(super) fn bindings(fw: &Framework) -> BTreeMap<String, Binding> {
    BTreeMap::from([(
        SECURITY_ACCOUNT.to_owned(),
        Binding::value(fw.security.as_str()),
    )])
}

pub(super) fn template(fw: &Framework) -> Template {
    let names = &fw.names;
    let mut t = Template::new(
        "IRF forensics account: evidence bucket (Object Lock, KMS), log buckets, CloudTrail with \
         evidence data events, isolated analysis VPC, analyst roles and custody signing key.",
    );
    let security = t.parameter(
        SECURITY_ACCOUNT,
        Parameter::string("Account id of the IRF security account.")
            .pattern("^[0-9]{12}$", "a 12-digit account id"),
    );
    let writers: Vec<Expr> = evidence_writer_roles()
        .iter()
        .map(|r| role_in(&security, r))
        .collect();

    add_key(
        &mut t,
        "EvidenceKey",
        contract::EVIDENCE_KEY_ALIAS,
        "IRF evidence bucket encryption",
        vec![
            Statement::allow(&[
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:DescribeKey",
            ])
            .sid("AcquisitionRolesUseKeyThroughS3")
            .principal(Principal::Aws(vec![super::common::root_of(&security)]))
            .on_all()
            .when(
                "StringEquals",
                "kms:ViaService",
                Expr::sub("s3.${AWS::Region}.amazonaws.com"),
            )
            .when("ArnLike", "aws:PrincipalArn", Expr::List(writers.clone())),
        ],
    );
    t.add(
        "CustodyKey",
        kms::Key {
            description: "IRF custody ledger signing key (ECDSA P-256)".to_owned(),
            enable_key_rotation: None,
            key_policy: PolicyDocument::new([
                super::common::key_admin(),
                Statement::allow(&["kms:Sign", "kms:GetPublicKey", "kms:DescribeKey"])
                    .sid("EvidenceWritersSignLedgers")
                    .principal(Principal::Aws(vec![super::common::root_of(&security)]))
                    .on_all()
                    .when("ArnLike", "aws:PrincipalArn", Expr::List(writers.clone())),
                Statement::allow(&["kms:Verify", "kms:GetPublicKey", "kms:DescribeKey"])
                    .sid("AnyoneInTheFrameworkVerifies")
                    .principal(Principal::Aws(vec![
                        account_root(),
                        super::common::root_of(&security),
                    ]))
                    .on_all(),
            ])
            .to_sub_json()
            .expect("Sub-compatible policy"),
            key_spec: Some("ECC_NIST_P256".to_owned()),
            key_usage: Some("SIGN_VERIFY".to_owned()),
            pending_window_in_days: Some(30),
            tags: Vec::new(),
        },
    )
    .retain()
    .suppress(
        Validator::Guard,
        "kms_rotation",
        "asymmetric signing keys cannot rotate automatically; old ledgers must stay verifiable",
    );
    t.add(
        "CustodyKeyAlias",
        kms::Alias {
            alias_name: contract::CUSTODY_SIGNING_KEY_ALIAS.to_owned(),
            target_key_id: Expr::r#ref("CustodyKey"),
        },
    );

    // Log buckets first: the evidence bucket logs into the access-log bucket.
    let access_logs = Expr::s(names.access_logs_bucket());
    super::common::add_access_log_bucket(
        &mut t,
        "AccessLogsBucket",
        &access_logs,
        fw.evidence.expire_after_days,
        Expr::List(vec![Expr::r#ref("AWS::AccountId"), security.clone()]),
    );

    let log_bucket = |t: &mut Template, id: &str, name: String, prefix: &str| {
        add_bucket(
            t,
            BucketSpec {
                id,
                name: Expr::s(name),
                key: None,
                access_logs: Some((access_logs.clone(), format!("{prefix}/"))),
                lifecycle: vec![expire_rule(fw.evidence.expire_after_days)],
                object_lock: None,
                retain: true,
            },
        );
        t.resources.get_mut(id).expect("just added").suppress(
            Validator::Guard,
            "s3_kms_encrypted",
            "AWS log delivery writes here; SSE-S3 avoids granting each delivery service the key",
        );
    };
    let trail_bucket = Expr::s(names.cloudtrail_bucket());
    log_bucket(
        &mut t,
        "CloudTrailBucket",
        names.cloudtrail_bucket(),
        "cloudtrail-logs",
    );
    let trail_arn = Expr::sub(format!(
        "arn:${{AWS::Partition}}:cloudtrail:${{AWS::Region}}:${{AWS::AccountId}}:trail/{}",
        names.resource("forensics-trail")
    ));
    t.add(
        "CloudTrailBucketPolicy",
        s3::BucketPolicy {
            bucket: Expr::r#ref("CloudTrailBucket"),
            policy_document: PolicyDocument::new([
                deny_insecure_transport(&trail_bucket),
                Statement::allow(&["s3:GetBucketAcl"])
                    .sid("CloudTrailChecksAcl")
                    .principal(Principal::Service(vec![Expr::s(
                        "cloudtrail.amazonaws.com",
                    )]))
                    .on([bucket_arn(&trail_bucket)])
                    .when("StringEquals", "aws:SourceArn", trail_arn.clone()),
                Statement::allow(&["s3:PutObject"])
                    .sid("CloudTrailDelivers")
                    .principal(Principal::Service(vec![Expr::s(
                        "cloudtrail.amazonaws.com",
                    )]))
                    .on([objects_arn(&trail_bucket, "AWSLogs/${AWS::AccountId}/*")])
                    .when("StringEquals", "aws:SourceArn", trail_arn)
                    .when(
                        "StringEquals",
                        "s3:x-amz-acl",
                        Expr::s("bucket-owner-full-control"),
                    ),
            ]),
        },
    );

    let flow_bucket = Expr::s(names.flow_logs_bucket());
    log_bucket(
        &mut t,
        "FlowLogsBucket",
        names.flow_logs_bucket(),
        "vpc-flowlogs",
    );
    let both_accounts = Expr::List(vec![Expr::r#ref("AWS::AccountId"), security.clone()]);
    t.add(
        "FlowLogsBucketPolicy",
        s3::BucketPolicy {
            bucket: Expr::r#ref("FlowLogsBucket"),
            policy_document: PolicyDocument::new([
                deny_insecure_transport(&flow_bucket),
                Statement::allow(&["s3:GetBucketAcl", "s3:ListBucket"])
                    .sid("FlowLogDeliveryChecksBucket")
                    .principal(Principal::Service(vec![Expr::s(
                        "delivery.logs.amazonaws.com",
                    )]))
                    .on([bucket_arn(&flow_bucket)])
                    .when("StringEquals", "aws:SourceAccount", both_accounts.clone()),
                Statement::allow(&["s3:PutObject"])
                    .sid("FlowLogDelivery")
                    .principal(Principal::Service(vec![Expr::s(
                        "delivery.logs.amazonaws.com",
                    )]))
                    .on([objects_arn(&flow_bucket, "*")])
                    .when("StringEquals", "aws:SourceAccount", both_accounts)
                    .when(
                        "StringEquals",
                        "s3:x-amz-acl",
                        Expr::s("bucket-owner-full-control"),
                    ),
            ]),
        },
    );

    let session_bucket = Expr::s(names.session_logs_bucket());
    log_bucket(
        &mut t,
        "SessionLogsBucket",
        names.session_logs_bucket(),
        "session-manager-logs",
    );
    t.add(
        "SessionLogsBucketPolicy",
        s3::BucketPolicy {
            bucket: Expr::r#ref("SessionLogsBucket"),
            policy_document: PolicyDocument::new([deny_insecure_transport(&session_bucket)]),
        },
    );

    let evidence = Expr::s(names.evidence_bucket());
    add_bucket(
        &mut t,
        BucketSpec {
            id: "EvidenceBucket",
            name: evidence.clone(),
            key: Some(Expr::arn("EvidenceKey")),
            access_logs: Some((access_logs.clone(), "ir-artifacts/".to_owned())),
            lifecycle: vec![s3::LifecycleRule {
                id: "ArchiveThenExpire".to_owned(),
                status: "Enabled".to_owned(),
                expiration_in_days: Some(fw.evidence.expire_after_days),
                transitions: vec![s3::Transition {
                    storage_class: "GLACIER".to_owned(),
                    transition_in_days: fw.evidence.glacier_after_days,
                }],
                noncurrent_version_expiration: Some(s3::NoncurrentVersionExpiration {
                    noncurrent_days: fw.evidence.expire_after_days,
                }),
                abort_incomplete_multipart_upload: None,
            }],
            object_lock: Some(super::common::evidence_lock(fw)),
            retain: true,
        },
    );
    t.resources
        .get_mut("EvidenceBucket")
        .expect("just added")
        .depends_on("AccessLogsBucketPolicy");

    t.add(
        "ForensicsTrail",
        cloudtrail::Trail {
            trail_name: Some(Expr::s(names.resource("forensics-trail"))),
            s3_bucket_name: Expr::r#ref("CloudTrailBucket"),
            is_logging: true,
            enable_log_file_validation: true,
            include_global_service_events: true,
            is_multi_region_trail: true,
            kms_key_id: None,
            advanced_event_selectors: vec![
                cloudtrail::AdvancedEventSelector {
                    name: "Management events".to_owned(),
                    field_selectors: vec![cloudtrail::FieldSelector {
                        field: "eventCategory".to_owned(),
                        equals: vec![Expr::s("Management")],
                        starts_with: Vec::new(),
                    }],
                },
                cloudtrail::AdvancedEventSelector {
                    name: "Every read and write of evidence".to_owned(),
                    field_selectors: vec![
                        cloudtrail::FieldSelector {
                            field: "eventCategory".to_owned(),
                            equals: vec![Expr::s("Data")],
                            starts_with: Vec::new(),
                        },
                        cloudtrail::FieldSelector {
                            field: "resources.type".to_owned(),
                            equals: vec![Expr::s("AWS::S3::Object")],
                            starts_with: Vec::new(),
                        },
                        cloudtrail::FieldSelector {
                            field: "resources.ARN".to_owned(),
                            equals: Vec::new(),
                            starts_with: vec![objects_arn(&evidence, "")],
                        },
                    ],
                },
            ],
        },
    )
    .depends_on("CloudTrailBucketPolicy")
    .suppress(
        Validator::Guard,
        "trail_kms_encrypted",
        "trail logs are in a dedicated, versioned, access-logged bucket with SSE-S3 and digest validation",
    )
    .skip_checkov(
        CheckovCheck::TrailKmsEncrypted,
        "trail logs are in a dedicated, versioned, access-logged bucket with SSE-S3 and digest validation",
    );

    let flow_logs_arn = Expr::arn("FlowLogsBucket");
    let vpc = add_vpc(
        &mut t,
        "Analysis",
        &names.resource("analysis"),
        &fw.network.analysis,
        &flow_logs_arn,
        false,
        &[],
    );
    t.resources
        .get_mut("AnalysisFlowLog")
        .expect("added with the VPC")
        .depends_on("FlowLogsBucketPolicy");
    t.add(
        "AnalysisInstanceSecurityGroup",
        ec2::SecurityGroup {
            group_description: "IRF analysis instances: no inbound; HTTPS to the VPC endpoints only (the VPC has no internet route)".to_owned(),
            vpc_id: Expr::r#ref(&vpc.vpc),
            security_group_ingress: Vec::new(),
            security_group_egress: vec![ec2::SgRule::tcp(
                "HTTPS to VPC endpoints and the S3 gateway endpoint",
                443,
            )
            .cidr("0.0.0.0/0")],
            tags: Tag::name(names.resource("analysis-instances")),
        },
    );
    t.add(
        "AnalysisEndpointSecurityGroup",
        ec2::SecurityGroup {
            group_description: "IRF analysis VPC endpoints: HTTPS from analysis instances"
                .to_owned(),
            vpc_id: Expr::r#ref(&vpc.vpc),
            security_group_ingress: vec![
                ec2::SgRule::tcp("HTTPS from analysis instances", 443)
                    .from_group(Expr::r#ref("AnalysisInstanceSecurityGroup")),
            ],
            security_group_egress: ec2::SecurityGroup::no_egress(),
            tags: Tag::name(names.resource("analysis-endpoints")),
        },
    );
    let session_and_evidence = vec![
        bucket_arn(&evidence),
        objects_arn(&evidence, "*"),
        bucket_arn(&session_bucket),
        objects_arn(&session_bucket, "*"),
    ];
    add_s3_gateway_endpoint(
        &mut t,
        "Analysis",
        &vpc,
        Statement::allow(&[
            "s3:GetObject",
            "s3:GetObjectVersion",
            "s3:PutObject",
            "s3:ListBucket",
            "s3:GetBucketLocation",
            "s3:GetEncryptionConfiguration",
        ])
        .sid("EvidenceAndSessionLogsOnly")
        .on(session_and_evidence),
    );
    add_interface_endpoints(
        &mut t,
        "Analysis",
        &vpc,
        &fw.network.analysis,
        "AnalysisEndpointSecurityGroup",
        &["ssm", "ssmmessages", "ec2messages"],
    );

    add_analyst_role(
        &mut t,
        "AnalystReadOnly",
        contract::ANALYST_READ_ONLY_ROLE,
        &evidence,
        &session_bucket,
        false,
    );
    add_analyst_role(
        &mut t,
        "AnalystReadWrite",
        contract::ANALYST_READ_WRITE_ROLE,
        &evidence,
        &session_bucket,
        true,
    );

    let mut inputs = IndexMap::new();
    inputs.insert("s3BucketName".to_owned(), Expr::r#ref("SessionLogsBucket"));
    inputs.insert("s3KeyPrefix".to_owned(), Expr::s("sessions/"));
    inputs.insert("s3EncryptionEnabled".to_owned(), Expr::Bool(true));
    inputs.insert("runAsEnabled".to_owned(), Expr::Bool(false));
    inputs.insert("idleSessionTimeout".to_owned(), Expr::s("20"));
    let mut content = IndexMap::new();
    content.insert("schemaVersion".to_owned(), Expr::s("1.0"));
    content.insert(
        "description".to_owned(),
        Expr::s("IRF analyst sessions, transcripts kept in the session-log bucket"),
    );
    content.insert("sessionType".to_owned(), Expr::s("Standard_Stream"));
    content.insert("inputs".to_owned(), Expr::Map(inputs));
    t.add(
        "AnalystSessionDocument",
        ssm::Document {
            name: Some(Expr::s(names.resource("AnalystSession"))),
            document_type: "Session".to_owned(),
            document_format: "YAML".to_owned(),
            content: Expr::Map(content),
            update_method: Some("NewVersion".to_owned()),
        },
    );

    t.output(
        outputs::EVIDENCE_BUCKET,
        "Evidence bucket name",
        Expr::r#ref("EvidenceBucket"),
    );
    t.output(
        outputs::EVIDENCE_KEY_ARN,
        "Evidence bucket KMS key",
        Expr::arn("EvidenceKey"),
    );
    t.output(
        outputs::CUSTODY_KEY_ARN,
        "Custody ledger signing key",
        Expr::arn("CustodyKey"),
    );
    t.output(
        outputs::FLOW_LOGS_BUCKET_ARN,
        "Central VPC flow-log bucket",
        flow_logs_arn,
    );
    t.output(
        outputs::ACCESS_LOGS_BUCKET,
        "S3 access-log bucket",
        Expr::r#ref("AccessLogsBucket"),
    );
    t.output(
        outputs::ANALYST_RW_ROLE_ARN,
        "Analyst role that may write analysis results",
        Expr::arn("AnalystReadWriteRole"),
    );
    t.output("AnalysisVpcId", "Analysis VPC", Expr::r#ref(&vpc.vpc));
    t.output(
        "AnalysisSubnetIds",
        "Analysis subnets",
        Expr::join(",", vpc.subnets.iter().map(Expr::r#ref).collect()),
    );
    t.output(
        "AnalysisSecurityGroupId",
        "Security group for analysis instances",
        Expr::r#ref("AnalysisInstanceSecurityGroup"),
    );
    t.output(
        "AnalystSessionDocumentName",
        "Session Manager document for analysts",
        Expr::r#ref("AnalystSessionDocument"),
    );
    t
}

fn expire_rule(days: u32) -> s3::LifecycleRule {
    s3::LifecycleRule {
        id: "ExpireLogs".to_owned(),
        status: "Enabled".to_owned(),
        expiration_in_days: Some(days),
        transitions: Vec::new(),
        noncurrent_version_expiration: Some(s3::NoncurrentVersionExpiration {
            noncurrent_days: 30,
        }),
        abort_incomplete_multipart_upload: None,
    }
}

fn add_analyst_role(
    t: &mut Template,
    id: &str,
    name: &str,
    evidence: &Expr,
    sessions: &Expr,
    write: bool,
) {
    let mut statements = vec![
        Statement::allow(&["s3:ListBucket", "s3:GetBucketLocation"])
            .sid("ListEvidence")
            .on([bucket_arn(evidence)]),
        Statement::allow(&["s3:GetObject", "s3:GetObjectVersion"])
            .sid("ReadEvidence")
            .on([objects_arn(evidence, "*")]),
        Statement::allow(&["kms:Decrypt", "kms:DescribeKey"])
            .sid("DecryptEvidence")
            .on([Expr::arn("EvidenceKey")]),
        Statement::allow(&["s3:PutObject"])
            .sid("WriteSessionTranscripts")
            .on([objects_arn(sessions, "sessions/*")]),
        Statement::allow(&["s3:GetEncryptionConfiguration"])
            .sid("SessionManagerChecksEncryption")
            .on([bucket_arn(sessions)]),
    ];
    if write {
        statements.push(
            Statement::allow(&["s3:PutObject"])
                .sid("WriteAnalysisResults")
                .on([objects_arn(evidence, "analysis/*")]),
        );
        statements.push(
            Statement::allow(&["kms:GenerateDataKey"])
                .sid("EncryptAnalysisResults")
                .on([Expr::arn("EvidenceKey")]),
        );
    }
    let mut role = iam::Role::new(PolicyDocument::service_trust(&["ec2.amazonaws.com"]))
        .managed("AmazonSSMManagedInstanceCore")
        .inline("EvidenceAccess", PolicyDocument::new(statements));
    role.role_name = Some(name.to_owned());
    role.description = Some(if write {
        "IRF analysis instances that read evidence and write results under analysis/".to_owned()
    } else {
        "IRF analysis instances that read evidence".to_owned()
    });
    let role_id = format!("{id}Role");
    t.add(&role_id, role);
    t.add(
        &format!("{id}InstanceProfile"),
        iam::InstanceProfile {
            instance_profile_name: Some(name.to_owned()),
            roles: vec![Expr::r#ref(&role_id)],
        },
    );
}
