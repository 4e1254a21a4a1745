//! Paging: persistent messages beyond the memory high-water mark live only in the journal and
//! are read back in arrival order as consumers make room.
//!
//! Each durable space has a *disk tail*: the stored messages it holds that are not in memory.
//! They are all newer than every stored message in memory, so the tail is just a count and
//! the seq after which the journal should be read (`Journal::read` returns live messages in
//! seq order). Once a space has a tail, new persistent messages join the tail too, so order
//! is kept: the tail drains before anything sent later is dispatched. Messages with no copy
//! on disk (non-persistent ones) that arrive while there is a tail wait in memory *behind*
//! it and join the pending messages once it has drained, so they do not overtake older
//! persistent ones either (JMS would allow it; a restart, which leaves every stored message
//! on disk, made it visible). Priorities are honoured among the messages in memory only, as
//! with ActiveMQ's store cursor.
//!
//! Reads run as tasks beside the core (the journal thread reads, the task decodes), so a
//! page-in never stalls the core; the answer comes back through [`State::paged_in`]. A read
//! in flight is identified by a ticket: purging or deleting the space forgets the ticket, and
//! a late answer is dropped.
//!
//! What this buys: a queue of ten million messages costs the core a counter, and the
//! journal's index about 40 bytes per message; only what consumers are about to get sits in
//! memory.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ferromq_journal::{Journal, Op};

use super::queue::Entry;
use super::state::State;
use crate::message::Message;
use crate::record::{decode_message, encode_message, RecordError};

/// Messages read per page-in at most.
const PAGE_MESSAGES: usize = 2048;
/// Payload bytes read per page-in at most.
const PAGE_BYTES: usize = 4 << 20;
/// A space with a tail asks for more once fewer than this many messages wait in memory.
const LOW_WATER: usize = PAGE_MESSAGES;
/// A space whose consumers have taken everything in memory reads at least this much, even
/// when deliveries not yet acknowledged fill the memory limits: those are bounded by the
/// consumers' prefetch, and waiting for their acks could wait forever (a client acking
/// every N messages never acks if it never gets N).
const MIN_PAGE_BYTES: usize = 256 << 10;
/// After a failed read, how long before the space tries again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// The stored messages of a space that are not in memory.
#[derive(Debug, Default)]
pub(crate) struct DiskTail {
    /// How many.
    pub messages: u64,
    /// Every one of them has a seq above this.
    pub after: u64,
    /// The read in flight, if any.
    pub reading: Option<u64>,
    /// When a failed read may be tried again.
    pub retry_at: Option<Instant>,
}

/// A stored message read back: its seq and what decoding it gave.
type ReadBack = (u64, Result<Message, RecordError>);

/// What a page-in task brings back.
#[derive(Debug)]
pub(crate) struct PageIn {
    pub key: String,
    pub ticket: u64,
    /// The messages, or why the journal could not read them.
    pub result: Result<Vec<ReadBack>, String>,
}

/// How the messages of an earlier run come back flagged as redelivered, for messages that
/// are paged in long after start-up.
#[derive(Debug, Default)]
pub(crate) struct RecoveredFlags {
    /// Stored messages below this seq may have been delivered before a crash.
    pub redelivered_below: u64,
    /// Messages a clean shutdown listed as delivered: (space, seq).
    pub delivered: HashSet<(String, u64)>,
}

impl RecoveredFlags {
    /// Whether the message `seq` of `space` must carry the redelivered flag; forgets it from
    /// the clean-shutdown list once asked, since it is in memory from now on.
    pub fn take(&mut self, space: &str, seq: u64) -> bool {
        let listed = !self.delivered.is_empty() && self.delivered.remove(&(space.to_owned(), seq));
        listed || seq < self.redelivered_below
    }
}

impl State {
    /// Puts a new message into space `key` under `seq`: in memory, or, for a persistent
    /// message in a durable space past the high-water mark (or behind messages already
    /// paged out), only on disk. Journal writes go into `ops`; `encoded` caches the
    /// message's encoding across the spaces of one send.
    pub(crate) fn put_message(
        &mut self,
        key: &str,
        seq: u64,
        message: &Arc<Message>,
        encoded: &mut Option<Bytes>,
        ops: &mut Vec<Op>,
    ) {
        let size = message.memory_size();
        let broker_high = self.high_water(self.config.memory_limit);
        let space_high = self.high_water(self.config.destination_memory_limit);
        let over_broker = self.memory + size > broker_high;
        let journal = self.journal.is_some();
        let Some(space) = self.spaces.get_mut(key) else {
            return;
        };
        let stored = space.stores(message, journal);
        if stored {
            let payload = encoded
                .get_or_insert_with(|| encode_message(message))
                .clone();
            ops.push(Op::Put {
                key: key.to_owned(),
                seq,
                payload,
            });
        }
        let page_out =
            stored && (space.disk.messages > 0 || over_broker || space.memory + size > space_high);
        if page_out {
            if space.disk.messages == 0 {
                // Every stored message in memory is older than this one.
                space.disk.after = seq - 1;
            }
            space.disk.messages += 1;
            space.stats.enqueued += 1;
            self.paged_out.insert(key.to_owned());
        } else {
            let entry = Entry::new(seq, Arc::clone(message), stored);
            self.memory += entry.size;
            space.enqueue(entry);
        }
        self.dirty.insert(key.to_owned());
    }

