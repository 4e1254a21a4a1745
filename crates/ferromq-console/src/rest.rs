//! `/api/message/NAME`: ActiveMQ's message REST servlet, so the scripts ActiveMQ users already
//! have keep working. `POST` sends (the `body` parameter or the raw request body, with
//! `JMSPriority`, `JMSTimeToLive`, `JMSDeliveryMode`, `JMSCorrelationID`, `JMSType`,
//! `JMSReplyTo` and any other parameter as a string property); `GET` (or `DELETE`) consumes one
//! message, waiting up to `readTimeout` ms.
//!
//! As in ActiveMQ, a destination without `type` is a topic, `/` in the path becomes `.`, and a
//! `queue://` or `topic://` prefix or a `destination` parameter overrides the path.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ferromq_core::{Body, Destination, DestinationKind, Message, PropertyValue};

use crate::error::ApiError;
use crate::ops::{self, Outgoing, MAX_READ_TIMEOUT};
use crate::state::AppState;

/// ActiveMQ's servlet sends at priority 5 unless told otherwise; so do we, for compatibility.
const REST_DEFAULT_PRIORITY: u8 = 5;

/// Parameters that steer the servlet and never become message properties.
const CONTROL_PARAMETERS: &[&str] = &[
    "body",
    "type",
    "destination",
    "JMSDeliveryMode",
    "JMSPriority",
    "JMSTimeToLive",
    "JMSCorrelationID",
    "JMSType",
    "JMSReplyTo",
    "JMSExpiration",
    "readTimeout",
    "oneShot",
    "clientId",
    "selector",
    "json",
    "xml",
    "sync",
    "action",
];

type Params = Vec<(String, String)>;

fn parse_params(text: &[u8]) -> Params {
    form_urlencoded::parse(text)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// The destination a request names, following ActiveMQ's rules.
fn target(path: &str, params: &Params) -> Result<Destination, ApiError> {
    let (raw, from_path) = match param(params, "destination") {
        Some(name) if !name.is_empty() => (name, false),
        _ => (path.trim_start_matches('/'), true),
    };
    let (forced, name) = if let Some(name) = raw.strip_prefix("topic://") {
        (Some(DestinationKind::Topic), name)
    } else if let Some(name) = raw
        .strip_prefix("queue://")
        .or_else(|| raw.strip_prefix("channel://"))
    {
        (Some(DestinationKind::Queue), name)
    } else {
        (None, raw)
    };
    // In a URL path `/` separates segments; JMS names use `.`.
    let name = if from_path {
        name.trim_matches('/').replace('/', ".")
    } else {
        name.to_owned()
    };
    if name.is_empty() {
        return Err(ApiError::BadRequest(
            "no destination: use /api/message/NAME or the destination parameter".into(),
        ));
    }
    let kind = match (forced, param(params, "type")) {
        (Some(kind), _) => kind,
        (None, None) => DestinationKind::Topic,
        (None, Some(t)) if t.eq_ignore_ascii_case("topic") => DestinationKind::Topic,
        (None, Some(t)) if t.eq_ignore_ascii_case("queue") => DestinationKind::Queue,
        (None, Some(other)) => {
            return Err(ApiError::BadRequest(format!(
                "type must be 'queue' or 'topic', got '{other}'"
            )))
        }
    };
    ops::destination(kind, &name)
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// Text for text-like content types (and none), bytes otherwise.
fn raw_body(headers: &HeaderMap, bytes: Bytes) -> Body {
    if bytes.is_empty() {
        return Body::Empty;
    }
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("text/plain")
        .to_ascii_lowercase();
    let textual = content_type.starts_with("text/")
        || content_type.contains("json")
        || content_type.contains("xml");
    if textual {
        match String::from_utf8(bytes.to_vec()) {
            Ok(text) => return Body::Text(text),
            Err(_) => return Body::Bytes(bytes),
        }
    }
    Body::Bytes(bytes)
}

/// `POST /api/message/NAME`.
pub(crate) async fn send(
    State(state): State<AppState>,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let mut params = parse_params(query.unwrap_or_default().as_bytes());
    let form = is_form(&headers);
    if form {
        params.extend(parse_params(&bytes));
    }
    let destination = target(&path, &params)?;
    let body = match param(&params, "body") {
        Some(text) => Body::Text(text.to_owned()),
        None if form => {
            return Err(ApiError::BadRequest(
                "form posts need a 'body' parameter (curl -d body=TEXT), or send the message as the raw request body with another Content-Type".into(),
            ))
        }
        None => raw_body(&headers, bytes),
    };
    let mut outgoing = Outgoing::new(destination, body);
    outgoing.priority = REST_DEFAULT_PRIORITY;
    if let Some(text) = param(&params, "JMSPriority") {
        outgoing.priority = ops::parse_priority(text)?;
    }
    if let Some(text) = param(&params, "JMSTimeToLive") {
        outgoing.time_to_live_ms = ops::parse_time_to_live(text)?;
    }
    if let Some(text) = param(&params, "JMSDeliveryMode") {
        // ActiveMQ: only "persistent" means persistent; we also take the obvious spellings.
        outgoing.persistent = ops::parse_persistent(text)?;
    }
    outgoing.correlation_id = param(&params, "JMSCorrelationID").map(str::to_owned);
    outgoing.message_type = param(&params, "JMSType").map(str::to_owned);
    if let Some(reply_to) = param(&params, "JMSReplyTo") {
        outgoing.reply_to = Some(reply_destination(reply_to)?);
    }
    for (name, value) in &params {
        if !CONTROL_PARAMETERS.contains(&name.as_str()) {
            let name = ops::checked_property_name(name)?;
            outgoing
                .properties
                .push((name, PropertyValue::String(value.clone())));
        }
    }
    let id = ops::send(&state, outgoing).await?;
    let mut response = (StatusCode::OK, "Message sent").into_response();
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("messageID", value);
    }
    Ok(response)
}

/// `queue://x`, `topic://x`, or a bare name meaning a queue (ActiveMQ's default for replies).
fn reply_destination(text: &str) -> Result<Destination, ApiError> {
    if text.contains("://") {
        return Destination::parse_key(text)
            .map_err(|err| ApiError::BadRequest(format!("bad JMSReplyTo: {err}")));
    }
    ops::destination(DestinationKind::Queue, text)
}

/// `GET` or `DELETE /api/message/NAME`: consume one message.
pub(crate) async fn receive(
    State(state): State<AppState>,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let params = parse_params(query.unwrap_or_default().as_bytes());
    let destination = target(&path, &params)?;
    let wait = match param(&params, "readTimeout") {
        None => Duration::ZERO,
        Some(text) => match text.trim().parse::<i64>() {
            // ActiveMQ: a negative timeout means "don't wait".
            Ok(ms) => Duration::from_millis(u64::try_from(ms).unwrap_or(0)).min(MAX_READ_TIMEOUT),
            Err(_) => {
                return Err(ApiError::BadRequest(format!(
                    "readTimeout must be a number of milliseconds, got '{text}'"
                )))
            }
        },
    };
    let selector_text = headers
        .get("selector")
        .and_then(|v| v.to_str().ok())
        .or_else(|| param(&params, "selector"));
    let selector = selector_text.map(ops::parse_selector).transpose()?;
    let forced_type = if param(&params, "json").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        Some("application/json")
    } else if param(&params, "xml").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        Some("application/xml")
    } else {
        None
    };
    match ops::receive(&state, destination, selector, wait).await? {
        None => Ok(no_cache(StatusCode::NO_CONTENT.into_response())),
        Some(message) => Ok(no_cache(message_response(&message, forced_type))),
    }
}

