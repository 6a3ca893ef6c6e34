//! Shared helpers of the end-to-end tests: the emulator, fresh organizations, per-account SDK
//! configurations and the deployer.

#![allow(dead_code, unreachable_pub)]

pub mod http;
pub mod incident;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use irf_synth::deploy::assets::AssetSource;
use irf_synth::deploy::aws::{AwsContext, AwsOptions};
use irf_synth::deploy::progress::Reporter;
use irf_synth::deploy::stack::Method;
use irf_synth::deploy::{Deployer, Settings, SynthDir};

/// The emulator endpoint, or `None` (the test is skipped) when none is running. With
/// `IRF_REQUIRE_EMULATOR=1` (set by `scripts/test`) a missing emulator is a failure.
pub fn emulator() -> Option<String> {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(e) => Some(e),
        Err(_) => {
            assert!(
                std::env::var_os("IRF_REQUIRE_EMULATOR").is_none(),
                "IRF_REQUIRE_EMULATOR is set but AWS_ENDPOINT_URL is not: run through scripts/emulator"
            );
            eprintln!("skipping: no emulator (run through `scripts/emulator run -- cargo test`)");
            None
        }
    }
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A number unique to this process and call, for account ids and prefixes.
fn unique() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    (u64::from(std::process::id()) * 1_000_003
        + nanos
        + COUNTER.fetch_add(1, Ordering::SeqCst) * 7_919)
        % 100_000_000
}

/// Accounts of a fresh test organization.
#[derive(Clone, Debug)]
pub struct Accounts {
    pub security: String,
    pub forensics: String,
    pub payments: String,
    pub web: String,
    pub data: String,
    pub prefix: String,
}

/// The example organization with fresh account ids and a fresh prefix, so tests sharing one
/// emulator never see each other's accounts or buckets.
pub fn fresh_org() -> (String, Accounts) {
    let base = 100_000_000_000u64 + unique() * 1_000;
    let a = Accounts {
        security: format!("{:012}", base + 1),
        forensics: format!("{:012}", base + 2),
        payments: format!("{:012}", base + 3),
        web: format!("{:012}", base + 4),
        data: format!("{:012}", base + 5),
        prefix: format!("t{:07}", unique() % 10_000_000),
    };
    let text = irf_synth::fixtures::EXAMPLE_ORG
        .replace("111111111111", &a.security)
        .replace("222222222222", &a.forensics)
        .replace("333333333333", &a.payments)
        .replace("444444444444", &a.web)
        .replace("555555555555", &a.data)
        .replace("prefix = \"irf\"", &format!("prefix = \"{}\"", a.prefix));
    (text, a)
}

/// Synthesizes `org` into `dir` and loads it as the deployer does.
pub fn synth(org: &str, dir: &Path) -> SynthDir {
    let fw = irf_core::config::parse(Path::new("org.toml"), org).expect("valid org");
    irf_synth::synthesize(&fw)
        .expect("synthesizes")
        .write_to(dir)
        .expect("writes");
    SynthDir::load(dir).expect("loads")
}

/// The runtime asset: prebuilt zips when `IRF_ASSET_DIR` names them (`scripts/test` builds
/// them once with `irf-synth package`), otherwise built from the workspace.
pub fn asset_source() -> AssetSource {
    match std::env::var_os("IRF_ASSET_DIR") {
        Some(d) => AssetSource::Dir(PathBuf::from(d)),
        None => AssetSource::Build { workspace: root() },
    }
}

/// A deployer against the emulator, reporting plain lines (kept for assertions).
pub async fn deployer(endpoint: &str, synth: &SynthDir) -> (Deployer, Reporter) {
    let ctx = AwsContext::new(
        &AwsOptions {
            profile: None,
            endpoint_url: Some(endpoint.to_owned()),
            role_name: "OrganizationAccountAccessRole".to_owned(),
        },
        &synth.plan.partition,
        "us-east-1",
    )
    .await
    .expect("emulator answers");
    let reporter = Reporter::plain();
    let d = Deployer::new(
        ctx,
        Settings {
            method: Method::Direct,
            concurrency: 4,
            poll: Duration::from_millis(100),
        },
        asset_source(),
        reporter.clone(),
    );
    (d, reporter)
}

/// SDK configuration inside `account` (a role assumed into it), in `region`.
pub async fn account(endpoint: &str, account: &str, region: &str) -> SdkConfig {
    let base = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(region.to_owned()))
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .load()
        .await;
    let c = aws_sdk_sts::Client::new(&base)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/IRTestVerifier"))
        .role_session_name("irf-test")
        .send()
        .await
        .expect("assume role")
        .credentials
        .expect("credentials");
    let creds = aws_sdk_sts::config::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "assumed",
    );
    base.to_builder()
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(creds))
        .build()
}

/// An S3 client in path style (the emulator needs it).
pub fn s3(conf: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(conf)
            .force_path_style(true)
            .build(),
    )
}

/// An object's bytes (panics naming the key when it cannot be read).
pub async fn object(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<u8> {
    s3.get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{key}: {e:?}"))
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes()
        .to_vec()
}

/// Runs a workflow step as the workflow does: while a check answers `Ready: false` it is asked
/// again (at most five times, `pause` apart); an error fails the test, naming `payload`'s action.
pub async fn until_ready<F, Fut, E>(
    payload: &serde_json::Value,
    pause: Duration,
    mut step: F,
) -> serde_json::Value
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<serde_json::Value, E>>,
    E: std::fmt::Display,
{
    for _ in 0..5 {
        match step().await {
            Ok(v) if v["Ready"] == false => tokio::time::sleep(pause).await,
            Ok(v) => return v,
            Err(e) => panic!("{}: {e}", payload["Action"]),
        }
    }
    panic!("{} stayed pending", payload["Action"]);
}
