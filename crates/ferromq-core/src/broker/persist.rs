//! Opening the store and rebuilding the core's state from it at start-up, and what a clean
//! shutdown writes down for the next start.

use std::collections::{BTreeMap, HashMap};

use ferromq_journal::{Journal, JournalConfig, JournalError, Op, Recovered};

use super::send::AUDIT_CAPACITY;
use super::state::State;
use crate::destination::{Destination, DestinationKind};
use crate::record::{decode_durable, stored_producer_sequence};
use crate::Selector;

/// Meta key under which a clean shutdown lists the stored messages of a space that had
/// already been delivered (and not acknowledged), so they come back flagged as redelivered.
fn delivered_key(space: &str) -> String {
    format!("delivered://{space}")
}

/// Meta key holding the seq below which paged-out messages come back flagged as
/// redelivered: set after a crash, and kept by a clean shutdown while such messages wait.
const REDELIVERED_BELOW_KEY: &str = "redelivered-below";

/// The store as the core finds it at start: the open journal, what it holds, and the
/// highest sequence of each producer it has stored (learned while the journal replayed, so
/// no message has to stay in memory for it).
#[derive(Debug)]
pub struct RecoveredStore {
    journal: Journal,
    recovered: Recovered,
    producer_audit: HashMap<String, u64>,
}

impl RecoveredStore {
    /// Opens the journal (blocking: call it from `spawn_blocking`) and replays it.
    ///
    /// # Errors
    /// What [`Journal::open`] reports.
    pub fn open(config: JournalConfig) -> Result<RecoveredStore, JournalError> {
        let mut producer_audit: HashMap<String, u64> = HashMap::new();
        let mut unreadable = 0u64;
        let (journal, recovered) =
            Journal::open_visiting(config, &mut |_, _, payload| match stored_producer_sequence(
                payload,
            ) {
                Ok(Some(sequence)) => {
                    let last = producer_audit.entry(sequence.producer).or_default();
                    *last = (*last).max(sequence.sequence);
                }
                Ok(None) => {}
                Err(_) => unreadable += 1,
            })?;
        if unreadable > 0 {
            tracing::warn!(
                unreadable,
                "stored messages whose producer could not be read"
            );
        }
        Ok(RecoveredStore {
            journal,
            recovered,
            producer_audit,
        })
    }

    /// The open journal.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }
}

impl State {
    /// At a clean shutdown: records which stored messages were delivered at least once, so
    /// that after the restart they carry the redelivered flag as JMS asks.
    pub fn remember_deliveries(&mut self) {
        if self.journal.is_none() {
            return;
        }
        let mut by_space: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
        for (key, space) in &self.spaces {
            let seqs = space
                .pending
                .values()
                .filter(|e| e.stored && e.deliveries > 0)
                .map(|e| e.seq);
            by_space.entry(key.as_str()).or_default().extend(seqs);
        }
        // Connections that did not finish within the drain time still hold deliveries.
        for consumer in self.consumers.values() {
            for held in consumer.in_flight.values().filter(|held| held.entry.stored) {
                by_space
                    .entry(held.space.as_str())
                    .or_default()
                    .push(held.entry.seq);
            }
        }
        // Listed messages that were never paged in are still listed.
        for (key, seq) in &self.recovered_flags.delivered {
            by_space.entry(key.as_str()).or_default().push(*seq);
        }
        let mut ops = Vec::new();
        let below = self.recovered_flags.redelivered_below;
        if below > 0 && !self.paged_out.is_empty() {
            ops.push(Op::PutMeta {
                key: REDELIVERED_BELOW_KEY.to_owned(),
                payload: below.to_le_bytes().to_vec().into(),
            });
        }
        for (key, seqs) in by_space {
            if seqs.is_empty() {
                continue;
            }
            let mut payload = Vec::with_capacity(seqs.len() * 8);
            for seq in seqs {
                payload.extend_from_slice(&seq.to_le_bytes());
            }
            ops.push(Op::PutMeta {
                key: delivered_key(key),
                payload: payload.into(),
            });
        }
        self.deferred_ops.extend(ops);
    }

