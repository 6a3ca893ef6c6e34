//! AWS configuration for handlers and the responder CLI: the environment's credentials (or a
//! profile), roles assumed into member accounts, and a counter of the calls made.

use std::collections::HashMap;
use std::sync::Arc;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use tokio::sync::Mutex;

use crate::error::{self, HandlerError, Result};

/// Records every request sent (retries included) as `Service.Operation`, in order: the
/// containment performance figures and the tests that check the order of steps read it.
#[derive(Clone, Debug, Default)]
pub struct CallCounter(Arc<std::sync::Mutex<Vec<String>>>);

impl CallCounter {
    /// Calls so far.
    pub fn get(&self) -> usize {
        self.0.lock().map_or(0, |l| l.len())
    }

    /// The calls so far, in order.
    pub fn calls(&self) -> Vec<String> {
        self.0.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> std::result::Result<(), BoxError> {
        let op = cfg.load::<Metadata>().map_or_else(
            || "?".to_owned(),
            |m| format!("{}.{}", m.service(), m.name()),
        );
        if let Ok(mut l) = self.0.lock() {
            l.push(op);
        }
        Ok(())
    }
}

/// Where handlers get their AWS configurations.
#[derive(Debug, Clone)]
pub struct Aws {
    base: SdkConfig,
    partition: String,
    endpoint: Option<String>,
    /// Calls made through clients built here.
    pub calls: CallCounter,
    assumed: Arc<Mutex<HashMap<(String, String), SdkConfig>>>,
    caller: Arc<tokio::sync::OnceCell<(String, String)>>,
}

impl Aws {
    /// From the environment (Lambda's role, or the caller's chain); `AWS_ENDPOINT_URL` is
    /// honoured, so the same code runs against the local emulator.
    pub async fn from_env() -> Self {
        Aws::with(None, None).await
    }

