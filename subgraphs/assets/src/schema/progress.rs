//! `downloadProgress(taskId)`: live progress of one task, for its owner, from any replica.

use super::{GqlResultExt, parse_id};
use crate::domain::AssetsError;
use crate::domain::downloads::DownloadCentre;
use crate::events::progress::{ProgressEvent, ProgressKind};
use async_graphql::{Context, Enum, ID, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use platform::auth::viewer;
use platform::error::CodedResultExt;

/// What happened to a task.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "DownloadEventKind")]
pub enum DownloadEventKind {
    /// Recorded, waiting for a worker.
    Queued,
    /// An attempt started.
    Started,
    /// Bytes arrived (at least once a second while downloading).
    Progress,
    /// An attempt failed transiently; another follows.
    Retrying,
    /// The file is ready (the last event).
    Completed,
    /// Given up (the last event).
    Failed,
    /// Cancelled (the last event).
    Cancelled,
}

impl From<ProgressKind> for DownloadEventKind {
    fn from(kind: ProgressKind) -> Self {
        match kind {
            ProgressKind::Queued => DownloadEventKind::Queued,
            ProgressKind::Started => DownloadEventKind::Started,
            ProgressKind::Progress => DownloadEventKind::Progress,
            ProgressKind::Retrying => DownloadEventKind::Retrying,
            ProgressKind::Completed => DownloadEventKind::Completed,
            ProgressKind::Failed => DownloadEventKind::Failed,
            ProgressKind::Cancelled => DownloadEventKind::Cancelled,
        }
    }
}

/// One progress or lifecycle event of a download.
#[derive(SimpleObject)]
pub struct DownloadProgress {
    /// The task.
    pub task_id: ID,
    /// What happened.
    pub kind: DownloadEventKind,
    /// The attempt (1-based; 0 while queued).
    pub attempt: i32,
    /// Bytes so far.
    pub bytes_done: i64,
    /// Whole size, when known.
    pub bytes_total: Option<i64>,
    /// 0–100, when the size is known.
    pub percent: Option<f64>,
    /// Bytes per second over the last seconds.
    pub speed_bps: i64,
    /// Seconds left at that speed, when known.
    pub eta_secs: Option<i64>,
    /// Why an attempt failed (retrying, failed).
    pub error_code: Option<String>,
    /// When it was published.
    pub at: DateTime<Utc>,
}

impl From<ProgressEvent> for DownloadProgress {
    fn from(event: ProgressEvent) -> Self {
        DownloadProgress {
            task_id: ID(event.task_id.to_string()),
            kind: event.kind.into(),
            attempt: event.attempt,
            bytes_done: event.bytes_done,
            bytes_total: event.bytes_total,
            percent: event.percent,
            speed_bps: event.speed_bps,
            eta_secs: event.eta_secs,
            error_code: event.error_code,
            at: event.at,
        }
    }
}

/// The state a row shows, for a subscriber when no event is kept. Dated at the epoch for a
/// task still going, so no live event is taken for older than it.
fn row_state(task: &crate::store::downloads::Download) -> ProgressEvent {
    use crate::store::downloads as rows;
    let (kind, at) = match task.status.as_str() {
        rows::COMPLETED => (ProgressKind::Completed, task.completed_at.unwrap_or(task.created_at)),
        rows::FAILED => (ProgressKind::Failed, task.completed_at.unwrap_or(task.created_at)),
        rows::CANCELLED => (ProgressKind::Cancelled, task.completed_at.unwrap_or(task.created_at)),
        rows::RUNNING => (ProgressKind::Progress, DateTime::<Utc>::UNIX_EPOCH),
        _ => (ProgressKind::Queued, DateTime::<Utc>::UNIX_EPOCH),
    };
    let mut event = ProgressEvent::lifecycle(task.id, kind, task.attempts, at);
    event.bytes_done = task.bytes_done;
    event.bytes_total = task.bytes_total;
    event.error_code = task.error_code.clone();
    event
}

/// Root subscription.
#[derive(Default)]
pub struct ProgressSubscription;

#[Subscription(name = "Subscription")]
impl ProgressSubscription {
    /// The task's current state first, then every progress and lifecycle event until it
    /// completes, fails or is cancelled. Its owner only (`NOT_FOUND` for anyone else).
    async fn download_progress(
        &self,
        ctx: &Context<'_>,
        task_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = DownloadProgress> + use<>> {
        let user = viewer(ctx).require_user().coded()?;
        let task_id = parse_id(&task_id, "taskId")?;
        let centre = ctx.data::<DownloadCentre>()?;
        let task = centre.get(user, task_id).await.gql()?;
        if task.user_id != user.id {
            return Err(super::gql_error(AssetsError::NotFound("Download")));
        }
        let events = centre.inner().progress.subscribe(task_id, row_state(&task)).await.map_err(AssetsError::internal).gql()?;
        Ok(events.map(DownloadProgress::from))
    }
}
