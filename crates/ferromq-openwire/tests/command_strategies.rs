//! proptest strategies for whole commands (and the messages, infos and data structures inside
//! them), built from the leaf strategies in `strategies.rs`.
//!
//! Values are the ones Java keeps as they are (message priority 0–9, no empty network consumer
//! path, a MIME type on blob messages), so generated frames also pass the Java re-marshalling
//! check in `golden/capture/Verify.java`.

use ferromq_openwire::{
    AckType, BrokerId, BrokerInfo, Command, ConnectionControl, ConnectionError, ConnectionInfo,
    ConsumerControl, ConsumerInfo, ControlCommand, DataArrayResponse, DataResponse,
    ExceptionResponse, FlushCommand, IntegerResponse, KeepAliveInfo, MessageAck, MessageDispatch,
    MessagePull, ProducerAck, ProducerInfo, RemoveInfo, RemoveSubscriptionInfo, RemoveTarget,
    Response, SessionInfo, ShutdownInfo, TransactionInfo, TransactionType, WireFormatInfo,
};
use proptest::collection::vec;
use proptest::prelude::*;

use crate::strategies::{
    base, broker_path, connection_id, consumer_id, data_structure, destination, destination_info,
    message, message_id, opt_bytes, opt_string, primitive_map, producer_id, session_id, string,
    throwable, transaction_id,
};

fn wire_format_info() -> impl Strategy<Value = WireFormatInfo> {
    (
        any::<[u8; 8]>(),
        any::<i32>(),
        proptest::option::of(primitive_map()),
    )
        .prop_map(|(magic, version, properties)| WireFormatInfo {
            magic,
            version,
            properties,
        })
}

fn consumer_info() -> BoxedStrategy<ConsumerInfo> {
    let a = (
        base(),
        proptest::option::of(consumer_id()),
        any::<bool>(),
        proptest::option::of(destination()),
        any::<i32>(),
        any::<i32>(),
        any::<bool>(),
        opt_string(),
        opt_string(),
        opt_string(),
    );
    let b = (
        any::<[bool; 6]>(),
        any::<u8>(),
        broker_path(),
        // Java turns an empty network consumer path into null.
        proptest::option::of(vec(consumer_id(), 1..3)),
    );
    (a, b)
        .prop_map(|(a, b)| ConsumerInfo {
            command_id: a.0 .0,
            response_required: a.0 .1,
            consumer_id: a.1,
            browser: a.2,
            destination: a.3,
            prefetch_size: a.4,
            maximum_pending_message_limit: a.5,
            dispatch_async: a.6,
            selector: a.7,
            client_id: a.8,
            subscription_name: a.9,
            no_local: b.0[0],
            exclusive: b.0[1],
            retroactive: b.0[2],
            network_subscription: b.0[3],
            optimized_acknowledge: b.0[4],
            no_range_acks: b.0[5],
            priority: b.1,
            broker_path: b.2,
            additional_predicate: None,
            network_consumer_path: b.3,
        })
        .boxed()
}

fn broker_info() -> impl Strategy<Value = BrokerInfo> {
    let leaf = (
        base(),
        proptest::option::of(string().prop_map(|value| BrokerId { value })),
        opt_string(),
        opt_string(),
        any::<[bool; 5]>(),
        any::<i64>(),
        opt_string(),
        opt_string(),
    )
        .prop_map(|(b, id, url, name, f, cid, up, np)| BrokerInfo {
            command_id: b.0,
            response_required: b.1,
            broker_id: id,
            broker_url: url,
            peer_broker_infos: None,
            broker_name: name,
            slave_broker: f[0],
            master_broker: f[1],
            fault_tolerant_configuration: f[2],
            duplex_connection: f[3],
            network_connection: f[4],
            connection_id: cid,
            broker_upload_url: up,
            network_properties: np,
        })
        .boxed();
    (leaf.clone(), proptest::option::of(vec(leaf, 0..2))).prop_map(|(mut b, peers)| {
        b.peer_broker_infos = peers;
        b
    })
}

