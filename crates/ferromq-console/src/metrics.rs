//! `/metrics`: Prometheus (OpenMetrics) text built from one core snapshot per scrape. The
//! registry is rebuilt on every scrape: the core already keeps the counters, so the console
//! keeps none of its own and can never drift from what the pages show.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use ferromq_core::broker::{BrokerStats, SpaceInfo};
use ferromq_journal::{JournalStats, LatencyHistogram};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};

use crate::error::ApiError;
use crate::state::AppState;
use crate::BrokerInfo;

type Labels = Vec<(&'static str, String)>;
/// Reads one figure of a destination.
type GaugeOf = fn(&SpaceInfo) -> i64;
type CounterOf = fn(&SpaceInfo) -> u64;

const CONTENT: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub(crate) async fn scrape(State(state): State<AppState>) -> Result<Response, ApiError> {
    let stats = state.context.broker.stats().await?;
    let store = (state.context.store_stats)();
    let text = render(&state.context.info, &stats, store)
        .map_err(|_| ApiError::Internal("cannot encode the metrics".into()))?;
    Ok(([(CONTENT_TYPE, CONTENT)], text).into_response())
}

fn to_i64(n: impl TryInto<i64>) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

/// A queue, or one subscription of a topic. Non-durable subscriptions have no name, so those
/// of one topic are added up under `subscription="non-durable"`.
fn space_labels(space: &SpaceInfo) -> Labels {
    let kind = if space.subscription.is_some() {
        "topic"
    } else {
        space.destination.kind().scheme()
    };
    let subscription = match &space.subscription {
        None => String::new(),
        Some((_, name)) if name.is_empty() => "non-durable".to_owned(),
        Some((client_id, name)) => format!("{client_id}:{name}"),
    };
    vec![
        ("destination", space.destination.name().to_owned()),
        ("kind", kind.to_owned()),
        ("subscription", subscription),
    ]
}

/// One labelled family per destination figure, registered under `name`.
struct PerSpace {
    gauges: Vec<(Family<Labels, Gauge>, GaugeOf)>,
    counters: Vec<(Family<Labels, Counter>, CounterOf)>,
}

impl PerSpace {
    fn register(registry: &mut Registry) -> PerSpace {
        let mut per = PerSpace {
            gauges: Vec::new(),
            counters: Vec::new(),
        };
        let gauges: [(&str, &str, GaugeOf); 4] = [
            (
                "destination_pending_messages",
                "Messages waiting for a consumer (queue depth)",
                |s| to_i64(s.pending),
            ),
            (
                "destination_inflight_messages",
                "Messages delivered and not yet acknowledged",
                |s| to_i64(s.in_flight),
            ),
            ("destination_consumers", "Consumers attached", |s| {
                to_i64(s.consumers)
            }),
            (
                "destination_memory_bytes",
                "Memory held by pending and in-flight messages",
                |s| to_i64(s.memory_bytes),
            ),
        ];
        for (name, help, read) in gauges {
            let family = Family::<Labels, Gauge>::default();
            registry.register(name, help, family.clone());
            per.gauges.push((family, read));
        }
        let counters: [(&str, &str, CounterOf); 4] = [
            (
                "destination_enqueued",
                "Messages added since the broker started",
                |s| s.enqueued,
            ),
            (
                "destination_dequeued",
                "Messages consumed (acknowledged) since the broker started",
                |s| s.dequeued,
            ),
            (
                "destination_expired",
                "Messages expired since the broker started",
                |s| s.expired,
            ),
            (
                "destination_dead_lettered",
                "Messages sent to a dead letter queue since the broker started",
                |s| s.dead_lettered,
            ),
        ];
        for (name, help, read) in counters {
            let family = Family::<Labels, Counter>::default();
            registry.register(name, help, family.clone());
            per.counters.push((family, read));
        }
        per
    }

    fn record(&self, space: &SpaceInfo) {
        let labels = space_labels(space);
        for (family, read) in &self.gauges {
            family.get_or_create(&labels).inc_by(read(space));
        }
        for (family, read) in &self.counters {
            family.get_or_create(&labels).inc_by(read(space));
        }
    }
}

/// The journal's fsync latency, a histogram the journal keeps in fixed buckets.
#[derive(Debug)]
struct FsyncLatency(LatencyHistogram);

impl Collector for FsyncLatency {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let histogram = &self.0;
        // Per-bucket counts with their upper bounds; the encoder accumulates them.
        let buckets: Vec<(f64, u64)> = LatencyHistogram::BOUNDS_SECONDS
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY))
            .zip(histogram.buckets.iter().copied())
            .collect();
        let mut metric = encoder.encode_descriptor(
            "store_fsync_duration",
            "Time each fdatasync of the journal took",
            Some(&Unit::Seconds),
            MetricType::Histogram,
        )?;
        metric.encode_histogram::<prometheus_client::encoding::NoLabelSet>(
            histogram.sum_seconds(),
            histogram.count(),
            &buckets,
            None,
        )
    }
}

