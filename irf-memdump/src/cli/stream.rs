//! `irf-memdump stream`: upload through the plan's presigned part URLs.

use std::path::PathBuf;

use clap::ArgGroup;
use irf_isf::bundle::{Sources, SymbolsReceipt};
use irf_memdump::plan::{self, PlanLocation};
use irf_memdump::upload::Client;
use irf_memdump::{stream, symbols};

use super::{Printed, SourceArgs};

/// Arguments of `stream`.
#[derive(Debug, clap::Args)]
#[command(group(ArgGroup::new("plan").required(true).args(["plan_url", "plan_file"])))]
pub(crate) struct StreamArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Presigned S3 GET URL of the upload plan.
    #[arg(long, value_name = "URL")]
    plan_url: Option<String>,
    /// Local file holding the upload plan.
    #[arg(long, value_name = "PATH")]
    plan_file: Option<PathBuf>,
    /// Where the kernel's files are read for the symbol bundle the plan asks for: `/` (the
    /// running kernel), or a copy of its `proc/`, `sys/kernel/btf/` and `boot/` elsewhere.
    #[arg(long, value_name = "DIR", default_value = "/")]
    symbols_root: PathBuf,
}

/// Uploads the kernel's symbol bundle when the plan asks for it, streams the source through the
/// plan and writes the receipts the plan asks for.
pub(crate) fn run(args: StreamArgs) -> anyhow::Result<Printed> {
    let client = Client::default();
    let location = match (args.plan_url, args.plan_file) {
        (Some(url), _) => PlanLocation::Url(url),
        (None, Some(path)) => PlanLocation::File(path),
        (None, None) => unreachable!("clap requires --plan-url or --plan-file"),
    };
    let plan = plan::load(&location, &client)?;
    let symbols = plan.symbols.as_ref().map(|urls| {
        let receipt = symbols::upload(urls, &Sources::under(&args.symbols_root), &client);
        if let SymbolsReceipt::Failed { stage, error } = &receipt {
            eprintln!(
                "irf-memdump: warning: no symbol bundle ({stage}: {error}); capturing memory anyway"
            );
        }
        receipt
    });
    let source = args.source.open()?;
    let outcome = stream::run(source, &plan, &client)?;
    let (report, printed) = Printed::report(&outcome, false);
    if let Some(url) = &plan.receipts_url {
        let parts: Vec<serde_json::Value> = outcome
            .parts
            .iter()
            .map(|p| serde_json::json!({ "number": p.number, "etag": p.etag }))
            .collect();
        let mut receipts = serde_json::json!({ "report": &report, "parts": parts });
        if let Some(symbols) = &symbols {
            receipts["symbols"] = serde_json::to_value(symbols)?;
        }
        client.put_document(url, receipts.to_string().as_bytes())?;
    }
    Ok(printed)
}