/// Any command, with throwables shaped for `traced` codecs.
pub fn command(traced: bool) -> BoxedStrategy<Command> {
    let opt_thr = proptest::option::of(throwable(traced));
    prop_oneof![
        wire_format_info().prop_map(Command::from).boxed(),
        broker_info().prop_map(Command::from).boxed(),
        (
            base(),
            proptest::option::of(connection_id()),
            (opt_string(), opt_string(), opt_string()),
            broker_path(),
            any::<[bool; 5]>(),
            opt_string()
        )
            .prop_map(
                |(b, c, (id, pw, user), bp, f, ip)| Command::from(ConnectionInfo {
                    command_id: b.0,
                    response_required: b.1,
                    connection_id: c,
                    client_id: id,
                    password: pw,
                    user_name: user,
                    broker_path: bp,
                    broker_master_connector: f[0],
                    manageable: f[1],
                    client_master: f[2],
                    fault_tolerant: f[3],
                    failover_reconnect: f[4],
                    client_ip: ip,
                })
            )
            .boxed(),
        (base(), proptest::option::of(session_id())).prop_map(|(b, s)| Command::from(
            SessionInfo {
                command_id: b.0,
                response_required: b.1,
                session_id: s
            }
        )),
        consumer_info().prop_map(Command::from).boxed(),
        (
            base(),
            proptest::option::of(producer_id()),
            proptest::option::of(destination()),
            broker_path(),
            any::<bool>(),
            any::<i32>()
        )
            .prop_map(|(b, p, d, bp, a, w)| Command::from(ProducerInfo {
                command_id: b.0,
                response_required: b.1,
                producer_id: p,
                destination: d,
                broker_path: bp,
                dispatch_async: a,
                window_size: w,
            }))
            .boxed(),
        (
            base(),
            proptest::option::of(connection_id()),
            proptest::option::of(transaction_id()),
            any::<u8>()
        )
            .prop_map(|(b, c, t, ty)| Command::from(TransactionInfo {
                command_id: b.0,
                response_required: b.1,
                connection_id: c,
                transaction_id: t,
                transaction_type: TransactionType(ty),
            }))
            .boxed(),
        destination_info().prop_map(Command::from).boxed(),
        (
            base(),
            proptest::option::of(connection_id()),
            opt_string(),
            opt_string()
        )
            .prop_map(|(b, c, s, id)| Command::from(RemoveSubscriptionInfo {
                command_id: b.0,
                response_required: b.1,
                connection_id: c,
                subscription_name: s,
                client_id: id,
            }))
            .boxed(),
        base()
            .prop_map(|b| Command::from(KeepAliveInfo {
                command_id: b.0,
                response_required: b.1
            }))
            .boxed(),
        base()
            .prop_map(|b| Command::from(ShutdownInfo {
                command_id: b.0,
                response_required: b.1
            }))
            .boxed(),
        base()
            .prop_map(|b| Command::from(FlushCommand {
                command_id: b.0,
                response_required: b.1
            }))
            .boxed(),
        (base(), opt_string())
            .prop_map(|(b, c)| Command::from(ControlCommand {
                command_id: b.0,
                response_required: b.1,
                command: c
            }))
            .boxed(),
        (
            base(),
            prop_oneof![
                connection_id().prop_map(RemoveTarget::Connection),
                session_id().prop_map(RemoveTarget::Session),
                consumer_id().prop_map(RemoveTarget::Consumer),
                producer_id().prop_map(RemoveTarget::Producer),
            ],
            any::<i64>()
        )
            .prop_map(|(b, t, l)| Command::from(RemoveInfo {
                command_id: b.0,
                response_required: b.1,
                object_id: t,
                last_delivered_sequence_id: l,
            }))
            .boxed(),
        (
            base(),
            opt_thr.clone(),
            proptest::option::of(connection_id())
        )
            .prop_map(|(b, e, c)| Command::from(ConnectionError {
                command_id: b.0,
                response_required: b.1,
                exception: e,
                connection_id: c,
            }))
            .boxed(),
        (
            base(),
            proptest::option::of(destination()),
            proptest::option::of(consumer_id()),
            any::<i32>(),
            any::<[bool; 4]>()
        )
            .prop_map(|(b, d, c, p, f)| Command::from(ConsumerControl {
                command_id: b.0,
                response_required: b.1,
                destination: d,
                close: f[0],
                consumer_id: c,
                prefetch: p,
                flush: f[1],
                start: f[2],
                stop: f[3],
            }))
            .boxed(),
        (
            base(),
            any::<[bool; 6]>(),
            opt_string(),
            opt_string(),
            opt_bytes()
        )
            .prop_map(|(b, f, cb, rt, t)| Command::from(ConnectionControl {
                command_id: b.0,
                response_required: b.1,
                close: f[0],
                exit: f[1],
                fault_tolerant: f[2],
                resume: f[3],
                suspend: f[4],
                connected_brokers: cb,
                reconnect_to: rt,
                rebalance_connection: f[5],
                token: t,
            }))
            .boxed(),
        (base(), proptest::option::of(producer_id()), any::<i32>())
            .prop_map(|(b, p, s)| {
                Command::from(ProducerAck {
                    command_id: b.0,
                    response_required: b.1,
                    producer_id: p,
                    size: s,
                })
            })
            .boxed(),
        (
            base(),
            proptest::option::of(consumer_id()),
            proptest::option::of(destination()),
            any::<i64>(),
            opt_string(),
            proptest::option::of(message_id())
        )
            .prop_map(|(b, c, d, t, corr, m)| Command::from(MessagePull {
                command_id: b.0,
                response_required: b.1,
                consumer_id: c,
                destination: d,
                timeout: t,
                correlation_id: corr,
                message_id: m,
            }))
            .boxed(),
        (
            base(),
            proptest::option::of(consumer_id()),
            proptest::option::of(destination()),
            proptest::option::of(message()),
            any::<i32>()
        )
            .prop_map(|(b, c, d, m, r)| Command::from(MessageDispatch {
                command_id: b.0,
                response_required: b.1,
                consumer_id: c,
                destination: d,
                message: m.map(Box::new),
                redelivery_counter: r,
            }))
            .boxed(),
        (
            (
                base(),
                proptest::option::of(destination()),
                proptest::option::of(transaction_id()),
                proptest::option::of(consumer_id()),
                any::<u8>()
            ),
            proptest::option::of(message_id()),
            proptest::option::of(message_id()),
            any::<i32>(),
            opt_thr.clone()
        )
            .prop_map(|((b, d, t, c, ty), f, l, n, p)| Command::from(MessageAck {
                command_id: b.0,
                response_required: b.1,
                destination: d,
                transaction_id: t,
                consumer_id: c,
                ack_type: AckType(ty),
                first_message_id: f,
                last_message_id: l,
                message_count: n,
                poison_cause: p,
            }))
            .boxed(),
        message().prop_map(Command::from).boxed(),
        (base(), any::<i32>())
            .prop_map(|(b, c)| Command::from(Response {
                command_id: b.0,
                response_required: b.1,
                correlation_id: c,
            }))
            .boxed(),
        (base(), any::<i32>(), opt_thr).prop_map(|(b, c, e)| Command::from(ExceptionResponse {
            command_id: b.0,
            response_required: b.1,
            correlation_id: c,
            exception: e,
        })),
        (base(), any::<i32>(), proptest::option::of(data_structure()))
            .prop_map(|(b, c, d)| Command::from(DataResponse {
                command_id: b.0,
                response_required: b.1,
                correlation_id: c,
                data: d.map(Box::new),
            }))
            .boxed(),
        (
            base(),
            any::<i32>(),
            proptest::option::of(vec(data_structure(), 0..3))
        )
            .prop_map(|(b, c, d)| Command::from(DataArrayResponse {
                command_id: b.0,
                response_required: b.1,
                correlation_id: c,
                data: d,
            }))
            .boxed(),
        (base(), any::<i32>(), any::<i32>()).prop_map(|(b, c, r)| Command::from(IntegerResponse {
            command_id: b.0,
            response_required: b.1,
            correlation_id: c,
            result: r,
        })),
    ]
    .boxed()
}
