//! `irf-synth package`.

use std::path::PathBuf;

use anyhow::Context;
use irf_synth::deploy::assets::{self, AssetSource};

/// Build the irf-runtime Lambda asset (`irf-runtime-<arch>.zip`) and the static memory streamer
/// for instances of the same architecture (`irf-memdump-<uname -m>`) for `deploy --asset-dir`.
#[derive(Debug, clap::Args)]
pub(crate) struct PackageArgs {
    /// Output directory.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Architectures to build.
    #[arg(long = "arch", value_name = "ARCH", default_values = ["arm64"])]
    architectures: Vec<String>,
}

impl PackageArgs {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.out)
            .with_context(|| format!("cannot create {}", self.out.display()))?;
        for arch in &self.architectures {
            let asset = assets::package(
                &AssetSource::Build {
                    workspace: super::deploy::workspace(),
                },
                arch,
            )?;
            let path = self.out.join(format!("irf-runtime-{arch}.zip"));
            std::fs::write(&path, &asset.zip)
                .with_context(|| format!("cannot write {}", path.display()))?;
            println!(
                "{} ({} bytes, sha256 {})",
                path.display(),
                asset.zip.len(),
                asset.sha256
            );
            let workspace = AssetSource::Build {
                workspace: super::deploy::workspace(),
            };
            let streamer =
                assets::streamer(&workspace, arch)?.context("the streamer was not built")?;
            let path = self.out.join(assets::streamer_file(arch)?);
            std::fs::write(&path, &streamer)
                .with_context(|| format!("cannot write {}", path.display()))?;
            println!("{} ({} bytes)", path.display(), streamer.len());
        }
        Ok(())
    }
}
