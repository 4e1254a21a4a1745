//! The broker's TOML configuration: parsing, defaults (ActiveMQ's where it has one) and
//! validation. Every error names the file, the line and the key, because the person reading it
//! is about to open that file.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ferromq_core::{CoreConfig, DeadLetterStrategy};
use serde::Deserialize;
use toml::Spanned;

/// The embedded default: what `ferromq broker` runs without `--config`.
pub const DEFAULT_CONFIG: &str = r#"# FerroMQ's embedded default configuration.
[broker]
name = "ferromq"
data_dir = "data"
persistent = true

# The web console, REST API and /metrics (docs/console.md). Change the credentials.
[console]
listen = "127.0.0.1:8161"
user = "admin"
password = "admin"

[[transport_connector]]
name = "openwire"
uri = "tcp://0.0.0.0:61616"

[[transport_connector]]
name = "stomp"
uri = "stomp://0.0.0.0:61613"
"#;

/// A configuration that could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}:{line}: key '{key}': {message}")]
    Invalid {
        file: String,
        line: usize,
        key: String,
        message: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    broker: BrokerSection,
    #[serde(default)]
    store: StoreSection,
    #[serde(default)]
    console: ConsoleSection,
    #[serde(default)]
    transport_connector: Vec<ConnectorSection>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct StoreSection {
    dir: Option<PathBuf>,
    segment_size: Spanned<ByteSize>,
    sync: Spanned<String>,
    lock: Spanned<String>,
    limit: Spanned<ByteSize>,
    preallocate: bool,
}

impl Default for StoreSection {
    fn default() -> Self {
        StoreSection {
            dir: None,
            segment_size: Spanned::new(0..0, ByteSize(32 << 20)),
            sync: Spanned::new(0..0, "always".to_owned()),
            lock: Spanned::new(0..0, "wait".to_owned()),
            // ActiveMQ's default storeUsage limit.
            limit: Spanned::new(0..0, ByteSize(100 << 30)),
            preallocate: true,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ConsoleSection {
    enabled: bool,
    listen: Spanned<String>,
    user: String,
    password: String,
}

impl Default for ConsoleSection {
    fn default() -> Self {
        ConsoleSection {
            enabled: true,
            listen: Spanned::new(0..0, "127.0.0.1:8161".to_owned()),
            user: "admin".to_owned(),
            password: "admin".to_owned(),
        }
    }
}

/// How the journal syncs and locks (`[store]`).
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// `<data_dir>/store` unless set.
    pub dir: PathBuf,
    pub segment_size: u64,
    /// `true`: fdatasync before acknowledging (default); `false` for tests and benchmarks.
    pub sync: bool,
    /// `true`: a second broker on the same store waits for the lock (master/slave);
    /// `false`: it fails at once.
    pub wait_for_lock: bool,
    /// Bytes the store may hold before producers of persistent messages wait (or fail).
    pub limit: u64,
    /// Zero-fill new journal segments ahead of time (KahaDB's `preallocationScope`).
    pub preallocate: bool,
}

/// The web console and REST API (`[console]`).
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    pub enabled: bool,
    pub listen: SocketAddr,
    pub user: String,
    pub password: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct BrokerSection {
    name: String,
    data_dir: PathBuf,
    persistent: bool,
    max_redeliveries: u32,
    dead_letter_strategy: Spanned<String>,
    memory_limit: Spanned<ByteSize>,
    destination_memory_limit: Spanned<ByteSize>,
    send_fail_if_no_space: bool,
    cursor_memory_high_water_mark: Spanned<u8>,
    expiry_check_period_ms: u64,
    shutdown_drain_ms: u64,
}

impl Default for BrokerSection {
    fn default() -> Self {
        let core = CoreConfig::default();
        BrokerSection {
            name: "ferromq".to_owned(),
            data_dir: PathBuf::from("data"),
            persistent: true,
            max_redeliveries: core.max_redeliveries,
            dead_letter_strategy: Spanned::new(0..0, "shared".to_owned()),
            memory_limit: Spanned::new(0..0, ByteSize(core.memory_limit as u64)),
            destination_memory_limit: Spanned::new(
                0..0,
                ByteSize(core.destination_memory_limit as u64),
            ),
            send_fail_if_no_space: false,
            cursor_memory_high_water_mark: Spanned::new(0..0, core.cursor_memory_high_water_mark),
            expiry_check_period_ms: 1000,
            shutdown_drain_ms: 5000,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectorSection {
    name: String,
    uri: Spanned<String>,
}

/// A byte count written as a number or as text like `"64 MiB"` / `"1gb"` (ActiveMQ style).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(n) => Ok(ByteSize(n)),
            Raw::Text(text) => parse_byte_size(&text)
                .map(ByteSize)
                .map_err(serde::de::Error::custom),
        }
    }
}

fn parse_byte_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (digits, unit) = trimmed.split_at(split);
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("'{text}' is not a size like \"64 MiB\""))?;
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => {
            return Err(format!(
                "unknown size unit '{other}' in '{text}' (use B, KiB, MiB or GiB)"
            ))
        }
    };
    number
        .checked_mul(multiplier)
        .ok_or_else(|| format!("size '{text}' is too large"))
}

