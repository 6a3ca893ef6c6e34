//! Deploying a synth directory across accounts: dependency order, parallel where independent,
//! producer outputs passed as consumer parameters, unchanged stacks skipped, failures recapped.
//!
//! The deployer never re-runs the model: it deploys the bytes of a synth directory (checked
//! against the plan's hashes), so what is deployed is what was reviewed.

pub mod assets;
pub mod aws;
pub mod diff;
pub mod progress;
pub mod stack;
pub mod stackset;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, OnceCell};

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use crate::plan::{ParamSource, Plan, PlannedStack};
use assets::{Asset, AssetSource};
use aws::AwsContext;
use progress::Reporter;
use stack::{Method, Outcome, StackInput, StackState};

/// CloudFormation's limit for an inline template body; larger ones go through S3.
pub const INLINE_TEMPLATE_BYTES: usize = 51_200;

/// A deployment failure.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// An AWS call failed.
    #[error("{context}: {message}")]
    Aws {
        /// What was being done.
        context: String,
        /// The error, with its cause chain.
        message: String,
    },
    /// A stack operation failed.
    #[error("stack {stack}: {message}{}", failure_lines(failures))]
    Stack {
        /// Stack name.
        stack: String,
        /// What happened.
        message: String,
        /// Failed resources with their reasons.
        failures: Vec<String>,
    },
    /// A stack is in a state the deployer does not repair.
    #[error("stack {stack} is {status}; the deployer will not touch it: {advice}")]
    Blocked {
        /// Stack name.
        stack: String,
        /// Its status.
        status: String,
        /// What to do.
        advice: String,
    },
    /// Building or uploading the runtime asset failed.
    #[error("runtime asset: {0}")]
    Asset(String),
    /// The synth directory is unusable.
    #[error("synth directory {dir}: {message}")]
    Synth {
        /// Directory.
        dir: String,
        /// What is wrong.
        message: String,
    },
}

fn failure_lines(failures: &[String]) -> String {
    failures.iter().map(|f| format!("\n    - {f}")).collect()
}

impl DeployError {
    /// Wraps an SDK error with what was being done.
    pub fn aws<E>(
        context: &str,
        e: aws_smithy_runtime_api::client::result::SdkError<E, HttpResponse>,
    ) -> Self
    where
        E: std::error::Error + aws_smithy_types::error::metadata::ProvideErrorMetadata + 'static,
    {
        DeployError::Aws {
            context: context.to_owned(),
            message: sdk_message(&e),
        }
    }
}

/// A one-line description of an SDK error: the service's code and message when it answered,
/// the cause chain otherwise.
pub fn sdk_message<E>(
    e: &aws_smithy_runtime_api::client::result::SdkError<E, HttpResponse>,
) -> String
where
    E: std::error::Error + aws_smithy_types::error::metadata::ProvideErrorMetadata + 'static,
{
    use aws_smithy_runtime_api::client::result::SdkError;
    match e {
        SdkError::ServiceError(se) => {
            let err = se.err();
            match (err.code(), err.message()) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                (Some(c), None) => c.to_owned(),
                (None, Some(m)) => m.to_owned(),
                (None, None) => {
                    let body = se
                        .raw()
                        .body()
                        .bytes()
                        .map(|b| {
                            String::from_utf8_lossy(b)
                                .chars()
                                .take(300)
                                .collect::<String>()
                        })
                        .unwrap_or_default();
                    format!(
                        "HTTP {} without an error code (an emulator answers 500 for calls it does not implement; see its log): {body}",
                        se.raw().status().as_u16()
                    )
                }
            }
        }
        other => format!(
            "{}",
            aws_smithy_types::error::display::DisplayErrorContext(other)
        ),
    }
}

/// A synth directory: the plan and the template bytes it names, verified.
#[derive(Clone, Debug)]
pub struct SynthDir {
    /// Directory.
    pub dir: PathBuf,
    /// The plan.
    pub plan: Plan,
    templates: HashMap<String, String>,
}

