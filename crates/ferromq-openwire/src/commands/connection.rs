//! Connection-level commands: `ConnectionInfo`, `BrokerInfo`, `ConnectionControl`,
//! `ConnectionError`, and the body-less `KeepAliveInfo`, `ShutdownInfo`, `FlushCommand`, plus
//! `ControlCommand` (`V12/<Name>Marshaller.java`, reference section 4.2).
//!
//! Field order is the marshallers' order; nothing here interprets the values.

use bytes::Bytes;

use crate::command::{read_base, write_base, CommandBody};
use crate::commands::response::Throwable;
use crate::error::WireError;
use crate::ids::{BrokerId, ConnectionId};
use crate::wire::{Reader, Writer};

/// Opens a connection (type 3, client → broker, sync). Replayed unchanged, with
/// `failover_reconnect` set, after a failover reconnect.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConnectionInfo {
    pub command_id: i32,
    pub response_required: bool,
    pub connection_id: Option<ConnectionId>,
    pub client_id: Option<String>,
    /// Clear text, as the client sends it.
    pub password: Option<String>,
    pub user_name: Option<String>,
    pub broker_path: Option<Vec<BrokerId>>,
    pub broker_master_connector: bool,
    /// True when the client accepts `ConnectionControl`.
    pub manageable: bool,
    pub client_master: bool,
    /// True over `failover:`.
    pub fault_tolerant: bool,
    pub failover_reconnect: bool,
    pub client_ip: Option<String>,
}

impl CommandBody for ConnectionInfo {
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let (command_id, response_required) = read_base(r)?;
        Ok(ConnectionInfo {
            command_id,
            response_required,
            connection_id: r.nested()?,
            client_id: r.opt_string()?,
            password: r.opt_string()?,
            user_name: r.opt_string()?,
            broker_path: r.array_of()?,
            broker_master_connector: r.bool()?,
            manageable: r.bool()?,
            client_master: r.bool()?,
            fault_tolerant: r.bool()?,
            failover_reconnect: r.bool()?,
            client_ip: r.opt_string()?,
        })
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        write_base(w, self.command_id, self.response_required);
        w.nested(self.connection_id.as_ref())?;
        w.opt_string(self.client_id.as_deref())?;
        w.opt_string(self.password.as_deref())?;
        w.opt_string(self.user_name.as_deref())?;
        w.array_of(self.broker_path.as_deref())?;
        w.bool(self.broker_master_connector);
        w.bool(self.manageable);
        w.bool(self.client_master);
        w.bool(self.fault_tolerant);
        w.bool(self.failover_reconnect);
        w.opt_string(self.client_ip.as_deref())
    }
}

/// The broker's identity (type 2, broker → client, after the handshake). Send `broker_id`,
/// `broker_name` and `broker_url`; the rest is for networks of brokers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BrokerInfo {
    pub command_id: i32,
    pub response_required: bool,
    pub broker_id: Option<BrokerId>,
    pub broker_url: Option<String>,
    pub peer_broker_infos: Option<Vec<BrokerInfo>>,
    pub broker_name: Option<String>,
    pub slave_broker: bool,
    pub master_broker: bool,
    /// Makes the client turn off `optimizeAcknowledge`.
    pub fault_tolerant_configuration: bool,
    pub duplex_connection: bool,
    pub network_connection: bool,
    pub connection_id: i64,
    pub broker_upload_url: Option<String>,
    pub network_properties: Option<String>,
}

impl CommandBody for BrokerInfo {
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let (command_id, response_required) = read_base(r)?;
        Ok(BrokerInfo {
            command_id,
            response_required,
            broker_id: r.nested()?,
            broker_url: r.opt_string()?,
            peer_broker_infos: r.array_of()?,
            broker_name: r.opt_string()?,
            slave_broker: r.bool()?,
            master_broker: r.bool()?,
            fault_tolerant_configuration: r.bool()?,
            duplex_connection: r.bool()?,
            network_connection: r.bool()?,
            connection_id: r.i64()?,
            broker_upload_url: r.opt_string()?,
            network_properties: r.opt_string()?,
        })
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        write_base(w, self.command_id, self.response_required);
        w.nested(self.broker_id.as_ref())?;
        w.opt_string(self.broker_url.as_deref())?;
        w.array_of(self.peer_broker_infos.as_deref())?;
        w.opt_string(self.broker_name.as_deref())?;
        w.bool(self.slave_broker);
        w.bool(self.master_broker);
        w.bool(self.fault_tolerant_configuration);
        w.bool(self.duplex_connection);
        w.bool(self.network_connection);
        w.i64(self.connection_id);
        w.opt_string(self.broker_upload_url.as_deref())?;
        w.opt_string(self.network_properties.as_deref())
    }
}

/// Cluster and failover control (type 18), both directions: a failover client sends
/// `fault_tolerant=true` on reconnect; a broker can send `connected_brokers` / `reconnect_to`
/// to move failover clients.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConnectionControl {
    pub command_id: i32,
    pub response_required: bool,
    pub close: bool,
    pub exit: bool,
    pub fault_tolerant: bool,
    pub resume: bool,
    pub suspend: bool,
    /// Comma-separated URIs. Java sends `""`, not null, when unset.
    pub connected_brokers: Option<String>,
    pub reconnect_to: Option<String>,
    pub rebalance_connection: bool,
    pub token: Option<Bytes>,
}

