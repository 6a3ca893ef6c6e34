//! One module per subcommand, and what they share: the source arguments and the result line.

use std::path::PathBuf;

use anyhow::Context as _;
use irf_memdump::report::Report;
use irf_memdump::source::{self, Source, SourceSpec};
use irf_memdump::stream::Outcome;

pub(crate) mod capture;
pub(crate) mod stream;
pub(crate) mod symbols;

/// Where the image is read from.
#[derive(Debug, clap::Args)]
pub(crate) struct SourceArgs {
    /// `kcore` (physical RAM via /proc/kcore, framed as LiME), `file:<PATH>` (passed through) or
    /// `tcp:<HOST>:<PORT>` (LiME's tcp mode, read until EOF).
    #[arg(long, value_name = "SOURCE")]
    source: SourceSpec,
    /// The ELF core file of the kcore source.
    #[arg(long, value_name = "PATH", default_value = "/proc/kcore")]
    kcore: PathBuf,
    /// The physical address map of the kcore source.
    #[arg(long, value_name = "PATH", default_value = "/proc/iomem")]
    iomem: PathBuf,
}

impl SourceArgs {
    /// Opens the source.
    pub(crate) fn open(&self) -> anyhow::Result<Source> {
        source::open(&self.source, &self.kcore, &self.iomem)
            .with_context(|| format!("opening source {}", self.source.kind()))
    }
}

/// The JSON result line and the stream it goes to.
#[derive(Debug)]
pub(crate) struct Printed {
    line: String,
    on_stderr: bool,
}

impl Printed {
    /// The report of `outcome`, warning on stderr about a malformed LiME stream.
    pub(crate) fn report(outcome: &Outcome, on_stderr: bool) -> (Report, Self) {
        if let Some(problem) = &outcome.lime_problem {
            eprintln!(
                "irf-memdump: warning: the stream starts as LiME but is not well-formed LiME ({problem}); reported as raw"
            );
        }
        let report = Report::new(outcome);
        let line = report.to_line();
        (report, Printed { line, on_stderr })
    }

    /// A line printed on stdout.
    pub(crate) fn line(line: String) -> Self {
        Printed {
            line,
            on_stderr: false,
        }
    }

    /// Prints the line.
    pub(crate) fn print(&self) {
        if self.on_stderr {
            eprintln!("{}", self.line);
        } else {
            println!("{}", self.line);
        }
    }
}
