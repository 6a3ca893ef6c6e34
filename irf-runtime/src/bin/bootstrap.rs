//! The Lambda `bootstrap` of every IRF function: `IRF_HANDLER` selects the handler.

use irf_core::handler::{HANDLER_ENV, Handler};
use irf_runtime::aws::Aws;
use lambda_runtime::{Diagnostic, Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .without_time()
        .init();
    let name = std::env::var(HANDLER_ENV).map_err(|_| format!("{HANDLER_ENV} is not set"))?;
    let handler: Handler = name.parse()?;
    let aws = Aws::from_env().await;
    let aws = &aws;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        irf_runtime::dispatch(aws, handler, event.payload)
            .await
            .map_err(Diagnostic::from)
    }))
    .await
}
