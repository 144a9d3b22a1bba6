//! `content.video_stats`: the counters of each video, changed only inside the transaction of
//! the interaction that changes them (see `events::catalogue::CatalogueEvents::stat_changed`).

use super::schema::content::video_stats;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use platform::events::StatCounts;
use uuid::Uuid;

/// The counters of one video.
#[derive(Debug, Clone, Copy, Queryable, Selectable)]
#[diesel(table_name = video_stats, check_for_backend(diesel::pg::Pg))]
pub struct VideoStat {
    /// The video.
    pub video_id: Uuid,
    /// Counted views.
    pub views: i64,
    /// Likes.
    pub likes: i64,
    /// Coins.
    pub coins: i64,
    /// Favourites.
    pub favourites: i64,
    /// Shares.
    pub shares: i64,
    /// Comments.
    pub comments: i64,
    /// VOD danmaku.
    pub danmaku: i64,
}

impl VideoStat {
    /// All zero (a video nobody touched yet).
    pub fn zero(video_id: Uuid) -> VideoStat {
        VideoStat { video_id, views: 0, likes: 0, coins: 0, favourites: 0, shares: 0, comments: 0, danmaku: 0 }
    }

    /// The counters as the event contract carries them.
    pub fn counts(&self) -> StatCounts {
        StatCounts {
            views: self.views,
            likes: self.likes,
            coins: self.coins,
            favourites: self.favourites,
            shares: self.shares,
            comments: self.comments,
            danmaku: self.danmaku,
        }
    }
}

/// The stat row of a new video.
pub async fn create(conn: &mut AsyncPgConnection, video_id: Uuid) -> QueryResult<()> {
    diesel::insert_into(video_stats::table)
        .values(video_stats::video_id.eq(video_id))
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(|_| ())
}

/// Adds `delta` to the counters in one statement (the row lock serialises concurrent changes)
/// and returns the new totals.
pub async fn add(conn: &mut AsyncPgConnection, video_id: Uuid, delta: &StatCounts) -> QueryResult<VideoStat> {
    diesel::update(video_stats::table.find(video_id))
        .set((
            video_stats::views.eq(video_stats::views + delta.views),
            video_stats::likes.eq(video_stats::likes + delta.likes),
            video_stats::coins.eq(video_stats::coins + delta.coins),
            video_stats::favourites.eq(video_stats::favourites + delta.favourites),
            video_stats::shares.eq(video_stats::shares + delta.shares),
            video_stats::comments.eq(video_stats::comments + delta.comments),
            video_stats::danmaku.eq(video_stats::danmaku + delta.danmaku),
            video_stats::updated_at.eq(diesel::dsl::now),
        ))
        .returning(VideoStat::as_returning())
        .get_result(conn)
        .await
}

/// The counters of many videos, in one statement (the stat loader's batch).
pub async fn find_many(conn: &mut AsyncPgConnection, video_ids: &[Uuid]) -> QueryResult<Vec<VideoStat>> {
    video_stats::table.filter(video_stats::video_id.eq_any(video_ids)).select(VideoStat::as_select()).load(conn).await
}
