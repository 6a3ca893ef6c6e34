//! The responder's operations behind the `irf` CLI: the same containment engine and case
//! trigger the automation runs, driven by a person's credentials.
//!
//! They work where the framework is not deployed (break-glass): the framework's instance
//! profiles are used when they exist in the member account and otherwise the instance profile
//! is removed (contain) or left alone (analyze). Starting a case needs the deployed workflow.

use irf_core::contract;
use irf_core::events::IncidentRequest;
use irf_core::steps::CaseInput;
use serde::Serialize;

use crate::aws::Aws;
use crate::containment::{Containment, Report, Settings, Target};
use crate::error::{self, HandlerError, Result};
use crate::handlers::trigger::{self, Started};

/// Where the case workflow runs.
#[derive(Clone, Debug)]
pub struct SecurityHome {
    /// 12-digit id of the security account.
    pub account: String,
    /// The home region, where the case workflow runs.
    pub region: String,
}

/// Containment choices the org config (or the command line) makes.
#[derive(Clone, Debug)]
pub struct ContainOptions {
    /// Detach the instance's Elastic IPs.
    pub disassociate_elastic_ips: bool,
    /// Deny the sessions the previous role issued to this instance.
    pub revoke_role_sessions: bool,
    /// Keep the security-account snapshot copies (cases started here).
    pub retain_artefacts: bool,
}

impl Default for ContainOptions {
    fn default() -> Self {
        ContainOptions {
            disassociate_elastic_ips: false,
            revoke_role_sessions: true,
            retain_artefacts: true,
        }
    }
}

/// A responder with credentials.
#[derive(Debug)]
pub struct Responder {
    /// The responder's credentials, the clients built from them and their call counter.
    pub aws: Aws,
    /// Role assumed in accounts the credentials do not belong to.
    pub role_name: String,
    /// Org prefix, which the framework's physical names start with.
    pub prefix: String,
    /// Where cases run (needed by `case start` and `case status`).
    pub security: Option<SecurityHome>,
    /// Choices for `contain`, and the `RetainArtefacts` of cases started here.
    pub options: ContainOptions,
}

/// The state of a case workflow execution.
#[derive(Clone, Debug, Serialize)]
pub struct CaseStatus {
    /// The case id, as asked for.
    pub case_id: String,
    /// ARN of the case's execution (`sf-forensics-<CaseId>`).
    pub execution_arn: String,
    /// `RUNNING`, `SUCCEEDED`, `FAILED`, `TIMED_OUT` or `ABORTED`.
    pub status: String,
    /// Start (RFC 3339).
    pub started_at: String,
    /// End (RFC 3339), when ended.
    pub stopped_at: Option<String>,
    /// Error name, when failed.
    pub error: Option<String>,
    /// Error cause, when failed.
    pub cause: Option<String>,
    /// Workflow output, when succeeded.
    pub output: Option<serde_json::Value>,
}

impl Responder {
    async fn profile_if_present(
        &self,
        iam: &aws_sdk_iam::Client,
        account: &str,
        name: &str,
    ) -> Result<Option<String>> {
        match iam
            .get_instance_profile()
            .instance_profile_name(name)
            .send()
            .await
        {
            Ok(out) => Ok(out
                .instance_profile()
                .map(|p| p.arn().to_owned())
                .or_else(|| {
                    Some(format!(
                        "arn:{}:iam::{account}:instance-profile/{name}",
                        self.aws.partition()
                    ))
                })),
            Err(e) if error::code(&e) == Some("NoSuchEntity") => Ok(None),
            Err(e) => Err(error::aws(&format!("iam:GetInstanceProfile {name}"), e)),
        }
    }

    /// The containment engine for `target`, with the framework's profiles where deployed.
    pub async fn engine(&self, target: &Target) -> Result<Containment> {
        self.engine_with(target, &self.options).await
    }

    /// [`Responder::engine`] with other containment choices.
    pub async fn engine_with(
        &self,
        target: &Target,
        options: &ContainOptions,
    ) -> Result<Containment> {
        let conf = self
            .aws
            .account(&target.account, &self.role_name, &target.region)
            .await?;
        let iam = self.aws.iam(&conf);
        let (ir, isolation) = tokio::try_join!(
            self.profile_if_present(&iam, &target.account, contract::IR_INSTANCE_PROFILE),
            self.profile_if_present(&iam, &target.account, contract::ISOLATION_INSTANCE_PROFILE),
        )?;
        if isolation.is_none() {
            tracing::warn!(
                account = %target.account,
                "{} does not exist (framework not deployed?): containment removes the instance profile instead",
                contract::ISOLATION_INSTANCE_PROFILE
            );
        }
        let settings = Settings {
            prefix: self.prefix.clone(),
            ir_profile_arn: ir,
            isolation_profile_arn: isolation,
            disassociate_elastic_ips: options.disassociate_elastic_ips,
            revoke_role_sessions: options.revoke_role_sessions,
        };
        Ok(Containment::new(
            self.aws.ec2(&conf),
            iam,
            self.aws.ssm(&conf),
            settings,
            target.clone(),
            self.aws.partition(),
        ))
    }

