//! Identifiers, destinations and transaction ids: the small structures nested inside commands
//! (`V12/*IdMarshaller.java`, `ActiveMQDestinationMarshaller.java`). None has the
//! `commandId`/`responseRequired` prefix.
//!
//! String parts the Java broker dereferences without a null check (connection ids, destination
//! names) are required here: a null one is a decode error rather than an `Option` every user of
//! the type would have to unwrap. `Display` gives ActiveMQ's text forms.

use std::fmt;

use bytes::Bytes;

use crate::command::type_id;
use crate::error::WireError;
use crate::wire::{Marshal, Reader, Writer};

/// Implements [`Marshal`] for a structure with a single type id.
macro_rules! single_type {
    ($ty:ty, $id:expr, $name:literal, |$r:ident| $read:block, |$s:ident, $w:ident| $write:block) => {
        impl Marshal for $ty {
            const NAME: &'static str = $name;
            fn accepts(t: u8) -> bool {
                t == $id
            }
            fn read_body(_: u8, $r: &mut Reader<'_>) -> Result<Self, WireError> $read
            fn type_id(&self) -> u8 {
                $id
            }
            fn write_body(&self, $w: &mut Writer<'_>) -> Result<(), WireError> {
                let $s = self;
                $write
            }
        }
    };
}

/// A connection, e.g. `ID:host-40165-1795598162559-1:1` (type 120).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ConnectionId {
    pub value: String,
}

single_type!(
    ConnectionId,
    type_id::CONNECTION_ID,
    "ConnectionId",
    |r| {
        Ok(ConnectionId {
            value: r.string("ConnectionId.value")?,
        })
    },
    |s, w| { w.opt_string(Some(&s.value)) }
);

/// A session of a connection (type 121). Value −1 is the implicit session every connection has
/// without announcing it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SessionId {
    pub connection_id: String,
    pub value: i64,
}

single_type!(
    SessionId,
    type_id::SESSION_ID,
    "SessionId",
    |r| {
        Ok(SessionId {
            connection_id: r.string("SessionId.connectionId")?,
            value: r.i64()?,
        })
    },
    |s, w| {
        w.opt_string(Some(&s.connection_id))?;
        w.i64(s.value);
        Ok(())
    }
);

/// A consumer (type 122).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ConsumerId {
    pub connection_id: String,
    pub session_id: i64,
    pub value: i64,
}

single_type!(
    ConsumerId,
    type_id::CONSUMER_ID,
    "ConsumerId",
    |r| {
        Ok(ConsumerId {
            connection_id: r.string("ConsumerId.connectionId")?,
            session_id: r.i64()?,
            value: r.i64()?,
        })
    },
    |s, w| {
        w.opt_string(Some(&s.connection_id))?;
        w.i64(s.session_id);
        w.i64(s.value);
        Ok(())
    }
);

/// A producer (type 123). On the wire the value comes *before* the session id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ProducerId {
    pub connection_id: String,
    pub session_id: i64,
    pub value: i64,
}

single_type!(
    ProducerId,
    type_id::PRODUCER_ID,
    "ProducerId",
    |r| {
        let connection_id = r.string("ProducerId.connectionId")?;
        let value = r.i64()?;
        Ok(ProducerId {
            connection_id,
            session_id: r.i64()?,
            value,
        })
    },
    |s, w| {
        w.opt_string(Some(&s.connection_id))?;
        w.i64(s.value);
        w.i64(s.session_id);
        Ok(())
    }
);

/// A broker (type 124), as found in broker paths and `BrokerInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct BrokerId {
    pub value: String,
}

single_type!(
    BrokerId,
    type_id::BROKER_ID,
    "BrokerId",
    |r| {
        Ok(BrokerId {
            value: r.string("BrokerId.value")?,
        })
    },
    |s, w| { w.opt_string(Some(&s.value)) }
);

/// A message id (type 110): producer + producer sequence, plus the broker's sequence number,
/// which clients echo back as `lastDeliveredSequenceId`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct MessageId {
    /// A verbatim id (messages bridged from other protocols); wins over the parts in `Display`.
    pub text_view: Option<String>,
    pub producer_id: Option<ProducerId>,
    pub producer_sequence_id: i64,
    pub broker_sequence_id: i64,
}

