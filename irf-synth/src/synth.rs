//! Synthesis: framework → templates and plan, with every check that can run before deploy.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use irf_core::cfn::resources::Resource;
use irf_core::cfn::{Template, limits, yaml};
use irf_core::model::{Framework, MemberTarget};
use sha2::{Digest, Sha256};

use crate::plan::{AssetRef, PLAN_VERSION, ParamSource, Plan, PlannedStack, StackSetTarget};
use crate::stacks::{ASSET_BUCKET, ASSET_KEY, Binding, StackKind, Target};

/// Asset name of the Lambda runtime in the plan ([`AssetRef::name`]).
pub const RUNTIME_ASSET: &str = "irf-runtime";

/// A synthesis problem: the model produced something CloudFormation would reject or that is
/// wired inconsistently. These are bugs of the synthesizer or limits hit by the org config.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// A template failed its structural checks.
    #[error("template {kind}: {problems}")]
    Template {
        /// The kind whose template is wrong.
        kind: StackKind,
        /// Every problem found, separated by `; `.
        problems: String,
    },
    /// A stack's parameters and their sources disagree.
    #[error("stack {stack}: {problem}")]
    Wiring {
        /// The stack whose parameters are miswired.
        stack: String,
        /// What is wrong.
        problem: String,
    },
    /// Writing the output failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file or directory that could not be written.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// One emitted template.
#[derive(Clone, Debug)]
pub struct EmittedTemplate {
    /// The stack kind it is the template of.
    pub kind: StackKind,
    /// Path relative to the synth directory (`templates/NN-slug.yaml`).
    pub path: String,
    /// The template as written (canonical YAML).
    pub yaml: String,
    /// SHA-256 of the YAML.
    pub sha256: String,
    /// The typed template (for tests and checks).
    pub template: Template,
}

/// The result of synthesis.
#[derive(Clone, Debug)]
pub struct Synthesis {
    /// Templates in deploy order, one per kind in use.
    pub templates: Vec<EmittedTemplate>,
    /// The deploy plan, written as `plan.json`.
    pub plan: Plan,
}

/// Durations of the synthesis phases, for `--timings`.
#[derive(Clone, Debug, Default)]
pub struct Timings {
    /// Building and checking templates.
    pub build: std::time::Duration,
    /// Emitting YAML and running the YAML 1.1 guard.
    pub emit: std::time::Duration,
    /// Planning the stack instances and checking that every parameter is bound.
    pub plan: std::time::Duration,
}

/// Synthesizes the stack set of `fw`.
pub fn synthesize(fw: &Framework) -> Result<Synthesis, SynthError> {
    synthesize_timed(fw).map(|(s, _)| s)
}

/// Instances of a kind. Members naming an OU get one StackSet per member kind, administered
/// from the security account in the home region.
fn instances(kind: StackKind, fw: &Framework) -> Vec<(String, Target<'_>)> {
    let home = fw.home_region();
    let single = |account| {
        vec![(
            fw.names.stack(kind.slug()),
            Target {
                account,
                region: home,
                member: None,
                stack_set: None,
            },
        )]
    };
    let stack_set = |m: &'_ irf_core::model::Member, ou, regions: Vec<irf_core::region::Region>| {
        (
            fw.names.stack(&format!("{}-{}", kind.slug(), m.name)),
            Target {
                account: &fw.security,
                region: home,
                member: None,
                stack_set: Some((ou, regions)),
            },
        )
    };
    match kind {
        StackKind::ForensicsAnalysis
        | StackKind::ForensicsImageBuilder
        | StackKind::ForensicsEvidencePolicy => single(&fw.forensics),
        StackKind::SecurityIrVpc
        | StackKind::SecurityAutomation
        | StackKind::SecurityModuleFactory
        | StackKind::SecurityHub => single(&fw.security),
        StackKind::ForensicsIngest => fw
            .ingest_regions()
            .into_iter()
            .map(|r| {
                (
                    fw.names.stack(&format!("{}-{r}", kind.slug())),
                    Target {
                        account: &fw.forensics,
                        region: r,
                        member: None,
                        stack_set: None,
                    },
                )
            })
            .collect(),
        StackKind::MemberBaseline => fw
            .members
            .iter()
            .map(|m| match &m.target {
                MemberTarget::Account(a) => (
                    fw.names.stack(&format!("{}-{}", kind.slug(), m.name)),
                    Target {
                        account: a,
                        region: m.baseline_region(),
                        member: Some(m),
                        stack_set: None,
                    },
                ),
                MemberTarget::Ou(ou) => {
                    let (name, mut t) = stack_set(m, ou, vec![m.baseline_region()]);
                    t.member = Some(m);
                    (name, t)
                }
            })
            .collect(),
        StackKind::MemberAutomation => fw
            .members
            .iter()
            .flat_map(|m| match &m.target {
                MemberTarget::Account(a) => m
                    .regions
                    .iter()
                    .map(|r| {
                        (
                            fw.names.stack(&format!("{}-{}-{r}", kind.slug(), m.name)),
                            Target {
                                account: a,
                                region: *r,
                                member: Some(m),
                                stack_set: None,
                            },
                        )
                    })
                    .collect::<Vec<_>>(),
                MemberTarget::Ou(ou) => {
                    let (name, mut t) = stack_set(m, ou, m.regions.clone());
                    t.member = Some(m);
                    vec![(name, t)]
                }
            })
            .collect(),
    }
}

