//! Domain types and pure rules (names, hash ranges, addressing). No HTTP, no sled.

pub mod assignment;
pub mod host;
pub mod names;
pub mod shard;