single_type!(
    MessageId,
    type_id::MESSAGE_ID,
    "MessageId",
    |r| {
        Ok(MessageId {
            text_view: r.opt_string()?,
            producer_id: r.nested()?,
            producer_sequence_id: r.i64()?,
            broker_sequence_id: r.i64()?,
        })
    },
    |s, w| {
        w.opt_string(s.text_view.as_deref())?;
        w.nested(s.producer_id.as_ref())?;
        w.i64(s.producer_sequence_id);
        w.i64(s.broker_sequence_id);
        Ok(())
    }
);

/// A local (one-connection) transaction (type 111).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct LocalTransactionId {
    pub value: i64,
    pub connection_id: Option<ConnectionId>,
}

/// An XA transaction branch (type 112). Decoded so that it can be refused or, later, served.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct XaTransactionId {
    pub format_id: i32,
    pub global_transaction_id: Option<Bytes>,
    pub branch_qualifier: Option<Bytes>,
}

/// Any transaction id a message, ack or `TransactionInfo` can carry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TransactionId {
    Local(LocalTransactionId),
    Xa(XaTransactionId),
}

impl Marshal for TransactionId {
    const NAME: &'static str = "a transaction id";
    fn accepts(t: u8) -> bool {
        t == type_id::LOCAL_TRANSACTION_ID || t == type_id::XA_TRANSACTION_ID
    }
    fn read_body(t: u8, r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(if t == type_id::LOCAL_TRANSACTION_ID {
            TransactionId::Local(LocalTransactionId {
                value: r.i64()?,
                connection_id: r.nested()?,
            })
        } else {
            TransactionId::Xa(XaTransactionId {
                format_id: r.i32()?,
                global_transaction_id: r.opt_bytes()?,
                branch_qualifier: r.opt_bytes()?,
            })
        })
    }
    fn type_id(&self) -> u8 {
        match self {
            TransactionId::Local(_) => type_id::LOCAL_TRANSACTION_ID,
            TransactionId::Xa(_) => type_id::XA_TRANSACTION_ID,
        }
    }
    fn write_body(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        match self {
            TransactionId::Local(l) => {
                w.i64(l.value);
                w.nested(l.connection_id.as_ref())
            }
            TransactionId::Xa(x) => {
                w.i32(x.format_id);
                w.opt_bytes(x.global_transaction_id.as_deref())?;
                w.opt_bytes(x.branch_qualifier.as_deref())
            }
        }
    }
}

/// A destination (types 100–103). The name is sent without the `queue://`-style prefix, which
/// only the text form has; it may be composite (`a,b`) or a wildcard (`*`, `>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Destination {
    Queue(String),
    Topic(String),
    TempQueue(String),
    TempTopic(String),
}

impl Destination {
    pub fn physical_name(&self) -> &str {
        match self {
            Destination::Queue(n)
            | Destination::Topic(n)
            | Destination::TempQueue(n)
            | Destination::TempTopic(n) => n,
        }
    }

    pub fn is_temporary(&self) -> bool {
        matches!(self, Destination::TempQueue(_) | Destination::TempTopic(_))
    }

    pub fn is_topic(&self) -> bool {
        matches!(self, Destination::Topic(_) | Destination::TempTopic(_))
    }
}

impl Marshal for Destination {
    const NAME: &'static str = "a destination";
    fn accepts(t: u8) -> bool {
        (type_id::QUEUE..=type_id::TEMP_TOPIC).contains(&t)
    }
    fn read_body(t: u8, r: &mut Reader<'_>) -> Result<Self, WireError> {
        // Java's setPhysicalName trims and dereferences the name, so null is an error there too.
        let name = r.string("ActiveMQDestination.physicalName")?;
        Ok(match t {
            type_id::QUEUE => Destination::Queue(name),
            type_id::TOPIC => Destination::Topic(name),
            type_id::TEMP_QUEUE => Destination::TempQueue(name),
            _ => Destination::TempTopic(name),
        })
    }
    fn type_id(&self) -> u8 {
        match self {
            Destination::Queue(_) => type_id::QUEUE,
            Destination::Topic(_) => type_id::TOPIC,
            Destination::TempQueue(_) => type_id::TEMP_QUEUE,
            Destination::TempTopic(_) => type_id::TEMP_TOPIC,
        }
    }
    fn write_body(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        w.opt_string(Some(self.physical_name()))
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.connection_id, self.value)
    }
}

