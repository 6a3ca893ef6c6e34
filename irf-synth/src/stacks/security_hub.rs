//! Security account: the Security Hub custom action.
//!
//! A native `AWS::SecurityHub::ActionTarget`, a rule scoped to that action, and a function that
//! tags every EC2 instance of the selected findings `SecurityIncidentStatus=Analyze` through
//! `IRAutomation` in the instance's own account and region. The role has a contract name so
//! member `IRAutomation` roles trust it from their template: no manual trust edits.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use irf_core::cfn::resources::{events, securityhub};
use irf_core::cfn::{Expr, Parameter, Template};
use irf_core::contract;
use irf_core::env::SecurityHubActionEnv;
use irf_core::events::{CUSTOM_ACTION_DETAIL_TYPE, SECURITY_HUB_SOURCE};
use irf_core::handler::Handler;
use irf_core::iam::{PolicyDocument, Statement};
use irf_core::model::Framework;

use super::common::{
    Concurrency, FunctionSpec, Invocation, Network, OperationsKeyRef, add_function,
    add_invoke_permission, add_operations_key, dead_letter_queue_id, dead_letter_statements,
    lambda_role, logging_statements,
};
use super::{Binding, StackKind, outputs};

const ORG_ID: &str = "OrgId";

pub(super) fn bindings(fw: &Framework) -> BTreeMap<String, Binding> {
    BTreeMap::from([(ORG_ID.to_owned(), Binding::value(fw.org.id.as_str()))])
}

pub(super) fn template(fw: &Framework) -> Template {
    let names = &fw.names;
    let mut t = Template::new(
        "IRF security account: Security Hub custom action that starts incident response on the \
         EC2 instances of selected findings.",
    );
    let org = t.parameter(
        ORG_ID,
        Parameter::string("AWS Organizations id.")
            .pattern("^o-[a-z0-9]{10,32}$", "an organization id"),
    );
    super::common::asset_parameters(&mut t);
    t.add(
        "AnalyzeActionTarget",
        securityhub::ActionTarget {
            name: "IRF: analyze instance".to_owned(),
            description:
                "Acquires memory and disks of the finding's EC2 instances, then contains them"
                    .to_owned(),
            id: contract::SECURITY_HUB_ACTION_ID.to_owned(),
        },
    );
    let function_name = names.resource("securityhub-action");
    let mut statements = vec![
        Statement::allow(&["sts:AssumeRole"])
            .sid("AssumeIRAutomationInOrgAccounts")
            .on([Expr::sub(format!(
                "arn:${{AWS::Partition}}:iam::*:role/{}",
                contract::IR_AUTOMATION_ROLE
            ))])
            .when("StringEquals", "aws:ResourceOrgID", org),
        // The function updates findings through the hub of its own account and region.
        Statement::allow(&["securityhub:BatchUpdateFindings"])
            .sid("RecordTheResponseOnFindings")
            .on([Expr::sub(
                "arn:${AWS::Partition}:securityhub:${AWS::Region}:${AWS::AccountId}:hub/default",
            )]),
    ];
    statements.extend(logging_statements(std::slice::from_ref(&function_name)));
    statements.extend(dead_letter_statements(
        vec![Expr::arn(dead_letter_queue_id("ActionFunction"))],
        OperationsKeyRef::InThisTemplate,
    ));
    t.add(
        "ActionRole",
        lambda_role(
            Some(contract::SECURITY_HUB_ACTION_ROLE),
            "IRF Security Hub custom action: tags finding instances for analysis",
        )
        .inline("TagFindingInstances", PolicyDocument::new(statements)),
    );
    let env = SecurityHubActionEnv {
        prefix: Some(Expr::s(names.prefix())),
    }
    .variables();
    add_function(
        &mut t,
        fw,
        FunctionSpec {
            id: "ActionFunction",
            name: "securityhub-action",
            description: "Tags each EC2 instance of the selected findings SecurityIncidentStatus=Analyze",
            handler: Handler::SecurityHubAction,
            role: Expr::arn("ActionRole"),
            env,
            timeout: 120,
            memory: 256,
            network: Network::Managed {
                calls: "STS (IRAutomation in member accounts) and Security Hub",
            },
            invocation: Invocation::Asynchronous,
            concurrency: Concurrency::Shared(
                "runs when an analyst picks the custom action, one batch of findings per click; nothing can flood it, and the member functions it triggers have their own reservation",
            ),
        },
    );
    add_operations_key(&mut t, fw, StackKind::SecurityHub);
    let mut pattern = IndexMap::new();
    pattern.insert("source".to_owned(), Expr::strs([SECURITY_HUB_SOURCE]));
    pattern.insert(
        "detail-type".to_owned(),
        Expr::strs([CUSTOM_ACTION_DETAIL_TYPE]),
    );
    pattern.insert(
        "resources".to_owned(),
        Expr::List(vec![Expr::r#ref("AnalyzeActionTarget")]),
    );
    t.add(
        "AnalyzeActionRule",
        events::Rule {
            name: Some(Expr::s(names.resource("securityhub-analyze"))),
            description: "The IRF custom action in Security Hub".to_owned(),
            event_bus_name: None,
            event_pattern: Some(Expr::Map(pattern)),
            schedule_expression: None,
            state: "ENABLED".to_owned(),
            targets: vec![events::Target {
                arn: Expr::arn("ActionFunction"),
                id: "AnalyzeAction".to_owned(),
                role_arn: None,
                retry_policy: None,
            }],
        },
    );
    add_invoke_permission(
        &mut t,
        "AnalyzeActionPermission",
        "ActionFunction",
        "events.amazonaws.com",
        Expr::arn("AnalyzeActionRule"),
    );
    t.output(
        outputs::SECURITY_HUB_ROLE_ARN,
        "Custom action role",
        Expr::arn("ActionRole"),
    );
    t.output(
        "ActionTargetArn",
        "Custom action",
        Expr::r#ref("AnalyzeActionTarget"),
    );
    t
}