/// A metric family declared with no samples yet.
#[derive(Debug)]
struct Declared {
    name: &'static str,
    help: &'static str,
    kind: MetricType,
}

impl Collector for Declared {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        encoder.encode_descriptor(self.name, self.help, None, self.kind)?;
        Ok(())
    }
}

fn gauge(registry: &mut Registry, name: &str, help: &str, unit: Option<Unit>, value: i64) {
    let metric = Gauge::<i64>::default();
    metric.set(value);
    match unit {
        Some(unit) => registry.register_with_unit(name, help, unit, metric),
        None => registry.register(name, help, metric),
    }
}

fn counter(registry: &mut Registry, name: &str, help: &str, value: u64) {
    let metric = Counter::<u64>::default();
    metric.inc_by(value);
    registry.register(name, help, metric);
}

fn render(
    info: &BrokerInfo,
    stats: &BrokerStats,
    store: Option<JournalStats>,
) -> Result<String, std::fmt::Error> {
    let mut registry = Registry::with_prefix("ferromq");
    let broker_info = Family::<Labels, Gauge>::default();
    registry.register(
        "broker_info",
        "The broker's name, version and role",
        broker_info.clone(),
    );
    broker_info
        .get_or_create(&vec![
            ("name", info.name.clone()),
            ("version", info.version.clone()),
            ("role", "master".to_owned()),
        ])
        .set(1);
    gauge(
        &mut registry,
        "uptime",
        "Time since the broker started",
        Some(Unit::Seconds),
        to_i64(info.started.elapsed().as_secs()),
    );
    gauge(
        &mut registry,
        "connections",
        "Client connections open now",
        None,
        to_i64(stats.connections.len()),
    );
    gauge(
        &mut registry,
        "memory_used",
        "Memory held by messages",
        Some(Unit::Bytes),
        to_i64(stats.memory_used),
    );
    gauge(
        &mut registry,
        "memory_limit",
        "Memory at which producers wait ([broker] memory_limit)",
        Some(Unit::Bytes),
        to_i64(stats.memory_limit),
    );

    let per_space = PerSpace::register(&mut registry);
    for space in &stats.spaces {
        per_space.record(space);
    }
    let published = Family::<Labels, Counter>::default();
    registry.register(
        "topic_published",
        "Messages published to a topic since the broker started",
        published.clone(),
    );
    for (topic, count) in &stats.topics {
        published
            .get_or_create(&vec![("destination", topic.name().to_owned())])
            .inc_by(*count);
    }

    if let Some(store) = store {
        gauge(
            &mut registry,
            "store_live",
            "Bytes of live records in the journal (what counts against [store] limit)",
            Some(Unit::Bytes),
            to_i64(store.live_bytes),
        );
        gauge(
            &mut registry,
            "store_disk",
            "Bytes of journal segment files on disk",
            Some(Unit::Bytes),
            to_i64(store.disk_bytes),
        );
        gauge(
            &mut registry,
            "store_limit",
            "Store size at which persistent producers wait ([store] limit)",
            Some(Unit::Bytes),
            to_i64(info.store_limit),
        );
        gauge(
            &mut registry,
            "store_segments",
            "Journal segment files",
            None,
            to_i64(store.segments),
        );
        counter(
            &mut registry,
            "store_batches_written",
            "Batches written to the journal",
            store.batches_written,
        );
        counter(
            &mut registry,
            "store_group_commits",
            "Journal writes of gathered batches",
            store.group_commits,
        );
        counter(
            &mut registry,
            "store_fsyncs",
            "fdatasync calls on the journal",
            store.fsyncs,
        );
        counter(
            &mut registry,
            "store_segments_compacted",
            "Journal segments whose live records were rewritten forward so they could be deleted",
            store.segments_compacted,
        );
        counter(
            &mut registry,
            "store_bytes_compacted",
            "Bytes of live records rewritten by journal compaction",
            store.bytes_compacted,
        );
        counter(
            &mut registry,
            "store_messages_read",
            "Stored messages read back from the journal (paged in for consumers)",
            store.messages_read,
        );
        counter(
            &mut registry,
            "store_group_holds",
            "Journal group commits held open a moment for more batches",
            store.group_holds,
        );
        registry.register_collector(Box::new(FsyncLatency(store.fsync_latency)));
    }

    // Network connectors do not exist yet: the family is declared so dashboards can be built
    // now, and has no samples until bridges do. (The registry leaves out empty families, so
    // a collector writes the declaration.)
    registry.register_collector(Box::new(Declared {
        name: "network_bridge_forwarded",
        help: "Messages forwarded over a network bridge",
        kind: MetricType::Counter,
    }));

    let mut text = String::new();
    encode(&mut text, &registry)?;
    Ok(text)
}
