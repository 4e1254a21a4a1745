//! `ferromq broker`: loads the configuration, sets up logging and runs the server.

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `ferromq broker`.
#[derive(Debug, clap::Args)]
pub struct BrokerArgs {
    /// TOML configuration file; without it the embedded default is used.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// Runs the broker until it is told to stop.
pub fn run(_args: BrokerArgs) -> ExitCode {
    ExitCode::FAILURE
}
