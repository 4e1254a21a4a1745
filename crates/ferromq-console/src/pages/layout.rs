//! The frame every page shares — navigation, style, and the small script that refreshes the
//! numbers and submits forms in place — plus escaping and formatting helpers. Everything is
//! inline: the console works with no network access beyond the broker itself.

use std::fmt::Write;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// What stays readable in a URL path segment or query value; everything else is encoded.
const URL_SAFE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Text made safe inside HTML elements and quoted attributes.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One path segment or query value, percent-encoded.
pub(crate) fn query_escape(text: &str) -> String {
    utf8_percent_encode(text, URL_SAFE).to_string()
}

/// `1.5 MiB` and the like.
pub(crate) fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut unit = 0;
    // Display only: precision past 2^53 bytes does not matter.
    #[allow(clippy::cast_precision_loss)]
    let mut value = n as f64;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `3d 4h 5m 6s`, leaving out leading zero parts.
pub(crate) fn duration(seconds: u64) -> String {
    let (d, h, m, s) = (
        seconds / 86_400,
        seconds / 3600 % 24,
        seconds / 60 % 60,
        seconds % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m {s}s"),
        _ => format!("{d}d {h}h {m}m {s}s"),
    }
}

/// The top-level sections, for the navigation bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Overview,
    Queues,
    Topics,
    Subscribers,
    Connections,
    Bridges,
}

const SECTIONS: [(Section, &str, &str); 6] = [
    (Section::Overview, "/", "Overview"),
    (Section::Queues, "/queues", "Queues"),
    (Section::Topics, "/topics", "Topics"),
    (Section::Subscribers, "/subscribers", "Subscribers"),
    (Section::Connections, "/connections", "Connections"),
    (Section::Bridges, "/bridges", "Network"),
];

/// A notice or error carried to a page after a form post without JavaScript.
#[derive(Debug, Default)]
pub(crate) struct Flash {
    pub notice: Option<String>,
    pub error: Option<String>,
}

/// A whole page around `content`.
pub(crate) fn page(
    broker: &str,
    title: &str,
    section: Section,
    flash: &Flash,
    content: &str,
) -> String {
    let mut nav = String::new();
    for (s, href, label) in SECTIONS {
        let class = if s == section {
            " class=\"active\""
        } else {
            ""
        };
        let _ = write!(nav, "<a href=\"{href}\"{class}>{label}</a>");
    }
    let mut banner = String::new();
    if let Some(notice) = &flash.notice {
        let _ = write!(banner, "<p class=\"notice\">{}</p>", escape(notice));
    }
    if let Some(error) = &flash.error {
        let _ = write!(banner, "<p class=\"error\">{}</p>", escape(error));
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} · {broker} · FerroMQ</title><style>{STYLE}</style></head>\
<body><header><span class=\"brand\">FerroMQ</span><span class=\"broker\">{broker}</span>\
<nav>{nav}</nav><span id=\"live-status\" class=\"status\"></span>\
<form method=\"post\" action=\"/logout\" class=\"logout\"><button>Log out</button></form></header>\
<main><h1>{title}</h1><div id=\"flash\">{banner}</div>{content}</main>\
<script>{SCRIPT}</script></body></html>",
        title = escape(title),
        broker = escape(broker),
    )
}

/// The login form; `error` after a failed attempt.
pub(crate) fn login(next: &str, error: Option<&str>) -> String {
    let error = error.map_or(String::new(), |e| {
        format!("<p class=\"error\">{}</p>", escape(e))
    });
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Log in · FerroMQ</title>\
<style>{STYLE}</style></head><body class=\"login\"><main><h1>FerroMQ console</h1>{error}\
<form method=\"post\" action=\"/login\" class=\"card\">\
<input type=\"hidden\" name=\"next\" value=\"{next}\">\
<label>User <input name=\"user\" id=\"user\" autocomplete=\"username\" autofocus required></label>\
<label>Password <input name=\"password\" id=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
<button type=\"submit\" id=\"login\">Log in</button></form>\
<p class=\"hint\">Scripts can use HTTP basic authentication with the same credentials.</p></main></body></html>",
        next = escape(next),
    )
}

