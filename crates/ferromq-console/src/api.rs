//! `/api/v1/...`: the JSON admin API. It shows and does everything the pages do — they call
//! the same functions — so anything a person does in the console can be scripted.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use base64::Engine;
use ferromq_core::{Body, Destination, DestinationKind, PropertyValue};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::model::{self, BridgeView, MessageView};
use crate::ops::{self, Outgoing};
use crate::state::AppState;

/// Messages a browse returns unless `limit` says otherwise, and the most it may ask for.
pub(crate) const DEFAULT_BROWSE_LIMIT: usize = 100;
const MAX_BROWSE_LIMIT: usize = 1000;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/overview", get(overview))
        .route("/queues", get(queues))
        .route("/queues/{name}", get(queue).delete(delete_queue))
        .route("/queues/{name}/messages", get(browse).post(send_to_queue))
        .route("/queues/{name}/purge", post(purge))
        .route("/queues/{name}/messages/{id}", delete(remove_message))
        .route("/queues/{name}/messages/{id}/move", post(move_message))
        .route("/queues/{name}/messages/{id}/retry", post(retry))
        .route("/topics", get(topics))
        .route("/topics/{name}/messages", post(send_to_topic))
        .route("/subscribers", get(subscribers))
        .route("/connections", get(connections))
        .route("/bridges", get(bridges))
}

/// Anything no route matched.
pub(crate) async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no page or API endpoint at {}", uri.path()))
}

fn json_body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|err| ApiError::BadRequest(format!("bad JSON request body: {err}")))
}

pub(crate) async fn overview_json(state: &AppState) -> Result<model::Overview, ApiError> {
    let stats = state.context.broker.stats().await?;
    Ok(model::overview(
        &state.context.info,
        &stats,
        (state.context.store_stats)(),
    ))
}

async fn overview(State(state): State<AppState>) -> Result<Json<model::Overview>, ApiError> {
    Ok(Json(overview_json(&state).await?))
}

async fn queues(State(state): State<AppState>) -> Result<Json<Vec<model::QueueView>>, ApiError> {
    let stats = state.context.broker.stats().await?;
    Ok(Json(model::queues(&stats)))
}

pub(crate) fn unknown_queue(name: &str) -> ApiError {
    ApiError::NotFound(format!("queue '{name}' does not exist"))
}

async fn queue(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<model::QueueView>, ApiError> {
    let stats = state.context.broker.stats().await?;
    model::find_queue(&stats, &name)
        .map(Json)
        .ok_or_else(|| unknown_queue(&name))
}

/// A queue that must already exist (admin actions never create one).
pub(crate) fn existing_queue(name: &str) -> Result<Destination, ApiError> {
    Destination::queue(name).map_err(|_| unknown_queue(name))
}

/// Shared by the browse page: messages of a queue, 404 if it does not exist.
pub(crate) async fn browse_messages(
    state: &AppState,
    name: &str,
    limit: usize,
) -> Result<Vec<MessageView>, ApiError> {
    let browsed = state
        .context
        .broker
        .browse(existing_queue(name)?, limit)
        .await
        .map_err(|err| match err {
            ferromq_core::CoreError::UnknownDestination(_) => unknown_queue(name),
            other => other.into(),
        })?;
    Ok(browsed.iter().map(model::message_view).collect())
}

pub(crate) fn parse_limit(query: Option<&str>) -> Result<usize, ApiError> {
    let pairs = form_urlencoded::parse(query.unwrap_or_default().as_bytes());
    for (key, value) in pairs {
        if key == "limit" {
            return match value.trim().parse::<usize>() {
                Ok(n) if (1..=MAX_BROWSE_LIMIT).contains(&n) => Ok(n),
                _ => Err(ApiError::BadRequest(format!(
                    "limit must be a number from 1 to {MAX_BROWSE_LIMIT}, got '{value}'"
                ))),
            };
        }
    }
    Ok(DEFAULT_BROWSE_LIMIT)
}

async fn browse(
    State(state): State<AppState>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<MessageView>>, ApiError> {
    let limit = parse_limit(query.as_deref())?;
    Ok(Json(browse_messages(&state, &name, limit).await?))
}

/// A message to send, as JSON.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SendRequest {
    body: Option<String>,
    body_base64: Option<String>,
    priority: Option<u8>,
    time_to_live_ms: Option<i64>,
    persistent: Option<bool>,
    correlation_id: Option<String>,
    #[serde(rename = "type")]
    message_type: Option<String>,
    reply_to: Option<String>,
    #[serde(default)]
    properties: BTreeMap<String, Value>,
}

fn property_value(name: &str, value: &Value) -> Result<PropertyValue, ApiError> {
    match value {
        Value::Bool(b) => Ok(PropertyValue::Bool(*b)),
        Value::String(s) => Ok(PropertyValue::String(s.clone())),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(i32::try_from(i).map_or(PropertyValue::Long(i), PropertyValue::Int))
            } else {
                n.as_f64().map(PropertyValue::Double).ok_or_else(|| {
                    ApiError::BadRequest(format!("property '{name}': {n} does not fit a long"))
                })
            }
        }
        _ => Err(ApiError::BadRequest(format!(
            "property '{name}' must be a string, number or boolean"
        ))),
    }
}