    /// With a profile and/or an endpoint override (responder CLI).
    pub async fn with(profile: Option<&str>, endpoint: Option<&str>) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(p) = profile {
            loader = loader.profile_name(p);
        }
        if let Some(e) = endpoint {
            loader = loader.endpoint_url(e);
        }
        if std::env::var_os("AWS_ENDPOINT_URL").is_some() || endpoint.is_some() {
            // The emulator answers unimplemented calls with 500: retrying only hides the cause.
            loader = loader.retry_config(RetryConfig::standard().with_max_attempts(1));
        }
        let base = loader.load().await;
        let partition =
            std::env::var(irf_core::env::keys::PARTITION).unwrap_or_else(|_| "aws".to_owned());
        let endpoint = endpoint
            .map(str::to_owned)
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok());
        Aws {
            base,
            partition,
            endpoint,
            calls: CallCounter::default(),
            assumed: Arc::new(Mutex::new(HashMap::new())),
            caller: Arc::new(tokio::sync::OnceCell::new()),
        }
    }

    /// Over an existing configuration (tests: credentials already in a member account).
    pub fn from_config(base: SdkConfig, endpoint: Option<&str>) -> Self {
        Aws {
            base,
            partition: std::env::var(irf_core::env::keys::PARTITION)
                .unwrap_or_else(|_| "aws".to_owned()),
            endpoint: endpoint.map(str::to_owned),
            calls: CallCounter::default(),
            assumed: Arc::new(Mutex::new(HashMap::new())),
            caller: Arc::new(tokio::sync::OnceCell::new()),
        }
    }

    /// Uses `partition` for the ARNs built here (default: the function's partition variable,
    /// else `aws`).
    #[must_use]
    pub fn with_partition(mut self, partition: &str) -> Self {
        partition.clone_into(&mut self.partition);
        self
    }

    /// The partition of ARNs built here.
    pub fn partition(&self) -> &str {
        &self.partition
    }

    /// The base configuration in `region`.
    pub fn here(&self, region: &str) -> SdkConfig {
        self.base
            .to_builder()
            .region(Region::new(region.to_owned()))
            .build()
    }

    /// The region of the base configuration.
    pub fn home_region(&self) -> String {
        self.base
            .region()
            .map_or_else(|| "us-east-1".to_owned(), |r| r.to_string())
    }

    /// The configuration of `role` assumed in `account`, in `region` (cached per account and
    /// role for the life of the process).
    pub async fn assume(&self, account: &str, role: &str, region: &str) -> Result<SdkConfig> {
        let key = (account.to_owned(), role.to_owned());
        let mut assumed = self.assumed.lock().await;
        let conf = match assumed.get(&key) {
            Some(c) => c.clone(),
            None => {
                let arn = format!("arn:{}:iam::{account}:role/{role}", self.partition);
                let sts = aws_sdk_sts::Client::from_conf(
                    aws_sdk_sts::config::Builder::from(&self.base)
                        .interceptor(self.calls.clone())
                        .build(),
                );
                let out = sts
                    .assume_role()
                    .role_arn(&arn)
                    .role_session_name("irf-incident-response")
                    .duration_seconds(3600)
                    .send()
                    .await
                    .map_err(|e| error::aws(&format!("sts:AssumeRole {arn}"), e))?;
                let c = out.credentials().ok_or_else(|| {
                    HandlerError::Fatal(format!("sts:AssumeRole {arn} returned no credentials"))
                })?;
                let creds = aws_credential_types::Credentials::new(
                    c.access_key_id(),
                    c.secret_access_key(),
                    Some(c.session_token().to_owned()),
                    std::time::SystemTime::try_from(*c.expiration()).ok(),
                    "irf-assumed-role",
                );
                let conf = self
                    .base
                    .to_builder()
                    .credentials_provider(
                        aws_credential_types::provider::SharedCredentialsProvider::new(creds),
                    )
                    .build();
                assumed.insert(key, conf.clone());
                conf
            }
        };
        Ok(conf
            .to_builder()
            .region(Region::new(region.to_owned()))
            .build())
    }

    /// The account and ARN of the base credentials (`sts:GetCallerIdentity`, asked once).
    async fn caller(&self) -> Result<&(String, String)> {
        self.caller
            .get_or_try_init(|| async {
                let sts = aws_sdk_sts::Client::from_conf(
                    aws_sdk_sts::config::Builder::from(&self.base)
                        .interceptor(self.calls.clone())
                        .build(),
                );
                let out = sts
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(|e| error::aws("sts:GetCallerIdentity", e))?;
                match (out.account(), out.arn()) {
                    (Some(account), Some(arn)) => Ok((account.to_owned(), arn.to_owned())),
                    _ => Err(HandlerError::Fatal(
                        "sts:GetCallerIdentity returned no account or ARN".into(),
                    )),
                }
            })
            .await
    }

    /// The account of the base credentials.
    pub async fn caller_account(&self) -> Result<String> {
        Ok(self.caller().await?.0.clone())
    }

    /// The ARN of the base credentials (the acting identity recorded in custody ledgers).
    pub async fn caller_arn(&self) -> Result<String> {
        Ok(self.caller().await?.1.clone())
    }

    /// The configuration for `account` in `region`: the base credentials when they already
    /// belong to that account, otherwise `role` assumed there.
    pub async fn account(&self, account: &str, role: &str, region: &str) -> Result<SdkConfig> {
        if self.caller_account().await? == account {
            Ok(self.here(region))
        } else {
            self.assume(account, role, region).await
        }
    }

    /// EC2 client (counted).
    pub fn ec2(&self, conf: &SdkConfig) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::from_conf(
            aws_sdk_ec2::config::Builder::from(conf)
                .interceptor(self.calls.clone())
                .build(),
        )
    }

    /// IAM client (counted).
    pub fn iam(&self, conf: &SdkConfig) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::from_conf(
            aws_sdk_iam::config::Builder::from(conf)
                .interceptor(self.calls.clone())
                .build(),
        )
    }

    /// SSM client (counted).
    pub fn ssm(&self, conf: &SdkConfig) -> aws_sdk_ssm::Client {
        aws_sdk_ssm::Client::from_conf(
            aws_sdk_ssm::config::Builder::from(conf)
                .interceptor(self.calls.clone())
                .build(),
        )
    }

    /// SNS client (counted).
    pub fn sns(&self, conf: &SdkConfig) -> aws_sdk_sns::Client {
        aws_sdk_sns::Client::from_conf(
            aws_sdk_sns::config::Builder::from(conf)
                .interceptor(self.calls.clone())
                .build(),
        )
    }

    /// EventBridge client (counted).
    pub fn events(&self, conf: &SdkConfig) -> aws_sdk_eventbridge::Client {
        aws_sdk_eventbridge::Client::from_conf(
            aws_sdk_eventbridge::config::Builder::from(conf)
                .interceptor(self.calls.clone())
                .build(),
        )
    }

    /// Step Functions client (counted).
    pub fn sfn(&self, conf: &SdkConfig) -> aws_sdk_sfn::Client {
        aws_sdk_sfn::Client::from_conf(
            aws_sdk_sfn::config::Builder::from(conf)
                .interceptor(self.calls.clone())
                .build(),
        )
    }

    /// Secrets Manager client (counted).
    pub fn secrets(&self, conf: &SdkConfig) -> aws_sdk_secretsmanager::Client {
        aws_sdk_secretsmanager::Client::from_conf(
            aws_sdk_secretsmanager::config::Builder::from(conf)
                .interceptor(self.calls.clone())
                .build(),
        )
    }

    /// Security Hub client (counted).
    pub fn securityhub(&self, conf: &SdkConfig) -> aws_sdk_securityhub::Client {
        aws_sdk_securityhub::Client::from_conf(
            aws_sdk_securityhub::config::Builder::from(conf)
                .interceptor(self.calls.clone())
                .build(),
        )
    }

    /// KMS client (counted).
    pub fn kms(&self, conf: &SdkConfig) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::from_conf(
            aws_sdk_kms::config::Builder::from(conf)
                .interceptor(self.calls.clone())
                .build(),
        )
    }

    /// S3 client (counted; path-style against an endpoint override).
    pub fn s3(&self, conf: &SdkConfig) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(conf)
                .force_path_style(self.endpoint.is_some())
                .interceptor(self.calls.clone())
                .build(),
        )
    }
}
