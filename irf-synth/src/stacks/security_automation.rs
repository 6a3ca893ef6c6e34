//! Security account: the incident entry point, the acquisition functions and the workflows.
//!
//! * Entry point: a custom EventBridge bus that org accounts may put events on. EventBridge sets
//!   each event's `account` from the caller's credentials, so the trigger function knows which
//!   account really sent a request, and refuses a request for an instance outside it.
//! * KMS key `alias/ir/sec` for the security copies of evidence snapshots.
//! * Contract roles `SnapshotAutomationLambdaRole`, `MemoryAutomationLambdaRole` and the case
//!   role, which member accounts trust and the evidence bucket lets write.
//! * The disk, memory and combined workflows as typed ASL `Definition` mappings, their role's
//!   permissions derived from the functions they invoke, with logging and tracing.
//! * The memory-modules bucket (encrypted, versioned, private, access-logged) and the outcome
//!   topic with its notifications.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use irf_core::asl::{StateMachine, TaskTarget};
use irf_core::cfn::resources::{events, logs, s3, sfn, sns};
use irf_core::cfn::{Expr, Parameter, Template};
use irf_core::contract;
use irf_core::env::{
    CaseRecordEnv, DiskImagingEnv, DiskSnapshotEnv, IncidentTriggerEnv, MemoryAcquisitionEnv,
    NotifyEnv,
};
use irf_core::events::{
    EXECUTION_STATUS_CHANGE_DETAIL_TYPE, ExecutionStatus, STEP_FUNCTIONS_SOURCE,
};
use irf_core::handler::Handler;
use irf_core::iam::{PolicyDocument, Principal, Statement};
use irf_core::model::Framework;

use super::common::{
    BucketSpec, Concurrency, FunctionSpec, Invocation, Network, OPERATIONS_KEY, OperationsKeyRef,
    add_bucket, add_function, add_invoke_permission, add_key, add_operations_key,
    dead_letter_queue_id, dead_letter_statements, deny_insecure_transport, lambda_role,
    logging_statements, objects_arn,
};
use super::workflows::{self, CASE_FN, DISK_IMAGING_FN, DISK_SNAPSHOT_FN, MEMORY_FN, NOTIFY_FN};
use super::{Binding, StackKind, outputs};

const ORG_ID: &str = "OrgId";
const EVIDENCE_BUCKET: &str = "EvidenceBucketName";
const EVIDENCE_KEY: &str = "EvidenceKeyArn";
const CUSTODY_KEY: &str = "CustodyKeyArn";
const ACCESS_LOGS: &str = "AccessLogsBucketName";
const IR_SUBNETS: &str = "IrSubnetIds";
const IMAGING_SG: &str = "ImagingSecurityGroupId";

/// Logical ids of the functions and the placeholder each is substituted for.
const FUNCTIONS: &[(&str, &str)] = &[
    ("DiskSnapshotFunction", DISK_SNAPSHOT_FN),
    ("DiskImagingFunction", DISK_IMAGING_FN),
    ("MemoryFunction", MEMORY_FN),
    ("CaseRecordFunction", CASE_FN),
    ("NotifyFunction", NOTIFY_FN),
];

/// Why the workflow-task functions share the account's concurrency (their `CKV_AWS_115` skip).
const WORKFLOW_TASK_CONCURRENCY: &str = "a case workflow task: its concurrency follows the open cases and their volumes; the workflows retry Lambda throttling, and a cap would queue a large incident's acquisitions";

/// Physical names of the state machines, behind the org prefix (fixed, like the names in
/// `irf_core::contract`, for existing runbooks).
pub(crate) const MACHINES: &[(&str, &str)] = &[
    ("DiskAcquisitionStateMachine", "DiskAcquisition"),
    ("MemoryAcquisitionStateMachine", "MemoryAcquisition"),
    ("CaseStateMachine", contract::CASE_STATE_MACHINE),
];

pub(super) fn bindings(fw: &Framework) -> BTreeMap<String, Binding> {
    let mut b = BTreeMap::from([
        (ORG_ID.to_owned(), Binding::value(fw.org.id.as_str())),
        (
            EVIDENCE_BUCKET.to_owned(),
            Binding::output(StackKind::ForensicsAnalysis, outputs::EVIDENCE_BUCKET),
        ),
        (
            EVIDENCE_KEY.to_owned(),
            Binding::output(StackKind::ForensicsAnalysis, outputs::EVIDENCE_KEY_ARN),
        ),
        (
            CUSTODY_KEY.to_owned(),
            Binding::output(StackKind::ForensicsAnalysis, outputs::CUSTODY_KEY_ARN),
        ),
        (
            ACCESS_LOGS.to_owned(),
            Binding::output(StackKind::ForensicsAnalysis, outputs::ACCESS_LOGS_BUCKET),
        ),
        (
            IR_SUBNETS.to_owned(),
            Binding::output(StackKind::SecurityIrVpc, outputs::IR_SUBNET_IDS),
        ),
        (
            IMAGING_SG.to_owned(),
            Binding::output(StackKind::SecurityIrVpc, outputs::IMAGING_SG),
        ),
    ]);
    super::common::bind_slack(fw, &mut b);
    b
}

