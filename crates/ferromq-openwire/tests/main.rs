//! Integration tests for `ferromq-openwire`: golden bytes from the genuine ActiveMQ 5.17 Java
//! client and broker, property-based round trips, and robustness against arbitrary input.

mod command_strategies;
mod golden;
mod marshalled;
mod robustness;
mod roundtrip;
mod strategies;
