//! ActiveMQ's mapping between STOMP frames and JMS messages: `/queue/x` names, JMS headers as
//! STOMP headers, user properties as plain headers, and `content-length` deciding between a
//! bytes and a text body.

use bytes::Bytes;
use ferromq_core::{Body, Delivery, Destination, DestinationKind, Message, PropertyValue};
use ferromq_stomp::{Command, Frame};

/// Headers with a meaning of their own; every other SEND header becomes a property.
const RESERVED_SEND_HEADERS: &[&str] = &[
    "destination",
    "transaction",
    "receipt",
    "content-length",
    "persistent",
    "priority",
    "expires",
    "correlation-id",
    "type",
    "reply-to",
    "message-id",
    "timestamp",
    "redelivered",
    "subscription",
    "ack",
    "original-destination",
];

/// Parses a STOMP destination. `temp_prefix` makes `/temp-queue/x` private to the connection.
///
/// # Errors
/// A name without one of ActiveMQ's prefixes, or an invalid name; the text says which.
pub(crate) fn parse_destination(text: &str, temp_prefix: &str) -> Result<Destination, String> {
    if text.contains(',') {
        let parts: Result<Vec<Destination>, String> = text
            .split(',')
            .map(|part| parse_destination(part.trim(), temp_prefix))
            .collect();
        let parts = parts?;
        let Some(first) = parts.first() else {
            return Err("empty destination".to_owned());
        };
        let joined: Vec<String> = parts.iter().map(Destination::key).collect();
        return Destination::new(first.kind(), joined.join(",")).map_err(|err| err.to_string());
    }
    let (kind, name) = if let Some(name) = text.strip_prefix("/queue/") {
        (DestinationKind::Queue, name.to_owned())
    } else if let Some(name) = text.strip_prefix("/topic/") {
        (DestinationKind::Topic, name.to_owned())
    } else if let Some(name) = text.strip_prefix("/temp-queue/") {
        (DestinationKind::TempQueue, format!("{temp_prefix}{name}"))
    } else if let Some(name) = text.strip_prefix("/temp-topic/") {
        (DestinationKind::TempTopic, format!("{temp_prefix}{name}"))
    } else if let Some(name) = text.strip_prefix("/remote-temp-queue/") {
        (DestinationKind::TempQueue, name.to_owned())
    } else if let Some(name) = text.strip_prefix("/remote-temp-topic/") {
        (DestinationKind::TempTopic, name.to_owned())
    } else {
        return Err(format!(
            "illegal destination name '{text}': destinations must begin with /queue/, /topic/, /temp-queue/ or /temp-topic/"
        ));
    };
    Destination::new(kind, name).map_err(|err| err.to_string())
}

/// The STOMP name of a destination as this connection should see it.
pub(crate) fn format_destination(destination: &Destination, temp_prefix: &str) -> String {
    if destination.is_composite() {
        let parts: Vec<String> = destination
            .parts()
            .iter()
            .map(|part| format_destination(part, temp_prefix))
            .collect();
        return parts.join(",");
    }
    let name = destination.name();
    match destination.kind() {
        DestinationKind::Queue => format!("/queue/{name}"),
        DestinationKind::Topic => format!("/topic/{name}"),
        DestinationKind::TempQueue => match name.strip_prefix(temp_prefix) {
            Some(own) => format!("/temp-queue/{own}"),
            None => format!("/remote-temp-queue/{name}"),
        },
        DestinationKind::TempTopic => match name.strip_prefix(temp_prefix) {
            Some(own) => format!("/temp-topic/{own}"),
            None => format!("/remote-temp-topic/{name}"),
        },
    }
}

/// Builds the core message for a SEND frame.
///
/// # Errors
/// A header with a value ActiveMQ would refuse (priority, expires, reply-to).
pub(crate) fn message_from_send(
    frame: Frame,
    destination: Destination,
    temp_prefix: &str,
) -> Result<Message, String> {
    let has_length = frame.get("content-length").is_some();
    let body = if has_length {
        Body::Bytes(frame.body.clone())
    } else {
        match String::from_utf8(frame.body.to_vec()) {
            Ok(text) => Body::Text(text),
            Err(_) => Body::Bytes(frame.body.clone()),
        }
    };
    let mut message = Message::new(String::new(), destination, body);
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in &frame.headers {
        // STOMP 1.2: the first occurrence of a repeated header wins.
        if seen.contains(&name.as_str()) {
            continue;
        }
        seen.push(name);
        match name.as_str() {
            "persistent" => message.persistent = value.eq_ignore_ascii_case("true"),
            "priority" => {
                let priority: i64 = value
                    .trim()
                    .parse()
                    .map_err(|_| format!("priority '{value}' is not a number"))?;
                message.priority =
                    priority.clamp(0, i64::from(ferromq_core::message::MAX_PRIORITY)) as u8;
            }
            "expires" => {
                message.expiration = value
                    .trim()
                    .parse()
                    .map_err(|_| format!("expires '{value}' is not a number"))?;
            }
            "correlation-id" => message.correlation_id = Some(value.clone()),
            "type" => message.message_type = Some(value.clone()),
            "reply-to" => message.reply_to = Some(parse_destination(value, temp_prefix)?),
            other if RESERVED_SEND_HEADERS.contains(&other) => {}
            other => message
                .properties
                .push((other.to_owned(), PropertyValue::String(value.clone()))),
        }
    }
    Ok(message)
}

