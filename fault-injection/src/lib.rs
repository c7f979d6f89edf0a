//! `sls-fault-injection`: faults outside the emulator's request path.
//!
//! - [`proxy`]: a TCP/HTTP proxy with the Toxiproxy vocabulary (latency and jitter, bandwidth,
//!   reset_peer, timeout/blackhole, slicer, limit_data), per direction, changeable at run time,
//!   seeded.
//! - [`process`]: process faults from a harness: kill -9 and restart the emulator on the same
//!   data folder, pause and resume it (SIGSTOP/SIGCONT), kill and restart a consumer process.
//!
//! Faults on the emulator's request path (SLS errors before or after commit, latency, dropped
//! heartbeats, quotas, virtual time) live in the emulator itself (`sls_emulator::faults`).
#![warn(missing_docs)]

pub mod process;
pub mod proxy;
