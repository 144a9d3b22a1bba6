//! What `ranking` hears: content's events and live's gift events (JetStream), and weight
//! announcements (core NATS).

pub mod content;
pub mod gifts;
pub mod weights;
