//! Member account, once per account: the IAM half of the member automation.
//!
//! IAM is global, so roles live here and the per-region stack only references them (a role
//! defined in the per-region stack would collide on its name in a member's second region).
//! `IRAutomation` trusts the security account's acquisition, case, trigger *and* Security Hub
//! roles from the start, and is scoped: snapshots only with case tags, `SendCommand` only with
//! the framework's documents and only on instances under incident, tags only
//! `SecurityIncidentStatus`.

use std::collections::BTreeMap;

use irf_core::cfn::resources::iam;
use irf_core::cfn::{Expr, Parameter, Template};
use irf_core::contract;
use irf_core::iam::{Effect, PolicyDocument, Principal, Statement};
use irf_core::model::Framework;

use super::common::{
    OperationsKeyRef, dead_letter_queue_name, dead_letter_statements, operations_key_alias,
};
use super::{Binding, StackKind, outputs};

const TRUSTED: [(&str, &str); 5] = [
    ("SnapshotRoleArn", outputs::SNAPSHOT_ROLE_ARN),
    ("MemoryRoleArn", outputs::MEMORY_ROLE_ARN),
    ("CaseRoleArn", outputs::CASE_ROLE_ARN),
    ("TriggerRoleArn", outputs::TRIGGER_ROLE_ARN),
    ("SecurityHubRoleArn", outputs::SECURITY_HUB_ROLE_ARN),
];
const INCIDENT_BUS: &str = "IncidentBusArn";
use super::common::SLACK_SECRET;

pub(super) fn bindings(fw: &Framework) -> BTreeMap<String, Binding> {
    let mut b = BTreeMap::new();
    for (param, output) in TRUSTED {
        let kind = if output == outputs::SECURITY_HUB_ROLE_ARN {
            StackKind::SecurityHub
        } else {
            StackKind::SecurityAutomation
        };
        b.insert(param.to_owned(), Binding::output(kind, output));
    }
    b.insert(
        INCIDENT_BUS.to_owned(),
        Binding::output(StackKind::SecurityAutomation, outputs::INCIDENT_BUS_ARN),
    );
    if let Some(s) = &fw.notifications.slack {
        b.insert(
            SLACK_SECRET.to_owned(),
            Binding::value(&s.webhook_secret_arn),
        );
    }
    b
}

