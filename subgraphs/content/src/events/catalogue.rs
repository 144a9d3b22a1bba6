//! Stat and lifecycle events of videos. They are written to `content.outbox` in the caller's
//! transaction (the relay publishes them to JetStream after commit), so a committed like always
//! reaches `ranking` and a rolled-back one never does.

use crate::store::stats::{self, VideoStat};
use crate::store::videos::Video;
use chrono::Utc;
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use platform::events::{CONTENT_STREAM, STAT_EVENT_KIND, StatAction, StatCounts, StatEvent, VIDEO_EVENT_KIND, VideoLifecycleEvent};
use platform::nats::Nats;
use platform::outbox::Outbox;
use uuid::Uuid;

/// The outbox table of `content`.
pub const OUTBOX_TABLE: &str = "content.outbox";

/// Records stat changes and lifecycle changes of videos, with their events.
#[derive(Clone)]
pub struct CatalogueEvents {
    outbox: Outbox,
    stat_subject: String,
    video_subject: String,
}

impl CatalogueEvents {
    /// Events for this deployment's subjects.
    pub fn new(nats: &Nats) -> CatalogueEvents {
        CatalogueEvents {
            outbox: Outbox::new(OUTBOX_TABLE),
            stat_subject: CONTENT_STREAM.subject(nats, STAT_EVENT_KIND),
            video_subject: CONTENT_STREAM.subject(nats, VIDEO_EVENT_KIND),
        }
    }

    /// The outbox (the relay runs on it).
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// Applies `delta` to the video's counters and records the event, in the caller's
    /// transaction. Returns the new totals.
    pub async fn stat_changed(
        &self,
        conn: &mut AsyncPgConnection,
        video: &Video,
        viewer_id: Option<Uuid>,
        action: StatAction,
        delta: StatCounts,
    ) -> QueryResult<VideoStat> {
        let stat = stats::add(conn, video.id, &delta).await?;
        let event = StatEvent {
            event_id: Uuid::now_v7(),
            video_id: video.id,
            author_id: video.author_id,
            region_id: video.region_id,
            published_at: video.published_at,
            viewer_id,
            action,
            delta,
            totals: stat.counts(),
            occurred_at: Utc::now(),
        };
        self.outbox.enqueue(conn, &self.stat_subject, event.event_id, &event).await?;
        Ok(stat)
    }

    /// Records that a video was published, edited, or removed, in the caller's transaction.
    pub async fn video_changed(&self, conn: &mut AsyncPgConnection, video: &Video) -> QueryResult<()> {
        let event = VideoLifecycleEvent {
            event_id: Uuid::now_v7(),
            video_id: video.id,
            author_id: video.author_id,
            region_id: video.region_id,
            state: video.state.clone(),
            published_at: video.published_at,
            occurred_at: Utc::now(),
        };
        self.outbox.enqueue(conn, &self.video_subject, event.event_id, &event).await
    }

    /// Call after the transaction committed: the relay publishes at once.
    pub fn committed(&self) {
        self.outbox.committed();
    }
}
