//! Consumes `assets`' archive events into the `content.asset_refs` projection, through the
//! platform's durable consumer loop, so that `createVideo(assetRef:)` accepts only a finished
//! archive download of the same user without calling `assets` at request time.
//!
//! A message is acked only after its change is committed, and applying it twice is harmless
//! (the projection keeps the latest `occurred_at`). A database outage is retried; an
//! undecodable message is dead-lettered.

use crate::store::asset_refs;
use platform::consumer::{Delivery, DurableConsumer, Failure, Handler, RetryPolicy};
use platform::db::Db;
use platform::events::{ASSET_STREAM, AssetAction, AssetEvent};
use platform::nats::Nats;

/// Durable consumer name (one per deployment: replicas share the work).
pub const DURABLE: &str = "content-assets";

/// Applies archive events to the projection.
pub struct AssetEvents {
    db: Db,
}

impl Handler for AssetEvents {
    async fn handle(&self, delivery: &Delivery) -> Result<(), Failure> {
        let event: AssetEvent = delivery.decode()?;
        let mut conn = self.db.pool.get().await.map_err(Failure::transient)?;
        let archived = event.action == AssetAction::Archived;
        asset_refs::apply(&mut conn, &event.asset_ref, event.owner_id, event.task_id, archived, event.occurred_at)
            .await
            .map_err(Failure::classify)?;
        Ok(())
    }
}

/// Runs the consumer until the task is dropped.
pub async fn run_asset_projection(db: Db, nats: Nats, retry: RetryPolicy) {
    DurableConsumer::new(ASSET_STREAM, DURABLE, AssetEvents { db }).retry(retry).run(nats).await
}
