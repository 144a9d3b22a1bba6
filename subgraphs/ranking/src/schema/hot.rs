//! `hotRanking`, `Video.hotValue` / `Video.hotRank`, and the admin surface of the hot rankings:
//! weights (with their history) and recompute runs.

use crate::domain::RankingError;
use crate::domain::hot::{HotWeights, TimeRange};
use crate::domain::rankings::HotRankings;
use crate::events::weights::announce_weights_changed;
use crate::store::runs::Run;
use crate::store::weights::{self, WeightsRow};
use async_graphql::dataloader::Loader;
use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use platform::auth::{AdminOnly, viewer};
use platform::batch::Batcher;
use platform::db::Db;
use platform::error::CodedResultExt;
use platform::nats::Nats;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// The stretch of time a ranking covers.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum HotTimeRange {
    /// Growth in the last 24 hours.
    Day,
    /// Growth in the last 7 days.
    Week,
    /// Growth in the last 30 days.
    Month,
    /// Lifetime totals.
    All,
}

impl From<HotTimeRange> for TimeRange {
    fn from(range: HotTimeRange) -> Self {
        match range {
            HotTimeRange::Day => TimeRange::Day,
            HotTimeRange::Week => TimeRange::Week,
            HotTimeRange::Month => TimeRange::Month,
            HotTimeRange::All => TimeRange::All,
        }
    }
}

/// A video, as `ranking` knows it: by id, with its place in the all-time global ranking.
/// `content` resolves everything else about it.
#[derive(SimpleObject)]
#[graphql(name = "Video", complex)]
pub struct Video {
    /// Stable id.
    id: ID,
}

