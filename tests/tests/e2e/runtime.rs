//! The runtime handlers against the local emulator, on a deployed example organization, through
//! the real SDK: containment (two interfaces, prior-state record, idempotence, release),
//! analysis preparation before the acquisition request, the trigger's refusal of forged
//! requests and its once-only case start, throttling and partial failures, and Slack delivery.
//!
//! Run through the emulator: `scripts/emulator run -- cargo test -p irf-e2e --test runtime`.
//!
//! Where the emulator falls short, the test says so at the spot:
//! - `RunInstances` with an instance profile records no profile association in the emulator
//!   (AWS does), so the suspect's profile is associated with `AssociateIamInstanceProfile`, the
//!   call that yields the same state on AWS;
//! - after `ReplaceIamInstanceProfileAssociation` the emulator's `DescribeInstances` still shows
//!   the old profile: the engine and the tests read `DescribeIamInstanceProfileAssociations`,
//!   the authoritative API on AWS too;
//! - state machines created through CloudFormation cannot be executed by the emulator, so the
//!   trigger test creates its case workflow through the Step Functions API;
//! - the emulator adds an instance's launch-time security groups to every attached interface,
//!   whatever the interface is set to later; the suspects are launched with their groups on the
//!   interface specification instead, so each interface shows its own groups, as on AWS;
//! - `PutEvents` to a bus ARN in another account looks the bus up in the caller's account in the
//!   emulator (AWS delivers to the account the ARN names): the analysis test answers that one
//!   call from a local proxy and checks the request the handler sent;
//! - the emulator has no Security Hub `BatchUpdateFindings`: the custom action test answers it
//!   from the proxy and checks the request (note, workflow status, findings);
//! - the emulator cannot throttle or fail on demand: the same proxy (`common/http.rs`) answers
//!   chosen operations with AWS error responses and forwards everything else to it.

use crate::common;

