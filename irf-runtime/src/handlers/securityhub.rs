//! Security account: the Security Hub custom action.
//!
//! For each EC2 instance among the resources of the selected findings, sets
//! `SecurityIncidentStatus=Analyze` through `IRAutomation` in the instance's own account and
//! region (the member handler takes it from there). Other resource types are reported as
//! skipped. The findings get a note and the `NOTIFIED` workflow status.

use irf_core::contract;
use irf_core::events::{CUSTOM_ACTION_DETAIL_TYPE, CustomActionEvent, EC2_INSTANCE_RESOURCE_TYPE};
use irf_core::handler::Handler;
use serde::Serialize;
use serde_json::Value;

use crate::aws::Aws;
use crate::error::{self, HandlerError, Result};

/// An instance to analyze.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstanceRef {
    /// 12-digit account id, from the instance's ARN.
    pub account: String,
    /// Region, from the instance's ARN.
    pub region: String,
    /// Instance id (`i-...`), the last part of the ARN.
    pub instance_id: String,
}

/// What the action found in the event.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub struct Selection {
    /// The `AwsEc2Instance` resources of the findings.
    pub instances: Vec<InstanceRef>,
    /// Other resources, by type and id.
    pub skipped: Vec<String>,
    /// Findings (id, product ARN) to update.
    pub findings: Vec<(String, String)>,
}

/// Parses a "Security Hub Findings - Custom Action" event.
pub fn select(event: &Value) -> Result<Selection> {
    if event.get("detail-type").and_then(Value::as_str) != Some(CUSTOM_ACTION_DETAIL_TYPE) {
        return Err(HandlerError::Fatal(
            "not a Security Hub custom action event".into(),
        ));
    }
    let e: CustomActionEvent = super::request(Handler::SecurityHubAction, event)?;
    let mut s = Selection::default();
    for f in &e.detail.findings {
        if let (Some(id), Some(product)) = (&f.id, &f.product_arn) {
            s.findings.push((id.clone(), product.clone()));
        }
        for r in f.resources.iter().flatten() {
            let ty = r.resource_type.as_deref().unwrap_or("?");
            let id = r.id.as_deref().unwrap_or("?");
            let parsed = (ty == EC2_INSTANCE_RESOURCE_TYPE)
                .then(|| {
                    // arn:<partition>:ec2:<region>:<account>:instance/<id>
                    let parts: Vec<&str> = id.splitn(6, ':').collect();
                    let instance = parts.get(5)?.strip_prefix("instance/")?;
                    Some(InstanceRef {
                        account: (*parts.get(4)?).to_owned(),
                        region: (*parts.get(3)?).to_owned(),
                        instance_id: instance.to_owned(),
                    })
                })
                .flatten();
            match parsed {
                Some(i) if !s.instances.contains(&i) => s.instances.push(i),
                Some(_) => {}
                None => s.skipped.push(format!("{ty} {id}")),
            }
        }
    }
    Ok(s)
}

/// Handles one custom action.
pub async fn handle(aws: &Aws, event: Value) -> Result<Value> {
    let s = select(&event)?;
    let mut tagged = Vec::new();
    for i in &s.instances {
        let conf = aws
            .assume(&i.account, contract::IR_AUTOMATION_ROLE, &i.region)
            .await?;
        aws.ec2(&conf)
            .create_tags()
            .resources(&i.instance_id)
            .tags(
                aws_sdk_ec2::types::Tag::builder()
                    .key(contract::INCIDENT_STATUS_TAG)
                    .value(contract::STATUS_ANALYZE)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| {
                error::aws(
                    &format!(
                        "ec2:CreateTags {} in {}/{}",
                        i.instance_id, i.account, i.region
                    ),
                    e,
                )
            })?;
        tagged.push(i.instance_id.clone());
    }
    if !s.findings.is_empty() {
        let note = if tagged.is_empty() {
            format!(
                "IRF: no EC2 instance in the finding; skipped {}",
                s.skipped.join(", ")
            )
        } else {
            format!("IRF: incident response started for {}", tagged.join(", "))
        };
        let mut req = aws
            .securityhub(&aws.here(&aws.home_region()))
            .batch_update_findings()
            .note(
                aws_sdk_securityhub::types::NoteUpdate::builder()
                    .text(note.chars().take(512).collect::<String>())
                    .updated_by("irf")
                    .build(),
            )
            .workflow(
                aws_sdk_securityhub::types::WorkflowUpdate::builder()
                    .status(aws_sdk_securityhub::types::WorkflowStatus::Notified)
                    .build(),
            );
        for (id, product) in &s.findings {
            req = req.finding_identifiers(
                aws_sdk_securityhub::types::AwsSecurityFindingIdentifier::builder()
                    .id(id)
                    .product_arn(product)
                    .build(),
            );
        }
        req.send()
            .await
            .map_err(|e| error::aws("securityhub:BatchUpdateFindings", e))?;
    }
    Ok(serde_json::json!({ "tagged": tagged, "skipped": s.skipped }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_are_selected_and_other_resources_skipped() {
        let e = serde_json::json!({
            "detail-type": "Security Hub Findings - Custom Action", "source": "aws.securityhub",
            "detail": { "findings": [{
                "Id": "f-1", "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/guardduty",
                "Resources": [
                    {"Type": "AwsEc2Instance", "Id": "arn:aws:ec2:eu-west-1:333333333333:instance/i-0123456789abcdef0"},
                    {"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::data"},
                    {"Type": "AwsEc2Instance", "Id": "arn:aws:ec2:eu-west-1:333333333333:instance/i-0123456789abcdef0"}
                ]
            }]}
        });
        let s = select(&e).unwrap();
        assert_eq!(
            s.instances,
            [InstanceRef {
                account: "333333333333".into(),
                region: "eu-west-1".into(),
                instance_id: "i-0123456789abcdef0".into()
            }]
        );
        assert_eq!(s.skipped, ["AwsS3Bucket arn:aws:s3:::data"]);
        assert_eq!(s.findings.len(), 1);
        assert!(select(&serde_json::json!({"detail-type": "x"})).is_err());
    }
}
