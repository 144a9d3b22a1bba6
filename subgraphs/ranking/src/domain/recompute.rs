//! The full recompute job: recomputes every published video's hot values set-wise (one
//! statement per batch of videos, one Redis pipeline per batch), builds every ranking under a
//! build key and swaps it in when complete, so readers see the old ranking until the new one
//! is whole.
//!
//! Progress is checkpointed in Postgres after each batch (the last video id, in id order): a
//! run whose replica died is taken over once its lease lapses and resumes after its
//! checkpoint, with the same `as_of` and weights, so it ends equal to a clean run.
//!
//! One run at a time, whatever the number of replicas and triggers (the schedule, an admin,
//! new weights, a read of a flushed Redis): a run is worked on only under the `hot-recompute`
//! lease ([`platform::lease`]), which is granted only when free or lapsed, never twice to one
//! process. Every step that changes what others see is fenced by that lease:
//! - each checkpoint renews the lease in the checkpoint's transaction;
//! - starting the build (discarding stale build keys, setting the building marker) and
//!   publishing it (the swap) happen inside a transaction that passed the fence, which locks the
//!   lease row, so no other replica can take the run over between the check and the swap, and
//!   the run is marked succeeded and the lease released in that same transaction.
//!
//! What remains unfenced is harmless: a replica that lost the lease may still add a batch to
//! the build keys (the same scores the new holder writes, with `NX`), and its leftovers are
//! registered and pruned ([`RecomputeJob::prune_stray_builds`]). The one window left is a
//! publishing replica whose Postgres session ends (killed, partitioned) while it is paused
//! between the fence and its single swap pipeline: the row lock is gone, and another replica
//! could take the run over. Postgres keeps an open transaction's locks until it notices the
//! session is gone (the kernel keeps a stopped process's socket open; a killed process sends
//! nothing more), and the swap is one round trip, so this needs a pause inside one round trip
//! that outlasts the detection of a dead session. If it happens anyway, the late swap is still
//! safe: each ranking's swap is one script that skips a ranking this run or a newer one swapped
//! in already ([`HotBoards::publish_build`]), so the late one either publishes the complete build
//! of the same run (same `as_of` and weights; the new holder then finds the build gone and
//! rebuilds from the start, `build_exists`) or changes nothing.

use super::RankingError;
use super::rankings::scores;
use crate::store::hot_boards::HotBoards;
use crate::store::runs::{self, NewRun, Run};
use crate::store::{videos, weights};
use chrono::Duration;
use diesel_async::AsyncConnection;
use platform::clock::SharedClock;
use platform::db::Db;
use platform::lease::{Lease, LeaseSpec, Leases};
use uuid::Uuid;

/// The recompute's lease in `ranking.leases`: how long a holder may go without a checkpoint
/// before another replica takes the run over.
pub const LEASE_SPEC: LeaseSpec = LeaseSpec::new("ranking.leases", std::time::Duration::from_secs(60));
/// The lease's name.
pub const LEASE_NAME: &str = "hot-recompute";

/// How far content's clock (the commit times of lifecycle events) may be behind ours.
const LIFECYCLE_SKEW: Duration = Duration::minutes(10);

/// A run this process claimed, with the lease it works under.
#[derive(Debug)]
pub struct Claimed {
    run: Run,
    lease: Lease,
}

impl Claimed {
    /// The run (its progress as of the last checkpoint this process made).
    pub fn run(&self) -> &Run {
        &self.run
    }

    /// The lease, with its epoch.
    pub fn lease(&self) -> &Lease {
        &self.lease
    }
}

/// Where a test stops a run, as if the process paused or died there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// After this many batches (checkpointed).
    AfterBatches(usize),
    /// With the build complete, right before publishing it.
    BeforePublish,
}

/// How the job ended.
#[derive(Debug)]
pub enum RunOutcome {
    /// Rankings rebuilt and published.
    Finished(Run),
    /// Stopped where the test asked, still holding the lease (drop it to play a crash, or
    /// [`RecomputeJob::publish`] it late).
    Interrupted(Claimed),
    /// The lease was lost (lapsed, or another replica took the run over): nothing published.
    Lost,
}

/// How building went.
enum Built {
    Complete,
    Stopped,
    Lost,
}

/// Where a build's time went: batch reads, scoring, Redis writes and checkpoints, and the wall
/// time of the overlapped read-while-writing steps.
#[derive(Default)]
struct Phases {
    read: std::time::Duration,
    score: std::time::Duration,
    redis: std::time::Duration,
    checkpoint: std::time::Duration,
    overlapped: std::time::Duration,
}

/// The job, as each replica holds it.
#[derive(Clone)]
pub struct RecomputeJob {
    db: Db,
    boards: HotBoards,
    clock: SharedClock,
    leases: Leases,
    /// Videos per batch.
    batch_size: i64,
}

