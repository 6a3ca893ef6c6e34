//! Member account, once per account and region: the tag-triggered automation.
//!
//! The EventBridge rule matches only changes of the `SecurityIncidentStatus` tag key on EC2
//! instances; its permission names the rule and the account. The snapshot-sharing key
//! `alias/ir/ebs`, the narration topic with its Slack function (webhook from Secrets Manager, never
//! in code), and the SSM documents of memory acquisition live here, per region.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use irf_core::blueprints::{self, CaptureContext, NoContext};
use irf_core::cfn::resources::{events, sns, ssm};
use irf_core::cfn::{Expr, Parameter, Template};
use irf_core::contract;
use irf_core::env::{MemberTagEnv, NotifyEnv};
use irf_core::events::{
    TAG_CHANGE_DETAIL_TYPE, TAG_CHANGE_RESOURCE_TYPE, TAG_CHANGE_SERVICE, TAG_CHANGE_SOURCE,
};
use irf_core::handler::Handler;
use irf_core::iam::{Principal, Statement};
use irf_core::model::Framework;

use super::common::{
    Concurrency, FunctionSpec, Invocation, Network, add_function, add_invoke_permission, add_key,
    add_operations_key, role_in, root_of,
};
use super::{Binding, StackKind, Target, outputs};

const SECURITY_ACCOUNT: &str = "SecurityAccountId";
const INCIDENT_BUS: &str = "IncidentBusArn";
const MEMBER_NAME: &str = "MemberName";

/// File name the capture document stages the streamer binary under.
pub const STREAMER_NAME: &str = "irf-memdump";
/// Loopback port LiME listens on during a capture.
pub const LIME_PORT: u16 = 4444;

pub(super) fn bindings(fw: &Framework, target: &Target<'_>) -> BTreeMap<String, Binding> {
    let mut b = BTreeMap::from([
        (
            SECURITY_ACCOUNT.to_owned(),
            Binding::value(fw.security.as_str()),
        ),
        (
            INCIDENT_BUS.to_owned(),
            Binding::output(StackKind::SecurityAutomation, outputs::INCIDENT_BUS_ARN),
        ),
        (
            MEMBER_NAME.to_owned(),
            Binding::value(target.member.map_or("", |m| m.name.as_str())),
        ),
    ]);
    super::common::bind_slack(fw, &mut b);
    b
}

/// The SSM Command document running `script` with `parameters` passed as environment variables
/// (never interpolated into the script text).
fn command_document(
    description: &str,
    parameters: Vec<(&str, &str, &str, bool)>,
    script: String,
    timeout: u32,
) -> Expr {
    let mut params = IndexMap::new();
    for (name, desc, pattern, required) in parameters {
        let mut p = IndexMap::new();
        p.insert("type".to_owned(), Expr::s("String"));
        p.insert("description".to_owned(), Expr::s(desc));
        p.insert("allowedPattern".to_owned(), Expr::s(pattern));
        p.insert("interpolationType".to_owned(), Expr::s("ENV_VAR"));
        if !required {
            p.insert("default".to_owned(), Expr::s(""));
        }
        params.insert(name.to_owned(), Expr::Map(p));
    }
    let mut inputs = IndexMap::new();
    inputs.insert("timeoutSeconds".to_owned(), Expr::s(timeout.to_string()));
    inputs.insert("runCommand".to_owned(), Expr::List(vec![Expr::s(script)]));
    let mut step = IndexMap::new();
    step.insert("action".to_owned(), Expr::s("aws:runShellScript"));
    step.insert("name".to_owned(), Expr::s("run"));
    step.insert("inputs".to_owned(), Expr::Map(inputs));
    let mut doc = IndexMap::new();
    doc.insert("schemaVersion".to_owned(), Expr::s("2.2"));
    doc.insert("description".to_owned(), Expr::s(description));
    doc.insert("parameters".to_owned(), Expr::Map(params));
    doc.insert("mainSteps".to_owned(), Expr::List(vec![Expr::Map(step)]));
    Expr::Map(doc)
}

