//! What `live` tells others.
//!
//! Room lifecycle and gift events must not be lost: they go into `live.outbox` in the
//! transaction of the change, and the relay publishes them to JetStream after commit with the
//! event id as `Nats-Msg-Id`. PK updates are real-time notifications over core NATS (a missed
//! one costs a stale screen; the next update carries the whole state).

pub mod realtime;

use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use platform::events::{GIFT_EVENT_KIND, GIFT_STREAM, GiftEvent, ROOM_EVENT_KIND, ROOM_STREAM, RoomEvent};
use platform::nats::Nats;
use platform::outbox::Outbox;

/// The outbox table of `live`.
pub const OUTBOX_TABLE: &str = "live.outbox";

/// Records `live`'s lossless events in the caller's transaction.
#[derive(Clone)]
pub struct LiveEvents {
    outbox: Outbox,
    room_subject: String,
    gift_subject: String,
}

impl LiveEvents {
    /// Events for this deployment's subjects.
    pub fn new(nats: &Nats) -> LiveEvents {
        LiveEvents {
            outbox: Outbox::new(OUTBOX_TABLE),
            room_subject: ROOM_STREAM.subject(nats, ROOM_EVENT_KIND),
            gift_subject: GIFT_STREAM.subject(nats, GIFT_EVENT_KIND),
        }
    }

    /// The outbox (the relay runs on it).
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// Records that a room went live or stopped, in the caller's transaction.
    pub async fn room_changed(&self, conn: &mut AsyncPgConnection, event: &RoomEvent) -> QueryResult<()> {
        self.outbox.enqueue(conn, &self.room_subject, event.event_id, event).await
    }

    /// Records a gift, in the caller's transaction (the gift's id is the event id).
    pub async fn gift_sent(&self, conn: &mut AsyncPgConnection, event: &GiftEvent) -> QueryResult<()> {
        self.outbox.enqueue(conn, &self.gift_subject, event.event_id, event).await
    }

    /// Call after the transaction committed: the relay publishes at once.
    pub fn committed(&self) {
        self.outbox.committed();
    }
}
