//! Integration tests for the journal, one binary (see STYLE.md): each module covers one
//! concern and uses temporary directories only.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod corruption;
mod crash;
mod group_commit;
mod lock;
mod model;
mod prealloc;
mod roundtrip;
mod segments;
mod shutdown;
