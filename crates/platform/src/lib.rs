//! The platform every vidgraph subgraph is built on: configuration, backends (PostgreSQL,
//! Redis, NATS), identity, the error model, the HTTP/WebSocket server and telemetry.

pub mod auth;
pub mod batch;
pub mod clock;
pub mod config;
pub mod consumer;
pub mod db;
mod deps;
pub mod error;
pub mod events;
pub mod lease;
pub mod memory;
pub mod migrate;
pub mod nats;
pub mod outbox;
pub mod periodic;
pub mod rate_limit;
pub mod realtime;
pub mod redis;
pub mod request;
pub mod schema;
pub mod server;
pub mod status;
pub mod telemetry;
// Also in the crate's own unit tests (the lease tests need a database).
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

pub use deps::{BackendChecks, Deps, InitError};
pub use server::Application;
