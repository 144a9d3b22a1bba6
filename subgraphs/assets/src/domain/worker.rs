//! The workers: a pool of [`platform::consumer::DurableConsumer`] handlers ([`Order::Pool`]) on
//! the task queue. A handler claims the task row (a lease renewed every second with the
//! progress), runs up to `max_attempts` attempts, and ends the row in one conditional update:
//!
//! - a **transient** failure (network, timeout, 5xx, 429, our disk) is retried after an
//!   exponential pause; the last one marks the task failed and dead-letters the message;
//! - a **permanent** failure (URL policy, 4xx, unsupported, too large) marks it failed at once;
//! - a **cancel** (or a delete, or a takeover) is seen at the next heartbeat: the worker stops
//!   and removes the partial file;
//! - a worker that **dies** leaves the message unacked and the row's lease running out: the
//!   redelivered message (or the stale-task sweep) lets another worker claim the row, which
//!   resumes the partial file with `Range` (direct) or starts again (HLS). The final file name
//!   contains the task id, so a second run overwrites, never duplicates, the file; the row is
//!   completed once (conditional on the holder).
//!
//! [`Order::Pool`]: platform::consumer::Order::Pool

use super::breaker::Permit;
use super::downloads::DownloadCentre;
use super::media::FetchError;
use super::names;
use super::progress::ProgressMeter;
use crate::events::progress::{ProgressEvent, ProgressKind};
use crate::events::tasks::{TASK_STREAM, TaskMessage};
use crate::fetch::{direct, hls, ytdlp};
use crate::store::downloads::{self, CompletedFile, Download};
use crate::store::files::TransferProgress;
use diesel_async::AsyncConnection;
use platform::consumer::{Delivery, DurableConsumer, Failure, Handler, Order, RetryPolicy};
use platform::events::AssetAction;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Durable consumer name (replicas share the work).
pub const DURABLE: &str = "assets-downloads";
/// How often a running task renews its lease and checks that it still holds the task.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(1);

/// Runs download tasks.
pub struct TaskWorker {
    centre: DownloadCentre,
    worker_id: String,
}

impl TaskWorker {
    /// A worker named `worker_id` (unique per process).
    pub fn new(centre: DownloadCentre, worker_id: String) -> TaskWorker {
        TaskWorker { centre, worker_id }
    }

    fn lease(&self) -> chrono::Duration {
        chrono::Duration::seconds(i64::try_from(self.centre.inner().config.task_lease_secs.max(2)).unwrap_or(30))
    }

    /// The consumer running this worker `workers` at a time.
    pub fn consumer(self, workers: usize, retry: RetryPolicy) -> DurableConsumer<TaskWorker> {
        let ack_wait = Duration::from_secs(self.centre.inner().config.task_lease_secs.max(2));
        DurableConsumer::new(TASK_STREAM, DURABLE, self).order(Order::Pool(workers.max(1))).retry(retry).ack_wait(ack_wait)
    }

    /// Claims the task, waiting while another live worker holds it (a duplicate delivery);
    /// `None` when it has ended or was deleted.
    async fn claim(&self, task_id: uuid::Uuid) -> Result<Option<Download>, Failure> {
        let inner = self.centre.inner();
        loop {
            let now = inner.clock.now();
            let mut conn = inner.db.pool.get().await.map_err(Failure::transient)?;
            if let Some(task) =
                downloads::claim(&mut conn, task_id, &self.worker_id, now + self.lease(), now).await.map_err(Failure::classify)?
            {
                return Ok(Some(task));
            }
            let Some(row) = downloads::find(&mut conn, task_id).await.map_err(Failure::classify)? else { return Ok(None) };
            let held_until = match (row.status.as_str(), row.lease_until, row.deleted_at) {
                (downloads::RUNNING, Some(until), None) if until > now => until,
                _ => return Ok(None),
            };
            drop(conn);
            let wait = (held_until - now).to_std().unwrap_or_default().min(Duration::from_secs(5)) + Duration::from_millis(200);
            tokio::time::sleep(wait).await;
        }
    }