fn message_response(message: &Message, forced_type: Option<&'static str>) -> Response {
    let (content_type, bytes) = match &message.body {
        Body::Text(text) => {
            let guessed = if text.starts_with('<') {
                "application/xml"
            } else {
                "text/plain; charset=utf-8"
            };
            (forced_type.unwrap_or(guessed), Bytes::from(text.clone()))
        }
        Body::Bytes(bytes) | Body::Structured { bytes, .. } => {
            ("application/octet-stream", bytes.clone())
        }
        Body::Empty | Body::NullText => (
            forced_type.unwrap_or("text/plain; charset=utf-8"),
            Bytes::new(),
        ),
    };
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    let mut put = |name: &str, value: &str| {
        // Names or values HTTP cannot carry are left out rather than failing the response.
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(name, value);
        }
    };
    put("destination", &message.destination.to_string());
    put("id", &message.id);
    for (name, value) in &message.properties {
        put(name, &value.to_header_string());
    }
    response
}

fn no_cache(mut response: Response) -> Response {
    response.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store, must-revalidate"),
    );
    response
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn destinations_follow_activemq() {
        let queue = target("orders/eu", &params(&[("type", "queue")])).unwrap();
        assert_eq!(queue.to_string(), "queue://orders.eu");
        assert_eq!(
            target("news", &params(&[])).unwrap().to_string(),
            "topic://news"
        );
        let forced = target("x", &params(&[("destination", "queue://y")])).unwrap();
        assert_eq!(forced.to_string(), "queue://y");
        assert!(target("x", &params(&[("type", "mailbox")])).is_err());
        assert!(target("", &params(&[])).is_err());
        let prefixed = target("queue://a/b", &params(&[])).unwrap();
        assert_eq!(prefixed.to_string(), "queue://a.b");
        assert!(target("a.>", &params(&[("type", "queue")])).is_err());
    }
}
