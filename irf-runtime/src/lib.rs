//! The Lambda handlers the IRF templates reference.
//!
//! Every function runs the same `bootstrap` binary; `IRF_HANDLER` selects the handler
//! (see [`irf_core::handler::Handler`]).

use irf_core::handler::Handler;
use serde_json::Value;

/// Runs `handler` on `payload`.
pub async fn dispatch(handler: Handler, payload: Value) -> Result<Value, lambda_runtime::Error> {
    let _ = payload;
    Err(format!("handler {handler} is not available in this build of irf-runtime").into())
}