/// Builds the MESSAGE frame for a delivery, with the headers ActiveMQ 5.17 sends.
pub(crate) fn message_frame(
    delivery: &Delivery,
    subscription: &str,
    ack: Option<String>,
    temp_prefix: &str,
) -> Frame {
    let message = &delivery.message;
    let mut frame = Frame::new(Command::Message)
        .header("subscription", subscription)
        .header("message-id", message.id.as_str())
        .header(
            "destination",
            format_destination(&message.destination, temp_prefix),
        );
    if let Some(ack) = ack {
        frame.push_header("ack", ack);
    }
    frame.push_header("expires", message.expiration.to_string());
    frame.push_header("timestamp", message.timestamp.to_string());
    frame.push_header("priority", message.priority.to_string());
    frame.push_header(
        "redelivered",
        if delivery.redelivered {
            "true"
        } else {
            "false"
        },
    );
    if message.persistent {
        frame.push_header("persistent", "true");
    }
    if let Some(correlation_id) = &message.correlation_id {
        frame.push_header("correlation-id", correlation_id.as_str());
    }
    if let Some(reply_to) = &message.reply_to {
        frame.push_header("reply-to", format_destination(reply_to, temp_prefix));
    }
    if let Some(message_type) = &message.message_type {
        frame.push_header("type", message_type.as_str());
    }
    if let Some(original) = &message.original_destination {
        frame.push_header(
            "original-destination",
            format_destination(original, temp_prefix),
        );
    }
    for (name, value) in &message.properties {
        frame.push_header(name.as_str(), value.to_header_string());
    }
    let body = match &message.body {
        Body::Empty | Body::NullText => Bytes::new(),
        Body::Text(text) => Bytes::copy_from_slice(text.as_bytes()),
        // Map, stream and object bodies reach STOMP clients as the bytes their producer
        // marshalled, like bytes messages.
        Body::Bytes(bytes) | Body::Structured { bytes, .. } => {
            frame.push_header("content-length", bytes.len().to_string());
            bytes.clone()
        }
    };
    frame.with_body(body)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn destinations_follow_activemq_prefixes() {
        let dest = parse_destination("/queue/orders", "T:").unwrap();
        assert_eq!(dest.key(), "queue://orders");
        assert_eq!(format_destination(&dest, "T:"), "/queue/orders");
        let temp = parse_destination("/temp-queue/replies", "ID:b-1:").unwrap();
        assert_eq!(temp.name(), "ID:b-1:replies");
        assert_eq!(format_destination(&temp, "ID:b-1:"), "/temp-queue/replies");
        assert_eq!(
            format_destination(&temp, "ID:b-2:"),
            "/remote-temp-queue/ID:b-1:replies"
        );
        assert!(parse_destination("orders", "")
            .unwrap_err()
            .contains("must begin with"));
    }

    #[test]
    fn composite_destination_keeps_each_kind() {
        let dest = parse_destination("/queue/a,/topic/b", "").unwrap();
        let parts = dest.parts();
        assert_eq!(parts[0].key(), "queue://a");
        assert_eq!(parts[1].key(), "topic://b");
        assert_eq!(format_destination(&dest, ""), "/queue/a,/topic/b");
    }

    #[test]
    fn send_headers_map_to_jms_fields() {
        let frame = Frame::new(Command::Send)
            .header("destination", "/queue/a")
            .header("priority", "7")
            .header("persistent", "true")
            .header("correlation-id", "c1")
            .header("color", "red")
            .header("color", "blue")
            .with_body("hello");
        let dest = parse_destination("/queue/a", "").unwrap();
        let message = message_from_send(frame, dest, "").unwrap();
        assert_eq!(message.priority, 7);
        assert!(message.persistent);
        assert_eq!(message.correlation_id.as_deref(), Some("c1"));
        assert_eq!(
            message.properties,
            vec![("color".to_owned(), PropertyValue::String("red".into()))]
        );
        assert_eq!(message.body, Body::Text("hello".into()));
    }

    #[test]
    fn content_length_means_bytes() {
        let frame = Frame::new(Command::Send)
            .header("destination", "/queue/a")
            .header("content-length", "3")
            .with_body(&b"a\0b"[..]);
        let message =
            message_from_send(frame, parse_destination("/queue/a", "").unwrap(), "").unwrap();
        assert_eq!(message.body, Body::Bytes(Bytes::from_static(b"a\0b")));
    }

    #[test]
    fn bad_priority_is_refused() {
        let frame = Frame::new(Command::Send).header("priority", "high");
        let err =
            message_from_send(frame, parse_destination("/queue/a", "").unwrap(), "").unwrap_err();
        assert!(err.contains("priority"));
    }
}
