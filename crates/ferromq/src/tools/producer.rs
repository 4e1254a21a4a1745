//! `ferromq producer` (being written).

use std::process::ExitCode;

/// Arguments of `ferromq producer`.
#[derive(Debug, clap::Args)]
pub struct ProducerArgs {}

/// Runs the tool.
pub async fn run(_args: ProducerArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not implemented yet")
}