/// Synthesizes and reports how long each phase took.
pub fn synthesize_timed(fw: &Framework) -> Result<(Synthesis, Timings), SynthError> {
    let mut timings = Timings::default();
    let mut templates = Vec::new();
    for kind in StackKind::ORDER {
        if instances(kind, fw).is_empty() {
            continue;
        }
        let started = std::time::Instant::now();
        let template = kind.template(fw);
        check_template(kind, &template)?;
        timings.build += started.elapsed();

        let started = std::time::Instant::now();
        let text = template.to_yaml();
        let unsafe_scalars = yaml::unsafe_plain_scalars(&text, &yaml::profile(&template));
        if !unsafe_scalars.is_empty() {
            return Err(SynthError::Template {
                kind,
                problems: format!("strings a YAML 1.1 reader would coerce: {unsafe_scalars:?}"),
            });
        }
        if text.len() > limits::TEMPLATE_BYTES {
            return Err(SynthError::Template {
                kind,
                problems: format!(
                    "{} bytes exceed CloudFormation's {} byte limit",
                    text.len(),
                    limits::TEMPLATE_BYTES
                ),
            });
        }
        timings.emit += started.elapsed();
        let sha256 = hex::encode(Sha256::digest(text.as_bytes()));
        templates.push(EmittedTemplate {
            kind,
            path: format!("templates/{}", kind.file_name()),
            yaml: text,
            sha256,
            template,
        });
    }
    let started = std::time::Instant::now();
    let plan = plan(fw, &templates)?;
    timings.plan = started.elapsed();
    Ok((Synthesis { templates, plan }, timings))
}

