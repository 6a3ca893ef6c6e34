//! HTTP: fetching the plan and PUTting parts to presigned S3 `UploadPart` URLs.
//!
//! Every request is plain HTTP/1.1 through `ureq` with rustls (webpki roots built in, so the
//! host's CA bundle is not needed). A part PUT carries `Content-Length` and no `x-amz-*` header
//! (presigned URLs reject unsigned `x-amz-*` headers), and no `Content-MD5`: the host computes
//! SHA-256 only ([`crate::hash`]); TLS protects each part in transit and the Lambda's verification
//! compares the stored image's SHA-256 with the host's. No credentials are ever sent or held: the URLs are the authorization.
//!
//! Retries: a connection error, a 5xx or a 429 is retried, up to [`RetryPolicy::attempts`] attempts
//! in all, waiting [`RetryPolicy::first_backoff`] and doubling between attempts; the same bytes are
//! sent again. Any other non-2xx status fails at once with the status and the first 300 bytes of
//! the body.

use std::io::{self, Read};
use std::thread;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::plan::redact_url;

/// How failed requests are retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// Wait before the second attempt; it doubles before each further one.
    pub first_backoff: Duration,
}

impl Default for RetryPolicy {
    /// 5 attempts, 250 ms doubling (250, 500, 1000, 2000 ms).
    fn default() -> Self {
        Self {
            attempts: 5,
            first_backoff: Duration::from_millis(250),
        }
    }
}

/// How many bytes of an error response body are quoted in the error.
pub const ERROR_BODY_BYTES: u64 = 300;
/// Largest plan document read (a 10,000-part plan of long presigned URLs is ~20 MB).
pub const MAX_PLAN_BYTES: u64 = 64 << 20;

/// The outcome of one attempt.
enum Attempt<T> {
    Done(T),
    /// Worth another attempt; the reason is kept for the final error.
    Retry(String),
    /// Final failure.
    Fail(String),
}

/// A part that S3 accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartReceipt {
    /// S3 part number, from 1.
    pub number: u32,
    /// The `ETag` response header, as sent (quotes included).
    pub etag: String,
    /// Attempts it took (1 when the first one succeeded).
    pub attempts: u32,
}

/// The HTTP client: one connection pool, reused across parts.
#[derive(Debug, Clone)]
pub struct Client {
    agent: ureq::Agent,
    retry: RetryPolicy,
}

