//! The hot rankings service: applies content's events to what ranking knows of each video and
//! moves the video in every ranking at once; serves ranking pages; holds the weights in force.

use super::RankingError;
use super::hot::{HotWeights, TimeRange, page_bounds};
use super::recommend::{Candidate, FRESH_FOR_HOURS, engagement_points, recommend};
use super::recompute::RecomputeJob;
use crate::store::hot_boards::{GLOBAL, HotBoards, RankingSlice, VideoScores};
use crate::store::runs::Run;
use crate::store::taste;
use crate::store::videos::{self, VideoSums, counts};
use crate::store::weights::{self, WeightsRow};
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use platform::clock::SharedClock;
use platform::db::Db;
use platform::events::{StatAction, StatEvent, VideoLifecycleEvent};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::RwLock;
use uuid::Uuid;

/// How many of the week's hottest videos recommendations start from.
const RECOMMEND_POOL: isize = 200;

/// How long a reader waits for the first build of an empty Redis before getting an empty page.
const FIRST_BUILD_WAIT: Duration = Duration::from_secs(10);

/// The weights in force in this process, reloaded when an admin changes them (on any replica).
#[derive(Clone)]
pub struct WeightsInForce(Arc<RwLock<WeightsRow>>);

impl WeightsInForce {
    /// Loads the current weights.
    pub async fn load(db: &Db) -> Result<WeightsInForce, RankingError> {
        let mut conn = db.pool.get().await?;
        Ok(WeightsInForce(Arc::new(RwLock::new(weights::current(&mut conn).await?))))
    }

    /// The weights now.
    pub async fn get(&self) -> WeightsRow {
        self.0.read().await.clone()
    }

    /// Re-reads them from the database.
    pub async fn reload(&self, db: &Db) -> Result<WeightsRow, RankingError> {
        let mut conn = db.pool.get().await?;
        let row = weights::current(&mut conn).await?;
        *self.0.write().await = row.clone();
        Ok(row)
    }
}

/// One page of a ranking.
#[derive(Debug, Clone)]
pub struct RankingPage {
    /// (video id, hot value), best first.
    pub entries: Vec<(Uuid, i64)>,
    /// Videos in the whole ranking.
    pub total: u64,
    /// Rank of the first entry (1-based).
    pub first_rank: u64,
}

/// The hot rankings service.
#[derive(Clone)]
pub struct HotRankings {
    db: Db,
    boards: HotBoards,
    weights: WeightsInForce,
    clock: SharedClock,
    job: RecomputeJob,
}

impl HotRankings {
    /// Over these backends.
    pub fn new(db: Db, boards: HotBoards, weights: WeightsInForce, clock: SharedClock, job: RecomputeJob) -> HotRankings {
        HotRankings { db, boards, weights, clock, job }
    }

    /// The weights in force.
    pub fn weights(&self) -> &WeightsInForce {
        &self.weights
    }

    /// The recompute job.
    pub fn job(&self) -> &RecomputeJob {
        &self.job
    }

    /// Applies a stat event (once per event id) and moves the video in every ranking.
    pub async fn apply_stat_event(&self, event: &StatEvent) -> Result<(), RankingError> {
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, RankingError, _>(async |conn| {
            if videos::mark_processed(conn, event.event_id).await? {
                videos::apply_stats(conn, event).await?;
                if let Some(viewer) = event.viewer_id {
                    learn_taste(conn, viewer, event).await?;
                }
            }
            Ok(())
        })
        .await?;
        // Also after a redelivery: the first delivery may have committed and then failed to
        // reach Redis. Recomputing from Postgres makes this idempotent.
        self.refresh(event.video_id).await
    }

    /// Applies a lifecycle event and makes the rankings agree with what `ranking` stores now:
    /// an event older than the stored state, or any event after `removed`, changes nothing
    /// (see [`videos::apply_lifecycle`]); a video that is not published leaves every ranking
    /// at once; a moved one leaves its old region's. A redelivered event reconciles the rankings
    /// again (its first delivery may have committed and then failed to reach Redis).
    pub async fn apply_lifecycle_event(&self, event: &VideoLifecycleEvent) -> Result<(), RankingError> {
        let mut conn = self.db.pool.get().await?;
        let stored = conn
            .transaction::<_, RankingError, _>(async |conn| {
                if videos::mark_processed(conn, event.event_id).await? {
                    Ok(Some(videos::apply_lifecycle(conn, event).await?))
                } else {
                    Ok(videos::lifecycle(conn, event.video_id).await?)
                }
            })
            .await?;
        let Some(stored) = stored else { return Ok(()) };
        let published = stored.state == videos::PUBLISHED;
        // The regions it leaves: every one it may be filed under in Redis, but the one it
        // belongs to while it is published.
        let mut leave: Vec<i32> = [Some(event.region_id), stored.previous_region, Some(stored.region_id)]
            .into_iter()
            .flatten()
            .filter(|region| !published || *region != stored.region_id)
            .collect();
        leave.sort_unstable();
        leave.dedup();
        if !published {
            return self.boards.remove(event.video_id, &leave).await.map_err(RankingError::internal);
        }
        if !leave.is_empty() {
            self.boards.remove(event.video_id, &leave).await.map_err(RankingError::internal)?;
        }
        self.refresh(event.video_id).await
    }

    /// Recomputes one video's hot values from Postgres and writes them to the rankings.
    async fn refresh(&self, video_id: Uuid) -> Result<(), RankingError> {
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        let sums = videos::sums(&mut conn, Some(&[video_id]), None, now, 1).await?;
        let weights = self.weights.get().await.weights();
        for video in sums {
            self.boards.update(&scores(&weights, &video, now)).await.map_err(RankingError::internal)?;
        }
        Ok(())
    }

