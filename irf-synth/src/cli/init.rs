//! `irf-synth init`.

use std::path::PathBuf;

use anyhow::{Context, bail};

/// Write a commented starter org.toml documenting every key.
#[derive(Debug, clap::Args)]
pub(crate) struct InitArgs {
    /// Where to write it (`-` for standard output).
    #[arg(long, value_name = "FILE", default_value = "org.toml")]
    out: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    force: bool,
}

impl InitArgs {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        let text = irf_core::config::STARTER_ORG_TOML;
        if self.out.as_os_str() == "-" {
            print!("{text}");
            return Ok(());
        }
        if self.out.exists() && !self.force {
            bail!(
                "{} exists; pass --force to overwrite it or --out to write elsewhere",
                self.out.display()
            );
        }
        std::fs::write(&self.out, text)
            .with_context(|| format!("cannot write {}", self.out.display()))?;
        println!(
            "wrote {}: replace the account ids, organization id and cast_sha256, then run \
             `irf-synth validate --org-config {}`",
            self.out.display(),
            self.out.display()
        );
        Ok(())
    }
}
