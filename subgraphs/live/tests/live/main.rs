//! Integration tests of `live`'s services against this test's own PostgreSQL database and NATS
//! prefix: money (concurrent gifts against one wallet, replayed and raced payment callbacks)
//! and PK timers on two replicas.

mod danmaku;
mod entities;
mod harness;
mod medals;
mod money;
mod pk_timers;
