//! Client behaviour against a scripted fake broker: handshake, receipts, ERROR frames,
//! heart-beats and backpressure. End-to-end tests against the real broker live elsewhere.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fake_broker;
mod handshake;
mod heartbeat;
mod receipts;
mod session;
