//! `irf-memdump stream --source <SOURCE> (--plan-url <URL> | --plan-file <PATH>) [--kcore <PATH>] [--iomem <PATH>]`
//! `irf-memdump capture --source <SOURCE> --out <PATH|-> [--kcore <PATH>] [--iomem <PATH>]`
//! `irf-memdump symbols --out <DIR>`
//!
//! Prints one JSON result line on stdout on success (on stderr when the image goes to stdout).
//! On failure prints one line on stderr and exits 2 for usage and plan errors, 1 for I/O, source
//! and upload errors.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use irf_memdump::Error;
use irf_memdump::error::{EXIT_FAILURE, EXIT_USAGE};

mod cli;

/// Reads physical memory on a suspect instance, framed as LiME and hashed while it is read, and
/// streams it to S3 through presigned part URLs or writes it to a local file, device or stdout.
#[derive(Debug, Parser)]
#[command(name = "irf-memdump", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read the source, hash it and upload it part by part as the plan says; print one JSON line.
    Stream(cli::stream::StreamArgs),
    /// Read the source, hash it and write it to a new file, a block device or stdout (`-`);
    /// print the same JSON line as `stream` (on stderr when the image goes to stdout).
    Capture(cli::capture::CaptureArgs),
    /// Copy what the running kernel says about itself (banner, BTF, kallsyms, config,
    /// osrelease) into a new directory with a manifest of SHA-256 digests, from which an ISF for
    /// Volatility 3 is built later, elsewhere; print the manifest as one JSON line.
    Symbols(cli::symbols::SymbolsArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let text = e.to_string();
            let first = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            eprintln!("irf-memdump: error: {first} (see irf-memdump --help)");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let result = match cli.command {
        Command::Stream(args) => cli::stream::run(args),
        Command::Capture(args) => cli::capture::run(args),
        Command::Symbols(args) => cli::symbols::run(args),
    };
    match result {
        Ok(printed) => {
            printed.print();
            ExitCode::SUCCESS
        }
        Err(e) => {
            let code = e
                .chain()
                .find_map(|c| c.downcast_ref::<Error>())
                .map_or(EXIT_FAILURE, Error::exit_code);
            let message = format!("{e:#}").replace(['\r', '\n'], " ");
            eprintln!("irf-memdump: error: {message}");
            ExitCode::from(code)
        }
    }
}
