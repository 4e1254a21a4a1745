//! A consumer (subscription) and the messages it holds unacknowledged.

use std::collections::{BTreeMap, HashMap};

use super::queue::Entry;
use super::{ConnectionId, ConsumerId};
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
    /// No longer counts against the prefetch window: acknowledged in an open transaction, or
    /// reported consumed-but-not-settled by a DELIVERED ack (OpenWire).
    pub released: bool,
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
    /// How many of `in_flight` are `released`.
    pub released: usize,
    /// Deliveries a prefetch-0 consumer has asked for and not yet received.
    pub pull_credit: u32,
}

/// Consumer `id` if connection `conn` owns it: a connection acts only on its own consumers,
/// whatever ids its client sends. (A function of the map, not of the core's state, so the
/// caller may still use the state's other fields while holding the consumer.)
pub(crate) fn owned_consumer(
    consumers: &mut HashMap<ConsumerId, Consumer>,
    conn: ConnectionId,
    id: ConsumerId,
) -> Option<&mut Consumer> {
    consumers
        .get_mut(&id)
        .filter(|consumer| consumer.conn == conn)
}

impl Consumer {
    /// Whether the prefetch window has room for another delivery. A prefetch-0 consumer
    /// receives only what it pulls.
    pub fn has_capacity(&self) -> bool {
        if self.prefetch == 0 {
            return self.pull_credit > 0;
        }
        let outstanding = self.in_flight.len().saturating_sub(self.released);
        outstanding < self.prefetch as usize
    }

    /// Marks an in-flight delivery as released from (or back in) the window.
    pub fn set_released(&mut self, tag: u64, released: bool) {
        if let Some(held) = self.in_flight.get_mut(&tag) {
            if held.released != released {
                held.released = released;
                if released {
                    self.released += 1;
                } else {
                    self.released = self.released.saturating_sub(1);
                }
            }
        }
    }

    /// Takes a delivery out of the in-flight set, keeping the counters right.
    pub fn take(&mut self, tag: u64) -> Option<InFlight> {
        let held = self.in_flight.remove(&tag)?;
        if held.released {
            self.released = self.released.saturating_sub(1);
        }
        Some(held)
    }
}
