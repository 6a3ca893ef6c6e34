//! `irf-memdump capture`: write the image to a new file, a block device or stdout.

use irf_memdump::capture::{self, Destination, Output};

use super::{Printed, SourceArgs};

/// Arguments of `capture`.
#[derive(Debug, clap::Args)]
pub(crate) struct CaptureArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// A new file, a block device (written from its start), or `-` for stdout.
    #[arg(long, value_name = "PATH|-")]
    out: String,
}

/// Captures the source into the destination.
pub(crate) fn run(args: CaptureArgs) -> anyhow::Result<Printed> {
    let destination = Destination::parse(&args.out);
    let mut output = Output::open(&destination)?;
    let source = args.source.open()?;
    let outcome = capture::run(source, &mut output)?;
    let (_, printed) = Printed::report(&outcome, destination == Destination::Stdout);
    Ok(printed)
}
