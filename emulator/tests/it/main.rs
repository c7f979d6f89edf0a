//! Integration tests of the emulator over real sockets: one binary, one module per concern.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod addressing;
mod auth;
mod bad_input;
mod consumer_groups;
mod durability;
mod faults;
mod memory;
mod query;
mod router;
mod seqid;
mod shards;
mod support;
mod time;
