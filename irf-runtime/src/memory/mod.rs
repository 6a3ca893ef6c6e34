//! Memory acquisition over SSM Run Command, with no credentials on the host.
//!
//! 1. **Preflight** runs the read-only preflight document; its JSON line says which method the
//!    host allows (`kcore` or `lime`, in the configured order) and why.
//! 2. **Capture** opens a multipart upload for `<CaseId>/<Account>/<Instance>/memory/<Instance>.lime`,
//!    presigns one `UploadPart` URL per part (enough parts for the host's RAM with margin), one
//!    `PutObject` URL for the streamer's receipts and one per file of the kernel's symbol bundle,
//!    writes that plan beside the image and presigns it, presigns the streamer binary (and the LiME
//!    module) from the modules bucket with their SHA-256s, and sends the capture document. The host
//!    downloads, checks the hashes, uploads the symbol bundle, streams memory through `irf-memdump`
//!    (SHA-256 while streaming) and writes its receipts.
//! 3. **Verify** completes the upload with the receipts' ETags (S3 checks each), re-reads the
//!    whole object computing SHA-256 and MD5 (the MD5 is computed here only, never on the host),
//!    compares the SHA-256 with the host's, writes the `.sha256`/`.md5` sidecars and records the
//!    artifact in the custody ledger.
//! 4. **Symbols** checks the bundle and builds the Volatility 3 ISF beside the image ([`symbols`]).
//! 5. **Clean-up** aborts an upload that was not completed.
//!
//! Every command's status is checked ([`CommandRunner::status`]); pending states surface as
//! pending errors ([`crate::error::ErrorKind::Pending`]) so the workflow polls within its budget.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use irf_core::contract::{self, evidence_keys, module_keys};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use irf_core::steps::{
    Capture, Case, MethodChoice, PreflightReport, Receipts, SentCommand, VerifyCursor,
};

use crate::custody::{Artifact, Custody, Record};
use crate::digests::{Digests, StreamHashes};
use crate::error::{self, HandlerError, Result};

pub mod ingest;
pub mod symbols;

pub use ingest::{COPY_PART_SIZE, IngestBucket};

/// Part size of memory uploads unless RAM needs larger parts (10,000 parts at most).
pub const DEFAULT_PART_SIZE: u64 = 16 << 20;

/// Time one verification run reads for, of the function's 900 s: a 256 GiB image verifies over a
/// few runs instead of failing one.
pub const VERIFY_BUDGET: Duration = Duration::from_secs(600);

/// Bytes a verification run reads at least, whatever its budget.
pub const VERIFY_MIN_BYTES: u64 = 8 << 20;

/// Where a command stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandStatus {
    /// Not finished (`Pending`, `InProgress`, `Delayed`).
    Running(String),
    /// Finished successfully, with its standard output.
    Succeeded(String),
    /// Finished otherwise (`Failed`, `TimedOut`, `Cancelled`, ...), with the exit code and
    /// standard error.
    Failed {
        /// SSM status.
        status: String,
        /// Exit code.
        code: i32,
        /// Standard error (SSM keeps the first 8,000 characters).
        stderr: String,
    },
}

/// What SSM knows of an instance's agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentStatus {
    /// Registered and reachable: commands can be sent.
    Online,
    /// Not registered (yet): SSM does not list the instance.
    NotRegistered,
    /// Registered with another ping status (`ConnectionLost`, `Inactive`).
    Ping(String),
}

/// The SSM agent of the case's instance, once Online.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AgentOnline {
    /// The instance.
    pub instance_id: String,
    /// When it was seen Online (RFC 3339).
    pub online_at: String,
}

/// Runs documents on instances (SSM Run Command; tests substitute a fake where the emulator's
/// SSM cannot run anything).
pub trait CommandRunner: Send + Sync {
    /// What SSM knows of `instance`'s agent.
    fn agent(&self, instance: &str) -> impl Future<Output = Result<AgentStatus>> + Send;
    /// Sends `document` to `instance` unless a command with the same `comment` was already sent
    /// there (a retried step); returns the command id.
    fn send(
        &self,
        document: &str,
        instance: &str,
        parameters: BTreeMap<String, String>,
        comment: &str,
    ) -> impl Future<Output = Result<String>> + Send;
    /// The status of a command on an instance.
    fn status(
        &self,
        command_id: &str,
        instance: &str,
    ) -> impl Future<Output = Result<CommandStatus>> + Send;
}

