//! Demo and benchmark data for the hot rankings.
//!
//! Ranking learns videos from content's events; videos that the content seed created directly
//! never produced any. `vidgraph seed` therefore hands ranking the seeded videos it exported
//! from content ([`import`]), and ranking invents a plausible recent history for them
//! ([`synthesize_growth`]) so that the day, week and month rankings are not empty in a demo.

use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel::sql_types::{Array, BigInt, Int4, Nullable, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use platform::events::StatCounts;
use uuid::Uuid;

/// A video as content exported it.
#[derive(Debug, Clone)]
pub struct SeedVideo {
    /// Id.
    pub video_id: Uuid,
    /// Author.
    pub author_id: Uuid,
    /// Region.
    pub region_id: i32,
    /// Publication time.
    pub published_at: Option<DateTime<Utc>>,
    /// Counters.
    pub totals: StatCounts,
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How many videos ranking knows.
pub async fn known_videos(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    Ok(diesel::sql_query("SELECT count(*) AS n FROM ranking.videos").get_result::<Count>(conn).await?.n)
}

/// Inserts the videos ranking does not know yet; returns how many were new.
pub async fn import(conn: &mut AsyncPgConnection, videos: &[SeedVideo]) -> QueryResult<usize> {
    let column = |f: fn(&StatCounts) -> i64| videos.iter().map(|v| f(&v.totals)).collect::<Vec<i64>>();
    diesel::sql_query(
        "INSERT INTO ranking.videos (video_id, author_id, region_id, published_at, state, views, likes, coins, favourites, \
            shares, comments, danmaku, totals_at) \
         SELECT id, author, region, published, 'published', views, likes, coins, favourites, shares, comments, danmaku, now() \
         FROM unnest($1::uuid[], $2::uuid[], $3::int4[], $4::timestamptz[], $5::bigint[], $6::bigint[], $7::bigint[], \
            $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[]) \
            AS t(id, author, region, published, views, likes, coins, favourites, shares, comments, danmaku) \
         ON CONFLICT (video_id) DO NOTHING",
    )
    .bind::<Array<diesel::sql_types::Uuid>, _>(videos.iter().map(|v| v.video_id).collect::<Vec<_>>())
    .bind::<Array<diesel::sql_types::Uuid>, _>(videos.iter().map(|v| v.author_id).collect::<Vec<_>>())
    .bind::<Array<Int4>, _>(videos.iter().map(|v| v.region_id).collect::<Vec<_>>())
    .bind::<Array<Nullable<Timestamptz>>, _>(videos.iter().map(|v| v.published_at).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(column(|c| c.views))
    .bind::<Array<BigInt>, _>(column(|c| c.likes))
    .bind::<Array<BigInt>, _>(column(|c| c.coins))
    .bind::<Array<BigInt>, _>(column(|c| c.favourites))
    .bind::<Array<BigInt>, _>(column(|c| c.shares))
    .bind::<Array<BigInt>, _>(column(|c| c.comments))
    .bind::<Array<BigInt>, _>(column(|c| c.danmaku))
    .execute(conn)
    .await
}

/// Gives every video without growth history a few hourly buckets in the last 30 days, each a
/// small random share of its totals (seeded `random()`, so the same data each time).
pub async fn synthesize_growth(conn: &mut AsyncPgConnection) -> QueryResult<usize> {
    diesel::sql_query("SELECT setseed(0.7)").execute(conn).await?;
    diesel::sql_query(
        "INSERT INTO ranking.stat_buckets (video_id, bucket, views, likes, coins, favourites, shares, comments, danmaku) \
         SELECT v.video_id, date_trunc('hour', now() - random() * interval '30 days'), \
                (v.views * random() * 0.05)::bigint, (v.likes * random() * 0.05)::bigint, (v.coins * random() * 0.05)::bigint, \
                (v.favourites * random() * 0.05)::bigint, (v.shares * random() * 0.05)::bigint, \
                (v.comments * random() * 0.05)::bigint, (v.danmaku * random() * 0.05)::bigint \
         FROM ranking.videos v CROSS JOIN generate_series(1, 3) \
         WHERE v.state = 'published' AND NOT EXISTS (SELECT 1 FROM ranking.stat_buckets b WHERE b.video_id = v.video_id) \
         ON CONFLICT (video_id, bucket) DO NOTHING",
    )
    .execute(conn)
    .await
}