#[ComplexObject]
impl Video {
    /// Its all-time hot value (`null` when it is not ranked: not published, or not yet seen).
    async fn hot_value(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<i64>> {
        Ok(position(ctx, &self.id).await?.map(|(value, _)| value))
    }

    /// Its rank in the all-time global ranking, from 1.
    async fn hot_rank(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<u64>> {
        Ok(position(ctx, &self.id).await?.map(|(_, rank)| rank))
    }
}

async fn position(ctx: &Context<'_>, id: &ID) -> async_graphql::Result<Option<(i64, u64)>> {
    let Ok(id) = id.parse::<Uuid>() else { return Ok(None) };
    ctx.data::<Batcher<Uuid, HotPositionLoader>>()?.load_one(id).await.coded()
}

/// Hot values and ranks of many videos in one Redis round trip.
pub struct HotPositionLoader(pub HotRankings);

impl Loader<Uuid> for HotPositionLoader {
    type Value = (i64, u64);
    type Error = Arc<RankingError>;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let positions = self.0.positions(ids).await.map_err(Arc::new)?;
        Ok(ids.iter().zip(positions).filter_map(|(id, position)| Some((*id, position?))).collect())
    }
}

/// One place in a ranking.
#[derive(SimpleObject)]
pub struct HotRankingItem {
    /// Place, from 1.
    rank: u64,
    /// Hot value in the ranking's range.
    hot_value: i64,
    /// The video (resolved by `content` through the router).
    video: Video,
}

/// A page of a ranking.
#[derive(SimpleObject)]
pub struct HotRankingPage {
    /// The places on this page, best first.
    items: Vec<HotRankingItem>,
    /// Videos in the whole ranking.
    total: u64,
    /// This page, from 1.
    page: i32,
    /// Places per page.
    page_size: i32,
}

/// A page of recommendations.
#[derive(SimpleObject)]
pub struct RecommendationPage {
    /// The videos, best first (resolved by `content` through the router).
    videos: Vec<Video>,
    /// Pass as `after` for the next page.
    end_cursor: Option<String>,
    /// Whether another page follows.
    has_next_page: bool,
}

/// Most recommendations a viewer can page through.
const MAX_RECOMMENDATIONS: usize = 200;

/// The weights of the hot value.
#[derive(SimpleObject)]
pub struct HotWeightsVersion {
    /// Version.
    id: ID,
    /// Points per view.
    views: i32,
    /// Points per like.
    likes: i32,
    /// Points per coin.
    coins: i32,
    /// Points per favourite.
    favourites: i32,
    /// Points per share.
    shares: i32,
    /// Points per comment.
    comments: i32,
    /// Points per danmaku.
    danmaku: i32,
    /// A new video's value in percent of the plain value.
    new_boost_percent: i32,
    /// How long a video counts as new.
    new_boost_hours: i32,
    /// The admin who set them (`null`: the shipped defaults).
    changed_by: Option<ID>,
    /// When.
    changed_at: DateTime<Utc>,
}

impl From<WeightsRow> for HotWeightsVersion {
    fn from(row: WeightsRow) -> Self {
        HotWeightsVersion {
            id: ID(row.id.to_string()),
            views: row.views,
            likes: row.likes,
            coins: row.coins,
            favourites: row.favourites,
            shares: row.shares,
            comments: row.comments,
            danmaku: row.danmaku,
            new_boost_percent: row.new_boost_percent,
            new_boost_hours: row.new_boost_hours,
            changed_by: row.changed_by.map(|id| ID(id.to_string())),
            changed_at: row.changed_at,
        }
    }
}

/// New weights: points per unit of each counter (0–10,000) and the new-video boost.
#[derive(InputObject)]
pub struct HotWeightsInput {
    views: i32,
    likes: i32,
    coins: i32,
    favourites: i32,
    shares: i32,
    comments: i32,
    danmaku: i32,
    /// 100–1000 (percent).
    new_boost_percent: i32,
    /// 0–168.
    new_boost_hours: i32,
}

impl From<HotWeightsInput> for HotWeights {
    fn from(input: HotWeightsInput) -> Self {
        HotWeights {
            views: input.views.into(),
            likes: input.likes.into(),
            coins: input.coins.into(),
            favourites: input.favourites.into(),
            shares: input.shares.into(),
            comments: input.comments.into(),
            danmaku: input.danmaku.into(),
            new_boost_percent: input.new_boost_percent.into(),
            new_boost_hours: input.new_boost_hours.into(),
        }
    }
}

/// A run of the full recompute job.
#[derive(SimpleObject)]
pub struct HotRecomputeRun {
    /// Id.
    id: ID,
    /// `schedule`, `admin`, `weights` or `empty-redis`.
    reason: String,
    /// `RUNNING`, `SUCCEEDED` or `FAILED`.
    status: String,
    /// Videos ranked so far.
    videos_processed: i64,
    /// Start.
    started_at: DateTime<Utc>,
    /// End.
    finished_at: Option<DateTime<Utc>>,
    /// Milliseconds from start to end.
    duration_ms: Option<i64>,
    /// Why it failed.
    error: Option<String>,
}

impl From<Run> for HotRecomputeRun {
    fn from(run: Run) -> Self {
        HotRecomputeRun {
            id: ID(run.id.to_string()),
            reason: run.reason,
            status: run.status.to_uppercase(),
            videos_processed: run.videos_processed,
            started_at: run.started_at,
            finished_at: run.finished_at,
            duration_ms: run.finished_at.map(|end| (end - run.started_at).num_milliseconds()),
            error: run.error,
        }
    }
}

/// Hot ranking queries and the `Video` entity's ranking fields.
#[derive(Default)]
pub struct HotQuery;

#[Object]
impl HotQuery {
    /// A page of the hot ranking of a region (or the global one) for a time range.
    async fn hot_ranking(
        &self,
        ctx: &Context<'_>,
        region_id: Option<i32>,
        time_range: Option<HotTimeRange>,
        page: Option<i32>,
        page_size: Option<i32>,
    ) -> async_graphql::Result<HotRankingPage> {
        let (page, page_size) = (page.unwrap_or(1), page_size.unwrap_or(20));
        let range = time_range.unwrap_or(HotTimeRange::All).into();
        let ranking = ctx.data::<HotRankings>()?.page(range, region_id, page, page_size).await.coded()?;
        let items = ranking
            .entries
            .into_iter()
            .enumerate()
            .map(|(i, (video_id, hot_value))| HotRankingItem {
                rank: ranking.first_rank + i as u64,
                hot_value,
                video: Video { id: ID(video_id.to_string()) },
            })
            .collect();
        Ok(HotRankingPage { items, total: ranking.total, page, page_size })
    }

