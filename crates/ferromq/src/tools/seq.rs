//! Sequence checking: which of the producer's numbers `0..expected` arrived, how often, and
//! which never did.
//!
//! One bit per expected number keeps a million-message run at 125 KiB. The tracker never trusts
//! the number a message carries: anything outside the range is counted, not indexed.

/// What one received sequence number meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observation {
    /// First time this number was seen.
    New,
    /// Seen before and the broker did not flag it as redelivered: a real duplicate.
    Duplicate,
    /// Seen before, flagged `redelivered:true`: allowed (e.g. after a consumer failover).
    RedeliveredDuplicate,
    /// Not in `0..expected`: another producer's numbering, or a corrupted header.
    OutOfRange,
}

/// Tracks the distinct sequence numbers of one run.
#[derive(Debug, Clone)]
pub struct SeqTracker {
    bits: Vec<u64>,
    expected: u64,
    distinct: u64,
    duplicates: u64,
    redelivered_duplicates: u64,
    out_of_range: u64,
}

impl SeqTracker {
    /// A tracker for the numbers `0..expected`.
    pub fn new(expected: u64) -> Self {
        let words = usize::try_from(expected.div_ceil(64)).unwrap_or(usize::MAX);
        Self {
            bits: vec![0; words],
            expected,
            distinct: 0,
            duplicates: 0,
            redelivered_duplicates: 0,
            out_of_range: 0,
        }
    }

    /// Records one received number.
    pub fn observe(&mut self, seq: u64, redelivered: bool) -> Observation {
        let Some((word, mask)) = self.slot(seq) else {
            self.out_of_range += 1;
            return Observation::OutOfRange;
        };
        if self.bits[word] & mask == 0 {
            self.bits[word] |= mask;
            self.distinct += 1;
            Observation::New
        } else if redelivered {
            self.redelivered_duplicates += 1;
            Observation::RedeliveredDuplicate
        } else {
            self.duplicates += 1;
            Observation::Duplicate
        }
    }

    /// Adds another tracker's view of the same run (e.g. several queue consumers sharing the
    /// work). A number both trackers saw counts as a duplicate, since a queue must deliver each
    /// message to one consumer only.
    pub fn merge(&mut self, other: &SeqTracker) {
        // Bits past `expected` are never set, so whole-word arithmetic needs no masking.
        for (mine, theirs) in self.bits.iter_mut().zip(&other.bits) {
            self.duplicates += u64::from((*mine & *theirs).count_ones());
            self.distinct += u64::from((!*mine & *theirs).count_ones());
            *mine |= *theirs;
        }
        self.duplicates += other.duplicates;
        self.redelivered_duplicates += other.redelivered_duplicates;
        self.out_of_range += other.out_of_range;
    }

    /// Whether every number in `0..expected` has been seen.
    pub fn is_complete(&self) -> bool {
        self.distinct == self.expected
    }

    /// How many numbers were seen at least once.
    pub fn distinct(&self) -> u64 {
        self.distinct
    }

    /// Repeats that were not flagged as redelivered.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// Repeats flagged `redelivered:true`.
    pub fn redelivered_duplicates(&self) -> u64 {
        self.redelivered_duplicates
    }

    /// Numbers outside `0..expected`.
    pub fn out_of_range(&self) -> u64 {
        self.out_of_range
    }

    /// How many numbers in `0..expected` were never seen.
    pub fn missing(&self) -> u64 {
        self.expected - self.distinct
    }

    /// The smallest `limit` numbers never seen, for the report.
    pub fn first_missing(&self, limit: usize) -> Vec<u64> {
        let mut found = Vec::with_capacity(limit.min(64));
        for (index, word) in self.bits.iter().enumerate() {
            if found.len() >= limit {
                break;
            }
            if *word == u64::MAX {
                continue;
            }
            let base = (index as u64) * 64;
            for bit in 0..64 {
                let seq = base + bit;
                if seq >= self.expected || found.len() >= limit {
                    break;
                }
                if word & (1 << bit) == 0 {
                    found.push(seq);
                }
            }
        }
        found
    }

    fn slot(&self, seq: u64) -> Option<(usize, u64)> {
        if seq >= self.expected {
            return None;
        }
        let word = usize::try_from(seq / 64).ok()?;
        Some((word, 1 << (seq % 64)))
    }
}

/// Parses a sequence header value; `None` for anything that is not a plain decimal `u64`.
pub fn parse_seq(value: &str) -> Option<u64> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_new_duplicate_and_redelivered() {
        let mut tracker = SeqTracker::new(5);
        assert_eq!(tracker.observe(0, false), Observation::New);
        assert_eq!(tracker.observe(4, true), Observation::New);
        assert_eq!(tracker.observe(0, false), Observation::Duplicate);
        assert_eq!(tracker.observe(0, true), Observation::RedeliveredDuplicate);
        assert_eq!(tracker.observe(5, false), Observation::OutOfRange);
        assert_eq!(tracker.distinct(), 2);
        assert_eq!(tracker.duplicates(), 1);
        assert_eq!(tracker.redelivered_duplicates(), 1);
        assert_eq!(tracker.out_of_range(), 1);
        assert_eq!(tracker.missing(), 3);
        assert_eq!(tracker.first_missing(10), vec![1, 2, 3]);
        assert_eq!(tracker.first_missing(2), vec![1, 2]);
        assert!(!tracker.is_complete());
    }

    #[test]
    fn completes_across_word_boundaries() {
        let mut tracker = SeqTracker::new(130);
        for seq in (0..130).rev() {
            assert_eq!(tracker.observe(seq, false), Observation::New);
        }
        assert!(tracker.is_complete());
        assert!(tracker.first_missing(5).is_empty());
        assert_eq!(tracker.missing(), 0);
    }

    #[test]
    fn first_missing_skips_full_words() {
        let mut tracker = SeqTracker::new(200);
        for seq in 0..200 {
            if seq != 150 && seq != 199 {
                tracker.observe(seq, false);
            }
        }
        assert_eq!(tracker.first_missing(10), vec![150, 199]);
    }

    #[test]
    fn empty_run_is_complete() {
        let tracker = SeqTracker::new(0);
        assert!(tracker.is_complete());
        assert!(tracker.first_missing(3).is_empty());
    }

    #[test]
    fn merge_counts_overlap_as_duplicates() {
        let mut a = SeqTracker::new(10);
        let mut b = SeqTracker::new(10);
        for seq in 0..6 {
            a.observe(seq, false);
        }
        for seq in 5..10 {
            b.observe(seq, false);
        }
        b.observe(9, true);
        a.merge(&b);
        assert!(a.is_complete());
        assert_eq!(a.duplicates(), 1);
        assert_eq!(a.redelivered_duplicates(), 1);
    }

    #[test]
    fn parses_only_plain_numbers() {
        assert_eq!(parse_seq("42"), Some(42));
        assert_eq!(parse_seq("0"), Some(0));
        for bad in ["", "-1", "+1", " 1", "1.0", "99999999999999999999999"] {
            assert_eq!(parse_seq(bad), None, "{bad:?}");
        }
    }
}