impl SynthDir {
    /// Reads `plan.json` and every template, checking each against the plan's SHA-256.
    pub fn load(dir: &Path) -> Result<Self, DeployError> {
        let err = |message: String| DeployError::Synth {
            dir: dir.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(dir.join("plan.json"))
            .map_err(|e| err(format!("cannot read plan.json: {e}")))?;
        let plan: Plan = serde_json::from_str(&text).map_err(|e| err(format!("plan.json: {e}")))?;
        if plan.version != crate::plan::PLAN_VERSION {
            return Err(err(format!(
                "plan version {} is not {}; synthesize again with this irf-synth",
                plan.version,
                crate::plan::PLAN_VERSION
            )));
        }
        let mut templates = HashMap::new();
        for s in &plan.stacks {
            if templates.contains_key(&s.template) {
                continue;
            }
            let body = std::fs::read_to_string(dir.join(&s.template))
                .map_err(|e| err(format!("cannot read {}: {e}", s.template)))?;
            let sha: String = Sha256::digest(body.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            if sha != s.template_sha256 {
                return Err(err(format!(
                    "{} does not match the plan (sha256 {sha}, plan says {}); it changed after synthesis",
                    s.template, s.template_sha256
                )));
            }
            templates.insert(s.template.clone(), body);
        }
        Ok(SynthDir {
            dir: dir.to_path_buf(),
            plan,
            templates,
        })
    }

    /// The template of a planned stack.
    pub fn template(&self, stack: &PlannedStack) -> &str {
        self.templates
            .get(&stack.template)
            .map_or("", String::as_str)
    }
}

/// The result for one stack.
#[derive(Clone, Debug)]
pub enum StackResult {
    /// Deployed (or already current).
    Done(Outcome),
    /// Failed.
    Failed(String),
    /// Not attempted because a stack it depends on failed.
    Skipped {
        /// The failed dependency.
        because: String,
    },
}

/// The result of a deployment.
#[derive(Clone, Debug, Default)]
pub struct DeployReport {
    /// Results in plan order.
    pub stacks: Vec<(String, StackResult)>,
    /// Wall time.
    pub elapsed: Duration,
    /// Longest chain of stacks deployed one after another.
    pub critical_path: usize,
}

impl DeployReport {
    /// True when every stack is done.
    pub fn ok(&self) -> bool {
        self.stacks
            .iter()
            .all(|(_, r)| matches!(r, StackResult::Done(_)))
    }

    /// Result of one stack.
    pub fn result(&self, name: &str) -> Option<&StackResult> {
        self.stacks.iter().find(|(n, _)| n == name).map(|(_, r)| r)
    }
}

impl fmt::Display for DeployReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, r) in &self.stacks {
            match r {
                StackResult::Done(Outcome::Created) => writeln!(f, "  created    {name}")?,
                StackResult::Done(Outcome::Updated) => writeln!(f, "  updated    {name}")?,
                StackResult::Done(Outcome::Unchanged) => writeln!(f, "  no changes {name}")?,
                StackResult::Done(Outcome::Deleted) => writeln!(f, "  deleted    {name}")?,
                StackResult::Done(Outcome::Absent) => writeln!(f, "  absent     {name}")?,
                StackResult::Failed(e) => {
                    writeln!(f, "  FAILED     {name}\n    {}", e.replace('\n', "\n    "))?
                }
                StackResult::Skipped { because } => {
                    writeln!(
                        f,
                        "  skipped    {name} (depends on {because}, which failed)"
                    )?;
                }
            }
        }
        write!(
            f,
            "{} stack(s) in {:.1} s; critical path {} stack(s)",
            self.stacks.len(),
            self.elapsed.as_secs_f64(),
            self.critical_path
        )
    }
}

/// Deployment settings.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Change sets or direct.
    pub method: Method,
    /// Stacks deployed at once.
    pub concurrency: usize,
    /// How often to poll CloudFormation.
    pub poll: Duration,
}

/// Deploys synth directories.
pub struct Deployer {
    ctx: Arc<AwsContext>,
    settings: Settings,
    assets: AssetSource,
    reporter: Reporter,
    packaged: Mutex<HashMap<String, Arc<Asset>>>,
    uploaded: Mutex<HashMap<String, Arc<OnceCell<()>>>>,
}

