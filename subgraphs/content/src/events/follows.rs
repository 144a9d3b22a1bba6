//! Consumes `community`'s follow events into the `content.follows` projection.
//!
//! A durable JetStream consumer with explicit acks: a message is acked only after its change is
//! committed, so a crash redelivers it, and applying a change twice is harmless (the
//! projection keeps the latest `changed_at`). An undecodable message is terminated (logged and
//! counted as a dead letter) instead of being redelivered forever.

use crate::store::follows;
use async_nats::jetstream::AckKind;
use futures::StreamExt;
use platform::db::Db;
use platform::events::{FOLLOW_STREAM, FollowEvent};
use platform::nats::Nats;
use std::time::Duration;

/// Durable consumer name (one per deployment: replicas share the work).
const DURABLE: &str = "content-follows";
/// Deliveries before JetStream gives up on a message that keeps failing.
const MAX_DELIVER: i64 = 10;
/// Pause before reconnecting after the consumer failed.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Runs the consumer until the task is dropped, reconnecting after failures.
pub async fn run_follow_projection(db: Db, nats: Nats) {
    loop {
        if let Err(error) = consume(&db, &nats).await {
            tracing::warn!(error = format!("{error:#}"), "follow projection consumer failed; restarting");
        }
        tokio::time::sleep(RETRY_AFTER).await;
    }
}

async fn consume(db: &Db, nats: &Nats) -> anyhow::Result<()> {
    let consumer = FOLLOW_STREAM.durable_consumer(nats, DURABLE, MAX_DELIVER, 1000).await?;
    let mut messages = consumer.messages().await?;
    while let Some(message) = messages.next().await {
        let message = message.map_err(|e| anyhow::anyhow!(e))?;
        let event: FollowEvent = match serde_json::from_slice(&message.payload) {
            Ok(event) => event,
            Err(error) => {
                tracing::error!(subject = %message.subject, %error, "dead letter: undecodable follow event");
                metrics::counter!("dead_letters_total", "consumer" => DURABLE).increment(1);
                message.ack_with(AckKind::Term).await.map_err(|e| anyhow::anyhow!(e))?;
                continue;
            }
        };
        let mut conn = db.pool.get().await?;
        follows::apply(&mut conn, event.follower_id, event.followee_id, event.following, event.changed_at).await?;
        message.ack().await.map_err(|e| anyhow::anyhow!(e))?;
    }
    Ok(())
}
