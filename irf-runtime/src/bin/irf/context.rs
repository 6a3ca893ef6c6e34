//! Options every command shares, and the responder built from them.

use std::path::PathBuf;

use anyhow::Context as _;
use irf_runtime::aws::Aws;
use irf_runtime::containment::{Report, Target};
use irf_runtime::responder::{ContainOptions, Responder, SecurityHome};

/// Credentials, endpoint and org.
#[derive(Debug, clap::Args)]
pub(crate) struct GlobalArgs {
    /// The org config: prefix, partition, security account and home region, containment choices.
    #[arg(long = "org-config", value_name = "FILE", global = true)]
    org_config: Option<PathBuf>,
    /// AWS endpoint override, e.g. the local emulator (`scripts/emulator`).
    #[arg(long, value_name = "URL", env = "AWS_ENDPOINT_URL", global = true)]
    endpoint_url: Option<String>,
    /// Named AWS profile for the base credentials (default: the standard chain).
    #[arg(long, value_name = "NAME", global = true)]
    profile: Option<String>,
    /// Role assumed in accounts the base credentials do not belong to.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "OrganizationAccountAccessRole",
        global = true
    )]
    role_name: String,
    /// Org prefix when there is no org config.
    #[arg(long, value_name = "PREFIX", default_value = "irf", global = true)]
    prefix: String,
    /// Security account when there is no org config (`case` commands).
    #[arg(long, value_name = "ACCOUNT", global = true)]
    security_account: Option<String>,
    /// Home region of the security account when there is no org config.
    #[arg(
        long,
        value_name = "REGION",
        default_value = "us-east-1",
        global = true
    )]
    home_region: String,
    /// Evidence bucket of `case verify`/`case report` when there is no org config.
    #[arg(long, value_name = "BUCKET", global = true)]
    evidence_bucket: Option<String>,
    /// Forensics account holding the evidence bucket when there is no org config (assumed into
    /// with --role-name unless the credentials belong to it).
    #[arg(long, value_name = "ACCOUNT", global = true)]
    forensics_account: Option<String>,
    /// Print results as JSON.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// More log output (-v, -vv).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub(crate) verbose: u8,
}

/// The forensics account's evidence bucket and custody key.
#[derive(Clone, Debug)]
pub(crate) struct EvidenceHome {
    pub(crate) account: String,
    pub(crate) region: String,
    pub(crate) bucket: String,
}

impl Context {
    /// Custody ledger access in the forensics account (the key is `alias/ir/custody` there).
    pub(crate) async fn custody(&self) -> anyhow::Result<irf_runtime::custody::Custody> {
        let home = self.evidence.as_ref().context(
            "where is the evidence? pass --org-config FILE, or --forensics-account and --evidence-bucket",
        )?;
        let r = &self.responder;
        let conf = r
            .aws
            .account(&home.account, &r.role_name, &home.region)
            .await?;
        Ok(irf_runtime::custody::Custody {
            s3: r.aws.s3(&conf),
            bucket: home.bucket.clone(),
            kms: r.aws.kms(&conf),
            key_id: format!(
                "arn:{}:kms:{}:{}:{}",
                r.aws.partition(),
                home.region,
                home.account,
                irf_core::contract::CUSTODY_SIGNING_KEY_ALIAS
            ),
            actor: r.aws.caller_arn().await?,
        })
    }
}

/// The instance a command works on.
#[derive(Debug, clap::Args)]
pub(crate) struct TargetArgs {
    /// Account of the instance.
    #[arg(long, value_name = "ACCOUNT")]
    account: String,
    /// Region of the instance.
    #[arg(long, value_name = "REGION")]
    region: String,
    /// Instance id.
    #[arg(long, value_name = "ID")]
    instance: String,
}

impl TargetArgs {
    /// Checks the three values and returns the target.
    pub(crate) fn target(&self) -> anyhow::Result<Target> {
        irf_core::model::AccountId::parse(&self.account)
            .map_err(|e| anyhow::anyhow!("--account: {e}"))?;
        if irf_core::region::Region::lookup(&self.region).is_none() {
            anyhow::bail!("--region: {:?} is not a known region", self.region);
        }
        let hex = self.instance.strip_prefix("i-").unwrap_or_default();
        if !(8..=17).contains(&hex.len()) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            anyhow::bail!(
                "--instance: {:?} is not an EC2 instance id (i- and 8 or 17 hex digits)",
                self.instance
            );
        }
        Ok(Target {
            account: self.account.clone(),
            region: self.region.clone(),
            instance_id: self.instance.clone(),
        })
    }
}

/// What commands work with.
pub(crate) struct Context {
    pub(crate) responder: Responder,
    /// Where evidence and the custody ledgers are, when known.
    pub(crate) evidence: Option<EvidenceHome>,
    pub(crate) json: bool,
}

impl Context {
    pub(crate) async fn new(g: &GlobalArgs) -> anyhow::Result<Self> {
        let aws = Aws::with(g.profile.as_deref(), g.endpoint_url.as_deref()).await;
        let mut evidence = match (&g.forensics_account, &g.evidence_bucket) {
            (Some(account), Some(bucket)) => Some(EvidenceHome {
                account: account.clone(),
                region: g.home_region.clone(),
                bucket: bucket.clone(),
            }),
            _ => None,
        };
        let responder = match &g.org_config {
            Some(path) => {
                let fw = irf_core::config::load(path)?;
                evidence = Some(EvidenceHome {
                    account: fw.forensics.as_str().to_owned(),
                    region: fw.org.home_region.as_str().to_owned(),
                    bucket: fw.names.evidence_bucket(),
                });
                Responder::for_org(aws, &g.role_name, &fw)
            }
            None => Responder {
                aws,
                role_name: g.role_name.clone(),
                prefix: g.prefix.clone(),
                security: g.security_account.as_ref().map(|a| SecurityHome {
                    account: a.clone(),
                    region: g.home_region.clone(),
                }),
                options: ContainOptions::default(),
            },
        };
        Ok(Context {
            responder,
            evidence,
            json: g.json,
        })
    }

    /// Prints what a containment operation did.
    pub(crate) fn print_report(
        &self,
        verb: &str,
        target: &Target,
        report: &Report,
    ) -> anyhow::Result<()> {
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(report).context("encoding the report")?
            );
            return Ok(());
        }
        if report.changes.is_empty() {
            println!(
                "{verb} {}: already done, nothing changed",
                target.instance_id
            );
        } else {
            println!(
                "{verb} {} in {}/{}:",
                target.instance_id, target.account, target.region
            );
            for c in &report.changes {
                println!("  - {c}");
            }
        }
        println!(
            "prior state: SSM parameter {} (in {})",
            report.prior_state_parameter, target.account
        );
        Ok(())
    }
}

/// Logs to stderr; `RUST_LOG` overrides.
pub(crate) fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
