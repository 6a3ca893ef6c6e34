//! The deployer: every stack of a synth directory in dependency order, independent stacks in
//! parallel, producer outputs passed as consumer parameters, unchanged stacks left alone.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, OnceCell};

use super::assets::{self, Asset, AssetSource};
use super::aws::AwsContext;
use super::progress::Reporter;
use super::report::{DeployReport, Outcome};
use super::schedule::{Graph, Run, Scheduler};
use super::stack::{self, Method, StackInput, StackState};
use super::{DeployError, SynthDir, stackset};
use crate::plan::{ParamSource, PlannedStack};

/// How the deployer works.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Change sets (review and safety on AWS) or direct CreateStack/UpdateStack.
    pub method: Method,
    /// Stacks worked on at the same time (independent stacks only; 0 counts as 1).
    pub concurrency: usize,
    /// How often CloudFormation is polled while an operation runs.
    pub poll: Duration,
}

/// A stack's outcome and its outputs (what the stacks depending on it read).
type Applied = (Outcome, BTreeMap<String, String>);

/// Deploys and destroys synth directories.
#[derive(Debug)]
pub struct Deployer {
    pub(super) ctx: Arc<AwsContext>,
    pub(super) settings: Settings,
    pub(super) assets: AssetSource,
    pub(super) reporter: Reporter,
    /// Runtime assets built (or read) so far, by architecture.
    pub(super) packaged: Mutex<HashMap<String, Arc<Asset>>>,
    /// Artifact buckets ensured so far in this run.
    pub(super) ensured: Mutex<HashMap<String, Arc<OnceCell<()>>>>,
}

impl Deployer {
    /// A deployer reaching AWS through `ctx`, taking the runtime asset from `assets`.
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
            ensured: Mutex::new(HashMap::new()),
        }
    }

    /// The AWS context it works through (for callers reading the same accounts, e.g. diff).
    pub fn context(&self) -> &AwsContext {
        &self.ctx
    }

    /// Runs `work` for every stack of `graph` through the scheduler, reporting each failure
    /// and skip as it happens.
    pub(super) async fn schedule<'p, T, Fut>(
        &self,
        graph: &Graph<&'p PlannedStack>,
        mut work: impl FnMut(&'p PlannedStack, &[(&str, &T)]) -> Fut,
    ) -> Run<T, DeployError>
    where
        Fut: Future<Output = Result<T, DeployError>>,
    {
        Scheduler::new(graph, self.settings.concurrency)
            .on_skip(|s: &&PlannedStack, failed: &str| {
                self.reporter
                    .finish(&s.name, &format!("skipped: {failed} failed"));
            })
            .run(|s, deps| {
                let s = *s;
                let work = work(s, deps);
                async move {
                    let r = work.await;
                    if r.is_err() {
                        self.reporter.finish(&s.name, "FAILED");
                    }
                    r
                }
            })
            .await
    }

    /// Deploys every stack of `synth`, in dependency order, `concurrency` at a time.
    pub async fn deploy(&self, synth: &SynthDir) -> DeployReport {
        let started = Instant::now();
        let plan = &synth.plan;
        let graph = match synth.graph() {
            Ok(g) => g,
            Err(e) => {
                return DeployReport::not_run(plan.stacks.iter().map(|s| s.name.as_str()), &e);
            }
        };
        let run = self
            .schedule(&graph, |s, deps| {
                let params = resolve(s, deps);
                async move {
                    self.deploy_one(s, synth.template(s), &params?, &plan.organization_id)
                        .await
                }
            })
            .await;
        DeployReport::of_run(run, started.elapsed(), |(outcome, _)| *outcome)
    }

    /// Deploys one stack; returns its outcome and outputs.
    async fn deploy_one(
        &self,
        s: &PlannedStack,
        template: &str,
        params: &BTreeMap<String, String>,
        org_id: &str,
    ) -> Result<Applied, DeployError> {
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
                self.reporter
                    .finish(&s.name, &Outcome::Unchanged.to_string());
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
        self.reporter.finish(&s.name, &outcome.to_string());
        Ok((outcome, outputs))
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
    ) -> Result<Applied, DeployError> {
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
}

/// Resolves a stack's parameters from values and the outputs of the stacks it depends on.
fn resolve(
    s: &PlannedStack,
    deps: &[(&str, &Applied)],
) -> Result<BTreeMap<String, String>, DeployError> {
    let mut params = BTreeMap::new();
    for (k, src) in &s.parameters {
        let v = match src {
            ParamSource::Value { value } => value.clone(),
            ParamSource::Output { from_stack, output } => {
                let Some((_, (_, outputs))) = deps.iter().find(|(n, _)| n == from_stack) else {
                    return Err(DeployError::Stack {
                        stack: s.name.clone(),
                        message: format!(
                            "parameter {k} needs output {output} of {from_stack}, which this stack does not depend on"
                        ),
                        failures: Vec::new(),
                    });
                };
                outputs.get(output).cloned().ok_or_else(|| DeployError::Stack {
                    stack: s.name.clone(),
                    message: format!("parameter {k} needs output {output} of {from_stack}, which that stack does not have"),
                    failures: Vec::new(),
                })?
            }
        };
        params.insert(k.clone(), v);
    }
    Ok(params)
}
