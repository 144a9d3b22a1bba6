//! Archive events for `content` ([`platform::events::AssetEvent`] on `ASSET_STREAM`), through
//! the outbox in the transaction that finishes or deletes an archive download.

use crate::store::downloads::Download;
use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use platform::events::{ASSET_EVENT_KIND, ASSET_STREAM, AssetAction, AssetEvent};
use platform::nats::Nats;
use platform::outbox::Outbox;
use uuid::Uuid;

/// The reference `Download.assetRef` shows and `content` accepts: `asset:<task id>`.
pub fn asset_ref(task_id: Uuid) -> String {
    format!("asset:{}", task_id.hyphenated())
}

/// Publishes archive events through the outbox.
#[derive(Clone)]
pub struct ArchiveEvents {
    outbox: Outbox,
    subject: String,
}

impl ArchiveEvents {
    /// Over this deployment's stream and the assets outbox.
    pub fn new(nats: &Nats, outbox: Outbox) -> ArchiveEvents {
        ArchiveEvents { outbox, subject: ASSET_STREAM.subject(nats, ASSET_EVENT_KIND) }
    }

    /// Records, in the caller's transaction, that `download` was archived or deleted.
    pub async fn record(
        &self,
        conn: &mut AsyncPgConnection,
        download: &Download,
        action: AssetAction,
        at: DateTime<Utc>,
    ) -> QueryResult<()> {
        let event = AssetEvent {
            event_id: Uuid::now_v7(),
            asset_ref: asset_ref(download.id),
            task_id: download.id,
            owner_id: download.user_id,
            size_bytes: download.size_bytes.unwrap_or(0),
            sha256: download.sha256.clone().unwrap_or_default(),
            content_type: download.content_type.clone().unwrap_or_default(),
            action,
            occurred_at: at,
        };
        self.outbox.enqueue(conn, &self.subject, event.event_id, &event).await
    }

    /// Wakes the relay.
    pub fn committed(&self) {
        self.outbox.committed();
    }
}
