//! One case walked through the deployed case workflow on the local emulator.
//!
//! The emulator stores the Lambda functions and the state machine but runs neither, so the
//! walk executes the very definition the security stack deploys
//! ([`combined_machine`](irf_synth::stacks::workflows::combined_machine)) with the local executor
//! of `irf-runtime` ([`irf_runtime::workflow`]), and each task calls its handler in-process
//! with the **deployed function's environment** (read with `lambda:GetFunctionConfiguration`),
//! as the security account's automation (credentials assumed into the security account).
//!
//! Stand-ins, each named where it is used:
//! - SSM Run Command: [`GuestSsm`](crate::guest::GuestSsm), a real Linux guest per command.
//! - EBS direct reads of the security copies: [`FileBlocks`](crate::blocks::FileBlocks).
//! - Cross-account snapshot visibility: the emulator hides a snapshot shared with another
//!   account from it (`InvalidSnapshot.NotFound`), so the disk steps' security side (the
//!   re-encrypted snapshot's copy and its checks) runs in the member account's home region.
//!   Every call is the real one; the steps tell their snapshots apart by tag, as across accounts.
//! - Cross-account KMS: the emulator does not find a key by another account's ARN, so the
//!   custody ledger (written by the security account's automation) is signed with the forensics
//!   account's custody key through that account's credentials; on AWS the key policy lets the
//!   evidence writers of the security account sign. And the emulator's CloudFormation makes every
//!   KMS key symmetric (it ignores `KeySpec` and `KeyUsage`), so the walk gives the custody alias
//!   a real ECC P-256 signing key made through the KMS API when the deployed one cannot sign.
//! - EventBridge's delivery of the `Contain` tag change to the member's tag handler (a 500 in the
//!   emulator): the walk hands the deployed handler the event AWS would deliver.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use irf_core::asl::TaskTarget;
use irf_core::contract::{self, evidence_keys};
use irf_core::env::{CaseRecordEnv, DiskImagingEnv, MemberTagEnv, MemoryAcquisitionEnv, NotifyEnv};
use irf_core::handler::Handler;
use irf_core::model::Framework;
use irf_core::steps::ImagingStep;
use irf_runtime::aws::Aws;
use irf_runtime::containment::Target;
use irf_runtime::custody::Custody;
use irf_runtime::disk::Disk;
use irf_runtime::error::HandlerError;
use irf_runtime::handlers::member_tag::{self, MemberConfig};
use irf_runtime::handlers::{case_record, disk_imaging, disk_snapshot, memory_acquisition, notify};
use irf_runtime::imaging::{Cursor, Imager, S3Store};
use irf_runtime::memory::Memory;
use irf_runtime::responder::Responder;
use irf_runtime::workflow::{Execution, Executor, Failure, Outcome, Pace, Tasks};
use irf_synth::stacks::workflows::{
    CASE_FN, DISK_IMAGING_FN, DISK_SNAPSHOT_FN, MEMORY_FN, NOTIFY_FN,
};
use serde_json::{Value, json};

use crate::blocks::FileBlocks;
use crate::egress::EgressProxy;
use crate::guest::GuestSsm;

/// What the walk could not set up.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// A deployed function is missing or unreadable.
    #[error(
        "lambda:GetFunctionConfiguration {function}: {why} (deploy the org first: irf-synth deploy)"
    )]
    Function {
        /// The function's name.
        function: String,
        /// What went wrong.
        why: String,
    },
    /// A deployed function lacks a variable its handler needs.
    #[error("the deployed function {function} lacks {missing}")]
    Environment {
        /// The function's name.
        function: String,
        /// The variable.
        missing: String,
    },
    /// An AWS call of the set-up failed.
    #[error(transparent)]
    Handler(#[from] HandlerError),
    /// A local resource of the walk (a directory, the proxy, the clock) failed.
    #[error("{0}")]
    Setup(String),
}

/// The `Environment.Variables` of a deployed function.
async fn function_variables(
    lambda: &aws_sdk_lambda::Client,
    function: &str,
) -> Result<BTreeMap<String, String>, LabError> {
    let out = lambda
        .get_function_configuration()
        .function_name(function)
        .send()
        .await
        .map_err(|e| LabError::Function {
            function: function.to_owned(),
            why: irf_runtime::error::aws("lambda:GetFunctionConfiguration", e).to_string(),
        })?;
    Ok(out
        .environment()
        .and_then(|e| e.variables())
        .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default())
}

