//! `irf symbols build`: a Volatility 3 ISF from a symbol bundle (`irf-memdump symbols`).

use std::path::PathBuf;

use anyhow::Context as _;
use irf_isf::builder::{self, Options};
use irf_isf::bundle::Bundle;

/// Symbol commands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Build an ISF (`.json.xz`) from a bundle's BTF, kallsyms and banner, no DWARF needed; put
    /// it in a Volatility symbols directory (`vol -s DIR`) to analyse the image taken with the
    /// bundle.
    Build(BuildArgs),
}

/// `symbols build`.
#[derive(Debug, clap::Args)]
pub(crate) struct BuildArgs {
    /// The bundle directory (its manifest's digests are checked first).
    #[arg(long, value_name = "DIR")]
    bundle: PathBuf,
    /// Where to write the ISF; a name ending in `.json.xz`.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Write the ISF even when Volatility could not stack the kernel with it (missing symbols
    /// or types become notes in the file instead of errors).
    #[arg(long)]
    lenient: bool,
}

impl Command {
    /// Runs the command.
    pub(crate) fn run(&self) -> anyhow::Result<()> {
        match self {
            Command::Build(args) => args.run(),
        }
    }
}

impl BuildArgs {
    fn run(&self) -> anyhow::Result<()> {
        let name = self.out.to_string_lossy();
        if !name.ends_with(".json.xz") {
            anyhow::bail!(
                "--out {name}: Volatility finds symbol files by extension; name it <something>.json.xz"
            );
        }
        let bundle = Bundle::load(&self.bundle)
            .with_context(|| format!("loading the bundle {}", self.bundle.display()))?;
        let options = Options {
            strict: !self.lenient,
        };
        let isf = builder::build_with(&bundle, &options)
            .with_context(|| format!("building the ISF of {}", self.bundle.display()))?;
        irf_isf::xz::write_json_xz(&isf, &self.out)
            .with_context(|| format!("writing {}", self.out.display()))?;
        let details = &isf.metadata.producer.irf;
        println!(
            "{}: ISF for {} ({} user types, {} symbols, KASLR shift {}); {} note(s)",
            self.out.display(),
            bundle.osrelease(),
            isf.user_types.len(),
            isf.symbols.len(),
            details.kaslr.shift,
            details.notes.len()
        );
        for note in &details.notes {
            println!("  note: {note}");
        }
        Ok(())
    }
}
