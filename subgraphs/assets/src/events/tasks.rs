//! The work queue of download tasks: a JetStream stream with work-queue retention (a message
//! is removed once acked), fed through `assets.outbox` in the transaction that records the task,
//! and consumed by the worker pool ([`crate::domain::worker`]).

use async_nats::jetstream::stream::{Config, DiscardPolicy, RetentionPolicy};
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use platform::events::StreamSpec;
use platform::nats::Nats;
use platform::outbox::Outbox;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use uuid::Uuid;

/// The task stream.
pub const TASK_STREAM: StreamSpec =
    StreamSpec { name: "ASSET_TASKS", subjects: "assets.tasks", max_age: Duration::from_secs(7 * 24 * 3600) };
/// Subject kind of [`TaskMessage`].
pub const TASK_KIND: &str = "run";
/// The outbox table.
pub const OUTBOX_TABLE: &str = "assets.outbox";

/// "Run this task" (the row holds everything else).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskMessage {
    /// The task.
    pub task_id: Uuid,
}

/// Creates the task stream with work-queue retention if it does not exist yet (before any
/// consumer or relay runs, so neither creates it with the default retention).
pub async fn ensure_stream(nats: &Nats) -> anyhow::Result<()> {
    let config = Config {
        name: TASK_STREAM.stream_name(nats),
        subjects: vec![nats.subject(&format!("{}.>", TASK_STREAM.subjects))],
        retention: RetentionPolicy::WorkQueue,
        max_age: TASK_STREAM.max_age,
        duplicate_window: Duration::from_secs(120),
        discard: DiscardPolicy::Old,
        ..Default::default()
    };
    nats.jetstream.get_or_create_stream(config).await?;
    Ok(())
}

/// Enqueues tasks through the outbox.
#[derive(Clone)]
pub struct TaskQueue {
    outbox: Outbox,
    subject: String,
}

impl TaskQueue {
    /// The queue of this deployment, writing to `outbox`.
    pub fn new(nats: &Nats, outbox: Outbox) -> TaskQueue {
        TaskQueue { outbox, subject: TASK_STREAM.subject(nats, TASK_KIND) }
    }

    /// Enqueues `task_id` inside the caller's transaction (call [`TaskQueue::committed`] after).
    pub async fn enqueue(&self, conn: &mut AsyncPgConnection, task_id: Uuid) -> QueryResult<()> {
        self.outbox.enqueue(conn, &self.subject, Uuid::now_v7(), &TaskMessage { task_id }).await
    }

    /// The outbox it writes to (whose relay must run).
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// Wakes the relay.
    pub fn committed(&self) {
        self.outbox.committed();
    }
}
