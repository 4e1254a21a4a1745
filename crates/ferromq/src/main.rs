//! The `ferromq` binary: one executable for the broker and its command-line tools.
//!
//! This file only parses arguments and hands over; the broker lives in `ferromq-server`,
//! the load tools in [`tools`].

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod broker;
mod tools;

#[derive(Debug, Parser)]
#[command(
    name = "ferromq",
    version,
    about = "A fast, ActiveMQ-compatible message broker"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the broker (embedded default config unless --config is given).
    Broker(broker::BrokerArgs),
    /// Send numbered messages to a destination and wait for the broker to take them.
    Producer(tools::producer::ProducerArgs),
    /// Receive messages from a destination and check the producer's sequence numbers.
    Consumer(tools::consumer::ConsumerArgs),
    /// Measure throughput and latency of any STOMP broker with P producers and C consumers.
    Bench(tools::bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Broker(args) => broker::run(args),
        Command::Producer(args) => tools::run_tool(|| tools::producer::run(args)),
        Command::Consumer(args) => tools::run_tool(|| tools::consumer::run(args)),
        Command::Bench(args) => tools::run_tool(|| tools::bench::run(args)),
    }
}