/// A `<form>` that posts to `action` in place (see the script) and comes back to `back` when
/// JavaScript is off. `confirm` asks first, and marks the button as destructive.
pub(crate) fn action_form(
    action: &str,
    back: &str,
    label: &str,
    confirm: Option<&str>,
    fields: &str,
) -> String {
    let (class, confirm) = match confirm {
        Some(c) => ("inline danger", format!(" data-confirm=\"{}\"", escape(c))),
        None => ("inline", String::new()),
    };
    format!(
        "<form method=\"post\" action=\"{}\" class=\"{class}\" data-async{confirm}>\
<input type=\"hidden\" name=\"back\" value=\"{}\">{fields}<button>{}</button></form>",
        escape(action),
        escape(back),
        escape(label)
    )
}

/// The send form for a queue or topic; `fixed` names the destination and hides the field
/// (and the form starts folded, leaving the room to the queue's messages).
pub(crate) fn send_form(kind: &str, fixed: Option<&str>, back: &str) -> String {
    let open = if fixed.is_some() { "" } else { " open" };
    let destination = match fixed {
        Some(name) => format!("<input type=\"hidden\" name=\"destination\" value=\"{}\">", escape(name)),
        None => format!(
            "<label>{} <input name=\"destination\" id=\"send-destination\" required placeholder=\"orders.eu\"></label>",
            if kind == "topic" { "Topic" } else { "Queue" }
        ),
    };
    format!(
        "<details class=\"card\"{open}><summary>Send a message</summary>\
<form method=\"post\" action=\"/actions/send\" id=\"send-form\" data-async data-reset=\"body\">\
<input type=\"hidden\" name=\"kind\" value=\"{kind}\"><input type=\"hidden\" name=\"back\" value=\"{back}\">\
{destination}\
<label class=\"wide\">Body <textarea name=\"body\" id=\"send-body\" rows=\"4\"></textarea></label>\
<label>Priority <input name=\"priority\" type=\"number\" min=\"0\" max=\"9\" value=\"4\"></label>\
<label>Time to live (ms, 0 = never) <input name=\"ttl\" type=\"number\" min=\"0\" value=\"0\"></label>\
<label class=\"check\"><input name=\"persistent\" type=\"checkbox\" value=\"true\" checked> Persistent</label>\
<label class=\"wide\">Properties (name=value per line) <textarea name=\"properties\" rows=\"2\"></textarea></label>\
<button type=\"submit\" id=\"send-button\">Send</button></form></details>",
        back = escape(back),
    )
}

