//! What `community` tells others: follow changes (`FollowEvent` on `FOLLOW_STREAM`, for
//! `content`'s following feed) and its own replicas: new dynamics to push (on
//! [`push::PUSH_STREAM`]), both written to `community.outbox` in the transaction of the change
//! and published by the outbox relay after commit. And what it hears: account snapshots from
//! `content` (`accounts`), room and video events (`dynamics`).

pub mod accounts;
pub mod dynamics;
pub mod inbox;
pub mod push;

use crate::store::dynamics::Dynamic;
use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use platform::events::{FOLLOW_EVENT_KIND, FOLLOW_STREAM, FollowEvent};
use platform::nats::Nats;
use platform::outbox::Outbox;
use uuid::Uuid;

/// The outbox table of `community`.
pub const OUTBOX_TABLE: &str = "community.outbox";

/// Records community's lossless events into the outbox.
#[derive(Clone)]
pub struct CommunityEvents {
    outbox: Outbox,
    follow_subject: String,
    push_subject: String,
}

impl CommunityEvents {
    /// Events for this deployment's subjects.
    pub fn new(nats: &Nats) -> CommunityEvents {
        CommunityEvents {
            outbox: Outbox::new(OUTBOX_TABLE),
            follow_subject: FOLLOW_STREAM.subject(nats, FOLLOW_EVENT_KIND),
            push_subject: push::PUSH_STREAM.subject(nats, push::DYNAMIC_PUSH_KIND),
        }
    }

    /// The outbox (the relay runs on it).
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// Records that `follower` now follows (or no longer follows) `followee`, as of
    /// `changed_at`, in the caller's transaction.
    pub async fn follow_changed(
        &self,
        conn: &mut AsyncPgConnection,
        follower: Uuid,
        followee: Uuid,
        following: bool,
        changed_at: DateTime<Utc>,
    ) -> QueryResult<()> {
        let event = FollowEvent { event_id: Uuid::now_v7(), follower_id: follower, followee_id: followee, following, changed_at };
        self.outbox.enqueue(conn, &self.follow_subject, event.event_id, &event).await
    }

    /// Records the push announcement of a committed-to-be `dynamic` (every replica hands it to
    /// the author's connected followers), in the caller's transaction.
    pub async fn dynamic_announced(&self, conn: &mut AsyncPgConnection, dynamic: &Dynamic) -> QueryResult<()> {
        self.outbox.enqueue(conn, &self.push_subject, Uuid::now_v7(), dynamic).await
    }

    /// Call after the transaction committed: the relay publishes at once.
    pub fn committed(&self) {
        self.outbox.committed();
    }
}