impl RecomputeJob {
    /// Default batch size.
    pub const BATCH_SIZE: i64 = 5000;

    /// A job run by `holder` (a name unique per process).
    pub fn new(db: Db, boards: HotBoards, clock: SharedClock, holder: String) -> RecomputeJob {
        let leases = Leases::new(LEASE_SPEC, holder, clock.clone());
        RecomputeJob { db, boards, clock, leases, batch_size: Self::BATCH_SIZE }
    }

    /// The same job with another batch size (tests use small batches).
    pub fn with_batch_size(mut self, batch_size: i64) -> RecomputeJob {
        self.batch_size = batch_size.max(1);
        self
    }

    /// Takes the lease and with it the running run (one whose holder's lease lapsed) or a new
    /// one with the weights in force; `None` when another replica holds a live lease, or this
    /// process works on a run already.
    pub async fn claim(&self, reason: &str, requested_by: Option<Uuid>) -> Result<Option<Claimed>, RankingError> {
        let mut conn = self.db.pool.get().await?;
        let Some(lease) = self.leases.acquire(&mut conn, LEASE_NAME).await? else { return Ok(None) };
        let (leases, holder, now) = (&self.leases, self.leases.holder(), self.clock.now());
        let claimed = conn
            .transaction::<_, RankingError, _>(async |conn| {
                if !leases.fence(conn, &lease).await? {
                    return Ok(None);
                }
                if let Some(running) = runs::running(conn).await? {
                    let run = runs::resume(conn, running.id, holder).await?;
                    tracing::info!(run.id = %run.id, checkpoint = ?run.checkpoint, lease.epoch = lease.epoch(), "resuming the recompute run");
                    return Ok(Some(run));
                }
                let weights_id = weights::current(conn).await?.id;
                Ok(runs::start(conn, &NewRun { reason, requested_by, as_of: now, weights_id, holder }).await?)
            })
            .await;
        match claimed {
            Ok(Some(run)) => Ok(Some(Claimed { run, lease })),
            other => {
                // Nothing to work on: let the next trigger have the lease at once.
                if let Err(error) = self.leases.release(&mut conn, &lease).await {
                    tracing::warn!(%error, "could not release the recompute lease; it lapses");
                }
                other.map(|_| None)
            }
        }
    }

    /// Works a claimed run to the end: builds, then publishes. A run that fails discards its
    /// build and is marked failed; one that lost its lease leaves both to the new holder.
    /// `stop` is for tests (see [`Stop`]).
    pub async fn execute(&self, claimed: Claimed, stop: Option<Stop>) -> Result<RunOutcome, RankingError> {
        let Claimed { mut run, mut lease } = claimed;
        match self.build(&mut run, &mut lease, stop).await {
            Ok(Built::Complete) => self.publish(Claimed { run, lease }).await,
            Ok(Built::Stopped) => Ok(RunOutcome::Interrupted(Claimed { run, lease })),
            Ok(Built::Lost) => Ok(RunOutcome::Lost),
            Err(error) => {
                self.fail(&run, &lease, &error).await;
                Err(error)
            }
        }
    }

