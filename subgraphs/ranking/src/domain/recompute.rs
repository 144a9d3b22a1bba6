//! The full recompute job: recomputes every published video's hot values set-wise (one
//! statement per batch of videos, one Redis pipeline per batch), builds every ranking under a
//! build key and swaps it in with `RENAME` when complete, so readers see the old ranking until
//! the new one is whole.
//!
//! Progress is checkpointed in Postgres after each batch (the last video id, in id order): a
//! run whose replica died is taken over once its lease lapses and resumes after its
//! checkpoint, with the same `as_of` and weights, so it ends equal to a clean run. One run at
//! a time, whatever the number of replicas (see `store::runs`).

use super::RankingError;
use super::rankings::scores;
use crate::store::hot_boards::HotBoards;
use crate::store::runs::{self, NewRun, Run};
use crate::store::{videos, weights};
use chrono::Duration;
use platform::clock::SharedClock;
use platform::db::Db;
use uuid::Uuid;

/// How the job ended.
#[derive(Debug)]
pub enum RunOutcome {
    /// Rankings rebuilt and published.
    Finished(Run),
    /// Stopped by the test hook after this many batches, as if the process died.
    Interrupted(Run),
    /// Another replica took the run over.
    Lost,
}

/// The job, as each replica holds it.
#[derive(Clone)]
pub struct RecomputeJob {
    db: Db,
    boards: HotBoards,
    clock: SharedClock,
    /// This replica, as lease holder.
    holder: String,
    /// Videos per batch.
    batch_size: i64,
    /// How long a holder may go without a checkpoint before others take over.
    lease: Duration,
}

impl RecomputeJob {
    /// Default batch size.
    pub const BATCH_SIZE: i64 = 5000;

    /// A job run by `holder` (a name unique per replica).
    pub fn new(db: Db, boards: HotBoards, clock: SharedClock, holder: String) -> RecomputeJob {
        RecomputeJob { db, boards, clock, holder, batch_size: Self::BATCH_SIZE, lease: Duration::seconds(60) }
    }

    /// The same job with another batch size (tests use small batches).
    pub fn with_batch_size(mut self, batch_size: i64) -> RecomputeJob {
        self.batch_size = batch_size.max(1);
        self
    }

    /// Takes the lapsed running run over, or starts a new one; `None` when another replica
    /// holds a live run.
    pub async fn claim(&self, reason: &str, requested_by: Option<Uuid>) -> Result<Option<Run>, RankingError> {
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        if let Some(run) = runs::take_over(&mut conn, &self.holder, now, now + self.lease).await? {
            tracing::info!(run.id = %run.id, checkpoint = ?run.checkpoint, "resuming the recompute run");
            return Ok(Some(run));
        }
        let weights_id = weights::current(&mut conn).await?.id;
        let new = NewRun { reason, requested_by, as_of: now, weights_id, holder: &self.holder, lease_until: now + self.lease };
        Ok(runs::start(&mut conn, &new).await?)
    }

    /// Works `run` to the end (or, with `stop_after_batches`, stops after that many batches
    /// without releasing it, as a crash would).
    pub async fn execute(&self, run: Run, stop_after_batches: Option<usize>) -> Result<RunOutcome, RankingError> {
        let failed = match self.work(&run, stop_after_batches).await {
            Ok(outcome) => return Ok(outcome),
            Err(error) => error,
        };
        let mut conn = self.db.pool.get().await?;
        runs::finish(&mut conn, run.id, &self.holder, "failed", Some(&failed.to_string()), self.clock.now()).await?;
        Err(failed)
    }