impl Deployer {
    /// A deployer.
    pub fn new(
        ctx: AwsContext,
        settings: Settings,
        assets: AssetSource,
        reporter: Reporter,
    ) -> Self {
        Deployer {
            ctx: Arc::new(ctx),
            settings,
            assets,
            reporter,
            packaged: Mutex::new(HashMap::new()),
            uploaded: Mutex::new(HashMap::new()),
        }
    }

    /// The AWS context.
    pub fn context(&self) -> &AwsContext {
        &self.ctx
    }

    /// Stages the memory streamer for both instance architectures in the modules bucket (a
    /// package directory without one is reported: memory capture on such instances needs it).
    async fn stage_streamers(
        &self,
        stack: &str,
        s3: &aws_sdk_s3::Client,
        bucket: &str,
    ) -> Result<(), DeployError> {
        for arch in ["arm64", "x86_64"] {
            let source = self.assets.clone();
            let binary = tokio::task::spawn_blocking(move || assets::streamer(&source, arch))
                .await
                .map_err(|e| DeployError::Asset(format!("building the streamer: {e}")))??;
            match binary {
                Some(b) => {
                    if assets::stage_streamer(s3, bucket, arch, b).await? {
                        self.reporter.event(stack, &format!("staged the {arch} memory streamer in {bucket}"));
                    }
                }
                None => self.reporter.event(
                    stack,
                    &format!("no {arch} memory streamer in the asset directory (irf-synth package --arch {arch}); memory capture on {arch} instances needs it"),
                ),
            }
        }
        Ok(())
    }

    async fn asset(&self, architecture: &str) -> Result<Arc<Asset>, DeployError> {
        let mut packaged = self.packaged.lock().await;
        if let Some(a) = packaged.get(architecture) {
            return Ok(a.clone());
        }
        self.reporter.info(&format!(
            "building the irf-runtime asset for {architecture}"
        ));
        let source = self.assets.clone();
        let arch = architecture.to_owned();
        let asset = tokio::task::spawn_blocking(move || assets::package(&source, &arch))
            .await
            .map_err(|e| DeployError::Asset(format!("build task: {e}")))??;
        self.reporter.info(&format!(
            "asset {} ({} bytes)",
            asset.key(),
            asset.zip.len()
        ));
        let asset = Arc::new(asset);
        packaged.insert(architecture.to_owned(), asset.clone());
        Ok(asset)
    }

    /// Ensures an artifact bucket exists (once per bucket and run).
    async fn ensure_bucket(
        &self,
        bucket: &str,
        region: &str,
        s3: &aws_sdk_s3::Client,
        org_readers: Option<&str>,
    ) -> Result<(), DeployError> {
        let cell = {
            let mut u = self.uploaded.lock().await;
            u.entry(bucket.to_owned()).or_default().clone()
        };
        cell.get_or_try_init(|| async {
            let plain_http = self
                .ctx
                .endpoint_url()
                .is_some_and(|e| e.starts_with("http://"));
            assets::ensure_bucket(s3, bucket, region, plain_http, org_readers).await
        })
        .await?;
        Ok(())
    }

    /// Deploys a StackSet entry: assets in each target region's administrator bucket (readable
    /// by the organization), then the StackSet and its instances.
    async fn deploy_stack_set(
        &self,
        s: &PlannedStack,
        target: &crate::plan::StackSetTarget,
        template: &str,
        mut params: BTreeMap<String, String>,
        org: &str,
    ) -> Result<(Outcome, BTreeMap<String, String>), DeployError> {
        let mut bucket_parameter = None;
        for region in &target.regions {
            let Some(bucket) = target.artifact_buckets.get(region) else {
                continue;
            };
            let conf = self.ctx.config_for(&s.account_id, region).await?;
            let s3 = self.ctx.s3(&conf);
            self.ensure_bucket(bucket, region, &s3, Some(org)).await?;
            for a in &s.assets {
                let asset = self.asset(&a.architecture).await?;
                assets::upload(&s3, bucket, &asset.key(), asset.zip.clone()).await?;
                bucket_parameter = Some(a.bucket_parameter.clone());
                params.insert(a.key_parameter.clone(), asset.key());
                params
                    .entry(a.bucket_parameter.clone())
                    .or_insert_with(|| bucket.clone());
            }
        }
        let conf = self.ctx.config_for(&s.account_id, &s.region).await?;
        let cfn = AwsContext::cloudformation(&conf);
        let template_url = self.template_url(s, template, &conf).await?;
        let outcome = stackset::apply(
            &cfn,
            s,
            target,
            template,
            template_url,
            &params,
            bucket_parameter.as_deref(),
            self.settings.poll,
            &self.reporter,
        )
        .await?;
        Ok((outcome, BTreeMap::new()))
    }

