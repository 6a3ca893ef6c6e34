//! The example organization deployed to the local emulator through the real SDK, in fresh
//! accounts: five emulated accounts (security, forensics, three members) and two regions.
//!
//! Run through the emulator: `scripts/emulator run -- cargo test -p irf-e2e --test deploy`.

use crate::common;

use std::collections::BTreeMap;

use irf_synth::deploy::diff::{Action, StackDiff, plan_diff};
use irf_synth::deploy::stack::Outcome;
use irf_synth::deploy::{StackResult, SynthDir};

fn outcomes(report: &irf_synth::deploy::DeployReport) -> BTreeMap<String, String> {
    report
        .stacks
        .iter()
        .map(|(n, r)| {
            let o = match r {
                StackResult::Done(Outcome::Created) => "created",
                StackResult::Done(Outcome::Updated) => "updated",
                StackResult::Done(Outcome::Unchanged) => "unchanged",
                StackResult::Done(Outcome::Deleted) => "deleted",
                StackResult::Done(Outcome::Absent) => "absent",
                StackResult::Failed(_) => "failed",
                StackResult::Skipped { .. } => "skipped",
            };
            (n.clone(), o.to_owned())
        })
        .collect()
}

async fn stack_status(endpoint: &str, synth: &SynthDir, name: &str) -> Option<String> {
    let s = synth.plan.stack(name).expect("planned");
    let conf = common::account(endpoint, &s.account_id, &s.region).await;
    let out = aws_sdk_cloudformation::Client::new(&conf)
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
        .ok()?;
    out.stacks()
        .first()
        .and_then(|s| s.stack_status())
        .map(|s| s.as_str().to_owned())
        .filter(|s| s != "DELETE_COMPLETE")
}

