//! Consumes content's stat and lifecycle events into the hot rankings, through the platform's
//! durable consumer loop ([`platform::consumer`]).
//!
//! Messages are applied one at a time, in stream order: two events of one video applied
//! concurrently could write their recomputed values to Redis in the wrong order.
//! `HotRankings` applies each event id once, so a redelivery changes nothing. A failure of
//! Postgres or Redis is retried (the loop pauses pulling while it lasts); an undecodable or
//! unknown message is dead-lettered.

use crate::domain::RankingError;
use crate::domain::rankings::HotRankings;
use platform::consumer::{Delivery, DurableConsumer, Failure, Handler, RetryPolicy};
use platform::events::{CONTENT_STREAM, STAT_EVENT_KIND, StatEvent, VIDEO_EVENT_KIND, VideoLifecycleEvent};
use platform::nats::Nats;

/// Durable consumer name (replicas share its work).
pub const DURABLE: &str = "ranking-hot";

/// Applies content events to the rankings.
pub struct ContentEvents {
    rankings: HotRankings,
    stat_subject: String,
    video_subject: String,
}

impl Handler for ContentEvents {
    async fn handle(&self, delivery: &Delivery) -> Result<(), Failure> {
        if delivery.subject == self.stat_subject {
            let event: StatEvent = delivery.decode()?;
            self.rankings.apply_stat_event(&event).await.map_err(classify)
        } else if delivery.subject == self.video_subject {
            let event: VideoLifecycleEvent = delivery.decode()?;
            self.rankings.apply_lifecycle_event(&event).await.map_err(classify)
        } else {
            Err(Failure::permanent(format!("no content event is published on {}", delivery.subject)))
        }
    }
}

/// A ranking error met while applying an event: the client-facing kinds are the event's
/// fault (they would repeat), internal ones are classified by their cause.
pub fn classify(error: RankingError) -> Failure {
    match error {
        RankingError::InvalidInput(_) | RankingError::NotFound(_) | RankingError::Forbidden(_) | RankingError::Conflict(_) => {
            Failure::permanent(error)
        }
        RankingError::Internal(cause) => Failure::classify(cause),
    }
}

/// The content-event consumer over `rankings`.
pub fn content_consumer(rankings: HotRankings, nats: &Nats) -> DurableConsumer<ContentEvents> {
    let handler = ContentEvents {
        rankings,
        stat_subject: CONTENT_STREAM.subject(nats, STAT_EVENT_KIND),
        video_subject: CONTENT_STREAM.subject(nats, VIDEO_EVENT_KIND),
    };
    DurableConsumer::new(CONTENT_STREAM, DURABLE, handler)
}

/// Runs the consumer until the task is dropped.
pub async fn run_content_consumer(rankings: HotRankings, nats: Nats, retry: RetryPolicy) {
    content_consumer(rankings, &nats).retry(retry).run(nats).await
}
