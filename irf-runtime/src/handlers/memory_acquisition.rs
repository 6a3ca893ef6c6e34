//! Security account: memory acquisition steps of the case workflow (preflight, capture through
//! presigned URLs, verification, the ISF from the host's symbol bundle, clean-up), over SSM in the
//! member account.

use std::time::Duration;

use irf_core::contract;
use irf_core::env::MemoryAcquisitionEnv;
use irf_core::handler::Handler;
use irf_core::steps::{Capture, Case, MemoryStep, SentCommand};
use serde_json::Value;

use crate::aws::Aws;
use crate::custody::{Custody, Record};
use crate::error::{HandlerError, Result};
use crate::memory::{CommandRunner, IngestBucket, Memory, Ssm};

/// Presigned URLs live this long (bounded by the function's role session).
const URL_LIFETIME: Duration = Duration::from_secs(6 * 3600);

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

/// The engine with the function's environment `env` and `runner`; a malformed
/// `IRF_INGEST_BUCKETS` is an error naming the pair.
pub fn engine<R: CommandRunner>(
    aws: &Aws,
    env: &MemoryAcquisitionEnv,
    runner: R,
) -> Result<Memory<R>> {
    let home = aws.home_region();
    let ingest = env
        .ingest_buckets
        .as_deref()
        .map(irf_core::env::parse_ingest_buckets)
        .transpose()
        .map_err(HandlerError::fatal)?
        .unwrap_or_default()
        .into_iter()
        .map(|(region, bucket)| {
            let s3 = presigning_s3(aws, &region);
            (region, IngestBucket { bucket, s3 })
        })
        .collect();
    Ok(Memory {
        runner,
        evidence: presigning_s3(aws, &home),
        evidence_bucket: env.evidence_bucket.clone(),
        modules: presigning_s3(aws, &home),
        modules_bucket: env.modules_bucket.clone(),
        prefix: env.prefix.clone(),
        methods: env.memory_methods.split(',').map(str::to_owned).collect(),
        url_lifetime: URL_LIFETIME,
        verify_budget: crate::memory::VERIFY_BUDGET,
        ingest,
        copy_part_size: crate::memory::COPY_PART_SIZE,
    })
}

/// Runs the memory step `payload` asks for with `memory` (any runner) and the case's custody
/// ledger.
pub async fn step<R: CommandRunner>(
    memory: &Memory<R>,
    custody: &Custody,
    payload: &Value,
) -> Result<Value> {
    run(
        memory,
        custody,
        super::request(Handler::MemoryAcquisition, payload)?,
    )
    .await
}

/// Runs one memory step with `memory` and the case's custody ledger.
pub async fn run<R: CommandRunner>(
    memory: &Memory<R>,
    custody: &Custody,
    request: MemoryStep,
) -> Result<Value> {
    match request {
        MemoryStep::AgentOnline { case } => {
            super::polled(memory.agent_online(&case).await.and_then(|a| to_value(&a)))
        }
        MemoryStep::StartPreflight { case } => to_value(&memory.start_preflight(&case).await?),
        MemoryStep::PreflightResult { case, command } => {
            super::polled(method_chosen(memory, custody, &case, &command).await)
        }
        MemoryStep::StartCapture { case, method } => {
            to_value(&memory.start_capture(&case, &method.result).await?)
        }
        MemoryStep::CaptureResult { capture, .. } => {
            let receipts = memory.capture_result(&capture).await;
            super::polled(receipts.and_then(|r| to_value(&r)))
        }
        MemoryStep::Verify {
            case,
            capture,
            captured,
            cursor,
        } => to_value(
            &memory
                .verify(&case, &capture, &captured.result, cursor.as_ref(), custody)
                .await?,
        ),
        MemoryStep::BuildSymbols {
            case,
            method,
            capture,
            captured,
        } => to_value(
            // Boxed: the ISF build's future is large, and this match holds every step's.
            &Box::pin(memory.build_symbols(
                &case,
                &method.result,
                &capture,
                &captured.result,
                custody,
            ))
            .await?,
        ),
        MemoryStep::CleanUp {
            case,
            memory: state,
            ..
        } => {
            let capture: Option<Capture> = state
                .pointer("/Capture/Result")
                .and_then(|v| serde_json::from_value(v.clone()).ok());
            let aborted = memory.clean_up(&case, capture.as_ref()).await?;
            Ok(serde_json::json!({ "AbortedUpload": aborted }))
        }
    }
}

fn to_value<T: serde::Serialize>(value: &T) -> Result<Value> {
    serde_json::to_value(value).map_err(HandlerError::fatal)
}

/// The preflight's verdict once it finished, recorded in the custody ledger.
async fn method_chosen<R: CommandRunner>(
    memory: &Memory<R>,
    custody: &Custody,
    case: &Case,
    command: &SentCommand,
) -> Result<Value> {
    let choice = memory.preflight_result(command).await?;
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
    let request: MemoryStep = super::request(Handler::MemoryAcquisition, &payload)?;
    let case = request.case();
    let member = aws
        .assume(&case.account, contract::IR_AUTOMATION_ROLE, &case.region)
        .await?;
    let env = MemoryAcquisitionEnv::from_env().map_err(HandlerError::fatal)?;
    let memory = engine(aws, &env, Ssm(aws.ssm(&member)))?;
    let custody = Custody::connect(aws, &env.evidence_bucket, &env.custody_key_arn).await?;
    run(&memory, &custody, request).await
}