/// SSM Run Command in the member account.
#[derive(Debug)]
pub struct Ssm(pub aws_sdk_ssm::Client);

impl CommandRunner for Ssm {
    async fn agent(&self, instance: &str) -> Result<AgentStatus> {
        let filter = aws_sdk_ssm::types::InstanceInformationStringFilter::builder()
            .key("InstanceIds")
            .values(instance)
            .build()
            .map_err(HandlerError::fatal)?;
        let out = self
            .0
            .describe_instance_information()
            .filters(filter)
            .send()
            .await
            .map_err(|e| error::aws(&format!("ssm:DescribeInstanceInformation {instance}"), e))?;
        let Some(info) = out
            .instance_information_list()
            .iter()
            .find(|i| i.instance_id() == Some(instance))
        else {
            return Ok(AgentStatus::NotRegistered);
        };
        Ok(match info.ping_status().map(|p| p.as_str()) {
            Some("Online") => AgentStatus::Online,
            other => AgentStatus::Ping(other.unwrap_or("unknown").to_owned()),
        })
    }

    async fn send(
        &self,
        document: &str,
        instance: &str,
        parameters: BTreeMap<String, String>,
        comment: &str,
    ) -> Result<String> {
        let sent = self
            .0
            .list_commands()
            .instance_id(instance)
            .send()
            .await
            .map_err(|e| error::aws(&format!("ssm:ListCommands {instance}"), e))?;
        if let Some(c) = sent.commands().iter().find(|c| {
            c.comment() == Some(comment)
                && c.document_name() == Some(document)
                && !matches!(
                    c.status().map(|s| s.as_str()),
                    Some("Failed" | "Cancelled" | "TimedOut")
                )
        }) && let Some(id) = c.command_id()
        {
            return Ok(id.to_owned());
        }
        let mut req = self
            .0
            .send_command()
            .document_name(document)
            .instance_ids(instance)
            .comment(comment)
            .timeout_seconds(600);
        for (k, v) in parameters {
            req = req.parameters(k, vec![v]);
        }
        let out = req
            .send()
            .await
            .map_err(|e| error::aws(&format!("ssm:SendCommand {document} {instance}"), e))?;
        out.command()
            .and_then(|c| c.command_id())
            .map(str::to_owned)
            .ok_or_else(|| HandlerError::fatal("ssm:SendCommand returned no command id"))
    }

    async fn status(&self, command_id: &str, instance: &str) -> Result<CommandStatus> {
        let out = match self
            .0
            .get_command_invocation()
            .command_id(command_id)
            .instance_id(instance)
            .send()
            .await
        {
            Ok(o) => o,
            // Right after SendCommand the invocation may not exist yet.
            Err(e) if error::code(&e) == Some("InvocationDoesNotExist") => {
                return Ok(CommandStatus::Running("not yet registered".into()));
            }
            Err(e) => {
                return Err(error::aws(
                    &format!("ssm:GetCommandInvocation {command_id}"),
                    e,
                ));
            }
        };
        let status = out
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default();
        Ok(match status.as_str() {
            "Pending" | "InProgress" | "Delayed" | "" => CommandStatus::Running(status),
            "Success" => CommandStatus::Succeeded(
                out.standard_output_content().unwrap_or_default().to_owned(),
            ),
            _ => CommandStatus::Failed {
                status,
                code: out.response_code(),
                stderr: out.standard_error_content().unwrap_or_default().to_owned(),
            },
        })
    }
}

/// The verified memory image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MemoryImage {
    /// Object key of the image in the evidence bucket (`<...>/memory/<InstanceId>.lime`).
    pub key: String,
    /// Image size in bytes.
    pub bytes: u64,
    /// SHA-256 (hex), computed on the host and again from S3.
    pub sha256: String,
    /// MD5 (hex), computed from S3 while verifying (the host computes none).
    pub md5: String,
    /// `lime` or `raw`.
    pub format: String,
}

/// One verification run: done with the image, or where to resume.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Verification {
    /// Whether the whole image is verified.
    pub done: bool,
    /// Where the next run resumes, while not done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<VerifyCursor>,
    /// The verified image, once done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<MemoryImage>,
}

