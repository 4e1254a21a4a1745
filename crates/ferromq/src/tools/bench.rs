//! `ferromq bench` (being written).

use std::process::ExitCode;

/// Arguments of `ferromq bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {}

/// Runs the tool.
pub async fn run(_args: BenchArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not implemented yet")
}
