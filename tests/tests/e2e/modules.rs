//! `irf-synth modules` on the emulator: the real command line against a deployed example org.
//!
//! The emulator launches builder instances but runs nothing on them, so the test plays the
//! builders' side: it writes their manifests into the modules bucket (as the user data does when
//! it ends) and terminates them (as their power-off does). What a builder runs is tested for real
//! in `factory_kernel.rs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use aws_sdk_ec2::types::{ArchitectureValues, Filter};
use irf_core::factory::{
    Artifact, BuildOutcome, BuilderInstance, FORMAT, FactoryManifest, IsfArtifact, IsfSource,
    KernelBuild, OsRelease,
};
use irf_runtime::factory::{Factory, rfc3339};
use serde_json::Value;

use crate::common::{self, incident};

/// The irf-synth binary the workspace build produced (`cargo test --workspace` builds it).
fn irf_synth() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| common::root().join("target"), PathBuf::from);
    let bin = target.join("debug/irf-synth");
    assert!(
        bin.exists(),
        "{} is missing: build the workspace first (cargo test --workspace --no-run)",
        bin.display()
    );
    bin
}

fn modules(endpoint: &str, org: &Path, args: &[&str]) -> Output {
    Command::new(irf_synth())
        .arg("modules")
        .args(args)
        .arg("--org-config")
        .arg(org)
        .args(["--endpoint-url", endpoint])
        .output()
        .expect("irf-synth runs")
}