    /// Uploads a template over the inline limit to the stack's artifact bucket; its URL.
    async fn template_url(
        &self,
        s: &PlannedStack,
        template: &str,
        conf: &aws_config::SdkConfig,
    ) -> Result<Option<String>, DeployError> {
        if template.len() <= INLINE_TEMPLATE_BYTES {
            return Ok(None);
        }
        let s3 = self.ctx.s3(conf);
        self.ensure_bucket(&s.artifact_bucket, &s.region, &s3, None)
            .await?;
        let sha: String = Sha256::digest(template.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let key = format!("templates/{}/{sha}.yaml", s.name);
        assets::upload(&s3, &s.artifact_bucket, &key, template.as_bytes().to_vec()).await?;
        // CloudFormation (and the emulator, which reads its own S3) take the regional
        // virtual-hosted URL.
        let suffix = if s.region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        Ok(Some(format!(
            "https://{}.s3.{}.{suffix}/{key}",
            s.artifact_bucket, s.region
        )))
    }

    /// Deploys every stack of `synth`, in dependency order, `concurrency` at a time.
    pub async fn deploy(&self, synth: &SynthDir) -> DeployReport {
        let started = std::time::Instant::now();
        let plan = &synth.plan;
        let mut results: HashMap<String, StackResult> = HashMap::new();
        let mut outputs: HashMap<String, BTreeMap<String, String>> = HashMap::new();
        let mut depth: HashMap<String, usize> = HashMap::new();
        let mut pending: Vec<&PlannedStack> = plan.stacks.iter().collect();
        let mut running = FuturesUnordered::new();
        loop {
            let mut i = 0;
            while i < pending.len() {
                let s = pending[i];
                if let Some(failed) = s.depends_on.iter().find(|d| {
                    matches!(
                        results.get(*d),
                        Some(StackResult::Failed(_) | StackResult::Skipped { .. })
                    )
                }) {
                    results.insert(
                        s.name.clone(),
                        StackResult::Skipped {
                            because: failed.clone(),
                        },
                    );
                    self.reporter
                        .finish(&s.name, &format!("skipped: {failed} failed"));
                    pending.remove(i);
                    continue;
                }
                let ready = s.depends_on.iter().all(|d| outputs.contains_key(d));
                if ready && running.len() < self.settings.concurrency.max(1) {
                    let params = resolve(s, &outputs);
                    let d = s
                        .depends_on
                        .iter()
                        .filter_map(|d| depth.get(d))
                        .max()
                        .copied()
                        .unwrap_or(0)
                        + 1;
                    depth.insert(s.name.clone(), d);
                    running.push(async move {
                        let r = match params {
                            Ok(p) => {
                                self.deploy_one(s, synth.template(s), &p, &plan.organization_id)
                                    .await
                            }
                            Err(e) => Err(e),
                        };
                        (s, r)
                    });
                    pending.remove(i);
                    continue;
                }
                i += 1;
            }
            let Some((s, r)) = running.next().await else {
                break;
            };
            match r {
                Ok((outcome, outs)) => {
                    outputs.insert(s.name.clone(), outs);
                    results.insert(s.name.clone(), StackResult::Done(outcome));
                }
                Err(e) => {
                    self.reporter.finish(&s.name, "FAILED");
                    results.insert(s.name.clone(), StackResult::Failed(e.to_string()));
                }
            }
        }
        DeployReport {
            stacks: plan
                .stacks
                .iter()
                .map(|s| {
                    let r = results.remove(&s.name).unwrap_or(StackResult::Failed(
                        "not deployed (dependency cycle?)".to_owned(),
                    ));
                    (s.name.clone(), r)
                })
                .collect(),
            elapsed: started.elapsed(),
            critical_path: depth.values().copied().max().unwrap_or(0),
        }
    }

    /// Deploys one stack; returns its outcome and outputs.
    async fn deploy_one(
        &self,
        s: &PlannedStack,
        template: &str,
        params: &BTreeMap<String, String>,
        org_id: &str,
    ) -> Result<(Outcome, BTreeMap<String, String>), DeployError> {
        if let Some(target) = &s.stack_set {
            self.reporter.begin(
                &s.name,
                &format!(
                    "{} StackSet for {} in {}",
                    s.kind,
                    target.organizational_unit,
                    target.regions.join(", ")
                ),
            );
            return self
                .deploy_stack_set(s, target, template, params.clone(), org_id)
                .await;
        }
        self.reporter.begin(
            &s.name,
            &format!("{} in {}/{}", s.kind, s.account_id, s.region),
        );
        let conf = self.ctx.config_for(&s.account_id, &s.region).await?;
        let cfn = AwsContext::cloudformation(&conf);
        let s3 = self.ctx.s3(&conf);
        let mut params = params.clone();
        if !s.assets.is_empty() {
            self.ensure_bucket(&s.artifact_bucket, &s.region, &s3, None)
                .await?;
        }
        for a in &s.assets {
            let asset = self.asset(&a.architecture).await?;
            if assets::upload(&s3, &s.artifact_bucket, &asset.key(), asset.zip.clone()).await? {
                self.reporter.event(
                    &s.name,
                    &format!("uploaded {} to {}", asset.key(), s.artifact_bucket),
                );
            }
            params.insert(a.bucket_parameter.clone(), s.artifact_bucket.clone());
            params.insert(a.key_parameter.clone(), asset.key());
        }

        let mut current = stack::describe(&cfn, &s.name).await?;
        if let Some(status) = current.as_ref().and_then(|d| d.status.clone()) {
            match StackState::of(&status) {
                StackState::InProgress => {
                    self.reporter.event(
                        &s.name,
                        &format!("waiting for the running {} to finish", status.as_str()),
                    );
                    stack::wait(
                        &cfn,
                        &s.name,
                        std::time::SystemTime::now(),
                        self.settings.poll,
                        Duration::from_secs(3600),
                        &self.reporter,
                    )
                    .await?;
                    current = stack::describe(&cfn, &s.name).await?;
                }
                StackState::RollbackComplete | StackState::ReviewInProgress => {
                    self.reporter.event(
                        &s.name,
                        &format!("{}: an earlier create left an empty stack; deleting it before creating again", status.as_str()),
                    );
                    stack::delete(&cfn, &s.name, self.settings.poll, &self.reporter).await?;
                    current = None;
                }
                StackState::Blocked => {
                    return Err(DeployError::Blocked {
                        stack: s.name.clone(),
                        status: status.as_str().to_owned(),
                        advice: StackState::advice(&status).to_owned(),
                    });
                }
                StackState::Missing | StackState::Stable => {}
            }
        }
        if let Some(status) = current.as_ref().and_then(|d| d.status.clone())
            && StackState::of(&status) != StackState::Stable
        {
            return Err(DeployError::Blocked {
                stack: s.name.clone(),
                status: status.as_str().to_owned(),
                advice: StackState::advice(&status).to_owned(),
            });
        }

        if let Some(d) = &current {
            let deployed = stack::template_body(&cfn, &s.name).await?;
            let same_params = params.iter().all(|(k, v)| d.parameters.get(k) == Some(v))
                && d.parameters.len() == params.len();
            if deployed == template && same_params && d.tags == s.tags {
                self.reporter.finish(&s.name, "no changes");
                return Ok((Outcome::Unchanged, d.outputs.clone()));
            }
        }

        let template_url = self.template_url(s, template, &conf).await?;
        let input = StackInput {
            name: &s.name,
            body: template_url.is_none().then_some(template),
            template_url,
            parameters: &params,
            capabilities: &s.capabilities,
            tags: &s.tags,
        };
        let exists = current.is_some();
        let outcome = match stack::apply(
            &cfn,
            &input,
            exists,
            self.settings.method,
            self.settings.poll,
            &self.reporter,
        )
        .await
        {
            Ok(o) => o,
            Err(e) => {
                if !exists {
                    // A rejected create must not leave a stack behind (the emulator keeps one in
                    // CREATE_IN_PROGRESS that it cannot even describe; AWS may leave
                    // ROLLBACK_COMPLETE): remove it so the next run can create it afresh.
                    // DeleteStack of a name that does not exist is a no-op.
                    if let Err(cleanup) =
                        stack::delete(&cfn, &s.name, self.settings.poll, &self.reporter).await
                    {
                        self.reporter.event(
                            &s.name,
                            &format!("could not remove the failed stack: {cleanup}"),
                        );
                    }
                }
                return Err(e);
            }
        };
        let outputs = stack::describe(&cfn, &s.name)
            .await?
            .map(|d| d.outputs)
            .unwrap_or_default();
        if let Some(bucket) = outputs.get(crate::stacks::outputs::MODULES_BUCKET) {
            self.stage_streamers(&s.name, &s3, bucket).await?;
        }
        self.reporter.finish(
            &s.name,
            match outcome {
                Outcome::Created => "created",
                Outcome::Updated => "updated",
                Outcome::Unchanged => "no changes",
                Outcome::Deleted => "deleted",
                Outcome::Absent => "not deployed",
            },
        );
        Ok((outcome, outputs))
    }
}

/// Logical ids of the evidence resources `destroy --include-evidence` removes.
pub const EVIDENCE_RESOURCES: [&str; 3] = ["EvidenceBucket", "EvidenceKey", "CustodyKey"];

impl Deployer {
    /// Deletes every stack of `synth`, dependents first, independent stacks in parallel.
    /// Retained resources stay (and are listed); with `include_evidence` the evidence bucket is
    /// emptied of what Object Lock allows and deleted, and its keys are scheduled for deletion.
    pub async fn destroy(&self, synth: &SynthDir, include_evidence: bool) -> DeployReport {
        let started = std::time::Instant::now();
        let plan = &synth.plan;
        let mut results: HashMap<String, StackResult> = HashMap::new();
        let mut pending: Vec<&PlannedStack> = plan.stacks.iter().rev().collect();
        let mut running = FuturesUnordered::new();
        loop {
            let mut i = 0;
            while i < pending.len() {
                let s = pending[i];
                let dependents: Vec<&PlannedStack> = plan
                    .stacks
                    .iter()
                    .filter(|o| o.depends_on.contains(&s.name))
                    .collect();
                if let Some(blocker) = dependents.iter().find(|d| {
                    matches!(
                        results.get(&d.name),
                        Some(StackResult::Failed(_) | StackResult::Skipped { .. })
                    )
                }) {
                    results.insert(
                        s.name.clone(),
                        StackResult::Skipped {
                            because: blocker.name.clone(),
                        },
                    );
                    pending.remove(i);
                    continue;
                }
                let ready = dependents
                    .iter()
                    .all(|d| matches!(results.get(&d.name), Some(StackResult::Done(_))));
                if ready && running.len() < self.settings.concurrency.max(1) {
                    running.push(async move { (s, self.destroy_one(s, include_evidence).await) });
                    pending.remove(i);
                    continue;
                }
                i += 1;
            }
            let Some((s, r)) = running.next().await else {
                break;
            };
            results.insert(
                s.name.clone(),
                match r {
                    Ok(o) => StackResult::Done(o),
                    Err(e) => {
                        self.reporter.finish(&s.name, "FAILED");
                        StackResult::Failed(e.to_string())
                    }
                },
            );
        }
        DeployReport {
            stacks: plan
                .stacks
                .iter()
                .rev()
                .map(|s| {
                    let r = results
                        .remove(&s.name)
                        .unwrap_or(StackResult::Failed("not attempted".to_owned()));
                    (s.name.clone(), r)
                })
                .collect(),
            elapsed: started.elapsed(),
            critical_path: 0,
        }
    }

