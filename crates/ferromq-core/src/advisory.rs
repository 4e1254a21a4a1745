//! Advisory messages: what the broker tells interested clients about its own state, on the
//! `ActiveMQ.Advisory.*` topics ActiveMQ users and the ActiveMQ client rely on. The Java client
//! needs the temporary-destination advisories for request/reply; networks of brokers will need
//! the consumer advisories.

use crate::destination::{Destination, DestinationKind};

/// What an advisory message reports. Protocol adapters render it (OpenWire as a
/// `DestinationInfo` or `ConsumerInfo` data structure).
#[derive(Debug, Clone, PartialEq)]
pub enum Advisory {
    /// A temporary destination was created (`added`) or deleted, by connection `owner`.
    TempDestination {
        destination: Destination,
        added: bool,
        owner: u64,
    },
    /// A consumer was added to or removed from `destination`.
    Consumer {
        destination: Destination,
        consumer: u64,
        added: bool,
        consumer_count: usize,
    },
    /// A producer for `destination` was added or removed.
    Producer {
        destination: Destination,
        producer: String,
        added: bool,
    },
    /// A client connection was opened or closed.
    Connection {
        connection: u64,
        client_id: Option<String>,
        added: bool,
    },
    /// A queue or topic came into existence or was deleted.
    Destination {
        destination: Destination,
        added: bool,
    },
}

/// `ActiveMQ.Advisory.Connection`.
pub fn connection_topic() -> Option<Destination> {
    Destination::topic("ActiveMQ.Advisory.Connection").ok()
}

/// `ActiveMQ.Advisory.Queue` / `ActiveMQ.Advisory.Topic`.
pub fn destination_topic(kind: DestinationKind) -> Option<Destination> {
    match kind {
        DestinationKind::Queue | DestinationKind::Topic => advisory_topic(family(kind)),
        _ => None,
    }
}

/// `ActiveMQ.Advisory.TempQueue` / `ActiveMQ.Advisory.TempTopic`.
pub fn temp_destination_topic(kind: DestinationKind) -> Option<Destination> {
    match kind {
        DestinationKind::TempQueue | DestinationKind::TempTopic => advisory_topic(family(kind)),
        _ => None,
    }
}

/// `ActiveMQ.Advisory.Producer.Queue.<name>` / `...Topic.<name>`.
pub fn producer_topic(destination: &Destination) -> Option<Destination> {
    per_destination_topic("Producer", destination)
}

/// `ActiveMQ.Advisory.Consumer.Queue.<name>` / `...Topic.<name>`.
pub fn consumer_topic(destination: &Destination) -> Option<Destination> {
    per_destination_topic("Consumer", destination)
}

/// How ActiveMQ names a kind of destination in advisory topics.
fn family(kind: DestinationKind) -> &'static str {
    match kind {
        DestinationKind::Queue => "Queue",
        DestinationKind::Topic => "Topic",
        DestinationKind::TempQueue => "TempQueue",
        DestinationKind::TempTopic => "TempTopic",
    }
}

fn advisory_topic(suffix: &str) -> Option<Destination> {
    Destination::topic(format!("ActiveMQ.Advisory.{suffix}")).ok()
}

fn per_destination_topic(subject: &str, destination: &Destination) -> Option<Destination> {
    advisory_topic(&format!(
        "{subject}.{}.{}",
        family(destination.kind()),
        destination.name()
    ))
}

/// Whether publishing an advisory about `destination` could loop (advisories about advisories).
pub fn is_advisory_topic(destination: &Destination) -> bool {
    destination.name().starts_with("ActiveMQ.Advisory.")
}
