//! FerroMQ's message store: an append-only, checksummed journal with group commit.
//!
//! The journal stores opaque payloads under string keys and knows nothing about messages,
//! destinations or subscriptions; the broker core owns what the keys and bytes mean. It
//! offers one atomic operation, [`Journal::append`] of a batch of [`Op`]s; [`Journal::open`]
//! says what is stored ([`Recovered`]) and [`Journal::read`] pages messages back in, so the
//! payloads stay on disk until the core wants them.
//!
//! Layout of the crate, from bytes up:
//! - `record`: the sans-IO framing of a segment (header, checksummed records).
//! - `op`: the sans-IO encoding of a batch of ops inside one record.
//! - `index`: which (key, seq) and which meta keys are live, and where each payload lies.
//! - `read`: reading payloads back by their place in the segments.
//! - `segment`: segment files on disk (naming, creating, appending, rolling).
//! - `recovery`: replaying segments at open, truncating a torn tail.
//! - `compaction`: rewriting the live state into fresh segments at open.
//! - `reclaim`: which segments may be deleted and which is worth compacting (pure).
//! - `rewrite`: reading a segment back to rewrite its live records forward while running.
//! - `writer`: the single writer thread (group commit, deletion and compaction, close).
//! - `journal`: the public handle and the [`Durable`] future.
//!
//! The on-disk format and the invariant that keeps deletion safe are described in
//! `ARCHITECTURE.md` next to this crate's `Cargo.toml`.

mod compaction;
mod config;
#[cfg(test)]
mod crash_model;
mod error;
mod index;
mod journal;
mod lock;
mod op;
mod prealloc;
mod read;
mod reclaim;
mod record;
mod recovery;
mod rewrite;
mod segment;
mod stats;
mod writer;

pub use config::{JournalConfig, LockMode, SyncMode};
pub use error::JournalError;
pub use journal::{Durable, Journal, Recovered, StoredSpace};
pub use op::Op;
pub use stats::{JournalStats, LatencyHistogram, RecoveryStats};
