//! `ranking.videos`, `ranking.stat_buckets` and `ranking.processed_events`: what ranking knows of
//! each video, built only from content's events, and the growth sums rankings are made of.

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Bool, Int4, Nullable, Text, Timestamptz};
use diesel::{OptionalExtension, QueryResult};
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

/// The state of a video that rankings hold.
pub const PUBLISHED: &str = "published";

/// Where a video stands after a lifecycle event, as stored.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct StoredLifecycle {
    /// The region it was filed under before the event (`None`: ranking did not know it, or the
    /// event was read only).
    #[diesel(sql_type = Nullable<Int4>)]
    pub previous_region: Option<i32>,
    /// Its state now: `draft`, `published` or `removed`.
    #[diesel(sql_type = Text)]
    pub state: String,
    /// Its region now.
    #[diesel(sql_type = Int4)]
    pub region_id: i32,
}

/// Applies a lifecycle event (published, edited, removed) unless it is stale: the newer change
/// wins, by the commit time events carry (`state_at`), whatever the delivery order; `removed`
/// is final (content never brings a removed video back), so nothing after it, older or newer,
/// changes the row. Returns the region before and the row as it is now.
pub async fn apply_lifecycle(conn: &mut AsyncPgConnection, event: &VideoLifecycleEvent) -> QueryResult<StoredLifecycle> {
    diesel::sql_query(
        "WITH old AS (SELECT region_id, state FROM ranking.videos WHERE video_id = $1 FOR UPDATE), \
         upsert AS ( \
            INSERT INTO ranking.videos AS v (video_id, author_id, region_id, published_at, state, state_at, totals_at) \
            VALUES ($1, $2, $3, $4, $5, $6, '-infinity') \
            ON CONFLICT (video_id) DO UPDATE SET author_id = EXCLUDED.author_id, region_id = EXCLUDED.region_id, \
               published_at = EXCLUDED.published_at, state = EXCLUDED.state, state_at = EXCLUDED.state_at \
            WHERE v.state <> 'removed' AND (EXCLUDED.state = 'removed' OR v.state_at < EXCLUDED.state_at) \
            RETURNING region_id, state) \
         SELECT old.region_id AS previous_region, coalesce(upsert.state, old.state) AS state, \
            coalesce(upsert.region_id, old.region_id) AS region_id \
         FROM (SELECT 1) AS one LEFT JOIN old ON true LEFT JOIN upsert ON true",
    )
    .bind::<SqlUuid, _>(event.video_id)
    .bind::<SqlUuid, _>(event.author_id)
    .bind::<Int4, _>(event.region_id)
    .bind::<Nullable<Timestamptz>, _>(event.published_at)
    .bind::<Text, _>(&event.state)
    .bind::<Timestamptz, _>(event.occurred_at)
    .get_result(conn)
    .await
}

/// The stored state and region of a video (`previous_region` is `None`), if ranking knows it.
pub async fn lifecycle(conn: &mut AsyncPgConnection, video_id: Uuid) -> QueryResult<Option<StoredLifecycle>> {
    diesel::sql_query("SELECT NULL::int4 AS previous_region, state, region_id FROM ranking.videos WHERE video_id = $1")
        .bind::<SqlUuid, _>(video_id)
        .get_result(conn)
        .await
        .optional()
}

/// A video whose state or region changed at or after a time.
#[derive(Debug, Clone, diesel::QueryableByName)]
pub struct Changed {
    /// The video.
    #[diesel(sql_type = SqlUuid)]
    pub video_id: Uuid,
    /// Its state now.
    #[diesel(sql_type = Text)]
    pub state: String,
    /// Its region now.
    #[diesel(sql_type = Int4)]
    pub region_id: i32,
}

/// The videos whose lifecycle changed at or after `since` (by content's commit time).
pub async fn changed_since(conn: &mut AsyncPgConnection, since: DateTime<Utc>) -> QueryResult<Vec<Changed>> {
    diesel::sql_query("SELECT video_id, state, region_id FROM ranking.videos WHERE state_at >= $1")
        .bind::<Timestamptz, _>(since)
        .load(conn)
        .await
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
    // One pass over the video's last 30 days of buckets sums all three windows (rather than an
    // index probe per window and video).
    const GROWTH: [&str; 7] = ["views", "likes", "coins", "favourites", "shares", "comments", "danmaku"];
    let window = |interval: &str| {
        let sums: Vec<String> =
            GROWTH.iter().map(|c| format!("coalesce(sum(b.{c}) FILTER (WHERE b.bucket > $1 - interval '{interval}'), 0)")).collect();
        format!("ARRAY[{}]::bigint[]", sums.join(", "))
    };
    let sql = format!(
        "SELECT v.video_id, v.region_id, v.published_at, \
            ARRAY[v.views, v.likes, v.coins, v.favourites, v.shares, v.comments, v.danmaku] AS totals, \
            g.day, g.week, g.month \
         FROM ranking.videos v \
         CROSS JOIN LATERAL ( \
            SELECT {day} AS day, {week} AS week, {month} AS month \
            FROM ranking.stat_buckets b WHERE b.video_id = v.video_id AND b.bucket > $1 - interval '30 days' \
         ) g \
         WHERE v.state = 'published' AND ($2 OR v.video_id = ANY($3)) AND ($4::uuid IS NULL OR v.video_id > $4) \
         ORDER BY v.video_id LIMIT $5",
        day = window("1 day"),
        week = window("7 days"),
        month = window("30 days"),
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
