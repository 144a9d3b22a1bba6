//! What assets tells others and itself: download tasks on a JetStream work queue (through the
//! outbox), archive events for `content` (through the outbox), and progress on core NATS.

pub mod archive;
pub mod progress;
pub mod tasks;
