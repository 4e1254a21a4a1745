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
//! than twice the recent mean fsync (capped at 1 ms), and a wait that ends short of the recent
//! group sizes forgets them, so a producer that went away costs one wait, not one per group.
//!
//! Since cohorts hide how many producers there are, a group now and then waits for one batch
//! more than recent groups held (a probe). With a steady set of producers every probe misses
//! and costs a full wait, so a probe that misses only its extra batch keeps what was learnt
//! and the next probe comes twice as late (every 16th group at first, every 256th at most);
//! a group larger than recent ones starts over at every 16th.

use std::collections::VecDeque;
use std::time::Duration;

/// Group sizes remembered; the largest is what a group waits to reach.
const HISTORY: usize = 8;
/// Every this many groups, a group waits for one batch more than recent groups held, so the
/// target can grow to the number of producers (cohorts never show it by themselves).
const PROBE_EVERY: u64 = 16;
/// How far probing backs off while probes find nobody new.
const MAX_PROBE_EVERY: u64 = 256;
/// The longest a group is held open, whatever the disk's fsync time.
const MAX_LINGER: Duration = Duration::from_millis(1);
/// The shortest hold worth a sleep.
const MIN_LINGER: Duration = Duration::from_micros(100);
/// How often the queue is looked at while holding a group.
pub(crate) const POLL: Duration = Duration::from_micros(50);

#[derive(Debug)]
pub(crate) struct Pacer {
    recent: VecDeque<usize>,
    groups: u64,
    /// A probe every this many groups (see the module's notes).
    probe_every: u64,
    /// Exponentially weighted mean fsync time, in nanoseconds.
    fsync_nanos: u64,
}

impl Default for Pacer {
    fn default() -> Self {
        Pacer {
            recent: VecDeque::with_capacity(HISTORY),
            groups: 0,
            probe_every: PROBE_EVERY,
            fsync_nanos: 0,
        }
    }
}

impl Pacer {
    /// How many batches a group should wait for; below 2 it does not wait.
    pub(crate) fn target(&self) -> usize {
        let largest = self.largest();
        let probe = largest >= 2 && self.groups.is_multiple_of(self.probe_every);
        largest + usize::from(probe)
    }

    fn largest(&self) -> usize {
        self.recent.iter().copied().max().unwrap_or(0)
    }

    /// How long a group may be held open: about a round trip of the producers just answered,
    /// which on a busy machine is as long as an fsync or two.
    pub(crate) fn linger(&self) -> Duration {
        Duration::from_nanos(self.fsync_nanos.saturating_mul(2)).clamp(MIN_LINGER, MAX_LINGER)
    }

    /// A group of `batches` was committed.
    pub(crate) fn committed(&mut self, batches: usize) {
        let largest = self.largest();
        if largest >= 2 && batches > largest {
            // A probe (or a burst) found more producers than recent groups showed.
            self.probe_every = PROBE_EVERY;
        }
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

    /// A hold ended without reaching the target, having gathered `batches`.
    pub(crate) fn gave_up(&mut self, batches: usize) {
        if batches >= self.largest() {
            // Only a probe's extra batch is missing: the producers are the same as before.
            self.probe_every = (self.probe_every * 2).min(MAX_PROBE_EVERY);
        } else {
            // Fewer producers than before.
            self.recent.clear();
            self.probe_every = PROBE_EVERY;
        }
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
        // A hold that gathered fewer than recent groups: a producer went away.
        pacer.gave_up(3);
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

    /// Whether the next group is a probe, checking that its target is the steady size or
    /// one more.
    fn next(pacer: &Pacer, steady: usize) -> bool {
        let target = pacer.target();
        assert!(target == steady || target == steady + 1, "target {target}");
        target == steady + 1
    }

    #[test]
    fn probes_that_find_nobody_new_keep_the_target_and_come_less_often() {
        let mut pacer = Pacer::default();
        for _ in 0..HISTORY {
            pacer.committed(8);
        }
        // Eight steady producers: each probe gathers eight and gives up.
        let mut probes_at = Vec::new();
        for _ in 0..2000 {
            if next(&pacer, 8) {
                probes_at.push(pacer.groups);
                pacer.gave_up(8);
            }
            assert!(pacer.target() >= 8, "the groups still wait for all eight");
            pacer.committed(8);
        }
        let gaps: Vec<u64> = probes_at.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps.windows(2).all(|w| w[1] >= w[0]), "{gaps:?}");
        assert_eq!(gaps.last().copied(), Some(MAX_PROBE_EVERY), "{gaps:?}");
        assert!(probes_at.len() < 16, "{probes_at:?}");

        // A ninth producer shows up in a probe: probing starts over.
        while !next(&pacer, 8) {
            pacer.committed(8);
        }
        pacer.committed(9);
        assert_eq!(pacer.probe_every, PROBE_EVERY);
        assert!(pacer.target() >= 9);
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
