//! `irf-synth diff`.

use std::collections::BTreeMap;

use aws_sdk_cloudformation::types::{Capability, ChangeSetStatus, ChangeSetType, Parameter};
use irf_synth::deploy::aws::{self, AwsContext};
use irf_synth::deploy::diff::{Action, diff_templates, resource_blocks};
use irf_synth::deploy::stack;
use irf_synth::plan::ParamSource;

use super::aws_args::AwsArgs;

/// Show what a deploy would change, per stack, without executing anything. Replacements are
/// evaluated by CloudFormation (a change set that is created, read and deleted) except on the
/// emulator, whose change sets are unreliable.
#[derive(Debug, clap::Args)]
pub(crate) struct DiffArgs {
    #[command(flatten)]
    aws: AwsArgs,
}

impl DiffArgs {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        let synth = self.aws.synth_dir()?;
        tokio::runtime::Runtime::new()?.block_on(async {
            let emulator = match &self.aws.endpoint_url {
                Some(e) => aws::is_emulator(e).await,
                None => false,
            };
            let ctx = self.aws.context(&synth).await?;
            let mut outputs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
            let mut changed = 0;
            for s in &synth.plan.stacks {
                let conf = ctx.config_for(&s.account_id, &s.region).await?;
                let cfn = AwsContext::cloudformation(&conf);
                let template = synth.template(s);
                let deployed = stack::describe(&cfn, &s.name).await?;
                let Some(d) = deployed else {
                    changed += 1;
                    println!(
                        "{} ({}/{}): create, {} resources",
                        s.name,
                        s.account_id,
                        s.region,
                        resource_blocks(template).len()
                    );
                    continue;
                };
                outputs.insert(s.name.clone(), d.outputs.clone());
                let mut param_changes = Vec::new();
                for (k, src) in &s.parameters {
                    let want = match src {
                        ParamSource::Value { value } => Some(value.clone()),
                        ParamSource::Output { from_stack, output } => {
                            outputs.get(from_stack).and_then(|o| o.get(output)).cloned()
                        }
                    };
                    if want.is_some() && want.as_ref() != d.parameters.get(k) {
                        param_changes.push(format!(
                            "{k}: {} -> {}",
                            d.parameters.get(k).map_or("(none)", String::as_str),
                            want.unwrap_or_default()
                        ));
                    }
                }
                let body = stack::template_body(&cfn, &s.name).await?;
                let mut changes = diff_templates(&body, template);
                if changes.is_empty() && param_changes.is_empty() && d.tags == s.tags {
                    println!("{} ({}/{}): no changes", s.name, s.account_id, s.region);
                    continue;
                }
                changed += 1;
                if !emulator && !changes.is_empty() {
                    replacements(&cfn, s, template, &d.parameters, &mut changes).await;
                }
                println!("{} ({}/{}): update", s.name, s.account_id, s.region);
                for p in param_changes {
                    println!("  parameter {p}");
                }
                for c in changes {
                    let mark = match c.action {
                        Action::Add => "+",
                        Action::Remove => "-",
                        Action::Modify => "~",
                    };
                    let replace = match c.replacement.as_deref() {
                        Some("True") => "  REPLACEMENT",
                        Some("Conditional") => "  may be replaced",
                        Some(_) => "",
                        None if emulator && c.action == Action::Modify => {
                            "  (replacement not evaluated on the emulator)"
                        }
                        None => "",
                    };
                    println!("  {mark} {} ({}){replace}", c.logical_id, c.resource_type);
                }
                if d.tags != s.tags {
                    println!("  stack tags change");
                }
            }
            println!(
                "{changed} of {} stack(s) would change",
                synth.plan.stacks.len()
            );
            Ok(())
        })
    }
}

/// Asks CloudFormation which modifications replace resources (change set created, read, deleted).
async fn replacements(
    cfn: &aws_sdk_cloudformation::Client,
    s: &irf_synth::plan::PlannedStack,
    template: &str,
    deployed_params: &BTreeMap<String, String>,
    changes: &mut [irf_synth::deploy::diff::Change],
) {
    let name = format!("irf-diff-{}", std::process::id());
    let params: Vec<Parameter> = s
        .parameters
        .keys()
        .map(|k| {
            Parameter::builder()
                .parameter_key(k)
                .set_parameter_value(deployed_params.get(k).cloned())
                .build()
        })
        .collect();
    let created = cfn
        .create_change_set()
        .stack_name(&s.name)
        .change_set_name(&name)
        .change_set_type(ChangeSetType::Update)
        .template_body(template)
        .set_parameters(Some(params))
        .set_capabilities(Some(
            s.capabilities
                .iter()
                .map(|c| Capability::from(c.as_str()))
                .collect(),
        ))
        .send()
        .await;
    if created.is_err() {
        return;
    }
    for _ in 0..120 {
        let Ok(cs) = cfn
            .describe_change_set()
            .stack_name(&s.name)
            .change_set_name(&name)
            .send()
            .await
        else {
            break;
        };
        match cs.status() {
            Some(ChangeSetStatus::CreateComplete) => {
                for rc in cs.changes().iter().filter_map(|c| c.resource_change()) {
                    if let Some(c) = changes
                        .iter_mut()
                        .find(|c| Some(c.logical_id.as_str()) == rc.logical_resource_id())
                    {
                        c.replacement = rc.replacement().map(|r| r.as_str().to_owned());
                    }
                }
                break;
            }
            Some(ChangeSetStatus::Failed) => break,
            _ => tokio::time::sleep(std::time::Duration::from_secs(2)).await,
        }
    }
    let _ = cfn
        .delete_change_set()
        .stack_name(&s.name)
        .change_set_name(&name)
        .send()
        .await;
}
