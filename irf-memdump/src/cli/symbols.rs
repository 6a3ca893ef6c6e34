//! `irf-memdump symbols`: the running kernel's symbol bundle, for an ISF built elsewhere.

use std::path::PathBuf;

use anyhow::Context as _;
use irf_isf::bundle::{self, Sources};

use super::Printed;

/// Arguments of `symbols`.
#[derive(Debug, clap::Args)]
pub(crate) struct SymbolsArgs {
    /// A new or empty directory for the bundle.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// Collects the bundle and prints its manifest.
pub(crate) fn run(args: SymbolsArgs) -> anyhow::Result<Printed> {
    let manifest = bundle::collect(&args.out, &Sources::live())
        .with_context(|| format!("collecting the symbol bundle into {}", args.out.display()))?;
    let line = serde_json::to_string(&manifest).context("serializing the manifest")?;
    Ok(Printed::line(line))
}