use aws_config::SdkConfig;
use common::http::{self, Fault, FaultProxy, Reply, Scripted};
use common::incident::{
    REGION, as_member, deployed_org, interfaces_of as interfaces, isolation_group_id,
    isolation_groups, member_config, profile_of, suspect, tag_event, termination_protected,
};
use irf_core::contract;
use irf_core::steps::CaseInput;
use irf_runtime::aws::Aws;
use irf_runtime::containment::{Containment, PriorState, Target};
use irf_runtime::error::ErrorKind;
use irf_runtime::handlers::member_tag;
use irf_runtime::handlers::trigger;
use irf_runtime::responder::{ContainOptions, Responder};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn contain_isolates_every_interface_once_and_release_restores_the_instance() {
    let Some(org) = deployed_org().await else {
        return;
    };
    let (endpoint, a) = (&org.endpoint, &org.acct);
    let conf = common::account(endpoint, &a.payments, REGION).await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let iam = aws_sdk_iam::Client::new(&conf);
    let ssm = aws_sdk_ssm::Client::new(&conf);
    let s = suspect(&conf, "contain").await;
    let cfg = member_config(endpoint, &a.payments, &a.prefix).await;
    let isolation_profile = cfg
        .settings
        .isolation_profile_arn
        .clone()
        .expect("isolation profile configured");
    let aws = as_member(endpoint, &a.payments).await;

    let out = member_tag::handle_with(
        &aws,
        &cfg,
        tag_event(&a.payments, &s.instance_id, "Contain"),
    )
    .await
    .expect("contains");
    assert_eq!(out["decision"]["decision"], "Contain", "{out}");
    let first_calls = aws.calls.calls();
    // Call budget (see `scripts/bench containment` for the figures): 13 for a one-interface
    // instance, 2 more per extra interface, 7 more to create the VPC's two groups, 1 narration.
    assert!(
        first_calls.len() <= 23,
        "{} calls: {first_calls:?}",
        first_calls.len()
    );
    assert_eq!(
        first_calls
            .iter()
            .filter(|c| c.ends_with("Publish"))
            .count(),
        1,
        "one narration: {first_calls:?}"
    );

    // Both interfaces carry only the isolation group, which has no rules at all.
    let now = interfaces(&ec2, &s.instance_id).await;
    let groups = isolation_groups(&ec2, &s.vpc_id).await;
    let isolate = groups
        .iter()
        .find(|g| g.group_name() == Some(contract::ISOLATION_SECURITY_GROUP))
        .expect("isolation group created");
    let isolate_id = isolate.group_id().unwrap().to_owned();
    assert!(
        isolate.ip_permissions().is_empty(),
        "no ingress: {:?}",
        isolate.ip_permissions()
    );
    assert!(
        isolate.ip_permissions_egress().is_empty(),
        "no egress: {:?}",
        isolate.ip_permissions_egress()
    );
    assert_eq!(now.len(), 2);
    for (eni, g) in &now {
        assert_eq!(
            g,
            &vec![isolate_id.clone()],
            "{eni} carries only the isolation group"
        );
    }
    assert_eq!(
        profile_of(&ec2, &s.instance_id).await,
        vec![isolation_profile.clone()]
    );
    assert!(termination_protected(&ec2, &s.instance_id).await);

    // The untrack swap came before the isolation swap, on each interface.
    let swaps: Vec<&String> = first_calls
        .iter()
        .filter(|c| c.ends_with("ModifyNetworkInterfaceAttribute"))
        .collect();
    assert_eq!(swaps.len(), 4, "two swaps per interface: {first_calls:?}");

    // The prior state is recorded.
    let name = format!(
        "/{}/{}/{}",
        a.prefix,
        contract::PRIOR_STATE_PARAMETER_PREFIX,
        s.instance_id
    );
    let record: PriorState = serde_json::from_str(
        ssm.get_parameter()
            .name(&name)
            .send()
            .await
            .expect("prior-state record")
            .parameter()
            .unwrap()
            .value()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        record.instance_profile_arn.as_deref(),
        Some(s.profile_arn.as_str())
    );
    let mut recorded = record.network_interfaces.clone();
    recorded.values_mut().for_each(|g| g.sort());
    assert_eq!(recorded, s.groups);
    assert!(!record.disable_api_termination);

    // Sessions the previous role issued to this instance are revoked, for this instance only.
    let policy = iam
        .get_role_policy()
        .role_name(&s.role_name)
        .policy_name(contract::revocation_policy_name(&s.instance_id))
        .send()
        .await
        .expect("revocation policy");
    let doc: Value = serde_json::from_str(&urlencoding_decode(policy.policy_document())).unwrap();
    let cond = &doc["Statement"][0]["Condition"];
    assert_eq!(doc["Statement"][0]["Effect"], "Deny");
    assert_eq!(
        cond["StringEquals"]["ec2:SourceInstanceARN"],
        format!(
            "arn:aws:ec2:{REGION}:{}:instance/{}",
            a.payments, s.instance_id
        )
    );
    assert!(cond["DateLessThan"]["aws:TokenIssueTime"].is_string());

    // The same event again (a Lambda retry): nothing changes, nothing is duplicated.
    let again = member_tag::handle_with(
        &aws,
        &cfg,
        tag_event(&a.payments, &s.instance_id, "Contain"),
    )
    .await
    .expect("contains again");
    assert_eq!(again["changes"], serde_json::json!([]), "{again}");
    let retry_calls = aws.calls.calls()[first_calls.len()..].to_vec();
    assert!(
        retry_calls.len() <= 9,
        "a retry only reads (and renews the revocation): {retry_calls:?}"
    );
    assert!(
        !retry_calls.iter().any(|c| c.ends_with("Publish")),
        "no duplicate notification: {retry_calls:?}"
    );
    assert_eq!(interfaces(&ec2, &s.instance_id).await, now);
    assert_eq!(
        isolation_groups(&ec2, &s.vpc_id).await.len(),
        2,
        "one isolation and one untrack group"
    );
    assert_eq!(
        profile_of(&ec2, &s.instance_id).await,
        vec![isolation_profile]
    );
    let policies = iam
        .list_role_policies()
        .role_name(&s.role_name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        policies.policy_names(),
        [contract::revocation_policy_name(&s.instance_id)]
    );

    // Release (the responder CLI's code) restores the recorded state and drops the record.
    let responder = Responder {
        aws: Aws::from_config(conf.clone(), Some(endpoint)),
        role_name: "OrganizationAccountAccessRole".into(),
        prefix: a.prefix.clone(),
        security: None,
        options: ContainOptions::default(),
    };
    let target = Target {
        account: a.payments.clone(),
        region: REGION.into(),
        instance_id: s.instance_id.clone(),
    };
    let released = responder.release(&target, false).await.expect("releases");
    assert!(!released.changes.is_empty());
    assert_eq!(interfaces(&ec2, &s.instance_id).await, s.groups);
    assert_eq!(
        profile_of(&ec2, &s.instance_id).await,
        vec![s.profile_arn.clone()]
    );
    assert!(!termination_protected(&ec2, &s.instance_id).await);
    let gone = ssm.get_parameter().name(&name).send().await.unwrap_err();
    assert_eq!(
        gone.as_service_error().map(|e| e.is_parameter_not_found()),
        Some(true)
    );
    // Revocations stay unless lifted: they only deny credentials issued before containment.
    assert_eq!(
        iam.list_role_policies()
            .role_name(&s.role_name)
            .send()
            .await
            .unwrap()
            .policy_names()
            .len(),
        1
    );
    // Releasing again finds no record and changes nothing.
    assert!(
        responder
            .release(&target, true)
            .await
            .unwrap()
            .changes
            .is_empty()
    );
}

