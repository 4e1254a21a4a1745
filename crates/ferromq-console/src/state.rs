//! What every request handler shares, and the table of routes. Handlers get the broker only
//! through [`AppState`]; nothing here holds broker state of its own.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use ferromq_core::message::now_millis;
use ferromq_server::ConsoleConfig;
use tokio_util::sync::CancellationToken;

use crate::auth::Auth;
use crate::{api, auth, metrics, pages, rest, ConsoleContext};

/// Largest request body accepted (a message sent through the console).
pub(crate) const MAX_BODY_BYTES: usize = 16 << 20;

/// Shared by every handler; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct AppState(Arc<Inner>);

#[derive(Debug)]
pub(crate) struct Inner {
    pub context: ConsoleContext,
    pub auth: Auth,
    /// Cancelled on shutdown: long polls give up at once instead of holding the server.
    pub stop: CancellationToken,
    /// Makes message and session names unique across broker restarts.
    instance: i64,
    next_id: AtomicU64,
    next_session: AtomicU64,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(context: ConsoleContext, config: &ConsoleConfig, stop: CancellationToken) -> Self {
        AppState(Arc::new(Inner {
            context,
            auth: Auth::new(&config.user, &config.password),
            stop,
            instance: now_millis(),
            next_id: AtomicU64::new(1),
            next_session: AtomicU64::new(1),
        }))
    }

    /// A JMS message id for a message the console sends, ActiveMQ style.
    pub fn new_message_id(&self) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        format!(
            "ID:{}-console-{}:{}",
            self.context.info.name, self.instance, n
        )
    }

    /// Prefix for the temporary destinations of one console session (it makes none, but the
    /// core wants every connection to have a unique one).
    pub fn new_temp_prefix(&self) -> String {
        let n = self.next_session.fetch_add(1, Ordering::Relaxed);
        format!(
            "ID:{}-console-{}-session-{}:",
            self.context.info.name, self.instance, n
        )
    }
}

/// Every route. Authentication wraps all of them except the login page.
pub(crate) fn router(state: AppState) -> Router {
    let protected = Router::new()
        .merge(pages::routes())
        .nest("/api/v1", api::routes())
        .route(
            "/api/message/{*name}",
            get(rest::receive).delete(rest::receive).post(rest::send),
        )
        .route("/metrics", get(metrics::scrape))
        .route("/logout", post(auth::logout))
        .fallback(api::not_found)
        // `layer`, not `route_layer`: unknown paths need credentials too, so the console
        // does not tell strangers which paths exist.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require,
        ));
    Router::new()
        .route("/login", get(auth::login_page).post(auth::login))
        .merge(protected)
        .layer(axum::middleware::from_fn(auth::same_origin))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
