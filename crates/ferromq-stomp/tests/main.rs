//! Property tests for the STOMP codec: round trips, split input and hostile bytes.

#![allow(clippy::unwrap_used)]

mod robustness;
mod roundtrip;
mod strategies;
