//! The list pages: overview, queues, topics, subscribers, connections and network bridges.
//! Each renders one core snapshot; the parts with numbers are `data-live` so the page script
//! refreshes them in place.

use std::fmt::Write;

use axum::extract::{RawQuery, State};
use axum::response::{Html, IntoResponse, Response};

use super::layout::{self, bytes, escape, query_escape, Flash, Section};
use crate::api::{bridge_list, overview_json};
use crate::error::ApiError;
use crate::model::{self, Usage};
use crate::state::AppState;

/// An error shown as a page rather than as JSON.
pub(super) struct PageError(ApiError);

impl From<ApiError> for PageError {
    fn from(err: ApiError) -> Self {
        PageError(err)
    }
}

impl From<ferromq_core::CoreError> for PageError {
    fn from(err: ferromq_core::CoreError) -> Self {
        PageError(err.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let body = format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>{code}</title></head><body>\
<h1>{code}</h1><p>{}</p><p><a href=\"/\">Back to the console</a></p></body></html>",
            escape(&self.0.to_string()),
            code = status,
        );
        (status, Html(body)).into_response()
    }
}

pub(super) type PageResult = Result<Html<String>, PageError>;

pub(super) fn flash(query: Option<&str>) -> Flash {
    let mut flash = Flash::default();
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "notice" => flash.notice = Some(value.into_owned()),
            "error" => flash.error = Some(value.into_owned()),
            _ => {}
        }
    }
    flash
}

pub(super) fn render(
    state: &AppState,
    title: &str,
    section: Section,
    query: Option<&str>,
    content: &str,
) -> Html<String> {
    Html(layout::page(
        &state.context.info.name,
        title,
        section,
        &flash(query),
        content,
    ))
}

fn stat(label: &str, value: &str) -> String {
    format!(
        "<div class=\"card stat\"><div class=\"label\">{}</div><div class=\"value\">{}</div></div>",
        escape(label),
        escape(value)
    )
}

fn usage_card(label: &str, usage: &Usage) -> String {
    format!(
        "<div class=\"card stat\"><div class=\"label\">{}</div><div class=\"value\">{} of {}</div>\
<div class=\"bar\"><span style=\"width:{:.1}%\"></span></div><div class=\"label\">{:.1}%</div></div>",
        escape(label),
        bytes(usage.used_bytes),
        bytes(usage.limit_bytes),
        usage.percent.min(100.0),
        usage.percent
    )
}

pub(super) async fn overview(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let o = overview_json(&state).await?;
    let mut html = String::from("<div id=\"live-overview\" data-live><div class=\"cards\">");
    html += &stat("Broker", &o.name);
    html += &stat("Version", &o.version);
    html += &stat("Uptime", &layout::duration(o.uptime_seconds));
    html += &stat("Role", o.role);
    html += &usage_card("Memory", &o.memory);
    match &o.store {
        Some(store) => html += &usage_card("Store", &store.usage),
        None => html += &stat("Store", "memory only (persistent = false)"),
    }
    html += "</div><div class=\"cards\">";
    for (label, value) in [
        ("Queues", o.totals.queues),
        ("Topics", o.totals.topics),
        ("Subscribers", o.totals.subscribers),
        ("Connections", o.totals.connections),
        ("Consumers", o.totals.consumers),
        ("Pending messages", o.totals.pending),
    ] {
        html += &stat(label, &value.to_string());
    }
    html += "</div>";
    if let Some(store) = &o.store {
        let _ = write!(
            html,
            "<h2>Store</h2><table><tr><th>Live data</th><th>On disk</th><th>Segments</th><th>Batches written</th><th>fsyncs</th></tr>\
<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr></table>",
            bytes(store.usage.used_bytes),
            bytes(store.disk_bytes),
            store.segments,
            store.batches_written,
            store.fsyncs
        );
    }
    html +=
        "</div><h2>Connectors</h2><table><tr><th>Name</th><th>Protocol</th><th>Address</th></tr>";
    for c in &o.connectors {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&c.name),
            escape(&c.protocol),
            escape(&c.address)
        );
    }
    html += "</table>";
    Ok(render(
        &state,
        "Overview",
        Section::Overview,
        query.as_deref(),
        &html,
    ))
}

pub(super) async fn queues(State(state): State<AppState>, RawQuery(query): RawQuery) -> PageResult {
    let stats = state.context.broker.stats().await?;
    let queues = model::queues(&stats);
    let mut html = layout::send_form("queue", None, "/queues");
    html += "<div id=\"live-queues\" data-live><table id=\"queues\"><tr><th>Name</th><th class=\"n\">Pending</th>\
<th class=\"n\">In flight</th><th class=\"n\">Consumers</th><th class=\"n\">Enqueued</th><th class=\"n\">Dequeued</th>\
<th class=\"n\">Expired</th><th class=\"n\">Dead-lettered</th><th class=\"n\">Memory</th><th>Actions</th></tr>";
    if queues.is_empty() {
        html += "<tr><td colspan=\"10\" class=\"muted\">No queues yet. Send a message to create one.</td></tr>";
    }
    for q in &queues {
        let link = format!("/queues/{}", query_escape(&q.name));
        // Temporary queues belong to their connection: shown, but not browsed or changed.
        let (title, actions) = if q.temporary {
            (
                escape(&q.name),
                "<span class=\"muted\">temporary</span>".to_owned(),
            )
        } else {
            let purge = layout::action_form(
                &format!("{link}/purge"),
                "/queues",
                "Purge",
                Some("Delete every pending message of this queue?"),
                "",
            );
            let delete = layout::action_form(
                &format!("{link}/delete"),
                "/queues",
                "Delete",
                Some("Delete this queue and its messages?"),
                "",
            );
            (
                format!("<a href=\"{}\">{}</a>", escape(&link), escape(&q.name)),
                format!("<a href=\"{}\">Browse</a> {purge}{delete}", escape(&link)),
            )
        };
        let _ = write!(
            html,
            "<tr data-queue=\"{name}\"><td>{title}</td><td class=\"n pending\">{}</td><td class=\"n\">{}</td>\
<td class=\"n consumers\">{}</td><td class=\"n enqueued\">{}</td><td class=\"n dequeued\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
<td class=\"n\">{}</td><td>{actions}</td></tr>",
            q.pending,
            q.in_flight,
            q.consumers,
            q.enqueued,
            q.dequeued,
            q.expired,
            q.dead_lettered,
            bytes(u64::try_from(q.memory_bytes).unwrap_or(u64::MAX)),
            name = escape(&q.name),
        );
    }
    html += "</table></div>";
    Ok(render(
        &state,
        "Queues",
        Section::Queues,
        query.as_deref(),
        &html,
    ))
}

