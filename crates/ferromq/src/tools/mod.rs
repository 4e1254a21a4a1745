//! Load and checking tools that speak STOMP to any broker (FerroMQ or ActiveMQ).

pub mod bench;
pub mod consumer;
pub mod producer;

mod bench_report;
mod bench_tasks;
mod conn;
mod message;
mod send;
mod seq;
mod stats;
mod target;

use std::future::Future;
use std::process::ExitCode;

/// Runs one tool on a fresh tokio runtime and turns its outcome into an exit code.
pub fn run_tool<F, Fut>(tool: F) -> ExitCode
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = anyhow::Result<ExitCode>>,
{
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(tool()) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