    /// Contains the instance.
    pub async fn contain(&self, target: &Target) -> Result<Report> {
        self.engine(target).await?.contain().await
    }

    /// Prepares the instance for acquisition.
    pub async fn analyze(&self, target: &Target) -> Result<Report> {
        self.engine(target).await?.analyze().await
    }

    /// Restores the recorded state.
    pub async fn release(&self, target: &Target, lift_revocations: bool) -> Result<Report> {
        self.engine(target).await?.release(lift_revocations).await
    }

    fn home(&self) -> Result<&SecurityHome> {
        self.security.as_ref().ok_or_else(|| {
            HandlerError::fatal(
                "the security account is unknown: pass --org-config (or --security-account and --home-region)",
            )
        })
    }

    /// The case workflow's ARN.
    pub fn state_machine_arn(&self) -> Result<String> {
        let h = self.home()?;
        Ok(format!(
            "arn:{}:states:{}:{}:stateMachine:{}-{}",
            self.aws.partition(),
            h.region,
            h.account,
            self.prefix,
            contract::CASE_STATE_MACHINE
        ))
    }

    /// A responder for the org `fw` (its prefix, security home and containment choices), with
    /// `aws` (partition set from the org) and `role_name` for the accounts it assumes into.
    pub fn for_org(aws: Aws, role_name: &str, fw: &irf_core::model::Framework) -> Self {
        Responder {
            aws: aws.with_partition(fw.org.partition.as_str()),
            role_name: role_name.to_owned(),
            prefix: fw.org.prefix.clone(),
            security: Some(SecurityHome {
                account: fw.security.as_str().to_owned(),
                region: fw.org.home_region.as_str().to_owned(),
            }),
            options: ContainOptions {
                disassociate_elastic_ips: fw.containment.disassociate_elastic_ips,
                revoke_role_sessions: fw.containment.revoke_role_sessions,
                retain_artefacts: fw.acquisition.retain_artefacts,
            },
        }
    }

    /// The case workflow's input for `target`, requested at `requested_at` (Unix seconds), as
    /// the incident trigger builds it.
    pub fn case_input(&self, target: &Target, requested_at: u64) -> CaseInput {
        let request = IncidentRequest {
            account: target.account.clone(),
            region: target.region.clone(),
            instance_id: target.instance_id.clone(),
            requested_at,
            prior_state_parameter: None,
        };
        CaseInput {
            case_id: trigger::case_id(&request),
            instance_id: target.instance_id.clone(),
            account: target.account.clone(),
            region: target.region.clone(),
            retain_artefacts: self.options.retain_artefacts.to_string(),
        }
    }

    /// Prepares the instance (analyze) and starts its case, unless one is already running.
    pub async fn start_case(
        &self,
        target: &Target,
        requested_at: u64,
    ) -> Result<(Report, Started)> {
        let arn = self.state_machine_arn()?;
        let prepared = self.analyze(target).await?;
        let input = self.case_input(target, requested_at);
        let h = self.home()?;
        let conf = self
            .aws
            .account(&h.account, &self.role_name, &h.region)
            .await?;
        let started = trigger::start_case_with(&self.aws.sfn(&conf), &arn, &input).await?;
        Ok((prepared, started))
    }

    /// The state of a case.
    pub async fn case_status(&self, case_id: &str) -> Result<CaseStatus> {
        let h = self.home()?;
        let conf = self
            .aws
            .account(&h.account, &self.role_name, &h.region)
            .await?;
        let arn = self
            .state_machine_arn()?
            .replacen(":stateMachine:", ":execution:", 1)
            + &format!(":{}{case_id}", contract::EXECUTION_NAME_PREFIX);
        let out = match self
            .aws
            .sfn(&conf)
            .describe_execution()
            .execution_arn(&arn)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) if error::code(&e) == Some("ExecutionDoesNotExist") => {
                return Err(HandlerError::fatal(format!(
                    "no case {case_id} (no execution {arn})"
                )));
            }
            Err(e) => return Err(error::aws("states:DescribeExecution", e)),
        };
        let time = |t: &aws_smithy_types::DateTime| {
            std::time::SystemTime::try_from(*t)
                .map(|s| humantime::format_rfc3339_seconds(s).to_string())
                .unwrap_or_default()
        };
        Ok(CaseStatus {
            case_id: case_id.to_owned(),
            execution_arn: arn,
            status: out.status().as_str().to_owned(),
            started_at: time(out.start_date()),
            stopped_at: out.stop_date().map(time),
            error: out.error().map(str::to_owned),
            cause: out.cause().map(str::to_owned),
            output: out.output().and_then(|o| serde_json::from_str(o).ok()),
        })
    }
}
