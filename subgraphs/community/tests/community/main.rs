//! The community subgraph against real PostgreSQL, Redis and NATS (one isolated set per test),
//! driven through its executable schema.

mod dynamics;
mod follows;
mod inbox;
mod moderation;
mod posts;
mod reports;
mod review;
mod world;