/// The memory engine of one case.
#[derive(Debug)]
pub struct Memory<R> {
    /// Runs the documents on the instance.
    pub runner: R,
    /// S3 client for the evidence bucket (presigning too).
    pub evidence: aws_sdk_s3::Client,
    /// Name of the evidence bucket.
    pub evidence_bucket: String,
    /// S3 client for the modules bucket.
    pub modules: aws_sdk_s3::Client,
    /// The modules bucket (streamer binaries and LiME modules).
    pub modules_bucket: String,
    /// Org prefix (document names).
    pub prefix: String,
    /// Configured methods, in order.
    pub methods: Vec<String>,
    /// Lifetime of presigned URLs.
    pub url_lifetime: Duration,
    /// How long one verification run reads ([`VERIFY_BUDGET`]); a run copying an ingested image
    /// into the evidence bucket copies for as long.
    pub verify_budget: Duration,
    /// Ingest buckets by region: the capture of an instance in one of these regions lands there
    /// and is copied into the evidence bucket ([`ingest`]).
    pub ingest: BTreeMap<String, IngestBucket>,
    /// Bytes per part of that copy ([`COPY_PART_SIZE`]).
    pub copy_part_size: u64,
}

/// A bucket and the client that reaches it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Store<'a> {
    pub(crate) s3: &'a aws_sdk_s3::Client,
    pub(crate) bucket: &'a str,
}

fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// The last line of `stdout` that parses as a JSON object.
fn json_line(stdout: &str) -> Option<Value> {
    stdout
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .find(Value::is_object)
}

impl<R: CommandRunner> Memory<R> {
    fn document(&self, name: &str) -> String {
        format!("{}-{name}", self.prefix)
    }

    async fn presign_get(
        &self,
        client: &aws_sdk_s3::Client,
        bucket: &str,
        key: &str,
    ) -> Result<String> {
        let req = client
            .get_object()
            .bucket(bucket)
            .key(key)
            .presigned(self.presigning()?)
            .await
            .map_err(|e| HandlerError::fatal(format!("presigning s3://{bucket}/{key}: {e}")))?;
        Ok(req.uri().to_owned())
    }

    fn presigning(&self) -> Result<PresigningConfig> {
        PresigningConfig::expires_in(self.url_lifetime).map_err(HandlerError::fatal)
    }

    async fn presign_put(&self, store: Store<'_>, key: &str) -> Result<String> {
        let req = store
            .s3
            .put_object()
            .bucket(store.bucket)
            .key(key)
            .presigned(self.presigning()?)
            .await
            .map_err(|e| {
                HandlerError::fatal(format!("presigning s3://{}/{key}: {e}", store.bucket))
            })?;
        Ok(req.uri().to_owned())
    }

