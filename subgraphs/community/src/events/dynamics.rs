//! Consumes live's room events and content's video events into streamer dynamics, through the
//! platform's durable consumer loop ([`platform::consumer`]).
//!
//! The dynamics service makes at most one dynamic per source (a live session, a video: a
//! unique key), so a redelivered event changes nothing. A failure of Postgres is retried (the
//! loop pauses pulling while it lasts); an undecodable message is dead-lettered. Content's
//! stream also carries stat events, which are acknowledged and ignored.

use crate::domain::CommunityError;
use crate::domain::dynamics::Dynamics;
use platform::consumer::{Delivery, DurableConsumer, Failure, Handler, RetryPolicy};
use platform::events::{CONTENT_STREAM, ROOM_EVENT_KIND, ROOM_STREAM, RoomEvent, VIDEO_EVENT_KIND, VideoLifecycleEvent};
use platform::nats::Nats;

/// Durable consumer of room events (replicas share its work).
pub const ROOM_DURABLE: &str = "community-dynamics-rooms";
/// Durable consumer of content events.
pub const VIDEO_DURABLE: &str = "community-dynamics-videos";

/// Turns events into dynamics.
pub struct DynamicSources {
    dynamics: Dynamics,
    room_subject: String,
    video_subject: String,
}

impl Handler for DynamicSources {
    async fn handle(&self, delivery: &Delivery) -> Result<(), Failure> {
        if delivery.subject == self.room_subject {
            let event: RoomEvent = delivery.decode()?;
            self.dynamics.from_room_event(&event).await.map(|_| ()).map_err(classify)
        } else if delivery.subject == self.video_subject {
            let event: VideoLifecycleEvent = delivery.decode()?;
            self.dynamics.from_video_event(&event).await.map(|_| ()).map_err(classify)
        } else {
            // Stat events share content's stream; they make no dynamic.
            Ok(())
        }
    }
}

/// A community error met while applying an event: client-facing kinds would repeat, internal
/// ones are classified by their cause.
pub fn classify(error: CommunityError) -> Failure {
    match error {
        CommunityError::Internal(cause) => Failure::classify(cause),
        other => Failure::permanent(other),
    }
}

fn sources(dynamics: Dynamics, nats: &Nats) -> DynamicSources {
    DynamicSources {
        dynamics,
        room_subject: ROOM_STREAM.subject(nats, ROOM_EVENT_KIND),
        video_subject: CONTENT_STREAM.subject(nats, VIDEO_EVENT_KIND),
    }
}

/// The room-event consumer.
pub fn room_consumer(dynamics: Dynamics, nats: &Nats) -> DurableConsumer<DynamicSources> {
    DurableConsumer::new(ROOM_STREAM, ROOM_DURABLE, sources(dynamics, nats))
}

/// The content-event consumer.
pub fn video_consumer(dynamics: Dynamics, nats: &Nats) -> DurableConsumer<DynamicSources> {
    DurableConsumer::new(CONTENT_STREAM, VIDEO_DURABLE, sources(dynamics, nats))
}

/// Runs both consumers until the task is dropped.
pub async fn run_consumers(dynamics: Dynamics, nats: Nats, retry: RetryPolicy) {
    let rooms = room_consumer(dynamics.clone(), &nats).retry(retry).run(nats.clone());
    let videos = video_consumer(dynamics, &nats).retry(retry).run(nats);
    tokio::join!(rooms, videos);
}
