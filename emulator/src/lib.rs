//! sls-emu: a local emulator of Alibaba Cloud Simple Log Service (SLS / LogHub) that official
//! clients talk to unmodified.
//!
//! Map of the crate:
//! - [`server`]: [`Emulator`] — bind, serve, shut down; the binary is a thin wrapper.
//! - [`action`]: the action table — every SLS API, parsed once per request into an `Action`.
//! - `api`: HTTP only — [`app`], the request path (request id, Host → project, signature
//!   check, body limit, action, faults), one exhaustive dispatch, one handler file per group.
//! - [`model`]: names, hash ranges, addressing rules; pure.
//! - [`storage`]: sled + in-memory catalog + group commit; durable before acknowledgement.
//! - [`error`]: the SLS error table.
//! - [`access`]: access keys, STS credentials, RAM policies; who may call what.
//! - [`faults`]: fault rules on the request path, quotas, the journal (admin API `/_sls-emu`).
//! - [`clock`]: injectable time.
//! - [`config`]: flags and env vars; the config file.
//! - `testing` (feature `test-util`): in-process test server.
//!
//! The wire format (protobuf, compression, signatures, cursors) is the `sls-protocol` crate,
//! shared with the client.
#![warn(missing_docs)]

pub mod access;
pub mod action;
mod api;
pub mod clock;
pub mod config;
pub mod error;
pub mod faults;
pub mod model;
pub mod query;
pub mod server;
pub mod state;
pub mod storage;
#[cfg(feature = "test-util")]
pub mod testing;

pub use api::app;
pub use config::Config;
pub use server::{Emulator, ServerError};