    async fn destroy_one(
        &self,
        s: &PlannedStack,
        include_evidence: bool,
    ) -> Result<Outcome, DeployError> {
        self.reporter.begin(
            &s.name,
            &format!("deleting in {}/{}", s.account_id, s.region),
        );
        let conf = self.ctx.config_for(&s.account_id, &s.region).await?;
        let cfn = AwsContext::cloudformation(&conf);
        if let Some(target) = &s.stack_set {
            let outcome = stackset::delete(&cfn, s, target, self.settings.poll).await?;
            self.reporter.finish(
                &s.name,
                if outcome == Outcome::Deleted {
                    "deleted"
                } else {
                    "not deployed"
                },
            );
            return Ok(outcome);
        }
        if stack::describe(&cfn, &s.name).await?.is_none() {
            self.reporter.finish(&s.name, "not deployed");
            return Ok(Outcome::Absent);
        }
        let physical = stack::physical_ids(&cfn, &s.name).await.unwrap_or_default();
        stack::delete(&cfn, &s.name, self.settings.poll, &self.reporter).await?;
        let mut kept = Vec::new();
        for id in &s.retains {
            let Some(p) = physical.get(id) else { continue };
            if include_evidence && EVIDENCE_RESOURCES.contains(&id.as_str()) {
                self.delete_evidence(&conf, id, p, &s.name).await?;
            } else {
                kept.push(format!("{id} ({p})"));
            }
        }
        if !kept.is_empty() {
            self.reporter.event(
                &s.name,
                &format!("kept (DeletionPolicy Retain): {}", kept.join(", ")),
            );
        }
        self.reporter.finish(&s.name, "deleted");
        Ok(Outcome::Deleted)
    }