impl CommandBody for ConnectionControl {
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let (command_id, response_required) = read_base(r)?;
        Ok(ConnectionControl {
            command_id,
            response_required,
            close: r.bool()?,
            exit: r.bool()?,
            fault_tolerant: r.bool()?,
            resume: r.bool()?,
            suspend: r.bool()?,
            connected_brokers: r.opt_string()?,
            reconnect_to: r.opt_string()?,
            rebalance_connection: r.bool()?,
            token: r.opt_bytes()?,
        })
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        write_base(w, self.command_id, self.response_required);
        w.bool(self.close);
        w.bool(self.exit);
        w.bool(self.fault_tolerant);
        w.bool(self.resume);
        w.bool(self.suspend);
        w.opt_string(self.connected_brokers.as_deref())?;
        w.opt_string(self.reconnect_to.as_deref())?;
        w.bool(self.rebalance_connection);
        w.opt_bytes(self.token.as_deref())
    }
}

/// An error the broker reports outside any request (type 16): what the Java broker sends when
/// a command without `responseRequired` fails. The client hands it to its ExceptionListener.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConnectionError {
    pub command_id: i32,
    pub response_required: bool,
    pub exception: Option<Throwable>,
    pub connection_id: Option<ConnectionId>,
}

impl CommandBody for ConnectionError {
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let (command_id, response_required) = read_base(r)?;
        Ok(ConnectionError {
            command_id,
            response_required,
            exception: Throwable::read_opt(r)?,
            connection_id: r.nested()?,
        })
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        write_base(w, self.command_id, self.response_required);
        Throwable::write_opt(self.exception.as_ref(), w)?;
        w.nested(self.connection_id.as_ref())
    }
}

/// Declares a command that is only the `BaseCommand` prefix.
macro_rules! prefix_only {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        pub struct $name {
            pub command_id: i32,
            pub response_required: bool,
        }

        impl CommandBody for $name {
            fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
                let (command_id, response_required) = read_base(r)?;
                Ok($name { command_id, response_required })
            }
            fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
                write_base(w, self.command_id, self.response_required);
                Ok(())
            }
        }
    };
}

prefix_only!(
    /// Keeps the peer's inactivity monitor happy (type 10, both directions). Answer one with
    /// `response_required=true` with a `KeepAliveInfo`, not a `Response`.
    KeepAliveInfo
);
prefix_only!(
    /// The client is closing the connection (type 11, async, after `RemoveInfo(ConnectionId)`).
    ShutdownInfo
);
prefix_only!(
    /// Asks the peer to flush (type 15); brokers ignore it.
    FlushCommand
);

/// A free-form control string (type 14); clients and brokers ignore it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ControlCommand {
    pub command_id: i32,
    pub response_required: bool,
    pub command: Option<String>,
}

impl CommandBody for ControlCommand {
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let (command_id, response_required) = read_base(r)?;
        Ok(ControlCommand {
            command_id,
            response_required,
            command: r.opt_string()?,
        })
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        write_base(w, self.command_id, self.response_required);
        w.opt_string(self.command.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ReadOptions;
    use bytes::BytesMut;

    fn round_trip<T: CommandBody + PartialEq + std::fmt::Debug>(v: &T) {
        let mut out = BytesMut::new();
        assert!(v.write(&mut Writer::new(&mut out, false)).is_ok());
        let b = out.freeze();
        let opts = ReadOptions {
            max_depth: 8,
            stack_traces: false,
        };
        let mut r = Reader::new(&b, 0, opts);
        let back = T::read(&mut r);
        assert!(r.finish().is_ok());
        assert_eq!(back.ok().as_ref(), Some(v));
    }

    #[test]
    fn keep_alive_is_the_prefix_only() {
        let mut out = BytesMut::new();
        assert!(KeepAliveInfo::default()
            .write(&mut Writer::new(&mut out, false))
            .is_ok());
        assert_eq!(&out[..], &[0, 0, 0, 0, 0]);
    }

    #[test]
    fn connection_commands_round_trip() {
        round_trip(&ConnectionInfo {
            command_id: 1,
            response_required: true,
            connection_id: Some(ConnectionId {
                value: "ID:c".into(),
            }),
            client_id: Some("client".into()),
            broker_path: Some(vec![BrokerId { value: "b".into() }]),
            manageable: true,
            ..ConnectionInfo::default()
        });
        round_trip(&BrokerInfo {
            broker_id: Some(BrokerId {
                value: "ID:b".into(),
            }),
            peer_broker_infos: Some(vec![BrokerInfo::default()]),
            connection_id: -7,
            ..BrokerInfo::default()
        });
        round_trip(&ConnectionControl {
            connected_brokers: Some(String::new()),
            token: Some(Bytes::from_static(b"t")),
            ..ConnectionControl::default()
        });
        round_trip(&ControlCommand {
            command: Some("shutdown".into()),
            ..ControlCommand::default()
        });
    }
}
