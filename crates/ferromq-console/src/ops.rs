//! Sending and consuming on behalf of a console user, through ordinary core sessions (the
//! console is a client like any other), plus the parsing of message fields the REST API, the
//! JSON API and the pages share.

use std::sync::Arc;
use std::time::Duration;

use ferromq_core::{
    AckKind, AckMode, Body, ConnectRequest, ConsumerSpec, Destination, DestinationKind, Message,
    Outbound, PropertyValue, Selector, Session,
};

use crate::error::ApiError;
use crate::state::AppState;

/// How long a send may wait for flow control (memory or store limit) before the request
/// gives up with 503. The message is then still sent once the broker has room.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest `readTimeout` honoured, so a request never holds a connection for long.
pub(crate) const MAX_READ_TIMEOUT: Duration = Duration::from_secs(60);
/// After a pull is cancelled the core answers at once; this only bounds a core that stopped.
const PULL_ANSWER_GRACE: Duration = Duration::from_secs(5);

/// A message to send, protocol independent.
#[derive(Debug)]
pub(crate) struct Outgoing {
    pub destination: Destination,
    pub body: Body,
    pub priority: u8,
    /// Milliseconds; 0 means the message never expires.
    pub time_to_live_ms: i64,
    pub persistent: bool,
    pub correlation_id: Option<String>,
    pub message_type: Option<String>,
    pub reply_to: Option<Destination>,
    pub properties: Vec<(String, PropertyValue)>,
}

impl Outgoing {
    pub fn new(destination: Destination, body: Body) -> Self {
        Outgoing {
            destination,
            body,
            priority: ferromq_core::message::DEFAULT_PRIORITY,
            time_to_live_ms: 0,
            persistent: true,
            correlation_id: None,
            message_type: None,
            reply_to: None,
            properties: Vec::new(),
        }
    }
}

/// A queue or topic from a user-supplied name, with the reason if it is not one.
pub(crate) fn destination(kind: DestinationKind, name: &str) -> Result<Destination, ApiError> {
    let destination = Destination::new(kind, name)
        .map_err(|err| ApiError::BadRequest(format!("bad destination name: {err}")))?;
    if destination.is_wildcard() {
        return Err(ApiError::BadRequest(format!(
            "'{name}' is a wildcard; name one destination"
        )));
    }
    Ok(destination)
}

pub(crate) fn parse_priority(text: &str) -> Result<u8, ApiError> {
    match text.trim().parse::<u8>() {
        Ok(priority) if priority <= ferromq_core::message::MAX_PRIORITY => Ok(priority),
        _ => Err(ApiError::BadRequest(format!(
            "JMSPriority must be a whole number from 0 to 9, got '{text}'"
        ))),
    }
}

pub(crate) fn parse_time_to_live(text: &str) -> Result<i64, ApiError> {
    match text.trim().parse::<i64>() {
        Ok(ttl) if ttl >= 0 => Ok(ttl),
        _ => Err(ApiError::BadRequest(format!(
            "JMSTimeToLive must be a number of milliseconds (0 = never expires), got '{text}'"
        ))),
    }
}

/// `true`/`false`, and the JMS delivery mode names.
pub(crate) fn parse_persistent(text: &str) -> Result<bool, ApiError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "persistent" | "2" => Ok(true),
        "false" | "non-persistent" | "non_persistent" | "1" => Ok(false),
        _ => Err(ApiError::BadRequest(format!(
            "persistent must be true/false or persistent/non-persistent, got '{text}'"
        ))),
    }
}

pub(crate) fn parse_selector(text: &str) -> Result<Selector, ApiError> {
    Selector::parse(text).map_err(|err| ApiError::BadRequest(err.to_string()))
}

/// `name=value` lines (the page form's property box) as string properties.
pub(crate) fn parse_property_lines(text: &str) -> Result<Vec<(String, PropertyValue)>, ApiError> {
    let mut properties = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once('=').ok_or_else(|| {
            ApiError::BadRequest(format!("property line '{line}' is not name=value"))
        })?;
        properties.push((
            checked_property_name(name.trim())?,
            PropertyValue::String(value.trim().to_owned()),
        ));
    }
    Ok(properties)
}

/// Any non-empty name without control characters: STOMP clients already use names such as
/// `my-header`, so the console is no stricter than the protocols.
pub(crate) fn checked_property_name(name: &str) -> Result<String, ApiError> {
    if name.is_empty() || name.len() > 256 || name.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(format!(
            "'{name}' is not a valid property name (1 to 256 characters, no control characters)"
        )));
    }
    Ok(name.to_owned())
}

