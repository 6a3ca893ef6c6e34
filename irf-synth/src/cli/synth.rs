//! `irf-synth synth`.

use std::path::PathBuf;

use super::OrgConfigArg;

/// Write the ordered templates and plan.json for an org.toml.
#[derive(Debug, clap::Args)]
pub(crate) struct SynthArgs {
    #[command(flatten)]
    config: OrgConfigArg,
    /// Output directory (templates/ and plan.json are written inside).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Print how long each phase took.
    #[arg(long)]
    timings: bool,
}

impl SynthArgs {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        let started = std::time::Instant::now();
        let fw = self.config.load()?;
        let loaded = started.elapsed();
        let (synthesis, timings) = irf_synth::synthesize_timed(&fw)?;
        let write_started = std::time::Instant::now();
        synthesis.write_to(&self.out)?;
        let write = write_started.elapsed();
        println!(
            "wrote {} template(s) and a plan of {} stack(s) to {}",
            synthesis.templates.len(),
            synthesis.plan.stacks.len(),
            self.out.display()
        );
        if self.timings {
            let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
            println!(
                "timings: load+validate {:.1} ms, build {:.1} ms, emit {:.1} ms, plan {:.1} ms, write {:.1} ms, total {:.1} ms",
                ms(loaded),
                ms(timings.build),
                ms(timings.emit),
                ms(timings.plan),
                ms(write),
                ms(started.elapsed())
            );
        }
        Ok(())
    }
}
