//! Destroying a synth directory's stacks: the dependency graph reversed (dependents first),
//! retained resources listed, and with `--include-evidence` the evidence bucket and its keys
//! removed as far as Object Lock allows.

use std::time::Instant;

use super::aws::AwsContext;
use super::deployer::Deployer;
use super::report::{DeployReport, Outcome};
use super::{DeployError, SynthDir, stack, stackset};
use crate::plan::PlannedStack;

/// Logical ids of the evidence resources `destroy --include-evidence` removes.
pub const EVIDENCE_RESOURCES: [&str; 3] = [EVIDENCE_BUCKET, "EvidenceKey", "CustodyKey"];

/// Logical id of the evidence bucket.
const EVIDENCE_BUCKET: &str = "EvidenceBucket";

/// The error code S3 answers a delete of an object version under Object Lock retention with.
const OBJECT_LOCK_REFUSAL: &str = "AccessDenied";

impl Deployer {
    /// Deletes every stack of `synth`, dependents first, independent stacks in parallel.
    /// Retained resources stay (and are listed); with `include_evidence` the evidence bucket is
    /// emptied of what Object Lock allows and deleted, and its keys are scheduled for deletion.
    pub async fn destroy(&self, synth: &SynthDir, include_evidence: bool) -> DeployReport {
        let started = Instant::now();
        let graph = match synth.graph() {
            Ok(g) => g.reversed(),
            Err(e) => {
                let names = synth.plan.stacks.iter().rev().map(|s| s.name.as_str());
                return DeployReport::not_run(names, &e);
            }
        };
        let run = self
            .schedule(&graph, |s, _| self.destroy_one(s, include_evidence))
            .await;
        DeployReport::of_run(run, started.elapsed(), |outcome| *outcome)
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
            self.reporter.finish(&s.name, &outcome.to_string());
            return Ok(outcome);
        }
        if stack::describe(&cfn, &s.name).await?.is_none() {
            self.reporter.finish(&s.name, &Outcome::Absent.to_string());
            return Ok(Outcome::Absent);
        }
        let physical = stack::physical_ids(&cfn, &s.name).await?;
        stack::delete(&cfn, &s.name, self.settings.poll, &self.reporter).await?;
        let mut kept = Vec::new();
        // The bucket goes first: when Object Lock keeps some of it, its keys must stay usable,
        // so the error returns before any key is scheduled for deletion.
        let mut retains: Vec<&String> = s.retains.iter().collect();
        retains.sort_by_key(|id| id.as_str() != EVIDENCE_BUCKET);
        for id in retains {
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
        self.reporter.finish(&s.name, &Outcome::Deleted.to_string());
        Ok(Outcome::Deleted)
    }

    async fn delete_evidence(
        &self,
        conf: &aws_config::SdkConfig,
        logical: &str,
        physical: &str,
        stack_name: &str,
    ) -> Result<(), DeployError> {
        if logical == EVIDENCE_BUCKET {
            let s3 = self.ctx.s3(conf);
            let mut locked = Vec::new();
            let mut markers: (Option<String>, Option<String>) = (None, None);
            loop {
                let page = s3
                    .list_object_versions()
                    .bucket(physical)
                    .set_key_marker(markers.0.take())
                    .set_version_id_marker(markers.1.take())
                    .send()
                    .await
                    .map_err(|e| {
                        DeployError::aws(&format!("s3:ListObjectVersions {physical}"), e)
                    })?;
                let versions = page.versions().iter().map(|v| (v.key(), v.version_id()));
                let deletes = page
                    .delete_markers()
                    .iter()
                    .map(|m| (m.key(), m.version_id()));
                for (key, version) in versions.chain(deletes) {
                    let (Some(key), Some(version)) = (key, version) else {
                        continue;
                    };
                    let deleted = s3
                        .delete_object()
                        .bucket(physical)
                        .key(key)
                        .version_id(version)
                        .send()
                        .await;
                    match deleted {
                        Ok(_) => {}
                        // Object Lock refuses deleting a version under retention with AccessDenied;
                        // that version stays, and the bucket with it. Anything else is a failure.
                        Err(e) if irf_sdk_error::code(&e) == Some(OBJECT_LOCK_REFUSAL) => {
                            locked.push(key.to_owned());
                        }
                        Err(e) => {
                            return Err(DeployError::aws(
                                &format!("s3:DeleteObject {physical}/{key} version {version}"),
                                e,
                            ));
                        }
                    }
                }
                if page.is_truncated() != Some(true) {
                    break;
                }
                markers = (
                    page.next_key_marker().map(str::to_owned),
                    page.next_version_id_marker().map(str::to_owned),
                );
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