/// The machine definitions, keyed by logical id.
pub(crate) fn machines() -> Vec<(&'static str, &'static str, StateMachine)> {
    vec![
        (MACHINES[0].0, MACHINES[0].1, workflows::disk_machine()),
        (MACHINES[1].0, MACHINES[1].1, workflows::memory_machine()),
        (MACHINES[2].0, MACHINES[2].1, workflows::combined_machine()),
    ]
}

pub(super) fn template(fw: &Framework) -> Template {
    let names = &fw.names;
    let mut t = Template::new(
        "IRF security account: authenticated incident entry point, acquisition functions, \
         disk/memory/combined workflows, alias/ir/sec key, memory-modules bucket and outcome notices.",
    );
    let org = t.parameter(
        ORG_ID,
        Parameter::string("AWS Organizations id; only its accounts may request incidents.")
            .pattern(
                "^o-[a-z0-9]{10,32}$",
                "an organization id such as o-a1b2c3d4e5",
            ),
    );
    let evidence = t.parameter(
        EVIDENCE_BUCKET,
        Parameter::string("Evidence bucket (forensics account)."),
    );
    let evidence_key = t.parameter(
        EVIDENCE_KEY,
        Parameter::string("Evidence bucket KMS key ARN."),
    );
    let custody_key = t.parameter(
        CUSTODY_KEY,
        Parameter::string("Custody ledger signing key ARN."),
    );
    let access_logs = t.parameter(
        ACCESS_LOGS,
        Parameter::string("S3 access-log bucket (forensics account)."),
    );
    let subnets = t.parameter(
        IR_SUBNETS,
        Parameter::list("IR VPC subnets for the imaging functions."),
    );
    let imaging_sg = t.parameter(
        IMAGING_SG,
        Parameter::string("Security group of the imaging functions."),
    );
    super::common::asset_parameters(&mut t);
    let slack = super::common::slack_parameters(&mut t, fw);

    // Keys.
    add_key(
        &mut t,
        "SecurityKey",
        contract::SECURITY_KEY_ALIAS,
        "IRF security-account copies of evidence snapshots and memory modules",
        vec![],
    );
    add_key(
        &mut t,
        "NotificationsKey",
        &format!("alias/{}/notifications", names.prefix()),
        "IRF case outcome topic",
        vec![
            Statement::allow(&["kms:GenerateDataKey*", "kms:Decrypt"])
                .sid("ServicesPublishToEncryptedTopic")
                .principal(Principal::Service(vec![
                    Expr::s("events.amazonaws.com"),
                    Expr::s("states.amazonaws.com"),
                ]))
                .on_all()
                .when(
                    "StringEquals",
                    "aws:SourceAccount",
                    Expr::r#ref("AWS::AccountId"),
                ),
        ],
    );

    // Roles.
    let role_arn = |name: &str| Expr::sub(format!("arn:${{AWS::Partition}}:iam::*:role/{name}"));
    let assume_members = Statement::allow(&["sts:AssumeRole"])
        .sid("AssumeIRAutomationInOrgAccounts")
        .on([role_arn(contract::IR_AUTOMATION_ROLE)])
        .when("StringEquals", "aws:ResourceOrgID", org.clone());
    let evidence_objects = |prefix: &str| objects_arn(&evidence, prefix);
    let evidence_key_use =
        Statement::allow(&["kms:GenerateDataKey", "kms:Decrypt", "kms:DescribeKey"])
            .sid("EncryptEvidence")
            .on([evidence_key.clone()]);
    let custody_sign = Statement::allow(&["kms:Sign", "kms:GetPublicKey"])
        .sid("SignCustodyLedger")
        .on([custody_key.clone()]);
    let ledger = Statement::allow(&["s3:GetObject", "s3:PutObject"])
        .sid("AppendCustodyLedger")
        .on([evidence_objects("*/custody/*")]);
    let fn_names =
        |ids: &[&str]| -> Vec<String> { ids.iter().map(|n| names.resource(n)).collect() };
    let acquisition_tag = Expr::s(contract::ACQUISITION_TAG_VALUE);
    let own_snapshots = Expr::sub("arn:${AWS::Partition}:ec2:${AWS::Region}::snapshot/*");

    let mut disk_statements = vec![
        assume_members.clone(),
        Statement::allow(&["ec2:DescribeSnapshots"])
            .sid("DescribeSnapshots")
            .on_all(),
        Statement::allow(&["ec2:CopySnapshot"])
            .sid("CopySharedSnapshotsWithCaseTags")
            .on([Expr::sub("arn:${AWS::Partition}:ec2:*::snapshot/*")])
            .when(
                "StringEquals",
                &format!("aws:RequestTag/{}", contract::ACQUISITION_TAG),
                acquisition_tag.clone(),
            ),
        Statement::allow(&["ec2:CopySnapshot"])
            .sid("CopyFromSharedSnapshots")
            .on([Expr::sub("arn:${AWS::Partition}:ec2:*::snapshot/*")])
            .when(
                "Null",
                &format!("aws:RequestTag/{}", contract::ACQUISITION_TAG),
                Expr::s("true"),
            ),
        Statement::allow(&["ec2:CreateTags"])
            .sid("TagCopiesOnCreation")
            .on([own_snapshots.clone()])
            .when("StringEquals", "ec2:CreateAction", Expr::s("CopySnapshot")),
        Statement::allow(&["ec2:DeleteSnapshot"])
            .sid("DeleteOnlyAcquisitionSnapshots")
            .on([own_snapshots.clone()])
            .when(
                "StringEquals",
                &format!("aws:ResourceTag/{}", contract::ACQUISITION_TAG),
                acquisition_tag.clone(),
            ),
        Statement::allow(&["ebs:ListSnapshotBlocks", "ebs:GetSnapshotBlock"])
            .sid("ReadAcquisitionSnapshotBlocks")
            .on([own_snapshots])
            .when(
                "StringEquals",
                &format!("aws:ResourceTag/{}", contract::ACQUISITION_TAG),
                acquisition_tag,
            ),
        Statement::allow(&[
            "kms:Decrypt",
            "kms:DescribeKey",
            "kms:ReEncrypt*",
            "kms:GenerateDataKeyWithoutPlaintext",
            "kms:CreateGrant",
        ])
        .sid("UseSecurityKeyThroughEc2AndEbs")
        .on([Expr::arn("SecurityKey")])
        .when(
            "StringEquals",
            "kms:ViaService",
            Expr::List(vec![
                Expr::sub("ec2.${AWS::Region}.amazonaws.com"),
                Expr::sub("ebs.${AWS::Region}.amazonaws.com"),
            ]),
        ),
        Statement::allow(&[
            "kms:Decrypt",
            "kms:DescribeKey",
            "kms:ReEncrypt*",
            "kms:CreateGrant",
        ])
        .sid("UseMemberSnapshotKeysForCopies")
        .on([Expr::sub("arn:${AWS::Partition}:kms:*:*:key/*")])
        .when(
            "ForAnyValue:StringEquals",
            "kms:ResourceAliases",
            Expr::s(contract::MEMBER_EBS_KEY_ALIAS),
        ),
        Statement::allow(&[
            "s3:PutObject",
            "s3:GetObject",
            "s3:AbortMultipartUpload",
            "s3:ListMultipartUploadParts",
        ])
        .sid("WriteDiskImages")
        .on([evidence_objects("*")]),
        Statement::allow(&["s3:ListBucketMultipartUploads"])
            .sid("ResumeDiskImageUploads")
            .on([super::common::bucket_arn(&evidence)]),
        evidence_key_use.clone(),
        custody_sign.clone(),
        // Lambda creates the imaging function's network interfaces with this role. Describe
        // works only on every resource; the changes are limited to this account and region.
        Statement::allow(&["ec2:DescribeNetworkInterfaces"])
            .sid("FindOwnNetworkInterfaces")
            .on_all(),
        Statement::allow(&[
            "ec2:CreateNetworkInterface",
            "ec2:DeleteNetworkInterface",
            "ec2:AssignPrivateIpAddresses",
            "ec2:UnassignPrivateIpAddresses",
        ])
        .sid("RunInTheIrVpc")
        .on(
            ["network-interface", "subnet", "security-group"].map(|kind| {
                Expr::sub(format!(
                    "arn:${{AWS::Partition}}:ec2:${{AWS::Region}}:${{AWS::AccountId}}:{kind}/*"
                ))
            }),
        ),
    ];
    disk_statements.extend(logging_statements(&fn_names(&[
        "disk-snapshot",
        "disk-imaging",
    ])));
    let mut disk_role = lambda_role(
        Some(contract::SNAPSHOT_AUTOMATION_ROLE),
        "IRF disk acquisition: snapshots in member accounts, security copies, EBS direct imaging",
    )
    .inline("DiskAcquisition", PolicyDocument::new(disk_statements));
    disk_role.max_session_duration = Some(3600);
    t.add("SnapshotAutomationRole", disk_role);

    let modules = Expr::s(names.modules_bucket());
    let mut memory_statements = vec![
        assume_members.clone(),
        Statement::allow(&[
            "s3:PutObject",
            "s3:GetObject",
            "s3:AbortMultipartUpload",
            "s3:ListMultipartUploadParts",
        ])
        .sid("PresignMemoryUploads")
        .on([
            evidence_objects("*/memory/*"),
            evidence_objects("*/staging/*"),
        ]),
        evidence_key_use.clone(),
        Statement::allow(&["s3:GetObject"])
            .sid("PresignModuleAndToolDownloads")
            .on([objects_arn(&modules, "*")]),
        Statement::allow(&["kms:Decrypt"])
            .sid("DecryptModules")
            .on([Expr::arn("SecurityKey")])
            .when(
                "StringEquals",
                "kms:ViaService",
                Expr::sub("s3.${AWS::Region}.amazonaws.com"),
            ),
        custody_sign.clone(),
        ledger.clone(),
    ];
    let ingest_regions = fw.ingest_regions();
    if !ingest_regions.is_empty() {
        let ingest: Vec<Expr> = ingest_regions
            .iter()
            .map(|r| Expr::s(names.ingest_bucket(*r)))
            .collect();
        memory_statements.extend([
            Statement::allow(&[
                "s3:PutObject",
                "s3:GetObject",
                "s3:GetObjectVersion",
                "s3:AbortMultipartUpload",
                "s3:ListMultipartUploadParts",
            ])
            .sid("IngestCapturesOutsideTheHomeRegion")
            .on(ingest.iter().map(|b| objects_arn(b, "*"))),
            Statement::allow(&["s3:ListBucket"])
                .sid("ListIngestedCaptures")
                .on(ingest.iter().map(super::common::bucket_arn)),
            Statement::allow(&["kms:GenerateDataKey", "kms:Decrypt", "kms:DescribeKey"])
                .sid("UseIngestKeysThroughS3")
                .on([Expr::sub(format!(
                    "arn:${{AWS::Partition}}:kms:*:{}:key/*",
                    fw.forensics
                ))])
                .when(
                    "ForAnyValue:StringEquals",
                    "kms:ResourceAliases",
                    Expr::s(contract::INGEST_KEY_ALIAS),
                )
                .when(
                    "StringLike",
                    "kms:ViaService",
                    Expr::s("s3.*.amazonaws.com"),
                ),
        ]);
    }
    memory_statements.extend(logging_statements(&fn_names(&["memory-acquisition"])));
    t.add(
        "MemoryAutomationRole",
        lambda_role(
            Some(contract::MEMORY_AUTOMATION_ROLE),
            "IRF memory acquisition: SSM in member accounts, presigned uploads, no credentials on hosts",
        )
        .inline("MemoryAcquisition", PolicyDocument::new(memory_statements)),
    );

    let mut case_statements = vec![
        assume_members.clone(),
        Statement::allow(&["s3:GetObject", "s3:PutObject"])
            .sid("WriteCaseRecords")
            .on([
                evidence_objects("*/custody/*"),
                evidence_objects("*/case.json"),
            ]),
        Statement::allow(&["s3:ListBucket"])
            .sid("ListCaseArtifacts")
            .on([super::common::bucket_arn(&evidence)]),
        Statement::allow(&["s3:GetObject"])
            .sid("ReadArtifactsForVerification")
            .on([evidence_objects("*")]),
        evidence_key_use.clone(),
        custody_sign.clone(),
    ];
    case_statements.extend(logging_statements(&fn_names(&["case-record"])));
    t.add(
        "CaseRecordRole",
        lambda_role(
            Some(contract::CASE_RECORD_ROLE),
            "IRF case record: custody ledger, final containment tag, outcome",
        )
        .inline("CaseRecord", PolicyDocument::new(case_statements)),
    );

    let combined_arn = Expr::sub(format!(
        "arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:stateMachine:{}",
        names.resource(MACHINES[2].1)
    ));
    let mut trigger_statements = vec![
        assume_members,
        Statement::allow(&["states:StartExecution"])
            .sid("StartCases")
            .on([combined_arn.clone()]),
        Statement::allow(&["states:DescribeExecution"])
            .sid("FindRunningCases")
            .on([Expr::sub(format!(
                "arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:execution:{}:*",
                names.resource(MACHINES[2].1)
            ))]),
    ];
    trigger_statements.extend(logging_statements(&fn_names(&["incident-trigger"])));
    trigger_statements.extend(dead_letter_statements(
        vec![Expr::arn(dead_letter_queue_id("IncidentTriggerFunction"))],
        OperationsKeyRef::InThisTemplate,
    ));
    t.add(
        "IncidentTriggerRole",
        lambda_role(
            None,
            "IRF incident trigger: verifies the sender and starts the case",
        )
        .inline("StartCases", PolicyDocument::new(trigger_statements)),
    );

    let mut notify_statements = vec![
        Statement::allow(&["sns:Publish"])
            .sid("PublishOutcomes")
            .on([Expr::r#ref("OutcomeTopic")]),
        Statement::allow(&["kms:GenerateDataKey", "kms:Decrypt"])
            .sid("EncryptOutcomes")
            .on([Expr::arn("NotificationsKey")]),
    ];
    if let Some((secret, _)) = &slack {
        notify_statements.push(
            Statement::allow(&["secretsmanager:GetSecretValue"])
                .sid("ReadSlackWebhook")
                .on([secret.clone()]),
        );
    }
    notify_statements.extend(logging_statements(&fn_names(&["notify"])));
    notify_statements.extend(dead_letter_statements(
        vec![Expr::arn(dead_letter_queue_id("NotifyFunction"))],
        OperationsKeyRef::InThisTemplate,
    ));
    t.add(
        "NotifyRole",
        lambda_role(None, "IRF outcome notifications")
            .inline("Notify", PolicyDocument::new(notify_statements)),
    );

    // Outcome topic.
    t.add(
        "OutcomeTopic",
        sns::Topic {
            topic_name: Some(Expr::s(names.resource("case-outcomes"))),
            display_name: Some("IRF case outcomes".to_owned()),
            kms_master_key_id: Some(Expr::r#ref("NotificationsKey")),
            tags: Vec::new(),
        },
    );
    for (i, email) in fw.notifications.emails.iter().enumerate() {
        t.add(
            &format!("OutcomeEmail{}", i + 1),
            sns::Subscription {
                topic_arn: Expr::r#ref("OutcomeTopic"),
                protocol: "email".to_owned(),
                endpoint: Expr::s(email),
            },
        );
    }

    // Functions.
    let prefix = || Some(Expr::s(names.prefix()));
    add_function(
        &mut t,
        fw,
        FunctionSpec {
            id: "IncidentTriggerFunction",
            name: "incident-trigger",
            description: "Verifies that an incident request comes from the instance's own account and starts the case",
            handler: Handler::IncidentTrigger,
            role: Expr::arn("IncidentTriggerRole"),
            env: IncidentTriggerEnv {
                prefix: prefix(),
                evidence_bucket: Some(evidence.clone()),
                custody_key_arn: Some(custody_key.clone()),
                case_state_machine_arn: combined_arn.clone(),
                retain_artefacts: Some(Expr::s(fw.acquisition.retain_artefacts.to_string())),
            }
            .variables(),
            timeout: 60,
            memory: 256,
            network: Network::Managed {
                calls: "STS (IRAutomation in member accounts) and Step Functions",
            },
            invocation: Invocation::Asynchronous,
            // Any org account may put requests on the bus: the reservation caps what a flood
            // can take from the acquisition functions, and keeps the entry point available.
            concurrency: Concurrency::Reserved(10),
        },
    );
    add_function(
        &mut t,
        fw,
        FunctionSpec {
            id: "DiskSnapshotFunction",
            name: "disk-snapshot",
            description: "Snapshots, re-encrypts, shares, copies and cleans up evidence snapshots",
            handler: Handler::DiskSnapshot,
            role: Expr::arn("SnapshotAutomationRole"),
            env: DiskSnapshotEnv {
                prefix: prefix(),
                evidence_bucket: Some(evidence.clone()),
                custody_key_arn: Some(custody_key.clone()),
                security_key_arn: Some(Expr::arn("SecurityKey")),
                retain_artefacts: Some(Expr::s(fw.acquisition.retain_artefacts.to_string())),
            }
            .variables(),
            timeout: 300,
            memory: 256,
            network: Network::Managed {
                calls: "STS (IRAutomation in member accounts), EC2, KMS and S3",
            },
            invocation: Invocation::WorkflowTask,
            concurrency: Concurrency::Shared(WORKFLOW_TASK_CONCURRENCY),
        },
    );
    add_function(
        &mut t,
        fw,
        FunctionSpec {
            id: "DiskImagingFunction",
            name: "disk-imaging",
            description: "Images a snapshot into the evidence bucket with the EBS direct APIs (no instance)",
            handler: Handler::DiskImaging,
            role: Expr::arn("SnapshotAutomationRole"),
            env: DiskImagingEnv {
                prefix: prefix(),
                evidence_bucket: evidence.clone(),
                custody_key_arn: custody_key.clone(),
                compress_disk_images: Some(Expr::s(
                    fw.acquisition.compress_disk_images.to_string(),
                )),
                imaging_budget_seconds: None,
            }
            .variables(),
            timeout: 900,
            memory: 3008,
            network: Network::Vpc(vec![imaging_sg], subnets),
            invocation: Invocation::WorkflowTask,
            concurrency: Concurrency::Shared(WORKFLOW_TASK_CONCURRENCY),
        },
    );
    add_function(
        &mut t,
        fw,
        FunctionSpec {
            id: "MemoryFunction",
            name: "memory-acquisition",
            description: "Memory preflight, capture through presigned URLs, verification and the Volatility ISF, over SSM",
            handler: Handler::MemoryAcquisition,
            role: Expr::arn("MemoryAutomationRole"),
            env: MemoryAcquisitionEnv {
                prefix: Expr::s(names.prefix()),
                evidence_bucket: evidence.clone(),
                custody_key_arn: custody_key.clone(),
                modules_bucket: modules.clone(),
                memory_methods: Expr::s(
                    fw.acquisition
                        .memory_methods
                        .iter()
                        .map(|m| m.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                ingest_buckets: (!ingest_regions.is_empty()).then(|| {
                    Expr::s(
                        ingest_regions
                            .iter()
                            .map(|r| format!("{r}={}", names.ingest_bucket(*r)))
                            .collect::<Vec<_>>()
                            .join(","),
                    )
                }),
            }
            .variables(),
            // Verification re-reads and re-hashes the whole memory image from S3; the ISF build holds
            // the symbol bundle and the ISF in memory (~100 MiB for a 6.1 kernel).
            timeout: 900,
            memory: 1024,
            network: Network::Managed {
                calls: "STS (SSM in member accounts), S3 (presigning) and KMS",
            },
            invocation: Invocation::WorkflowTask,
            concurrency: Concurrency::Shared(WORKFLOW_TASK_CONCURRENCY),
        },
    );
    add_function(
        &mut t,
        fw,
        FunctionSpec {
            id: "CaseRecordFunction",
            name: "case-record",
            description: "Opens, contains and closes cases; keeps the signed custody ledger",
            handler: Handler::CaseRecord,
            role: Expr::arn("CaseRecordRole"),
            env: CaseRecordEnv {
                prefix: prefix(),
                evidence_bucket: evidence.clone(),
                custody_key_arn: custody_key.clone(),
            }
            .variables(),
            timeout: 300,
            memory: 512,
            network: Network::Managed {
                calls: "STS (IRAutomation in member accounts), S3 and KMS",
            },
            invocation: Invocation::WorkflowTask,
            concurrency: Concurrency::Shared(WORKFLOW_TASK_CONCURRENCY),
        },
    );
    let notify_env = NotifyEnv {
        prefix: prefix(),
        member_name: None,
        evidence_bucket: Some(evidence.clone()),
        custody_key_arn: Some(custody_key.clone()),
        outcome_topic_arn: Some(Expr::r#ref("OutcomeTopic")),
        slack_secret_arn: slack.as_ref().map(|(secret, _)| secret.clone()),
        slack_channel: slack.as_ref().map(|(_, channel)| channel.clone()),
    };
    add_function(
        &mut t,
        fw,
        FunctionSpec {
            id: "NotifyFunction",
            name: "notify",
            description: "Case started/succeeded/failed notices to the outcome topic and Slack",
            handler: Handler::Notify,
            role: Expr::arn("NotifyRole"),
            env: notify_env.variables(),
            timeout: 60,
            memory: 256,
            network: Network::Managed {
                calls: "SNS, KMS, Secrets Manager and Slack's webhook on the internet",
            },
            // Also the target of the rule for cases that ended abnormally.
            invocation: Invocation::Asynchronous,
            concurrency: Concurrency::Shared(
                "a few notices per case: the workflows retry Lambda throttling, and Lambda's asynchronous queue retries the abnormal-end rule's events",
            ),
        },
    );

    // Entry point: the incident bus.
    t.add(
        "IncidentBus",
        events::EventBus {
            name: Expr::s(names.incident_bus()),
            description: Some("IRF incident requests from member accounts".to_owned()),
            policy: Some(PolicyDocument::new([Statement::allow(&[
                "events:PutEvents",
            ])
            .sid("OrgAccountsRequestIncidents")
            .principal(Principal::Anyone)
            .on([Expr::sub(format!(
                "arn:${{AWS::Partition}}:events:${{AWS::Region}}:${{AWS::AccountId}}:event-bus/{}",
                names.incident_bus()
            ))])
            .when("StringEquals", "aws:PrincipalOrgID", org)])),
        },
    );
    let mut pattern = IndexMap::new();
    pattern.insert(
        "source".to_owned(),
        Expr::strs([contract::INCIDENT_EVENT_SOURCE]),
    );
    pattern.insert(
        "detail-type".to_owned(),
        Expr::strs([contract::INCIDENT_EVENT_DETAIL_TYPE]),
    );
    t.add(
        "IncidentRequestRule",
        events::Rule {
            name: Some(Expr::s(names.resource("incident-requests"))),
            description: "Incident requests from member accounts start cases".to_owned(),
            // By name with an explicit dependency: the emulator resolves `!Ref` of a bus to an
            // object instead of its name.
            event_bus_name: Some(Expr::s(names.incident_bus())),
            event_pattern: Some(Expr::Map(pattern)),
            schedule_expression: None,
            state: "ENABLED".to_owned(),
            targets: vec![events::Target {
                arn: Expr::arn("IncidentTriggerFunction"),
                id: "IncidentTrigger".to_owned(),
                role_arn: None,
                retry_policy: Some(events::RetryPolicy {
                    maximum_event_age_in_seconds: 3600,
                    maximum_retry_attempts: 24,
                }),
            }],
        },
    );
    t.resources
        .get_mut("IncidentRequestRule")
        .expect("just added")
        .depends_on("IncidentBus");
    add_invoke_permission(
        &mut t,
        "IncidentTriggerPermission",
        "IncidentTriggerFunction",
        "events.amazonaws.com",
        Expr::arn("IncidentRequestRule"),
    );

    // Workflows.
    t.add(
        "StateMachineLogs",
        logs::LogGroup {
            log_group_name: Some(Expr::s(format!(
                "/aws/vendedlogs/states/{}",
                names.resource("cases")
            ))),
            kms_key_id: Some(Expr::arn(OPERATIONS_KEY)),
            retention_in_days: fw.lambda.log_retention_days,
        },
    );
    add_operations_key(&mut t, fw, StackKind::SecurityAutomation);
    let mut targets = std::collections::BTreeSet::new();
    for (_, _, m) in machines() {
        targets.extend(m.targets());
    }
    let function_arns: Vec<Expr> = targets
        .iter()
        .filter_map(|target| match target {
            TaskTarget::Lambda(p) => FUNCTIONS
                .iter()
                .find(|(_, ph)| ph == p)
                .map(|(id, _)| Expr::arn(*id)),
            TaskTarget::Sns(_) => None,
        })
        .collect();
    let mut states_role = irf_core::cfn::resources::iam::Role::new(PolicyDocument::new([
        Statement::allow(&["sts:AssumeRole"])
            .principal(Principal::Service(vec![Expr::s("states.amazonaws.com")]))
            .when(
                "StringEquals",
                "aws:SourceAccount",
                Expr::r#ref("AWS::AccountId"),
            ),
    ]))
    .inline(
        "RunWorkflows",
        PolicyDocument::new([
            Statement::allow(&["lambda:InvokeFunction"])
                .sid("InvokeWorkflowFunctions")
                .on(function_arns),
            Statement::allow(&[
                "logs:CreateLogDelivery",
                "logs:GetLogDelivery",
                "logs:UpdateLogDelivery",
                "logs:DeleteLogDelivery",
                "logs:ListLogDeliveries",
                "logs:PutResourcePolicy",
                "logs:DescribeResourcePolicies",
                "logs:DescribeLogGroups",
            ])
            .sid("DeliverExecutionLogs")
            .on_all(),
            Statement::allow(&[
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
            ])
            .sid("WriteTraces")
            .on_all(),
        ]),
    );
    states_role.description =
        Some("IRF workflows: invoke exactly the functions the definitions name".to_owned());
    t.add("WorkflowRole", states_role);
    for (id, name, machine) in machines() {
        let mut subs = IndexMap::new();
        for target in machine.targets() {
            if let TaskTarget::Lambda(p) = target
                && let Some((fid, _)) = FUNCTIONS.iter().find(|(_, ph)| *ph == p)
            {
                subs.insert(p.clone(), Expr::arn(*fid));
            }
        }
        t.add(
            id,
            sfn::StateMachine {
                state_machine_name: Some(Expr::s(names.resource(name))),
                state_machine_type: "STANDARD".to_owned(),
                role_arn: Expr::arn("WorkflowRole"),
                definition: machine,
                definition_substitutions: subs,
                logging_configuration: Some(sfn::LoggingConfiguration {
                    destinations: vec![sfn::LogDestination {
                        cloud_watch_logs_log_group: sfn::LogGroupRef {
                            log_group_arn: Expr::arn("StateMachineLogs"),
                        },
                    }],
                    include_execution_data: true,
                    level: "ALL".to_owned(),
                }),
                tracing_configuration: Some(sfn::TracingConfiguration { enabled: true }),
                tags: Vec::new(),
            },
        );
    }

    // Executions that end without reaching their own notice (timeout, abort, runtime error).
    let mut detail = IndexMap::new();
    detail.insert(
        "status".to_owned(),
        Expr::strs(ExecutionStatus::ENDED_ABNORMALLY.map(ExecutionStatus::as_str)),
    );
    detail.insert(
        "stateMachineArn".to_owned(),
        Expr::List(MACHINES.iter().map(|(id, _)| Expr::r#ref(*id)).collect()),
    );
    let mut pattern = IndexMap::new();
    pattern.insert("source".to_owned(), Expr::strs([STEP_FUNCTIONS_SOURCE]));
    pattern.insert(
        "detail-type".to_owned(),
        Expr::strs([EXECUTION_STATUS_CHANGE_DETAIL_TYPE]),
    );
    pattern.insert("detail".to_owned(), Expr::Map(detail));
    t.add(
        "CaseEndedAbnormallyRule",
        events::Rule {
            name: Some(Expr::s(names.resource("case-ended-abnormally"))),
            description: "Cases that failed, timed out or were aborted are always reported"
                .to_owned(),
            event_bus_name: None,
            event_pattern: Some(Expr::Map(pattern)),
            schedule_expression: None,
            state: "ENABLED".to_owned(),
            targets: vec![events::Target {
                arn: Expr::arn("NotifyFunction"),
                id: "Notify".to_owned(),
                role_arn: None,
                retry_policy: None,
            }],
        },
    );
    add_invoke_permission(
        &mut t,
        "CaseEndedAbnormallyPermission",
        "NotifyFunction",
        "events.amazonaws.com",
        Expr::arn("CaseEndedAbnormallyRule"),
    );

    // Memory modules.
    add_bucket(
        &mut t,
        BucketSpec {
            id: "ModulesBucket",
            name: modules.clone(),
            key: Some(Expr::arn("SecurityKey")),
            access_logs: Some((access_logs, "memory-modules/".to_owned())),
            lifecycle: vec![s3::LifecycleRule {
                id: "ExpireOldModuleVersions".to_owned(),
                status: "Enabled".to_owned(),
                expiration_in_days: None,
                transitions: Vec::new(),
                noncurrent_version_expiration: Some(s3::NoncurrentVersionExpiration {
                    noncurrent_days: 365,
                }),
                abort_incomplete_multipart_upload: None,
            }],
            object_lock: None,
            retain: false,
        },
    );
    t.add(
        "ModulesBucketPolicy",
        s3::BucketPolicy {
            bucket: Expr::r#ref("ModulesBucket"),
            policy_document: PolicyDocument::new([
                deny_insecure_transport(&modules),
                Statement::deny(&["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"])
                    .sid("OnlyThisAccountWritesModules")
                    .principal(Principal::Anyone)
                    .on([objects_arn(&modules, "*")])
                    .when(
                        "StringNotEquals",
                        "aws:PrincipalAccount",
                        Expr::r#ref("AWS::AccountId"),
                    ),
            ]),
        },
    );

    t.output(
        outputs::SNAPSHOT_ROLE_ARN,
        "Disk acquisition role",
        Expr::arn("SnapshotAutomationRole"),
    );
    t.output(
        outputs::MEMORY_ROLE_ARN,
        "Memory acquisition role",
        Expr::arn("MemoryAutomationRole"),
    );
    t.output(
        outputs::CASE_ROLE_ARN,
        "Case record role",
        Expr::arn("CaseRecordRole"),
    );
    t.output(
        outputs::TRIGGER_ROLE_ARN,
        "Incident trigger role",
        Expr::arn("IncidentTriggerRole"),
    );
    t.output(
        outputs::INCIDENT_BUS_ARN,
        "Incident request bus",
        Expr::arn("IncidentBus"),
    );
    t.output(
        outputs::MODULES_BUCKET,
        "Memory-modules bucket",
        Expr::r#ref("ModulesBucket"),
    );
    t.output(
        outputs::SECURITY_KEY_ARN,
        "alias/ir/sec key",
        Expr::arn("SecurityKey"),
    );
    t.output(
        "OutcomeTopicArn",
        "Case outcome topic",
        Expr::r#ref("OutcomeTopic"),
    );
    for (id, _) in MACHINES {
        t.output(&format!("{id}Arn"), "State machine", Expr::r#ref(*id));
    }
    t
}
