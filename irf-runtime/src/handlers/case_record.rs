//! Security account: opening, containing and closing cases (the workflow's case steps).

use irf_core::contract;
use irf_core::env::CaseRecordEnv;
use irf_core::handler::Handler;
use irf_core::steps::{BranchStatus, Case, CaseStep};
use serde_json::Value;

use crate::aws::Aws;
use crate::custody::Custody;
use crate::error::{self, HandlerError, Result};

/// Validates the workflow input (the fixed schema: `CaseId`, `InstanceId`, `Account`, `Region`,
/// `RetainArtefacts` as `"true"`/`"false"`).
pub fn open(input: &Value) -> Result<Case> {
    let field = |k: &str| {
        input
            .get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| HandlerError::Fatal(format!("case input lacks {k} (a string)")))
    };
    let case_id = field("CaseId")?;
    let account = field("Account")?;
    let region = field("Region")?;
    let instance_id = field("InstanceId")?;
    if case_id.is_empty()
        || case_id.len() > 64
        || !case_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(HandlerError::Fatal(format!(
            "CaseId {case_id:?} must be 1..64 letters, digits, '-' or '_' (it names S3 prefixes and executions)"
        )));
    }
    irf_core::model::AccountId::parse(&account).map_err(HandlerError::Fatal)?;
    if irf_core::region::Region::lookup(&region).is_none() {
        return Err(HandlerError::Fatal(format!(
            "Region {region:?} is not a known region"
        )));
    }
    if !instance_id.starts_with("i-")
        || instance_id.len() < 10
        || !instance_id[2..].bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(HandlerError::Fatal(format!(
            "InstanceId {instance_id:?} is not an EC2 instance id"
        )));
    }
    let retain_artefacts = match input.get("RetainArtefacts") {
        None => true,
        Some(Value::String(s)) if s == "true" => true,
        Some(Value::String(s)) if s == "false" => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(HandlerError::Fatal(format!(
                "RetainArtefacts must be \"true\" or \"false\", got {other}"
            )));
        }
    };
    Ok(Case {
        case_id,
        account,
        region,
        instance_id,
        retain_artefacts,
    })
}

/// Tags the instance `SecurityIncidentStatus=Contain` through `IRAutomation`; the member's tag
/// handler isolates it. Any failure fails the step.
pub async fn contain(aws: &Aws, case: &Case) -> Result<Value> {
    let conf = aws
        .assume(&case.account, contract::IR_AUTOMATION_ROLE, &case.region)
        .await?;
    aws.ec2(&conf)
        .create_tags()
        .resources(&case.instance_id)
        .tags(
            aws_sdk_ec2::types::Tag::builder()
                .key(contract::INCIDENT_STATUS_TAG)
                .value(contract::STATUS_CONTAIN)
                .build(),
        )
        .send()
        .await
        .map_err(|e| error::aws(&format!("ec2:CreateTags {} Contain", case.instance_id), e))?;
    Ok(serde_json::json!({ "tagged": contract::STATUS_CONTAIN, "instance_id": case.instance_id }))
}

/// The case's identifiers as custody sources.
fn case_sources(case: &Case) -> std::collections::BTreeMap<String, String> {
    [
        ("account", &case.account),
        ("region", &case.region),
        ("instance", &case.instance_id),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.clone()))
    .collect()
}

/// The outcome of a case from its branch results (an object or a list of them).
pub fn outcome(results: &Value) -> Value {
    let list: Vec<&Value> = match results {
        Value::Array(a) => a.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    };
    let failed: Vec<String> = list
        .iter()
        .filter(|r| {
            r.get("Status").and_then(Value::as_str) != Some(BranchStatus::Succeeded.as_str())
        })
        .map(|r| {
            r.get("Kind")
                .and_then(Value::as_str)
                .unwrap_or("acquisition")
                .to_owned()
        })
        .collect();
    let status = if list.is_empty() || !failed.is_empty() {
        BranchStatus::Failed
    } else {
        BranchStatus::Succeeded
    };
    serde_json::json!({ "Status": status, "Failed": failed })
}

/// Handles a case step (the custody ledger from the process environment).
pub async fn handle(aws: &Aws, payload: Value) -> Result<Value> {
    let env = CaseRecordEnv::from_env().map_err(HandlerError::fatal)?;
    let custody = Custody::connect(aws, &env.evidence_bucket, &env.custody_key_arn).await?;
    handle_with(aws, &custody, payload).await
}

/// Handles a case step, recording it in `custody`.
pub async fn handle_with(aws: &Aws, custody: &Custody, payload: Value) -> Result<Value> {
    match super::request(Handler::CaseRecord, &payload)? {
        CaseStep::Open { input } => {
            let case = open(&input)?;
            tracing::info!(case_id = %case.case_id, "case opened");
            let record = crate::custody::Record {
                id: "case-opened".to_owned(),
                action: "case-opened".to_owned(),
                sources: case_sources(&case),
                reason: Some(format!("retain artefacts: {}", case.retain_artefacts)),
                ..Default::default()
            };
            custody.append(&case.case_id, record).await?;
            serde_json::to_value(case).map_err(HandlerError::fatal)
        }
        CaseStep::Contain { case } => {
            let done = contain(aws, &case).await?;
            let record = crate::custody::Record {
                id: "contain-requested".to_owned(),
                action: "contain-requested".to_owned(),
                sources: case_sources(&case),
                reason: Some(format!(
                    "tagged {}={} through {}",
                    contract::INCIDENT_STATUS_TAG,
                    contract::STATUS_CONTAIN,
                    contract::IR_AUTOMATION_ROLE
                )),
                ..Default::default()
            };
            custody.append(&case.case_id, record).await?;
            Ok(done)
        }
        CaseStep::Close { case, results } => {
            let result = outcome(&results);
            let record = crate::custody::Record {
                id: "case-closed".to_owned(),
                action: "case-closed".to_owned(),
                sources: case_sources(&case),
                reason: Some(result.to_string()),
                ..Default::default()
            };
            custody.append(&case.case_id, record).await?;
            Ok(result)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_validates_the_sample_schema() {
        let ok = serde_json::json!({"CaseId": "INC456789", "InstanceId": "i-3f182ce62a7962a53", "Account": "234567890123", "Region": "us-east-2", "RetainArtefacts": "true"});
        let c = open(&ok).unwrap();
        assert!(c.retain_artefacts);
        let mut bad = ok.clone();
        bad["Account"] = Value::from("2345");
        assert!(open(&bad).unwrap_err().to_string().contains("12 digits"));
        let mut bad = ok.clone();
        bad["CaseId"] = Value::from("../etc");
        assert!(open(&bad).is_err());
        let mut bad = ok;
        bad["RetainArtefacts"] = Value::from("yes");
        assert!(
            open(&bad)
                .unwrap_err()
                .to_string()
                .contains("RetainArtefacts")
        );
    }

    #[test]
    fn outcome_fails_when_any_branch_failed() {
        let ok = serde_json::json!([{"Kind": "disk", "Status": "SUCCEEDED"}, {"Kind": "memory", "Status": "SUCCEEDED"}]);
        assert_eq!(outcome(&ok)["Status"], "SUCCEEDED");
        let bad = serde_json::json!([{"Kind": "disk", "Status": "SUCCEEDED"}, {"Kind": "memory", "Status": "FAILED"}]);
        assert_eq!(outcome(&bad)["Failed"][0], "memory");
        assert_eq!(outcome(&Value::Null)["Status"], "FAILED");
    }
}
