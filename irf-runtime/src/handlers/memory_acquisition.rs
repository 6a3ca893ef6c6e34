//! Security account: memory acquisition steps of the case workflow (preflight, capture through
//! presigned URLs, verification, clean-up), over SSM in the member account.

use std::time::Duration;

use irf_core::contract;
use serde_json::Value;

use crate::aws::{Aws, env};
use crate::custody::{Custody, Record};
use crate::error::{HandlerError, Result};
use crate::handlers::case_record::Case;
use crate::memory::{Capture, CommandRunner, Memory, MethodChoice, Receipts, SentCommand, Ssm};

/// Presigned URLs live this long (bounded by the function's role session).
const URL_LIFETIME: Duration = Duration::from_secs(6 * 3600);

fn field<T: serde::de::DeserializeOwned>(payload: &Value, name: &str) -> Result<T> {
    super::input(payload, &format!("/{name}"), "memory")
}

/// An S3 client that presigns plain URLs: no default checksum parameters, which a host's
/// plain `PUT` could not satisfy.
pub fn presigning_s3(aws: &Aws, region: &str) -> aws_sdk_s3::Client {
    let base = aws.s3(&aws.here(region));
    aws_sdk_s3::Client::from_conf(
        base.config()
            .to_builder()
            .request_checksum_calculation(
                aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired,
            )
            .build(),
    )
}

/// The engine for `case` with the function's environment and `runner`.
pub fn engine<R: CommandRunner>(aws: &Aws, runner: R) -> Result<Memory<R>> {
    let home = aws.home_region();
    Ok(Memory {
        runner,
        evidence: presigning_s3(aws, &home),
        evidence_bucket: env("IRF_EVIDENCE_BUCKET")?,
        modules: presigning_s3(aws, &home),
        modules_bucket: env("IRF_MODULES_BUCKET")?,
        prefix: env("IRF_PREFIX")?,
        methods: env("IRF_MEMORY_METHODS")?
            .split(',')
            .map(str::to_owned)
            .collect(),
        url_lifetime: URL_LIFETIME,
    })
}

/// Runs one memory step with `memory` (any runner) and the case's custody ledger.
pub async fn step<R: CommandRunner>(
    memory: &Memory<R>,
    custody: &Custody,
    payload: &Value,
) -> Result<Value> {
    let case: Case = field(payload, "Case")?;
    let action = payload
        .get("Action")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let out = match action {
        "StartPreflight" => serde_json::to_value(memory.start_preflight(&case).await?),
        "PreflightResult" => {
            return super::polled(method_chosen(memory, custody, &case, payload).await);
        }
        "StartCapture" => {
            let choice: MethodChoice = field(payload, "Method")?;
            serde_json::to_value(memory.start_capture(&case, &choice).await?)
        }
        "CaptureResult" => {
            let capture: Capture = field(payload, "Capture")?;
            let receipts = memory.capture_result(&capture).await;
            return super::polled(receipts.and_then(|r| to_value(&r)));
        }
        "Verify" => {
            let capture: Capture = field(payload, "Capture")?;
            let receipts: Receipts = field(payload, "Captured")?;
            serde_json::to_value(memory.verify(&case, &capture, &receipts, custody).await?)
        }
        "CleanUp" => {
            let capture: Option<Capture> = payload
                .pointer("/Memory/Capture/Result")
                .and_then(|v| serde_json::from_value(v.clone()).ok());
            let aborted = memory.clean_up(capture.as_ref()).await?;
            Ok(serde_json::json!({ "AbortedUpload": aborted }))
        }
        other => {
            return Err(HandlerError::Fatal(format!(
                "memory-acquisition has no action {other:?}"
            )));
        }
    };
    out.map_err(HandlerError::fatal)
}

fn to_value<T: serde::Serialize>(value: &T) -> Result<Value> {
    serde_json::to_value(value).map_err(HandlerError::fatal)
}

/// The preflight's verdict once it finished, recorded in the custody ledger.
async fn method_chosen<R: CommandRunner>(
    memory: &Memory<R>,
    custody: &Custody,
    case: &Case,
    payload: &Value,
) -> Result<Value> {
    let command: SentCommand = field(payload, "Command")?;
    let choice = memory.preflight_result(&command).await?;
    custody
        .append(
            &case.case_id,
            Record {
                id: "memory-method".to_owned(),
                action: "memory-method-chosen".to_owned(),
                method: Some(choice.method.clone()),
                reason: Some(choice.reason.clone()),
                sources: [
                    ("instance".to_owned(), case.instance_id.clone()),
                    ("ssm_command".to_owned(), command.command_id.clone()),
                ]
                .into_iter()
                .collect(),
                ..Record::default()
            },
        )
        .await?;
    to_value(&choice)
}

/// Handles a memory step in Lambda: SSM through `IRAutomation` in the member account.
pub async fn handle(aws: &Aws, payload: Value) -> Result<Value> {
    let case: Case = field(&payload, "Case")?;
    let member = aws
        .assume(&case.account, contract::IR_AUTOMATION_ROLE, &case.region)
        .await?;
    let memory = engine(aws, Ssm(aws.ssm(&member)))?;
    let custody = Custody::from_env(aws).await?;
    step(&memory, &custody, &payload).await
}