    /// The evidence bucket.
    pub(crate) fn evidence_store(&self) -> Store<'_> {
        Store {
            s3: &self.evidence,
            bucket: &self.evidence_bucket,
        }
    }

    async fn text(
        &self,
        client: &aws_sdk_s3::Client,
        bucket: &str,
        key: &str,
    ) -> Result<Option<String>> {
        Ok(crate::objects::text(client, bucket, key)
            .await?
            .map(|(text, _)| text))
    }

    /// Writes a small object to the evidence bucket (SHA-256 checked by S3).
    async fn put_evidence(&self, key: &str, content_type: &str, body: Vec<u8>) -> Result<()> {
        self.put_object(self.evidence_store(), key, content_type, body)
            .await
    }

    /// Writes a small object to `store` (SHA-256 checked by S3).
    async fn put_object(
        &self,
        store: Store<'_>,
        key: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<()> {
        store
            .s3
            .put_object()
            .bucket(store.bucket)
            .key(key)
            .content_type(content_type)
            .checksum_algorithm(aws_sdk_s3::types::ChecksumAlgorithm::Sha256)
            .body(body.into())
            .send()
            .await
            .map_err(|e| error::aws(&format!("s3:PutObject {key}"), e))?;
        Ok(())
    }

    /// The SHA-256 listed in a `sha256sum`-style sidecar in the modules bucket.
    async fn listed_sha256(&self, key: &str) -> Result<String> {
        let sidecar = evidence_keys::sidecar(key, "sha256");
        let text = self.text(&self.modules, &self.modules_bucket, &sidecar).await?.ok_or_else(|| {
            HandlerError::fatal(format!(
                "s3://{}/{sidecar} is missing: stage {key} with its SHA-256 (irf-synth package/deploy does)",
                self.modules_bucket
            ))
        })?;
        let sha = text
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(HandlerError::fatal(format!(
                "{sidecar} does not start with a SHA-256"
            )));
        }
        Ok(sha)
    }

    /// Ready once SSM reports the instance's agent Online; pending until then.
    pub async fn agent_online(&self, case: &Case) -> Result<AgentOnline> {
        match self.runner.agent(&case.instance_id).await? {
            AgentStatus::Online => Ok(AgentOnline {
                instance_id: case.instance_id.clone(),
                online_at: now(),
            }),
            AgentStatus::NotRegistered => Err(HandlerError::pending(format!(
                "{} is not registered with SSM (its agent has not come up with the new instance profile yet)",
                case.instance_id
            ))),
            AgentStatus::Ping(status) => Err(HandlerError::pending(format!(
                "the SSM agent of {} is {status}, not Online",
                case.instance_id
            ))),
        }
    }

    /// Starts the read-only preflight.
    pub async fn start_preflight(&self, case: &Case) -> Result<SentCommand> {
        let params = BTreeMap::from([("Methods".to_owned(), self.methods.join(","))]);
        let command_id = self
            .runner
            .send(
                &self.document(contract::documents::MEMORY_PREFLIGHT),
                &case.instance_id,
                params,
                &format!("irf {} memory preflight", case.case_id),
            )
            .await?;
        Ok(SentCommand {
            command_id,
            instance_id: case.instance_id.clone(),
        })
    }

    /// The preflight's verdict; pending while it runs.
    pub async fn preflight_result(&self, command: &SentCommand) -> Result<MethodChoice> {
        match self
            .runner
            .status(&command.command_id, &command.instance_id)
            .await?
        {
            CommandStatus::Running(s) => Err(HandlerError::pending(format!(
                "preflight {}: {s}",
                command.command_id
            ))),
            CommandStatus::Failed {
                status,
                code,
                stderr,
            } => Err(HandlerError::fatal(format!(
                "preflight {} on {}: {status} (exit {code}): {}",
                command.command_id,
                command.instance_id,
                stderr.trim()
            ))),
            CommandStatus::Succeeded(stdout) => {
                let report = json_line(&stdout).ok_or_else(|| {
                    HandlerError::fatal(format!(
                        "preflight {} printed no JSON report (output: {:?})",
                        command.command_id,
                        stdout.chars().take(300).collect::<String>()
                    ))
                })?;
                let report: PreflightReport = serde_json::from_value(report).map_err(|e| {
                    HandlerError::fatal(format!(
                        "preflight {} printed a report this workflow cannot read ({e}); is the \
                         memory-preflight document of the same IRF version?",
                        command.command_id
                    ))
                })?;
                let method = report.method.clone();
                if method != "none" && !self.methods.contains(&method) {
                    return Err(HandlerError::fatal(format!(
                        "preflight chose {method:?}, which is not a configured method ({})",
                        self.methods.join(",")
                    )));
                }
                let reason = report.reason.clone();
                Ok(MethodChoice {
                    method,
                    reason,
                    preflight: report,
                })
            }
        }
    }

    /// Opens the upload, writes the plan and sends the capture command (once per case).
    pub async fn start_capture(&self, case: &Case, choice: &MethodChoice) -> Result<Capture> {
        let dir = format!(
            "{}memory/",
            evidence_keys::instance_prefix(&case.case_id, &case.account, &case.instance_id)
        );
        let state_key = format!("{dir}capture.json");
        if let Some(text) = self
            .text(&self.evidence, &self.evidence_bucket, &state_key)
            .await?
        {
            // A retried step: the capture was already started.
            return serde_json::from_str(&text)
                .map_err(|e| HandlerError::fatal(format!("{state_key} is corrupt: {e}")));
        }
        let p = &choice.preflight;
        let arch = p.arch.as_str();
        if !matches!(arch, "x86_64" | "aarch64") {
            return Err(HandlerError::fatal(format!(
                "no streamer for architecture {arch:?}"
            )));
        }
        let ram = p.mem_total_kib * 1024;
        if ram == 0 {
            return Err(HandlerError::fatal("the preflight reported no RAM size"));
        }
        // MemTotal leaves out memory the kernel reserved; System RAM ranges are larger. Plan for
        // a quarter more plus 256 MiB; unused part URLs cost nothing.
        let capacity = ram + ram / 4 + (256 << 20);
        let part_size = DEFAULT_PART_SIZE.max(capacity.div_ceil(10_000).next_multiple_of(1 << 20));
        let parts = u32::try_from(capacity.div_ceil(part_size)).map_err(HandlerError::fatal)?;

        let key = evidence_keys::memory_image(&case.case_id, &case.account, &case.instance_id);
        let (store, ingest) = self.upload_store_for(&case.region);
        let upload_id = store
            .s3
            .create_multipart_upload()
            .bucket(store.bucket)
            .key(&key)
            .metadata("case-id", &case.case_id)
            .metadata("method", &choice.method)
            .send()
            .await
            .map_err(|e| error::aws(&format!("s3:CreateMultipartUpload {key}"), e))?
            .upload_id()
            .unwrap_or_default()
            .to_owned();
        let config = self.presigning()?;
        let mut plan_parts = Vec::with_capacity(parts as usize);
        for number in 1..=parts {
            let req = store
                .s3
                .upload_part()
                .bucket(store.bucket)
                .key(&key)
                .upload_id(&upload_id)
                .part_number(i32::try_from(number).map_err(HandlerError::fatal)?)
                .presigned(config.clone())
                .await
                .map_err(|e| HandlerError::fatal(format!("presigning part {number}: {e}")))?;
            plan_parts.push(serde_json::json!({ "number": number, "url": req.uri() }));
        }
        let receipts_key = format!("{dir}receipts.json");
        let receipts_url = self.presign_put(store, &receipts_key).await?;
        let symbols = self.symbol_urls(store, case).await?;
        let plan = serde_json::json!({
            "version": 1,
            "case_id": case.case_id,
            "object_key": key,
            "part_size": part_size,
            "parts": plan_parts,
            "receipts_url": receipts_url,
            "symbols": symbols,
        });
        let plan_key = format!("{dir}plan.json");
        self.put_object(
            store,
            &plan_key,
            "application/json",
            plan.to_string().into_bytes(),
        )
        .await?;

        let tool_key = module_keys::streamer(arch);
        let mut params = BTreeMap::from([
            ("Method".to_owned(), choice.method.clone()),
            (
                "ToolSha256".to_owned(),
                self.listed_sha256(&tool_key).await?,
            ),
            (
                "ToolUrl".to_owned(),
                self.tool_url(store, ingest.is_some(), &dir, &tool_key)
                    .await?,
            ),
            (
                "PlanUrl".to_owned(),
                self.presign_get(store.s3, store.bucket, &plan_key).await?,
            ),
        ]);
        if choice.method == "lime" {
            let module = module_keys::lime_module(&p.os_id, &p.os_version_id, &p.kernel);
            params.insert(
                "ModuleSha256".to_owned(),
                self.listed_sha256(&module).await?,
            );
            params.insert(
                "ModuleUrl".to_owned(),
                self.tool_url(store, ingest.is_some(), &dir, &module)
                    .await?,
            );
        }
        let command_id = self
            .runner
            .send(
                &self.document(contract::documents::MEMORY_CAPTURE),
                &case.instance_id,
                params,
                &format!("irf {} memory capture", case.case_id),
            )
            .await?;
        let capture = Capture {
            command: SentCommand {
                command_id,
                instance_id: case.instance_id.clone(),
            },
            method: choice.method.clone(),
            reason: choice.reason.clone(),
            key,
            upload_id,
            part_size,
            parts,
            receipts_key,
            started_at: now(),
            ingest,
        };
        self.put_evidence(
            &state_key,
            "application/json",
            serde_json::to_vec(&capture).map_err(HandlerError::fatal)?,
        )
        .await?;
        Ok(capture)
    }

    /// The streamer's receipts once the capture command succeeded; pending while it runs.
    pub async fn capture_result(&self, capture: &Capture) -> Result<Receipts> {
        let c = &capture.command;
        match self.runner.status(&c.command_id, &c.instance_id).await? {
            CommandStatus::Running(s) => Err(HandlerError::pending(format!(
                "capture {}: {s}",
                c.command_id
            ))),
            CommandStatus::Failed {
                status,
                code,
                stderr,
            } => Err(HandlerError::fatal(format!(
                "capture {} on {}: {status} (exit {code}): {}",
                c.command_id,
                c.instance_id,
                stderr.trim()
            ))),
            CommandStatus::Succeeded(_) => {
                let store = self.upload_store(capture)?;
                let text = self
                    .text(store.s3, store.bucket, &capture.receipts_key)
                    .await?
                    .ok_or_else(|| {
                        HandlerError::fatal(format!(
                            "capture {} succeeded but wrote no receipts at {}",
                            c.command_id, capture.receipts_key
                        ))
                    })?;
                serde_json::from_str(&text).map_err(|e| {
                    HandlerError::fatal(format!(
                        "receipts {} are malformed: {e}",
                        capture.receipts_key
                    ))
                })
            }
        }
    }

    /// Completes the upload (first run), re-hashes the stored image from where the last run
    /// stopped for up to the verification budget, and once the whole image is hashed compares it
    /// with the host's, writes the sidecars and records it.
    pub async fn verify(
        &self,
        case: &Case,
        capture: &Capture,
        receipts: &Receipts,
        cursor: Option<&VerifyCursor>,
        custody: &Custody,
    ) -> Result<Verification> {
        let field = |k: &str| receipts.report.get(k).cloned().unwrap_or(Value::Null);
        let (Some(bytes), Some(sha256)) = (
            field("bytes").as_u64(),
            field("sha256").as_str().map(str::to_owned),
        ) else {
            return Err(HandlerError::fatal(
                "the streamer's report lacks bytes or sha256",
            ));
        };
        // A first run completes the host's upload (for an ingested image, the copy's first run
        // does, before it opens the copy).
        if cursor.is_none() && capture.ingest.is_none() {
            self.complete_upload(capture, receipts).await?;
        }
        // An ingested image is copied into the evidence bucket first (over as many runs as it
        // takes), and then hashed there like any other.
        let copying = match cursor {
            None => capture.ingest.is_some(),
            Some(c) => c.copy.is_some(),
        };
        if copying {
            let copy = cursor.and_then(|c| c.copy.as_ref());
            if let Some(next) = self.copy_run(case, capture, receipts, copy).await? {
                return Ok(Verification {
                    done: false,
                    cursor: Some(VerifyCursor {
                        offset: 0,
                        size: next.size,
                        hashes: StreamHashes::default().save(),
                        copy: Some(next),
                    }),
                    image: None,
                });
            }
        }
        let (offset, hashes) = match cursor {
            Some(c) if c.copy.is_none() => (c.offset, StreamHashes::restore(&c.hashes)?),
            _ => (0, StreamHashes::default()),
        };
        let progress = crate::objects::rehash_from(
            &self.evidence,
            &self.evidence_bucket,
            &capture.key,
            offset,
            hashes,
            self.verify_budget,
            VERIFY_MIN_BYTES,
        )
        .await?
        .ok_or_else(|| {
            HandlerError::fatal(format!(
                "{} is missing after its upload was completed",
                capture.key
            ))
        })?;
        if !progress.done() {
            return Ok(Verification {
                done: false,
                cursor: Some(VerifyCursor {
                    offset: progress.offset,
                    size: progress.size,
                    hashes: progress.hashes.save(),
                    copy: None,
                }),
                image: None,
            });
        }
        let stored = progress.offset;
        let found = progress.hashes.finish();
        if stored != bytes || found.sha256 != sha256 {
            return Err(HandlerError::fatal(format!(
                "{} holds {stored} bytes hashing to {}; the host streamed {bytes} bytes hashing to {sha256}",
                capture.key, found.sha256
            )));
        }
        let image = self
            .record_image(case, capture, receipts, bytes, found, custody)
            .await?;
        Ok(Verification {
            done: true,
            cursor: None,
            image: Some(image),
        })
    }

    /// Completes the multipart upload with the streamer's receipts (S3 checks every ETag).
    async fn complete_upload(&self, capture: &Capture, receipts: &Receipts) -> Result<()> {
        if receipts.parts.is_empty()
            || receipts
                .parts
                .iter()
                .enumerate()
                .any(|(i, p)| i32::try_from(i + 1).ok() != Some(p.number))
        {
            return Err(HandlerError::fatal(
                "the streamer's part receipts are not numbered 1..N",
            ));
        }
        let completed = aws_sdk_s3::types::CompletedMultipartUpload::builder()
            .set_parts(Some(
                receipts
                    .parts
                    .iter()
                    .map(|p| {
                        aws_sdk_s3::types::CompletedPart::builder()
                            .part_number(p.number)
                            .e_tag(&p.etag)
                            .build()
                    })
                    .collect(),
            ))
            .build();
        let store = self.upload_store(capture)?;
        match store
            .s3
            .complete_multipart_upload()
            .bucket(store.bucket)
            .key(&capture.key)
            .upload_id(&capture.upload_id)
            .multipart_upload(completed)
            .send()
            .await
        {
            Ok(_) => {}
            // A retried step after the upload was completed.
            Err(e) if error::code(&e) == Some("NoSuchUpload") => {}
            Err(e) => {
                return Err(error::aws(
                    &format!("s3:CompleteMultipartUpload {}", capture.key),
                    e,
                ));
            }
        }
        Ok(())
    }

    /// Writes the verified image's sidecars and records it in the custody ledger (`found`: the
    /// digests of the stored image, whose SHA-256 equals the host's).
    async fn record_image(
        &self,
        case: &Case,
        capture: &Capture,
        receipts: &Receipts,
        bytes: u64,
        found: Digests,
        custody: &Custody,
    ) -> Result<MemoryImage> {
        let Digests { sha256, md5 } = found;
        let field = |k: &str| receipts.report.get(k).cloned().unwrap_or(Value::Null);
        let name = capture.key.rsplit('/').next().unwrap_or(&capture.key);
        for (algorithm, value) in [("sha256", &sha256), ("md5", &md5)] {
            let key = evidence_keys::sidecar(&capture.key, algorithm);
            self.put_evidence(
                &key,
                "text/plain",
                format!("{value}  {name}\n").into_bytes(),
            )
            .await?;
        }
        let format = field("format").as_str().unwrap_or("raw").to_owned();
        let sources = symbols::sources(case, capture);
        custody
            .append(
                &case.case_id,
                Record {
                    id: format!("memory-captured:{}", case.instance_id),
                    action: "memory-captured".to_owned(),
                    artifact: Some(Artifact { key: capture.key.clone(), bytes, sha256: sha256.clone(), md5: Some(md5.clone()), raw_sha256: None }),
                    sources,
                    method: Some(capture.method.clone()),
                    reason: Some(match &capture.ingest {
                        None => format!(
                            "{}; SHA-256 on the host while streaming ({format}), SHA-256 and MD5 from S3 after upload",
                            capture.reason
                        ),
                        Some(i) => format!(
                            "{}; SHA-256 on the host while streaming ({format}) into the ingest bucket {} of {}, \
                             copied server-side into the evidence bucket; SHA-256 and MD5 from the copy",
                            capture.reason, i.bucket, i.region
                        ),
                    }),
                    started_at: Some(capture.started_at.clone()),
                },
            )
            .await?;
        Ok(MemoryImage {
            key: capture.key.clone(),
            bytes,
            sha256,
            md5,
            format,
        })
    }

    /// Aborts an upload that was not completed; true when one was aborted.
    pub async fn clean_up(&self, case: &Case, capture: Option<&Capture>) -> Result<bool> {
        let Some(c) = capture else { return Ok(false) };
        if c.ingest.is_some() {
            self.abort_copy(case, c).await?;
        }
        let store = self.upload_store(c)?;
        match store
            .s3
            .abort_multipart_upload()
            .bucket(store.bucket)
            .key(&c.key)
            .upload_id(&c.upload_id)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if error::code(&e) == Some("NoSuchUpload") => Ok(false),
            Err(e) => Err(error::aws(&format!("s3:AbortMultipartUpload {}", c.key), e)),
        }
    }
}