    async fn run(&self, task_id: uuid::Uuid) -> Result<(), Failure> {
        let Some(task) = self.claim(task_id).await? else { return Ok(()) };
        let inner = self.centre.inner();
        let max_attempts = i32::try_from(inner.config.max_attempts.max(1)).unwrap_or(3);
        let timeout = chrono::Duration::seconds(i64::try_from(inner.config.task_timeout_secs.max(1)).unwrap_or(1800));
        let started_at = task.started_at.unwrap_or_else(|| inner.clock.now());
        let mut attempt = task.attempts;
        let mut last_error = task.error_message.clone().unwrap_or_else(|| "no attempt left".into());
        loop {
            attempt += 1;
            let remaining = (started_at + timeout - inner.clock.now()).to_std().unwrap_or_default();
            if attempt > max_attempts || remaining.is_zero() {
                let error = if remaining.is_zero() { FetchError::TimedOut } else { FetchError::Network(last_error.clone()) };
                return self.give_up(&task, attempt - 1, &error, true).await;
            }
            // While the platform's breaker is open, wait (holding the task) instead of spending
            // attempts on a source that is failing for everyone.
            while let Permit::Wait(pause) = inner.breakers.permit(&task.platform, inner.clock.now()) {
                if !self.wait_holding(&task, pause.to_std().unwrap_or(HEARTBEAT_EVERY).max(HEARTBEAT_EVERY)).await? {
                    return self.stopped(&task).await;
                }
            }
            // The same for the proxy provider.
            while let Permit::Wait(pause) = inner.proxies.permit(inner.clock.now()) {
                if !self.wait_holding(&task, pause.to_std().unwrap_or(HEARTBEAT_EVERY).max(HEARTBEAT_EVERY)).await? {
                    return self.stopped(&task).await;
                }
            }
            let mut conn = inner.db.pool.get().await.map_err(Failure::transient)?;
            if !downloads::begin_attempt(&mut conn, task.id, &self.worker_id, attempt).await.map_err(Failure::classify)? {
                return self.stopped(&task).await;
            }
            drop(conn);
            inner.progress.publish(&ProgressEvent::lifecycle(task.id, ProgressKind::Started, attempt, inner.clock.now())).await;
            let outcome = match tokio::time::timeout(remaining, self.attempt(&task, attempt)).await {
                Ok(outcome) => outcome,
                Err(_) => Err(FetchError::TimedOut),
            };
            // What the source did: a success or a failure of the source itself (not a cancel,
            // not our disk, not a 404 or a refused URL).
            match &outcome {
                Ok(()) => inner.breakers.record(&task.platform, inner.clock.now(), true),
                // Our disk, a cancel, a dead proxy: nothing about the platform.
                Err(FetchError::Storage(_) | FetchError::Cancelled | FetchError::Proxy(_)) => {}
                Err(error) if error.is_transient() => inner.breakers.record(&task.platform, inner.clock.now(), false),
                Err(_) => inner.breakers.record(&task.platform, inner.clock.now(), true),
            }
            match outcome {
                Ok(()) => return Ok(()),
                Err(FetchError::Cancelled) => return self.stopped(&task).await,
                Err(error) if error.is_transient() && attempt < max_attempts => {
                    tracing::info!(task.id = %task.id, attempt, error = %error, "download attempt failed; retrying");
                    last_error = error.to_string();
                    let mut conn = inner.db.pool.get().await.map_err(Failure::transient)?;
                    if !downloads::note_attempt_failure(&mut conn, task.id, &self.worker_id, error.code(), &last_error)
                        .await
                        .map_err(Failure::classify)?
                    {
                        return self.stopped(&task).await;
                    }
                    drop(conn);
                    let mut event = ProgressEvent::lifecycle(task.id, ProgressKind::Retrying, attempt, inner.clock.now());
                    event.error_code = Some(error.code().to_owned());
                    inner.progress.publish(&event).await;
                    metrics::counter!("assets_download_retries_total", "platform" => task.platform.clone()).increment(1);
                    let pause = Duration::from_millis(inner.config.retry_base_ms).saturating_mul(1 << (attempt - 1).clamp(0, 10));
                    if !self.wait_holding(&task, pause).await? {
                        return self.stopped(&task).await;
                    }
                }
                Err(error) => {
                    let exhausted = error.is_transient();
                    return self.give_up(&task, attempt, &error, exhausted).await;
                }
            }
        }
    }

