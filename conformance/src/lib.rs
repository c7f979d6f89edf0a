//! `sls-conformance`: one run tells whether an endpoint behaves like Alibaba Cloud Simple Log
//! Service (SLS). It runs against the sls-emu emulator (in-process in CI) or a real SLS
//! endpoint over https, and reports pass/fail/skip per case with expected and observed values.
//!
//! Map of the crate:
//!
//! | module | job |
//! |---|---|
//! | [`target`] | [`Target`]: endpoint, keys, signature version, region, `connect_to` |
//! | [`client`] | [`Client`], [`Request`], [`Sign`]: a small signed HTTP client (reqwest + `sls-protocol`) that never interprets answers |
//! | [`case`] | [`Case`], [`Group`], [`Outcome`], [`CaseCtx`]: the case model and the checks cases record |
//! | `cases` | the registry ([`registry`]): one module per API group, each case with its id, behaviour and source |
//! | [`runner`] | [`run`]: project and fixture setup, running, cleanup (also after failures) |
//! | [`report`] | [`Report`]: JSON, Markdown and terminal output |
//! | `error` | [`Error`], the crate's only error type |
//!
//! What a case checks comes from `shared/protocol/SLS-API.md` (and `CONSUMERS-AND-PRODUCERS.md`)
//! or from real client captures, never from what the emulator happens to do.
//!
//! # Example
//!
//! ```no_run
//! use sls_conformance::{run, Group, RunOptions, Selection, Target};
//!
//! # async fn example() -> Result<(), sls_conformance::Error> {
//! let target = Target::new("localhost:18080", "sls-emu-access-key-id", "sls-emu-access-key-secret")?;
//! let mut options = RunOptions::new(target);
//! options.selection = Selection::only(&[Group::Put, Group::Pull]);
//! let report = run(&options).await?;
//! println!("{}", report.to_markdown());
//! assert!(!report.has_failures());
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

pub mod case;
mod cases;
pub mod client;
mod error;
pub mod report;
pub mod runner;
pub mod target;

pub use case::{Case, CaseCtx, Group, Outcome};
pub use cases::registry;
pub use client::{Client, Request, Response, Sign};
pub use error::Error;
pub use report::Report;
pub use runner::{run, RunOptions, Selection};
pub use target::{SignVersion, Target};
