//! `irf-synth modules forget`.

use anyhow::bail;

use super::{FactoryArgs, parse_amis};

/// Remove AMIs from the factory's list; their modules, symbols and manifests stay in the bucket.
/// The factory's copy of an AMI of another region is deregistered and its snapshots deleted.
/// AMIs listed in org.toml stay until they are removed there and deployed.
#[derive(Debug, clap::Args)]
pub(crate) struct ForgetArgs {
    #[command(flatten)]
    factory: FactoryArgs,
    /// An AMI id (repeat for more).
    #[arg(long = "ami", value_name = "AMI", required = true)]
    amis: Vec<String>,
}

impl ForgetArgs {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        let amis = parse_amis(&self.amis)?;
        tokio::runtime::Runtime::new()?.block_on(async {
            let c = self.factory.connect().await?;
            let configured: Vec<&str> = c.fw.module_factory.amis.iter().map(|a| a.as_str()).collect();
            if let Some(ami) = amis.iter().find(|a| configured.contains(&a.as_str())) {
                bail!(
                    "{ami} is listed in {} ([module_factory] amis): remove it there and run irf-synth deploy; nothing was forgotten",
                    self.factory.config.path.display()
                );
            }
            for ami in &amis {
                if let Some(copy) = c.factory.fleet.copy_of(ami).await? {
                    c.factory.fleet.remove_copy(&copy).await?;
                    println!(
                        "{ami}: the factory's copy {} deregistered, {} snapshot(s) deleted",
                        copy.image_id,
                        copy.snapshots.len()
                    );
                }
                if c.factory.store.forget(ami).await? {
                    println!("{ami}: forgotten (its modules and symbols stay)");
                } else {
                    println!("{ami}: not in the factory's list; nothing to forget");
                }
            }
            Ok(())
        })
    }
}
