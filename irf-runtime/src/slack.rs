//! Posting to Slack through an incoming webhook whose URL lives in Secrets Manager.

use std::time::Duration;

use tokio::sync::OnceCell;

use crate::error::{self, HandlerError, Result};

/// A Slack channel reached through a webhook.
pub struct Slack {
    http: reqwest::Client,
    secrets: aws_sdk_secretsmanager::Client,
    secret_arn: String,
    channel: String,
    webhook: OnceCell<String>,
    /// Attempts per message (first try included).
    pub attempts: u32,
    /// First backoff; doubles per attempt.
    pub backoff: Duration,
}

/// Never shows the webhook URL (a credential), only whether it was fetched.
impl std::fmt::Debug for Slack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slack")
            .field("secret_arn", &self.secret_arn)
            .field("channel", &self.channel)
            .field("webhook_fetched", &self.webhook.get().is_some())
            .field("attempts", &self.attempts)
            .field("backoff", &self.backoff)
            .finish_non_exhaustive()
    }
}

impl Slack {
    /// A client for the webhook stored in `secret_arn` (read once, then cached).
    pub fn new(
        secrets: aws_sdk_secretsmanager::Client,
        secret_arn: &str,
        channel: &str,
    ) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| HandlerError::fatal(format!("HTTP client: {e}")))?;
        Ok(Slack {
            http,
            secrets,
            secret_arn: secret_arn.to_owned(),
            channel: channel.to_owned(),
            webhook: OnceCell::new(),
            attempts: 4,
            backoff: Duration::from_millis(500),
        })
    }

    async fn webhook(&self) -> Result<&str> {
        self.webhook
            .get_or_try_init(|| async {
                let out = self
                    .secrets
                    .get_secret_value()
                    .secret_id(&self.secret_arn)
                    .send()
                    .await
                    .map_err(|e| {
                        error::aws(
                            &format!("secretsmanager:GetSecretValue {}", self.secret_arn),
                            e,
                        )
                    })?;
                let value = out.secret_string().unwrap_or_default().trim().to_owned();
                // Either the URL itself or {"url": "..."} / {"webhook_url": "..."}.
                let url = match serde_json::from_str::<serde_json::Value>(&value) {
                    Ok(v) => v
                        .get("url")
                        .or_else(|| v.get("webhook_url"))
                        .and_then(|u| u.as_str())
                        .map(str::to_owned)
                        .unwrap_or_default(),
                    Err(_) => value,
                };
                if !url.starts_with("https://") && !url.starts_with("http://127.0.0.1") {
                    return Err(HandlerError::fatal(format!(
                        "secret {} does not hold a webhook URL",
                        self.secret_arn
                    )));
                }
                Ok(url)
            })
            .await
            .map(String::as_str)
    }

    /// Posts `text`, retrying rate limits (honouring Retry-After) and server errors with
    /// backoff; a rejected request fails at once with the status Slack returned.
    pub async fn post(&self, text: &str) -> Result<()> {
        let url = self.webhook().await?.to_owned();
        let body = serde_json::json!({ "channel": self.channel, "text": text });
        let mut wait = self.backoff;
        let mut last = String::new();
        for attempt in 1..=self.attempts {
            match self.http.post(&url).json(&body).send().await {
                Ok(resp) if resp.status().is_success() => return Ok(()),
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let retry_after = resp
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<u64>().ok())
                        .map(|s| Duration::from_secs(s.min(10)));
                    let text = resp.text().await.unwrap_or_default();
                    last = format!(
                        "Slack answered {status}: {}",
                        text.chars().take(200).collect::<String>()
                    );
                    if status != 429 && status < 500 {
                        return Err(HandlerError::fatal(last));
                    }
                    if attempt < self.attempts {
                        tokio::time::sleep(retry_after.unwrap_or(wait)).await;
                    }
                }
                Err(e) => {
                    last = format!("Slack unreachable: {e}");
                    if attempt < self.attempts {
                        tokio::time::sleep(wait).await;
                    }
                }
            }
            wait *= 2;
        }
        Err(HandlerError::retryable(format!(
            "{last} (after {} attempts)",
            self.attempts
        )))
    }
}
