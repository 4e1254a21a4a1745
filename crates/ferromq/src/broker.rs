//! `ferromq broker`: loads the configuration, sets up logging, runs the server and the web
//! console until SIGTERM or Ctrl-C, and maps failures to exit codes (2: configuration, 1: could
//! not start).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use ferromq_console::{ConsoleContext, RunningConsole};
use ferromq_server::{BrokerConfig, RunningServer, ServerError};

/// Exit code for a configuration the broker refuses.
const EXIT_CONFIG: u8 = 2;

/// Log output formats.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    /// One readable line per event.
    Human,
    /// One JSON object per event.
    Json,
}

/// Arguments of `ferromq broker`.
#[derive(Debug, clap::Args)]
pub struct BrokerArgs {
    /// TOML configuration file; without it the embedded default is used (data in ./data,
    /// STOMP on 0.0.0.0:61613).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log format.
    #[arg(long, value_enum, default_value = "human")]
    pub log_format: LogFormat,
    /// Print the embedded default configuration and exit.
    #[arg(long)]
    pub print_default_config: bool,
}

/// Runs the broker until it is told to stop.
pub fn run(args: BrokerArgs) -> ExitCode {
    if args.print_default_config {
        print!("{}", ferromq_server::config::DEFAULT_CONFIG);
        return ExitCode::SUCCESS;
    }
    init_logging(args.log_format);
    let started = Instant::now();
    let config = match &args.config {
        Some(path) => BrokerConfig::load(path),
        None => BrokerConfig::embedded_default(),
    };
    let config = match config {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("ferromq")
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(config, started)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: BrokerConfig, started: Instant) -> anyhow::Result<()> {
    let runtime_file = config.runtime_file();
    let name = config.name.clone();
    let console_config = config.console.clone();
    let server = match RunningServer::start(config).await {
        Ok(server) => server,
        Err(err @ ServerError::Bind { .. }) => return Err(err.into()),
        Err(err) => return Err(err).context("the broker could not start"),
    };
    let console = if console_config.enabled {
        let context = ConsoleContext::for_server(&server, started);
        match RunningConsole::start(&console_config, context).await {
            Ok(console) => Some(console),
            Err(err) => {
                server.shutdown().await;
                return Err(err.into());
            }
        }
    } else {
        tracing::info!("console disabled ([console] enabled = false)");
        None
    };
    let console_address = console.as_ref().map(RunningConsole::address);
    if let Err(err) = write_runtime_file(&runtime_file, &server, console_address) {
        if let Some(console) = console {
            console.shutdown().await;
        }
        server.shutdown().await;
        return Err(err).context("cannot write the runtime file");
    }
    tracing::info!(broker = %name, startup_ms = started.elapsed().as_millis() as u64, "broker started");
    wait_for_signal().await;
    tracing::info!("shutting down");
    // The console first: operators' requests must not race a broker that is going away.
    if let Some(console) = console {
        console.shutdown().await;
    }
    server.shutdown().await;
    if let Err(err) = std::fs::remove_file(&runtime_file) {
        tracing::debug!(%err, "runtime file already gone");
    }
    Ok(())
}

/// Publishes the bound addresses so scripts and tests using port 0 can find the broker.
fn write_runtime_file(
    path: &Path,
    server: &RunningServer,
    console: Option<std::net::SocketAddr>,
) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut text = format!("pid = {}\n\n[connectors]\n", std::process::id());
    for connector in server.connectors() {
        text.push_str(&format!(
            "{} = \"{}\"\n",
            toml_key(&connector.name),
            connector.address
        ));
    }
    if let Some(address) = console {
        text.push_str(&format!("\n[console]\naddress = \"{address}\"\n"));
    }
    // Write then rename, so a reader never sees half a file.
    let temporary = path.with_extension("toml.tmp");
    std::fs::write(&temporary, text)?;
    std::fs::rename(&temporary, path)
}

fn toml_key(name: &str) -> String {
    if name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(err) => {
                tracing::warn!(%err, "cannot listen for SIGTERM; only Ctrl-C stops the broker");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("FERROMQ_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // Colour codes only for a person at a terminal, never in files and captured logs.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
