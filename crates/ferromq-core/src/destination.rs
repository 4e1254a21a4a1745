//! Destination names as ActiveMQ users write them.
//!
//! Names are `.`-separated paths. In subscriptions `*` matches one segment and `>` the rest;
//! `a,b` names several destinations at once (a composite). The canonical text form,
//! `queue://orders`, is what the store and the admin tools use as a key.

use std::fmt;

/// What kind of destination a name refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DestinationKind {
    Queue,
    Topic,
    TempQueue,
    TempTopic,
}

impl DestinationKind {
    /// The scheme of the canonical form (`queue://`).
    pub fn scheme(self) -> &'static str {
        match self {
            DestinationKind::Queue => "queue",
            DestinationKind::Topic => "topic",
            DestinationKind::TempQueue => "temp-queue",
            DestinationKind::TempTopic => "temp-topic",
        }
    }

    /// Queues (temporary or not) have competing consumers; topics fan out.
    pub fn is_queue(self) -> bool {
        matches!(self, DestinationKind::Queue | DestinationKind::TempQueue)
    }

    /// Temporary destinations live as long as the connection that made them.
    pub fn is_temporary(self) -> bool {
        matches!(
            self,
            DestinationKind::TempQueue | DestinationKind::TempTopic
        )
    }
}

/// A queue or topic by kind and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Destination {
    kind: DestinationKind,
    name: String,
}

/// Why a destination name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DestinationError {
    #[error("destination name is empty")]
    Empty,
    #[error("destination '{0}' has an empty segment")]
    EmptySegment(String),
    #[error(
        "'{0}' is not a destination: expected queue://, topic://, temp-queue:// or temp-topic://"
    )]
    UnknownScheme(String),
    #[error("destination '{0}': '>' may only be the last segment")]
    MisplacedWildcard(String),
    #[error("cannot send to wildcard destination '{0}'")]
    WildcardSend(String),
}

impl Destination {
    /// Checks the name and builds a destination.
    ///
    /// # Errors
    /// An empty name, an empty segment (`a..b`) or a `>` that is not the last segment.
    pub fn new(kind: DestinationKind, name: impl Into<String>) -> Result<Self, DestinationError> {
        let name = name.into();
        for part in name.split(',') {
            validate_segments(part, &name)?;
        }
        Ok(Destination { kind, name })
    }

    /// A queue, for names the broker itself makes (DLQ names and the like).
    pub fn queue(name: impl Into<String>) -> Result<Self, DestinationError> {
        Destination::new(DestinationKind::Queue, name)
    }

    /// A topic.
    pub fn topic(name: impl Into<String>) -> Result<Self, DestinationError> {
        Destination::new(DestinationKind::Topic, name)
    }

    /// Parses the canonical form, `queue://orders`.
    ///
    /// # Errors
    /// An unknown scheme or an invalid name.
    pub fn parse_key(key: &str) -> Result<Self, DestinationError> {
        let (scheme, name) = key
            .split_once("://")
            .ok_or_else(|| DestinationError::UnknownScheme(key.to_owned()))?;
        let kind = match scheme {
            "queue" => DestinationKind::Queue,
            "topic" => DestinationKind::Topic,
            "temp-queue" => DestinationKind::TempQueue,
            "temp-topic" => DestinationKind::TempTopic,
            _ => return Err(DestinationError::UnknownScheme(key.to_owned())),
        };
        Destination::new(kind, name)
    }

    pub fn kind(&self) -> DestinationKind {
        self.kind
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The canonical key, `queue://orders`.
    pub fn key(&self) -> String {
        format!("{}://{}", self.kind.scheme(), self.name)
    }

    /// Whether the name holds `*` or `>` segments.
    pub fn is_wildcard(&self) -> bool {
        self.name
            .split(['.', ','])
            .any(|segment| segment == "*" || segment == ">")
    }

    /// Whether the name lists several destinations (`a,b`).
    pub fn is_composite(&self) -> bool {
        self.name.contains(',')
    }

    /// The destinations a composite names (itself if not composite). Each part may carry its own
    /// kind prefix as ActiveMQ allows (`queue://a,topic://b`); otherwise it takes this kind.
    pub fn parts(&self) -> Vec<Destination> {
        if !self.is_composite() {
            return vec![self.clone()];
        }
        self.name
            .split(',')
            .map(|part| {
                Destination::parse_key(part).unwrap_or_else(|_| Destination {
                    kind: self.kind,
                    name: part.to_owned(),
                })
            })
            .collect()
    }

    /// Whether this (possibly wildcard or composite) subscription destination covers `other`.
    pub fn matches(&self, other: &Destination) -> bool {
        if self.is_composite() {
            return self.parts().iter().any(|part| part.matches(other));
        }
        let same_family = self.kind == other.kind;
        same_family && name_matches(&self.name, &other.name)
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.kind.scheme(), self.name)
    }
}

