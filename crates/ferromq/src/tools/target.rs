//! Where the tools connect and what they address: the broker URL, the STOMP destination and the
//! connection flags every tool shares.
//!
//! This module only parses and validates user input; it opens no sockets, so it is unit-tested on
//! its own.

use std::fmt;
use std::time::Duration;

use anyhow::{bail, Context};

/// Port a STOMP broker listens on when the URL names none (ActiveMQ's and FerroMQ's default).
const DEFAULT_STOMP_PORT: u16 = 61613;

/// Connection flags shared by `producer`, `consumer` and `bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct ConnectArgs {
    /// Broker to talk to: `stomp://HOST:PORT`, `tcp://HOST:PORT` or plain `HOST:PORT`.
    #[arg(long, default_value = "stomp://127.0.0.1:61613", env = "FERROMQ_URL")]
    pub url: String,
    /// STOMP login.
    #[arg(long, env = "FERROMQ_LOGIN")]
    pub login: Option<String>,
    /// STOMP passcode (read it from FERROMQ_PASSCODE to keep it out of `ps`).
    #[arg(long, env = "FERROMQ_PASSCODE", hide_env_values = true)]
    pub passcode: Option<String>,
    /// Seconds to wait for the TCP connection and the CONNECTED frame.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub connect_timeout: u64,
}

impl ConnectArgs {
    /// The connect timeout as a [`Duration`].
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout)
    }
}

/// A broker endpoint taken from `--url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    /// Host name or address, without IPv6 brackets.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl BrokerUrl {
    /// Parses `stomp://host:port`, `tcp://host:port`, `stomp+nio://…` or `host:port`.
    ///
    /// Query parameters (`?maximumConnections=…`) are accepted and ignored, because users paste
    /// connector URIs straight from a broker config.
    ///
    /// # Errors
    /// Fails on an unknown scheme, an empty host or a port that is not a number in 1..=65535.
    pub fn parse(input: &str) -> anyhow::Result<Self> {
        let rest = match input.split_once("://") {
            Some((scheme, rest)) => {
                let scheme = scheme.to_ascii_lowercase();
                if !matches!(scheme.as_str(), "stomp" | "tcp" | "stomp+nio" | "stomp+tcp") {
                    bail!("unsupported URL scheme {scheme:?} in {input:?} (use stomp://HOST:PORT)");
                }
                rest
            }
            None => input,
        };
        // Anything after the authority (path or query) carries no meaning for a STOMP client.
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let (host, after) = bracketed
                .split_once(']')
                .with_context(|| format!("unclosed '[' in {input:?}"))?;
            let port = match after.strip_prefix(':') {
                Some(port) => Some(port),
                None if after.is_empty() => None,
                None => bail!("unexpected {after:?} after the IPv6 address in {input:?}"),
            };
            (host, port)
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            bail!("no host in {input:?}");
        }
        let port = match port {
            Some(text) => match text.parse::<u16>() {
                Ok(port) if port != 0 => port,
                _ => bail!("bad port {text:?} in {input:?}"),
            },
            None => DEFAULT_STOMP_PORT,
        };
        Ok(Self {
            host: host.to_owned(),
            port,
        })
    }

    /// The `host:port` string the client connects to (IPv6 hosts get their brackets back).
    pub fn addr(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// A STOMP destination in the `/queue/X` or `/topic/X` form ActiveMQ understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    stomp: String,
    topic: bool,
}

impl Destination {
    /// Accepts `queue://X`, `topic://X` (ActiveMQ URI style) or a STOMP name such as `/queue/X`.
    ///
    /// # Errors
    /// Fails on an empty name or a form that neither ActiveMQ nor FerroMQ would route.
    pub fn parse(input: &str) -> anyhow::Result<Self> {
        let (stomp, topic) = if let Some(name) = input.strip_prefix("queue://") {
            (format!("/queue/{}", non_empty(name, input)?), false)
        } else if let Some(name) = input.strip_prefix("topic://") {
            (format!("/topic/{}", non_empty(name, input)?), true)
        } else if let Some(name) = input.strip_prefix("/queue/") {
            non_empty(name, input)?;
            (input.to_owned(), false)
        } else if let Some(name) = input.strip_prefix("/topic/") {
            non_empty(name, input)?;
            (input.to_owned(), true)
        } else {
            bail!("destination {input:?} must look like queue://NAME, topic://NAME or /queue/NAME");
        };
        Ok(Self { stomp, topic })
    }

    /// The value of the STOMP `destination` header.
    pub fn stomp(&self) -> &str {
        &self.stomp
    }

    /// Whether every subscriber gets every message (topic) rather than one of them (queue).
    pub fn is_topic(&self) -> bool {
        self.topic
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.stomp)
    }
}

fn non_empty<'a>(name: &'a str, input: &str) -> anyhow::Result<&'a str> {
    if name.is_empty() {
        bail!("destination {input:?} has no name");
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_forms() -> anyhow::Result<()> {
        let url = BrokerUrl::parse("stomp://127.0.0.1:62613")?;
        assert_eq!(url.addr(), "127.0.0.1:62613");
        assert_eq!(BrokerUrl::parse("tcp://broker:1234")?.addr(), "broker:1234");
        assert_eq!(BrokerUrl::parse("localhost:5")?.addr(), "localhost:5");
        assert_eq!(BrokerUrl::parse("stomp://localhost")?.port, 61613);
        let with_query = BrokerUrl::parse("stomp://0.0.0.0:61613?maximumConnections=1000")?;
        assert_eq!(with_query.addr(), "0.0.0.0:61613");
        let v6 = BrokerUrl::parse("stomp://[::1]:7000")?;
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 7000));
        assert_eq!(v6.addr(), "[::1]:7000");
        assert_eq!(BrokerUrl::parse("[::1]")?.port, 61613);
        Ok(())
    }

    #[test]
    fn bad_urls() {
        for bad in [
            "http://x:1",
            "stomp://:1",
            "stomp://x:0",
            "stomp://x:70000",
            "x:y",
            "[::1",
        ] {
            assert!(BrokerUrl::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn destinations() -> anyhow::Result<()> {
        let queue = Destination::parse("queue://orders")?;
        assert_eq!((queue.stomp(), queue.is_topic()), ("/queue/orders", false));
        let topic = Destination::parse("topic://prices.eu")?;
        assert_eq!(
            (topic.stomp(), topic.is_topic()),
            ("/topic/prices.eu", true)
        );
        assert_eq!(Destination::parse("/queue/a.b")?.stomp(), "/queue/a.b");
        assert!(Destination::parse("/topic/t")?.is_topic());
        for bad in ["orders", "queue://", "/queue/", "topic://", "/temp-queue/x"] {
            assert!(Destination::parse(bad).is_err(), "{bad} should be rejected");
        }
        Ok(())
    }
}