fn outgoing(destination: Destination, request: SendRequest) -> Result<Outgoing, ApiError> {
    let body = match (request.body, request.body_base64) {
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest(
                "give either body or body_base64, not both".into(),
            ))
        }
        (Some(text), None) => Body::Text(text),
        (None, Some(encoded)) => Body::Bytes(
            base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .map_err(|err| ApiError::BadRequest(format!("body_base64: {err}")))?
                .into(),
        ),
        (None, None) => Body::Empty,
    };
    let mut outgoing = Outgoing::new(destination, body);
    if let Some(priority) = request.priority {
        outgoing.priority = ops::parse_priority(&priority.to_string())?;
    }
    if let Some(ttl) = request.time_to_live_ms {
        outgoing.time_to_live_ms = ops::parse_time_to_live(&ttl.to_string())?;
    }
    outgoing.persistent = request.persistent.unwrap_or(true);
    outgoing.correlation_id = request.correlation_id;
    outgoing.message_type = request.message_type;
    if let Some(reply_to) = request.reply_to {
        outgoing.reply_to = Some(
            Destination::parse_key(&reply_to)
                .map_err(|err| ApiError::BadRequest(format!("reply_to: {err}")))?,
        );
    }
    for (name, value) in &request.properties {
        let name = ops::checked_property_name(name)?;
        outgoing
            .properties
            .push((name.clone(), property_value(&name, value)?));
    }
    Ok(outgoing)
}

async fn send_json(
    state: &AppState,
    kind: DestinationKind,
    name: &str,
    bytes: &Bytes,
) -> Result<Response, ApiError> {
    let destination = ops::destination(kind, name)?;
    let request: SendRequest = json_body(bytes)?;
    let id = ops::send(state, outgoing(destination.clone(), request)?).await?;
    let answer = json!({ "id": id, "destination": destination.to_string() });
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

async fn send_to_queue(
    State(state): State<AppState>,
    Path(name): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    send_json(&state, DestinationKind::Queue, &name, &bytes).await
}

async fn send_to_topic(
    State(state): State<AppState>,
    Path(name): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    send_json(&state, DestinationKind::Topic, &name, &bytes).await
}

async fn purge(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let purged = state.context.broker.purge(existing_queue(&name)?).await?;
    Ok(Json(json!({ "queue": name, "purged": purged })))
}

async fn delete_queue(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state
        .context
        .broker
        .delete_queue(existing_queue(&name)?)
        .await?;
    Ok(Json(json!({ "deleted": name })))
}

async fn remove_message(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    state
        .context
        .broker
        .remove_message(existing_queue(&name)?, id.clone())
        .await?;
    Ok(Json(json!({ "queue": name, "removed": id })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveRequest {
    to: String,
}

async fn move_message(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let request: MoveRequest = json_body(&bytes)?;
    let to = ops::destination(DestinationKind::Queue, &request.to)?;
    state
        .context
        .broker
        .move_message(existing_queue(&name)?, id.clone(), to)
        .await?;
    Ok(Json(json!({ "moved": id, "from": name, "to": request.to })))
}

async fn retry(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let to = state
        .context
        .broker
        .retry(existing_queue(&name)?, id.clone())
        .await?;
    Ok(Json(json!({ "retried": id, "to": to.to_string() })))
}

async fn topics(State(state): State<AppState>) -> Result<Json<Vec<model::TopicView>>, ApiError> {
    let stats = state.context.broker.stats().await?;
    Ok(Json(model::topics(&stats)))
}

async fn subscribers(
    State(state): State<AppState>,
) -> Result<Json<Vec<model::SubscriberView>>, ApiError> {
    let stats = state.context.broker.stats().await?;
    Ok(Json(model::subscribers(&stats)))
}

async fn connections(
    State(state): State<AppState>,
) -> Result<Json<Vec<model::ConnectionView>>, ApiError> {
    let stats = state.context.broker.stats().await?;
    Ok(Json(model::connections(&stats)))
}

/// Network connectors are not implemented yet, so there is never a bridge to list.
pub(crate) fn bridge_list() -> Vec<BridgeView> {
    Vec::new()
}

async fn bridges() -> Json<Vec<BridgeView>> {
    Json(bridge_list())
}
