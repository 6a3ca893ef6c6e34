//! `irf-memdump stream --source <SOURCE> (--plan-url <URL> | --plan-file <PATH>) [--kcore <PATH>] [--iomem <PATH>]`
//!
//! Prints one JSON result line on stdout on success. On failure prints one line on stderr and
//! exits 2 for usage and plan errors, 1 for I/O, source and upload errors.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{ArgGroup, Parser, Subcommand};
use irf_memdump::error::{EXIT_FAILURE, EXIT_USAGE};
use irf_memdump::plan::{self, PlanLocation};
use irf_memdump::report::Report;
use irf_memdump::source::{self, SourceSpec};
use irf_memdump::upload::Client;
use irf_memdump::{Error, stream};

/// Streams a memory image from a suspect instance to S3 through presigned multipart-upload URLs.
#[derive(Debug, Parser)]
#[command(name = "irf-memdump", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read the source, hash it and upload it part by part as the plan says; print one JSON line.
    Stream(StreamArgs),
}

#[derive(Debug, clap::Args)]
#[command(group(ArgGroup::new("plan").required(true).args(["plan_url", "plan_file"])))]
struct StreamArgs {
    /// `kcore` (physical RAM via /proc/kcore, framed as LiME), `file:<PATH>` (passed through) or
    /// `tcp:<HOST>:<PORT>` (LiME's tcp mode, read until EOF).
    #[arg(long, value_name = "SOURCE")]
    source: SourceSpec,
    /// Presigned S3 GET URL of the upload plan.
    #[arg(long, value_name = "URL")]
    plan_url: Option<String>,
    /// Local file holding the upload plan.
    #[arg(long, value_name = "PATH")]
    plan_file: Option<PathBuf>,
    /// The ELF core file of the kcore source.
    #[arg(long, value_name = "PATH", default_value = "/proc/kcore")]
    kcore: PathBuf,
    /// The physical address map of the kcore source.
    #[arg(long, value_name = "PATH", default_value = "/proc/iomem")]
    iomem: PathBuf,
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
            eprintln!("irf-memdump: error: {first} (see irf-memdump stream --help)");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match run(cli) {
        Ok(line) => {
            println!("{line}");
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

fn run(cli: Cli) -> anyhow::Result<String> {
    let Command::Stream(args) = cli.command;
    let client = Client::default();
    let location = match (args.plan_url, args.plan_file) {
        (Some(url), _) => PlanLocation::Url(url),
        (None, Some(path)) => PlanLocation::File(path),
        (None, None) => unreachable!("clap requires --plan-url or --plan-file"),
    };
    let plan = plan::load(&location, &client)?;
    let source = source::open(&args.source, &args.kcore, &args.iomem)
        .with_context(|| format!("opening source {}", args.source.kind()))?;
    let outcome = stream::run(source, &plan, &client)?;
    if let Some(problem) = &outcome.lime_problem {
        eprintln!(
            "irf-memdump: warning: the stream starts as LiME but is not well-formed LiME ({problem}); reported as raw"
        );
    }
    let report = Report::new(&outcome);
    if let Some(url) = &plan.receipts_url {
        let parts: Vec<serde_json::Value> = outcome
            .parts
            .iter()
            .map(|p| serde_json::json!({ "number": p.number, "etag": p.etag }))
            .collect();
        let receipts = serde_json::json!({ "report": &report, "parts": parts });
        client.put_document(url, receipts.to_string().as_bytes())?;
    }
    Ok(report.to_line())
}
