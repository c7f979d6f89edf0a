//! End-to-end tests: the official SLS clients, unmodified, against an in-process emulator.
//!
//! They need `*.localhost` to resolve to loopback (libnss-myhostname), for the Python tests
//! the venv from `scripts/setup-python.sh`, and for the Java and Go tests the harnesses from
//! `scripts/build-harnesses.sh`; `scripts/test.sh` sets up all three. A test whose harness is
//! missing fails with the command that builds it (the Rust-only tests need none of them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cross_check;
mod faults;
mod least_privilege;
mod official_java_go;
mod official_python_consumer;
mod official_python_sdk;
mod official_query;
mod official_rust_producer;
mod official_rust_sdk;
