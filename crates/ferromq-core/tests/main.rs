//! Broker-core behaviour through the same `Session` API the protocol adapters use, without
//! sockets: redelivery and dead-lettering, transactions, expiry, exclusive and wildcard
//! consumers, temporary destinations, durable subscriptions.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod admin;
mod openwire_semantics;
mod redelivery;
mod routing;
mod transactions;