/// The environment of each deployed security function the case workflow invokes.
#[derive(Debug, Default)]
pub struct DeployedFunctions {
    variables: BTreeMap<Handler, (String, BTreeMap<String, String>)>,
}

impl DeployedFunctions {
    /// Reads the functions of the case workflow from the security account (`lambda` client).
    pub async fn read(lambda: &aws_sdk_lambda::Client, prefix: &str) -> Result<Self, LabError> {
        let mut variables = BTreeMap::new();
        for h in [
            Handler::CaseRecord,
            Handler::DiskSnapshot,
            Handler::DiskImaging,
            Handler::MemoryAcquisition,
            Handler::Notify,
        ] {
            let function = format!("{prefix}-{}", h.as_str());
            let vars = function_variables(lambda, &function).await?;
            variables.insert(h, (function, vars));
        }
        Ok(DeployedFunctions { variables })
    }

    /// The typed environment of `handler`'s function.
    pub fn env<E>(
        &self,
        handler: Handler,
        read: impl Fn(&dyn Fn(&str) -> Option<String>) -> Result<E, irf_core::env::MissingEnv>,
    ) -> Result<E, LabError> {
        let (function, vars) = self
            .variables
            .get(&handler)
            .ok_or_else(|| LabError::Function {
                function: handler.as_str().to_owned(),
                why: "not read".to_owned(),
            })?;
        read(&|k: &str| vars.get(k).cloned()).map_err(|e| LabError::Environment {
            function: function.clone(),
            missing: e.0.to_owned(),
        })
    }
}

/// The case workflow's tasks, each its handler called in-process (see the module doc).
#[derive(Debug)]
pub struct LabTasks {
    /// The security account's automation identity.
    pub security: Aws,
    /// The disk-imaging function's environment.
    pub imaging_env: DiskImagingEnv,
    /// The notification function's configuration.
    pub notify: notify::NotifyConfig,
    /// The disk steps (security side in the member account: see the module doc).
    pub disk: Disk,
    /// The memory steps, SSM played by guests.
    pub memory: Memory<GuestSsm>,
    /// The case's custody ledger.
    pub custody: Custody,
    /// The raw image every volume of the suspect holds (EBS direct stand-in).
    pub volume_image: PathBuf,
}

impl LabTasks {
    /// Sets the tasks up for one case: the deployed functions' environments, the engines.
    pub async fn new(
        security: Aws,
        functions: &DeployedFunctions,
        disk: Disk,
        guest: GuestSsm,
        volume_image: PathBuf,
        key_account_kms: aws_sdk_kms::Client,
    ) -> Result<Self, LabError> {
        let case_env = functions.env(Handler::CaseRecord, |l| CaseRecordEnv::read(l))?;
        let imaging_env = functions.env(Handler::DiskImaging, |l| DiskImagingEnv::read(l))?;
        let memory_env = functions.env(Handler::MemoryAcquisition, |l| {
            MemoryAcquisitionEnv::read(l)
        })?;
        let notify = notify::NotifyConfig::from_vars(
            functions.env(Handler::Notify, |l| NotifyEnv::read(l))?,
        );
        let memory = memory_acquisition::engine(&security, &memory_env, guest)?;
        let mut custody = Custody::connect(
            &security,
            &case_env.evidence_bucket,
            &case_env.custody_key_arn,
        )
        .await?;
        // Stand-ins (module doc): the ledger is signed through the key's own account, with a
        // real signing key behind the custody alias.
        custody.key_id = signing_key(&key_account_kms).await?;
        custody.kms = key_account_kms;
        Ok(LabTasks {
            security,
            imaging_env,
            notify,
            disk,
            memory,
            custody,
            volume_image,
        })
    }