pub(super) fn template(fw: &Framework) -> Template {
    let names = &fw.names;
    let prefix = names.prefix();
    let mut t = Template::new(
        "IRF member account (per region): tag rule and handler for Analyze/Contain, alias/ir/ebs \
         snapshot-sharing key, narration topic and Slack notifications, memory-acquisition documents.",
    );
    let security = t.parameter(
        SECURITY_ACCOUNT,
        Parameter::string("Account id of the IRF security account.")
            .pattern("^[0-9]{12}$", "a 12-digit account id"),
    );
    let bus = t.parameter(
        INCIDENT_BUS,
        Parameter::string("ARN of the security account's incident bus."),
    );
    let member = t.parameter(
        MEMBER_NAME,
        Parameter::string("Member name from org.toml (shown in notifications)."),
    );
    // The member-baseline stack of this account creates these under fixed names, so the ARNs
    // are derived here: the template needs no per-account values and works as a StackSet.
    let iam_arn = |kind: &str, name: &str| {
        Expr::sub(format!(
            "arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:{kind}/{name}"
        ))
    };
    let ir_profile = iam_arn("instance-profile", contract::IR_INSTANCE_PROFILE);
    let isolation_profile = iam_arn("instance-profile", contract::ISOLATION_INSTANCE_PROFILE);
    let tag_role = iam_arn("role", &names.member_tag_role());
    let notify_role = iam_arn("role", &names.member_notify_role());
    super::common::asset_parameters(&mut t);
    let slack = super::common::slack_parameters(&mut t, fw);

    add_key(
        &mut t,
        "EbsSnapshotKey",
        contract::MEMBER_EBS_KEY_ALIAS,
        "IRF re-encryption of evidence snapshots before they are shared with the security account",
        vec![
            Statement::allow(&[
                "kms:Decrypt",
                "kms:DescribeKey",
                "kms:ReEncrypt*",
                "kms:CreateGrant",
            ])
            .sid("SecurityAccountCopiesSharedSnapshots")
            .principal(Principal::Aws(vec![root_of(&security)]))
            .on_all()
            .when(
                "StringEquals",
                "kms:ViaService",
                Expr::sub("ec2.${AWS::Region}.amazonaws.com"),
            )
            .when(
                "ArnLike",
                "aws:PrincipalArn",
                role_in(&security, contract::SNAPSHOT_AUTOMATION_ROLE),
            ),
        ],
    );
    add_key(
        &mut t,
        "NotificationsKey",
        &format!("alias/{prefix}/notifications"),
        "IRF incident narration topic",
        vec![],
    );
    t.add(
        "NotificationTopic",
        sns::Topic {
            topic_name: Some(Expr::s(format!("{prefix}-incident-notifications"))),
            display_name: Some("IRF incident notifications".to_owned()),
            kms_master_key_id: Some(Expr::r#ref("NotificationsKey")),
            tags: Vec::new(),
        },
    );

    let env = MemberTagEnv {
        prefix: Expr::s(prefix),
        member_name: Some(member.clone()),
        security_account: Some(security.clone()),
        incident_bus_arn: Some(bus),
        notification_topic_arn: Some(Expr::r#ref("NotificationTopic")),
        ir_profile_arn: Some(ir_profile),
        isolation_profile_arn: Some(isolation_profile),
        disassociate_elastic_ips: Some(Expr::s(
            fw.containment.disassociate_elastic_ips.to_string(),
        )),
        revoke_role_sessions: Some(Expr::s(fw.containment.revoke_role_sessions.to_string())),
    }
    .variables();
    add_function(
        &mut t,
        fw,
        FunctionSpec {
            id: "TagHandlerFunction",
            name: "member-tag",
            description: "SecurityIncidentStatus=Analyze prepares the instance and requests acquisition; Contain isolates it",
            handler: Handler::MemberTag,
            role: tag_role,
            env,
            timeout: 120,
            memory: 256,
            network: Network::Managed {
                calls: "EC2, IAM, SSM, SNS, KMS and EventBridge",
            },
            invocation: Invocation::Asynchronous,
            // Containment must not be starved: the account's workloads (or an intruder) may
            // use up its unreserved concurrency during an incident. Ten units also cap a
            // mass-tagging burst; the excess waits in Lambda's asynchronous queue.
            concurrency: Concurrency::Reserved(10),
        },
    );
    let mut detail = IndexMap::new();
    detail.insert("service".to_owned(), Expr::strs([TAG_CHANGE_SERVICE]));
    detail.insert(
        "resource-type".to_owned(),
        Expr::strs([TAG_CHANGE_RESOURCE_TYPE]),
    );
    detail.insert(
        "changed-tag-keys".to_owned(),
        Expr::strs([contract::INCIDENT_STATUS_TAG]),
    );
    let mut pattern = IndexMap::new();
    pattern.insert("source".to_owned(), Expr::strs([TAG_CHANGE_SOURCE]));
    pattern.insert(
        "detail-type".to_owned(),
        Expr::strs([TAG_CHANGE_DETAIL_TYPE]),
    );
    pattern.insert("detail".to_owned(), Expr::Map(detail));
    t.add(
        "IncidentTagRule",
        events::Rule {
            name: Some(Expr::s(names.resource("incident-tag"))),
            description: format!(
                "Changes of the {} tag on EC2 instances",
                contract::INCIDENT_STATUS_TAG
            ),
            event_bus_name: None,
            event_pattern: Some(Expr::Map(pattern)),
            schedule_expression: None,
            state: "ENABLED".to_owned(),
            targets: vec![events::Target {
                arn: Expr::arn("TagHandlerFunction"),
                id: "TagHandler".to_owned(),
                role_arn: None,
                retry_policy: Some(events::RetryPolicy {
                    maximum_event_age_in_seconds: 3600,
                    maximum_retry_attempts: 8,
                }),
            }],
        },
    );
    add_invoke_permission(
        &mut t,
        "IncidentTagPermission",
        "TagHandlerFunction",
        "events.amazonaws.com",
        Expr::arn("IncidentTagRule"),
    );

    if let Some((secret, channel)) = slack {
        let env = NotifyEnv {
            prefix: Some(Expr::s(prefix)),
            member_name: Some(member),
            evidence_bucket: None,
            custody_key_arn: None,
            outcome_topic_arn: None,
            slack_secret_arn: Some(secret),
            slack_channel: Some(channel),
        }
        .variables();
        add_function(
            &mut t,
            fw,
            FunctionSpec {
                id: "SlackFunction",
                name: "member-notify",
                description: "Posts incident narration to Slack (webhook read from Secrets Manager)",
                handler: Handler::Notify,
                role: notify_role,
                env,
                timeout: 60,
                memory: 256,
                network: Network::Managed {
                    calls: "Secrets Manager and Slack's webhook on the internet",
                },
                invocation: Invocation::Asynchronous,
                concurrency: Concurrency::Shared(
                    "narration, a few messages per incident: Lambda's asynchronous queue retries throttled SNS deliveries, and the member account's pool stays with its workloads",
                ),
            },
        );
        t.add(
            "SlackSubscription",
            sns::Subscription {
                topic_arn: Expr::r#ref("NotificationTopic"),
                protocol: "lambda".to_owned(),
                endpoint: Expr::arn("SlackFunction"),
            },
        );
        add_invoke_permission(
            &mut t,
            "SlackPermission",
            "SlackFunction",
            "sns.amazonaws.com",
            Expr::r#ref("NotificationTopic"),
        );
    }
    add_operations_key(&mut t, fw, StackKind::MemberAutomation);

    let url = "^https://[^'\"\\s]+$";
    let optional_url = "^(https://[^'\"\\s]+)?$";
    let sha = "^[0-9a-f]{64}$";
    t.add(
        "MemoryPreflightDocument",
        ssm::Document {
            name: Some(Expr::s(format!("{prefix}-{}", contract::documents::MEMORY_PREFLIGHT))),
            document_type: "Command".to_owned(),
            document_format: "YAML".to_owned(),
            content: command_document(
                "IRF memory preflight: reports what memory acquisition can use on this host (read-only)",
                vec![("Methods", "Methods in order of preference", "^[a-z]+(,[a-z]+)*$", true)],
                blueprints::MEMORY_PREFLIGHT.render(&NoContext {}).expect("renders"),
                120,
            ),
            update_method: Some("NewVersion".to_owned()),
        },
    );
    t.add(
        "MemoryCaptureDocument",
        ssm::Document {
            name: Some(Expr::s(format!(
                "{prefix}-{}",
                contract::documents::MEMORY_CAPTURE
            ))),
            document_type: "Command".to_owned(),
            document_format: "YAML".to_owned(),
            content: command_document(
                "IRF memory capture through presigned URLs; no credentials on the host",
                vec![
                    ("Method", "kcore or lime", "^(kcore|lime)$", true),
                    ("ToolUrl", "Presigned URL of the streamer binary", url, true),
                    ("ToolSha256", "SHA-256 of the streamer binary", sha, true),
                    ("PlanUrl", "Presigned URL of the upload plan", url, true),
                    (
                        "ModuleUrl",
                        "Presigned URL of the LiME module (lime only)",
                        optional_url,
                        false,
                    ),
                    (
                        "ModuleSha256",
                        "SHA-256 of the LiME module (lime only)",
                        "^([0-9a-f]{64})?$",
                        false,
                    ),
                ],
                blueprints::MEMORY_CAPTURE
                    .render(&CaptureContext {
                        tool_name: STREAMER_NAME,
                        lime_port: LIME_PORT,
                    })
                    .expect("renders"),
                43_200,
            ),
            update_method: Some("NewVersion".to_owned()),
        },
    );

    t.output(
        "TagHandlerFunctionArn",
        "Tag handler",
        Expr::arn("TagHandlerFunction"),
    );
    t.output(
        "NotificationTopicArn",
        "Incident narration topic",
        Expr::r#ref("NotificationTopic"),
    );
    t.output(
        "EbsSnapshotKeyArn",
        "alias/ir/ebs key",
        Expr::arn("EbsSnapshotKey"),
    );
    t
}