    async fn delete_evidence(
        &self,
        conf: &aws_config::SdkConfig,
        logical: &str,
        physical: &str,
        stack_name: &str,
    ) -> Result<(), DeployError> {
        if logical == "EvidenceBucket" {
            let s3 = self.ctx.s3(conf);
            let mut locked = Vec::new();
            let versions = s3
                .list_object_versions()
                .bucket(physical)
                .send()
                .await
                .map_err(|e| DeployError::aws(&format!("s3:ListObjectVersions {physical}"), e))?;
            for v in versions.versions() {
                let (Some(key), Some(version)) = (v.key(), v.version_id()) else {
                    continue;
                };
                if s3
                    .delete_object()
                    .bucket(physical)
                    .key(key)
                    .version_id(version)
                    .send()
                    .await
                    .is_err()
                {
                    locked.push(key.to_owned());
                }
            }
            for m in versions.delete_markers() {
                if let (Some(key), Some(version)) = (m.key(), m.version_id()) {
                    let _ = s3
                        .delete_object()
                        .bucket(physical)
                        .key(key)
                        .version_id(version)
                        .send()
                        .await;
                }
            }
            if !locked.is_empty() {
                return Err(DeployError::Stack {
                    stack: stack_name.to_owned(),
                    message: format!(
                        "evidence bucket {physical} kept: {} object version(s) are under Object Lock retention (e.g. {})",
                        locked.len(),
                        locked[0]
                    ),
                    failures: Vec::new(),
                });
            }
            s3.delete_bucket()
                .bucket(physical)
                .send()
                .await
                .map_err(|e| DeployError::aws(&format!("s3:DeleteBucket {physical}"), e))?;
            self.reporter
                .event(stack_name, &format!("deleted evidence bucket {physical}"));
        } else {
            aws_sdk_kms::Client::new(conf)
                .schedule_key_deletion()
                .key_id(physical)
                .pending_window_in_days(30)
                .send()
                .await
                .map_err(|e| DeployError::aws(&format!("kms:ScheduleKeyDeletion {physical}"), e))?;
            self.reporter.event(
                stack_name,
                &format!("scheduled deletion of {logical} {physical} in 30 days"),
            );
        }
        Ok(())
    }
}

/// Resolves a stack's parameters from values and producer outputs.
fn resolve(
    s: &PlannedStack,
    outputs: &HashMap<String, BTreeMap<String, String>>,
) -> Result<BTreeMap<String, String>, DeployError> {
    let mut params = BTreeMap::new();
    for (k, src) in &s.parameters {
        let v = match src {
            ParamSource::Value { value } => value.clone(),
            ParamSource::Output { from_stack, output } => outputs
                .get(from_stack)
                .and_then(|o| o.get(output))
                .cloned()
                .ok_or_else(|| DeployError::Stack {
                    stack: s.name.clone(),
                    message: format!("parameter {k} needs output {output} of {from_stack}, which that stack does not have"),
                    failures: Vec::new(),
                })?,
        };
        params.insert(k.clone(), v);
    }
    Ok(params)
}
