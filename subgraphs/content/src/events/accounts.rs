//! Account changes for other subgraphs' account directories (`AccountEvent` on
//! `ACCOUNT_STREAM`): written to `content.outbox` in the transaction that registers an account
//! or changes its role, and published by the outbox relay after commit, so a committed account
//! always reaches `community` and a rolled-back registration never does.

use crate::store::users::User;
use chrono::Utc;
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use platform::events::{ACCOUNT_EVENT_KIND, ACCOUNT_STREAM, AccountEvent};
use platform::nats::Nats;
use platform::outbox::Outbox;
use uuid::Uuid;

/// Records account snapshots into content's outbox.
#[derive(Clone)]
pub struct AccountEvents {
    outbox: Outbox,
    subject: String,
}

impl AccountEvents {
    /// Events for this deployment's subject, into `outbox` (the one whose relay runs, so that
    /// [`AccountEvents::committed`] wakes it).
    pub fn new(nats: &Nats, outbox: Outbox) -> AccountEvents {
        AccountEvents { outbox, subject: ACCOUNT_STREAM.subject(nats, ACCOUNT_EVENT_KIND) }
    }

    /// Records `user` as it is at `version`, in the caller's transaction.
    pub async fn changed(&self, conn: &mut AsyncPgConnection, user: &User, version: i64) -> QueryResult<()> {
        let event = AccountEvent {
            event_id: Uuid::now_v7(),
            user_id: user.id,
            username: user.username.clone(),
            role: user.role.clone(),
            version,
            changed_at: Utc::now(),
        };
        self.outbox.enqueue(conn, &self.subject, event.event_id, &event).await
    }

    /// Call after the transaction committed: the relay publishes at once.
    pub fn committed(&self) {
        self.outbox.committed();
    }
}