pub(super) fn template(fw: &Framework) -> Template {
    let names = &fw.names;
    let prefix = names.prefix();
    let mut t = Template::new(
        "IRF member account (once per account): IRAutomation role trusted by the security \
         account, IR and isolation instance profiles, and the roles of the member functions.",
    );
    let trusted: Vec<Expr> = TRUSTED
        .iter()
        .map(|(p, _)| {
            t.parameter(
                p,
                Parameter::string("ARN of a security-account role trusted by IRAutomation."),
            )
        })
        .collect();
    let bus = t.parameter(
        INCIDENT_BUS,
        Parameter::string("ARN of the security account's incident bus."),
    );
    let slack = fw.notifications.slack.as_ref().map(|_| {
        t.parameter(
            SLACK_SECRET,
            Parameter::string("Secrets Manager ARN of the Slack webhook URL."),
        )
    });

    let arn = |service: &str, resource: &str| {
        Expr::sub(format!(
            "arn:${{AWS::Partition}}:{service}:*:${{AWS::AccountId}}:{resource}"
        ))
    };
    let tag_key = |k: &str| format!("aws:RequestTag/{k}");
    let acquisition = Expr::s(contract::ACQUISITION_TAG_VALUE);
    let snapshot_any_region = Expr::sub("arn:${AWS::Partition}:ec2:*::snapshot/*");
    let ir_automation = PolicyDocument::new([
        Statement::allow(&["ec2:CreateSnapshot", "ec2:CreateSnapshots"])
            .sid("SnapshotVolumesOfThisAccount")
            .on([arn("ec2", "volume/*"), arn("ec2", "instance/*")]),
        Statement::allow(&[
            "ec2:CreateSnapshot",
            "ec2:CreateSnapshots",
            "ec2:CopySnapshot",
        ])
        .sid("SnapshotsCarryTheCaseTags")
        .on([snapshot_any_region.clone()])
        .when(
            "StringEquals",
            &tag_key(contract::ACQUISITION_TAG),
            acquisition.clone(),
        )
        .when(
            "ForAllValues:StringEquals",
            "aws:TagKeys",
            Expr::strs([
                contract::ACQUISITION_TAG,
                contract::CASE_ID_TAG,
                contract::SNAPSHOT_STAGE_TAG,
                contract::SOURCE_VOLUME_TAG,
            ]),
        ),
        Statement::allow(&["ec2:CopySnapshot"])
            .sid("CopyFromCaseSnapshots")
            .on([snapshot_any_region.clone()])
            .when("Null", &tag_key(contract::ACQUISITION_TAG), Expr::s("true"))
            .when(
                "StringEquals",
                &format!("aws:ResourceTag/{}", contract::ACQUISITION_TAG),
                acquisition.clone(),
            ),
        Statement::allow(&["ec2:CreateTags"])
            .sid("TagSnapshotsOnCreation")
            .on([snapshot_any_region.clone()])
            .when(
                "StringEquals",
                "ec2:CreateAction",
                Expr::strs(["CreateSnapshot", "CreateSnapshots", "CopySnapshot"]),
            ),
        Statement::allow(&["ec2:CreateTags"])
            .sid("SetTheIncidentStatusTagOnly")
            .on([arn("ec2", "instance/*")])
            .when(
                "ForAllValues:StringEquals",
                "aws:TagKeys",
                Expr::strs([contract::INCIDENT_STATUS_TAG]),
            ),
        Statement::allow(&["ec2:ModifySnapshotAttribute", "ec2:DeleteSnapshot"])
            .sid("ShareAndDeleteCaseSnapshotsOnly")
            .on([snapshot_any_region])
            .when(
                "StringEquals",
                &format!("aws:ResourceTag/{}", contract::ACQUISITION_TAG),
                acquisition,
            ),
        Statement::allow(&[
            "ec2:DescribeInstances",
            "ec2:DescribeVolumes",
            "ec2:DescribeSnapshots",
            "ec2:DescribeIamInstanceProfileAssociations",
            "ssm:DescribeInstanceInformation",
            "ssm:GetCommandInvocation",
            "ssm:ListCommandInvocations",
            "ssm:ListCommands",
        ])
        .sid("ReadState")
        .on_all(),
        Statement::allow(&["ssm:SendCommand"])
            .sid("RunOnlyTheFrameworkDocuments")
            .on([arn("ssm", &format!("document/{prefix}-*"))]),
        Statement::allow(&["ssm:SendCommand"])
            .sid("OnlyOnInstancesUnderIncident")
            .on([arn("ec2", "instance/*")])
            .when(
                "StringLike",
                &format!("ssm:resourceTag/{}", contract::INCIDENT_STATUS_TAG),
                Expr::s("*"),
            ),
        Statement::allow(&["ssm:CancelCommand"])
            .sid("CancelCaptures")
            .on_all(),
        Statement::allow(&[
            "kms:Decrypt",
            "kms:DescribeKey",
            "kms:Encrypt",
            "kms:ReEncrypt*",
            "kms:GenerateDataKeyWithoutPlaintext",
            "kms:CreateGrant",
        ])
        .sid("UseTheSnapshotSharingKey")
        .on([arn("kms", "key/*")])
        .when(
            "ForAnyValue:StringEquals",
            "kms:ResourceAliases",
            Expr::s(contract::MEMBER_EBS_KEY_ALIAS),
        ),
        Statement::allow(&["ssm:GetParameter"])
            .sid("ReadContainmentRecords")
            .on([arn(
                "ssm",
                &format!(
                    "parameter/{prefix}/{}/*",
                    contract::PRIOR_STATE_PARAMETER_PREFIX
                ),
            )]),
    ]);
    let mut role = iam::Role::new(PolicyDocument::new([
        Statement::allow(&["sts:AssumeRole"]).principal(Principal::Aws(trusted))
    ]))
    .inline("IncidentResponse", ir_automation);
    role.role_name = Some(contract::IR_AUTOMATION_ROLE.to_owned());
    role.description =
        Some("IRF: assumed by the security account for acquisition and containment".to_owned());
    role.max_session_duration = Some(3600);
    t.add("IrAutomationRole", role);

    let mut ir_role = iam::Role::new(PolicyDocument::service_trust(&["ec2.amazonaws.com"]))
        .managed("AmazonSSMManagedInstanceCore");
    ir_role.description =
        Some("IRF: instances under analysis (SSM only; uploads use presigned URLs)".to_owned());
    t.add("IrInstanceRole", ir_role);
    t.add(
        "IrInstanceProfile",
        iam::InstanceProfile {
            instance_profile_name: Some(contract::IR_INSTANCE_PROFILE.to_owned()),
            roles: vec![Expr::r#ref("IrInstanceRole")],
        },
    );
    let mut isolation = iam::Role::new(PolicyDocument::service_trust(&["ec2.amazonaws.com"]))
        .inline(
            "DenyEverything",
            PolicyDocument::new([Statement::any_action(
                Effect::Deny,
                "ContainedInstancesMayDoNothing",
            )
            .on_all()]),
        );
    isolation.description = Some("IRF: contained instances; denies every AWS API call".to_owned());
    t.add("IsolationRole", isolation);
    t.add(
        "IsolationInstanceProfile",
        iam::InstanceProfile {
            instance_profile_name: Some(contract::ISOLATION_INSTANCE_PROFILE.to_owned()),
            roles: vec![Expr::r#ref("IsolationRole")],
        },
    );

    let containment_fn = names.resource("member-tag");
    let notify_fn = names.resource("member-notify");
    let mut containment = vec![
        Statement::allow(&[
            "ec2:DescribeInstances",
            "ec2:DescribeInstanceAttribute",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeAddresses",
            "ec2:DescribeIamInstanceProfileAssociations",
        ])
        .sid("ReadInstanceState")
        .on_all(),
        Statement::allow(&["ec2:ModifyInstanceAttribute"])
            .sid("ProtectAndPreserve")
            .on([arn("ec2", "instance/*")]),
        Statement::allow(&["ec2:ModifyNetworkInterfaceAttribute"])
            .sid("SwapSecurityGroups")
            .on([
                arn("ec2", "network-interface/*"),
                arn("ec2", "security-group/*"),
            ]),
        Statement::allow(&["ec2:CreateSecurityGroup"])
            .sid("CreateIsolationGroups")
            .on([arn("ec2", "vpc/*"), arn("ec2", "security-group/*")]),
        Statement::allow(&["ec2:CreateTags"])
            .sid("TagIsolationGroupsOnCreation")
            .on([arn("ec2", "security-group/*")])
            .when(
                "StringEquals",
                "ec2:CreateAction",
                Expr::s("CreateSecurityGroup"),
            ),
        Statement::allow(&[
            "ec2:RevokeSecurityGroupEgress",
            "ec2:RevokeSecurityGroupIngress",
            "ec2:AuthorizeSecurityGroupIngress",
            "ec2:AuthorizeSecurityGroupEgress",
        ])
        .sid("ShapeOnlyFrameworkGroups")
        .on([arn("ec2", "security-group/*")])
        .when(
            "StringEquals",
            &format!("aws:ResourceTag/{}", contract::ISOLATION_TAG),
            Expr::s(contract::ISOLATION_TAG_VALUE),
        ),
        Statement::allow(&[
            "ec2:AssociateIamInstanceProfile",
            "ec2:DisassociateIamInstanceProfile",
            "ec2:ReplaceIamInstanceProfileAssociation",
        ])
        .sid("SwapInstanceProfiles")
        .on([arn("ec2", "instance/*")]),
        Statement::allow(&["iam:PassRole"])
            .sid("PassOnlyTheFrameworkInstanceRoles")
            .on([Expr::arn("IrInstanceRole"), Expr::arn("IsolationRole")]),
        Statement::allow(&["iam:GetInstanceProfile"])
            .sid("FindThePreviousRole")
            .on([Expr::sub(
                "arn:${AWS::Partition}:iam::${AWS::AccountId}:instance-profile/*",
            )]),
        Statement::allow(&[
            "iam:PutRolePolicy",
            "iam:GetRolePolicy",
            "iam:DeleteRolePolicy",
        ])
        .sid("RevokeThisInstancesSessionsOfThePreviousRole")
        .on([Expr::sub(
            "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*",
        )]),
        Statement::allow(&["ec2:DisassociateAddress", "ec2:AssociateAddress"])
            .sid("DetachAndRestoreElasticIps")
            .on([
                arn("ec2", "elastic-ip/*"),
                arn("ec2", "network-interface/*"),
                arn("ec2", "instance/*"),
            ]),
        Statement::allow(&[
            "ssm:PutParameter",
            "ssm:GetParameter",
            "ssm:DeleteParameter",
            "ssm:AddTagsToResource",
        ])
        .sid("KeepPriorStateRecords")
        .on([arn(
            "ssm",
            &format!(
                "parameter/{prefix}/{}/*",
                contract::PRIOR_STATE_PARAMETER_PREFIX
            ),
        )]),
        Statement::allow(&["sns:Publish"])
            .sid("Narrate")
            .on([arn("sns", &format!("{prefix}-incident-notifications"))]),
        Statement::allow(&["kms:GenerateDataKey", "kms:Decrypt"])
            .sid("EncryptNarration")
            .on([arn("kms", "key/*")])
            .when(
                "ForAnyValue:StringEquals",
                "kms:ResourceAliases",
                Expr::s(format!("alias/{prefix}/notifications")),
            ),
        Statement::allow(&["events:PutEvents"])
            .sid("RequestAcquisition")
            .on([bus]),
    ];
    containment.extend(member_logging(&containment_fn));
    containment.extend(member_dead_letters(fw, "member-tag"));
    t.add(
        "ContainmentRole",
        super::common::lambda_role(
            Some(&names.member_tag_role()),
            "IRF member tag handler: containment, prior-state records, acquisition requests",
        )
        .inline("Containment", PolicyDocument::new(containment)),
    );
    let mut notify = member_logging(&notify_fn);
    notify.extend(member_dead_letters(fw, "member-notify"));
    if let Some(secret) = slack {
        notify.push(
            Statement::allow(&["secretsmanager:GetSecretValue"])
                .sid("ReadSlackWebhook")
                .on([secret]),
        );
    }
    t.add(
        "NotifyRole",
        super::common::lambda_role(
            Some(&names.member_notify_role()),
            "IRF member notifications to Slack",
        )
        .inline("Notify", PolicyDocument::new(notify)),
    );

    t.output(
        "IrAutomationRoleArn",
        "IRAutomation role",
        Expr::arn("IrAutomationRole"),
    );
    t.output(
        outputs::IR_PROFILE_ARN,
        "IR instance profile",
        Expr::arn("IrInstanceProfile"),
    );
    t.output(
        outputs::ISOLATION_PROFILE_ARN,
        "Isolation instance profile",
        Expr::arn("IsolationInstanceProfile"),
    );
    t.output(
        outputs::ISOLATION_ROLE_ARN,
        "Isolation role",
        Expr::arn("IsolationRole"),
    );
    t.output(
        outputs::CONTAINMENT_ROLE_ARN,
        "Tag handler role",
        Expr::arn("ContainmentRole"),
    );
    t.output(
        outputs::NOTIFY_ROLE_ARN,
        "Notification role",
        Expr::arn("NotifyRole"),
    );
    t
}

/// The dead-letter queue of a member function (by its name after the prefix), in any region; its
/// key is the member-automation stack's operations key of that region.
fn member_dead_letters(fw: &Framework, function_name: &str) -> Vec<Statement> {
    dead_letter_statements(
        vec![Expr::sub(format!(
            "arn:${{AWS::Partition}}:sqs:*:${{AWS::AccountId}}:{}",
            dead_letter_queue_name(fw, function_name)
        ))],
        OperationsKeyRef::ByAlias(operations_key_alias(fw, StackKind::MemberAutomation)),
    )
}

/// Logs and traces of a member function, in any region.
fn member_logging(function: &str) -> Vec<Statement> {
    vec![
        Statement::allow(&["logs:CreateLogStream", "logs:PutLogEvents"])
            .sid("WriteOwnLogs")
            .on([Expr::sub(format!(
                "arn:${{AWS::Partition}}:logs:*:${{AWS::AccountId}}:log-group:/aws/lambda/{function}:*"
            ))]),
        Statement::allow(&["xray:PutTraceSegments", "xray:PutTelemetryRecords"])
            .sid("WriteTraces")
            .on_all(),
    ]
}