    /// Sleeps `pause` while renewing the lease; `false` when the task was cancelled meanwhile.
    async fn wait_holding(&self, task: &Download, pause: Duration) -> Result<bool, Failure> {
        let inner = self.centre.inner();
        let until = Instant::now() + pause;
        while Instant::now() < until {
            tokio::time::sleep(HEARTBEAT_EVERY.min(until - Instant::now())).await;
            let mut conn = inner.db.pool.get().await.map_err(Failure::transient)?;
            let held = downloads::heartbeat(
                &mut conn,
                task.id,
                &self.worker_id,
                inner.clock.now() + self.lease(),
                task.bytes_done,
                task.bytes_total,
            )
            .await
            .map_err(Failure::classify)?;
            if !held {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The task was cancelled, deleted or taken over: its partial file goes (unless another
    /// worker now holds it).
    async fn stopped(&self, task: &Download) -> Result<(), Failure> {
        let inner = self.centre.inner();
        let mut conn = inner.db.pool.get().await.map_err(Failure::transient)?;
        let current = downloads::find(&mut conn, task.id).await.map_err(Failure::classify)?;
        let taken_over =
            current.as_ref().is_some_and(|row| row.status == downloads::RUNNING && row.worker.as_deref() != Some(&self.worker_id));
        if !taken_over && let Err(error) = inner.storage.remove_task_dir(task.id).await {
            tracing::warn!(task.id = %task.id, %error, "could not remove a stopped task's files; the sweep will");
        }
        tracing::info!(task.id = %task.id, taken_over, "download stopped");
        Ok(())
    }

    /// Marks the task failed. Out of attempts (`exhausted`): the message is dead-lettered with
    /// the reason; a permanent failure: acked.
    async fn give_up(&self, task: &Download, attempts: i32, error: &FetchError, exhausted: bool) -> Result<(), Failure> {
        let inner = self.centre.inner();
        let now = inner.clock.now();
        let message = if exhausted { format!("{error} (after {attempts} attempts)") } else { error.to_string() };
        let mut conn = inner.db.pool.get().await.map_err(Failure::transient)?;
        let failed = downloads::fail(&mut conn, task.id, &self.worker_id, error.code(), &message, now).await.map_err(Failure::classify)?;
        if failed.is_none() {
            return self.stopped(task).await;
        }
        if let Err(remove) = inner.storage.remove_task_dir(task.id).await {
            tracing::warn!(task.id = %task.id, error = %remove, "could not remove a failed task's files; the sweep will");
        }
        tracing::warn!(task.id = %task.id, attempts, code = error.code(), %message, "download failed");
        metrics::counter!("assets_downloads_finished_total", "outcome" => "failed", "platform" => task.platform.clone()).increment(1);
        let mut event = ProgressEvent::lifecycle(task.id, ProgressKind::Failed, attempts, now);
        event.error_code = Some(error.code().to_owned());
        inner.progress.publish(&event).await;
        if exhausted { Err(Failure::permanent(format!("task {} failed: {message}", task.id))) } else { Ok(()) }
    }

    /// One attempt: fetch into the partial file while reporting progress, then publish the
    /// file and complete the row.
    async fn attempt(&self, task: &Download, attempt: i32) -> Result<(), FetchError> {
        let inner = self.centre.inner();
        let url = reqwest::Url::parse(&task.url).map_err(|_| FetchError::Unsupported("a stored URL that does not parse".into()))?;
        let info = self.centre.parse_checked(&url).await?;
        let format = info.format(Some(&task.format_id)).ok_or_else(|| FetchError::Unsupported("the format is no longer offered".into()))?;
        let format_url = reqwest::Url::parse(&format.url).map_err(|_| FetchError::Unsupported("a bad format URL".into()))?;
        let storage_error = |error: std::io::Error| FetchError::Storage(error.to_string());
        let mut sink = inner.storage.partial(task.id, inner.config.max_file_bytes).await.map_err(storage_error)?;
        sink.set_total(format.size_bytes.and_then(|size| u64::try_from(size).ok()));
        let progress = sink.progress();
        // Through the download proxy, when one is in effect: the built-in fetchers with a
        // client through it, yt-dlp with its egress proxy chained to it.
        let route = inner.proxies.route(inner.clock.now()).await?;
        let client = route.client().unwrap_or(inner.extractors.client());
        let transferred = {
            let transfer = async {
                match (info.extractor.as_str(), inner.extractors.ytdlp()) {
                    ("hls", _) => hls::download(client, &format_url, &mut sink).await,
                    (ytdlp::EXTRACTOR, Some(ytdlp)) => ytdlp.download(&format_url, &format.id, &mut sink, route.proxy()).await,
                    (ytdlp::EXTRACTOR, None) => Err(FetchError::Unsupported("yt-dlp is not configured here".into())),
                    _ => direct::download(client, &format_url, &mut sink).await,
                }
            };
            tokio::select! {
                outcome = transfer => outcome,
                stopped = self.report(task, attempt, progress.clone()) => Err(stopped),
            }
        };
        let content_type = inner.proxies.outcome(&route, transferred, inner.clock.now())?;
        if sink.is_empty() {
            return Err(FetchError::Unsupported("the source sent an empty file".into()));
        }
        let finished = sink.finish().await.map_err(storage_error)?;
        let content_type = content_type
            .map(|value| value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
            // Only a media type is kept: the file is served with it later, and a source that
            // says `text/html` on GET must not make us serve a page.
            .filter(|value| value != "application/octet-stream" && direct::is_media_type(value))
            .or_else(|| format.content_type.clone())
            .unwrap_or_else(|| "application/octet-stream".into());
        let extension =
            format.container.clone().or_else(|| direct::extension_for(&content_type).map(str::to_owned)).unwrap_or_else(|| "bin".into());
        let name = names::file_name(&task.title, &extension, task.id);
        let now = inner.clock.now();
        let relative = inner.storage.final_relative(task.id, task.user_id, task.is_archive(), now.date_naive(), &name);
        let (size, sha256) = (finished.size, finished.sha256.clone());
        let target = inner.storage.publish(finished, &relative).await.map_err(storage_error)?;
        let relative_text = relative.to_string_lossy().into_owned();
        let expires_at =
            (!task.is_archive()).then(|| now + chrono::Duration::seconds(i64::try_from(inner.config.quick_ttl_secs).unwrap_or(86_400)));
        let file = CompletedFile {
            path: &relative_text,
            name: &name,
            content_type: &content_type,
            size: i64::try_from(size).unwrap_or(i64::MAX),
            sha256: &sha256,
            completed_at: now,
            expires_at,
        };
        let mut conn = inner.db.pool.get().await.map_err(|error| FetchError::Storage(error.to_string()))?;
        let archive = &inner.archive;
        let completed = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let Some(row) = downloads::complete(conn, task.id, &self.worker_id, &file).await? else { return Ok(None) };
                if row.is_archive() {
                    archive.record(conn, &row, AssetAction::Archived, now).await?;
                }
                Ok(Some(row))
            })
            .await
            .map_err(|error| FetchError::Storage(error.to_string()))?;
        let Some(row) = completed else {
            // Cancelled or deleted while finishing: the file must not stay.
            let _ = tokio::fs::remove_file(&target).await;
            return Err(FetchError::Cancelled);
        };
        archive.committed();
        if row.is_archive() {
            let _ = inner.storage.remove_task_dir(task.id).await;
        }
        tracing::info!(task.id = %task.id, size, sha256 = %sha256, path = %relative_text, "download completed");
        metrics::counter!("assets_downloads_finished_total", "outcome" => "completed", "platform" => task.platform.clone()).increment(1);
        metrics::counter!("assets_downloaded_bytes_total").increment(size);
        let mut event = ProgressEvent::lifecycle(task.id, ProgressKind::Completed, attempt, now);
        event.bytes_done = row.size_bytes.unwrap_or(0);
        event.bytes_total = row.size_bytes;
        event.percent = Some(100.0);
        inner.progress.publish(&event).await;
        Ok(())
    }

    /// Publishes progress every `progress_interval_ms` and renews the lease every second; returns
    /// [`FetchError::Cancelled`] once the worker no longer holds the task.
    async fn report(&self, task: &Download, attempt: i32, progress: Arc<TransferProgress>) -> FetchError {
        let inner = self.centre.inner();
        let started = Instant::now();
        let mut meter = ProgressMeter::default();
        let mut ticker = tokio::time::interval(Duration::from_millis(inner.config.progress_interval_ms.clamp(100, 1000)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_beat = Instant::now();
        loop {
            ticker.tick().await;
            let reading = meter.sample(started.elapsed().as_secs_f64(), progress.done(), progress.total());
            let to_i64 = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
            let event = ProgressEvent {
                task_id: task.id,
                kind: ProgressKind::Progress,
                attempt,
                bytes_done: to_i64(reading.bytes_done),
                bytes_total: reading.bytes_total.map(to_i64),
                percent: reading.percent,
                speed_bps: to_i64(reading.speed_bps),
                eta_secs: reading.eta_secs.map(to_i64),
                error_code: None,
                at: inner.clock.now(),
            };
            inner.progress.publish(&event).await;
            if last_beat.elapsed() >= HEARTBEAT_EVERY {
                last_beat = Instant::now();
                let held = match inner.db.pool.get().await {
                    Ok(mut conn) => downloads::heartbeat(
                        &mut conn,
                        task.id,
                        &self.worker_id,
                        inner.clock.now() + self.lease(),
                        event.bytes_done,
                        event.bytes_total,
                    )
                    .await
                    .map_err(anyhow::Error::from),
                    Err(error) => Err(error.into()),
                };
                match held {
                    Ok(true) => {}
                    Ok(false) => return FetchError::Cancelled,
                    Err(error) => tracing::warn!(task.id = %task.id, error = format!("{error:#}"), "could not renew a task's lease"),
                }
            }
        }
    }
}

impl Handler for TaskWorker {
    async fn handle(&self, delivery: &Delivery) -> Result<(), Failure> {
        let message: TaskMessage = delivery.decode()?;
        self.run(message.task_id).await
    }
}
