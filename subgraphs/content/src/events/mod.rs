//! What `content` tells others: real-time account changes over core NATS (`users`) and the
//! catalogue's stat and lifecycle events through the outbox to JetStream (`catalogue`).

pub mod catalogue;
pub mod users;

pub use self::catalogue::CatalogueEvents;
pub use self::users::UserEvents;
