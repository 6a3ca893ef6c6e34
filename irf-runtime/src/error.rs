//! Handler errors and how Step Functions and EventBridge see them.
//!
//! A handler fails with one of three kinds, which become the Lambda `errorType` and therefore
//! the Step Functions error name: `Irf.Pending` (not finished yet: the workflows' polling
//! actions turn it into `Ready: false`, see `handlers::polled`; it only escapes from a caller
//! that does not poll), `Irf.Retryable` (throttling, a brief outage: retried a few times) and
//! `Irf.Fatal` (anything else: caught, cleaned up, reported). AWS errors are classified, never
//! swallowed.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use irf_core::asl::{ERROR_FATAL, ERROR_PENDING, ERROR_RETRYABLE};

/// A handler failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandlerError {
    /// Not finished yet; poll again.
    #[error("{0}")]
    Pending(String),
    /// A transient failure (throttling, 5xx, timeout); try again.
    #[error("{0}")]
    Retryable(String),
    /// A failure retrying will not fix.
    #[error("{0}")]
    Fatal(String),
}

/// Handler result.
pub type Result<T, E = HandlerError> = std::result::Result<T, E>;

impl HandlerError {
    /// The Step Functions error name.
    pub fn error_name(&self) -> &'static str {
        match self {
            HandlerError::Pending(_) => ERROR_PENDING,
            HandlerError::Retryable(_) => ERROR_RETRYABLE,
            HandlerError::Fatal(_) => ERROR_FATAL,
        }
    }

    /// A fatal error from anything displayable.
    pub fn fatal(m: impl std::fmt::Display) -> Self {
        HandlerError::Fatal(m.to_string())
    }

    /// Adds context in front of the message, keeping the kind.
    pub fn context(self, what: &str) -> Self {
        match self {
            HandlerError::Pending(m) => HandlerError::Pending(format!("{what}: {m}")),
            HandlerError::Retryable(m) => HandlerError::Retryable(format!("{what}: {m}")),
            HandlerError::Fatal(m) => HandlerError::Fatal(format!("{what}: {m}")),
        }
    }
}

impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(e: HandlerError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: e.error_name().to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// Error codes AWS services use for throttling and brief unavailability.
const TRANSIENT_CODES: &[&str] = &[
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

/// How an AWS error should be treated, from its code, HTTP status and whether a response came.
pub fn classify(
    code: Option<&str>,
    status: Option<u16>,
    responded: bool,
) -> fn(String) -> HandlerError {
    if !responded {
        // Timeouts, connection failures: the request may not have reached AWS.
        return HandlerError::Retryable;
    }
    if code.is_some_and(|c| TRANSIENT_CODES.contains(&c))
        || status.is_some_and(|s| s == 429 || s >= 500)
    {
        HandlerError::Retryable
    } else {
        HandlerError::Fatal
    }
}

/// Converts an SDK error, with what was being done, into a classified handler error.
pub fn aws<E>(what: &str, e: SdkError<E, HttpResponse>) -> HandlerError
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    let (code, message, status, responded) = match &e {
        SdkError::ServiceError(se) => (
            se.err().code().map(str::to_owned),
            se.err().message().map(str::to_owned),
            Some(se.raw().status().as_u16()),
            true,
        ),
        SdkError::ResponseError(re) => (None, None, Some(re.raw().status().as_u16()), true),
        _ => (None, None, None, false),
    };
    let detail = match (&code, &message) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.clone(),
        _ => format!(
            "{}",
            aws_smithy_types::error::display::DisplayErrorContext(&e)
        ),
    };
    classify(code.as_deref(), status, responded)(format!("{what}: {detail}"))
}

/// The error code of an SDK service error, if it is one.
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
    fn classification() {
        let kind =
            |code, status, responded| classify(code, status, responded)(String::new()).error_name();
        assert_eq!(
            kind(Some("ThrottlingException"), Some(400), true),
            ERROR_RETRYABLE
        );
        assert_eq!(
            kind(Some("RequestLimitExceeded"), Some(503), true),
            ERROR_RETRYABLE
        );
        assert_eq!(kind(None, Some(500), true), ERROR_RETRYABLE);
        assert_eq!(kind(None, Some(429), true), ERROR_RETRYABLE);
        assert_eq!(kind(None, None, false), ERROR_RETRYABLE);
        assert_eq!(kind(Some("AccessDenied"), Some(403), true), ERROR_FATAL);
        assert_eq!(
            kind(Some("InvalidInstanceID.NotFound"), Some(400), true),
            ERROR_FATAL
        );
    }

    #[test]
    fn diagnostics_carry_the_step_functions_name() {
        let d: lambda_runtime::Diagnostic = HandlerError::Pending("snapshot 40%".into()).into();
        assert_eq!(d.error_type, "Irf.Pending");
        assert_eq!(d.error_message, "snapshot 40%");
        let c = HandlerError::Fatal("denied".into()).context("CreateSnapshot");
        assert_eq!(c.to_string(), "CreateSnapshot: denied");
    }
}
