//! Progress and lifecycle of tasks on core NATS (`<prefix>.assets.progress.<task_id>`): every
//! replica holding a `downloadProgress` subscription receives what any worker publishes. The
//! latest event of each task is also kept in Redis, so a subscriber that joins late first gets
//! the current state. These are notifications: a lost one costs a stale progress bar, and the
//! row stays the truth.

use crate::store::cache::AssetsCache;
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use platform::nats::Nats;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProgressKind {
    /// Recorded and waiting for a worker.
    Queued,
    /// A worker started an attempt.
    Started,
    /// Bytes arrived.
    Progress,
    /// An attempt failed transiently; another follows.
    Retrying,
    /// The file is ready.
    Completed,
    /// Given up.
    Failed,
    /// Cancelled by its owner.
    Cancelled,
}

impl ProgressKind {
    /// Whether nothing follows.
    pub fn is_final(self) -> bool {
        matches!(self, ProgressKind::Completed | ProgressKind::Failed | ProgressKind::Cancelled)
    }
}

/// One progress or lifecycle event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressEvent {
    /// The task.
    pub task_id: Uuid,
    /// What happened.
    pub kind: ProgressKind,
    /// The attempt (1-based; 0 while queued).
    pub attempt: i32,
    /// Bytes so far.
    pub bytes_done: i64,
    /// Whole size, when known.
    pub bytes_total: Option<i64>,
    /// 0–100, when the size is known.
    pub percent: Option<f64>,
    /// Bytes per second.
    pub speed_bps: i64,
    /// Seconds left, when known.
    pub eta_secs: Option<i64>,
    /// Why it failed or is retried.
    pub error_code: Option<String>,
    /// When it was published.
    pub at: DateTime<Utc>,
}

impl ProgressEvent {
    /// A lifecycle event without byte counts.
    pub fn lifecycle(task_id: Uuid, kind: ProgressKind, attempt: i32, at: DateTime<Utc>) -> ProgressEvent {
        ProgressEvent {
            task_id,
            kind,
            attempt,
            bytes_done: 0,
            bytes_total: None,
            percent: None,
            speed_bps: 0,
            eta_secs: None,
            error_code: None,
            at,
        }
    }
}

/// Publishes and subscribes to progress.
#[derive(Clone)]
pub struct ProgressBus {
    nats: Nats,
    cache: AssetsCache,
}

impl ProgressBus {
    /// Over this NATS connection and cache.
    pub fn new(nats: Nats, cache: AssetsCache) -> ProgressBus {
        ProgressBus { nats, cache }
    }

    fn subject(&self, task_id: Uuid) -> String {
        self.nats.subject(&format!("assets.progress.{}", task_id.simple()))
    }

    /// Keeps `event` as the task's current state and tells every replica. Failures are logged:
    /// progress is a notification, the row is the truth.
    pub async fn publish(&self, event: &ProgressEvent) {
        let payload = match serde_json::to_vec(event) {
            Ok(payload) => payload,
            Err(error) => return tracing::warn!(%error, "could not encode a progress event"),
        };
        if let Err(error) = self.cache.store_progress(event.task_id, &payload).await {
            tracing::debug!(task.id = %event.task_id, error = format!("{error:#}"), "could not keep the progress state");
        }
        if let Err(error) = self.nats.client.publish(self.subject(event.task_id), payload.into()).await {
            tracing::warn!(task.id = %event.task_id, %error, "could not publish progress");
        }
        metrics::counter!("assets_progress_events_total").increment(1);
    }

    /// The task's current state first (the latest event, else `fallback`: the state its row
    /// shows), then every later event, ending after the final one.
    pub async fn subscribe(&self, task_id: Uuid, fallback: ProgressEvent) -> anyhow::Result<impl Stream<Item = ProgressEvent> + use<>> {
        // Subscribed before the state is read: an event in between shows up in both and is
        // dropped from the stream by its time.
        let subscription = self.nats.realtime().subscribe(&self.subject(task_id)).await?;
        let current: Option<ProgressEvent> = match self.cache.progress(task_id).await {
            Ok(raw) => raw.and_then(|raw| serde_json::from_slice(&raw).ok()),
            Err(error) => {
                tracing::debug!(task.id = %task_id, error = format!("{error:#}"), "no progress state; live events only");
                None
            }
        };
        let current = current.unwrap_or(fallback);
        let since = current.at;
        let live = subscription
            .filter_map(|payload| async move { serde_json::from_slice::<ProgressEvent>(&payload).ok() })
            .filter(move |event| std::future::ready(event.at > since));
        let events = futures::stream::once(std::future::ready(current)).chain(live);
        Ok(platform::realtime::ending_after(events, |event: &ProgressEvent| event.kind.is_final()))
    }
}