    /// A page of a ranking (`region_id` `None` for the global one). An empty Redis (flushed,
    /// new instance) starts a rebuild from Postgres and waits a little for it.
    pub async fn page(&self, range: TimeRange, region_id: Option<i32>, page: i32, page_size: i32) -> Result<RankingPage, RankingError> {
        let (start, stop) = page_bounds(page, page_size)?;
        let slice = self.slice(range, region_id.unwrap_or(GLOBAL), start, stop).await?;
        Ok(RankingPage { entries: slice.entries, total: slice.total, first_rank: start as u64 + 1 })
    }

    /// Reads part of a ranking; when Redis lost the rankings, rebuilds them first (waiting a
    /// little) and reads again.
    async fn slice(&self, range: TimeRange, scope: i32, start: isize, stop: isize) -> Result<RankingSlice, RankingError> {
        let slice = self.boards.page(range, scope, start, stop).await.map_err(RankingError::internal)?;
        if slice.built {
            return Ok(slice);
        }
        self.rebuild_empty_redis().await?;
        self.boards.page(range, scope, start, stop).await.map_err(RankingError::internal)
    }

    /// Starts a rebuild (unless one runs) and waits until some replica published one.
    async fn rebuild_empty_redis(&self) -> Result<(), RankingError> {
        self.request_rebuild("empty-redis", None).await?;
        let deadline = tokio::time::Instant::now() + FIRST_BUILD_WAIT;
        while tokio::time::Instant::now() < deadline {
            if self.boards.is_built().await.map_err(RankingError::internal)? {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tracing::warn!("rankings are still being rebuilt; serving what Redis has");
        Ok(())
    }

    /// Starts a full rebuild in the background, unless a run is in progress (here or on
    /// another replica; then that one goes on, and the schedule starts any run still due after
    /// it). Returns the run started or resumed.
    pub async fn request_rebuild(&self, reason: &str, requested_by: Option<Uuid>) -> Result<Option<Run>, RankingError> {
        let Some(claimed) = self.job.claim(reason, requested_by).await? else { return Ok(None) };
        let run = claimed.run().clone();
        self.job.spawn(claimed);
        Ok(Some(run))
    }

    /// Stores new weights set by `admin`, puts them in force in this process, and rebuilds the
    /// rankings with them: at once when no run is in progress; otherwise the run in progress
    /// (with the weights it started with) finishes, and the schedule's next tick starts one with
    /// the new weights, as it does whenever the last successful run's weights are not the ones
    /// in force.
    pub async fn set_weights(&self, weights: &HotWeights, admin: Uuid) -> Result<WeightsRow, RankingError> {
        {
            let mut conn = self.db.pool.get().await?;
            weights::insert(&mut conn, weights, admin).await?;
        }
        let row = self.weights.reload(&self.db).await?;
        self.request_rebuild("weights", Some(admin)).await?;
        Ok(row)
    }

    /// Up to `limit` recommended video ids for `viewer` from place `offset` (see
    /// `domain::recommend` for the scoring); anonymous viewers get the week's hot list.
    pub async fn recommended(&self, viewer: Option<Uuid>, offset: usize, limit: usize) -> Result<Vec<Uuid>, RankingError> {
        let hot = self.slice(TimeRange::Week, GLOBAL, 0, RECOMMEND_POOL - 1).await?;
        let hot_ids: Vec<Uuid> = hot.entries.iter().map(|(id, _)| *id).collect();
        let Some(viewer) = viewer else {
            return Ok(hot_ids.into_iter().skip(offset).take(limit).collect());
        };
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        let taste = taste::taste(&mut conn, viewer).await?;
        let fresh_since = now - chrono::Duration::hours(FRESH_FOR_HOURS);
        let rows = taste::candidates(&mut conn, &hot_ids, &taste, fresh_since, 100).await?;
        let weights = self.weights.get().await.weights();
        let candidates: Vec<Candidate> = rows
            .into_iter()
            .map(|(candidate, totals)| Candidate { hot: weights.hot_value(&counts(&totals), candidate.published_at, now), ..candidate })
            .collect();
        let ids: Vec<Uuid> = candidates.iter().map(|c| c.video_id).collect();
        let watched = taste::watched_among(&mut conn, viewer, &ids).await?;
        Ok(recommend(&candidates, &taste, &watched, now).into_iter().skip(offset).take(limit).collect())
    }

    /// The all-time global hot value and rank of each video (`None` when not ranked).
    pub async fn positions(&self, ids: &[Uuid]) -> Result<Vec<Option<(i64, u64)>>, RankingError> {
        self.boards.positions(ids).await.map_err(RankingError::internal)
    }
}

/// What a signed-in viewer's action says about their taste (and what they watched).
async fn learn_taste(conn: &mut diesel_async::AsyncPgConnection, viewer: Uuid, event: &StatEvent) -> Result<(), RankingError> {
    let points = engagement_points(event.action, &event.delta);
    if points != 0 {
        taste::add_points(conn, viewer, event.author_id, event.region_id, points, event.occurred_at).await?;
    }
    if event.action == StatAction::View {
        taste::watched(conn, viewer, event.video_id, event.occurred_at).await?;
    }
    Ok(())
}

/// A video's hot value in every range, as of `as_of`.
pub fn scores(weights: &HotWeights, video: &VideoSums, as_of: DateTime<Utc>) -> VideoScores {
    let value = |values: &[i64]| weights.hot_value(&counts(values), video.published_at, as_of);
    VideoScores {
        video_id: video.video_id,
        region_id: video.region_id,
        values: [value(&video.day), value(&video.week), value(&video.month), value(&video.totals)],
    }
}
