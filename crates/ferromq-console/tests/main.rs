//! End-to-end tests of the web console against a real broker started in-process by the
//! testkit (console on `127.0.0.1:0`): every page and endpoint, every error code, and a
//! headless Chromium session driving the pages as a person would.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod auth;
mod browser;
mod metrics;
mod pages;
mod rest;
mod support;
