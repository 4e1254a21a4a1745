//! Adaptive group commit: when several producers are waiting on the journal, hold a group
//! open for a moment so the stragglers of the same round join it instead of paying for an
//! fsync of their own.
//!
//! Without it, producers that each wait for their previous send to be durable fall into
//! cohorts: the ones answered by one fsync send again while the next fsync is already running,
//! so eight producers end up sharing fsyncs three by three. Holding a group until it is as
//! large as recent groups were (or for at most about one fsync) merges the cohorts, after
//! which every producer is answered at once and the groups stay merged. This is the same
//! trade as PostgreSQL's `commit_delay` / `commit_siblings`, chosen from what the writer sees
//! instead of configured.
//!
//! The wait only happens where it pays: after groups of two batches or more (one producer
//! alone never waits, its latency stays one fsync), only in `SyncMode::Always`, never longer
//! than twice the recent mean fsync (capped at 1 ms), and a wait that ends short forgets the
//! recent group sizes, so a producer that went away costs one wait, not one per group. Since
//! cohorts hide how many producers there are, every 16th group waits for one batch more than
//! recent groups held; a miss costs one wait.

use std::collections::VecDeque;
use std::time::Duration;

/// Group sizes remembered; the largest is what a group waits to reach.
const HISTORY: usize = 8;
/// Every this many groups, a group waits for one batch more than recent groups held, so the
/// target can grow to the number of producers (cohorts never show it by themselves).
const PROBE_EVERY: u64 = 16;
/// The longest a group is held open, whatever the disk's fsync time.
const MAX_LINGER: Duration = Duration::from_millis(1);
/// The shortest hold worth a sleep.
const MIN_LINGER: Duration = Duration::from_micros(100);
/// How often the queue is looked at while holding a group.
pub(crate) const POLL: Duration = Duration::from_micros(50);

#[derive(Debug, Default)]
pub(crate) struct Pacer {
    recent: VecDeque<usize>,
    groups: u64,
    /// Exponentially weighted mean fsync time, in nanoseconds.
    fsync_nanos: u64,
}

impl Pacer {
    /// How many batches a group should wait for; below 2 it does not wait.
    pub(crate) fn target(&self) -> usize {
        let largest = self.recent.iter().copied().max().unwrap_or(0);
        let probe = largest >= 2 && self.groups.is_multiple_of(PROBE_EVERY);
        largest + usize::from(probe)
    }

    /// How long a group may be held open: about a round trip of the producers just answered,
    /// which on a busy machine is as long as an fsync or two.
    pub(crate) fn linger(&self) -> Duration {
        Duration::from_nanos(self.fsync_nanos.saturating_mul(2)).clamp(MIN_LINGER, MAX_LINGER)
    }

    /// A group of `batches` was committed.
    pub(crate) fn committed(&mut self, batches: usize) {
        self.groups += 1;
        if self.recent.len() == HISTORY {
            self.recent.pop_front();
        }
        self.recent.push_back(batches);
    }

    /// An fsync took `took`.
    pub(crate) fn synced(&mut self, took: Duration) {
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.fsync_nanos = if self.fsync_nanos == 0 {
            nanos
        } else {
            // Weight 1/8 for the newest sample.
            self.fsync_nanos - self.fsync_nanos / 8 + nanos / 8
        };
    }

    /// A hold ended without reaching the target: fewer producers than before.
    pub(crate) fn gave_up(&mut self) {
        self.recent.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_only_after_concurrent_groups_and_forgets_after_a_miss() {
        let mut pacer = Pacer::default();
        assert!(pacer.target() < 2, "nothing seen: no wait");
        pacer.committed(1);
        pacer.committed(1);
        assert!(pacer.target() < 2, "one producer: no wait");
        pacer.committed(3);
        pacer.committed(5);
        assert_eq!(pacer.target(), 5);
        // Every PROBE_EVERY groups the target reaches one higher.
        while pacer.groups % PROBE_EVERY != PROBE_EVERY - 1 {
            pacer.committed(5);
        }
        pacer.committed(5);
        assert_eq!(pacer.target(), 6, "probing for one more producer");
        pacer.committed(5);
        assert_eq!(pacer.target(), 5);
        pacer.gave_up();
        assert!(pacer.target() < 2);
        for _ in 0..HISTORY {
            pacer.committed(1);
        }
        pacer.committed(4);
        if pacer.groups.is_multiple_of(PROBE_EVERY) {
            pacer.committed(4);
        }
        assert_eq!(pacer.target(), 4, "the newest groups count");
    }

    #[test]
    fn the_hold_follows_fsync_time_within_bounds() {
        let mut pacer = Pacer::default();
        assert_eq!(pacer.linger(), MIN_LINGER);
        pacer.synced(Duration::from_micros(400));
        assert_eq!(pacer.linger(), Duration::from_micros(800));
        for _ in 0..100 {
            pacer.synced(Duration::from_millis(20));
        }
        assert_eq!(pacer.linger(), MAX_LINGER);
    }
}