impl Client {
    /// A client with the given retry policy.
    pub fn new(retry: RetryPolicy) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // A presigned URL never redirects; a 3xx is reported as a failure, not followed.
            .max_redirects(0)
            .max_redirects_will_error(false)
            .user_agent(concat!("irf-memdump/", env!("CARGO_PKG_VERSION")))
            .accept_encoding("")
            .timeout_connect(Some(Duration::from_secs(15)))
            .timeout_per_write(Some(Duration::from_secs(60)))
            .timeout_recv_response(Some(Duration::from_secs(120)))
            .timeout_recv_body(Some(Duration::from_secs(120)))
            .output_buffer_size(1 << 20)
            .build();
        Self {
            agent: config.into(),
            retry,
        }
    }

    /// GETs a small text document (the plan) with the retry policy.
    pub fn get_text(&self, url: &str) -> Result<String> {
        let shown = redact_url(url);
        self.with_retries(|| self.get_once(url))
            .map(|(text, _)| text)
            .map_err(|reason| Error::PlanUnreadable {
                what: shown.clone(),
                reason: redact(&reason, url),
            })
    }

    fn get_once(&self, url: &str) -> Attempt<String> {
        match self.agent.get(url).call() {
            Ok(mut resp) => {
                let status = resp.status();
                if status.is_success() {
                    match resp
                        .body_mut()
                        .with_config()
                        .limit(MAX_PLAN_BYTES)
                        .read_to_string()
                    {
                        Ok(text) => Attempt::Done(text),
                        Err(e) => Attempt::Retry(format!("reading the body: {e}")),
                    }
                } else {
                    classify_status(status, &mut resp)
                }
            }
            Err(e) => classify_transport(e),
        }
    }

    /// PUTs one part and returns S3's receipt.
    pub fn put_part(&self, number: u32, url: &str, body: &[u8]) -> Result<PartReceipt> {
        self.with_retries(|| self.put_once(url, body))
            .map(|(etag, attempts)| PartReceipt {
                number,
                etag,
                attempts,
            })
            .map_err(|reason| Error::Upload {
                part: number,
                reason: redact(&reason, url),
            })
    }

    /// PUTs a small document (the receipts) to a presigned `PutObject` URL.
    pub fn put_document(&self, url: &str, body: &[u8]) -> Result<()> {
        self.with_retries(|| self.put_once(url, body))
            .map(|_| ())
            .map_err(|reason| Error::Receipts(redact(&reason, url)))
    }

    /// PUTs one file of the symbol bundle to its presigned `PutObject` URL.
    pub fn put_symbol_file(&self, name: &str, url: &str, body: &[u8]) -> Result<()> {
        self.with_retries(|| self.put_once(url, body))
            .map(|_| ())
            .map_err(|reason| Error::SymbolUpload {
                file: name.to_owned(),
                reason: redact(&reason, url),
            })
    }

    fn put_once(&self, url: &str, body: &[u8]) -> Attempt<String> {
        match self.agent.put(url).send(body) {
            Ok(mut resp) => {
                let status = resp.status();
                if !status.is_success() {
                    return classify_status(status, &mut resp);
                }
                let etag = resp
                    .headers()
                    .get("etag")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                // Read the (empty) body to the end so the connection goes back to the pool.
                let _ = io::copy(&mut resp.body_mut().as_reader(), &mut io::sink());
                match etag {
                    Some(etag) if !etag.is_empty() => Attempt::Done(etag),
                    _ => Attempt::Fail(format!("HTTP {} without an ETag header", status.as_u16())),
                }
            }
            Err(e) => classify_transport(e),
        }
    }

    /// Runs `attempt` until it is done, fails, or the attempts are used up.
    fn with_retries<T>(&self, mut attempt: impl FnMut() -> Attempt<T>) -> Result<(T, u32), String> {
        let mut backoff = self.retry.first_backoff;
        let attempts = self.retry.attempts.max(1);
        let mut n = 1;
        loop {
            match attempt() {
                Attempt::Done(v) => return Ok((v, n)),
                Attempt::Fail(why) => return Err(why),
                Attempt::Retry(why) if n >= attempts => {
                    return Err(format!("{why} (gave up after {n} attempts)"));
                }
                Attempt::Retry(_) => {
                    thread::sleep(backoff);
                    backoff = backoff.saturating_mul(2);
                    n += 1;
                }
            }
        }
    }
}

impl Default for Client {
    fn default() -> Self {
        Self::new(RetryPolicy::default())
    }
}

/// Retry on 5xx and 429, fail on anything else; the message quotes the start of the body.
fn classify_status<T>(
    status: ureq::http::StatusCode,
    resp: &mut ureq::http::Response<ureq::Body>,
) -> Attempt<T> {
    let mut head = Vec::new();
    let _ = resp
        .body_mut()
        .as_reader()
        .take(ERROR_BODY_BYTES)
        .read_to_end(&mut head);
    let body = String::from_utf8_lossy(&head);
    let reason = status.canonical_reason().unwrap_or("");
    let why = format!("HTTP {} {reason}: {}", status.as_u16(), body.trim());
    if status.is_server_error() || status.as_u16() == 429 {
        Attempt::Retry(why)
    } else {
        Attempt::Fail(why)
    }
}

/// Transport errors are retried, except those no retry can fix.
fn classify_transport<T>(e: ureq::Error) -> Attempt<T> {
    match e {
        ureq::Error::BadUri(_) | ureq::Error::Http(_) | ureq::Error::InvalidProxyUrl => {
            Attempt::Fail(e.to_string())
        }
        e => Attempt::Retry(e.to_string()),
    }
}

/// Removes the URL's query (signature and session token) from a message.
fn redact(message: &str, url: &str) -> String {
    match url.split_once('?') {
        Some((_, query)) if !query.is_empty() => message.replace(query, "<signature redacted>"),
        _ => message.to_string(),
    }
}