pub(super) async fn topics(State(state): State<AppState>, RawQuery(query): RawQuery) -> PageResult {
    let stats = state.context.broker.stats().await?;
    let mut html = layout::send_form("topic", None, "/topics");
    html += "<div id=\"live-topics\" data-live><table id=\"topics\"><tr><th>Name</th><th class=\"n\">Published</th>\
<th class=\"n\">Subscriptions</th><th class=\"n\">Consumers</th><th class=\"n\">Pending</th></tr>";
    let topics = model::topics(&stats);
    if topics.is_empty() {
        html += "<tr><td colspan=\"5\" class=\"muted\">No topics yet.</td></tr>";
    }
    for t in &topics {
        let _ = write!(
            html,
            "<tr data-topic=\"{name}\"><td>{name}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            t.published,
            t.subscriptions,
            t.consumers,
            t.pending,
            name = escape(&t.name)
        );
    }
    html += "</table></div>";
    Ok(render(
        &state,
        "Topics",
        Section::Topics,
        query.as_deref(),
        &html,
    ))
}

pub(super) async fn subscribers(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let stats = state.context.broker.stats().await?;
    let mut html = String::from(
        "<div id=\"live-subscribers\" data-live><table id=\"subscribers\"><tr><th>Topic</th><th>Client id</th><th>Subscription</th>\
<th>Kind</th><th>State</th><th class=\"n\">Pending</th><th class=\"n\">In flight</th><th class=\"n\">Consumers</th>\
<th class=\"n\">Enqueued</th><th class=\"n\">Dequeued</th></tr>",
    );
    let subscribers = model::subscribers(&stats);
    if subscribers.is_empty() {
        html += "<tr><td colspan=\"10\" class=\"muted\">No topic subscriptions.</td></tr>";
    }
    for s in &subscribers {
        let state_badge = if s.active {
            "<span class=\"badge on\">active</span>"
        } else {
            "<span class=\"badge off\">offline</span>"
        };
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{state_badge}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(&s.topic),
            escape(s.client_id.as_deref().unwrap_or("")),
            escape(s.subscription_name.as_deref().unwrap_or("")),
            if s.durable { "durable" } else { "non-durable" },
            s.pending,
            s.in_flight,
            s.consumers,
            s.enqueued,
            s.dequeued
        );
    }
    html += "</table></div>";
    Ok(render(
        &state,
        "Subscribers",
        Section::Subscribers,
        query.as_deref(),
        &html,
    ))
}

pub(super) async fn connections(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let stats = state.context.broker.stats().await?;
    let mut html = String::from(
        "<div id=\"live-connections\" data-live><table id=\"connections\"><tr><th class=\"n\">Id</th><th>Peer</th><th>Client id</th>\
<th class=\"n\">Consumers</th><th class=\"n\">Open transactions</th></tr>",
    );
    let connections = model::connections(&stats);
    if connections.is_empty() {
        html += "<tr><td colspan=\"5\" class=\"muted\">No client connections.</td></tr>";
    }
    for c in &connections {
        let _ = write!(
            html,
            "<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            c.id,
            escape(&c.peer),
            escape(c.client_id.as_deref().unwrap_or("")),
            c.consumers,
            c.open_transactions
        );
    }
    html += "</table></div>";
    Ok(render(
        &state,
        "Connections",
        Section::Connections,
        query.as_deref(),
        &html,
    ))
}

pub(super) async fn bridges(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let mut html = String::from(
        "<p class=\"muted\">Network bridges forward messages between brokers. FerroMQ does not implement network \
connectors (<code>[[network_connector]]</code>) yet, so there are none to show.</p>\
<div id=\"live-bridges\" data-live><table id=\"bridges\"><tr><th>Name</th><th>Remote</th><th>State</th><th class=\"n\">Forwarded</th></tr>",
    );
    let bridges = bridge_list();
    if bridges.is_empty() {
        html += "<tr><td colspan=\"4\" class=\"muted\">No network bridges.</td></tr>";
    }
    for b in &bridges {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
            escape(&b.name),
            escape(&b.remote),
            escape(&b.state),
            b.forwarded
        );
    }
    html += "</table></div>";
    Ok(render(
        &state,
        "Network bridges",
        Section::Bridges,
        query.as_deref(),
        &html,
    ))
}
