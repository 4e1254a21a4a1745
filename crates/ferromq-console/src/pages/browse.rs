//! One queue's page: its numbers, a send form, and its messages with headers, properties and
//! body, each with delete, move and (for dead letters) retry buttons.

use std::fmt::Write;

use axum::extract::{Path, RawQuery, State};

use super::layout::{self, escape, query_escape, Section};
use super::views::{render, PageResult};
use crate::api::{browse_messages, parse_limit, unknown_queue};
use crate::model::{self, MessageView};
use crate::state::AppState;

/// Text shown of a body before it is cut, so a huge message cannot make a huge page.
const BODY_PREVIEW: usize = 4096;

fn timestamp(ms: i64) -> String {
    if ms <= 0 {
        return "never".to_owned();
    }
    // Seconds and milliseconds since the epoch, shown as UTC without a date library.
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rest = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{millis:03} UTC",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn body_preview(m: &MessageView) -> String {
    match (m.body.as_deref(), m.body_base64.as_deref()) {
        (Some(text), _) => {
            let cut = text
                .char_indices()
                .nth(BODY_PREVIEW)
                .map_or(text.len(), |(i, _)| i);
            let more = if cut < text.len() {
                format!(
                    "\n… {} more bytes (see the JSON API for all of it)",
                    text.len() - cut
                )
            } else {
                String::new()
            };
            format!(
                "<pre class=\"body\">{}{}</pre>",
                escape(&text[..cut]),
                escape(&more)
            )
        }
        (None, Some(_)) => format!(
            "<p class=\"muted\">{} body of {} bytes (body_base64 in the JSON API)</p>",
            m.body_kind, m.body_size
        ),
        _ => "<p class=\"muted\">empty body</p>".to_owned(),
    }
}

fn message_html(queue: &str, back: &str, m: &MessageView) -> String {
    let mut rows = vec![
        ("Message id", m.id.clone()),
        ("Priority", m.priority.to_string()),
        ("Persistent", m.persistent.to_string()),
        ("Timestamp", timestamp(m.timestamp)),
        ("Expires", timestamp(m.expiration)),
        ("Delivery count", m.delivery_count.to_string()),
        (
            "State",
            if m.in_flight {
                "delivered, awaiting ack".into()
            } else {
                "pending".into()
            },
        ),
    ];
    for (label, value) in [
        ("Correlation id", &m.correlation_id),
        ("Type", &m.message_type),
        ("Reply to", &m.reply_to),
        ("Original destination", &m.original_destination),
        ("Group", &m.group_id),
        ("User", &m.user_id),
    ] {
        if let Some(value) = value {
            rows.push((label, value.clone()));
        }
    }
    // Headers and properties as a grid of name/value pairs: several per line, so a page
    // holds more than a message or two.
    let mut html = String::from("<div class=\"message\"><dl class=\"headers\">");
    for (label, value) in rows {
        let _ = write!(
            html,
            "<div><dt>{label}</dt><dd>{}</dd></div>",
            escape(&value)
        );
    }
    for (name, value) in &m.properties {
        let shown = match value {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let _ = write!(
            html,
            "<div class=\"property\"><dt>{}</dt><dd>{}</dd></div>",
            escape(name),
            escape(&shown)
        );
    }
    html += "</dl>";
    html += &body_preview(m);
    if !m.in_flight {
        let base = format!(
            "/queues/{}/messages/{}",
            query_escape(queue),
            query_escape(&m.id)
        );
        html += &layout::action_form(
            &format!("{base}/delete"),
            back,
            "Delete",
            Some("Delete this message?"),
            "",
        );
        html += &layout::action_form(
            &format!("{base}/move"),
            back,
            "Move",
            None,
            "<input name=\"to\" placeholder=\"target queue\" required>",
        );
        if m.original_destination.is_some() {
            html += &layout::action_form(&format!("{base}/retry"), back, "Retry", None, "");
        }
    }
    html += "</div>";
    html
}

pub(super) async fn queue(
    State(state): State<AppState>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let limit = parse_limit(query.as_deref())?;
    let stats = state.context.broker.stats().await?;
    let view = model::find_queue(&stats, &name).ok_or_else(|| unknown_queue(&name))?;
    let messages = browse_messages(&state, &name, limit).await?;
    let back = format!("/queues/{}", query_escape(&name));
    let mut html = format!(
        "<div id=\"live-queue\" data-live><div class=\"cards\">\
<div class=\"card stat\"><div class=\"label\">Pending</div><div class=\"value\" id=\"queue-pending\">{}</div></div>\
<div class=\"card stat\"><div class=\"label\">In flight</div><div class=\"value\">{}</div></div>\
<div class=\"card stat\"><div class=\"label\">Consumers</div><div class=\"value\">{}</div></div>\
<div class=\"card stat\"><div class=\"label\">Enqueued / dequeued</div><div class=\"value\">{} / {}</div></div>\
<div class=\"card stat\"><div class=\"label\">Expired / dead-lettered</div><div class=\"value\">{} / {}</div></div>\
</div></div>",
        view.pending, view.in_flight, view.consumers, view.enqueued, view.dequeued, view.expired, view.dead_lettered
    );
    html += &layout::action_form(
        &format!("{back}/purge"),
        &back,
        "Purge",
        Some("Delete every pending message of this queue?"),
        "",
    );
    html += &layout::action_form(
        &format!("{back}/delete"),
        &back,
        "Delete queue",
        Some("Delete this queue and its messages?"),
        "",
    );
    html += &layout::send_form("queue", Some(&name), &back);
    let _ = write!(
        html,
        "<div id=\"live-messages\" data-live><h2>Messages <span class=\"muted\">({} shown, at most {limit})</span></h2>",
        messages.len()
    );
    if messages.is_empty() {
        html += "<p class=\"muted\">No messages.</p>";
    }
    for m in &messages {
        html += &message_html(&name, &back, m);
    }
    html += "</div>";
    Ok(render(
        &state,
        &format!("Queue {name}"),
        Section::Queues,
        query.as_deref(),
        &html,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_render_in_utc() {
        assert_eq!(timestamp(0), "never");
        assert_eq!(timestamp(1_000), "1970-01-01 00:00:01.000 UTC");
        assert_eq!(timestamp(1_709_210_096_789), "2024-02-29 12:34:56.789 UTC");
    }
}
