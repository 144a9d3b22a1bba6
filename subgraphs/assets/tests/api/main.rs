//! Integration tests of `assets` against a local media server and the real PostgreSQL, Redis
//! and NATS (isolated per test by the platform testkit).

mod consumer;
mod fetch;
mod service;
mod ytdlp;