/// Which protocol a connector speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Stomp,
    OpenWire,
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Stomp => "stomp",
            Protocol::OpenWire => "openwire",
        })
    }
}

/// One validated `[[transport_connector]]`.
#[derive(Debug, Clone)]
pub struct ConnectorConfig {
    pub name: String,
    pub uri: String,
    pub protocol: Protocol,
    pub bind: SocketAddr,
    /// ActiveMQ's `maximumConnections`.
    pub max_connections: usize,
    /// ActiveMQ's `wireFormat.maxFrameSize`.
    pub max_frame_size: usize,
}

/// The whole validated configuration.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    pub name: String,
    /// Absolute, or relative to the working directory for the embedded default.
    pub data_dir: PathBuf,
    pub persistent: bool,
    pub core: CoreConfig,
    pub connectors: Vec<ConnectorConfig>,
    pub store: StoreConfig,
    pub console: ConsoleConfig,
    /// How long shutdown waits for connections to finish their in-flight work.
    pub shutdown_drain: Duration,
}

impl BrokerConfig {
    /// Reads and validates a config file; relative paths in it are relative to its folder.
    ///
    /// # Errors
    /// The file cannot be read, or [`BrokerConfig::parse`] refuses it.
    pub fn load(path: &Path) -> Result<BrokerConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        BrokerConfig::parse(&text, &path.display().to_string(), &base)
    }

    /// The embedded default, relative to the working directory.
    ///
    /// # Errors
    /// Never in practice; the default is tested.
    pub fn embedded_default() -> Result<BrokerConfig, ConfigError> {
        BrokerConfig::parse(DEFAULT_CONFIG, "<embedded default>", Path::new(""))
    }

    /// Parses and validates config text. `file` names it in errors; `base` anchors relative
    /// paths.
    ///
    /// # Errors
    /// Unknown keys, wrong types, bad URIs or values, each naming file, line and key.
    pub fn parse(text: &str, file: &str, base: &Path) -> Result<BrokerConfig, ConfigError> {
        let raw: FileConfig = toml::from_str(text).map_err(|err| ConfigError::Parse {
            file: file.to_owned(),
            message: err.to_string().trim_end().to_owned(),
        })?;
        let invalid =
            |span: std::ops::Range<usize>, key: &str, message: String| ConfigError::Invalid {
                file: file.to_owned(),
                line: line_of(text, span.start),
                key: key.to_owned(),
                message,
            };
        let broker = raw.broker;
        let dead_letter = match broker.dead_letter_strategy.get_ref().as_str() {
            "shared" => DeadLetterStrategy::default(),
            "individual" => DeadLetterStrategy::Individual {
                prefix: "DLQ.".to_owned(),
            },
            other => {
                return Err(invalid(
                    broker.dead_letter_strategy.span(),
                    "broker.dead_letter_strategy",
                    format!("'{other}' is not a strategy; use \"shared\" or \"individual\""),
                ))
            }
        };
        let size = |value: &Spanned<ByteSize>, key: &str| {
            usize::try_from(value.get_ref().0)
                .map_err(|_| invalid(value.span(), key, "size too large".to_owned()))
        };
        let memory_limit = size(&broker.memory_limit, "broker.memory_limit")?;
        let destination_memory_limit = size(
            &broker.destination_memory_limit,
            "broker.destination_memory_limit",
        )?;
        let high_water = *broker.cursor_memory_high_water_mark.get_ref();
        if !(1..=100).contains(&high_water) {
            return Err(invalid(
                broker.cursor_memory_high_water_mark.span(),
                "broker.cursor_memory_high_water_mark",
                format!("{high_water} is not a percentage from 1 to 100"),
            ));
        }
        if broker.name.is_empty() {
            return Err(invalid(0..0, "broker.name", "must not be empty".to_owned()));
        }
        let core = CoreConfig {
            broker_name: broker.name.clone(),
            max_redeliveries: broker.max_redeliveries,
            dead_letter,
            memory_limit,
            destination_memory_limit,
            send_fail_if_no_space: broker.send_fail_if_no_space,
            cursor_memory_high_water_mark: high_water,
            expiry_check_period: Duration::from_millis(broker.expiry_check_period_ms.max(10)),
            ..CoreConfig::default()
        };
        let mut connectors = Vec::new();
        for (index, section) in raw.transport_connector.iter().enumerate() {
            let key = format!("transport_connector[{index}].uri");
            let connector = parse_connector(&section.name, section.uri.get_ref())
                .map_err(|message| invalid(section.uri.span(), &key, message))?;
            if connectors
                .iter()
                .any(|other: &ConnectorConfig| other.name == connector.name)
            {
                return Err(invalid(
                    section.uri.span(),
                    &key,
                    format!("connector name '{}' is used twice", section.name),
                ));
            }
            connectors.push(connector);
        }
        let absolute = |path: PathBuf| {
            if path.is_absolute() {
                path
            } else {
                base.join(path)
            }
        };
        let data_dir = absolute(broker.data_dir);
        let store = raw.store;
        let choice = |value: &Spanned<String>, key: &str, yes: &str, no: &str| match value
            .get_ref()
            .as_str()
        {
            v if v == yes => Ok(true),
            v if v == no => Ok(false),
            other => Err(invalid(
                value.span(),
                key,
                format!("'{other}' is not one of \"{yes}\", \"{no}\""),
            )),
        };
        let segment_size = store.segment_size.get_ref().0;
        if segment_size < 4096 {
            let message = "must be at least 4 KiB".to_owned();
            return Err(invalid(
                store.segment_size.span(),
                "store.segment_size",
                message,
            ));
        }
        let store = StoreConfig {
            dir: store.dir.map_or_else(|| data_dir.join("store"), absolute),
            segment_size,
            sync: choice(&store.sync, "store.sync", "always", "never")?,
            wait_for_lock: choice(&store.lock, "store.lock", "wait", "fail")?,
            limit: store.limit.get_ref().0,
            preallocate: store.preallocate,
        };
        let console = raw.console;
        let listen = console
            .listen
            .get_ref()
            .parse::<SocketAddr>()
            .map_err(|_| {
                let message = format!(
                    "'{}' is not an address like 127.0.0.1:8161",
                    console.listen.get_ref()
                );
                invalid(console.listen.span(), "console.listen", message)
            })?;
        let console = ConsoleConfig {
            enabled: console.enabled,
            listen,
            user: console.user,
            password: console.password,
        };
        Ok(BrokerConfig {
            name: broker.name,
            data_dir,
            persistent: broker.persistent,
            connectors,
            core: CoreConfig {
                store_limit: store.limit,
                ..core
            },
            store,
            console,
            shutdown_drain: Duration::from_millis(broker.shutdown_drain_ms),
        })
    }

    /// Where the bound addresses are published for scripts and tests.
    pub fn runtime_file(&self) -> PathBuf {
        self.data_dir.join("ferromq.runtime.toml")
    }
}

