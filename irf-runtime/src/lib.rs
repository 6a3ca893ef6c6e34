//! The Lambda handlers the IRF templates reference, and the engine behind the responder CLI.
//!
//! Every function runs the same `bootstrap` binary; `IRF_HANDLER` selects the handler (see
//! [`irf_core::handler::Handler`]). Each handler is an async function over a JSON event,
//! returning JSON or a [`HandlerError`] whose kind becomes the Step Functions error name. The
//! same functions run in the tests against the emulator and from the `irf` CLI.

pub mod aws;
pub mod containment;
pub mod custody;
pub mod digests;
pub mod disk;
pub mod error;
pub mod factory;
pub mod handlers;
pub mod imaging;
pub mod memory;
pub mod objects;
pub mod responder;
pub mod slack;
pub mod workflow;

use irf_core::handler::Handler;
use serde_json::Value;
use tracing::Instrument;

pub use error::{ErrorKind, HandlerError};

/// Runs `handler` on `payload`. The case id (when the payload names one) is on every log line.
pub async fn dispatch(
    aws: &aws::Aws,
    handler: Handler,
    payload: Value,
) -> Result<Value, HandlerError> {
    let case_id = payload
        .pointer("/Case/case_id")
        .or_else(|| payload.pointer("/Input/CaseId"))
        .and_then(Value::as_str)
        .unwrap_or("-")
        .to_owned();
    let span = tracing::info_span!("handler", handler = %handler, case_id = %case_id);
    async move {
        // Each handler's future is boxed: one large state machine per handler instead of
        // one nested type the compiler must lay out whole.
        let result = match handler {
            Handler::MemberTag => Box::pin(handlers::member_tag::handle(aws, payload)).await,
            Handler::IncidentTrigger => Box::pin(handlers::trigger::handle(aws, payload)).await,
            Handler::Notify => Box::pin(handlers::notify::handle(aws, payload)).await,
            Handler::SecurityHubAction => {
                Box::pin(handlers::securityhub::handle(aws, payload)).await
            }
            Handler::CaseRecord => Box::pin(handlers::case_record::handle(aws, payload)).await,
            Handler::ModuleFactory => {
                Box::pin(handlers::module_factory::handle(aws, payload)).await
            }
            Handler::DiskImaging => Box::pin(handlers::disk_imaging::handle(aws, payload)).await,
            Handler::MemoryAcquisition => {
                Box::pin(handlers::memory_acquisition::handle(aws, payload)).await
            }
            Handler::DiskSnapshot => Box::pin(handlers::disk_snapshot::handle(aws, payload)).await,
        };
        if let Err(e) = &result {
            tracing::error!(error = %e, kind = e.error_name(), "handler failed");
        }
        result
    }
    .instrument(span)
    .await
}