    async fn lambda(&self, placeholder: &str, payload: Value) -> Result<Value, HandlerError> {
        match placeholder {
            CASE_FN => case_record::handle_with(&self.security, &self.custody, payload).await,
            DISK_SNAPSHOT_FN => disk_snapshot::step(&self.disk, &payload).await,
            DISK_IMAGING_FN => {
                let request: ImagingStep<Cursor> = serde_json::from_value(payload)
                    .map_err(|e| HandlerError::fatal(format!("disk-imaging request: {e}")))?;
                let ImagingStep::ImageSnapshot { copy, .. } = &request;
                let blocks = FileBlocks {
                    snapshots: BTreeMap::from([(
                        copy.snapshot_id.clone(),
                        (
                            self.volume_image.clone(),
                            u64::try_from(copy.size_gib).unwrap_or(0),
                        ),
                    )]),
                };
                let settings = disk_imaging::settings(&self.imaging_env);
                let compress = settings.compress;
                let imager = Imager::new(
                    blocks,
                    S3Store {
                        client: self
                            .security
                            .s3(&self.security.here(&self.security.home_region())),
                        bucket: self.imaging_env.evidence_bucket.clone(),
                    },
                    settings,
                );
                disk_imaging::run(&imager, compress, &self.custody, request).await
            }
            MEMORY_FN => memory_acquisition::step(&self.memory, &self.custody, &payload).await,
            NOTIFY_FN => notify::handle_with(&self.security, &self.notify, payload).await,
            other => Err(HandlerError::fatal(format!(
                "the case workflow invokes {other}, which the lab does not know"
            ))),
        }
    }
}

impl Tasks for LabTasks {
    async fn call(
        &self,
        target: &TaskTarget,
        resource: &str,
        parameters: Value,
    ) -> Result<Value, Failure> {
        let TaskTarget::Lambda(placeholder) = target else {
            return Err(Failure::new(
                "States.TaskFailed",
                format!("{resource}: the case workflow publishes through the notify function only"),
            ));
        };
        let payload = parameters.get("Payload").cloned().unwrap_or(Value::Null);
        match self.lambda(placeholder, payload).await {
            Ok(result) => Ok(json!({ "Payload": result, "StatusCode": 200 })),
            Err(e) => Err(Failure::new(e.error_name(), e.to_string())),
        }
    }
}

/// The key behind `alias/ir/custody` when it signs; otherwise (the emulator's CloudFormation
/// makes every key symmetric, see the module doc) a new ECC P-256 signing key that the alias then
/// names, so that `irf case verify` checks the head against it.
async fn signing_key(kms: &aws_sdk_kms::Client) -> Result<String, LabError> {
    use aws_sdk_kms::types::{KeySpec, KeyUsageType};
    let alias = contract::CUSTODY_SIGNING_KEY_ALIAS;
    let current = kms
        .describe_key()
        .key_id(alias)
        .send()
        .await
        .map_err(|e| irf_runtime::error::aws(&format!("kms:DescribeKey {alias}"), e))?;
    if let Some(k) = current.key_metadata()
        && k.key_usage() == Some(&KeyUsageType::SignVerify)
    {
        return Ok(k.arn().unwrap_or_default().to_owned());
    }
    let created = kms
        .create_key()
        .key_spec(KeySpec::EccNistP256)
        .key_usage(KeyUsageType::SignVerify)
        .description(
            "IRF custody ledger signing key (ECDSA P-256), made by irf-lab for the emulator",
        )
        .send()
        .await
        .map_err(|e| irf_runtime::error::aws("kms:CreateKey", e))?;
    let key = created
        .key_metadata()
        .ok_or_else(|| LabError::Setup("kms:CreateKey answered without the key".to_owned()))?;
    kms.update_alias()
        .alias_name(alias)
        .target_key_id(key.key_id())
        .send()
        .await
        .map_err(|e| irf_runtime::error::aws(&format!("kms:UpdateAlias {alias}"), e))?;
    tracing::info!(
        key = key.key_id(),
        "the custody alias now names a signing key"
    );
    Ok(key.arn().unwrap_or_default().to_owned())
}

/// The process name the guest's marker runs under (found again by `linux.pslist`).
pub const MARKER: &str = "irfmarker";

/// One case to walk (see the module doc).
#[derive(Debug)]
pub struct Walk {
    /// The org the emulator's deployment came from.
    pub fw: Framework,
    /// The emulator's endpoint (`http://127.0.0.1:PORT`).
    pub endpoint: String,
    /// The suspect instance.
    pub target: Target,
    /// The guest kit (`scripts/guest-kit amd64`).
    pub kit: PathBuf,
    /// `scripts/guest-run`.
    pub guest_run: PathBuf,
    /// Guest RAM in MiB.
    pub guest_memory_mib: u64,
    /// The raw image the suspect's volumes hold.
    pub volume_image: PathBuf,
    /// Where the guests' jobs and the downloaded evidence go.
    pub work: PathBuf,
    /// Longest real sleep of a Wait state or retry interval.
    pub max_wait: Duration,
}

