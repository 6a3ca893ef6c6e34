//! `irf-synth package`.

use std::path::PathBuf;

use anyhow::Context;
use irf_synth::deploy::assets::{self, AssetBuild, AssetManifest, AssetSource};

/// Build the irf-runtime Lambda asset (`irf-runtime-<arch>.zip`) and the static tools for
/// instances of the same architecture (`irf-memdump-<uname -m>`, `irf-isf-<uname -m>`) for `deploy --asset-dir`.
#[derive(Debug, clap::Args)]
pub(crate) struct PackageArgs {
    /// Output directory.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Architectures to build.
    #[arg(long = "arch", value_name = "ARCH", default_values = ["arm64"])]
    architectures: Vec<String>,
    /// `lambda`: the static musl `bootstrap` AWS Lambda runs (a release cross-build of the AWS
    /// SDK). `emulator`: zip the host's dev `bootstrap` built beside this `irf-synth` instead;
    /// the local emulator never runs Lambda code, and `deploy` refuses such a directory for any
    /// other endpoint. The memory streamer is always the real static build.
    #[arg(long, value_enum, default_value_t = BuildArg::Lambda)]
    build: BuildArg,
}

/// What the `bootstrap` is built for.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub(crate) enum BuildArg {
    /// Static musl build for `provided.al2023`.
    Lambda,
    /// The host's dev build, for the local emulator only.
    Emulator,
}

impl PackageArgs {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.out)
            .with_context(|| format!("cannot create {}", self.out.display()))?;
        let workspace = AssetSource::Build {
            workspace: super::deploy::workspace(),
        };
        for arch in &self.architectures {
            let asset = match self.build {
                BuildArg::Lambda => assets::package(&workspace, arch)?,
                BuildArg::Emulator => assets::package_host_bootstrap(arch)?,
            };
            let path = self.out.join(format!("irf-runtime-{arch}.zip"));
            std::fs::write(&path, &asset.zip)
                .with_context(|| format!("cannot write {}", path.display()))?;
            println!(
                "{} ({} bytes, sha256 {})",
                path.display(),
                asset.zip.len(),
                asset.sha256
            );
            for tool in assets::StaticTool::ALL {
                let binary = assets::static_tool(&workspace, tool, arch)?
                    .with_context(|| format!("the {} was not built", tool.what()))?;
                let path = self.out.join(tool.file(arch)?);
                std::fs::write(&path, &binary)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                println!("{} ({} bytes)", path.display(), binary.len());
            }
        }
        let (build, bootstrap_target) = match self.build {
            BuildArg::Lambda => (
                AssetBuild::Lambda,
                self.architectures
                    .iter()
                    .map(|a| assets::target_triple(a))
                    .collect::<Result<Vec<_>, _>>()?
                    .join(", "),
            ),
            BuildArg::Emulator => (AssetBuild::Emulator, assets::host_triple()),
        };
        AssetManifest {
            build,
            bootstrap_target,
            architectures: self.architectures.clone(),
        }
        .write(&self.out)?;
        Ok(())
    }
}
