//! A consumer (subscription) and the messages it holds unacknowledged.

use std::collections::BTreeMap;

use super::queue::Entry;
use super::ConnectionId;
use crate::destination::Destination;
use crate::Selector;

/// A delivered, not yet acknowledged message.
#[derive(Debug)]
pub(crate) struct InFlight {
    /// The space it came from and goes back to if not acknowledged.
    pub space: String,
    pub entry: Entry,
    /// Acknowledged inside a transaction that is still open.
    pub in_transaction: bool,
}

#[derive(Debug)]
pub(crate) struct Consumer {
    pub conn: ConnectionId,
    pub destination: Destination,
    pub selector: Option<Selector>,
    pub prefetch: u32,
    pub exclusive: bool,
    /// Spaces this consumer takes from (several for a wildcard queue subscription).
    pub spaces: Vec<String>,
    /// Deliveries by tag, in dispatch order.
    pub in_flight: BTreeMap<u64, InFlight>,
    /// How many of `in_flight` are acknowledged in an open transaction; they no longer count
    /// against the prefetch window, as in ActiveMQ.
    pub acked_in_transaction: usize,
}

impl Consumer {
    /// Whether the prefetch window has room for another delivery.
    pub fn has_capacity(&self) -> bool {
        let outstanding = self
            .in_flight
            .len()
            .saturating_sub(self.acked_in_transaction);
        outstanding < self.prefetch.max(1) as usize
    }
}
