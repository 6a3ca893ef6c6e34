//! One reading of AWS SDK errors, shared by the deployer (`irf-synth`) and the handlers
//! (`irf-runtime`).
//!
//! [`AwsErrorInfo::of`] takes what matters out of an [`SdkError`] once: the service's error code
//! and message when the service answered, the HTTP status, the request id, and whether the
//! request reached AWS at all. Callers match on [`AwsErrorInfo::code`], never on message text, and
//! print one form ([`fmt::Display`]): `Code: message`, or the cause chain when there was no answer.

use std::fmt;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Error codes AWS services use for throttling and brief unavailability.
pub const TRANSIENT_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "SlowDown",
    "RequestTimeout",
    "RequestTimeoutException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalError",
    "InternalFailure",
    "InternalServerError",
];

/// How many bytes of an unparsed error body are kept for the message.
const BODY_EXCERPT_CHARS: usize = 300;

/// What an SDK error says, read once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsErrorInfo {
    /// The service's error code (`InvalidGroup.Duplicate`, `ThrottlingException`), when it sent one.
    pub code: Option<String>,
    /// The service's error message, when it sent one.
    pub message: Option<String>,
    /// HTTP status of the response, when one came.
    pub status: Option<u16>,
    /// The request id AWS assigned, for support cases and CloudTrail look-ups.
    pub request_id: Option<String>,
    /// Whether a response came back at all: without one (timeout, connection failure) the
    /// request may never have reached AWS.
    pub responded: bool,
    /// The rendered cause chain, used when the service gave neither code nor message.
    detail: String,
}

impl AwsErrorInfo {
    /// Reads an SDK error.
    pub fn of<E>(e: &SdkError<E, HttpResponse>) -> Self
    where
        E: std::error::Error + ProvideErrorMetadata + 'static,
    {
        match e {
            SdkError::ServiceError(se) => {
                let err = se.err();
                let raw = se.raw();
                let detail = if err.code().is_none() && err.message().is_none() {
                    let body = raw
                        .body()
                        .bytes()
                        .map(|b| {
                            String::from_utf8_lossy(b)
                                .chars()
                                .take(BODY_EXCERPT_CHARS)
                                .collect::<String>()
                        })
                        .unwrap_or_default();
                    format!(
                        "HTTP {} without an error code (an emulator answers 500 for calls it does not implement; see its log): {body}",
                        raw.status().as_u16()
                    )
                } else {
                    DisplayErrorContext(e).to_string()
                };
                AwsErrorInfo {
                    code: err.code().map(str::to_owned),
                    message: err.message().map(str::to_owned),
                    status: Some(raw.status().as_u16()),
                    request_id: err.meta().extra("aws_request_id").map(str::to_owned),
                    responded: true,
                    detail,
                }
            }
            SdkError::ResponseError(re) => AwsErrorInfo {
                code: None,
                message: None,
                status: Some(re.raw().status().as_u16()),
                request_id: None,
                responded: true,
                detail: DisplayErrorContext(e).to_string(),
            },
            other => AwsErrorInfo {
                code: None,
                message: None,
                status: None,
                request_id: None,
                responded: false,
                detail: DisplayErrorContext(other).to_string(),
            },
        }
    }

    /// An error read from parts, for errors that arrive as data (a Step Functions cause, a
    /// batch API's per-item failure) rather than as an [`SdkError`].
    pub fn from_parts(
        code: Option<&str>,
        message: Option<&str>,
        status: Option<u16>,
        responded: bool,
    ) -> Self {
        AwsErrorInfo {
            code: code.map(str::to_owned),
            message: message.map(str::to_owned),
            status,
            request_id: None,
            responded,
            detail: String::from("no response from the service"),
        }
    }

    /// The service's error code, if it sent one.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// Whether the error has exactly this code.
    pub fn is(&self, code: &str) -> bool {
        self.code() == Some(code)
    }

    /// Whether trying again later may succeed: no response came, the code is one of
    /// [`TRANSIENT_CODES`], or the status is 429 or 5xx.
    pub fn is_transient(&self) -> bool {
        !self.responded
            || self.code().is_some_and(|c| TRANSIENT_CODES.contains(&c))
            || self.status.is_some_and(|s| s == 429 || s >= 500)
    }
}

impl fmt::Display for AwsErrorInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.code, &self.message) {
            (Some(c), Some(m)) => write!(f, "{c}: {m}"),
            (Some(c), None) => f.write_str(c),
            (None, Some(m)) => f.write_str(m),
            (None, None) => f.write_str(&self.detail),
        }
    }
}

/// The one-line description of an SDK error ([`AwsErrorInfo`]'s display form).
pub fn describe<E>(e: &SdkError<E, HttpResponse>) -> String
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    AwsErrorInfo::of(e).to_string()
}

/// The error code of an SDK error, if the service sent one.
pub fn code<E, R>(e: &SdkError<E, R>) -> Option<&str>
where
    E: ProvideErrorMetadata,
{
    match e {
        SdkError::ServiceError(se) => se.err().code(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_by_code_status_or_missing_response() {
        let t = |code, status, responded| {
            AwsErrorInfo::from_parts(code, None, status, responded).is_transient()
        };
        assert!(t(Some("ThrottlingException"), Some(400), true));
        assert!(t(Some("RequestLimitExceeded"), Some(503), true));
        assert!(t(None, Some(500), true));
        assert!(t(None, Some(429), true));
        assert!(t(None, None, false));
        assert!(!t(Some("AccessDenied"), Some(403), true));
        assert!(!t(Some("InvalidInstanceID.NotFound"), Some(400), true));
    }

    #[test]
    fn display_prefers_code_and_message() {
        let e = AwsErrorInfo::from_parts(Some("AccessDenied"), Some("no"), Some(403), true);
        assert_eq!(e.to_string(), "AccessDenied: no");
        assert!(e.is("AccessDenied"));
        let e = AwsErrorInfo::from_parts(Some("AccessDenied"), None, Some(403), true);
        assert_eq!(e.to_string(), "AccessDenied");
        let e = AwsErrorInfo::from_parts(None, None, None, false);
        assert_eq!(e.to_string(), "no response from the service");
    }
}
