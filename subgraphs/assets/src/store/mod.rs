//! Where assets keeps things: PostgreSQL (`assets.*`), Redis (parse cache, quota counters,
//! progress) and the local disk.

pub mod cache;
pub mod downloads;
pub mod files;
