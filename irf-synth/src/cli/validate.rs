//! `irf-synth validate`.

use super::OrgConfigArg;

/// Check an org.toml and summarize what it would deploy.
#[derive(Debug, clap::Args)]
pub(crate) struct ValidateArgs {
    #[command(flatten)]
    config: OrgConfigArg,
}

impl ValidateArgs {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        let fw = self.config.load()?;
        let synthesis = irf_synth::synthesize(&fw)?;
        println!(
            "{} is valid: organization {}, security {}, forensics {}, {} member(s), {} stack(s) from {} template(s)",
            self.config.path.display(),
            fw.org.id,
            fw.security,
            fw.forensics,
            fw.members.len(),
            synthesis.plan.stacks.len(),
            synthesis.templates.len(),
        );
        Ok(())
    }
}