impl fmt::Display for ConsumerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.connection_id, self.session_id, self.value
        )
    }
}

impl fmt::Display for ProducerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.connection_id, self.session_id, self.value
        )
    }
}

impl fmt::Display for BrokerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

/// `MessageId.toString()`: the text view (with `ID:` added if missing), else
/// `producerId:producerSequenceId`.
impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.text_view, &self.producer_id) {
            (Some(t), _) if t.starts_with("ID:") => f.write_str(t),
            (Some(t), _) => write!(f, "ID:{t}"),
            (None, Some(p)) => write!(f, "{p}:{}", self.producer_sequence_id),
            (None, None) => write!(f, "null:{}", self.producer_sequence_id),
        }
    }
}

/// `LocalTransactionId.getTransactionKey()`: `TX:connectionId:value`.
impl fmt::Display for LocalTransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.connection_id {
            Some(c) => write!(f, "TX:{c}:{}", self.value),
            None => write!(f, "TX:null:{}", self.value),
        }
    }
}

/// The qualified form ActiveMQ uses in logs and STOMP headers, e.g. `queue://orders`.
impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self {
            Destination::Queue(_) => "queue",
            Destination::Topic(_) => "topic",
            Destination::TempQueue(_) => "temp-queue",
            Destination::TempTopic(_) => "temp-topic",
        };
        write!(f, "{scheme}://{}", self.physical_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ReadOptions;
    use bytes::BytesMut;

    fn round_trip<T: Marshal + PartialEq + fmt::Debug>(v: &T) -> T {
        let mut out = BytesMut::new();
        assert!(Writer::new(&mut out, false).nested(Some(v)).is_ok());
        let b = out.freeze();
        let opts = ReadOptions {
            max_depth: 8,
            stack_traces: false,
        };
        let mut r = Reader::new(&b, 0, opts);
        let back = r.nested::<T>().ok().flatten();
        assert!(r.finish().is_ok());
        back.unwrap_or_else(|| panic!("{v:?} did not come back"))
    }

    #[test]
    fn producer_id_writes_value_before_session() {
        let p = ProducerId {
            connection_id: "c".into(),
            session_id: 2,
            value: 3,
        };
        let mut out = BytesMut::new();
        assert!(p.write_body(&mut Writer::new(&mut out, false)).is_ok());
        assert_eq!(
            &out[..],
            &[1, 0, 1, b'c', 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 2]
        );
        assert_eq!(round_trip(&p), p);
        assert_eq!(p.to_string(), "c:2:3");
    }

    #[test]
    fn text_forms_match_activemq() {
        let p = ProducerId {
            connection_id: "ID:h-1".into(),
            session_id: 1,
            value: 1,
        };
        let mut m = MessageId {
            producer_id: Some(p),
            producer_sequence_id: 7,
            ..MessageId::default()
        };
        assert_eq!(m.to_string(), "ID:h-1:1:1:7");
        m.text_view = Some("abc".into());
        assert_eq!(m.to_string(), "ID:abc");
        assert_eq!(
            Destination::TempQueue("x".into()).to_string(),
            "temp-queue://x"
        );
        let tx = LocalTransactionId {
            value: 4,
            connection_id: Some(ConnectionId {
                value: "ID:c".into(),
            }),
        };
        assert_eq!(tx.to_string(), "TX:ID:c:4");
    }

    #[test]
    fn transaction_ids_and_destinations_round_trip() {
        let xa = TransactionId::Xa(XaTransactionId {
            format_id: 9,
            global_transaction_id: Some(Bytes::from_static(b"g")),
            branch_qualifier: None,
        });
        assert_eq!(round_trip(&xa), xa);
        let d = Destination::Topic("a.>".into());
        assert_eq!(round_trip(&d), d);
    }

    #[test]
    fn null_destination_name_is_an_error() {
        let b = Bytes::from_static(&[1, type_id::QUEUE, 0]);
        let opts = ReadOptions {
            max_depth: 8,
            stack_traces: false,
        };
        let mut r = Reader::new(&b, 0, opts);
        assert!(matches!(
            r.nested::<Destination>(),
            Err(WireError::NullField { offset: 2, .. })
        ));
    }
}
