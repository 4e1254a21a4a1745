//! Rebuilding the core's state from what the journal recovered at start-up.

use std::sync::Arc;

use ferromq_journal::{Op, Recovered};

use super::queue::Entry;
use super::state::State;
use crate::destination::{Destination, DestinationKind};
use crate::record::{decode_durable, decode_message};
use crate::Selector;

impl State {
    /// Loads durable subscriptions and stored messages.
    pub fn recover(&mut self, recovered: Recovered) {
        self.next_seq = self.next_seq.max(recovered.next_seq);
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
                        let entry = Entry::new(seq, Arc::new(message), true);
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
