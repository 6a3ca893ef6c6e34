//! Credentials and clients: the default chain (or a profile), then one assumed role per account.

use std::collections::HashMap;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use tokio::sync::Mutex;

use super::DeployError;

/// How to reach AWS. Against an endpoint override (the emulator) requests are not retried: the
/// emulator answers an unimplemented call with HTTP 500, and a retried CreateStack would report
/// "already exists" instead of the real error.
#[derive(Clone, Debug, Default)]
pub struct AwsOptions {
    /// Named profile instead of the default chain.
    pub profile: Option<String>,
    /// Endpoint override (the local emulator).
    pub endpoint_url: Option<String>,
    /// Role assumed in each account other than the one the base credentials belong to.
    pub role_name: String,
}

/// How long assuming the deploy role in an account may take, retries included.
const ASSUME_ROLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The caller's identity and per-account configurations.
#[derive(Debug)]
pub struct AwsContext {
    base: SdkConfig,
    caller_account: String,
    partition: String,
    role_name: String,
    endpoint_url: Option<String>,
    accounts: Mutex<HashMap<String, SdkConfig>>,
}

impl AwsContext {
    /// Loads the base configuration and asks STS who the caller is.
    pub async fn new(
        opts: &AwsOptions,
        partition: &str,
        home_region: &str,
    ) -> Result<Self, DeployError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(home_region.to_owned()))
            .retry_config(
                RetryConfig::standard().with_max_attempts(if opts.endpoint_url.is_some() {
                    1
                } else {
                    6
                }),
            );
        if let Some(p) = &opts.profile {
            loader = loader.profile_name(p);
        }
        if let Some(e) = &opts.endpoint_url {
            loader = loader.endpoint_url(e);
        }
        let base = loader.load().await;
        let identity = aws_sdk_sts::Client::new(&base)
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| {
                DeployError::aws("sts:GetCallerIdentity (are credentials configured?)", e)
            })?;
        Ok(AwsContext {
            caller_account: identity.account().unwrap_or_default().to_owned(),
            base,
            partition: partition.to_owned(),
            role_name: opts.role_name.clone(),
            endpoint_url: opts.endpoint_url.clone(),
            accounts: Mutex::new(HashMap::new()),
        })
    }

    /// The account the base credentials belong to.
    pub fn caller_account(&self) -> &str {
        &self.caller_account
    }

    /// The endpoint override, if any.
    pub fn endpoint_url(&self) -> Option<&str> {
        self.endpoint_url.as_deref()
    }

    /// Configuration for `account` in `region`: the base credentials when they already belong to
    /// the account, otherwise the deploy role assumed in it (cached, refreshed by the provider).
    pub async fn config_for(&self, account: &str, region: &str) -> Result<SdkConfig, DeployError> {
        let mut accounts = self.accounts.lock().await;
        let account_conf = match accounts.get(account) {
            Some(c) => c.clone(),
            None => {
                let conf = if account == self.caller_account {
                    self.base.clone()
                } else {
                    let arn = format!(
                        "arn:{}:iam::{account}:role/{}",
                        self.partition, self.role_name
                    );
                    let provider = AssumeRoleProvider::builder(arn.clone())
                        .session_name("irf-synth-deploy")
                        .configure(&self.base)
                        .build()
                        .await;
                    let conf = self
                        .base
                        .to_builder()
                        .credentials_provider(
                            aws_credential_types::provider::SharedCredentialsProvider::new(
                                provider,
                            ),
                        )
                        // The SDK gives a credential load 5 s; an AssumeRole that STS throttles
                        // and the SDK retries (or a loaded emulator) takes longer, and a deploy
                        // should wait for it rather than fail the stack.
                        .identity_cache(
                            aws_config::identity::IdentityCache::lazy()
                                .load_timeout(ASSUME_ROLE_TIMEOUT)
                                .build(),
                        )
                        .build();
                    // Fail early and clearly when the role cannot be assumed.
                    aws_sdk_sts::Client::new(&conf)
                        .get_caller_identity()
                        .send()
                        .await
                        .map_err(|e| DeployError::aws(&format!("sts:AssumeRole into {arn}"), e))?;
                    conf
                };
                accounts.insert(account.to_owned(), conf.clone());
                conf
            }
        };
        Ok(account_conf
            .to_builder()
            .region(Region::new(region.to_owned()))
            .build())
    }

    /// A CloudFormation client.
    pub fn cloudformation(conf: &SdkConfig) -> aws_sdk_cloudformation::Client {
        aws_sdk_cloudformation::Client::new(conf)
    }

    /// An S3 client (path-style against an endpoint override, as the emulator needs).
    pub fn s3(&self, conf: &SdkConfig) -> aws_sdk_s3::Client {
        let b =
            aws_sdk_s3::config::Builder::from(conf).force_path_style(self.endpoint_url.is_some());
        aws_sdk_s3::Client::from_conf(b.build())
    }
}
