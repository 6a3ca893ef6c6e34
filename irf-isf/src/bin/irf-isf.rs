//! `irf-isf`: builds a Volatility 3 ISF (`.json.xz`) for a kernel, from its installed files
//! (`kernel`: the module factory's builders, for every kernel of an AMI's stream: the BTF and
//! banner from its image, the symbols from its System.map or, without a real one, from the
//! image's own kallsyms tables), from the running kernel itself (`live`: BTF and kallsyms), or
//! from a symbol bundle collected on a running host (`bundle`). Prints the file's SHA-256 in
//! `sha256sum` format on stdout; the builder's notes go to stderr.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use irf_isf::image::{self, InstalledKernel};
use irf_isf::{Bundle, xz};
use sha2::{Digest, Sha256};

/// Build a Volatility 3 ISF for a Linux kernel.
#[derive(Debug, Parser)]
#[command(name = "irf-isf", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// From an installed kernel: /boot/vmlinuz-R (its BTF, banner and kallsyms tables) and
    /// /boot/System.map-R when it lists symbols.
    Kernel {
        /// `uname -r` of the kernel.
        #[arg(long)]
        release: String,
        /// The kernel image (`/boot/vmlinuz-<release>`, or an uncompressed vmlinux).
        #[arg(long, value_name = "FILE")]
        vmlinuz: PathBuf,
        /// The kernel's symbol map (`/boot/System.map-<release>`); without it, or when it is a
        /// placeholder, the symbols come from the kernel image's own kallsyms tables.
        #[arg(long, value_name = "FILE")]
        system_map: Option<PathBuf>,
        /// The kernel's config (`/boot/config-<release>`), when installed.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// `uname -m` of the machines that run it.
        #[arg(long, default_value = std::env::consts::ARCH)]
        machine: String,
        /// Where to write the `.json.xz`.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// From the running kernel: /sys/kernel/btf/vmlinux, /proc/kallsyms (as root), the banner.
    Live {
        /// Where to write the `.json.xz`.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// From a symbol bundle directory (`irf-memdump symbols`).
    Bundle {
        /// The bundle directory.
        #[arg(long, value_name = "DIR")]
        bundle: PathBuf,
        /// Where to write the `.json.xz`.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn run(cli: Cli) -> Result<(), String> {
    let (bundle, out, source_note) = match cli.command {
        Command::Kernel {
            release,
            vmlinuz,
            system_map,
            config,
            machine,
            out,
        } => {
            let vmlinuz_bytes = read(&vmlinuz)?;
            let map = system_map.as_deref().map(read).transpose()?;
            let config = config.as_deref().map(read).transpose()?;
            let kernel = InstalledKernel {
                release: &release,
                machine: &machine,
                vmlinuz: &vmlinuz_bytes,
                system_map: map.as_deref(),
                config: config.as_deref(),
            };
            let (bundle, source) = image::bundle(&kernel, "installed")
                .map_err(|e| format!("{}: {e}", vmlinuz.display()))?;
            let note = format!("symbols from {source}");
            eprintln!("irf-isf: {note}");
            (bundle, out, Some(note))
        }
        Command::Live { out } => {
            let dir = out.with_extension("bundle");
            let _ = fs::remove_dir_all(&dir);
            irf_isf::collect(&dir, &irf_isf::Sources::live())
                .map_err(|e| format!("collecting the running kernel's symbols: {e}"))?;
            let bundle = Bundle::load(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let _ = fs::remove_dir_all(&dir);
            (bundle, out, None)
        }
        Command::Bundle { bundle, out } => (
            Bundle::load(&bundle).map_err(|e| format!("{}: {e}", bundle.display()))?,
            out,
            None,
        ),
    };
    let mut isf = irf_isf::build(&bundle).map_err(|e| e.to_string())?;
    // Where an installed kernel's symbols came from stays with the ISF.
    isf.metadata.producer.irf.notes.extend(source_note);
    for note in &isf.metadata.producer.irf.notes {
        eprintln!("irf-isf: note: {note}");
    }
    xz::write_json_xz(&isf, &out).map_err(|e| e.to_string())?;
    let written = read(&out)?;
    let name = out
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    println!("{}  {name}", hex::encode(Sha256::digest(&written)));
    Ok(())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("irf-isf: {e}");
            ExitCode::FAILURE
        }
    }
}
