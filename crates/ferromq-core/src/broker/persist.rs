//! Rebuilding the core's state from what the journal recovered at start-up.

use std::collections::HashSet;
use std::sync::Arc;

use ferromq_journal::{Op, Recovered};

use super::queue::Entry;
use super::state::State;
use crate::destination::{Destination, DestinationKind};
use crate::record::{decode_durable, decode_message};
use crate::Selector;

/// Meta key under which a clean shutdown lists the stored messages of a space that had
/// already been delivered (and not acknowledged), so they come back flagged as redelivered.
fn delivered_key(space: &str) -> String {
    format!("delivered://{space}")
}

impl State {
    /// At a clean shutdown: records which stored messages were delivered at least once, so
    /// that after the restart they carry the redelivered flag as JMS asks.
    pub fn remember_deliveries(&mut self) {
        if self.journal.is_none() {
            return;
        }
        let mut by_space: std::collections::BTreeMap<&str, Vec<u64>> =
            std::collections::BTreeMap::new();
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
        let mut ops = Vec::new();
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

    /// Loads durable subscriptions and stored messages.
    pub fn recover(&mut self, recovered: Recovered) {
        self.next_seq = self.next_seq.max(recovered.next_seq);
        // After a crash nobody wrote down which messages were out with consumers, so every
        // recovered message may have been delivered: it comes back flagged as redelivered, as
        // JMS allows ("likely, but not guaranteed"). After a clean shutdown the list below is
        // exact.
        // A new, empty store has no clean-shutdown record either; there is nothing to flag.
        let crashed = !recovered.clean_shutdown && !recovered.spaces.is_empty();
        if crashed {
            tracing::warn!("the broker did not shut down cleanly; recovered messages are flagged as redelivered");
        }
        let mut delivered: HashSet<(String, u64)> = HashSet::new();
        for (key, payload) in &recovered.meta {
            if let Some(space) = key.strip_prefix("delivered://") {
                for chunk in payload.chunks_exact(8) {
                    let mut bytes = [0u8; 8];
                    bytes.copy_from_slice(chunk);
                    delivered.insert((space.to_owned(), u64::from_le_bytes(bytes)));
                }
                // Read once: the next clean shutdown writes a fresh list.
                self.deferred_ops.push(Op::RemoveMeta { key: key.clone() });
            }
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
        let mut restored = 0usize;
        let mut unreadable = 0usize;
        for (key, entries) in recovered.spaces {
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
            for (seq, payload) in entries {
                match decode_message(&payload) {
                    Ok(message) => {
                        if let Some(sequence) = &message.producer_sequence {
                            let last = self
                                .producer_audit
                                .entry(sequence.producer.clone())
                                .or_default();
                            *last = (*last).max(sequence.sequence);
                        }
                        let mut entry = Entry::new(seq, Arc::new(message), true);
                        if crashed || delivered.contains(&(space_key.clone(), seq)) {
                            entry.deliveries = 1;
                        }
                        self.memory += entry.size;
                        if let Some(space) = self.spaces.get_mut(&space_key) {
                            space.enqueue(entry);
                        }
                        restored += 1;
                    }
                    Err(err) => {
                        unreadable += 1;
                        tracing::warn!(key = %space_key, seq, %err, "unreadable stored message skipped");
                    }
                }
            }
        }
        tracing::info!(messages = restored, unreadable, "store recovered");
    }
}