    async fn build(&self, run: &mut Run, lease: &mut Lease, stop: Option<Stop>) -> Result<Built, RankingError> {
        let mut conn = self.db.pool.get().await?;
        let weights = weights::find(&mut conn, run.weights_id).await?.weights();
        let (leases, boards) = (&self.leases, &self.boards);
        let (id, resuming) = (run.id, run.checkpoint.is_some());
        // Fenced: a replica that lost the lease must not discard the new holder's build.
        let fresh = conn
            .transaction::<_, RankingError, _>(async |conn| {
                if !leases.fence(conn, lease).await? {
                    return Ok(None);
                }
                // A resumed run whose build keys did not survive (Redis flushed) starts over.
                let fresh = !resuming || !boards.build_exists(id).await.map_err(RankingError::internal)?;
                if fresh {
                    boards.discard_build(id).await.map_err(RankingError::internal)?;
                }
                boards.begin_build(id).await.map_err(RankingError::internal)?;
                Ok(Some(fresh))
            })
            .await?;
        let Some(fresh) = fresh else { return Ok(Built::Lost) };
        if fresh {
            run.checkpoint = None;
            run.videos_processed = 0;
        }
        // The next batch is read (on a second connection) while the current one is written to
        // Redis and checkpointed: the read depends only on the current batch's last id.
        let mut reader = self.db.pool.get().await?;
        let mut phases = Phases::default();
        let started = std::time::Instant::now();
        let mut next = videos::sums(&mut reader, None, run.checkpoint, run.as_of, self.batch_size).await?;
        phases.read += started.elapsed();
        let mut batches = 0;
        loop {
            let batch = std::mem::take(&mut next);
            let Some(last) = batch.last().map(|video| video.video_id) else { break };
            let started = std::time::Instant::now();
            let scored: Vec<_> = batch.iter().map(|video| scores(&weights, video, run.as_of)).collect();
            phases.score += started.elapsed();
            let processed = run.videos_processed + batch.len() as i64;
            let write = async {
                let started = std::time::Instant::now();
                self.boards.add_to_build(run.id, &scored).await.map_err(RankingError::internal)?;
                let redis = started.elapsed();
                // The checkpoint renews the lease in its transaction: a replica that lost the
                // run records nothing and stops here.
                let saved = conn
                    .transaction::<_, RankingError, _>(async |conn| {
                        Ok(leases.renew(conn, lease).await? && runs::checkpoint(conn, id, last, processed).await?)
                    })
                    .await?;
                Ok::<_, RankingError>((saved, redis, started.elapsed() - redis))
            };
            let read = async {
                let started = std::time::Instant::now();
                (videos::sums(&mut reader, None, Some(last), run.as_of, self.batch_size).await, started.elapsed())
            };
            let started = std::time::Instant::now();
            let (written, (read, read_time)) = tokio::join!(write, read);
            phases.overlapped += started.elapsed();
            let (saved, redis, checkpoint) = written?;
            (phases.read, phases.redis, phases.checkpoint) =
                (phases.read + read_time, phases.redis + redis, phases.checkpoint + checkpoint);
            if !saved {
                return Ok(Built::Lost);
            }
            next = read?;
            (run.checkpoint, run.videos_processed) = (Some(last), processed);
            metrics::counter!("hot_recompute_videos_total").increment(batch.len() as u64);
            batches += 1;
            if stop == Some(Stop::AfterBatches(batches)) {
                return Ok(Built::Stopped);
            }
        }
        tracing::info!(
            run.id = %run.id,
            batches,
            read_s = phases.read.as_secs_f64(),
            score_s = phases.score.as_secs_f64(),
            redis_s = phases.redis.as_secs_f64(),
            checkpoint_s = phases.checkpoint.as_secs_f64(),
            overlapped_s = phases.overlapped.as_secs_f64(),
            "recompute build phases"
        );
        // A batch read before a video was removed or moved may have written it into the build
        // after the live consumer took it out (`NX` keeps what the consumer wrote, not what it
        // deleted): take every video whose lifecycle changed since the run began out again
        // where it no longer belongs. The removal committed before that late write, so this
        // read, after the last batch, sees it. (`LIFECYCLE_SKEW` covers content's clock.)
        let changed = videos::changed_since(&mut conn, run.as_of - LIFECYCLE_SKEW).await?;
        let changed: Vec<_> =
            changed.into_iter().map(|video| (video.video_id, (video.state == videos::PUBLISHED).then_some(video.region_id))).collect();
        self.boards.drop_from_build(run.id, &changed).await.map_err(RankingError::internal)?;
        Ok(if stop == Some(Stop::BeforePublish) { Built::Stopped } else { Built::Complete })
    }

    /// Publishes a complete build, fenced: swaps the rankings in, marks the run succeeded and
    /// releases the lease in one transaction that first passed the fence; a replica that lost
    /// the lease publishes nothing ([`RunOutcome::Lost`]). [`execute`](Self::execute) ends
    /// with it.
    pub async fn publish(&self, claimed: Claimed) -> Result<RunOutcome, RankingError> {
        let Claimed { run, lease } = claimed;
        let (leases, boards, now) = (&self.leases, &self.boards, self.clock.now());
        let published = async {
            let mut conn = self.db.pool.get().await?;
            conn.transaction::<_, RankingError, _>(async |conn| {
                if !leases.fence(conn, &lease).await? {
                    return Ok(None);
                }
                boards.publish_build(run.id).await.map_err(RankingError::internal)?;
                let finished = runs::finish(conn, run.id, "succeeded", None, now).await?;
                leases.release(conn, &lease).await?;
                Ok(Some(finished))
            })
            .await
        };
        match published.await {
            Ok(Some(finished)) => {
                tracing::info!(run.id = %run.id, videos = finished.videos_processed, "hot rankings rebuilt");
                Ok(RunOutcome::Finished(finished))
            }
            Ok(None) => {
                tracing::warn!(run.id = %run.id, lease.epoch = lease.epoch(), "recompute lease lost before publishing; nothing published");
                Ok(RunOutcome::Lost)
            }
            Err(error) => {
                self.fail(&run, &lease, &error).await;
                Err(error)
            }
        }
    }

