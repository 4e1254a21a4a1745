//! A throw-away, single-threaded OpenWire "broker" for checking this codec against the genuine
//! ActiveMQ Java client (see `tests/golden/capture/LiveClient.java`). Not the FerroMQ broker:
//! it keeps every sent message in one list, dispatches the list to every new consumer, and
//! answers everything else with a plain `Response`.
//!
//! Usage: `cargo run -p ferromq-openwire --example mock_broker -- 127.0.0.1:61698 [connections]`

use std::error::Error;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use bytes::BytesMut;
use ferromq_openwire::{
    BrokerId, BrokerInfo, Codec, Command, Config, ExceptionResponse, KeepAliveInfo, Message,
    MessageDispatch, Response,
};

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:61698".to_owned());
    let connections: usize = args.next().map_or(Ok(1), |n| n.parse())?;
    let listener = TcpListener::bind(&addr)?;
    println!("READY {addr}");
    let mut stored: Vec<Message> = Vec::new();
    for _ in 0..connections {
        let (socket, peer) = listener.accept()?;
        println!("connection from {peer}");
        serve(socket, &mut stored)?;
    }
    Ok(())
}

fn send(codec: &Codec, socket: &mut TcpStream, command: Command) -> Result<(), Box<dyn Error>> {
    let mut out = BytesMut::new();
    codec.encode(&command, &mut out)?;
    socket.write_all(&out)?;
    Ok(())
}

fn serve(mut socket: TcpStream, stored: &mut Vec<Message>) -> Result<(), Box<dyn Error>> {
    let mut codec = Codec::new(Config::default());
    send(&codec, &mut socket, codec.local_wire_format().into())?;
    let mut buf = BytesMut::new();
    let mut chunk = [0u8; 16 * 1024];
    let mut sequence = 0i64;
    loop {
        let n = socket.read(&mut chunk)?;
        if n == 0 {
            println!("peer closed");
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        while let Some(command) = codec.decode(&mut buf)? {
            println!("<- {}", summary(&command));
            let reply = match command {
                Command::WireFormatInfo(peer) => {
                    let agreed = codec.negotiate(&peer)?;
                    println!("   negotiated {agreed:?}");
                    let info = BrokerInfo {
                        broker_id: Some(BrokerId {
                            value: "ID:mock-1".into(),
                        }),
                        broker_name: Some("mock".into()),
                        broker_url: Some("tcp://127.0.0.1:61698".into()),
                        ..BrokerInfo::default()
                    };
                    send(&codec, &mut socket, info.into())?;
                    None
                }
                Command::KeepAliveInfo(k) if k.response_required => {
                    Some(KeepAliveInfo::default().into())
                }
                Command::Message(mut m) => {
                    let reply = m
                        .response_required
                        .then(|| Response::new(m.command_id).into());
                    sequence += 1;
                    if let Some(id) = m.message_id.as_mut() {
                        id.broker_sequence_id = sequence;
                    }
                    m.command_id = 0;
                    m.response_required = false;
                    stored.push(*m);
                    reply
                }
                Command::ConsumerInfo(c) => {
                    send(&codec, &mut socket, Response::new(c.command_id).into())?;
                    let advisory = c.destination.as_ref().is_some_and(|d| d.is_topic());
                    if !advisory && c.prefetch_size > 0 {
                        for m in stored.drain(..) {
                            let dispatch = MessageDispatch {
                                consumer_id: c.consumer_id.clone(),
                                destination: m.destination.clone(),
                                message: Some(Box::new(m)),
                                ..MessageDispatch::default()
                            };
                            send(&codec, &mut socket, dispatch.into())?;
                        }
                    }
                    None
                }
                Command::RemoveSubscriptionInfo(r) => Some(
                    ExceptionResponse::new(
                        r.command_id,
                        "javax.jms.InvalidDestinationException",
                        "mock: no such subscription",
                    )
                    .into(),
                ),
                Command::ShutdownInfo(_) => return Ok(()),
                other if other.response_required() => {
                    Some(Response::new(other.command_id()).into())
                }
                _ => None,
            };
            if let Some(reply) = reply {
                send(&codec, &mut socket, reply)?;
            }
        }
    }
}

fn summary(c: &Command) -> String {
    let text = format!("{c:?}");
    text.chars().take(160).collect()
}
