//! The core's settings, with ActiveMQ's defaults.

use std::time::Duration;

/// Where messages go when they can no longer be delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeadLetterStrategy {
    /// One queue for every destination (ActiveMQ's `sharedDeadLetterStrategy`).
    Shared { queue: String },
    /// `<prefix><destination name>` per destination (ActiveMQ's `individualDeadLetterStrategy`).
    Individual { prefix: String },
}

impl Default for DeadLetterStrategy {
    fn default() -> Self {
        DeadLetterStrategy::Shared {
            queue: "ActiveMQ.DLQ".to_owned(),
        }
    }
}

impl DeadLetterStrategy {
    /// The dead-letter queue for messages of `destination_name`.
    pub fn queue_for(&self, destination_name: &str) -> String {
        match self {
            DeadLetterStrategy::Shared { queue } => queue.clone(),
            DeadLetterStrategy::Individual { prefix } => format!("{prefix}{destination_name}"),
        }
    }
}

/// Settings of the broker core.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// Goes into generated message ids.
    pub broker_name: String,
    /// Redeliveries allowed before a message is dead-lettered (ActiveMQ: 6).
    pub max_redeliveries: u32,
    pub dead_letter: DeadLetterStrategy,
    /// Bytes of messages the whole broker may hold before producers wait.
    pub memory_limit: usize,
    /// Bytes one destination may hold before its producers wait.
    pub destination_memory_limit: usize,
    /// Bytes of live data the journal may hold before producers of persistent messages wait.
    pub store_limit: u64,
    /// Refuse sends over the limit instead of making producers wait.
    pub send_fail_if_no_space: bool,
    /// How often pending messages are checked for expiry.
    pub expiry_check_period: Duration,
    /// Capacity of the command channel into the core.
    pub command_capacity: usize,
    /// How many pending messages one dispatch pass looks at to find a match for selective
    /// consumers; bounds the work a queue full of unmatched messages can cost (ActiveMQ's
    /// `maxPageSize` plays the same role).
    pub max_dispatch_scan: usize,
    /// Percent of `memory_limit` and of `destination_memory_limit` that messages in memory
    /// may fill; past it, persistent messages of queues and durable subscriptions stay on
    /// disk and are paged in as consumers make room (ActiveMQ's
    /// `cursorMemoryHighWaterMark`, 70).
    pub cursor_memory_high_water_mark: u8,
}

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig {
            broker_name: "ferromq".to_owned(),
            max_redeliveries: 6,
            dead_letter: DeadLetterStrategy::default(),
            memory_limit: 1 << 30,
            destination_memory_limit: 256 << 20,
            store_limit: 100 << 30,
            send_fail_if_no_space: false,
            expiry_check_period: Duration::from_secs(1),
            command_capacity: 4096,
            max_dispatch_scan: 2000,
            cursor_memory_high_water_mark: 70,
        }
    }
}