    async fn work(&self, run: &Run, stop_after_batches: Option<usize>) -> Result<RunOutcome, RankingError> {
        let mut conn = self.db.pool.get().await?;
        let weights = weights::find(&mut conn, run.weights_id).await?.weights();
        self.boards.begin_build(run.id).await.map_err(RankingError::internal)?;
        let mut checkpoint = run.checkpoint;
        let mut processed = run.videos_processed;
        if checkpoint.is_some() && !self.boards.build_exists(run.id).await.map_err(RankingError::internal)? {
            // The build keys did not survive (Redis flushed): the checkpoint means nothing now.
            checkpoint = None;
            processed = 0;
        }
        if checkpoint.is_none() {
            self.boards.discard_build(run.id).await.map_err(RankingError::internal)?;
        }
        let mut batches = 0;
        loop {
            let batch = videos::sums(&mut conn, None, checkpoint, run.as_of, self.batch_size).await?;
            let Some(last) = batch.last().map(|video| video.video_id) else { break };
            let scored: Vec<_> = batch.iter().map(|video| scores(&weights, video, run.as_of)).collect();
            self.boards.add_to_build(run.id, &scored).await.map_err(RankingError::internal)?;
            processed += batch.len() as i64;
            checkpoint = Some(last);
            let lease_until = self.clock.now() + self.lease;
            if !runs::checkpoint(&mut conn, run.id, &self.holder, last, processed, lease_until).await? {
                return Ok(RunOutcome::Lost);
            }
            metrics::counter!("hot_recompute_videos_total").increment(batch.len() as u64);
            batches += 1;
            if stop_after_batches == Some(batches) {
                let interrupted = runs::running(&mut conn).await?.ok_or(RankingError::NotFound("Run"))?;
                return Ok(RunOutcome::Interrupted(interrupted));
            }
        }
        self.boards.publish_build(run.id).await.map_err(RankingError::internal)?;
        if !runs::finish(&mut conn, run.id, &self.holder, "succeeded", None, self.clock.now()).await? {
            return Ok(RunOutcome::Lost);
        }
        let finished = runs::recent(&mut conn, 20).await?.into_iter().find(|r| r.id == run.id).ok_or(RankingError::NotFound("Run"))?;
        tracing::info!(run.id = %run.id, videos = processed, "hot rankings rebuilt");
        Ok(RunOutcome::Finished(finished))
    }

    /// Logs how a background run ended.
    pub fn log_outcome(&self, outcome: Result<RunOutcome, RankingError>) {
        match outcome {
            Ok(RunOutcome::Finished(_)) => {}
            Ok(RunOutcome::Interrupted(run)) => tracing::warn!(run.id = %run.id, "recompute run interrupted"),
            Ok(RunOutcome::Lost) => tracing::warn!("recompute run taken over by another replica"),
            Err(error) => tracing::error!(error = %platform::error::DisplayChain(&error), "recompute run failed"),
        }
    }

    /// Runs a claimed run in the background.
    pub fn spawn(&self, run: Run) {
        let job = self.clone();
        tokio::spawn(async move { job.log_outcome(job.execute(run, None).await) });
    }

    /// One tick of the schedule: resume a run whose replica died; else rebuild when Redis lost
    /// the rankings or when no run succeeded within `interval`. Also forgets old event ids.
    pub async fn tick(&self, interval: Duration) -> Result<(), RankingError> {
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        // Kept a day longer than the stream keeps messages: older ones cannot come back.
        videos::prune_processed(&mut conn, now - Duration::days(8)).await?;
        if let Some(run) = runs::take_over(&mut conn, &self.holder, now, now + self.lease).await? {
            self.log_outcome(self.execute(run, None).await);
            return Ok(());
        }
        let reason = if !self.boards.is_built().await.map_err(RankingError::internal)? {
            "empty-redis"
        } else if self.is_due(interval).await? {
            "schedule"
        } else {
            return Ok(());
        };
        if let Some(run) = self.claim(reason, None).await? {
            self.log_outcome(self.execute(run, None).await);
        }
        Ok(())
    }

    /// Ticks every 10 seconds until the task is dropped.
    pub async fn run_schedule(self, interval: Duration) {
        let mut ticks = tokio::time::interval(std::time::Duration::from_secs(10));
        loop {
            ticks.tick().await;
            if let Err(error) = self.tick(interval).await {
                tracing::warn!(error = %platform::error::DisplayChain(&error), "recompute schedule tick failed");
            }
        }
    }

    /// The newest runs (admins).
    pub async fn recent_runs(&self, limit: i64) -> Result<Vec<Run>, RankingError> {
        let mut conn = self.db.pool.get().await?;
        Ok(runs::recent(&mut conn, limit).await?)
    }

    /// Whether a scheduled run is due: none succeeded within `interval`.
    pub async fn is_due(&self, interval: Duration) -> Result<bool, RankingError> {
        let mut conn = self.db.pool.get().await?;
        let last = runs::last_success(&mut conn).await?;
        Ok(last.is_none_or(|at| self.clock.now() - at >= interval))
    }
}