/// What a walk did and left.
#[derive(Debug)]
pub struct Walked {
    /// The case id.
    pub case_id: String,
    /// What preparing the instance changed.
    pub prepared: Vec<String>,
    /// The workflow's execution.
    pub execution: Execution,
    /// The memory image's key in the evidence bucket and where it was downloaded.
    pub memory_image: (String, PathBuf),
    /// The ISF's key and the symbol directory it was downloaded into (`<dir>/linux/irf.json.xz`).
    pub isf: (String, PathBuf),
    /// PID of the marker process in the captured guest.
    pub marker_pid: Option<u64>,
    /// The member tag handler's answer to the `Contain` tag the case set (`None`: not tagged).
    pub containment: Option<Value>,
}

impl Walked {
    /// The summary the demo reads (`case.json`).
    pub fn summary(&self) -> Value {
        json!({
            "case_id": self.case_id,
            "memory_image": {"key": self.memory_image.0, "file": self.memory_image.1},
            "isf": {"key": self.isf.0, "dir": self.isf.1},
            "marker": {"comm": MARKER, "pid": self.marker_pid},
            "states_entered": self.execution.entered().len(),
        })
    }
}

impl Walk {
    /// Prepares the instance as `irf case start` does, runs the deployed case workflow locally
    /// (`observe` sees every event as it happens), and downloads the memory image and its ISF.
    pub async fn run(
        &self,
        observe: impl Fn(&irf_runtime::workflow::Event) + Send + Sync + 'static,
    ) -> Result<Walked, LabError> {
        let fw = &self.fw;
        let endpoint = Some(self.endpoint.as_str());
        let aws = Aws::with(None, endpoint)
            .await
            .with_partition(fw.org.partition.as_str());
        let home = fw.org.home_region.as_str().to_owned();
        let security = fw.security.as_str().to_owned();
        let role = "OrganizationAccountAccessRole".to_owned();
        let target = &self.target;

        // As `irf case start`: prepare the instance, then the input the incident trigger builds.
        let responder = Responder::for_org(aws.clone(), &role, fw);
        let prepared = responder.analyze(target).await?;
        let requested_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| LabError::Setup(format!("system clock: {e}")))?
            .as_secs();
        let case = responder.case_input(target, requested_at);

        // The security account's automation, with the deployed functions' environments.
        let security_conf = aws.account(&security, &role, &home).await?;
        let security_aws = Aws::from_config(security_conf.clone(), endpoint)
            .with_partition(fw.org.partition.as_str());
        let functions =
            DeployedFunctions::read(&aws_sdk_lambda::Client::new(&security_conf), &fw.org.prefix)
                .await?;
        let member_conf = aws
            .assume(
                &target.account,
                contract::IR_AUTOMATION_ROLE,
                &target.region,
            )
            .await?;
        let member_home_conf = aws
            .assume(&target.account, contract::IR_AUTOMATION_ROLE, &home)
            .await?;
        let member_home = aws.ec2(&member_home_conf);
        let disk = Disk {
            member: aws.ec2(&member_conf),
            // Stand-in (module doc): the security side runs in the member account.
            security: member_home.clone(),
            member_home,
            security_account: target.account.clone(),
            home_region: home.clone(),
        };
        let allowed = self
            .endpoint
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let proxy = EgressProxy::start(allowed)
            .await
            .map_err(|e| LabError::Setup(format!("the guest's egress proxy: {e}")))?;
        let guests = self.work.join("guests");
        std::fs::create_dir_all(&guests).map_err(|e| io(&guests, &e))?;
        let guest = GuestSsm::new(
            self.guest_run.clone(),
            self.kit.clone(),
            guests.clone(),
            proxy.port,
            self.guest_memory_mib,
            MARKER,
        );
        let forensics_conf = aws.account(fw.forensics.as_str(), &role, &home).await?;
        let tasks = LabTasks::new(
            security_aws,
            &functions,
            disk,
            guest,
            self.volume_image.clone(),
            aws.kms(&forensics_conf),
        )
        .await?;
        let executor = Executor::new(
            tasks,
            Pace {
                max_wait: Some(self.max_wait),
            },
        )
        .observe(observe);
        let machine = irf_synth::stacks::workflows::combined_machine();
        let input = serde_json::to_value(&case).map_err(|e| LabError::Setup(e.to_string()))?;
        let execution = executor.execute(&machine, input).await;