/// Parses an ActiveMQ-style connector URI such as
/// `stomp://0.0.0.0:61613?maximumConnections=1000&wireFormat.maxFrameSize=104857600`.
fn parse_connector(name: &str, uri: &str) -> Result<ConnectorConfig, String> {
    let (scheme, rest) = uri
        .split_once("://")
        .ok_or_else(|| format!("'{uri}' is not a URI like stomp://host:port"))?;
    let protocol = match scheme {
        "stomp" | "stomp+nio" => Protocol::Stomp,
        "tcp" | "nio" => Protocol::OpenWire,
        "ssl" | "nio+ssl" | "stomp+ssl" | "amqp" | "mqtt" | "ws" | "wss" | "auto" => {
            return Err(format!(
                "scheme '{scheme}' is not implemented yet (supported: tcp, nio, stomp, stomp+nio)"
            ))
        }
        other => {
            return Err(format!(
                "unknown scheme '{other}' (supported: tcp, nio, stomp, stomp+nio)"
            ))
        }
    };
    let (address, query) = rest.split_once('?').unwrap_or((rest, ""));
    let address = address.trim_end_matches('/');
    let bind = resolve_bind(address)?;
    let mut connector = ConnectorConfig {
        name: name.to_owned(),
        uri: uri.to_owned(),
        protocol,
        bind,
        max_connections: 1000,
        // ActiveMQ's defaults: 100 MiB for OpenWire frames; FerroMQ's 64 MiB for STOMP.
        max_frame_size: match protocol {
            Protocol::OpenWire => 100 << 20,
            Protocol::Stomp => 64 << 20,
        },
    };
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("option '{pair}' has no value"))?;
        let number = || {
            value
                .parse::<usize>()
                .map_err(|_| format!("option '{key}' needs a number, got '{value}'"))
        };
        match key {
            "maximumConnections" => connector.max_connections = number()?.max(1),
            "wireFormat.maxFrameSize" | "wireFormat.maxDataLength" => connector.max_frame_size = number()?.max(1024),
            other => return Err(format!("unknown transport option '{other}' (supported: maximumConnections, wireFormat.maxFrameSize)")),
        }
    }
    Ok(connector)
}

