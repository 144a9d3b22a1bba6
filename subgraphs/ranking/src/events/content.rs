//! Consumes content's stat and lifecycle events into the hot rankings.
//!
//! A durable JetStream consumer with explicit acks: a message is acked only once applied, so a
//! crash redelivers it, and `HotRankings` applies each event id once. Messages are applied one
//! at a time: two events of one video applied concurrently could write their recomputed values
//! to Redis in the wrong order. An undecodable message is terminated (logged and counted as a
//! dead letter); one that keeps failing stops being redelivered after `MAX_DELIVER` attempts.

use crate::domain::rankings::HotRankings;
use async_nats::jetstream::AckKind;
use futures::StreamExt;
use platform::events::{CONTENT_STREAM, STAT_EVENT_KIND, StatEvent, VIDEO_EVENT_KIND, VideoLifecycleEvent};
use platform::nats::Nats;
use std::time::Duration;

/// Durable consumer name (replicas share its work).
const DURABLE: &str = "ranking-hot";
/// Deliveries before JetStream gives up on a message.
const MAX_DELIVER: i64 = 10;

/// Runs the consumer until the task is dropped, reconnecting after failures.
pub async fn run_content_consumer(rankings: HotRankings, nats: Nats) {
    loop {
        if let Err(error) = consume(&rankings, &nats).await {
            tracing::warn!(error = format!("{error:#}"), "content event consumer failed; restarting");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn consume(rankings: &HotRankings, nats: &Nats) -> anyhow::Result<()> {
    let consumer = CONTENT_STREAM.durable_consumer(nats, DURABLE, MAX_DELIVER, 1000).await?;
    let stat_subject = CONTENT_STREAM.subject(nats, STAT_EVENT_KIND);
    let video_subject = CONTENT_STREAM.subject(nats, VIDEO_EVENT_KIND);
    let mut messages = consumer.messages().await?;
    while let Some(message) = messages.next().await {
        let message = message.map_err(|e| anyhow::anyhow!(e))?;
        let subject = message.subject.as_str();
        let applied = if subject == stat_subject {
            match serde_json::from_slice::<StatEvent>(&message.payload) {
                Ok(event) => Some(rankings.apply_stat_event(&event).await),
                Err(_) => None,
            }
        } else if subject == video_subject {
            match serde_json::from_slice::<VideoLifecycleEvent>(&message.payload) {
                Ok(event) => Some(rankings.apply_lifecycle_event(&event).await),
                Err(_) => None,
            }
        } else {
            None
        };
        match applied {
            Some(Ok(())) => message.ack().await.map_err(|e| anyhow::anyhow!(e))?,
            Some(Err(error)) => {
                // Not acked: JetStream redelivers it after `ack_wait`.
                tracing::warn!(%subject, error = %platform::error::DisplayChain(&error), "could not apply a content event");
                message.ack_with(AckKind::Nak(Some(Duration::from_secs(1)))).await.map_err(|e| anyhow::anyhow!(e))?;
            }
            None => {
                tracing::error!(%subject, "dead letter: undecodable or unknown content event");
                metrics::counter!("dead_letters_total", "consumer" => DURABLE).increment(1);
                message.ack_with(AckKind::Term).await.map_err(|e| anyhow::anyhow!(e))?;
            }
        }
    }
    Ok(())
}
