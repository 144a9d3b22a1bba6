//! `ranking.videos`, `ranking.stat_buckets` and `ranking.processed_events`: what ranking knows of
//! each video, built only from content's events, and the growth sums rankings are made of.

use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel::sql_types::{Array, BigInt, Bool, Int4, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use platform::events::{StatCounts, StatEvent, VideoLifecycleEvent};
use uuid::Uuid;

type SqlUuid = diesel::sql_types::Uuid;

/// Records that `event_id` is being applied; `false` when it already was (a redelivery), in
/// which case the caller applies nothing. Call it in the transaction that applies the event.
pub async fn mark_processed(conn: &mut AsyncPgConnection, event_id: Uuid) -> QueryResult<bool> {
    diesel::sql_query("INSERT INTO ranking.processed_events (event_id) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind::<SqlUuid, _>(event_id)
        .execute(conn)
        .await
        .map(|n| n > 0)
}

/// Forgets processed ids older than `before` (the stream no longer redelivers them).
pub async fn prune_processed(conn: &mut AsyncPgConnection, before: DateTime<Utc>) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM ranking.processed_events WHERE processed_at < $1").bind::<Timestamptz, _>(before).execute(conn).await
}

/// Applies a stat event: the video's totals (unless newer ones are stored already) and the
/// growth in the hour bucket of the change.
pub async fn apply_stats(conn: &mut AsyncPgConnection, event: &StatEvent) -> QueryResult<()> {
    let t = &event.totals;
    diesel::sql_query(
        "INSERT INTO ranking.videos AS v (video_id, author_id, region_id, published_at, state, views, likes, coins, favourites, \
            shares, comments, danmaku, totals_at) \
         VALUES ($1, $2, $3, $4, 'published', $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (video_id) DO UPDATE SET views = EXCLUDED.views, likes = EXCLUDED.likes, coins = EXCLUDED.coins, \
            favourites = EXCLUDED.favourites, shares = EXCLUDED.shares, comments = EXCLUDED.comments, \
            danmaku = EXCLUDED.danmaku, totals_at = EXCLUDED.totals_at \
         WHERE v.totals_at <= EXCLUDED.totals_at",
    )
    .bind::<SqlUuid, _>(event.video_id)
    .bind::<SqlUuid, _>(event.author_id)
    .bind::<Int4, _>(event.region_id)
    .bind::<Nullable<Timestamptz>, _>(event.published_at)
    .bind::<BigInt, _>(t.views)
    .bind::<BigInt, _>(t.likes)
    .bind::<BigInt, _>(t.coins)
    .bind::<BigInt, _>(t.favourites)
    .bind::<BigInt, _>(t.shares)
    .bind::<BigInt, _>(t.comments)
    .bind::<BigInt, _>(t.danmaku)
    .bind::<Timestamptz, _>(event.occurred_at)
    .execute(conn)
    .await?;
    add_growth(conn, event.video_id, event.occurred_at, &event.delta).await
}

/// Adds `delta` to the hour bucket of `at`.
pub async fn add_growth(conn: &mut AsyncPgConnection, video_id: Uuid, at: DateTime<Utc>, delta: &StatCounts) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO ranking.stat_buckets AS b (video_id, bucket, views, likes, coins, favourites, shares, comments, danmaku) \
         VALUES ($1, date_trunc('hour', $2::timestamptz), $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (video_id, bucket) DO UPDATE SET views = b.views + EXCLUDED.views, likes = b.likes + EXCLUDED.likes, \
            coins = b.coins + EXCLUDED.coins, favourites = b.favourites + EXCLUDED.favourites, shares = b.shares + EXCLUDED.shares, \
            comments = b.comments + EXCLUDED.comments, danmaku = b.danmaku + EXCLUDED.danmaku",
    )
    .bind::<SqlUuid, _>(video_id)
    .bind::<Timestamptz, _>(at)
    .bind::<BigInt, _>(delta.views)
    .bind::<BigInt, _>(delta.likes)
    .bind::<BigInt, _>(delta.coins)
    .bind::<BigInt, _>(delta.favourites)
    .bind::<BigInt, _>(delta.shares)
    .bind::<BigInt, _>(delta.comments)
    .bind::<BigInt, _>(delta.danmaku)
    .execute(conn)
    .await
    .map(|_| ())
}

#[derive(diesel::QueryableByName)]
struct PreviousRegion {
    #[diesel(sql_type = Nullable<Int4>)]
    previous_region: Option<i32>,
}

