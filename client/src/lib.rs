//! `sls-client`: the Rust SLS client (API, producer, consumer-group worker).
//!
//! Not built yet: tracked by issue #4. The crate exists so the workspace has its final shape;
//! it deliberately exports nothing, so nothing can depend on a half-made API.