    /// Loads durable subscriptions and what the spaces hold on disk. No message is read
    /// here: each space starts with all of its stored messages paged out, and consumers page
    /// them in, so start-up time does not grow with the size of the store.
    pub fn recover(&mut self, store: RecoveredStore) {
        let RecoveredStore {
            journal: _,
            recovered,
            producer_audit,
        } = store;
        self.next_seq = self.next_seq.max(recovered.next_seq);
        // Beyond the audit's capacity, keep the producers that sent most recently.
        let mut producers: Vec<(String, u64)> = producer_audit.into_iter().collect();
        producers.sort_by_key(|(_, sequence)| *sequence);
        let skip = producers.len().saturating_sub(AUDIT_CAPACITY);
        for (producer, sequence) in producers.into_iter().skip(skip) {
            self.producer_audit_order.push_back(producer.clone());
            self.producer_audit.insert(producer, sequence);
        }
        // After a crash nobody wrote down which messages were out with consumers, so every
        // recovered message may have been delivered: it comes back flagged as redelivered, as
        // JMS allows ("likely, but not guaranteed"). After a clean shutdown the list below is
        // exact. A new, empty store has no clean-shutdown record either; nothing to flag.
        let crashed = !recovered.clean_shutdown && !recovered.spaces.is_empty();
        if crashed {
            tracing::warn!("the broker did not shut down cleanly; recovered messages are flagged as redelivered");
            self.recovered_flags.redelivered_below = recovered.next_seq;
        }
        for (key, payload) in &recovered.meta {
            if let Some(space) = key.strip_prefix("delivered://") {
                for chunk in payload.chunks_exact(8) {
                    let mut bytes = [0u8; 8];
                    bytes.copy_from_slice(chunk);
                    let seq = u64::from_le_bytes(bytes);
                    self.recovered_flags
                        .delivered
                        .insert((space.to_owned(), seq));
                }
            } else if key == REDELIVERED_BELOW_KEY {
                let mut bytes = [0u8; 8];
                if let Some(value) = payload.get(..8) {
                    bytes.copy_from_slice(value);
                }
                let below = &mut self.recovered_flags.redelivered_below;
                *below = (*below).max(u64::from_le_bytes(bytes));
            } else {
                continue;
            }
            // Read once: the next clean shutdown writes a fresh one.
            self.deferred_ops.push(Op::RemoveMeta { key: key.clone() });
        }
        for (key, payload) in &recovered.meta {
            if !key.starts_with("sub://") {
                continue;
            }
            match decode_durable(payload) {
                Ok(definition) => {
                    let selector = definition
                        .selector
                        .as_deref()
                        .and_then(|text| Selector::parse(text).ok());
                    self.create_durable_space(&definition, selector);
                }
                Err(err) => tracing::warn!(key, %err, "unreadable durable subscription skipped"),
            }
        }
        let mut stored = 0u64;
        for (key, summary) in recovered.spaces {
            let space_key = if key.starts_with("durable://") {
                if !self.spaces.contains_key(&key) {
                    tracing::warn!(key, "messages of a deleted durable subscription dropped");
                    self.deferred_ops.push(Op::DropSpace { key });
                    continue;
                }
                key
            } else {
                match Destination::parse_key(&key) {
                    Ok(destination) if destination.kind() == DestinationKind::Queue => {
                        self.queue_space(&destination, None)
                    }
                    _ => {
                        tracing::warn!(key, "stored messages under an unknown key skipped");
                        continue;
                    }
                }
            };
            if let Some(space) = self.spaces.get_mut(&space_key) {
                space.disk.messages = summary.messages;
                space.stats.enqueued += summary.messages;
                stored += summary.messages;
                self.paged_out.insert(space_key);
            }
        }
        tracing::info!(
            messages = stored,
            "store recovered; messages are paged in as consumers need them"
        );
    }
}