/// Applies a lifecycle event (published, edited, removed); returns the region the video was
/// filed under before, when ranking knew it.
pub async fn apply_lifecycle(conn: &mut AsyncPgConnection, event: &VideoLifecycleEvent) -> QueryResult<Option<i32>> {
    let previous: PreviousRegion = diesel::sql_query(
        "WITH old AS (SELECT region_id FROM ranking.videos WHERE video_id = $1 FOR UPDATE), \
         upsert AS ( \
            INSERT INTO ranking.videos AS v (video_id, author_id, region_id, published_at, state, totals_at) \
            VALUES ($1, $2, $3, $4, $5, '-infinity') \
            ON CONFLICT (video_id) DO UPDATE SET author_id = EXCLUDED.author_id, region_id = EXCLUDED.region_id, \
               published_at = EXCLUDED.published_at, state = EXCLUDED.state) \
         SELECT (SELECT region_id FROM old) AS previous_region",
    )
    .bind::<SqlUuid, _>(event.video_id)
    .bind::<SqlUuid, _>(event.author_id)
    .bind::<Int4, _>(event.region_id)
    .bind::<Nullable<Timestamptz>, _>(event.published_at)
    .bind::<Text, _>(&event.state)
    .get_result(conn)
    .await?;
    Ok(previous.previous_region)
}

/// A published video with its lifetime totals and its growth in each range, as of one time.
#[derive(Debug, Clone, diesel::QueryableByName)]
pub struct VideoSums {
    /// The video.
    #[diesel(sql_type = SqlUuid)]
    pub video_id: Uuid,
    /// Its region.
    #[diesel(sql_type = Int4)]
    pub region_id: i32,
    /// Its publication time (for the new-video boost).
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub published_at: Option<DateTime<Utc>>,
    /// Lifetime totals (views, likes, coins, favourites, shares, comments, danmaku).
    #[diesel(sql_type = Array<BigInt>)]
    pub totals: Vec<i64>,
    /// Growth in the last day, same order.
    #[diesel(sql_type = Array<BigInt>)]
    pub day: Vec<i64>,
    /// Growth in the last 7 days.
    #[diesel(sql_type = Array<BigInt>)]
    pub week: Vec<i64>,
    /// Growth in the last 30 days.
    #[diesel(sql_type = Array<BigInt>)]
    pub month: Vec<i64>,
}

/// The counters of one of the arrays of [`VideoSums`].
pub fn counts(values: &[i64]) -> StatCounts {
    let at = |i: usize| values.get(i).copied().unwrap_or(0);
    StatCounts { views: at(0), likes: at(1), coins: at(2), favourites: at(3), shares: at(4), comments: at(5), danmaku: at(6) }
}

/// The sums of published videos as of `as_of`: those in `ids`, or (when `ids` is `None`) the
/// next `limit` after `after` in id order. One statement for the whole set.
pub async fn sums(
    conn: &mut AsyncPgConnection,
    ids: Option<&[Uuid]>,
    after: Option<Uuid>,
    as_of: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<VideoSums>> {
    const GROWTH: &str = "ARRAY[coalesce(sum(b.views), 0), coalesce(sum(b.likes), 0), coalesce(sum(b.coins), 0), coalesce(sum(b.favourites), 0), \
        coalesce(sum(b.shares), 0), coalesce(sum(b.comments), 0), coalesce(sum(b.danmaku), 0)]";
    let sql = format!(
        "SELECT v.video_id, v.region_id, v.published_at, \
            ARRAY[v.views, v.likes, v.coins, v.favourites, v.shares, v.comments, v.danmaku] AS totals, \
            coalesce(g.day, '{{}}') AS day, coalesce(g.week, '{{}}') AS week, coalesce(g.month, '{{}}') AS month \
         FROM ranking.videos v \
         LEFT JOIN LATERAL ( \
            SELECT (SELECT {GROWTH} FROM ranking.stat_buckets b WHERE b.video_id = v.video_id AND b.bucket > $1 - interval '1 day')::bigint[] AS day, \
                   (SELECT {GROWTH} FROM ranking.stat_buckets b WHERE b.video_id = v.video_id AND b.bucket > $1 - interval '7 days')::bigint[] AS week, \
                   (SELECT {GROWTH} FROM ranking.stat_buckets b WHERE b.video_id = v.video_id AND b.bucket > $1 - interval '30 days')::bigint[] AS month \
         ) g ON true \
         WHERE v.state = 'published' AND ($2 OR v.video_id = ANY($3)) AND ($4::uuid IS NULL OR v.video_id > $4) \
         ORDER BY v.video_id LIMIT $5"
    );
    diesel::sql_query(sql)
        .bind::<Timestamptz, _>(as_of)
        .bind::<Bool, _>(ids.is_none())
        .bind::<Array<SqlUuid>, _>(ids.unwrap_or(&[]))
        .bind::<Nullable<SqlUuid>, _>(after)
        .bind::<BigInt, _>(limit)
        .load(conn)
        .await
}
