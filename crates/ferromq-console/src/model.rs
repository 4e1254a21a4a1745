//! What the console shows, as serializable views built from one core snapshot. The JSON API
//! returns these as they are and the pages render them, so both always agree.

use std::collections::BTreeMap;

use base64::Engine;
use ferromq_core::broker::{BrokerStats, BrowsedMessage, SpaceInfo};
use ferromq_core::message::StructuredKind;
use ferromq_core::{Body, Destination, DestinationKind, PropertyValue};
use ferromq_journal::JournalStats;
use serde::Serialize;

use crate::BrokerInfo;

#[derive(Debug, Serialize)]
pub(crate) struct Overview {
    pub name: String,
    pub version: String,
    pub uptime_seconds: u64,
    /// "master": the broker that holds the store lock and serves (no slaves yet).
    pub role: &'static str,
    pub memory: Usage,
    pub store: Option<StoreView>,
    pub connectors: Vec<ConnectorView>,
    pub totals: Totals,
}

#[derive(Debug, Serialize)]
pub(crate) struct Usage {
    pub used_bytes: u64,
    pub limit_bytes: u64,
    pub percent: f64,
}

#[derive(Debug, Serialize)]
pub(crate) struct StoreView {
    pub usage: Usage,
    pub disk_bytes: u64,
    pub segments: u64,
    pub batches_written: u64,
    pub fsyncs: u64,
}