async fn outputs(endpoint: &str, synth: &SynthDir, name: &str) -> BTreeMap<String, String> {
    let s = synth.plan.stack(name).expect("planned");
    let conf = common::account(endpoint, &s.account_id, &s.region).await;
    let out = aws_sdk_cloudformation::Client::new(&conf)
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
        .expect("stack exists");
    out.stacks()[0]
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_example_org_deploys_wired_redeploys_as_a_no_op_updates_minimally_and_destroys() {
    let Some(endpoint) = common::emulator() else {
        return;
    };
    let (org, acct) = common::fresh_org();
    let p = &acct.prefix;
    let dir = tempfile::tempdir().unwrap();
    let synth = common::synth(&org, dir.path());
    let (deployer, reporter) = common::deployer(&endpoint, &synth).await;

    // Before anything exists, diff plans to create every stack.
    let diffs = plan_diff(deployer.context(), &synth, false).await.unwrap();
    assert!(
        diffs
            .iter()
            .all(|(_, d)| matches!(d, StackDiff::Create { resources } if *resources > 0))
    );

    // A full deploy.
    let report = deployer.deploy(&synth).await;
    assert!(report.ok(), "deploy failed:\n{report}");
    assert!(
        outcomes(&report).values().all(|o| o == "created"),
        "{report}"
    );
    assert_eq!(report.critical_path, 5);
    let lines = reporter.lines();
    assert!(lines.iter().any(|l| l.contains(&format!(
        "{p}-member-automation-payments-eu-west-1: created"
    ))));
    assert!(
        lines
            .iter()
            .all(|l| l.len() > 20 && l.as_bytes()[4] == b'-' && l.contains('T')),
        "plain output lines carry timestamps: {lines:?}"
    );

    // Every planned stack exists in its account and region, and nowhere else.
    for s in &synth.plan.stacks {
        assert_eq!(
            stack_status(&endpoint, &synth, &s.name).await.as_deref(),
            Some("CREATE_COMPLETE"),
            "{} in {}/{}",
            s.name,
            s.account_id,
            s.region
        );
    }
    let forensics_cfn = aws_sdk_cloudformation::Client::new(
        &common::account(&endpoint, &acct.forensics, "us-east-1").await,
    );
    let names: Vec<String> = forensics_cfn
        .describe_stacks()
        .send()
        .await
        .unwrap()
        .stacks()
        .iter()
        .filter_map(|s| s.stack_name().map(str::to_owned))
        .collect();
    assert_eq!(
        names.iter().filter(|n| n.starts_with(p.as_str())).count(),
        3,
        "the forensics account holds exactly its three stacks: {names:?}"
    );
    // And in the other member region, eu-west-1, its ingest stack: the bucket captures of
    // instances there land in, named as the memory function's IRF_INGEST_BUCKETS names it,
    // versioned and locked like the evidence bucket.
    let eu = common::account(&endpoint, &acct.forensics, "eu-west-1").await;
    let eu_stacks: Vec<String> = aws_sdk_cloudformation::Client::new(&eu)
        .describe_stacks()
        .send()
        .await
        .unwrap()
        .stacks()
        .iter()
        .filter_map(|s| s.stack_name().map(str::to_owned))
        .filter(|n| n.starts_with(p.as_str()))
        .collect();
    assert_eq!(eu_stacks, [format!("{p}-forensics-ingest-eu-west-1")]);
    let ingest = outputs(
        &endpoint,
        &synth,
        &format!("{p}-forensics-ingest-eu-west-1"),
    )
    .await;
    assert_eq!(
        ingest["IngestBucketName"],
        format!("{p}-{}-ingest-eu-west-1", acct.forensics)
    );
    // The emulator's CloudFormation creates the bucket but applies neither versioning nor
    // Object Lock (the evidence-bucket test below applies them by hand); the template's lock is
    // checked in its snapshot and by the security rules.
    let eu_s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&eu)
            .force_path_style(true)
            .build(),
    );
    eu_s3
        .head_bucket()
        .bucket(&ingest["IngestBucketName"])
        .send()
        .await
        .expect("the ingest bucket exists in eu-west-1");

    // The memory streamer of the packaged architecture is staged in the modules bucket with its
    // SHA-256, as the capture expects it (scripts/test packages the aarch64 and x86_64 ones).
    let security_home = common::account(&endpoint, &acct.security, "us-east-1").await;
    let automation = outputs(&endpoint, &synth, &format!("{p}-security-automation")).await;
    let modules = &automation["ModulesBucketName"];
    let key = irf_core::contract::module_keys::streamer("aarch64");
    let modules_s3 = common::s3(&security_home);
    let staged = common::object(&modules_s3, modules, &key).await;
    let sidecar = common::object(&modules_s3, modules, &format!("{key}.sha256")).await;
    assert_eq!(
        String::from_utf8_lossy(&sidecar),
        format!(
            "{}  irf-memdump-aarch64\n",
            hex::encode(irf_runtime::digests::sha256(&staged))
        )
    );
    assert_eq!(&staged[..4], b"\x7fELF", "a static Linux binary");
    // So is the module factory's ISF builder, which its builders fetch and check.
    let key = irf_core::contract::module_keys::isf_builder("aarch64");
    let staged = common::object(&modules_s3, modules, &key).await;
    let sidecar = common::object(&modules_s3, modules, &format!("{key}.sha256")).await;
    assert_eq!(
        String::from_utf8_lossy(&sidecar),
        format!(
            "{}  irf-isf-aarch64\n",
            hex::encode(irf_runtime::digests::sha256(&staged))
        )
    );
    assert_eq!(&staged[..4], b"\x7fELF", "a static Linux binary");
    if let irf_synth::deploy::assets::AssetSource::Dir(d) = common::asset_source() {
        if d.join("irf-memdump-x86_64").exists() {
            // scripts/test packages x86_64 instances' streamer too (the guests are x86_64).
            let key = irf_core::contract::module_keys::streamer("x86_64");
            let staged = common::object(&modules_s3, modules, &key).await;
            assert_eq!(
                staged,
                std::fs::read(d.join("irf-memdump-x86_64")).unwrap(),
                "the packaged x86_64 streamer is staged"
            );
        } else {
            assert!(
                lines
                    .iter()
                    .any(|l| l.contains("no x86_64 memory streamer in the asset directory")),
                "a missing architecture is reported: {lines:?}"
            );
        }
    }

    // The evidence bucket is encrypted with the forensics account's evidence key.
    let forensics = common::account(&endpoint, &acct.forensics, "us-east-1").await;
    let analysis = outputs(&endpoint, &synth, &format!("{p}-forensics-analysis")).await;
    let bucket = format!("{p}-{}-ir-artifacts", acct.forensics);
    assert_eq!(analysis["EvidenceBucketName"], bucket);
    let enc = common::s3(&forensics)
        .get_bucket_encryption()
        .bucket(&bucket)
        .send()
        .await
        .expect("evidence bucket encryption");
    let rule = &enc.server_side_encryption_configuration().unwrap().rules()[0];
    let default = rule.apply_server_side_encryption_by_default().unwrap();
    assert_eq!(default.sse_algorithm().as_str(), "aws:kms");
    assert_eq!(
        default.kms_master_key_id(),
        Some(analysis["EvidenceKeyArn"].as_str())
    );
    assert!(analysis["EvidenceKeyArn"].contains(&acct.forensics));

    // The workflows live in the security account. (CloudFormation-created state machines are
    // checked through the stack's resources: with real execution turned on, the emulator keeps
    // them apart from the ones ListStateMachines reports.)
    let security = common::account(&endpoint, &acct.security, "us-east-1").await;
    let resources = aws_sdk_cloudformation::Client::new(&security)
        .describe_stack_resources()
        .stack_name(format!("{p}-security-automation"))
        .send()
        .await
        .unwrap();
    let machines: Vec<String> = resources
        .stack_resources()
        .iter()
        .filter(|r| r.resource_type() == Some("AWS::StepFunctions::StateMachine"))
        .filter_map(|r| r.physical_resource_id().map(str::to_owned))
        .collect();
    for m in [
        "DiskAcquisition",
        "MemoryAcquisition",
        "DiskAndMemAcquisition",
    ] {
        let arn = format!(
            "arn:aws:states:us-east-1:{}:stateMachine:{p}-{m}",
            acct.security
        );
        assert!(machines.contains(&arn), "{arn} missing from {machines:?}");
    }
    for name in [
        format!("{p}-forensics-analysis"),
        format!("{p}-member-baseline-payments"),
    ] {
        let s = synth.plan.stack(&name).unwrap();
        let conf = common::account(&endpoint, &s.account_id, &s.region).await;
        let r = aws_sdk_cloudformation::Client::new(&conf)
            .describe_stack_resources()
            .stack_name(&name)
            .send()
            .await
            .unwrap();
        assert!(
            r.stack_resources()
                .iter()
                .all(|r| r.resource_type() != Some("AWS::StepFunctions::StateMachine")),
            "{name} has a state machine"
        );
    }

    // The tag rule and its handler in every member region.
    for (account, region) in [
        (&acct.payments, "us-east-1"),
        (&acct.payments, "eu-west-1"),
        (&acct.web, "us-east-1"),
        (&acct.data, "eu-west-1"),
    ] {
        let conf = common::account(&endpoint, account, region).await;
        let events = aws_sdk_eventbridge::Client::new(&conf);
        let rule = events
            .describe_rule()
            .name(format!("{p}-incident-tag"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("rule in {account}/{region}: {e:?}"));
        let pattern: serde_json::Value =
            serde_json::from_str(rule.event_pattern().unwrap()).unwrap();
        assert_eq!(
            pattern["detail"]["changed-tag-keys"][0],
            "SecurityIncidentStatus"
        );
        assert_eq!(pattern["source"][0], "aws.tag");
        let targets = events
            .list_targets_by_rule()
            .rule(format!("{p}-incident-tag"))
            .send()
            .await
            .unwrap();
        let function = aws_sdk_lambda::Client::new(&conf)
            .get_function()
            .function_name(format!("{p}-member-tag"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("handler in {account}/{region}: {e:?}"));
        let config = function.configuration().unwrap();
        assert_eq!(
            config.runtime().map(|r| r.as_str()),
            Some("provided.al2023")
        );
        assert_eq!(targets.targets()[0].arn(), config.function_arn().unwrap());
        assert!(
            config
                .role()
                .unwrap()
                .ends_with(&format!("role/{p}-MemberTagHandlerRole"))
        );
    }

    // IRAutomation trusts the security account's acquisition, case, trigger and Security Hub
    // roles (no manual trust edits).
    let member = common::account(&endpoint, &acct.payments, "us-east-1").await;
    let role = aws_sdk_iam::Client::new(&member)
        .get_role()
        .role_name("IRAutomation")
        .send()
        .await
        .unwrap();
    let trust = role
        .role()
        .unwrap()
        .assume_role_policy_document()
        .unwrap()
        .to_owned();
    let trust = urlencoding_decode(&trust);
    for r in [
        "SnapshotAutomationLambdaRole",
        "MemoryAutomationLambdaRole",
        "IRCaseRecordRole",
        "SecurityHubCustomActionLambdaRole",
    ] {
        assert!(
            trust.contains(&format!("arn:aws:iam::{}:role/{r}", acct.security)),
            "IRAutomation does not trust {r}: {trust}"
        );
    }

    // A second run changes nothing.
    let again = deployer.deploy(&synth).await;
    assert!(again.ok(), "{again}");
    assert!(
        outcomes(&again).values().all(|o| o == "unchanged"),
        "{again}"
    );

    let diffs = plan_diff(deployer.context(), &synth, false).await.unwrap();
    assert!(
        diffs.iter().all(|(_, d)| *d == StackDiff::NoChanges),
        "{diffs:?}"
    );

    // A changed retention touches exactly the two locked buckets (the evidence bucket, and the
    // ingest bucket that has the same lock); diff says so first.
    let changed_org = org.replace("retention_days = 90", "retention_days = 120");
    let dir2 = tempfile::tempdir().unwrap();
    let changed = common::synth(&changed_org, dir2.path());
    let diffs = plan_diff(deployer.context(), &changed, false)
        .await
        .unwrap();
    let changing: Vec<(&str, &str)> = diffs
        .iter()
        .filter(|(_, d)| *d != StackDiff::NoChanges)
        .map(|(name, d)| {
            let StackDiff::Update {
                changes,
                parameters,
                ..
            } = d
            else {
                panic!("expected an update: {diffs:?}")
            };
            assert!(parameters.is_empty());
            assert_eq!(changes.len(), 1, "{changes:?}");
            assert_eq!(changes[0].action, Action::Modify);
            (name.as_str(), changes[0].logical_id.as_str())
        })
        .collect();
    let analysis = format!("{p}-forensics-analysis");
    let ingest_stack = format!("{p}-forensics-ingest-eu-west-1");
    assert_eq!(
        changing,
        [
            (analysis.as_str(), "EvidenceBucket"),
            (ingest_stack.as_str(), "IngestBucket")
        ],
        "{diffs:?}"
    );
    let report = deployer.deploy(&changed).await;
    assert!(report.ok(), "{report}");
    let o = outcomes(&report);
    assert_eq!(o[&analysis], "updated", "{report}");
    assert_eq!(o[&ingest_stack], "updated", "{report}");
    assert_eq!(
        o.values().filter(|v| *v == "unchanged").count(),
        changed.plan.stacks.len() - 2,
        "{report}"
    );

    // Destroy removes every stack and keeps the evidence.
    let destroyed = deployer.destroy(&changed, false).await;
    assert!(destroyed.ok(), "{destroyed}");
    for s in &changed.plan.stacks {
        assert_eq!(
            stack_status(&endpoint, &changed, &s.name).await,
            None,
            "{} survived destroy",
            s.name
        );
    }
    common::s3(&forensics)
        .head_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("the evidence bucket is retained");
    assert!(
        reporter
            .lines()
            .iter()
            .any(|l| l.contains("kept (DeletionPolicy Retain)") && l.contains("EvidenceBucket")),
        "destroy names what it keeps"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_injected_failure_is_reported_leaves_other_accounts_consistent_and_recovers() {
    let Some(endpoint) = common::emulator() else {
        return;
    };
    let (org, acct) = common::fresh_org();
    let p = &acct.prefix;
    let dir = tempfile::tempdir().unwrap();
    common::synth(&org, dir.path());
    // Break the member template: its handler names a role that does not exist, which the
    // emulator (like Lambda) rejects.
    let template = dir.path().join("templates/09-member-automation.yaml");
    let text = std::fs::read_to_string(&template).unwrap();
    let broken = text.replace(
        &format!("role/{p}-MemberTagHandlerRole"),
        &format!("role/{p}-NoSuchRole"),
    );
    assert_ne!(broken, text);
    std::fs::write(&template, &broken).unwrap();
    let plan_path = dir.path().join("plan.json");
    let plan = std::fs::read_to_string(&plan_path).unwrap();
    let old = sha256(&text);
    std::fs::write(&plan_path, plan.replace(&old, &sha256(&broken))).unwrap();
    let synth = SynthDir::load(dir.path()).expect("the edited directory is consistent");

    let (deployer, _) = common::deployer(&endpoint, &synth).await;
    let report = deployer.deploy(&synth).await;
    assert!(!report.ok());
    let o = outcomes(&report);
    let failed: Vec<&String> = o
        .iter()
        .filter(|(_, v)| *v == "failed")
        .map(|(k, _)| k)
        .collect();
    assert_eq!(failed.len(), 4, "every member region fails: {report}");
    let text = report.to_string();
    assert!(
        text.contains("The role defined for the function cannot be assumed by Lambda"),
        "the reason is reported:\n{text}"
    );
    assert!(text.contains(&format!("{p}-member-automation-web-us-east-1")));
    // The other stacks are complete; the failed ones left nothing behind.
    for s in &synth.plan.stacks {
        let status = stack_status(&endpoint, &synth, &s.name).await;
        if failed.contains(&&s.name) {
            assert_eq!(status, None, "{} left a stack behind", s.name);
        } else {
            assert_eq!(status.as_deref(), Some("CREATE_COMPLETE"), "{}", s.name);
        }
    }

    // The corrected run creates exactly the failed stacks.
    let dir2 = tempfile::tempdir().unwrap();
    let fixed = common::synth(&org, dir2.path());
    let report = deployer.deploy(&fixed).await;
    assert!(report.ok(), "{report}");
    let o = outcomes(&report);
    assert_eq!(
        o.values().filter(|v| *v == "created").count(),
        4,
        "{report}"
    );
    assert_eq!(
        o.values().filter(|v| *v == "unchanged").count(),
        11,
        "{report}"
    );
}

fn sha256(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// IAM returns policy documents URL-encoded.
fn urlencoding_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_ou_member_deploys_as_service_managed_stack_sets() {
    let Some(endpoint) = common::emulator() else {
        return;
    };
    let (org, acct) = common::fresh_org();
    let p = &acct.prefix;
    let org = org.replace(
        &format!("account_id = \"{}\"\nregions = [\"eu-west-1\"]", acct.data),
        "ou = \"ou-ab12-cd34ef56\"\nregions = [\"eu-west-1\", \"us-east-1\"]",
    );
    let dir = tempfile::tempdir().unwrap();
    let synth = common::synth(&org, dir.path());
    let baseline = synth
        .plan
        .stack(&format!("{p}-member-baseline-data"))
        .expect("planned");
    let set = baseline
        .stack_set
        .as_ref()
        .expect("an OU member is a StackSet");
    assert_eq!(
        baseline.account_id, acct.security,
        "administered from the security account"
    );
    assert_eq!(set.regions, ["eu-west-1"]);
    let automation = synth
        .plan
        .stack(&format!("{p}-member-automation-data"))
        .expect("planned");
    assert_eq!(
        automation.stack_set.as_ref().unwrap().regions,
        ["eu-west-1", "us-east-1"]
    );
    assert!(automation.depends_on.contains(&baseline.name));

    let (deployer, _) = common::deployer(&endpoint, &synth).await;
    let report = deployer.deploy(&synth).await;
    assert!(report.ok(), "{report}");
    assert_eq!(outcomes(&report)[&automation.name], "created");

    let security = common::account(&endpoint, &acct.security, "us-east-1").await;
    let cfn = aws_sdk_cloudformation::Client::new(&security);
    for name in [&baseline.name, &automation.name] {
        let s = cfn
            .describe_stack_set()
            .stack_set_name(name.as_str())
            .call_as(aws_sdk_cloudformation::types::CallAs::DelegatedAdmin)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let s = s.stack_set().unwrap();
        assert_eq!(
            s.permission_model().map(|m| m.as_str()),
            Some("SERVICE_MANAGED")
        );
        assert!(
            s.template_body()
                .unwrap()
                .contains("AWSTemplateFormatVersion")
        );
    }
    // The asset each region's instances fetch is in that region's administrator bucket.
    for region in ["eu-west-1", "us-east-1"] {
        let conf = common::account(&endpoint, &acct.security, region).await;
        let bucket = format!("{p}-assets-{}-{region}", acct.security);
        let listed = common::s3(&conf)
            .list_objects_v2()
            .bucket(&bucket)
            .prefix("assets/")
            .send()
            .await
            .unwrap_or_else(|e| panic!("{bucket}: {e:?}"));
        assert_eq!(listed.contents().len(), 1, "{bucket}");
    }

    let again = deployer.deploy(&synth).await;
    assert!(
        outcomes(&again).values().all(|o| o == "unchanged"),
        "{again}"
    );

    let destroyed = deployer.destroy(&synth, false).await;
    assert!(destroyed.ok(), "{destroyed}");
    let gone = cfn
        .describe_stack_set()
        .stack_set_name(automation.name.as_str())
        .call_as(aws_sdk_cloudformation::types::CallAs::DelegatedAdmin)
        .send()
        .await;
    assert!(
        gone.is_err()
            || gone
                .unwrap()
                .stack_set()
                .and_then(|s| s.status())
                .map(|s| s.as_str())
                == Some("DELETED"),
        "the StackSet is deleted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn destroy_with_evidence_removes_what_object_lock_allows_and_keeps_the_keys_of_the_rest() {
    let Some(endpoint) = common::emulator() else {
        return;
    };
    let (org, acct) = common::fresh_org();
    let p = &acct.prefix;
    let dir = tempfile::tempdir().unwrap();
    let synth = common::synth(&org, dir.path());
    let (deployer, _) = common::deployer(&endpoint, &synth).await;
    let report = deployer.deploy(&synth).await;
    assert!(report.ok(), "deploy failed:\n{report}");

    let analysis = format!("{p}-forensics-analysis");
    let region = &synth.plan.stack(&analysis).expect("planned").region;
    let conf = common::account(&endpoint, &acct.forensics, region).await;
    let resources: BTreeMap<String, String> = aws_sdk_cloudformation::Client::new(&conf)
        .describe_stack_resources()
        .stack_name(&analysis)
        .send()
        .await
        .unwrap()
        .stack_resources()
        .iter()
        .filter_map(|r| {
            Some((
                r.logical_resource_id()?.to_owned(),
                r.physical_resource_id()?.to_owned(),
            ))
        })
        .collect();
    let bucket = &resources["EvidenceBucket"];
    let s3 = common::s3(&conf);
    // The emulator's CloudFormation creates the bucket without the template's
    // VersioningConfiguration and ObjectLockConfiguration; apply the same configuration
    // (versioned, GOVERNANCE for 90 days by default) through the S3 API, as CloudFormation does
    // on AWS.
    s3.put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    use aws_sdk_s3::types::{
        DefaultRetention, ObjectLockConfiguration, ObjectLockEnabled, ObjectLockRetentionMode,
        ObjectLockRule,
    };
    s3.put_object_lock_configuration()
        .bucket(bucket)
        .object_lock_configuration(
            ObjectLockConfiguration::builder()
                .object_lock_enabled(ObjectLockEnabled::Enabled)
                .rule(
                    ObjectLockRule::builder()
                        .default_retention(
                            DefaultRetention::builder()
                                .mode(ObjectLockRetentionMode::Governance)
                                .days(90)
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    // Both objects fall under the default retention; the second also gets a delete marker,
    // which Object Lock does not protect.
    for key in ["case-1/locked.txt", "case-1/marked.txt"] {
        s3.put_object()
            .bucket(bucket)
            .key(key)
            .body(b"evidence".to_vec().into())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{key}: {e:?}"));
    }
    s3.delete_object()
        .bucket(bucket)
        .key("case-1/marked.txt")
        .send()
        .await
        .unwrap();

    let destroyed = deployer.destroy(&synth, true).await;
    assert!(
        !destroyed.ok(),
        "locked evidence cannot be destroyed:\n{destroyed}"
    );
    let text = destroyed.to_string();
    assert!(
        text.contains(&format!(
            "evidence bucket {bucket} kept: 2 object version(s) are under Object Lock retention"
        )),
        "the report says what was kept and why:\n{text}"
    );
    let versions = s3
        .list_object_versions()
        .bucket(bucket)
        .send()
        .await
        .expect("the bucket is kept");
    assert_eq!(versions.versions().len(), 2, "both locked versions stay");
    assert!(
        versions.delete_markers().is_empty(),
        "the delete marker, which Object Lock allows deleting, is gone"
    );
    // The evidence stays readable: its keys are not scheduled for deletion.
    let kms = aws_sdk_kms::Client::new(&conf);
    for logical in ["EvidenceKey", "CustodyKey"] {
        let key = kms
            .describe_key()
            .key_id(&resources[logical])
            .send()
            .await
            .unwrap_or_else(|e| panic!("{logical}: {e:?}"));
        assert_eq!(
            key.key_metadata()
                .and_then(|m| m.key_state())
                .map(|s| s.as_str()),
            Some("Enabled"),
            "{logical} of kept evidence"
        );
    }
}
