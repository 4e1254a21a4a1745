//! `ferromq consumer` (being written).

use std::process::ExitCode;

/// Arguments of `ferromq consumer`.
#[derive(Debug, clap::Args)]
pub struct ConsumerArgs {}

/// Runs the tool.
pub async fn run(_args: ConsumerArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not implemented yet")
}
