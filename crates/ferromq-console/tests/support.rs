//! A small HTTP/1.1 client for the console tests (one connection per request, every wait
//! bounded by the testkit's `WAIT`), and helpers to read its answers.

use std::net::SocketAddr;

use base64::Engine;
use bytes::Bytes;
use ferromq_testkit::{CONSOLE_PASSWORD, CONSOLE_USER, WAIT};
use http_body_util::{BodyExt, Full};
use hyper::header::HeaderMap;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// An answer from the console.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {}", self.text()))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `error` text of a JSON error, after checking the status.
    #[track_caller]
    pub fn error(&self, status: u16) -> String {
        assert_eq!(self.status, status, "{}", self.text());
        self.json()["error"]
            .as_str()
            .expect("an error message")
            .to_owned()
    }
}

/// Who a request claims to be.
#[derive(Debug, Clone, Copy)]
pub enum As {
    Admin,
    Nobody,
    Wrong,
}

/// A console at `addr`.
#[derive(Debug, Clone, Copy)]
pub struct Console {
    pub addr: SocketAddr,
}

impl Console {
    pub async fn get(&self, path: &str) -> Reply {
        self.request(Method::GET, path, As::Admin, &[], Vec::new())
            .await
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Reply {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        self.request(
            Method::POST,
            path,
            As::Admin,
            &[("content-type", "application/x-www-form-urlencoded")],
            body.into_bytes(),
        )
        .await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.request(
            Method::POST,
            path,
            As::Admin,
            &[("content-type", "application/json")],
            body.to_string().into_bytes(),
        )
        .await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.request(Method::DELETE, path, As::Admin, &[], Vec::new())
            .await
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        who: As,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Reply {
        tokio::time::timeout(WAIT, self.exchange(method, path, who, headers, body))
            .await
            .unwrap_or_else(|_| panic!("no answer from {path} within {WAIT:?}"))
    }

    async fn exchange(
        &self,
        method: Method,
        path: &str,
        who: As,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Reply {
        let stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .expect("console accepts");
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("HTTP handshake");
        tokio::spawn(connection);
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", self.addr.to_string());
        let credentials = match who {
            As::Admin => Some(format!("{CONSOLE_USER}:{CONSOLE_PASSWORD}")),
            As::Wrong => Some(format!("{CONSOLE_USER}:not-the-password")),
            As::Nobody => None,
        };
        if let Some(credentials) = credentials {
            let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
            request = request.header("authorization", format!("Basic {encoded}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .expect("valid request");
        let response = sender.send_request(request).await.expect("response");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("response body")
            .to_bytes();
        Reply {
            status,
            headers,
            body,
        }
    }
}

/// The first line of `/metrics` that starts with `prefix`, with its value.
pub fn metric(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|line| line.starts_with(prefix))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}
