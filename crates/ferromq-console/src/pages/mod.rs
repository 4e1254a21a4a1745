//! The server-rendered pages and the form posts behind their buttons. Pages read the same
//! views as the JSON API ([`crate::model`]); actions call the same broker operations. A form
//! post answers JSON to the page's script (`X-Requested-With: fetch`), or redirects back with
//! a notice when JavaScript is off.

mod browse;
pub(crate) mod layout;
mod views;

use axum::extract::{FromRequest, Path, Request, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use ferromq_core::{Body, DestinationKind};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;

use crate::api::existing_queue;
use crate::auth::safe_next;
use crate::error::ApiError;
use crate::ops::{self, Outgoing};
use crate::state::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(views::overview))
        .route("/queues", get(views::queues))
        .route("/queues/{name}", get(browse::queue))
        .route("/topics", get(views::topics))
        .route("/subscribers", get(views::subscribers))
        .route("/connections", get(views::connections))
        .route("/bridges", get(views::bridges))
        .route("/actions/send", post(send))
        .route("/queues/{name}/purge", post(purge))
        .route("/queues/{name}/delete", post(delete_queue))
        .route("/queues/{name}/messages/{id}/delete", post(remove_message))
        .route("/queues/{name}/messages/{id}/move", post(move_message))
        .route("/queues/{name}/messages/{id}/retry", post(retry))
}

/// What an action did: a line for the user, and where to go next if the page it came from
/// no longer makes sense (a deleted queue).
struct Done {
    notice: String,
    redirect: Option<String>,
}

impl Done {
    fn notice(text: String) -> Self {
        Done {
            notice: text,
            redirect: None,
        }
    }
}

fn answer(headers: &HeaderMap, back: Option<&str>, outcome: Result<Done, ApiError>) -> Response {
    let from_script = headers
        .get("x-requested-with")
        .is_some_and(|v| v.as_bytes() == b"fetch");
    if from_script {
        return match outcome {
            Ok(done) => {
                Json(json!({ "notice": done.notice, "redirect": done.redirect })).into_response()
            }
            Err(err) => err.into_response(),
        };
    }
    let (back, key, text) = match outcome {
        Ok(done) => {
            let target = done.redirect.unwrap_or_else(|| safe_next(back).to_owned());
            (target, "notice", done.notice)
        }
        Err(err) => (safe_next(back).to_owned(), "error", err.to_string()),
    };
    let separator = if back.contains('?') { '&' } else { '?' };
    let location = format!("{back}{separator}{key}={}", layout::query_escape(&text));
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

/// A form body; a malformed one is a 400 with the reason, like every other bad input.
struct PageForm<T>(T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequest<S> for PageForm<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        Form::<T>::from_request(request, state)
            .await
            .map(|Form(form)| PageForm(form))
            .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))
    }
}

#[derive(Debug, Deserialize)]
struct SendForm {
    kind: String,
    destination: String,
    #[serde(default)]
    body: String,
    priority: Option<String>,
    ttl: Option<String>,
    persistent: Option<String>,
    #[serde(default)]
    properties: String,
    back: Option<String>,
}

async fn send_from_form(state: &AppState, form: &SendForm) -> Result<Done, ApiError> {
    let kind = match form.kind.as_str() {
        "queue" => DestinationKind::Queue,
        "topic" => DestinationKind::Topic,
        other => {
            return Err(ApiError::BadRequest(format!(
                "kind must be queue or topic, got '{other}'"
            )))
        }
    };
    let destination = ops::destination(kind, form.destination.trim())?;
    let mut outgoing = Outgoing::new(destination.clone(), Body::Text(form.body.clone()));
    if let Some(text) = form.priority.as_deref().filter(|t| !t.trim().is_empty()) {
        outgoing.priority = ops::parse_priority(text)?;
    }
    if let Some(text) = form.ttl.as_deref().filter(|t| !t.trim().is_empty()) {
        outgoing.time_to_live_ms = ops::parse_time_to_live(text)?;
    }
    // An unticked checkbox sends nothing at all.
    outgoing.persistent = form
        .persistent
        .as_deref()
        .map(ops::parse_persistent)
        .transpose()?
        .unwrap_or(false);
    outgoing.properties = ops::parse_property_lines(&form.properties)?;
    let id = ops::send(state, outgoing).await?;
    Ok(Done::notice(format!("Sent {id} to {destination}")))
}

async fn send(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(form): PageForm<SendForm>,
) -> Response {
    let outcome = send_from_form(&state, &form).await;
    answer(&headers, form.back.as_deref(), outcome)
}

#[derive(Debug, Deserialize)]
struct BackForm {
    back: Option<String>,
}

async fn purge(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    PageForm(form): PageForm<BackForm>,
) -> Response {
    let outcome = async {
        let purged = state.context.broker.purge(existing_queue(&name)?).await?;
        Ok(Done::notice(format!(
            "Purged {purged} messages from {name}"
        )))
    }
    .await;
    answer(&headers, form.back.as_deref(), outcome)
}

async fn delete_queue(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    PageForm(form): PageForm<BackForm>,
) -> Response {
    let outcome = async {
        state
            .context
            .broker
            .delete_queue(existing_queue(&name)?)
            .await?;
        Ok(Done {
            notice: format!("Deleted queue {name}"),
            redirect: Some(format!(
                "/queues?notice={}",
                layout::query_escape(&format!("Deleted queue {name}"))
            )),
        })
    }
    .await;
    answer(&headers, form.back.as_deref(), outcome)
}

async fn remove_message(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    headers: HeaderMap,
    PageForm(form): PageForm<BackForm>,
) -> Response {
    let outcome = async {
        state
            .context
            .broker
            .remove_message(existing_queue(&name)?, id.clone())
            .await?;
        Ok(Done::notice(format!("Deleted message {id}")))
    }
    .await;
    answer(&headers, form.back.as_deref(), outcome)
}

#[derive(Debug, Deserialize)]
struct MoveForm {
    to: String,
    back: Option<String>,
}

async fn move_message(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    headers: HeaderMap,
    PageForm(form): PageForm<MoveForm>,
) -> Response {
    let outcome = async {
        let to = ops::destination(DestinationKind::Queue, form.to.trim())?;
        state
            .context
            .broker
            .move_message(existing_queue(&name)?, id.clone(), to.clone())
            .await?;
        Ok(Done::notice(format!("Moved {id} to {to}")))
    }
    .await;
    answer(&headers, form.back.as_deref(), outcome)
}

async fn retry(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    headers: HeaderMap,
    PageForm(form): PageForm<BackForm>,
) -> Response {
    let outcome = async {
        let to = state
            .context
            .broker
            .retry(existing_queue(&name)?, id.clone())
            .await?;
        Ok(Done::notice(format!("Sent {id} back to {to}")))
    }
    .await;
    answer(&headers, form.back.as_deref(), outcome)
}
