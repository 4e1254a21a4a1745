//! Who may use the console: HTTP basic credentials (curl, scrapers, ActiveMQ scripts) or the
//! session cookie the login form hands to browsers. Also refuses form posts from other sites,
//! since a browser that remembers basic credentials would otherwise send them along.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Query, Request, State};
use axum::http::header::{
    AUTHORIZATION, COOKIE, HOST, LOCATION, ORIGIN, SET_COOKIE, WWW_AUTHENTICATE,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use base64::Engine;
use serde::Deserialize;

use crate::error::ApiError;
use crate::pages::layout;
use crate::state::AppState;

const SESSION_COOKIE: &str = "ferromq_session";
/// A browser session ends after this long without a request.
const SESSION_IDLE: Duration = Duration::from_secs(8 * 3600);
/// Bounds the session table: logging in again and again must not grow memory without limit.
const MAX_SESSIONS: usize = 1024;
const REALM_CHALLENGE: &str = "Basic realm=\"FerroMQ\", charset=\"UTF-8\"";

/// The configured credentials and the live browser sessions.
#[derive(Debug)]
pub(crate) struct Auth {
    user: String,
    password: String,
    /// Token → last use. A std mutex: held for a lookup only, never across an await.
    sessions: Mutex<HashMap<String, Instant>>,
}

enum Verdict {
    Allowed,
    Missing,
    Wrong,
}

impl Auth {
    pub fn new(user: &str, password: &str) -> Self {
        Auth {
            user: user.to_owned(),
            password: password.to_owned(),
            sessions: Mutex::new(HashMap::new()),
        }
    }

    fn credentials_match(&self, user: &str, password: &str) -> bool {
        // Both compared in full whatever the first says, so timing tells nothing about which
        // one was wrong or how much of it matched.
        let user_ok = constant_time_eq(user.as_bytes(), self.user.as_bytes());
        let password_ok = constant_time_eq(password.as_bytes(), self.password.as_bytes());
        user_ok & password_ok
    }

    fn verdict(&self, headers: &HeaderMap) -> Verdict {
        if let Some(header) = headers.get(AUTHORIZATION) {
            // Explicit credentials win over a cookie: a script with a wrong password must hear
            // so even from a browser-like client.
            return match parse_basic(header) {
                Some((user, password)) if self.credentials_match(&user, &password) => {
                    Verdict::Allowed
                }
                _ => Verdict::Wrong,
            };
        }
        match session_token(headers) {
            Some(token) if self.touch_session(token) => Verdict::Allowed,
            _ => Verdict::Missing,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        // A panic while holding the lock leaves a map that is still valid; keep using it.
        self.sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn touch_session(&self, token: &str) -> bool {
        let now = Instant::now();
        let mut sessions = self.lock();
        match sessions.get_mut(token) {
            Some(last) if now.duration_since(*last) < SESSION_IDLE => {
                *last = now;
                true
            }
            Some(_) => {
                sessions.remove(token);
                false
            }
            None => false,
        }
    }

    fn new_session(&self) -> Result<String, ApiError> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)
            .map_err(|err| ApiError::Internal(format!("no randomness for a session: {err}")))?;
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let now = Instant::now();
        let mut sessions = self.lock();
        sessions.retain(|_, last| now.duration_since(*last) < SESSION_IDLE);
        if sessions.len() >= MAX_SESSIONS {
            if let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, last)| **last)
                .map(|(token, _)| token.clone())
            {
                sessions.remove(&oldest);
            }
        }
        sessions.insert(token.clone(), now);
        Ok(token)
    }

    fn end_session(&self, token: &str) {
        self.lock().remove(token);
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, x) in a.iter().enumerate() {
        let y = b.get(i % b.len().max(1)).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

fn parse_basic(header: &HeaderValue) -> Option<(String, String)> {
    let text = header.to_str().ok()?;
    let (scheme, encoded) = text.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

fn session_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
}

/// Pages a person opens in a browser; they go to the login form instead of getting a 401.
fn is_page(request: &Request) -> bool {
    let path = request.uri().path();
    request.method() == Method::GET && !path.starts_with("/api/") && path != "/metrics"
}

/// Lets a request through only with valid credentials.
pub(crate) async fn require(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    match state.auth.verdict(request.headers()) {
        Verdict::Allowed => next.run(request).await,
        Verdict::Missing if is_page(&request) => {
            let target = request
                .uri()
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_owned();
            let location = format!("/login?next={}", layout::query_escape(&target));
            redirect(&location)
        }
        Verdict::Missing | Verdict::Wrong => unauthorized(),
    }
}

fn unauthorized() -> Response {
    let mut response = ApiError::Unauthorized.into_response();
    response
        .headers_mut()
        .insert(WWW_AUTHENTICATE, HeaderValue::from_static(REALM_CHALLENGE));
    response
}

/// Refuses state-changing requests a browser makes on behalf of another site's page.
pub(crate) async fn same_origin(request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe {
        let headers = request.headers();
        if let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) {
            let host = headers
                .get(HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
            if origin_host != host {
                return ApiError::Forbidden(format!("cross-site request from {origin} refused"))
                    .into_response();
            }
        }
    }
    next.run(request).await
}

fn redirect(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

/// Where to go after logging in: a path on this console only, never another site.
pub(crate) fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path
        }
        _ => "/",
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginQuery {
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    user: String,
    password: String,
    next: Option<String>,
}

pub(crate) async fn login_page(Query(query): Query<LoginQuery>) -> Html<String> {
    Html(layout::login(safe_next(query.next.as_deref()), None))
}

pub(crate) async fn login(State(state): State<AppState>, Form(form): Form<LoginForm>) -> Response {
    let next = safe_next(form.next.as_deref());
    if !state.auth.credentials_match(&form.user, &form.password) {
        tracing::info!(user = %form.user, "console login refused");
        let page = layout::login(next, Some("Wrong user name or password."));
        return (StatusCode::UNAUTHORIZED, Html(page)).into_response();
    }
    let token = match state.auth.new_session() {
        Ok(token) => token,
        Err(err) => return err.into_response(),
    };
    let mut response = redirect(next);
    // Strict same-site: the cookie never rides along on a request another site triggers.
    let cookie = format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    response
}

pub(crate) async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = session_token(&headers) {
        state.auth.end_session(token);
    }
    let mut response = redirect("/login");
    let expired = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Ok(value) = HeaderValue::from_str(&expired) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_parsed_and_compared() {
        let auth = Auth::new("admin", "secret");
        let header = HeaderValue::from_static("Basic YWRtaW46c2VjcmV0");
        let parsed = parse_basic(&header);
        assert_eq!(parsed, Some(("admin".into(), "secret".into())));
        assert!(auth.credentials_match("admin", "secret"));
        assert!(!auth.credentials_match("admin", "secre"));
        assert!(!auth.credentials_match("admin", "secret!"));
        assert!(!auth.credentials_match("", ""));
        assert_eq!(parse_basic(&HeaderValue::from_static("Bearer x")), None);
        assert_eq!(parse_basic(&HeaderValue::from_static("Basic !!!")), None);
    }

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/queues?x=1")), "/queues?x=1");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