fn validate_segments(part: &str, whole: &str) -> Result<(), DestinationError> {
    let bare = part.split_once("://").map_or(part, |(_, rest)| rest);
    if bare.is_empty() {
        return Err(if whole.is_empty() {
            DestinationError::Empty
        } else {
            DestinationError::EmptySegment(whole.to_owned())
        });
    }
    let segments: Vec<&str> = bare.split('.').collect();
    if segments.iter().any(|segment| segment.is_empty()) {
        return Err(DestinationError::EmptySegment(whole.to_owned()));
    }
    if segments.iter().rev().skip(1).any(|segment| *segment == ">") {
        return Err(DestinationError::MisplacedWildcard(whole.to_owned()));
    }
    Ok(())
}

/// ActiveMQ wildcard matching: `*` is one segment, `>` is any number of trailing segments —
/// zero included, so `a.>` also matches `a`, as ActiveMQ 5.17 does in practice.
fn name_matches(pattern: &str, name: &str) -> bool {
    let mut names = name.split('.');
    for wanted in pattern.split('.') {
        if wanted == ">" {
            return true;
        }
        match names.next() {
            Some(segment) if wanted == "*" || wanted == segment => {}
            _ => return false,
        }
    }
    names.next().is_none()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn topic(name: &str) -> Destination {
        Destination::topic(name).unwrap()
    }

    #[test]
    fn wildcards_follow_activemq() {
        assert!(topic("a.*").matches(&topic("a.b")));
        assert!(!topic("a.*").matches(&topic("a.b.c")));
        assert!(!topic("a.*").matches(&topic("a")));
        assert!(topic("a.>").matches(&topic("a.b.c")));
        assert!(
            topic("a.>").matches(&topic("a")),
            "ActiveMQ lets '>' match nothing"
        );
        assert!(!topic("a.>").matches(&topic("ab")));
        assert!(topic("*.b").matches(&topic("x.b")));
        assert!(topic("a.b").matches(&topic("a.b")));
        assert!(!topic("a.b").matches(&topic("a.c")));
        assert!(!topic("a.>").matches(&Destination::queue("a.b").unwrap()));
    }

    #[test]
    fn bad_names_are_refused() {
        assert_eq!(Destination::queue(""), Err(DestinationError::Empty));
        assert!(matches!(
            Destination::queue("a..b"),
            Err(DestinationError::EmptySegment(_))
        ));
        assert!(matches!(
            Destination::queue("a.>.b"),
            Err(DestinationError::MisplacedWildcard(_))
        ));
        assert!(matches!(
            Destination::parse_key("mailbox://x"),
            Err(DestinationError::UnknownScheme(_))
        ));
    }

    #[test]
    fn composite_subscriptions_match_each_part() {
        let both = topic("ActiveMQ.Advisory.TempQueue,ActiveMQ.Advisory.TempTopic");
        assert!(both.matches(&topic("ActiveMQ.Advisory.TempTopic")));
        assert!(!both.matches(&topic("ActiveMQ.Advisory.Queue")));
    }

    #[test]
    fn composite_parts_keep_or_override_kind() {
        let composite = Destination::queue("a,topic://b").unwrap();
        assert!(composite.is_composite());
        let parts = composite.parts();
        assert_eq!(parts, vec![Destination::queue("a").unwrap(), topic("b")]);
    }

    #[test]
    fn key_round_trips() {
        let dest = Destination::new(DestinationKind::TempQueue, "ID:c1.x").unwrap();
        assert_eq!(Destination::parse_key(&dest.key()).unwrap(), dest);
    }
}
