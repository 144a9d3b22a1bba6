//! Consumes `community`'s follow events into the `content.follows` projection, through the
//! platform's durable consumer loop ([`platform::consumer`]).
//!
//! A message is acked only after its change is committed, so a crash redelivers it, and
//! applying a change twice is harmless (the projection keeps the latest `changed_at`). A
//! database outage is retried (the loop pauses pulling while it lasts); an undecodable message
//! is dead-lettered.

use crate::store::follows;
use platform::consumer::{Delivery, DurableConsumer, Failure, Handler, RetryPolicy};
use platform::db::Db;
use platform::events::{FOLLOW_STREAM, FollowEvent};
use platform::nats::Nats;

/// Durable consumer name (one per deployment: replicas share the work).
pub const DURABLE: &str = "content-follows";

/// Applies follow events to the projection.
pub struct FollowEvents {
    db: Db,
}

impl Handler for FollowEvents {
    async fn handle(&self, delivery: &Delivery) -> Result<(), Failure> {
        let event: FollowEvent = delivery.decode()?;
        let mut conn = self.db.pool.get().await.map_err(Failure::transient)?;
        follows::apply(&mut conn, event.follower_id, event.followee_id, event.following, event.changed_at)
            .await
            .map_err(Failure::classify)?;
        Ok(())
    }
}

/// The follow-projection consumer over `db`.
pub fn follow_consumer(db: Db) -> DurableConsumer<FollowEvents> {
    DurableConsumer::new(FOLLOW_STREAM, DURABLE, FollowEvents { db })
}

/// Runs the consumer until the task is dropped.
pub async fn run_follow_projection(db: Db, nats: Nats, retry: RetryPolicy) {
    follow_consumer(db).retry(retry).run(nats).await
}
