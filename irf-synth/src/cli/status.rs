//! `irf-synth status`.

use irf_synth::deploy::aws::AwsContext;
use irf_synth::deploy::stack;

use super::aws_args::AwsArgs;

/// Show every planned stack with its account, region, status and last update.
#[derive(Debug, clap::Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    aws: AwsArgs,
}

impl StatusArgs {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        let synth = self.aws.synth_dir()?;
        tokio::runtime::Runtime::new()?.block_on(async {
            let ctx = self.aws.context(&synth).await?;
            let rows = futures::future::join_all(synth.plan.stacks.iter().map(|s| {
                let ctx = &ctx;
                async move {
                    let conf = ctx.config_for(&s.account_id, &s.region).await?;
                    let d = stack::describe(&AwsContext::cloudformation(&conf), &s.name).await?;
                    Ok::<_, irf_synth::deploy::DeployError>((s, d))
                }
            }))
            .await;
            println!(
                "{}",
                render(rows.into_iter().map(|r| {
                    match r {
                        Ok((s, d)) => (
                            s.name.clone(),
                            s.account_id.clone(),
                            s.region.clone(),
                            d.as_ref()
                                .and_then(|d| d.status.as_ref().map(|x| x.as_str().to_owned()))
                                .unwrap_or_else(|| "NOT DEPLOYED".to_owned()),
                            d.and_then(|d| d.updated).unwrap_or_else(|| "-".to_owned()),
                        ),
                        Err(e) => (
                            "?".to_owned(),
                            "?".to_owned(),
                            "?".to_owned(),
                            format!("ERROR {e}"),
                            "-".to_owned(),
                        ),
                    }
                }))
            );
            Ok(())
        })
    }
}

/// The status table.
pub(crate) fn render(
    rows: impl Iterator<Item = (String, String, String, String, String)>,
) -> String {
    let rows: Vec<_> = rows.collect();
    let header = ("STACK", "ACCOUNT", "REGION", "STATUS", "LAST UPDATE");
    let w0 = rows
        .iter()
        .map(|r| r.0.len())
        .max()
        .unwrap_or(0)
        .max(header.0.len());
    let w1 = 12usize.max(header.1.len());
    let w2 = rows
        .iter()
        .map(|r| r.2.len())
        .max()
        .unwrap_or(0)
        .max(header.2.len());
    let w3 = rows
        .iter()
        .map(|r| r.3.len())
        .max()
        .unwrap_or(0)
        .max(header.3.len());
    let mut out = format!(
        "{:w0$}  {:w1$}  {:w2$}  {:w3$}  {}",
        header.0, header.1, header.2, header.3, header.4
    );
    for r in rows {
        out.push_str(&format!(
            "\n{:w0$}  {:w1$}  {:w2$}  {:w3$}  {}",
            r.0, r.1, r.2, r.3, r.4
        ));
    }
    out
}
