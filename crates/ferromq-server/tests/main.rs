//! End-to-end tests of the broker over real sockets with the Rust STOMP client. The stomp.py
//! suite (tests/python) covers the protocol surface; these cover what needs precise control:
//! flow control, fairness, shutdown draining, connection limits and restarts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod dispatch;
mod flow_control;
mod lifecycle;
mod openwire;
mod paging;
mod store;