fn check_template(kind: StackKind, t: &Template) -> Result<(), SynthError> {
    let mut problems: Vec<String> = match t.check() {
        Ok(()) => Vec::new(),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    };
    for (id, entry) in &t.resources {
        if let Resource::StateMachine(sm) = &entry.resource
            && let Err(errors) = sm.definition.validate()
        {
            problems.extend(errors.iter().map(|e| format!("{id}: {e}")));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(SynthError::Template {
            kind,
            problems: problems.join("; "),
        })
    }
}

fn capabilities(t: &Template) -> Vec<String> {
    let iam = t.resources.values().any(|e| {
        matches!(
            e.resource,
            Resource::Role(_) | Resource::InstanceProfile(_) | Resource::ManagedPolicy(_)
        )
    });
    if iam {
        vec![
            "CAPABILITY_IAM".to_owned(),
            "CAPABILITY_NAMED_IAM".to_owned(),
        ]
    } else {
        Vec::new()
    }
}

fn plan(fw: &Framework, templates: &[EmittedTemplate]) -> Result<Plan, SynthError> {
    let mut stacks: Vec<PlannedStack> = Vec::new();
    // (kind, member name) -> stack name, for resolving output bindings.
    let mut produced: BTreeMap<(StackKind, Option<String>), String> = BTreeMap::new();
    for emitted in templates {
        let kind = emitted.kind;
        for (name, target) in instances(kind, fw) {
            let wiring = |problem: String| SynthError::Wiring {
                stack: name.clone(),
                problem,
            };
            let bindings = kind.bindings(fw, &target);
            let declared: BTreeSet<&String> = emitted.template.parameters.keys().collect();
            let bound: BTreeSet<&String> = bindings.keys().collect();
            if declared != bound {
                return Err(wiring(format!(
                    "template parameters {declared:?} differ from the bound parameters {bound:?}"
                )));
            }
            let mut parameters = BTreeMap::new();
            let mut depends_on = BTreeSet::new();
            let mut assets = Vec::new();
            for (param, binding) in bindings {
                match binding {
                    Binding::Value(value) => {
                        parameters.insert(param, ParamSource::Value { value });
                    }
                    Binding::Output {
                        kind: producer,
                        output,
                    } => {
                        let member_key = match producer {
                            StackKind::MemberBaseline | StackKind::MemberAutomation => {
                                target.member.map(|m| m.name.clone())
                            }
                            _ => None,
                        };
                        let from =
                            produced
                                .get(&(producer, member_key))
                                .cloned()
                                .ok_or_else(|| {
                                    wiring(format!(
                                        "{param} needs {producer}, which is not deployed before it"
                                    ))
                                })?;
                        let producer_template = templates
                            .iter()
                            .find(|t| t.kind == producer)
                            .map(|t| &t.template);
                        if !producer_template.is_some_and(|t| t.outputs.contains_key(output)) {
                            return Err(wiring(format!(
                                "{param} reads output {output} that {producer} does not publish"
                            )));
                        }
                        depends_on.insert(from.clone());
                        parameters.insert(
                            param,
                            ParamSource::Output {
                                from_stack: from,
                                output: output.to_owned(),
                            },
                        );
                    }
                    Binding::Asset => {
                        if assets.is_empty() {
                            assets.push(AssetRef {
                                name: RUNTIME_ASSET.to_owned(),
                                architecture: fw.lambda.architecture.as_cfn().to_owned(),
                                bucket_parameter: ASSET_BUCKET.to_owned(),
                                key_parameter: ASSET_KEY.to_owned(),
                            });
                        }
                    }
                }
            }
            for before in kind.after() {
                let key = (*before, target.member.map(|m| m.name.clone()));
                let from = produced.get(&key).cloned().ok_or_else(|| {
                    wiring(format!(
                        "must follow {before}, which is not deployed before it"
                    ))
                })?;
                depends_on.insert(from);
            }
            produced.insert((kind, target.member.map(|m| m.name.clone())), name.clone());
            stacks.push(PlannedStack {
                name,
                kind: kind.slug().to_owned(),
                account_id: target.account.as_str().to_owned(),
                region: target.region.as_str().to_owned(),
                template: emitted.path.clone(),
                template_sha256: emitted.sha256.clone(),
                depends_on: depends_on.into_iter().collect(),
                parameters,
                assets,
                capabilities: capabilities(&emitted.template),
                tags: fw.tags.clone(),
                artifact_bucket: fw.names.asset_bucket(target.account, target.region),
                retains: emitted
                    .template
                    .resources
                    .iter()
                    .filter(|(_, e)| e.deletion_policy == Some(irf_core::cfn::Policy::Retain))
                    .map(|(id, _)| id.clone())
                    .collect(),
                stack_set: target
                    .stack_set
                    .as_ref()
                    .map(|(ou, regions)| StackSetTarget {
                        organizational_unit: ou.as_str().to_owned(),
                        regions: regions.iter().map(|r| r.as_str().to_owned()).collect(),
                        artifact_buckets: regions
                            .iter()
                            .map(|r| {
                                (
                                    r.as_str().to_owned(),
                                    fw.names.asset_bucket(target.account, *r),
                                )
                            })
                            .collect(),
                    }),
            });
        }
    }
    Ok(Plan {
        version: PLAN_VERSION,
        partition: fw.partition().as_str().to_owned(),
        organization_id: fw.org.id.as_str().to_owned(),
        stacks,
    })
}

impl Synthesis {
    /// `plan.json` as written (pretty JSON, trailing newline).
    pub fn plan_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(&self.plan).expect("the plan serializes");
        s.push('\n');
        s
    }

    /// Writes `templates/*.yaml` and `plan.json` under `dir`, replacing stale templates.
    pub fn write_to(&self, dir: &Path) -> Result<(), SynthError> {
        let err = |path: &Path| {
            let path = path.display().to_string();
            move |source| SynthError::Write { path, source }
        };
        let templates_dir = dir.join("templates");
        std::fs::create_dir_all(&templates_dir).map_err(err(&templates_dir))?;
        let keep: BTreeSet<String> = self.templates.iter().map(|t| t.kind.file_name()).collect();
        for entry in std::fs::read_dir(&templates_dir).map_err(err(&templates_dir))? {
            let entry = entry.map_err(err(&templates_dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".yaml") && !keep.contains(&name) {
                std::fs::remove_file(entry.path()).map_err(err(&entry.path()))?;
            }
        }
        for t in &self.templates {
            let path = dir.join(&t.path);
            write_if_changed(&path, &t.yaml).map_err(err(&path))?;
        }
        let plan_path = dir.join("plan.json");
        write_if_changed(&plan_path, &self.plan_json()).map_err(err(&plan_path))?;
        Ok(())
    }
}

/// Writes through a temporary file and a rename, and leaves identical files untouched.
fn write_if_changed(path: &Path, content: &str) -> std::io::Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == content) {
        return Ok(());
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, content)?;
    std::fs::rename(&tmp, path)
}
