//! What `ranking` hears: content's events (JetStream) and weight announcements (core NATS).

pub mod content;
pub mod weights;