    /// Ends a failed run: marks it failed and releases the lease (fenced), then drops its build
    /// keys and building marker, so live updates stop copying every change into them. A
    /// replica that lost the lease leaves the run and its keys to the new holder. When Redis
    /// cannot be reached, the keys stay registered and the prune drops them later.
    async fn fail(&self, run: &Run, lease: &Lease, error: &RankingError) {
        let (leases, now, message) = (&self.leases, self.clock.now(), error.to_string());
        let marked = async {
            let mut conn = self.db.pool.get().await?;
            conn.transaction::<_, RankingError, _>(async |conn| {
                if !leases.fence(conn, lease).await? {
                    return Ok(false);
                }
                runs::finish(conn, run.id, "failed", Some(&message), now).await?;
                leases.release(conn, lease).await?;
                Ok(true)
            })
            .await
        };
        match marked.await {
            Ok(true) => {
                if let Err(error) = self.boards.discard_build(run.id).await {
                    tracing::warn!(run.id = %run.id, %error, "could not discard the failed run's build; the prune drops it later");
                }
            }
            Ok(false) => tracing::warn!(run.id = %run.id, "recompute run failed after losing its lease; the new holder owns it"),
            Err(error) => {
                tracing::warn!(run.id = %run.id, error = %platform::error::DisplayChain(&error), "could not mark the recompute run failed; it is resumed once its lease lapses")
            }
        }
    }

    /// Logs how a background run ended.
    pub fn log_outcome(&self, outcome: Result<RunOutcome, RankingError>) {
        match outcome {
            Ok(RunOutcome::Finished(_)) => {}
            Ok(RunOutcome::Interrupted(claimed)) => tracing::warn!(run.id = %claimed.run.id, "recompute run interrupted"),
            Ok(RunOutcome::Lost) => tracing::warn!("recompute run taken over by another replica"),
            Err(error) => tracing::error!(error = %platform::error::DisplayChain(&error), "recompute run failed"),
        }
    }

    /// Runs a claimed run in the background.
    pub fn spawn(&self, claimed: Claimed) {
        let job = self.clone();
        tokio::spawn(async move { job.log_outcome(job.execute(claimed, None).await) });
    }

    /// One tick of the schedule: resume a run whose replica died; else rebuild when Redis lost
    /// the rankings, when the weights changed since the last successful run, or when no run
    /// succeeded within `interval`. Also prunes old event ids and stray build keys.
    pub async fn tick(&self, interval: Duration) -> Result<(), RankingError> {
        let now = self.clock.now();
        {
            let mut conn = self.db.pool.get().await?;
            // Kept a day longer than the stream keeps messages: older ones cannot come back.
            videos::prune_processed(&mut conn, now - Duration::days(8)).await?;
        }
        self.prune_stray_builds().await?;
        let Some(reason) = self.due(interval).await? else { return Ok(()) };
        if let Some(claimed) = self.claim(reason, None).await? {
            self.log_outcome(self.execute(claimed, None).await);
        }
        Ok(())
    }

    /// Why a run is due now, if one is: `resume` (a run is running: claiming it succeeds only
    /// once its holder's lease lapsed), `empty-redis`, `weights` (the weights changed since the
    /// last successful run), `schedule`.
    async fn due(&self, interval: Duration) -> Result<Option<&'static str>, RankingError> {
        let mut conn = self.db.pool.get().await?;
        if runs::running(&mut conn).await?.is_some() {
            return Ok(Some("resume"));
        }
        if !self.boards.is_built().await.map_err(RankingError::internal)? {
            return Ok(Some("empty-redis"));
        }
        let last = runs::last_success(&mut conn).await?;
        let current = weights::current(&mut conn).await?.id;
        Ok(match last {
            Some(last) if last.weights_id != current => Some("weights"),
            Some(last) if last.finished_at.is_some_and(|at| self.clock.now() - at < interval) => None,
            _ => Some("schedule"),
        })
    }

    /// Drops the build keys (and building marker) of every run that is not running: what a
    /// crashed run, a failed run whose discard could not reach Redis, or a replica that lost
    /// the lease left behind. Returns how many runs' keys were dropped.
    pub async fn prune_stray_builds(&self) -> Result<usize, RankingError> {
        // Redis first, Postgres second: a run registers its build only after its row exists, so
        // a run read as "not running" below either finished or never registered after this read.
        let mut candidates = self.boards.registered_builds().await.map_err(RankingError::internal)?;
        candidates.extend(self.boards.building().await.map_err(RankingError::internal)?);
        candidates.sort_unstable();
        candidates.dedup();
        let mut conn = self.db.pool.get().await?;
        let running = runs::running(&mut conn).await?.map(|run| run.id);
        let mut pruned = 0;
        for run in candidates.into_iter().filter(|run| Some(*run) != running) {
            self.boards.discard_build(run).await.map_err(RankingError::internal)?;
            tracing::info!(run.id = %run, "dropped a stray recompute build");
            pruned += 1;
        }
        Ok(pruned)
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
}
