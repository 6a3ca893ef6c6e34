//! The module factory's documents: what is asked of it and what its builders report.
//!
//! Everything lives in the memory-modules bucket (security account), under keys from
//! [`crate::contract::module_keys`]:
//!
//! * a [`BuildRequest`] per AMI added without a stack update (`irf-synth modules build`, the
//!   Image Builder rule, the public-parameter watch): `factory/requests/<ami>.json`. One object per
//!   AMI, so concurrent additions never overwrite each other and forgetting one is a delete;
//! * a [`FactoryManifest`] per AMI, written by its builder when it ends (or by the watchdog when
//!   it had to stop one): `factory/<ami>.json`;
//! * the builder's log, uploaded as it ends: `factory/logs/<ami>/<instance>.log`.
//!
//! Builders are tagged [`BUILDER_TAG`] = the AMI id they build for, which is how the factory
//! finds the ones still running and the watchdog the overdue ones.

use serde::{Deserialize, Serialize};

/// Instance tag naming the AMI a builder builds for (readable through instance metadata tags,
/// which allow no `:` or `/` in keys).
pub const BUILDER_TAG: &str = "IrfFactoryAmi";

/// Image tag naming the AMI (of another region) that the factory's copy in its own region was
/// made from: an AMI of another region is built from such a copy, and its manifest, modules and
/// symbols are those of the original AMI id.
pub const COPY_SOURCE_TAG: &str = "IrfFactorySourceAmi";

/// Format version of [`FactoryManifest`] and [`BuildRequest`].
pub const FORMAT: u32 = 1;

/// Who asked for an AMI's modules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequestSource {
    /// `[module_factory] amis` in org.toml (the stack's AMI list parameter).
    Config,
    /// `irf-synth modules build`.
    Cli,
    /// The EventBridge rule on EC2 Image Builder image completion.
    ImageBuilder,
    /// The SSM public-parameter watch.
    ParameterWatch,
}

impl RequestSource {
    /// The name used in documents and output.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestSource::Config => "config",
            RequestSource::Cli => "cli",
            RequestSource::ImageBuilder => "image-builder",
            RequestSource::ParameterWatch => "parameter-watch",
        }
    }
}

/// An AMI added to the factory's list outside org.toml.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildRequest {
    /// [`FORMAT`].
    pub version: u32,
    /// The AMI.
    pub ami_id: String,
    /// Where the request came from.
    pub source: RequestSource,
    /// When it was added (RFC 3339, UTC).
    pub requested_at: String,
    /// Who added it (the caller's ARN, or the event's source).
    pub requested_by: String,
    /// The AMI's region when it is not the factory's: the factory copies it into its own
    /// region and builds the copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// How a builder's run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BuildOutcome {
    /// Every selected kernel got a module and an ISF.
    Built,
    /// Some kernels did, some did not (each kernel says why).
    Partial,
    /// None did, or the builder could not start (the manifest's `reason` says why).
    Failed,
    /// The watchdog terminated the builder after the build timeout.
    TimedOut,
}

impl BuildOutcome {
    /// The name used in documents and output.
    pub fn as_str(self) -> &'static str {
        match self {
            BuildOutcome::Built => "built",
            BuildOutcome::Partial => "partial",
            BuildOutcome::Failed => "failed",
            BuildOutcome::TimedOut => "timed-out",
        }
    }
}

/// The distribution an AMI runs, from its `/etc/os-release`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsRelease {
    /// `ID` (`amzn`, `ubuntu`, `debian`, `rhel`, ...).
    pub id: String,
    /// `VERSION_ID` (`2`, `2023`, `22.04`; `rolling` when absent).
    pub version_id: String,
    /// `PRETTY_NAME`, for people only: modules are never looked up by it.
    #[serde(default)]
    pub pretty_name: String,
}

/// The builder instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuilderInstance {
    /// Its id.
    pub instance_id: String,
    /// Its type, picked from the AMI's architecture.
    pub instance_type: String,
    /// The AMI's architecture (`x86_64`, `arm64`).
    pub architecture: String,
}

/// An artifact in the modules bucket with its SHA-256 (hex), computed where it was built.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    /// Its key.
    pub key: String,
    /// Its SHA-256.
    pub sha256: String,
}

/// Where an ISF's types came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IsfSource {
    /// The kernel's BTF, through the project's ISF builder.
    Btf,
    /// DWARF debuginfo, through dwarf2json.
    Dwarf,
}