async fn open_session(state: &AppState) -> Result<Session, ApiError> {
    let request = ConnectRequest {
        client_id: None,
        temp_prefix: state.new_temp_prefix(),
        outbound_capacity: 4,
        peer: "console".to_owned(),
        take_over: false,
    };
    Ok(state.context.broker.connect(request).await?)
}

/// Sends a message; returns its id once the broker has it (on disk, if persistent).
///
/// # Errors
/// The core refused it, the store failed, or flow control held it past [`SEND_TIMEOUT`].
pub(crate) async fn send(state: &AppState, outgoing: Outgoing) -> Result<String, ApiError> {
    let id = state.new_message_id();
    let mut message = Message::new(id.clone(), outgoing.destination, outgoing.body);
    message.priority = outgoing.priority;
    message.persistent = outgoing.persistent;
    if outgoing.time_to_live_ms > 0 {
        message.expiration = message.timestamp.saturating_add(outgoing.time_to_live_ms);
    }
    message.correlation_id = outgoing.correlation_id;
    message.message_type = outgoing.message_type;
    message.reply_to = outgoing.reply_to;
    message.properties = outgoing.properties;
    let session = open_session(state).await?;
    let outcome = tokio::time::timeout(SEND_TIMEOUT, async {
        let answer = session.send(message, None).await?;
        let durable = answer
            .await
            .map_err(|_| ferromq_core::CoreError::ShuttingDown)??;
        if let Some(durable) = durable {
            durable
                .await
                .map_err(|err| ApiError::Internal(format!("the message store failed: {err}")))?;
        }
        Ok::<(), ApiError>(())
    })
    .await;
    session.close().await;
    match outcome {
        Ok(Ok(())) => Ok(id),
        Ok(Err(err)) => Err(err),
        Err(_) => Err(ApiError::Unavailable(format!(
            "the broker held the message for {} s (memory or store limit reached); it will be sent when there is room",
            SEND_TIMEOUT.as_secs()
        ))),
    }
}

/// Takes one message from `destination`, waiting up to `wait`; `None` if none came. The
/// message is acknowledged (durably) before it is returned, so it is gone from the broker
/// even if the HTTP client then fails to read the answer — as with ActiveMQ's servlet.
///
/// The consumer pulls (prefetch 0, JMS `receive`): the core hands over exactly one message or
/// says there is none, so no second message is ever delivered to this short-lived consumer
/// and counted as a redelivery when it closes.
///
/// # Errors
/// The core refused the subscription, or the acknowledgement failed.
pub(crate) async fn receive(
    state: &AppState,
    destination: Destination,
    selector: Option<Selector>,
    wait: Duration,
) -> Result<Option<Arc<Message>>, ApiError> {
    let mut session = open_session(state).await?;
    let spec = ConsumerSpec {
        destination,
        selector,
        ack_mode: AckMode::Individual,
        prefetch: 0,
        exclusive: false,
        durable_name: None,
        no_local: false,
    };
    let outcome = tokio::time::timeout(
        wait + PULL_ANSWER_GRACE,
        take_one(state, &mut session, spec, wait),
    )
    .await
    .unwrap_or(Ok(None));
    // Closing returns anything delivered but not acknowledged to the queue.
    session.close().await;
    outcome
}

async fn take_one(
    state: &AppState,
    session: &mut Session,
    spec: ConsumerSpec,
    wait: Duration,
) -> Result<Option<Arc<Message>>, ApiError> {
    let consumer = session.subscribe(spec).await?;
    let waiting = !wait.is_zero();
    session.pull(consumer, waiting).await?;
    // Without waiting the core answers the pull by itself.
    let mut cancelled = !waiting;
    let deadline = tokio::time::sleep(wait);
    tokio::pin!(deadline);
    let delivery = loop {
        tokio::select! {
            () = state.stop.cancelled(), if !cancelled => {
                session.cancel_pull(consumer).await?;
                cancelled = true;
            }
            () = &mut deadline, if !cancelled => {
                // A message may still be on its way; the core's answer says which.
                session.cancel_pull(consumer).await?;
                cancelled = true;
            }
            outbound = session.next_outbound() => match outbound {
                Some(Outbound::Deliver(delivery)) => break delivery,
                Some(Outbound::PullEmpty { .. }) => return Ok(None),
                Some(Outbound::Close { reason }) => return Err(ApiError::Unavailable(reason)),
                None => return Err(ferromq_core::CoreError::ShuttingDown.into()),
            },
        }
    };
    let durable = session
        .ack(consumer, delivery.tag, AckKind::Individual, None, true)
        .await?;
    if let Some(durable) = durable {
        durable
            .await
            .map_err(|err| ApiError::Internal(format!("the message store failed: {err}")))?;
    }
    Ok(Some(delivery.message))
}
