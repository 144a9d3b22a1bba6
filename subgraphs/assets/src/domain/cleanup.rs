//! The periodic sweep (every replica runs it; every step is a conditional update or an
//! idempotent removal, so two replicas sweeping at once do no harm):
//!
//! 1. running tasks whose lease ran out (their worker died, and no redelivery is coming) go
//!    back to the queue, re-enqueued in the same transaction;
//! 2. quick files past their expiry are deleted (archives are never touched);
//! 3. disk usage is measured (`assets_disk_usage_percent`): above the warning watermark it is
//!    logged; above the high watermark the oldest quick files are deleted early, and new quick
//!    tasks are refused until usage is below it again;
//! 4. partial files of tasks that ended without them (failed, cancelled, deleted) are removed.

use super::AssetsError;
use super::downloads::DownloadCentre;
use crate::store::downloads;
use diesel_async::AsyncConnection;
use futures::future::BoxFuture;
use std::path::PathBuf;
use std::sync::Arc;

/// Rows handled per statement.
const BATCH: i64 = 100;

/// Measures the used share of the disk holding a path, in percent.
pub type UsageProbe = Arc<dyn Fn(PathBuf) -> BoxFuture<'static, anyhow::Result<f64>> + Send + Sync>;

/// `df -Pk <path>`: the `Use%` of the file system holding it.
pub fn df_probe() -> UsageProbe {
    Arc::new(|path: PathBuf| {
        Box::pin(async move {
            let output = tokio::process::Command::new("df").arg("-Pk").arg(&path).output().await?;
            let text = String::from_utf8_lossy(&output.stdout);
            parse_df(&text).ok_or_else(|| anyhow::anyhow!("unexpected df output: {text}"))
        })
    })
}

/// The `Use%` of `df -P` output (a rule).
pub fn parse_df(text: &str) -> Option<f64> {
    let line = text.lines().nth(1)?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    let (used, available): (f64, f64) = (fields.get(2)?.parse().ok()?, fields.get(3)?.parse().ok()?);
    (used + available > 0.0).then(|| used * 100.0 / (used + available))
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CleanupReport {
    /// Stale running tasks put back in the queue.
    pub requeued: usize,
    /// Quick files deleted (expired, or early above the high watermark).
    pub expired: usize,
    /// Task directories of dead tasks removed.
    pub swept: usize,
    /// Disk usage after the pass, in percent.
    pub usage_percent: Option<f64>,
}

/// The sweep.
#[derive(Clone)]
pub struct Cleanup {
    centre: DownloadCentre,
    usage: UsageProbe,
}

impl Cleanup {
    /// The sweep of `centre`, measuring the disk with `usage`.
    pub fn new(centre: DownloadCentre, usage: UsageProbe) -> Cleanup {
        Cleanup { centre, usage }
    }

    /// One pass.
    pub async fn pass(&self) -> Result<CleanupReport, AssetsError> {
        let inner = self.centre.inner();
        let now = inner.clock.now();
        let mut report = CleanupReport::default();
        let mut conn = inner.db.pool.get().await?;
        let queue = &inner.queue;
        report.requeued = conn
            .transaction::<_, AssetsError, _>(async |conn| {
                let stale = downloads::requeue_stale(conn, now, BATCH).await?;
                for task in &stale {
                    tracing::warn!(task.id = %task.id, worker = ?task.worker, "a task's worker stopped renewing it; queued again");
                    queue.enqueue(conn, task.id).await?;
                }
                Ok(stale.len())
            })
            .await?;
        if report.requeued > 0 {
            queue.committed();
        }
        drop(conn);
        report.expired += self.expire(false).await?;
        let (warn, high) = (f64::from(inner.config.disk_warn_percent), f64::from(inner.config.disk_high_percent));
        let mut usage = self.measure().await;
        if let Some(percent) = usage {
            if percent > warn {
                tracing::warn!(usage_percent = percent, warn_percent = warn, "assets storage is filling up");
            }
            // Above the high watermark: the oldest quick files go early, a batch at a time.
            let mut rounds = 0;
            while usage.is_some_and(|percent| percent > high) && rounds < 10 {
                let removed = self.expire(true).await?;
                report.expired += removed;
                rounds += 1;
                usage = self.measure().await;
                if removed == 0 {
                    break;
                }
            }
        }
        let above = usage.is_some_and(|percent| percent > high);
        if above != inner.disk.above_high() {
            tracing::warn!(above_high = above, usage_percent = ?usage, "assets storage watermark changed: quick downloads are {}", if above { "refused" } else { "accepted" });
        }
        inner.disk.set_above_high(above);
        metrics::gauge!("assets_disk_above_high_watermark").set(if above { 1.0 } else { 0.0 });
        report.usage_percent = usage;
        report.swept = self.sweep_dead_dirs().await?;
        Ok(report)
    }

    async fn measure(&self) -> Option<f64> {
        let inner = self.centre.inner();
        match (self.usage)(inner.storage.root().to_path_buf()).await {
            Ok(percent) => {
                metrics::gauge!("assets_disk_usage_percent").set(percent);
                Some(percent)
            }
            Err(error) => {
                tracing::warn!(error = format!("{error:#}"), "could not measure the assets disk");
                None
            }
        }
    }

    /// Deletes expired quick files (with `early`, the oldest ones whatever their expiry), one
    /// batch; returns how many.
    async fn expire(&self, early: bool) -> Result<usize, AssetsError> {
        let inner = self.centre.inner();
        let mut conn = inner.db.pool.get().await?;
        let expired = downloads::expire_quick(&mut conn, inner.clock.now(), early, BATCH).await?;
        for task in &expired {
            if let Err(error) = inner.storage.remove_task_dir(task.id).await {
                tracing::warn!(task.id = %task.id, %error, "could not remove an expired quick file");
            }
        }
        if !expired.is_empty() {
            tracing::info!(count = expired.len(), early, "removed quick downloads");
            metrics::counter!("assets_quick_files_expired_total").increment(expired.len() as u64);
        }
        Ok(expired.len())
    }

    async fn sweep_dead_dirs(&self) -> Result<usize, AssetsError> {
        let inner = self.centre.inner();
        let present = inner.storage.task_dirs().await.map_err(AssetsError::internal)?;
        if present.is_empty() {
            return Ok(0);
        }
        let mut conn = inner.db.pool.get().await?;
        let dead = downloads::dead_task_dirs(&mut conn, &present).await?;
        for id in &dead {
            if let Err(error) = inner.storage.remove_task_dir(*id).await {
                tracing::warn!(task.id = %id, %error, "could not remove a dead task's files");
            }
        }
        Ok(dead.len())
    }

    /// Runs a pass every `assets.cleanup_interval_secs` until the task is dropped.
    pub async fn run(self) {
        let every = std::time::Duration::from_secs(self.centre.inner().config.cleanup_interval_secs.max(1));
        platform::periodic::run_every("assets-cleanup", every, move || {
            let cleanup = self.clone();
            async move { cleanup.pass().await.map(|_| ()) }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn df_output_gives_the_used_share() {
        let text =
            "Filesystem     1024-blocks     Used Available Capacity Mounted on\n/dev/sda1        100000000 90000000  10000000      90% /\n";
        assert_eq!(parse_df(text), Some(90.0));
        assert_eq!(parse_df("garbage"), None);
    }
}