/// IAM returns policy documents URL-encoded (RFC 3986 percent-encoding).
fn urlencoding_decode(s: &str) -> String {
    if s.starts_with('{') {
        return s.to_owned();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (
            b[i],
            s.get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok()),
        ) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).expect("UTF-8 policy")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn analyze_swaps_the_profile_before_it_requests_acquisition() {
    let Some(org) = deployed_org().await else {
        return;
    };
    let (endpoint, a) = (&org.endpoint, &org.acct);
    let conf = common::account(endpoint, &a.payments, REGION).await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let s = suspect(&conf, "analyze").await;
    let cfg = member_config(endpoint, &a.payments, &a.prefix).await;
    let bus = cfg.bus_arn.clone().expect("bus configured");
    assert!(
        bus.contains(&a.security),
        "requests go to the security account's bus: {bus}"
    );
    // Cross-account PutEvents: answered by the proxy (emulator gap, see the top of the file).
    let proxy = FaultProxy::start(
        endpoint,
        vec![Fault {
            operation: "PutEvents".into(),
            nth: 1,
            reply: Reply::new(200, r#"{"FailedEntryCount":0,"Entries":[{"EventId":"11710aed-b79e-4468-a20b-bb3c0c3b4860"}]}"#)
                .header("content-type", "application/x-amz-json-1.1"),
        }],
    )
    .await;
    let member = common::account(endpoint, &a.payments, REGION).await;
    let aws = Aws::from_config(
        member.to_builder().endpoint_url(&proxy.url).build(),
        Some(&proxy.url),
    );

    let out = member_tag::handle_with(
        &aws,
        &cfg,
        tag_event(&a.payments, &s.instance_id, "Analyze"),
    )
    .await
    .expect("prepares");
    assert_eq!(out["decision"]["decision"], "Analyze");
    let calls = aws.calls.calls();
    let at = |op: &str| {
        calls
            .iter()
            .position(|c| c.ends_with(op))
            .unwrap_or_else(|| panic!("{op} not called: {calls:?}"))
    };
    assert!(
        at("ReplaceIamInstanceProfileAssociation") < at("PutEvents"),
        "the profile is swapped before the security account is asked: {calls:?}"
    );
    assert!(
        at("PutParameter") < at("ReplaceIamInstanceProfileAssociation"),
        "recorded first: {calls:?}"
    );
    let sent = proxy
        .seen
        .lock()
        .unwrap()
        .iter()
        .find(|r| r.operation().as_deref() == Some("PutEvents"))
        .cloned()
        .expect("the acquisition request was sent");
    let body: Value = serde_json::from_slice(&sent.body).unwrap();
    let entry = &body["Entries"][0];
    assert_eq!(entry["EventBusName"], bus.as_str());
    assert_eq!(entry["Source"], contract::INCIDENT_EVENT_SOURCE);
    assert_eq!(entry["DetailType"], contract::INCIDENT_EVENT_DETAIL_TYPE);
    let detail: Value = serde_json::from_str(entry["Detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["instance_id"], s.instance_id.as_str());
    assert_eq!(detail["account"], a.payments.as_str());
    assert_eq!(
        detail["requested_at"], 1_795_946_400u64,
        "the tag event's time, so retries map to one case"
    );
    assert_eq!(
        profile_of(&ec2, &s.instance_id).await,
        vec![cfg.settings.ir_profile_arn.clone().unwrap()]
    );
    assert!(termination_protected(&ec2, &s.instance_id).await);
    // The interfaces are untouched: analysis does not isolate.
    assert_eq!(interfaces(&ec2, &s.instance_id).await, s.groups);

    // A value other than Analyze/Contain (case-sensitive) triggers nothing.
    let before = aws.calls.get();
    let out = member_tag::handle_with(
        &aws,
        &cfg,
        tag_event(&a.payments, &s.instance_id, "contain"),
    )
    .await
    .unwrap();
    assert_eq!(out["decision"]["decision"], "NotTriggered");
    let after: Vec<String> = aws.calls.calls()[before..].to_vec();
    assert_eq!(after.len(), 1, "only the 'not triggered' notice: {after:?}");
    assert!(after[0].ends_with("Publish"), "{after:?}");
}

/// A case workflow that stays running for a while (created through the API: the emulator
/// cannot execute state machines created through CloudFormation).
async fn waiting_workflow(conf: &SdkConfig, prefix: &str) -> String {
    aws_sdk_sfn::Client::new(conf)
        .create_state_machine()
        .name(format!("{prefix}-{}-api", contract::CASE_STATE_MACHINE))
        .role_arn(format!("arn:aws:iam::{}:role/any", "000000000000"))
        .definition(
            r#"{"StartAt":"Hold","States":{"Hold":{"Type":"Wait","Seconds":120,"End":true}}}"#,
        )
        .send()
        .await
        .expect("state machine")
        .state_machine_arn()
        .to_owned()
}

fn request(sender: &str, owner: &str, instance: &str, at: u64) -> Value {
    serde_json::json!({
        "version": "0", "id": "r1", "detail-type": contract::INCIDENT_EVENT_DETAIL_TYPE, "source": contract::INCIDENT_EVENT_SOURCE,
        "account": sender, "time": "2026-11-29T10:00:00Z", "region": REGION, "resources": [],
        "detail": { "account": owner, "region": REGION, "instance_id": instance, "requested_at": at }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_trigger_refuses_forged_requests_and_starts_a_case_once() {
    let Some(org) = deployed_org().await else {
        return;
    };
    let (endpoint, a) = (&org.endpoint, &org.acct);
    let web = suspect(&common::account(endpoint, &a.web, REGION).await, "victim").await;
    let payments = suspect(&common::account(endpoint, &a.payments, REGION).await, "own").await;
    let security = common::account(endpoint, &a.security, REGION).await;
    let aws = Aws::from_config(security.clone(), Some(endpoint));

    // The sender claims another account's instance: refused before any AWS call.
    let err = trigger::validate(&request(&a.payments, &a.web, &web.instance_id, 1)).unwrap_err();
    assert!(
        err.to_string()
            .contains("may only start cases on its own instances"),
        "{err}"
    );
    // The sender names the instance of another account as its own: the instance is not in the
    // sender's account, so it is refused too.
    let forged =
        trigger::validate(&request(&a.payments, &a.payments, &web.instance_id, 1)).unwrap();
    let err = trigger::verify_instance(&aws, &forged).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Fatal, "{err}");
    assert!(err.to_string().contains("does not exist"), "{err}");
    // The real owner's request passes.
    let own = trigger::validate(&request(
        &a.payments,
        &a.payments,
        &payments.instance_id,
        1_795_000_000,
    ))
    .unwrap();
    trigger::verify_instance(&aws, &own)
        .await
        .expect("own instance verified");

    // Starting the case: the execution name is the idempotency key, and a case running for
    // the instance is not started twice (a later request for the same instance included).
    let machine = waiting_workflow(&security, &a.prefix).await;
    let input = CaseInput {
        case_id: trigger::case_id(&own),
        instance_id: own.instance_id.clone(),
        account: own.account.clone(),
        region: own.region.clone(),
        retain_artefacts: "true".into(),
    };
    let first = trigger::start_case(&aws, &machine, &input)
        .await
        .expect("starts");
    assert!(first.started);
    assert_eq!(
        first.case_id,
        format!(
            "{}-{}-{REGION}-1795000000",
            a.payments, payments.instance_id
        )
    );
    let retry = trigger::start_case(&aws, &machine, &input)
        .await
        .expect("retry");
    assert!(!retry.started);
    assert_eq!(retry.execution_arn, first.execution_arn);
    let later = CaseInput {
        case_id: format!(
            "{}-{}-{REGION}-1795000999",
            a.payments, payments.instance_id
        ),
        ..input.clone()
    };
    let second = trigger::start_case(&aws, &machine, &later)
        .await
        .expect("second request");
    assert!(
        !second.started,
        "a case is already running for the instance"
    );
    assert_eq!(second.case_id, first.case_id);
    let executions = aws_sdk_sfn::Client::new(&security)
        .list_executions()
        .state_machine_arn(&machine)
        .send()
        .await
        .unwrap();
    assert_eq!(executions.executions().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn throttling_is_retryable_and_a_partial_containment_completes_on_retry() {
    let Some(org) = deployed_org().await else {
        return;
    };
    let (endpoint, a) = (&org.endpoint, &org.acct);
    let conf = common::account(endpoint, &a.payments, REGION).await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let s = suspect(&conf, "faults").await;
    let cfg = member_config(endpoint, &a.payments, &a.prefix).await;
    let target = Target {
        account: a.payments.clone(),
        region: REGION.into(),
        instance_id: s.instance_id.clone(),
    };
    let proxy = FaultProxy::start(
        endpoint,
        vec![
            // Throttled on the first look at the instance.
            Fault {
                operation: "DescribeInstances".into(),
                nth: 1,
                reply: http::ec2_error(503, "RequestLimitExceeded", "Request limit exceeded."),
            },
            // The second interface's first swap fails with a server error.
            Fault {
                operation: "ModifyNetworkInterfaceAttribute".into(),
                nth: 3,
                reply: http::ec2_error(500, "InternalError", "An internal error has occurred"),
            },
        ],
    )
    .await;
    let via_proxy = conf.to_builder().endpoint_url(&proxy.url).build();
    let aws = Aws::from_config(via_proxy.clone(), Some(&proxy.url));
    let engine = || {
        Containment::new(
            aws.ec2(&via_proxy),
            aws.iam(&via_proxy),
            aws.ssm(&via_proxy),
            cfg.settings.clone(),
            target.clone(),
            "aws",
        )
    };

    // Throttled: a retryable failure naming the call, and nothing changed.
    let err = engine().contain().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Retryable, "{err:?}");
    assert!(err.is_aws_code("RequestLimitExceeded"), "{err:?}");
    assert_eq!(
        err.operation(),
        format!("ec2:DescribeInstances {}", s.instance_id)
    );
    let m = err.to_string();
    assert!(
        m.contains("ec2:DescribeInstances") && m.contains("RequestLimitExceeded"),
        "{m}"
    );
    assert_eq!(err.error_name(), "Irf.Retryable");
    assert!(
        engine().prior_state().await.unwrap().is_none(),
        "nothing recorded"
    );
    assert_eq!(interfaces(&ec2, &s.instance_id).await, s.groups);

    // Fails half-way: the first interface is isolated, the second still has its group.
    let err = engine().contain().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Retryable, "{err:?}");
    assert!(err.is_aws_code("InternalError"), "{err:?}");
    assert!(
        err.operation()
            .starts_with("ec2:ModifyNetworkInterfaceAttribute "),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("ModifyNetworkInterfaceAttribute"),
        "{err}"
    );
    let half = interfaces(&ec2, &s.instance_id).await;
    let isolate = isolation_group_id(&ec2, &s.vpc_id).await;
    let (first, second) = (
        s.groups.keys().next().unwrap(),
        s.groups.keys().nth(1).unwrap(),
    );
    assert_eq!(
        half[first],
        vec![isolate.clone()],
        "interfaces are isolated in order: {half:?}"
    );
    assert_eq!(half[second], s.groups[second], "{half:?}");

    // The retry (as Lambda or Step Functions would) completes without duplicating anything.
    engine().contain().await.expect("the retry completes");
    let done = interfaces(&ec2, &s.instance_id).await;
    assert_eq!(
        isolation_groups(&ec2, &s.vpc_id).await.len(),
        2,
        "no duplicate groups"
    );
    assert!(
        done.values().all(|g| *g == vec![isolate.clone()]),
        "{done:?}"
    );
    // The record is the state before the first attempt, not the half-contained one.
    let mut recorded = engine()
        .prior_state()
        .await
        .unwrap()
        .expect("record")
        .network_interfaces;
    recorded.values_mut().for_each(|g| g.sort());
    assert_eq!(recorded, s.groups);

    // Someone opens the isolation group: the next containment closes it again.
    ec2.authorize_security_group_ingress()
        .group_id(&isolate)
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(22)
                .to_port(22)
                .ip_ranges(
                    aws_sdk_ec2::types::IpRange::builder()
                        .cidr_ip("0.0.0.0/0")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    engine().contain().await.expect("contains again");
    let g = isolation_groups(&ec2, &s.vpc_id).await;
    let g = g
        .iter()
        .find(|g| g.group_id() == Some(isolate.as_str()))
        .unwrap();
    assert!(
        g.ip_permissions().is_empty() && g.ip_permissions_egress().is_empty(),
        "{g:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_delivery_checks_the_status_retries_and_reads_the_secret_once() {
    let Some(endpoint) = common::emulator() else {
        return;
    };
    let (_, a) = common::fresh_org();
    let conf = common::account(&endpoint, &a.security, REGION).await;
    let secrets = aws_sdk_secretsmanager::Client::new(&conf);
    let aws = Aws::from_config(conf.clone(), Some(&endpoint));
    let slack_with = |url: String| {
        let secrets = secrets.clone();
        let aws = aws.clone();
        let conf = conf.clone();
        async move {
            let arn = secrets
                .create_secret()
                .name(format!(
                    "slack-{}",
                    url.rsplit(':').next().unwrap().replace('/', "-")
                ))
                .secret_string(serde_json::json!({ "url": url }).to_string())
                .send()
                .await
                .unwrap()
                .arn()
                .unwrap()
                .to_owned();
            let mut s = irf_runtime::slack::Slack::new(aws.secrets(&conf), &arn, "#ir").unwrap();
            s.backoff = std::time::Duration::from_millis(10);
            s
        }
    };

    // Rate-limited, then a server error, then accepted: delivered on the third attempt.
    let server = Scripted::start(vec![
        Reply::new(429, "rate_limited").header("retry-after", "0"),
        Reply::new(503, "unavailable"),
        Reply::new(200, "ok"),
    ])
    .await;
    let slack = slack_with(server.url.clone()).await;
    let before = aws.calls.get();
    slack
        .post("[irf][333333333333] case C1 started for i-0abc")
        .await
        .expect("delivered");
    slack.post("second message").await.expect("delivered");
    let seen = server.requests();
    assert_eq!(seen.len(), 4, "three attempts, then one");
    let body: Value = serde_json::from_slice(&seen[2].body).unwrap();
    assert_eq!(body["channel"], "#ir");
    assert_eq!(
        body["text"],
        "[irf][333333333333] case C1 started for i-0abc"
    );
    assert_eq!(seen[2].header("content-type"), Some("application/json"));
    assert_eq!(
        aws.calls.calls()[before..],
        ["Secrets Manager.GetSecretValue".to_owned()],
        "the webhook is read once"
    );

    // Rejected (bad payload): fails at once, fatal, with Slack's answer.
    let rejecting = Scripted::start(vec![Reply::new(400, "invalid_payload")]).await;
    let err = slack_with(rejecting.url.clone())
        .await
        .post("x")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Fatal, "{err:?}");
    let m = err.to_string();
    assert!(m.contains("400") && m.contains("invalid_payload"), "{m}");
    assert_eq!(rejecting.requests().len(), 1);

    // Down for good: retryable after every attempt.
    let down = Scripted::start(vec![Reply::new(503, "down")]).await;
    let err = slack_with(down.url.clone())
        .await
        .post("x")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Retryable, "{err:?}");
    let m = err.to_string();
    assert!(m.contains("503") && m.contains("after 4 attempts"), "{m}");
    assert_eq!(down.requests().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_security_hub_action_tags_instances_in_their_accounts_and_skips_other_resources() {
    let Some(org) = deployed_org().await else {
        return;
    };
    let (endpoint, a) = (&org.endpoint, &org.acct);
    let member = common::account(endpoint, &a.payments, REGION).await;
    let s = suspect(&member, "finding").await;
    // BatchUpdateFindings: answered by the proxy (emulator gap, see the top of the file).
    let proxy = FaultProxy::start(
        endpoint,
        vec![Fault {
            operation: "/findings/batchupdate".into(),
            nth: 1,
            reply: Reply::new(200, r#"{"ProcessedFindings":[],"UnprocessedFindings":[]}"#)
                .header("content-type", "application/json"),
        }],
    )
    .await;
    let security = common::account(endpoint, &a.security, REGION).await;
    let aws = Aws::from_config(
        security.to_builder().endpoint_url(&proxy.url).build(),
        Some(&proxy.url),
    );
    let product = format!("arn:aws:securityhub:{REGION}::product/aws/guardduty");
    let event = serde_json::json!({
        "version": "0", "id": "sh1", "detail-type": "Security Hub Findings - Custom Action", "source": "aws.securityhub",
        "account": a.security, "time": "2026-11-29T10:00:00Z", "region": REGION,
        "resources": [format!("arn:aws:securityhub:{REGION}:{}:action/custom/{}", a.security, contract::SECURITY_HUB_ACTION_ID)],
        "detail": { "actionName": "Isolate", "findings": [{
            "Id": "finding-1", "ProductArn": product, "AwsAccountId": a.payments,
            "Resources": [
                { "Type": "AwsEc2Instance", "Id": format!("arn:aws:ec2:{REGION}:{}:instance/{}", a.payments, s.instance_id) },
                { "Type": "AwsS3Bucket", "Id": "arn:aws:s3:::exfil-bucket" }
            ]
        }]}
    });
    let out = irf_runtime::dispatch(&aws, irf_core::handler::Handler::SecurityHubAction, event)
        .await
        .expect("handled");
    assert_eq!(out["tagged"], serde_json::json!([s.instance_id]));
    assert_eq!(
        out["skipped"],
        serde_json::json!(["AwsS3Bucket arn:aws:s3:::exfil-bucket"])
    );

    // The instance is tagged in its own account, which starts the member's handler.
    let tags = aws_sdk_ec2::Client::new(&member)
        .describe_tags()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("resource-id")
                .values(&s.instance_id)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let status: Vec<(&str, &str)> = tags
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?, t.value()?)))
        .filter(|(k, _)| *k == contract::INCIDENT_STATUS_TAG)
        .collect();
    assert_eq!(
        status,
        [(contract::INCIDENT_STATUS_TAG, contract::STATUS_ANALYZE)]
    );

    // The finding gets a note naming the instance and the NOTIFIED workflow status.
    let update = proxy
        .seen
        .lock()
        .unwrap()
        .iter()
        .find(|r| r.path.starts_with("/findings/batchupdate"))
        .cloned()
        .expect("findings updated");
    let body: Value = serde_json::from_slice(&update.body).unwrap();
    assert_eq!(
        body["FindingIdentifiers"],
        serde_json::json!([{ "Id": "finding-1", "ProductArn": product }])
    );
    assert_eq!(body["Workflow"]["Status"], "NOTIFIED");
    assert!(
        body["Note"]["Text"]
            .as_str()
            .unwrap()
            .contains(&s.instance_id),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn case_outcomes_reach_the_outcome_topic_and_slack_with_the_failed_step() {
    let Some(org) = deployed_org().await else {
        return;
    };
    let (endpoint, a) = (&org.endpoint, &org.acct);
    let security = common::account(endpoint, &a.security, REGION).await;
    let f = aws_sdk_lambda::Client::new(&security)
        .get_function_configuration()
        .function_name(format!("{}-notify", a.prefix))
        .send()
        .await
        .expect("notify function deployed");
    let env = f
        .environment()
        .and_then(|e| e.variables())
        .cloned()
        .unwrap_or_default();
    let topic = env
        .get(irf_core::env::keys::OUTCOME_TOPIC_ARN)
        .cloned()
        .expect("outcome topic configured");
    let webhook = Scripted::start(vec![Reply::new(200, "ok")]).await;
    let secret = aws_sdk_secretsmanager::Client::new(&security)
        .create_secret()
        .name(format!("{}-slack-test", a.prefix))
        .secret_string(&webhook.url)
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    let cfg = irf_runtime::handlers::notify::NotifyConfig {
        outcome_topic_arn: Some(topic.clone()),
        slack: Some((secret, "#ir-cases".into())),
    };
    let aws = Aws::from_config(security.clone(), Some(endpoint));
    let failed = serde_json::json!({"Action": "Notify", "Event": "CaseFailed", "Detail": {
        "Case": {"case_id": "C9", "account": a.payments, "instance_id": "i-0123456789abcdef0", "region": REGION},
        "Results": [{"Kind": "disk", "Status": "SUCCEEDED"},
                    {"Kind": "memory", "Status": "FAILED", "Error": {"Error": "Irf.Fatal", "Cause": "preflight: kernel lockdown"}}]
    }});
    let out = irf_runtime::handlers::notify::handle_with(&aws, &cfg, failed)
        .await
        .expect("sent");
    assert_eq!(out["sent"], 1);
    let calls = aws.calls.calls();
    assert_eq!(
        calls.iter().filter(|c| c.ends_with("Publish")).count(),
        1,
        "{calls:?}"
    );
    let posted = webhook.requests();
    assert_eq!(posted.len(), 1);
    let body: Value = serde_json::from_slice(&posted[0].body).unwrap();
    assert_eq!(body["channel"], "#ir-cases");
    let text = body["text"].as_str().unwrap();
    for part in [
        "C9",
        a.payments.as_str(),
        "i-0123456789abcdef0",
        "FAILED at memory: preflight: kernel lockdown",
    ] {
        assert!(text.contains(part), "{part} missing from {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_containments_in_a_fresh_vpc_share_one_pair_of_groups() {
    let Some(org) = deployed_org().await else {
        return;
    };
    let (endpoint, a) = (&org.endpoint, &org.acct);
    let conf = common::account(endpoint, &a.payments, REGION).await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let cfg = member_config(endpoint, &a.payments, &a.prefix).await;
    let estate = common::incident::Estate::create(&conf, "crowd").await;
    let mut suspects = Vec::new();
    for _ in 0..8 {
        suspects.push(estate.launch(2).await);
    }
    // All at once: the groups do not exist yet, so several runs race to create and shape them.
    let mut set = tokio::task::JoinSet::new();
    for s in &suspects {
        let (endpoint, account, cfg, id) = (
            endpoint.clone(),
            a.payments.clone(),
            cfg.clone(),
            s.instance_id.clone(),
        );
        set.spawn(async move {
            let aws = as_member(&endpoint, &account).await;
            member_tag::handle_with(&aws, &cfg, tag_event(&account, &id, "Contain")).await
        });
    }
    while let Some(r) = set.join_next().await {
        r.expect("task").expect("contained");
    }
    let groups = isolation_groups(&ec2, &estate.vpc_id).await;
    assert_eq!(
        groups.len(),
        2,
        "one isolation and one untrack group: {groups:?}"
    );
    let isolate = isolation_group_id(&ec2, &estate.vpc_id).await;
    let g = groups
        .iter()
        .find(|g| g.group_id() == Some(isolate.as_str()))
        .unwrap();
    assert!(
        g.ip_permissions().is_empty() && g.ip_permissions_egress().is_empty(),
        "{g:?}"
    );
    for s in &suspects {
        let now = interfaces(&ec2, &s.instance_id).await;
        assert!(
            now.values().all(|g| *g == [isolate.clone()]),
            "{}: {now:?}",
            s.instance_id
        );
    }
}
