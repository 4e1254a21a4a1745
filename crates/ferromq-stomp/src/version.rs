//! STOMP protocol versions and the `accept-version` negotiation rule.
//!
//! Owns only the version arithmetic; remembering the negotiated version is the codec's job.

/// A STOMP protocol version. Ordered so that `max` picks the newest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    V1_0,
    V1_1,
    V1_2,
}

impl Version {
    /// Every version, oldest first.
    pub const ALL: [Version; 3] = [Version::V1_0, Version::V1_1, Version::V1_2];

    /// The version as written in `accept-version` and `version` headers, e.g. `"1.2"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V1_0 => "1.0",
            Version::V1_1 => "1.1",
            Version::V1_2 => "1.2",
        }
    }

    /// Parses one version token such as `"1.1"` (surrounding whitespace ignored).
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim();
        Version::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Picks the highest version listed in a CONNECT frame's `accept-version` header.
    ///
    /// A missing header means a 1.0 client (the spec's rule). Unknown tokens are skipped, so
    /// `"1.1,2.0"` yields 1.1; `None` when nothing listed is supported, which the broker must
    /// answer with an ERROR frame.
    pub fn negotiate(accept_version_header: Option<&str>) -> Option<Version> {
        match accept_version_header {
            None => Some(Version::V1_0),
            Some(list) => list.split(',').filter_map(Version::parse).max(),
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_header_means_stomp_1_0() {
        assert_eq!(Version::negotiate(None), Some(Version::V1_0));
    }

    #[test]
    fn highest_common_version_wins_regardless_of_order() {
        assert_eq!(Version::negotiate(Some("1.2,1.0,1.1")), Some(Version::V1_2));
        assert_eq!(Version::negotiate(Some("1.0, 1.1")), Some(Version::V1_1));
        assert_eq!(Version::negotiate(Some("1.1,2.0")), Some(Version::V1_1));
    }

    #[test]
    fn no_common_version_is_none() {
        assert_eq!(Version::negotiate(Some("2.0,3.1")), None);
        assert_eq!(Version::negotiate(Some("")), None);
    }

    #[test]
    fn versions_are_ordered_oldest_first() {
        assert!(Version::V1_0 < Version::V1_1 && Version::V1_1 < Version::V1_2);
        assert_eq!(Version::V1_2.as_str(), "1.2");
    }
}
