//! Helpers shared by the CLI tests: the emulator, the `irf` binary, fresh accounts.
#![allow(dead_code, unreachable_pub)]

use std::process::{Command, Output};

use aws_config::{BehaviorVersion, Region, SdkConfig};

pub fn emulator() -> Option<String> {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(e) => Some(e),
        Err(_) => {
            assert!(
                std::env::var_os("IRF_REQUIRE_EMULATOR").is_none(),
                "IRF_REQUIRE_EMULATOR is set but AWS_ENDPOINT_URL is not: run through scripts/emulator"
            );
            eprintln!("skipping: no emulator");
            None
        }
    }
}

pub fn irf(endpoint: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_irf"))
        .args(args)
        .args(["--endpoint-url", endpoint])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("irf runs")
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A configuration inside a fresh account (the base credentials' account is the emulator's
/// default, so the CLI assumes its role into this one).
pub async fn fresh_account(endpoint: &str, region: &str) -> (String, SdkConfig) {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let account = format!(
        "{:012}",
        600_000_000_000u64 + u64::from(n % 100_000_000) + u64::from(std::process::id())
    );
    let base = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(region.to_owned()))
        .credentials_provider(aws_sdk_ec2::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await;
    let c = aws_sdk_sts::Client::new(&base)
        .assume_role()
        .role_arn(format!(
            "arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
        ))
        .role_session_name("irf-cli-test")
        .send()
        .await
        .unwrap()
        .credentials
        .unwrap();
    let creds = aws_sdk_ec2::config::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "assumed",
    );
    (
        account,
        base.to_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(creds),
            )
            .build(),
    )
}