/// An ISF with where its types came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IsfArtifact {
    /// The `.json.xz` file.
    #[serde(flatten)]
    pub artifact: Artifact,
    /// BTF or DWARF.
    pub source: IsfSource,
}

/// What one kernel of the AMI's stream got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KernelBuild {
    /// `uname -r` of the kernel.
    pub release: String,
    /// Whether the AMI boots this kernel as shipped.
    #[serde(default)]
    pub boot: bool,
    /// The LiME module, when it built.
    pub module: Option<Artifact>,
    /// The ISFs built for it (BTF first; DWARF too when configured and shipped).
    #[serde(default)]
    pub isf: Vec<IsfArtifact>,
    /// Whether the kernel has `/proc/kcore` (`CONFIG_PROC_KCORE` in its config), the capture
    /// without a module; `None` when the builder could not tell.
    #[serde(default)]
    pub kcore: Option<bool>,
    /// Why the module or the ISF is missing, when one is.
    pub error: Option<String>,
}

impl KernelBuild {
    /// Whether both a module and an ISF exist for this kernel.
    pub fn covered(&self) -> bool {
        self.module.is_some() && !self.isf.is_empty()
    }
}

/// A builder's report for one AMI: `factory/<ami>.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactoryManifest {
    /// [`FORMAT`].
    pub version: u32,
    /// The AMI.
    pub ami_id: String,
    /// The builder that ran.
    pub builder: BuilderInstance,
    /// The AMI's distribution (empty when the builder never read it).
    #[serde(default)]
    pub os: OsRelease,
    /// The LiME commit the modules were built from.
    pub lime_commit: Option<String>,
    /// When the builder started and ended (RFC 3339, UTC).
    pub started_at: String,
    /// See `started_at`.
    pub ended_at: String,
    /// How it ended.
    pub outcome: BuildOutcome,
    /// Why it failed or timed out.
    pub reason: Option<String>,
    /// The builder's log in the modules bucket, when it uploaded one.
    pub log_key: Option<String>,
    /// One entry per kernel of the stream the builder selected, newest first.
    #[serde(default)]
    pub kernels: Vec<KernelBuild>,
}

impl FactoryManifest {
    /// Reads a manifest, checking its format version.
    pub fn parse(text: &str) -> Result<Self, String> {
        let m: FactoryManifest = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if m.version != FORMAT {
            return Err(format!(
                "manifest format {} (this build reads format {FORMAT})",
                m.version
            ));
        }
        Ok(m)
    }

    /// The kernel the AMI boots as shipped, when the builder recorded it.
    pub fn boot_kernel(&self) -> Option<&KernelBuild> {
        self.kernels.iter().find(|k| k.boot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_builder_manifest_parses_and_reports_coverage() {
        let text = r#"{"version":1,"ami_id":"ami-0123456789abcdef0",
          "builder":{"instance_id":"i-1","instance_type":"t4g.large","architecture":"arm64"},
          "os":{"id":"debian","version_id":"12","pretty_name":"Debian GNU/Linux 12 (bookworm)"},
          "lime_commit":"7511bffe797d","started_at":"2026-12-03T10:00:00Z","ended_at":"2026-12-03T10:09:00Z",
          "outcome":"partial","reason":null,"log_key":"factory/logs/ami-0123456789abcdef0/i-1.log",
          "kernels":[
            {"release":"6.1.0-41-cloud-arm64","boot":true,
             "module":{"key":"debian/12/6.1.0-41-cloud-arm64/lime-6.1.0-41-cloud-arm64.ko","sha256":"aa"},
             "isf":[{"key":"debian/12/6.1.0-41-cloud-arm64/6.1.0-41-cloud-arm64.isf.json.xz","sha256":"bb","source":"btf"}],
             "error":null},
            {"release":"6.1.0-40-cloud-arm64","module":null,"error":"LiME does not build"}]}"#;
        let m = FactoryManifest::parse(text).unwrap();
        assert_eq!(m.outcome, BuildOutcome::Partial);
        assert!(m.boot_kernel().unwrap().covered());
        assert!(!m.kernels[1].covered());
        assert_eq!(m.kernels[0].isf[0].source, IsfSource::Btf);
        assert!(
            FactoryManifest::parse(&text.replace("\"version\":1", "\"version\":2"))
                .unwrap_err()
                .contains("format 2")
        );
    }
}
