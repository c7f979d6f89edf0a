//! `sls-client`: a Rust client for Alibaba Cloud Simple Log Service (SLS), works against real
//! SLS (https) and the sls-emu emulator.
//!
//! - [`Client`]: every API the emulator serves, v1 (default) or v4 signatures, STS tokens,
//!   lz4/zstd/deflate, typed [`Error`]s that keep the SLS code, message, status and request id,
//!   and one retry rule, [`Error::is_retryable`].
#![warn(missing_docs)]
#![doc = include_str!("../README.md")]

pub mod api;
mod client;
mod config;
pub mod consumer;
mod error;
pub mod exactly_once;
pub mod producer;

pub use api::*;
pub use client::{connect_to_resolver, Body, Client, ConnectTo, Request, Response};
pub use config::{Config, Endpoint, Scheme, SignVersion};
pub use consumer::{Batch, ConsumerConfig, Processed, Processor, StartPosition, Worker};
pub use error::{Error, Result};
pub use exactly_once::{Commit, ExactlyOnce, SledSink, TransactionalSink};
pub use producer::{BatchKey, Delivery, Producer, ProducerConfig};
pub use sls_protocol::compression::CompressType;
pub use sls_protocol::proto::{Log, LogContent, LogGroup, LogTag};