const STYLE: &str = "
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,sans-serif;color:#1d2330;background:#f4f6f9}
header{display:flex;align-items:center;gap:1rem;padding:.6rem 1.2rem;background:#1d2a44;color:#fff;flex-wrap:wrap}
.brand{font-weight:700;font-size:1.1rem;color:#ffb454}.broker{opacity:.8}
nav{display:flex;gap:.2rem;flex:1}nav a{color:#d8deea;text-decoration:none;padding:.3rem .6rem;border-radius:4px}
nav a.active,nav a:hover{background:#33436a;color:#fff}.status{font-size:.8rem;opacity:.75}
.logout button{background:none;border:1px solid #6b7a9c;color:#fff}
main{padding:1rem 1.4rem;max-width:1400px}h1{font-size:1.4rem;margin:.2rem 0 1rem}h2{font-size:1.1rem}
table{border-collapse:collapse;width:100%;background:#fff;margin-bottom:1rem}
th,td{padding:.35rem .6rem;border-bottom:1px solid #e3e7ee;text-align:left;vertical-align:top}
th{background:#eef1f6;font-weight:600}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.card{background:#fff;border:1px solid #dde2ea;border-radius:6px;padding:.8rem 1rem;margin-bottom:1rem}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:.8rem;margin-bottom:1rem}
.stat .label{font-size:.8rem;color:#5b6475}.stat .value{font-size:1.3rem;font-weight:600}
.bar{height:6px;background:#e3e7ee;border-radius:3px;margin-top:.3rem}.bar span{display:block;height:6px;background:#3d7be0;border-radius:3px}
form label{display:inline-flex;flex-direction:column;margin:0 .8rem .6rem 0;font-size:.85rem;color:#414a5c}
form label.wide{display:flex}form label.check{flex-direction:row;gap:.3rem;align-items:center}
input,textarea,select{font:inherit;padding:.3rem .4rem;border:1px solid #c5ccd8;border-radius:4px}
textarea{width:100%}button{font:inherit;padding:.3rem .8rem;border-radius:4px;border:1px solid #2f5fb3;background:#3d7be0;color:#fff;cursor:pointer}
form.inline{display:inline-flex;gap:.3rem;align-items:center;margin:0 .3rem .2rem 0}form.inline input{width:10rem}
form.inline button{padding:.15rem .5rem;font-size:.85rem}button.danger,form.danger button{background:#c9423a;border-color:#a3322b}
.notice{background:#e3f4e6;border:1px solid #9bd0a5;padding:.5rem .8rem;border-radius:4px}
.error{background:#fbe6e4;border:1px solid #e3a29c;padding:.5rem .8rem;border-radius:4px}
.muted{color:#6b7385}.badge{display:inline-block;padding:0 .4rem;border-radius:3px;font-size:.8rem;background:#e3e7ee}
.badge.on{background:#d5f0da}.badge.off{background:#f6e3c8}
pre{background:#f7f8fa;border:1px solid #e3e7ee;padding:.5rem;white-space:pre-wrap;word-break:break-all;max-height:20rem;overflow:auto;margin:.3rem 0}
.message{background:#fff;border:1px solid #dde2ea;border-radius:6px;padding:.6rem .9rem;margin-bottom:.8rem}
dl.headers{display:grid;grid-template-columns:repeat(auto-fill,minmax(17rem,1fr));gap:.1rem .8rem;margin:0 0 .4rem}
dl.headers div{display:flex;gap:.5rem;border-bottom:1px solid #eef1f6;padding:.15rem 0;min-width:0}
dt{font-weight:600;color:#414a5c;white-space:nowrap}dd{margin:0;overflow-wrap:anywhere}
dl.headers div.property dt{color:#2f5fb3}
body.login main{max-width:360px;margin:8vh auto}body.login form label{display:flex}.hint{font-size:.8rem;color:#6b7385}
";

/// Live numbers: every two seconds the script fetches the page again and swaps in each
/// `[data-live]` element (skipping one the user is typing in). Forms marked `data-async` post
/// with fetch and show the answer in place, so nothing reloads.
const SCRIPT: &str = r#"
(function () {
  var busy = false;
  function say(kind, text) {
    var flash = document.getElementById('flash');
    var p = document.createElement('p');
    p.className = kind; p.textContent = text;
    flash.replaceChildren(p);
  }
  function refresh() {
    var regions = document.querySelectorAll('[data-live]');
    if (busy || !regions.length || document.hidden) return Promise.resolve();
    busy = true;
    return fetch(location.href, {cache: 'no-store', credentials: 'same-origin'})
      .then(function (r) {
        if (r.redirected || r.status === 401) { location.reload(); return null; }
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.text();
      })
      .then(function (html) {
        if (html === null) return;
        var fresh = new DOMParser().parseFromString(html, 'text/html');
        regions.forEach(function (old) {
          var next = fresh.getElementById(old.id);
          if (next && !old.contains(document.activeElement)) old.replaceWith(next);
        });
        document.getElementById('live-status').textContent =
          'updated ' + new Date().toLocaleTimeString();
      })
      .catch(function (e) {
        document.getElementById('live-status').textContent = 'refresh failed: ' + e.message;
      })
      .finally(function () { busy = false; });
  }
  setInterval(refresh, 2000);
  document.addEventListener('submit', function (ev) {
    var form = ev.target;
    if (!form.hasAttribute('data-async')) return;
    ev.preventDefault();
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    fetch(form.action, {
      method: 'POST', credentials: 'same-origin',
      headers: {'X-Requested-With': 'fetch'},
      body: new URLSearchParams(new FormData(form))
    })
      .then(function (r) { return r.json().then(function (j) { return [r.ok, j]; }); })
      .then(function (answer) {
        var ok = answer[0], j = answer[1];
        if (!ok) { say('error', j.error || 'failed'); return; }
        if (j.redirect) { location.href = j.redirect; return; }
        say('notice', j.notice || 'done');
        if (form.dataset.reset) {
          var field = form.elements[form.dataset.reset];
          if (field) field.value = '';
        }
        return refresh();
      })
      .catch(function (e) { say('error', 'request failed: ' + e.message); });
  });
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_formatting() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(query_escape("ID:b-1:2/x y"), "ID%3Ab-1%3A2%2Fx%20y");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(3 << 20), "3.0 MiB");
        assert_eq!(duration(59), "59s");
        assert_eq!(duration(3661), "1h 1m 1s");
        assert_eq!(duration(90_061), "1d 1h 1m 1s");
    }
}