    /// Videos for the signed-in viewer: from the authors and regions they engage with, hot
    /// videos and a share of fresh ones, never one they watched; anonymous viewers get the
    /// week's hot list. `first` is 1–50 (default 20).
    async fn recommended_videos(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<RecommendationPage> {
        let first = usize::try_from(first.unwrap_or(20)).ok().filter(|n| (1..=50).contains(n));
        let first = first.ok_or_else(|| RankingError::InvalidInput("`first` must be between 1 and 50.".into())).coded()?;
        let offset = match after.as_deref() {
            None => 0,
            Some(cursor) => cursor
                .strip_prefix("rec:")
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| *n <= MAX_RECOMMENDATIONS)
                .ok_or_else(|| RankingError::InvalidInput("The `after` cursor is not one this API returned.".into()))
                .coded()?,
        };
        let rankings = ctx.data::<HotRankings>()?;
        let mut ids = rankings.recommended(viewer(ctx).user_id(), offset, first + 1).await.coded()?;
        let has_next_page = ids.len() > first && offset + first < MAX_RECOMMENDATIONS;
        ids.truncate(first);
        let end = offset + ids.len();
        Ok(RecommendationPage {
            videos: ids.into_iter().map(|id| Video { id: ID(id.to_string()) }).collect(),
            end_cursor: (end > offset).then(|| format!("rec:{end}")),
            has_next_page,
        })
    }

    /// Adds the ranking fields to `Video` references.
    #[graphql(entity)]
    async fn find_video_by_id(&self, id: ID) -> Video {
        Video { id }
    }

    /// The weights in force.
    async fn hot_weights(&self, ctx: &Context<'_>) -> async_graphql::Result<HotWeightsVersion> {
        Ok(ctx.data::<HotRankings>()?.weights().get().await.into())
    }

    /// Every change of the weights, newest first: who and when (admins).
    #[graphql(guard = "AdminOnly")]
    async fn hot_weight_history(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
    ) -> async_graphql::Result<Vec<HotWeightsVersion>> {
        let db = ctx.data::<Db>()?;
        let mut conn = db.pool.get().await.map_err(RankingError::from).coded()?;
        let rows = weights::history(&mut conn, i64::from(first.clamp(1, 100))).await.map_err(RankingError::from).coded()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The newest runs of the recompute job (admins).
    #[graphql(guard = "AdminOnly")]
    async fn hot_recompute_runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
    ) -> async_graphql::Result<Vec<HotRecomputeRun>> {
        let runs = ctx.data::<HotRankings>()?.job().recent_runs(i64::from(first.clamp(1, 100))).await.coded()?;
        Ok(runs.into_iter().map(Into::into).collect())
    }
}

/// Admin actions on the hot rankings.
#[derive(Default)]
pub struct HotMutation;

#[Object]
impl HotMutation {
    /// Sets new weights (recorded with who and when), makes every replica use them at once,
    /// and rebuilds the rankings with them.
    #[graphql(guard = "AdminOnly")]
    async fn set_hot_weights(&self, ctx: &Context<'_>, input: HotWeightsInput) -> async_graphql::Result<HotWeightsVersion> {
        let admin = viewer(ctx).require_admin().coded()?;
        let weights = HotWeights::parse(input.into()).coded()?;
        let row = ctx.data::<HotRankings>()?.set_weights(&weights, admin.id).await.coded()?;
        announce_weights_changed(ctx.data::<Nats>()?).await;
        Ok(row.into())
    }

    /// Starts a full recompute now (admins); `null` when one is running already.
    #[graphql(guard = "AdminOnly")]
    async fn recompute_hot_rankings(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<HotRecomputeRun>> {
        let admin = viewer(ctx).require_admin().coded()?;
        let run = ctx.data::<HotRankings>()?.request_rebuild("admin", Some(admin.id)).await.coded()?;
        Ok(run.map(Into::into))
    }
}
