//! Security account: the LiME module factory.
//!
//! Reads the AMI list from its SSM parameter and launches one ephemeral builder per AMI whose
//! manifest (`factory/<ami>.json`, written by the builder when done) is missing or older than a
//! day, from the hardened launch template. The client token is derived from the AMI and the
//! day, so a retried or repeated trigger never launches a second builder for the same work.

use irf_core::env::ModuleFactoryEnv;
use serde_json::Value;

use crate::aws::Aws;
use crate::error::{self, HandlerError, Result};

/// AMI ids in the parameter value (`"none"` or comma-separated ids).
pub fn amis(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|a| a.starts_with("ami-"))
        .map(str::to_owned)
        .collect()
}

/// Launches missing builders.
pub async fn handle(aws: &Aws, _event: Value) -> Result<Value> {
    let conf = aws.here(&aws.home_region());
    let ModuleFactoryEnv {
        modules_bucket: bucket,
        ami_parameter: parameter,
        launch_template_id: template,
    } = ModuleFactoryEnv::from_env().map_err(HandlerError::fatal)?;
    let value = aws
        .ssm(&conf)
        .get_parameter()
        .name(&parameter)
        .send()
        .await
        .map_err(|e| error::aws(&format!("ssm:GetParameter {parameter}"), e))?
        .parameter()
        .and_then(|p| p.value())
        .unwrap_or_default()
        .to_owned();
    let s3 = aws.s3(&conf);
    let ec2 = aws.ec2(&conf);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(HandlerError::fatal)?
        .as_secs();
    let day = now / 86_400;
    let now = i64::try_from(now).map_err(HandlerError::fatal)?;
    let mut launched = Vec::new();
    let mut current = Vec::new();
    for ami in amis(&value) {
        let manifest = s3
            .head_object()
            .bucket(&bucket)
            .key(format!("factory/{ami}.json"))
            .send()
            .await;
        let fresh = match manifest {
            Ok(h) => h.last_modified().is_some_and(|t| now - t.secs() < 86_400),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => false,
            Err(e) => return Err(error::aws(&format!("s3:HeadObject factory/{ami}.json"), e)),
        };
        if fresh {
            current.push(ami);
            continue;
        }
        let out = ec2
            .run_instances()
            .launch_template(
                aws_sdk_ec2::types::LaunchTemplateSpecification::builder()
                    .launch_template_id(&template)
                    .version("$Latest")
                    .build(),
            )
            .image_id(&ami)
            .min_count(1)
            .max_count(1)
            .client_token(format!("irf-factory-{ami}-{day}"))
            .send()
            .await
            .map_err(|e| error::aws(&format!("ec2:RunInstances for {ami}"), e))?;
        let ids: Vec<String> = out
            .instances()
            .iter()
            .filter_map(|i| i.instance_id().map(str::to_owned))
            .collect();
        tracing::info!(%ami, instances = ?ids, "module builder launched");
        launched.push(serde_json::json!({ "ami": ami, "instances": ids }));
    }
    Ok(serde_json::json!({ "launched": launched, "current": current }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn ami_list() {
        assert_eq!(
            super::amis("ami-0a1b2c3d, ami-12345678"),
            ["ami-0a1b2c3d", "ami-12345678"]
        );
        assert!(super::amis("none").is_empty());
    }
}