        let containment = self.deliver_tag_change(&aws, &role).await?;

        // The evidence a responder downloads for analysis, when the case produced it.
        let tasks = executor.tasks();
        let image_key =
            evidence_keys::memory_image(&case.case_id, &case.account, &case.instance_id);
        let isf_key = evidence_keys::memory_isf(&case.case_id, &case.account, &case.instance_id);
        let image = self.work.join("memory.lime");
        let symbols = self.work.join("symbols");
        if matches!(execution.outcome, Outcome::Succeeded { .. }) {
            let linux = symbols.join("linux");
            std::fs::create_dir_all(&linux).map_err(|e| io(&linux, &e))?;
            let (s3, bucket) = (&tasks.custody.s3, &tasks.custody.bucket);
            download(s3, bucket, &image_key, &image).await?;
            download(s3, bucket, &isf_key, &linux.join("irf.json.xz")).await?;
        }
        // The capture's guest ran the marker whose PID pslist must show; the preflight's guest
        // ran one too, and the capture is the later command.
        let marker_pid = std::fs::read_dir(&guests)
            .map_err(|e| io(&guests, &e))?
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains("capture"))
            .find_map(|e| {
                tasks
                    .memory
                    .runner
                    .marker_pid(&e.file_name().to_string_lossy())
            });
        Ok(Walked {
            containment,
            case_id: case.case_id,
            prepared: prepared.changes.iter().map(ToString::to_string).collect(),
            execution,
            memory_image: (image_key, image),
            isf: (isf_key, symbols),
            marker_pid,
        })
    }
}

impl Walk {
    /// **Stand-in for EventBridge's delivery of the tag change** (the emulator answers a rule's
    /// Lambda target with a 500): when the case tagged the instance `Contain`, the member's
    /// deployed tag handler gets the "Tag Change on Resource" event AWS would deliver, with its
    /// function's deployed environment, and contains the instance.
    async fn deliver_tag_change(&self, aws: &Aws, role: &str) -> Result<Option<Value>, LabError> {
        let t = &self.target;
        let conf = aws.account(&t.account, role, &t.region).await?;
        let tags = aws
            .ec2(&conf)
            .describe_tags()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("resource-id")
                    .values(&t.instance_id)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| irf_runtime::error::aws("ec2:DescribeTags", e))?;
        let contain = tags.tags().iter().any(|tag| {
            tag.key() == Some(contract::INCIDENT_STATUS_TAG)
                && tag.value() == Some(contract::STATUS_CONTAIN)
        });
        if !contain {
            return Ok(None);
        }
        let function = self.fw.names.resource(Handler::MemberTag.as_str());
        let vars = function_variables(&aws_sdk_lambda::Client::new(&conf), &function).await?;
        let env =
            MemberTagEnv::read(|k| vars.get(k).cloned()).map_err(|e| LabError::Environment {
                function: function.clone(),
                missing: e.0.to_owned(),
            })?;
        let partition = self.fw.org.partition.as_str();
        let event = json!({
            "version": "0",
            "id": format!("irf-lab-{}", t.instance_id),
            "detail-type": "Tag Change on Resource",
            "source": "aws.tag",
            "account": t.account,
            "time": humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            "region": t.region,
            "resources": [format!("arn:{partition}:ec2:{}:{}:instance/{}", t.region, t.account, t.instance_id)],
            "detail": {
                "changed-tag-keys": [contract::INCIDENT_STATUS_TAG],
                "service": "ec2",
                "resource-type": "instance",
                "version": 2,
                "tags": { contract::INCIDENT_STATUS_TAG: contract::STATUS_CONTAIN },
            },
        });
        let member = Aws::from_config(conf, Some(&self.endpoint)).with_partition(partition);
        let answer = member_tag::handle_with(&member, &MemberConfig::from_vars(env), event).await?;
        Ok(Some(answer))
    }
}

fn io(path: &std::path::Path, e: &std::io::Error) -> LabError {
    LabError::Setup(format!("{}: {e}", path.display()))
}

async fn download(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    to: &std::path::Path,
) -> Result<(), LabError> {
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| irf_runtime::error::aws(&format!("s3:GetObject {key}"), e))?;
    let body = out
        .body
        .collect()
        .await
        .map_err(|e| LabError::Setup(format!("reading s3://{bucket}/{key}: {e}")))?;
    std::fs::write(to, body.into_bytes()).map_err(|e| io(to, &e))
}
