//! A message space: the pending messages of one queue, one topic subscription or one durable
//! subscription, in dispatch order (priority first, then arrival).

use std::cmp::Reverse;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use super::paging::DiskTail;
use super::ConsumerId;
use crate::destination::Destination;
use crate::message::Message;
use crate::Selector;

/// Dispatch order: higher priority first, then lower sequence (arrival) first. A redelivered
/// message keeps its sequence, so it goes back to the front of its priority.
pub(crate) type EntryKey = (Reverse<u8>, u64);

/// A message held by a space, with its per-space delivery history.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub seq: u64,
    pub message: Arc<Message>,
    /// How many times it has been handed to a consumer.
    pub deliveries: u32,
    /// Whether a `Put` for it under this space is in the journal.
    pub stored: bool,
    pub size: usize,
}

impl Entry {
    pub fn new(seq: u64, message: Arc<Message>, stored: bool) -> Self {
        let size = message.memory_size();
        Entry {
            seq,
            message,
            deliveries: 0,
            stored,
            size,
        }
    }

    pub fn key(&self) -> EntryKey {
        (Reverse(self.message.priority), self.seq)
    }
}

/// What a space is for, which decides who consumes it and whether it outlives its consumers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SpaceRole {
    /// A queue (or temporary queue); competing consumers.
    Queue,
    /// A non-durable topic subscription's private buffer; dies with its consumer.
    TopicSubscription,
    /// A durable topic subscription; kept while its subscriber is offline.
    Durable { client_id: String, name: String },
}

/// Counters shown by the console and metrics.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SpaceStats {
    pub enqueued: u64,
    pub dequeued: u64,
    pub expired: u64,
    pub dead_lettered: u64,
}

/// One message space.
#[derive(Debug)]
pub(crate) struct Space {
    pub key: String,
    /// The queue itself, or the topic (filter) a subscription listens to.
    pub destination: Destination,
    pub role: SpaceRole,
    /// Whether persistent messages put here are written to the journal.
    pub durable: bool,
    pub pending: BTreeMap<EntryKey, Entry>,
    /// In arrival order; the first exclusive one, if any, gets everything.
    pub consumers: Vec<ConsumerId>,
    /// Round-robin position among `consumers`.
    pub next_consumer: usize,
    /// Bytes of pending and in-flight messages.
    pub memory: usize,
    /// Owning connection of a temporary queue.
    pub owner: Option<u64>,
    /// A topic subscription's selector, applied when a publish is fanned out to it.
    pub selector: Option<Selector>,
    /// A topic subscription that skips messages published by its own connection.
    pub no_local: bool,
    pub stats: SpaceStats,
    /// Stored messages not in memory (see `paging`).
    pub disk: DiskTail,
    /// Messages with no copy on disk that arrived while `disk` held messages: they follow
    /// those, in arrival order, once paged in.
    pub behind_tail: VecDeque<Entry>,
}

impl Space {
    pub fn new(key: String, destination: Destination, role: SpaceRole, durable: bool) -> Self {
        Space {
            key,
            destination,
            role,
            durable,
            pending: BTreeMap::new(),
            consumers: Vec::new(),
            next_consumer: 0,
            memory: 0,
            owner: None,
            selector: None,
            no_local: false,
            stats: SpaceStats::default(),
            disk: DiskTail::default(),
            behind_tail: VecDeque::new(),
        }
    }

    /// Whether a `Put` of `message` into this space goes to the journal.
    pub fn stores(&self, message: &Message, journal: bool) -> bool {
        self.durable && message.persistent && journal
    }

    /// Adds a new message (not a redelivery) held in memory. While stored messages wait on
    /// disk (see `paging`), it waits behind them, so it cannot overtake them.
    pub fn enqueue(&mut self, entry: Entry) {
        self.memory += entry.size;
        self.stats.enqueued += 1;
        if self.disk.messages > 0 {
            self.behind_tail.push_back(entry);
        } else {
            self.pending.insert(entry.key(), entry);
        }
    }

    /// Adds a stored message read back from the journal (counted as enqueued when it was
    /// sent).
    pub fn page_in(&mut self, entry: Entry) {
        self.memory += entry.size;
        self.pending.insert(entry.key(), entry);
    }

    /// Messages waiting for a consumer: in memory and on disk.
    pub fn waiting(&self) -> u64 {
        (self.pending.len() + self.behind_tail.len()) as u64 + self.disk.messages
    }

    /// The disk tail is empty: what waited behind it becomes pending (its memory and its
    /// enqueue were counted when it arrived).
    pub fn tail_drained(&mut self) {
        for entry in std::mem::take(&mut self.behind_tail) {
            self.pending.insert(entry.key(), entry);
        }
    }

    /// Puts a delivered message back for redelivery at its original place.
    pub fn requeue(&mut self, entry: Entry) {
        self.pending.insert(entry.key(), entry);
    }

    /// Forgets a message for good (consumed, expired or dead-lettered); returns its size.
    pub fn release(&mut self, size: usize) -> usize {
        self.memory = self.memory.saturating_sub(size);
        size
    }
}