/// `out`, after checking that the command succeeded.
fn succeeded(out: Output) -> Output {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn results(doc: &Value) -> Vec<(String, String)> {
    doc["amis"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["ami"].as_str().unwrap().to_owned(),
                a["result"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn register(ec2: &aws_sdk_ec2::Client, name: &str) -> String {
    ec2.register_image()
        .name(name)
        .architecture(ArchitectureValues::X8664)
        .root_device_name("/dev/xvda")
        .send()
        .await
        .expect("RegisterImage")
        .image_id()
        .unwrap()
        .to_owned()
}

/// An image of the account's own with the architecture of `base` (the emulator keeps it when the
/// image is made from an instance).
async fn x86_image(ec2: &aws_sdk_ec2::Client, base: &str, name: &str) -> String {
    let instance = ec2
        .run_instances()
        .image_id(base)
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .unwrap()
        .instances()[0]
        .instance_id()
        .unwrap()
        .to_owned();
    let image = ec2
        .create_image()
        .instance_id(&instance)
        .name(name)
        .send()
        .await
        .unwrap()
        .image_id()
        .unwrap()
        .to_owned();
    ec2.terminate_instances()
        .instance_ids(&instance)
        .send()
        .await
        .unwrap();
    image
}

/// Builders by AMI: (instance, type, state).
async fn builders(ec2: &aws_sdk_ec2::Client) -> Vec<(String, String, String, String)> {
    let out = ec2
        .describe_instances()
        .filters(
            Filter::builder()
                .name("tag-key")
                .values("IrfFactoryAmi")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let mut v: Vec<_> = out
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .map(|i| {
            let ami = i
                .tags()
                .iter()
                .find(|t| t.key() == Some("IrfFactoryAmi"))
                .and_then(|t| t.value())
                .unwrap()
                .to_owned();
            (
                ami,
                i.instance_id().unwrap().to_owned(),
                i.instance_type().unwrap().as_str().to_owned(),
                i.state().unwrap().name().unwrap().as_str().to_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

fn kernel(release: &str, boot: bool, built: bool) -> KernelBuild {
    let prefix = format!("amzn/2023/{release}");
    KernelBuild {
        release: release.to_owned(),
        boot,
        module: built.then(|| Artifact {
            key: format!("{prefix}/lime-{release}.ko"),
            sha256: "a".repeat(64),
        }),
        isf: if built {
            vec![IsfArtifact {
                artifact: Artifact {
                    key: format!("{prefix}/{release}.isf.json.xz"),
                    sha256: "b".repeat(64),
                },
                source: IsfSource::Btf,
            }]
        } else {
            Vec::new()
        },
        kcore: Some(true),
        error: (!built).then(|| "LiME does not build against /usr/src/kernels/x".to_owned()),
    }
}

/// The manifest a builder writes when it ends.
fn manifest(
    ami: &str,
    instance: &str,
    instance_type: &str,
    kernels: Vec<KernelBuild>,
) -> FactoryManifest {
    let built = kernels.iter().filter(|k| k.covered()).count();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    FactoryManifest {
        version: FORMAT,
        ami_id: ami.to_owned(),
        builder: BuilderInstance {
            instance_id: instance.to_owned(),
            instance_type: instance_type.to_owned(),
            architecture: if instance_type.starts_with("t4g") {
                "arm64"
            } else {
                "x86_64"
            }
            .to_owned(),
        },
        os: OsRelease {
            id: "amzn".to_owned(),
            version_id: "2023".to_owned(),
            pretty_name: "Amazon Linux 2023".to_owned(),
        },
        lime_commit: Some("7511bffe797d0000000000000000000000000000".to_owned()),
        started_at: rfc3339(now - 600),
        ended_at: rfc3339(now),
        outcome: if built == kernels.len() {
            BuildOutcome::Built
        } else {
            BuildOutcome::Partial
        },
        reason: (built < kernels.len())
            .then(|| format!("{built} of {} kernels built", kernels.len())),
        log_key: Some(format!("factory/logs/{ami}/{instance}.log")),
        kernels,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn modules_build_list_and_forget_run_the_factory_without_a_stack_update() {
    let Some(org) = incident::deployed_org().await else {
        return;
    };
    let endpoint = org.endpoint.clone();
    let a = org.acct.clone();
    let dir = tempfile::tempdir().unwrap();
    let org_toml = dir.path().join("org.toml");
    std::fs::write(&org_toml, &org.text).unwrap();
    let fw = irf_core::config::parse(&org_toml, &org.text).unwrap();

    let security = common::account(&endpoint, &a.security, "us-east-1").await;
    let ec2 = aws_sdk_ec2::Client::new(&security);
    let cfn = aws_sdk_cloudformation::Client::new(&security);
    // The emulator's two public images (scripts/emulator.d/amis.json): moto drops the
    // architecture RegisterImage is given, so these are the AMIs whose architecture it knows.
    let x86 = "ami-0f00000000000a864".to_owned();
    let arm = "ami-0f00000000000a064".to_owned();

    let stack = format!("{}-security-module-factory", a.prefix);
    let template_of = || async {
        let body = cfn
            .get_template()
            .stack_name(&stack)
            .send()
            .await
            .unwrap()
            .template_body()
            .unwrap()
            .to_owned();
        let d = cfn
            .describe_stacks()
            .stack_name(&stack)
            .send()
            .await
            .unwrap();
        let s = &d.stacks()[0];
        let mut params: Vec<(String, String)> = s
            .parameters()
            .iter()
            .map(|p| {
                (
                    p.parameter_key().unwrap().to_owned(),
                    p.parameter_value().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        params.sort();
        (body, params, s.last_updated_time().map(|t| t.secs()))
    };
    let before = template_of().await;

    // Bad input is refused before anything happens.
    let bad = modules(&endpoint, &org_toml, &["build", "--ami", "ami-XYZ"]);
    assert_eq!(bad.status.code(), Some(1));
    let why = String::from_utf8_lossy(&bad.stderr);
    assert!(
        why.contains("--ami \"ami-XYZ\"") && why.contains("ami-0123456789abcdef0"),
        "{why}"
    );

    // One builder per AMI, typed by the AMI's architecture; no stack is touched.
    let first = succeeded(modules(
        &endpoint,
        &org_toml,
        &["build", "--ami", &x86, "--ami", &arm, "--output", "json"],
    ));
    let doc = json(&first);
    assert_eq!(
        results(&doc),
        [
            (x86.clone(), "launched".to_owned()),
            (arm.clone(), "launched".to_owned())
        ]
    );
    let launched = builders(&ec2).await;
    assert_eq!(launched.len(), 2, "{launched:?}");
    let type_of = |ami: &str| {
        launched
            .iter()
            .find(|b| b.0 == ami)
            .map(|b| (b.1.clone(), b.2.clone()))
            .unwrap()
    };
    let (x86_builder, x86_type) = type_of(&x86);
    let (arm_builder, arm_type) = type_of(&arm);
    assert_eq!(x86_type, "t3.large");
    assert_eq!(arm_type, "t4g.large");
    assert_eq!(
        template_of().await,
        before,
        "the factory stack is unchanged"
    );

    let factory = {
        let aws = irf_runtime::aws::Aws::with(None, Some(&endpoint)).await;
        Factory::for_org(&aws, "OrganizationAccountAccessRole", &fw)
            .await
            .unwrap()
    };
    let requested: Vec<String> = factory
        .store
        .requests()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.ami_id)
        .collect();
    assert_eq!(requested.len(), 2);
    assert!(requested.contains(&x86) && requested.contains(&arm));
    let list: Vec<String> = factory
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    for configured in &fw.module_factory.amis {
        assert!(
            list.contains(&configured.as_str().to_owned()),
            "org.toml's AMIs stay listed"
        );
    }

    // Again: the builders are running, nothing new is launched.
    let again = succeeded(modules(
        &endpoint,
        &org_toml,
        &["build", "--ami", &x86, "--ami", &arm, "--output", "json"],
    ));
    assert_eq!(
        results(&json(&again)),
        [
            (x86.clone(), "building".to_owned()),
            (arm.clone(), "building".to_owned())
        ]
    );
    assert_eq!(
        builders(&ec2).await.len(),
        2,
        "a repeated build launches nothing"
    );

    // --wait follows the builders while the test plays their side.
    let mut waiting = Command::new(irf_synth())
        .args([
            "modules", "build", "--ami", &x86, "--ami", &arm, "--wait", "--output", "json",
        ])
        .arg("--org-config")
        .arg(&org_toml)
        .args(["--endpoint-url", &endpoint])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Its first two status lines (stderr) are where each AMI stood when it started: both building.
    let stderr = waiting.stderr.take().unwrap();
    let (stderr, started) = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut reader = std::io::BufReader::new(stderr);
        let mut lines = Vec::new();
        // Log lines (tracing) come first; the status lines start with the AMI id.
        while lines.len() < 2 {
            let mut line = String::new();
            assert!(
                reader.read_line(&mut line).unwrap() > 0,
                "stderr ended: {lines:?}"
            );
            if line.starts_with("ami-") {
                lines.push(line);
            }
        }
        (reader, lines)
    })
    .await
    .unwrap();
    assert!(
        started.iter().all(|l| l.contains(": building (builder i-")),
        "{started:?}"
    );
    factory
        .store
        .put_manifest(&manifest(
            &x86,
            &x86_builder,
            &x86_type,
            vec![
                kernel("6.1.158-180.294.amzn2023.x86_64", true, true),
                kernel("6.1.155-176.282.amzn2023.x86_64", false, true),
            ],
        ))
        .await
        .unwrap();
    factory
        .store
        .put_manifest(&manifest(
            &arm,
            &arm_builder,
            &arm_type,
            vec![
                kernel("6.1.158-180.294.amzn2023.aarch64", true, true),
                kernel("6.1.155-176.282.amzn2023.aarch64", false, false),
            ],
        ))
        .await
        .unwrap();
    ec2.terminate_instances()
        .instance_ids(&x86_builder)
        .instance_ids(&arm_builder)
        .send()
        .await
        .unwrap();
    let (waited, rest) = tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut stderr = stderr;
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest);
        (waiting.wait_with_output().unwrap(), rest)
    })
    .await
    .unwrap();
    assert_eq!(waited.status.code(), Some(5), "some failed: exit 5\n{rest}");
    assert!(
        rest.contains("current after") && rest.contains("partial after"),
        "live progress: {rest}"
    );
    let doc = json(&waited);
    assert_eq!(
        results(&doc),
        [
            (x86.clone(), "built".to_owned()),
            (arm.clone(), "partial".to_owned())
        ]
    );
    let arm_kernels = doc["amis"][1]["kernels"].as_array().unwrap();
    assert_eq!(arm_kernels[0]["result"], "built");
    assert_eq!(arm_kernels[0]["module_sha256"], "a".repeat(64));
    assert_eq!(arm_kernels[0]["isf_sha256"], "b".repeat(64));
    assert_eq!(arm_kernels[1]["result"], "failed");
    let reason = arm_kernels[1]["reason"].as_str().unwrap();
    assert!(
        reason.contains("LiME does not build")
            && reason.contains(&format!(
                "s3://{}/factory/logs/{arm}/{arm_builder}.log",
                fw.names.modules_bucket()
            )),
        "{reason}"
    );

    // Text output: one line per AMI and kernel; a built AMI asked for again is skipped.
    let text = succeeded(modules(
        &endpoint,
        &org_toml,
        &["build", "--ami", &x86, "--wait"],
    ));
    let lines = String::from_utf8_lossy(&text.stdout).into_owned();
    assert_eq!(lines.lines().count(), 2, "{lines}");
    assert!(
        lines
            .lines()
            .all(|l| l.starts_with(&x86) && l.contains(": skipped (module SHA-256 aaaa")),
        "{lines}"
    );
    assert_eq!(
        builders(&ec2).await.len(),
        2,
        "nothing was launched for the current AMI"
    );

    // Coverage across two member accounts and two regions.
    let unknown = "ami-0123456789abcdef1";
    let mut where_: Vec<(String, &str, &str, String)> = Vec::new();
    for (account, region, ami) in [
        (&a.payments, "us-east-1", x86.as_str()),
        (&a.payments, "eu-west-1", unknown),
        (&a.data, "eu-west-1", arm.as_str()),
        (&a.data, "eu-west-1", unknown),
    ] {
        let conf = common::account(&endpoint, account, region).await;
        let id = aws_sdk_ec2::Client::new(&conf)
            .run_instances()
            .image_id(ami)
            .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
            .min_count(1)
            .max_count(1)
            .send()
            .await
            .unwrap()
            .instances()[0]
            .instance_id()
            .unwrap()
            .to_owned();
        where_.push((account.clone(), region, ami, id));
    }
    let listed = succeeded(modules(&endpoint, &org_toml, &["list", "--output", "json"]));
    let doc = json(&listed);
    // The emulator implements no SSM Inventory: each account-region says so once, with the
    // call that failed, and its instances are judged by their AMI (the verdicts by Inventory
    // kernel are unit-tested against a stand-in, factory::inventory).
    let unreadable = doc["inventory"]["unreadable"].as_object().unwrap();
    for place in [
        format!("{}/us-east-1", a.payments),
        format!("{}/eu-west-1", a.payments),
        format!("{}/eu-west-1", a.data),
    ] {
        assert!(
            unreadable[&place]
                .as_str()
                .unwrap()
                .contains("ssm:ListInventoryEntries"),
            "{place}: {unreadable:?}"
        );
    }
    assert_eq!(doc["inventory"]["instances_with_kernels"], 0);
    let uncovered = doc["uncovered"].as_array().unwrap();
    let by_ami = |ami: &str| uncovered.iter().find(|u| u["ami_id"] == ami).cloned();
    assert!(
        by_ami(&x86).is_none(),
        "the built AMI's instance is covered: {uncovered:?}"
    );
    let u = by_ami(unknown).expect("the AMI nobody built is uncovered");
    assert_eq!(u["fallback"], "kcore");
    assert_eq!(u["places"][format!("{}/eu-west-1", a.payments)], 1);
    assert_eq!(u["places"][format!("{}/eu-west-1", a.data)], 1);
    assert!(
        u["reason"]
            .as_str()
            .unwrap()
            .contains("not in the factory's list")
    );
    assert!(
        by_ami(&arm).is_none(),
        "the partial AMI built the kernel it boots, so its instance is covered: {uncovered:?}"
    );
    let dead = &where_[2];
    assert_eq!(dead.2, arm.as_str());
    assert_eq!(doc["instances_surveyed"], where_.len());

    // An AMI whose boot kernel got no module and has no /proc/kcore cannot be captured today.
    let hardened = "ami-0123456789abcdef2";
    let mut m = manifest(
        hardened,
        "i-0hardened",
        "t3.large",
        vec![kernel("6.1.0-hardened", true, false)],
    );
    m.kernels[0].kcore = Some(false);
    factory.store.put_manifest(&m).await.unwrap();
    let web = common::account(&endpoint, &a.web, "us-east-1").await;
    aws_sdk_ec2::Client::new(&web)
        .run_instances()
        .image_id(hardened)
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .unwrap();
    let doc = json(&modules(
        &endpoint,
        &org_toml,
        &["list", "--output", "json"],
    ));
    let none = doc["uncovered"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["ami_id"] == hardened)
        .cloned()
        .expect("the hardened AMI's instance is uncovered");
    assert_eq!(none["fallback"], "none");
    assert!(
        none["reason"].as_str().unwrap().contains("no /proc/kcore"),
        "{none}"
    );
    let text = modules(&endpoint, &org_toml, &["list"]);
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(
        text.contains(&format!(
            "{hardened}: 1 instance(s) {}/us-east-1 (1): cannot be captured today",
            a.web
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("{x86} [cli]: amzn 2023 built")),
        "{text}"
    );

    // Forget: requests go, artifacts stay; org.toml's AMIs are refused with the fix.
    let forgot = succeeded(modules(&endpoint, &org_toml, &["forget", "--ami", &arm]));
    assert!(String::from_utf8_lossy(&forgot.stdout).contains("forgotten"));
    let list: Vec<String> = factory
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    assert!(!list.contains(&arm) && list.contains(&x86), "{list:?}");
    assert!(
        factory.store.manifest(&arm).await.unwrap().is_some(),
        "its manifest stays"
    );
    let configured = fw.module_factory.amis[0].as_str().to_owned();
    let refused = modules(&endpoint, &org_toml, &["forget", "--ami", &configured]);
    assert_eq!(refused.status.code(), Some(1));
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(
        why.contains("[module_factory] amis") && why.contains("nothing was forgotten"),
        "{why}"
    );

    // An AMI of another region is built from the factory's copy in the home region.
    let eu_ec2 =
        aws_sdk_ec2::Client::new(&common::account(&endpoint, &a.security, "eu-west-1").await);
    let far = x86_image(&eu_ec2, &x86, "irf-test-eu-west-1").await;
    // Without --region it is not visible, and the failure names the fix.
    let unseen = modules(
        &endpoint,
        &org_toml,
        &["build", "--ami", &far, "--output", "json"],
    );
    assert_eq!(unseen.status.code(), Some(5));
    let doc = json(&unseen);
    assert_eq!(results(&doc), [(far.clone(), "failed".to_owned())]);
    assert!(
        doc["amis"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("--region"),
        "{doc}"
    );
    // Listed as a home-region AMI now: --region is refused until it is forgotten.
    let relisted = modules(
        &endpoint,
        &org_toml,
        &["build", "--ami", &far, "--region", "eu-west-1"],
    );
    assert_eq!(relisted.status.code(), Some(1));
    let why = String::from_utf8_lossy(&relisted.stderr);
    assert!(
        why.contains("as an AMI of us-east-1") && why.contains("nothing was added"),
        "{why}"
    );
    let bad_region = modules(
        &endpoint,
        &org_toml,
        &["build", "--ami", &far, "--region", "eu-middle-9"],
    );
    assert_eq!(bad_region.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad_region.stderr).contains("not a region code"));
    succeeded(modules(&endpoint, &org_toml, &["forget", "--ami", &far]));
    let build_far = || {
        json(&succeeded(modules(
            &endpoint,
            &org_toml,
            &[
                "build",
                "--ami",
                &far,
                "--region",
                "eu-west-1",
                "--output",
                "json",
            ],
        )))
    };
    let copied = build_far();
    assert_eq!(
        results(&copied),
        [(far.clone(), "launched".to_owned())],
        "{copied}"
    );
    let copy = factory
        .fleet
        .copy_of(&far)
        .await
        .unwrap()
        .expect("the factory copied the AMI into its region");
    assert_ne!(copy.image_id, far);
    let far_builders: Vec<_> = builders(&ec2)
        .await
        .into_iter()
        .filter(|b| b.0 == far)
        .collect();
    assert_eq!(far_builders.len(), 1, "{far_builders:?}");
    let booted = ec2
        .describe_instances()
        .instance_ids(&far_builders[0].1)
        .send()
        .await
        .unwrap()
        .reservations()[0]
        .instances()[0]
        .image_id()
        .unwrap()
        .to_owned();
    assert_eq!(
        booted, copy.image_id,
        "the builder boots the copy, tagged with the original"
    );
    assert_eq!(
        far_builders[0].2, "t3.large",
        "typed by the copy's architecture"
    );
    // Again: no second copy, no second builder.
    let again = build_far();
    assert_eq!(results(&again), [(far.clone(), "building".to_owned())]);
    let copies = ec2
        .describe_images()
        .owners("self")
        .filters(
            Filter::builder()
                .name("tag:IrfFactorySourceAmi")
                .values(&far)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(copies.images().len(), 1);
    assert_eq!(
        builders(&ec2)
            .await
            .into_iter()
            .filter(|b| b.0 == far)
            .count(),
        1
    );
    // The builder's manifest is the original AMI's; forget removes the copy.
    factory
        .store
        .put_manifest(&manifest(
            &far,
            &far_builders[0].1,
            "t3.large",
            vec![kernel("6.1.100-eu", true, true)],
        ))
        .await
        .unwrap();
    ec2.terminate_instances()
        .instance_ids(&far_builders[0].1)
        .send()
        .await
        .unwrap();
    let current = build_far();
    assert_eq!(results(&current), [(far.clone(), "skipped".to_owned())]);
    let forgot = succeeded(modules(&endpoint, &org_toml, &["forget", "--ami", &far]));
    let said = String::from_utf8_lossy(&forgot.stdout).into_owned();
    assert!(
        said.contains(&format!(
            "the factory's copy {} deregistered",
            copy.image_id
        )),
        "{said}"
    );
    assert_eq!(factory.fleet.copy_of(&far).await.unwrap(), None);

    // The watchdog: a builder past the build timeout is terminated and reported timed out.
    let slow = x86_image(&ec2, &x86, "irf-test-slow").await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let launched = factory
        .reconcile(std::slice::from_ref(&slow), now, true)
        .await
        .unwrap();
    let irf_runtime::factory::AmiStatus::Launched(b) = &launched[0].1 else {
        panic!("a builder was launched: {launched:?}")
    };
    assert!(
        factory.watchdog(now + 60).await.unwrap().is_empty(),
        "not overdue yet"
    );
    let later = now + factory.settings.build_timeout + 60;
    let stopped = factory.watchdog(later).await.unwrap();
    let stopped: Vec<&str> = stopped.iter().map(|s| s.instance_id.as_str()).collect();
    assert_eq!(stopped, [b.instance_id.as_str()]);
    let state = builders(&ec2)
        .await
        .into_iter()
        .find(|x| x.1 == b.instance_id)
        .unwrap()
        .3;
    assert!(state == "shutting-down" || state == "terminated", "{state}");
    let report = factory
        .store
        .manifest(&slow)
        .await
        .unwrap()
        .expect("the watchdog reported it");
    assert_eq!(report.manifest.outcome, BuildOutcome::TimedOut);
    assert!(
        report
            .manifest
            .reason
            .unwrap()
            .contains("watchdog terminated it")
    );

    // Without anyone typing: the AMI of a watched public parameter, and the AMIs EC2 Image
    // Builder made for an image that became available.
    let watched =
        "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64".to_owned();
    let added = factory
        .watch_parameters(std::slice::from_ref(&watched), now)
        .await
        .unwrap();
    assert_eq!(added.len(), 1, "{added:?}");
    assert!(
        added[0].ami_id.starts_with("ami-") && added[0].from == watched,
        "{added:?}"
    );
    assert!(
        factory
            .watch_parameters(std::slice::from_ref(&watched), now)
            .await
            .unwrap()
            .is_empty(),
        "a second read adds nothing"
    );
    let err = factory
        .watch_parameters(&["/aws/service/ami-no-such-parameter".to_owned()], now)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("/aws/service/ami-no-such-parameter") && err.contains("watch_parameters"),
        "{err}"
    );
    let golden = register(&ec2, "irf-test-golden").await;
    let image_arn = format!(
        "arn:aws:imagebuilder:us-east-1:{}:image/golden/1.0.0/1",
        a.security
    );
    ec2.create_tags()
        .resources(&golden)
        .tags(
            aws_sdk_ec2::types::Tag::builder()
                .key("Ec2ImageBuilderArn")
                .value(&image_arn)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let event = |status: &str| {
        serde_json::json!({
            "source": "aws.imagebuilder",
            "detail-type": "EC2 Image Builder Image State Change",
            "resources": [image_arn],
            "detail": {"previous-state": {"status": "DISTRIBUTING"}, "state": {"status": status}},
        })
    };
    assert!(
        factory
            .image_builder_event(&event("FAILED"), now)
            .await
            .unwrap()
            .is_empty()
    );
    let added = factory
        .image_builder_event(&event("AVAILABLE"), now)
        .await
        .unwrap();
    assert_eq!(
        added.iter().map(|a| a.ami_id.as_str()).collect::<Vec<_>>(),
        [golden.as_str()]
    );
    let sources: Vec<(String, &str)> = factory
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|(a, s)| (a, s.as_str()))
        .collect();
    assert!(
        sources.contains(&(golden.clone(), "image-builder")),
        "{sources:?}"
    );
    assert!(
        sources.iter().any(|(_, s)| *s == "parameter-watch"),
        "{sources:?}"
    );
}
