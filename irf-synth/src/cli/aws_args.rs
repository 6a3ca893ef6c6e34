//! Options shared by the commands that talk to AWS.

use std::path::PathBuf;
use std::time::Duration;

use irf_synth::deploy::aws::{AwsContext, AwsOptions};
use irf_synth::deploy::{DeployError, SynthDir};

use super::OrgConfigArg;

/// Where the stacks come from and how to reach the accounts.
#[derive(Debug, clap::Args)]
pub(crate) struct AwsArgs {
    #[command(flatten)]
    pub(crate) config: OrgConfigArg,
    /// Use this synth directory (exactly its bytes) instead of synthesizing the org config.
    #[arg(long, value_name = "DIR")]
    pub(crate) from: Option<PathBuf>,
    /// AWS endpoint override, e.g. the local emulator (`scripts/emulator`).
    #[arg(long, value_name = "URL", env = "AWS_ENDPOINT_URL")]
    pub(crate) endpoint_url: Option<String>,
    /// Named AWS profile for the base credentials (default: the standard chain).
    #[arg(long, value_name = "NAME")]
    pub(crate) profile: Option<String>,
    /// Role assumed in every account (other than the one the base credentials belong to).
    #[arg(
        long,
        value_name = "NAME",
        default_value = "OrganizationAccountAccessRole"
    )]
    pub(crate) role_name: String,
}

/// What `--endpoint-url` points at, probed once per command.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Endpoint {
    /// The local emulator (it answers `/moto-api/`) rather than AWS.
    pub(crate) emulator: bool,
}

impl Endpoint {
    /// How often CloudFormation is polled: the emulator finishes operations almost at once.
    pub(crate) fn poll(self) -> Duration {
        if self.emulator {
            Duration::from_millis(200)
        } else {
            Duration::from_secs(3)
        }
    }
}

/// Whether `endpoint` is the local emulator: a plain-HTTP endpoint answering `GET /moto-api/`
/// with 200 within three seconds.
async fn is_emulator(endpoint: &str) -> bool {
    let url = format!("{}/moto-api/", endpoint.trim_end_matches('/'));
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let probe = async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(host).await.ok()?;
        let req = format!("GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n");
        s.write_all(req.as_bytes()).await.ok()?;
        let mut buf = vec![0u8; 64];
        let n = s.read(&mut buf).await.ok()?;
        Some(String::from_utf8_lossy(&buf[..n]).contains(" 200 "))
    };
    tokio::time::timeout(Duration::from_secs(3), probe)
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
}

impl AwsArgs {
    /// Probes `--endpoint-url` (no override: AWS itself).
    pub(crate) async fn endpoint(&self) -> Endpoint {
        Endpoint {
            emulator: match &self.endpoint_url {
                Some(e) => is_emulator(e).await,
                None => false,
            },
        }
    }

    /// The synth directory to work from: `--from`, or a fresh synthesis of the org config
    /// written under `target/irf-synth/`.
    pub(crate) fn synth_dir(&self) -> anyhow::Result<SynthDir> {
        let dir = match &self.from {
            Some(d) => d.clone(),
            None => {
                let fw = self.config.load()?;
                let synthesis = irf_synth::synthesize(&fw)?;
                let dir = PathBuf::from("target/irf-synth").join(&fw.org.prefix);
                synthesis.write_to(&dir)?;
                dir
            }
        };
        Ok(SynthDir::load(&dir)?)
    }

    /// The AWS context for a plan.
    pub(crate) async fn context(&self, synth: &SynthDir) -> Result<AwsContext, DeployError> {
        let home = synth
            .plan
            .stacks
            .first()
            .map_or("us-east-1", |s| s.region.as_str());
        AwsContext::new(
            &AwsOptions {
                profile: self.profile.clone(),
                endpoint_url: self.endpoint_url.clone(),
                role_name: self.role_name.clone(),
            },
            &synth.plan.partition,
            home,
        )
        .await
    }
}