fn resolve_bind(address: &str) -> Result<SocketAddr, String> {
    let (host, port) = address
        .rsplit_once(':')
        .ok_or_else(|| format!("'{address}' needs a port, like 0.0.0.0:61613"))?;
    let port: u16 = port
        .parse()
        .map_err(|_| format!("'{port}' is not a port number"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = match host {
        "" | "0.0.0.0" => "0.0.0.0",
        "localhost" => "127.0.0.1",
        other => other,
    };
    let ip = host.parse().map_err(|_| {
        format!("'{host}' is not an IP address (host names other than localhost are not resolved)")
    })?;
    Ok(SocketAddr::new(ip, port))
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(1, |before| before.matches('\n').count() + 1)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<BrokerConfig, ConfigError> {
        BrokerConfig::parse(text, "broker.toml", Path::new("/etc/ferromq"))
    }

    #[test]
    fn embedded_default_is_valid() {
        let config = BrokerConfig::embedded_default().unwrap();
        let ports: Vec<(Protocol, u16)> = config
            .connectors
            .iter()
            .map(|c| (c.protocol, c.bind.port()))
            .collect();
        assert_eq!(
            ports,
            [(Protocol::OpenWire, 61616), (Protocol::Stomp, 61613)]
        );
        assert_eq!(config.data_dir, PathBuf::from("data"));
        assert!(config.persistent);
    }

    #[test]
    fn relative_data_dir_follows_the_file() {
        let config = parse("[broker]\ndata_dir = \"data/node-a\"\n").unwrap();
        assert_eq!(config.data_dir, PathBuf::from("/etc/ferromq/data/node-a"));
    }

    #[test]
    fn unknown_key_names_line_and_key() {
        let err = parse("[broker]\nname = \"a\"\ncolour = \"red\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("broker.toml"), "{err}");
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("colour"), "{err}");
    }

    #[test]
    fn wrong_type_is_refused() {
        let err = parse("[broker]\npersistent = \"yes\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 2") && err.contains("persistent"),
            "{err}"
        );
    }

    #[test]
    fn bad_uri_names_line_and_key() {
        let text = "[[transport_connector]]\nname = \"x\"\nuri = \"stomp://127.0.0.1:notaport\"\n";
        let err = parse(text).unwrap_err().to_string();
        assert_eq!(
            err,
            "broker.toml:3: key 'transport_connector[0].uri': 'notaport' is not a port number"
        );
    }

    #[test]
    fn openwire_connectors_take_activemq_defaults() {
        let text = "[[transport_connector]]\nname = \"openwire\"\nuri = \"tcp://0.0.0.0:61616?maximumConnections=10\"\n";
        let connector = &parse(text).unwrap().connectors[0];
        assert_eq!(connector.protocol, Protocol::OpenWire);
        assert_eq!(connector.max_frame_size, 100 << 20);
        assert_eq!(connector.max_connections, 10);
    }

    #[test]
    fn unimplemented_scheme_is_refused() {
        let text = "[[transport_connector]]\nname = \"ow\"\nuri = \"ssl://127.0.0.1:61617\"\n";
        let err = parse(text).unwrap_err().to_string();
        assert!(err.contains("not implemented yet"), "{err}");
    }

    #[test]
    fn uri_options_follow_activemq_names() {
        let text = "[[transport_connector]]\nname = \"s\"\nuri = \"stomp://127.0.0.1:0?maximumConnections=5&wireFormat.maxFrameSize=4096\"\n";
        let config = parse(text).unwrap();
        assert_eq!(config.connectors[0].max_connections, 5);
        assert_eq!(config.connectors[0].max_frame_size, 4096);
        let text = "[[transport_connector]]\nname = \"s\"\nuri = \"stomp://127.0.0.1:0?bogus=1\"\n";
        assert!(parse(text).unwrap_err().to_string().contains("bogus"));
    }

    #[test]
    fn sizes_accept_units() {
        assert_eq!(parse_byte_size("64 MiB").unwrap(), 64 << 20);
        assert_eq!(parse_byte_size("1gb").unwrap(), 1 << 30);
        assert_eq!(parse_byte_size("512").unwrap(), 512);
        assert!(parse_byte_size("12 parsecs").is_err());
        let config =
            parse("[broker]\nmemory_limit = \"2 MiB\"\ndestination_memory_limit = 1024\n").unwrap();
        assert_eq!(config.core.memory_limit, 2 << 20);
        assert_eq!(config.core.destination_memory_limit, 1024);
        assert_eq!(config.core.cursor_memory_high_water_mark, 70);
        let config = parse("[broker]\ncursor_memory_high_water_mark = 50\n").unwrap();
        assert_eq!(config.core.cursor_memory_high_water_mark, 50);
        let error = parse("[broker]\ncursor_memory_high_water_mark = 0\n").unwrap_err();
        assert!(
            error.to_string().contains("cursor_memory_high_water_mark"),
            "{error}"
        );
    }

    #[test]
    fn store_and_console_sections() {
        let text = "[store]\ndir = \"/var/ferromq\"\nsync = \"never\"\nlock = \"fail\"\nsegment_size = \"1 MiB\"\npreallocate = false\n\n[console]\nlisten = \"127.0.0.1:0\"\nenabled = false\n";
        let config = parse(text).unwrap();
        assert_eq!(config.store.dir, PathBuf::from("/var/ferromq"));
        assert!(!config.store.sync && !config.store.wait_for_lock);
        assert_eq!(config.store.segment_size, 1 << 20);
        assert!(!config.store.preallocate);
        assert!(!config.console.enabled);
        let defaults = parse("").unwrap();
        assert!(defaults.store.preallocate);
        assert_eq!(defaults.store.dir, PathBuf::from("/etc/ferromq/data/store"));
        assert_eq!(defaults.console.listen.port(), 8161);
        let err = parse("[store]\nsync = \"sometimes\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("broker.toml:2: key 'store.sync'"), "{err}");
        let err = parse("[console]\nlisten = \"everywhere\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("console.listen"), "{err}");
    }

    #[test]
    fn dead_letter_strategy_is_checked() {
        let config = parse("[broker]\ndead_letter_strategy = \"individual\"\n").unwrap();
        assert_eq!(
            config.core.dead_letter,
            DeadLetterStrategy::Individual {
                prefix: "DLQ.".into()
            }
        );
        let err = parse("[broker]\n\ndead_letter_strategy = \"bin\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("broker.toml:3: key 'broker.dead_letter_strategy'"),
            "{err}"
        );
    }
}
