//! Handler errors and how Step Functions and EventBridge see them.
//!
//! A handler fails with one of three kinds, which become the Lambda `errorType` and therefore
//! the Step Functions error name: `Irf.Pending` (not finished yet: the workflows' polling
//! actions turn it into `Ready: false`, see `handlers::polled`; it only escapes from a caller
//! that does not poll), `Irf.Retryable` (throttling, a brief outage: retried a few times) and
//! `Irf.Fatal` (anything else: caught, cleaned up, reported). AWS errors are classified by
//! [`irf_sdk_error`], never swallowed.
//!
//! A [`HandlerError`] keeps its cause: the operation that failed, the AWS error's code, message,
//! status and request id when an AWS call failed, and the source error itself. Callers decide on
//! [`HandlerError::kind`] and [`HandlerError::aws_code`], never on message text; the message
//! ([`fmt::Display`]) is for operators: `operation: Code: message`.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use irf_core::asl::{ERROR_FATAL, ERROR_PENDING, ERROR_RETRYABLE};
use irf_sdk_error::AwsErrorInfo;

/// How the workflows treat a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Not finished yet; poll again.
    Pending,
    /// A transient failure (throttling, 5xx, timeout); try again.
    Retryable,
    /// A failure retrying will not fix.
    Fatal,
}

impl ErrorKind {
    /// The Step Functions error name (the Lambda `errorType`) the workflows catch and retry on.
    pub fn error_name(self) -> &'static str {
        match self {
            ErrorKind::Pending => ERROR_PENDING,
            ErrorKind::Retryable => ERROR_RETRYABLE,
            ErrorKind::Fatal => ERROR_FATAL,
        }
    }
}

/// A handler failure: its kind, what was being done, and the cause. One pointer wide, so
/// results stay small.
#[derive(Clone, Debug)]
pub struct HandlerError(Box<Inner>);

#[derive(Clone, Debug)]
struct Inner {
    kind: ErrorKind,
    /// Context added by callers ([`HandlerError::context`]), outermost first.
    context: Vec<String>,
    operation: String,
    aws: Option<AwsErrorInfo>,
    /// The error that caused this one (the SDK error of a failed AWS call). Shared, so a
    /// handler error stays cheap to clone.
    source: Option<Arc<dyn StdError + Send + Sync + 'static>>,
}

/// Handler result.
pub type Result<T, E = HandlerError> = std::result::Result<T, E>;

impl HandlerError {
    /// An error of `kind` that `what` describes completely (no AWS call or source behind it).
    pub fn new(kind: ErrorKind, what: impl Into<String>) -> Self {
        HandlerError(Box::new(Inner {
            kind,
            context: Vec::new(),
            operation: what.into(),
            aws: None,
            source: None,
        }))
    }

    /// An error of `kind` while doing `what`, caused by `source`; the message is
    /// `what: source`.
    pub fn caused_by(
        kind: ErrorKind,
        what: impl Into<String>,
        source: impl StdError + Send + Sync + 'static,
    ) -> Self {
        let mut e = HandlerError::new(kind, what);
        e.0.source = Some(Arc::new(source));
        e
    }

    /// A failed AWS call: `what` names the call and its target (`ec2:CreateSecurityGroup sg in
    /// vpc-1`); retryable when [`AwsErrorInfo::is_transient`], fatal otherwise.
    pub fn from_aws<E>(what: impl Into<String>, e: SdkError<E, HttpResponse>) -> Self
    where
        E: StdError + ProvideErrorMetadata + Send + Sync + 'static,
    {
        let info = AwsErrorInfo::of(&e);
        let kind = if info.is_transient() {
            ErrorKind::Retryable
        } else {
            ErrorKind::Fatal
        };
        let mut error = HandlerError::new(kind, what);
        error.0.aws = Some(info);
        error.0.source = Some(Arc::new(e));
        error
    }

    /// Not finished yet: `why` says what is being waited for.
    pub fn pending(why: impl Into<String>) -> Self {
        HandlerError::new(ErrorKind::Pending, why)
    }

    /// A transient failure described by `what`.
    pub fn retryable(what: impl Into<String>) -> Self {
        HandlerError::new(ErrorKind::Retryable, what)
    }

    /// A fatal error from anything displayable.
    pub fn fatal(m: impl fmt::Display) -> Self {
        HandlerError::new(ErrorKind::Fatal, m.to_string())
    }

