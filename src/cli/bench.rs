//! `decscope bench`: training speed on this machine (see `decscope::bench`).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Also write the figures as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Timed steps per measurement.
    #[arg(long, default_value_t = 40)]
    pub steps: usize,
    /// Batch size.
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// Skip the candle-nn reference.
    #[arg(long)]
    pub no_reference: bool,
}

pub fn bench(a: BenchArgs) -> Result<()> {
    let opts = decscope::bench::BenchOptions {
        steps: a.steps.max(3),
        batch: a.batch.max(1),
        reference: !a.no_reference,
        ..Default::default()
    };
    let r = decscope::bench::run(&opts, |what| eprintln!("  measuring {what}..."));
    print!("{}", r.table());
    if let Some(p) = &a.json {
        std::fs::write(p, serde_json::to_string_pretty(&r)?)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}
