//! Security account: the LiME module factory.
//!
//! Reads the AMI list (the SSM parameter from org.toml, and the requests added without a stack
//! update), runs the watchdog, and launches one ephemeral builder per AMI that is due
//! ([`crate::factory`]): one per AMI and day, so a retried or repeated trigger never launches a
//! second builder for the same work.

use irf_core::env::ModuleFactoryEnv;
use irf_core::model::BuilderTypes;
use serde_json::Value;

use crate::aws::Aws;
use crate::error::{HandlerError, Result};
use crate::factory::{AmiStatus, Factory, Settings};

/// The factory the environment describes, in the home region of `aws`.
pub fn factory(aws: &Aws, env: &ModuleFactoryEnv<String>) -> Result<Factory> {
    let conf = aws.here(&aws.home_region());
    let minutes: i64 = env.build_timeout_minutes.parse().map_err(|_| {
        HandlerError::fatal(format!(
            "{} = {:?} is not a number of minutes",
            irf_core::env::keys::BUILD_TIMEOUT_MINUTES,
            env.build_timeout_minutes
        ))
    })?;
    Ok(Factory::new(
        aws,
        &conf,
        &env.modules_bucket,
        &env.ami_parameter,
        Settings {
            launch_template: env.launch_template_id.clone(),
            builder_types: BuilderTypes {
                x86_64: env.x86_64_builder_type.clone(),
                arm64: env.arm64_builder_type.clone(),
            },
            build_timeout: minutes * 60,
            region: aws.home_region(),
        },
    ))
}

/// Adds the watched parameters' AMIs (and an available Image Builder image's), runs the
/// watchdog, then launches the builders that are due (nightly, when the list changes, when an
/// image becomes available).
pub async fn handle(aws: &Aws, event: Value) -> Result<Value> {
    let env = ModuleFactoryEnv::from_env().map_err(HandlerError::fatal)?;
    let factory = factory(aws, &env)?;
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(HandlerError::fatal)?
            .as_secs(),
    )
    .map_err(HandlerError::fatal)?;
    let watched: Vec<String> = env
        .watch_parameters
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    let mut added = factory.watch_parameters(&watched, now).await?;
    added.extend(factory.image_builder_event(&event, now).await?);
    for a in &added {
        tracing::info!(ami = %a.ami_id, from = %a.from, "added to the factory's list");
    }
    let list: Vec<String> = factory
        .list()
        .await?
        .into_iter()
        .map(|(ami, _)| ami)
        .collect();
    let stopped = factory.watchdog(now).await?;
    let statuses = factory.reconcile(&list, now, true).await?;
    let launched: Vec<Value> = statuses
        .iter()
        .filter_map(|(ami, s)| match s {
            AmiStatus::Launched(b) => Some(serde_json::json!({
                "ami": ami, "instance": b.instance_id, "instance_type": b.instance_type,
            })),
            _ => None,
        })
        .collect();
    let status: serde_json::Map<String, Value> = statuses
        .iter()
        .map(|(ami, s)| (ami.clone(), Value::from(s.label())))
        .collect();
    let terminated: Vec<&str> = stopped.iter().map(|b| b.instance_id.as_str()).collect();
    let added: Vec<&str> = added.iter().map(|a| a.ami_id.as_str()).collect();
    Ok(serde_json::json!({
        "added": added, "launched": launched, "status": status, "terminated": terminated,
    }))
}