    /// Same as [`HandlerError::pending`]; the spelling of the handlers' call sites, which
    /// predate the structured error.
    #[allow(non_snake_case)]
    pub fn Pending(why: String) -> Self {
        HandlerError::pending(why)
    }

    /// Same as [`HandlerError::retryable`]; the spelling of the handlers' call sites, which
    /// predate the structured error.
    #[allow(non_snake_case)]
    pub fn Retryable(what: String) -> Self {
        HandlerError::retryable(what)
    }

    /// Same as [`HandlerError::new`] with [`ErrorKind::Fatal`]; the spelling of the handlers'
    /// call sites, which predate the structured error.
    #[allow(non_snake_case)]
    pub fn Fatal(what: String) -> Self {
        HandlerError::new(ErrorKind::Fatal, what)
    }

    /// How the workflows treat this failure.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The Step Functions error name.
    pub fn error_name(&self) -> &'static str {
        self.0.kind.error_name()
    }

    /// What was being done when the error happened (`ec2:DescribeInstances i-1`), or for an
    /// error that no call or source caused, what went wrong; without the callers' context.
    pub fn operation(&self) -> &str {
        &self.0.operation
    }

    /// The AWS error, when an AWS call failed.
    pub fn aws(&self) -> Option<&AwsErrorInfo> {
        self.0.aws.as_ref()
    }

    /// The AWS error code, when an AWS call failed and the service sent one.
    pub fn aws_code(&self) -> Option<&str> {
        self.0.aws.as_ref().and_then(AwsErrorInfo::code)
    }

    /// Whether an AWS call failed with exactly this error code.
    pub fn is_aws_code(&self, code: &str) -> bool {
        self.aws_code() == Some(code)
    }

    /// Adds context in front of the message, keeping the kind and the cause.
    #[must_use]
    pub fn context(mut self, what: &str) -> Self {
        self.0.context.insert(0, what.to_owned());
        self
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.0;
        for c in &e.context {
            write!(f, "{c}: ")?;
        }
        f.write_str(&e.operation)?;
        match (&e.aws, &e.source) {
            (Some(aws), _) => write!(f, ": {aws}"),
            (None, Some(source)) => write!(f, ": {source}"),
            (None, None) => Ok(()),
        }
    }
}

impl StdError for HandlerError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

/// Two errors are equal when they have the same kind, context, operation and AWS error, and
/// sources that say the same (a source has no equality of its own).
impl PartialEq for HandlerError {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (&self.0, &other.0);
        a.kind == b.kind
            && a.context == b.context
            && a.operation == b.operation
            && a.aws == b.aws
            && a.source.as_ref().map(ToString::to_string)
                == b.source.as_ref().map(ToString::to_string)
    }
}

impl Eq for HandlerError {}

impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(e: HandlerError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: e.error_name().to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// Converts an SDK error, with what was being done, into a classified handler error
/// ([`HandlerError::from_aws`]).
pub fn aws<E>(what: &str, e: SdkError<E, HttpResponse>) -> HandlerError
where
    E: StdError + ProvideErrorMetadata + Send + Sync + 'static,
{
    HandlerError::from_aws(what, e)
}

/// The error code of an SDK service error, if it is one.
pub fn code<E, R>(e: &SdkError<E, R>) -> Option<&str>
where
    E: ProvideErrorMetadata,
{
    irf_sdk_error::code(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::operation::create_security_group::CreateSecurityGroupError;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    /// An EC2 service error as the SDK returns it.
    fn service_error(
        status: u16,
        code: &str,
        message: &str,
    ) -> SdkError<CreateSecurityGroupError, HttpResponse> {
        let err = CreateSecurityGroupError::generic(
            ErrorMetadata::builder().code(code).message(message).build(),
        );
        let raw = HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
        SdkError::service_error(err, raw)
    }

    #[test]
    fn kinds_become_the_step_functions_error_names() {
        assert_eq!(ErrorKind::Pending.error_name(), "Irf.Pending");
        assert_eq!(ErrorKind::Retryable.error_name(), "Irf.Retryable");
        assert_eq!(ErrorKind::Fatal.error_name(), "Irf.Fatal");
        assert_eq!(ERROR_PENDING, "Irf.Pending");
        assert_eq!(HandlerError::retryable("x").error_name(), ERROR_RETRYABLE);
        assert_eq!(HandlerError::Fatal("x".into()).kind(), ErrorKind::Fatal);
        assert_eq!(HandlerError::Pending("x".into()).kind(), ErrorKind::Pending);
    }

    #[test]
    fn diagnostics_carry_the_step_functions_name() {
        let d: lambda_runtime::Diagnostic = HandlerError::pending("snapshot 40%").into();
        assert_eq!(d.error_type, "Irf.Pending");
        assert_eq!(d.error_message, "snapshot 40%");
        let c = HandlerError::fatal("denied").context("CreateSnapshot");
        assert_eq!(c.to_string(), "CreateSnapshot: denied");
        assert_eq!(c.operation(), "denied");
        assert_eq!(c.kind(), ErrorKind::Fatal);
    }

    #[test]
    fn an_aws_error_keeps_its_operation_code_and_source() {
        let e = aws(
            "ec2:CreateSecurityGroup sg in vpc-1",
            service_error(400, "InvalidGroup.Duplicate", "The group exists"),
        );
        assert_eq!(
            e.to_string(),
            "ec2:CreateSecurityGroup sg in vpc-1: InvalidGroup.Duplicate: The group exists"
        );
        assert_eq!(e.kind(), ErrorKind::Fatal);
        assert_eq!(e.operation(), "ec2:CreateSecurityGroup sg in vpc-1");
        assert_eq!(e.aws_code(), Some("InvalidGroup.Duplicate"));
        assert!(e.is_aws_code("InvalidGroup.Duplicate"));
        assert!(!e.is_aws_code("InvalidGroup.NotFound"));
        assert_eq!(e.aws().and_then(|a| a.status), Some(400));

        // The source is the SDK error itself, and under it the service's error.
        let source = e.source().expect("a source");
        let sdk = source
            .downcast_ref::<SdkError<CreateSecurityGroupError, HttpResponse>>()
            .expect("the SDK error");
        assert_eq!(code(sdk), Some("InvalidGroup.Duplicate"));
        let service = source.source().expect("the service error");
        assert!(
            service.downcast_ref::<CreateSecurityGroupError>().is_some(),
            "{service:?}"
        );

        // Context goes in front of the message and keeps the cause.
        let c = e.clone().context("containment of i-1");
        assert_eq!(
            c.to_string(),
            "containment of i-1: ec2:CreateSecurityGroup sg in vpc-1: InvalidGroup.Duplicate: The group exists"
        );
        assert!(c.is_aws_code("InvalidGroup.Duplicate"));
        assert!(c.source().is_some());
        assert_ne!(c, e);
        assert_eq!(e.clone(), e);
    }

    #[test]
    fn aws_errors_are_retryable_when_irf_sdk_error_calls_them_transient() {
        let kind = |status, code| aws("op", service_error(status, code, "m")).kind();
        assert_eq!(kind(400, "ThrottlingException"), ErrorKind::Retryable);
        assert_eq!(kind(503, "RequestLimitExceeded"), ErrorKind::Retryable);
        assert_eq!(kind(500, "AnythingAtAll"), ErrorKind::Retryable);
        assert_eq!(kind(429, "TooMany"), ErrorKind::Retryable);
        assert_eq!(kind(403, "AccessDenied"), ErrorKind::Fatal);
        assert_eq!(kind(400, "InvalidInstanceID.NotFound"), ErrorKind::Fatal);

        // No response at all: the request may never have reached AWS.
        let timeout: SdkError<CreateSecurityGroupError, HttpResponse> =
            SdkError::dispatch_failure(ConnectorError::timeout("read timed out".into()));
        let e = aws("ec2:CreateSecurityGroup sg", timeout);
        assert_eq!(e.kind(), ErrorKind::Retryable);
        assert_eq!(e.aws_code(), None);
        assert!(
            e.to_string().starts_with("ec2:CreateSecurityGroup sg: "),
            "{e}"
        );
        assert!(e.source().is_some());
    }

    #[test]
    fn a_source_that_is_not_aws_is_kept_and_shown() {
        let parse = serde_json::from_str::<u8>("x").unwrap_err();
        let shown = parse.to_string();
        let e = HandlerError::caused_by(ErrorKind::Fatal, "record /irf/x is not valid", parse);
        assert_eq!(
            e.to_string(),
            format!("record /irf/x is not valid: {shown}")
        );
        assert_eq!(e.aws_code(), None);
        assert!(e.source().is_some_and(|s| s.is::<serde_json::Error>()));
        let plain = HandlerError::retryable("not visible yet");
        assert!(plain.source().is_none());
        assert_eq!(plain.to_string(), "not visible yet");
    }
}