    /// The part of `limit` memory may fill before persistent messages stay on disk.
    fn high_water(&self, limit: usize) -> usize {
        limit.saturating_mul(usize::from(self.config.cursor_memory_high_water_mark)) / 100
    }

    /// Starts reads for the spaces whose consumers are about to run out of messages in
    /// memory, where memory has room for them.
    pub(crate) async fn request_page_ins(&mut self) {
        let Some(journal) = self.journal.clone() else {
            return;
        };
        let now = Instant::now();
        let broker_room = self
            .high_water(self.config.memory_limit)
            .saturating_sub(self.memory);
        // Only messages waiting in memory count against a space here, not those out with
        // consumers: see MIN_PAGE_BYTES.
        let space_high = self.high_water(self.config.destination_memory_limit);
        let mut wanted = Vec::new();
        for key in &self.paged_out {
            let Some(space) = self.spaces.get(key) else {
                continue;
            };
            let disk = &space.disk;
            let idle = disk.reading.is_none() && disk.retry_at.is_none_or(|at| at <= now);
            if !idle || space.consumers.is_empty() || space.pending.len() >= LOW_WATER {
                continue;
            }
            let waiting: usize = space.pending.values().map(|entry| entry.size).sum();
            let mut room = broker_room.min(space_high.saturating_sub(waiting));
            if space.pending.is_empty() {
                room = room.max(MIN_PAGE_BYTES);
            }
            if room == 0 {
                continue;
            }
            // At least one message is read, however large, so a message bigger than the
            // limits cannot wait forever.
            wanted.push((key.clone(), disk.after, room.min(PAGE_BYTES)));
        }
        if wanted.is_empty() {
            return;
        }
        // A message put by the broker itself (a dead-lettered copy, an operator's move) waits
        // in the deferred writes; it must be in the journal before a read that may return it.
        let deferred_put = self.deferred_ops.iter().any(|op| {
            matches!(op, Op::Put { key, .. } if wanted.iter().any(|(wanted, _, _)| wanted == key))
        });
        if deferred_put {
            self.flush_deferred_ops().await;
        }
        for (key, after, max_bytes) in wanted {
            let ticket = self.next_ticket;
            self.next_ticket += 1;
            if let Some(space) = self.spaces.get_mut(&key) {
                space.disk.reading = Some(ticket);
            }
            let journal: Journal = journal.clone();
            self.page_ins.spawn(async move {
                let result = journal
                    .read(&key, after, PAGE_MESSAGES, max_bytes)
                    .await
                    .map(|messages| {
                        messages
                            .into_iter()
                            .map(|(seq, payload)| (seq, decode_message(&payload)))
                            .collect()
                    })
                    .map_err(|err| err.to_string());
                PageIn {
                    key,
                    ticket,
                    result,
                }
            });
        }
    }

    /// Takes the answer of a page-in: its messages join the space's memory.
    pub(crate) fn paged_in(&mut self, page: PageIn) {
        let PageIn {
            key,
            ticket,
            result,
        } = page;
        let Some(space) = self.spaces.get_mut(&key) else {
            return;
        };
        if space.disk.reading != Some(ticket) {
            // The space was purged while the read was in flight.
            return;
        }
        space.disk.reading = None;
        let messages = match result {
            Ok(messages) => messages,
            Err(err) => {
                tracing::error!(space = %key, %err, "reading stored messages back failed; retrying");
                space.disk.retry_at = Some(Instant::now() + RETRY_AFTER);
                return;
            }
        };
        space.disk.retry_at = None;
        let Some(&(last, _)) = messages.last() else {
            // The journal holds fewer than counted: a Put whose append failed.
            tracing::warn!(space = %key, missing = space.disk.messages,
                "fewer stored messages on disk than counted; forgetting the difference");
            self.forget_tail(&key);
            self.dirty.insert(key);
            return;
        };
        let count = messages.len() as u64;
        space.disk.after = last;
        space.disk.messages = space.disk.messages.saturating_sub(count);
        let drained = space.disk.messages == 0;
        if drained {
            self.paged_out.remove(&key);
        }
        let before = space.memory;
        for (seq, decoded) in messages {
            let message = match decoded {
                Ok(message) => message,
                Err(err) => {
                    tracing::warn!(space = %key, seq, %err, "unreadable stored message skipped");
                    continue;
                }
            };
            let mut entry = Entry::new(seq, Arc::new(message), true);
            if self.recovered_flags.take(&key, seq) {
                entry.deliveries = 1;
            }
            space.page_in(entry);
        }
        self.memory += space.memory - before;
        if drained {
            space.tail_drained();
        }
        self.dirty.insert(key);
    }

    /// Forgets a space's disk tail (its messages were dropped from the journal), dropping
    /// the answer of any read in flight. Returns how many messages it held; what waited
    /// behind it joins the pending messages.
    pub(crate) fn forget_tail(&mut self, key: &str) -> u64 {
        self.paged_out.remove(key);
        let Some(space) = self.spaces.get_mut(key) else {
            return 0;
        };
        let dropped = space.disk.messages;
        space.disk = DiskTail::default();
        space.tail_drained();
        dropped
    }
}