#[derive(Debug, Serialize)]
pub(crate) struct ConnectorView {
    pub name: String,
    pub protocol: String,
    pub address: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct Totals {
    pub queues: usize,
    pub topics: usize,
    pub subscribers: usize,
    pub connections: usize,
    pub consumers: usize,
    pub pending: usize,
}

#[derive(Debug, Serialize)]
pub(crate) struct QueueView {
    pub name: String,
    pub temporary: bool,
    pub pending: usize,
    pub in_flight: usize,
    pub consumers: usize,
    pub enqueued: u64,
    pub dequeued: u64,
    pub expired: u64,
    pub dead_lettered: u64,
    pub memory_bytes: usize,
}

#[derive(Debug, Serialize)]
pub(crate) struct TopicView {
    pub name: String,
    pub published: u64,
    pub subscriptions: usize,
    pub consumers: usize,
    pub pending: usize,
}

#[derive(Debug, Serialize)]
pub(crate) struct SubscriberView {
    pub topic: String,
    pub client_id: Option<String>,
    pub subscription_name: Option<String>,
    pub durable: bool,
    /// A durable subscription with no consumer is offline: it keeps collecting messages.
    pub active: bool,
    pub pending: usize,
    pub in_flight: usize,
    pub consumers: usize,
    pub enqueued: u64,
    pub dequeued: u64,
}

#[derive(Debug, Serialize)]
pub(crate) struct ConnectionView {
    pub id: u64,
    pub peer: String,
    pub client_id: Option<String>,
    pub consumers: usize,
    pub open_transactions: usize,
}

/// A network bridge; there are none until network connectors exist.
#[derive(Debug, Serialize)]
pub(crate) struct BridgeView {
    pub name: String,
    pub remote: String,
    pub state: String,
    pub forwarded: u64,
}

#[derive(Debug, Serialize)]
pub(crate) struct MessageView {
    pub id: String,
    pub destination: String,
    pub priority: u8,
    pub persistent: bool,
    pub timestamp: i64,
    /// Absolute expiry in ms since the epoch; 0 means never.
    pub expiration: i64,
    pub correlation_id: Option<String>,
    pub reply_to: Option<String>,
    #[serde(rename = "type")]
    pub message_type: Option<String>,
    pub original_destination: Option<String>,
    pub delivery_count: u32,
    pub in_flight: bool,
    pub properties: BTreeMap<String, serde_json::Value>,
    /// JMSXGroupID, when the message belongs to a group.
    pub group_id: Option<String>,
    /// JMSXUserID, when the producer's connection had one.
    pub user_id: Option<String>,
    /// "text", "bytes", "empty", or for OpenWire bodies kept as marshalled: "map", "stream",
    /// "object".
    pub body_kind: &'static str,
    pub body_size: usize,
    /// The text of a text message.
    pub body: Option<String>,
    /// The payload of any other message, as marshalled.
    pub body_base64: Option<String>,
}

fn usage(used: u64, limit: u64) -> Usage {
    // Display only: the loss of precision past 2^53 bytes does not matter.
    #[allow(clippy::cast_precision_loss)]
    let percent = if limit == 0 {
        0.0
    } else {
        (used as f64 * 1000.0 / limit as f64).round() / 10.0
    };
    Usage {
        used_bytes: used,
        limit_bytes: limit,
        percent,
    }
}

fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

pub(crate) fn overview(
    info: &BrokerInfo,
    stats: &BrokerStats,
    store: Option<JournalStats>,
) -> Overview {
    let queues = queues(stats);
    let subscribers = subscribers(stats);
    Overview {
        name: info.name.clone(),
        version: info.version.clone(),
        uptime_seconds: info.started.elapsed().as_secs(),
        role: "master",
        memory: usage(to_u64(stats.memory_used), to_u64(stats.memory_limit)),
        store: store.map(|s| StoreView {
            usage: usage(s.live_bytes, info.store_limit),
            disk_bytes: s.disk_bytes,
            segments: s.segments,
            batches_written: s.batches_written,
            fsyncs: s.fsyncs,
        }),
        connectors: info
            .connectors
            .iter()
            .map(|c| ConnectorView {
                name: c.name.clone(),
                protocol: c.protocol.clone(),
                address: c.address.to_string(),
            })
            .collect(),
        totals: Totals {
            pending: queues.iter().map(|q| q.pending).sum::<usize>()
                + subscribers.iter().map(|s| s.pending).sum::<usize>(),
            queues: queues.len(),
            topics: topics(stats).len(),
            subscribers: subscribers.len(),
            connections: stats.connections.len(),
            consumers: stats.spaces.iter().map(|s| s.consumers).sum(),
        },
    }
}

pub(crate) fn queue_view(space: &SpaceInfo) -> QueueView {
    QueueView {
        name: space.destination.name().to_owned(),
        temporary: space.destination.kind().is_temporary(),
        pending: space.pending,
        in_flight: space.in_flight,
        consumers: space.consumers,
        enqueued: space.enqueued,
        dequeued: space.dequeued,
        expired: space.expired,
        dead_lettered: space.dead_lettered,
        memory_bytes: space.memory_bytes,
    }
}

pub(crate) fn queues(stats: &BrokerStats) -> Vec<QueueView> {
    stats
        .spaces
        .iter()
        .filter(|s| s.subscription.is_none() && s.destination.kind().is_queue())
        .map(queue_view)
        .collect()
}

/// The queue named `name` (not temporary), if it exists.
pub(crate) fn find_queue(stats: &BrokerStats, name: &str) -> Option<QueueView> {
    stats
        .spaces
        .iter()
        .find(|s| {
            s.subscription.is_none()
                && s.destination.kind() == DestinationKind::Queue
                && s.destination.name() == name
        })
        .map(queue_view)
}

pub(crate) fn topics(stats: &BrokerStats) -> Vec<TopicView> {
    let mut topics: BTreeMap<String, TopicView> = BTreeMap::new();
    let entry = |topics: &mut BTreeMap<String, TopicView>, destination: &Destination| {
        let name = destination.name().to_owned();
        topics.entry(name.clone()).or_insert_with(|| TopicView {
            name,
            published: 0,
            subscriptions: 0,
            consumers: 0,
            pending: 0,
        });
    };
    for (destination, published) in &stats.topics {
        entry(&mut topics, destination);
        if let Some(topic) = topics.get_mut(destination.name()) {
            topic.published = *published;
        }
    }
    for space in stats.spaces.iter().filter(|s| s.subscription.is_some()) {
        entry(&mut topics, &space.destination);
        if let Some(topic) = topics.get_mut(space.destination.name()) {
            topic.subscriptions += 1;
            topic.consumers += space.consumers;
            topic.pending += space.pending;
        }
    }
    topics.into_values().collect()
}

pub(crate) fn subscribers(stats: &BrokerStats) -> Vec<SubscriberView> {
    stats
        .spaces
        .iter()
        .filter_map(|space| {
            let (client_id, name) = space.subscription.as_ref()?;
            let durable = !name.is_empty();
            Some(SubscriberView {
                topic: space.destination.name().to_owned(),
                client_id: durable.then(|| client_id.clone()),
                subscription_name: durable.then(|| name.clone()),
                durable,
                active: space.consumers > 0,
                pending: space.pending,
                in_flight: space.in_flight,
                consumers: space.consumers,
                enqueued: space.enqueued,
                dequeued: space.dequeued,
            })
        })
        .collect()
}

pub(crate) fn connections(stats: &BrokerStats) -> Vec<ConnectionView> {
    stats
        .connections
        .iter()
        .map(|c| ConnectionView {
            id: c.id,
            peer: c.peer.clone(),
            client_id: c.client_id.clone(),
            consumers: c.consumers,
            open_transactions: c.open_transactions,
        })
        .collect()
}

fn property_json(value: &PropertyValue) -> serde_json::Value {
    match value {
        PropertyValue::Bool(v) => (*v).into(),
        PropertyValue::Byte(v) => (*v).into(),
        PropertyValue::Short(v) => (*v).into(),
        PropertyValue::Int(v) => (*v).into(),
        PropertyValue::Long(v) => (*v).into(),
        PropertyValue::Float(v) => f64::from(*v).into(),
        PropertyValue::Double(v) => (*v).into(),
        PropertyValue::String(v) => v.clone().into(),
    }
}

fn encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub(crate) fn message_view(browsed: &BrowsedMessage) -> MessageView {
    let message = &browsed.message;
    let (body_kind, body, body_base64) = match &message.body {
        Body::Empty => ("empty", None, None),
        Body::NullText => ("text", None, None),
        Body::Text(text) => ("text", Some(text.clone()), None),
        Body::Bytes(bytes) => ("bytes", None, Some(encode(bytes))),
        Body::Structured { kind, bytes } => {
            let kind = match kind {
                StructuredKind::Map => "map",
                StructuredKind::Stream => "stream",
                StructuredKind::Object => "object",
            };
            (kind, None, Some(encode(bytes)))
        }
    };
    MessageView {
        id: message.id.clone(),
        destination: message.destination.to_string(),
        priority: message.priority,
        persistent: message.persistent,
        timestamp: message.timestamp,
        expiration: message.expiration,
        correlation_id: message.correlation_id.clone(),
        reply_to: message.reply_to.as_ref().map(ToString::to_string),
        message_type: message.message_type.clone(),
        original_destination: message
            .original_destination
            .as_ref()
            .map(ToString::to_string),
        group_id: message.group.as_ref().map(|(id, _)| id.clone()),
        user_id: message.user_id.clone(),
        delivery_count: browsed.delivery_count,
        in_flight: browsed.in_flight,
        properties: message
            .properties
            .iter()
            .map(|(k, v)| (k.clone(), property_json(v)))
            .collect(),
        body_kind,
        body_size: message.body.len(),
        body,
        body_base64,
    }
}
