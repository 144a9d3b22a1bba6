//! What viewers did to videos: likes, coins, favourites, shares and counted views. Each table's
//! primary key is (video, viewer), which is what makes every action idempotent per viewer;
//! each function reports whether it changed anything, so the caller bumps the counters only then.

use super::schema::content::{video_favourites, video_likes, video_shares};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Int2, Int4, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// Most coins one viewer may give one video.
pub const MAX_COINS_PER_VIEWER: i16 = 2;

/// Likes; `true` when the like is new.
pub async fn like(conn: &mut AsyncPgConnection, video_id: Uuid, user_id: Uuid) -> QueryResult<bool> {
    diesel::insert_into(video_likes::table)
        .values((video_likes::video_id.eq(video_id), video_likes::user_id.eq(user_id)))
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(|n| n > 0)
}

/// Withdraws a like; `true` when there was one.
pub async fn unlike(conn: &mut AsyncPgConnection, video_id: Uuid, user_id: Uuid) -> QueryResult<bool> {
    diesel::delete(video_likes::table.find((video_id, user_id))).execute(conn).await.map(|n| n > 0)
}

/// Favourites; `true` when new.
pub async fn favourite(conn: &mut AsyncPgConnection, video_id: Uuid, user_id: Uuid) -> QueryResult<bool> {
    diesel::insert_into(video_favourites::table)
        .values((video_favourites::video_id.eq(video_id), video_favourites::user_id.eq(user_id)))
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(|n| n > 0)
}

/// Withdraws a favourite; `true` when there was one.
pub async fn unfavourite(conn: &mut AsyncPgConnection, video_id: Uuid, user_id: Uuid) -> QueryResult<bool> {
    diesel::delete(video_favourites::table.find((video_id, user_id))).execute(conn).await.map(|n| n > 0)
}

/// Records a share; `true` the first time this viewer shares this video (later shares are
/// welcome but do not count again).
pub async fn share(conn: &mut AsyncPgConnection, video_id: Uuid, user_id: Uuid) -> QueryResult<bool> {
    diesel::insert_into(video_shares::table)
        .values((video_shares::video_id.eq(video_id), video_shares::user_id.eq(user_id)))
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(|n| n > 0)
}

#[derive(QueryableByName)]
struct CoinTotal {
    #[diesel(sql_type = Int2)]
    coins: i16,
}

/// Adds `coins` to what this viewer gave the video, in one statement that refuses to pass
/// [`MAX_COINS_PER_VIEWER`] (concurrent requests cannot both slip under the cap). Returns the
/// new total, or `None` when the cap would be passed (nothing changes then).
pub async fn add_coins(conn: &mut AsyncPgConnection, video_id: Uuid, user_id: Uuid, coins: i16) -> QueryResult<Option<i16>> {
    let total: Option<CoinTotal> = diesel::sql_query(
        "INSERT INTO content.video_coins AS c (video_id, user_id, coins) VALUES ($1, $2, $3) \
         ON CONFLICT (video_id, user_id) DO UPDATE SET coins = c.coins + EXCLUDED.coins, updated_at = now() \
         WHERE c.coins + EXCLUDED.coins <= $4 \
         RETURNING coins",
    )
    .bind::<diesel::sql_types::Uuid, _>(video_id)
    .bind::<diesel::sql_types::Uuid, _>(user_id)
    .bind::<Int2, _>(coins)
    .bind::<Int2, _>(MAX_COINS_PER_VIEWER)
    .get_result(conn)
    .await
    .optional()?;
    Ok(total.map(|t| t.coins))
}

/// Counts a view unless this viewer's last counted view of the video is younger than
/// `window_secs`; `true` when it counts.
pub async fn count_view(conn: &mut AsyncPgConnection, video_id: Uuid, viewer_key: &str, window_secs: i32) -> QueryResult<bool> {
    diesel::sql_query(
        "INSERT INTO content.video_views AS v (video_id, viewer_key, last_counted_at) VALUES ($1, $2, now()) \
         ON CONFLICT (video_id, viewer_key) DO UPDATE SET last_counted_at = now() \
         WHERE v.last_counted_at < now() - make_interval(secs => $3)",
    )
    .bind::<diesel::sql_types::Uuid, _>(video_id)
    .bind::<Text, _>(viewer_key)
    .bind::<Int4, _>(window_secs)
    .execute(conn)
    .await
    .map(|n| n > 0)
}

/// What one viewer did to one video.
#[derive(Debug, Clone, Copy, QueryableByName)]
pub struct ViewerState {
    /// The video.
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub video_id: Uuid,
    /// Liked it.
    #[diesel(sql_type = Bool)]
    pub liked: bool,
    /// Coins given (0–2).
    #[diesel(sql_type = Int2)]
    pub coins: i16,
    /// Favourited it.
    #[diesel(sql_type = Bool)]
    pub favourited: bool,
    /// Shared it.
    #[diesel(sql_type = Bool)]
    pub shared: bool,
    /// Has a counted view.
    #[diesel(sql_type = Bool)]
    pub watched: bool,
}

/// The viewer's state for many videos, in one statement (the viewer-state loader's batch and
/// the feed preload).
pub async fn viewer_states(conn: &mut AsyncPgConnection, user_id: Uuid, video_ids: &[Uuid]) -> QueryResult<Vec<ViewerState>> {
    diesel::sql_query(
        "SELECT v.id AS video_id, \
            EXISTS (SELECT 1 FROM content.video_likes l WHERE l.video_id = v.id AND l.user_id = $1) AS liked, \
            COALESCE((SELECT c.coins FROM content.video_coins c WHERE c.video_id = v.id AND c.user_id = $1), 0::int2) AS coins, \
            EXISTS (SELECT 1 FROM content.video_favourites f WHERE f.video_id = v.id AND f.user_id = $1) AS favourited, \
            EXISTS (SELECT 1 FROM content.video_shares s WHERE s.video_id = v.id AND s.user_id = $1) AS shared, \
            EXISTS (SELECT 1 FROM content.video_views w WHERE w.video_id = v.id AND w.viewer_key = $2) AS watched \
         FROM unnest($3) AS v(id)",
    )
    .bind::<diesel::sql_types::Uuid, _>(user_id)
    .bind::<Text, _>(viewer_key(Some(user_id), None))
    .bind::<Array<diesel::sql_types::Uuid>, _>(video_ids)
    .load(conn)
    .await
}

/// The key a view is de-duplicated on: the account when signed in, else the client address.
pub fn viewer_key(user_id: Option<Uuid>, client_addr: Option<&str>) -> String {
    match (user_id, client_addr) {
        (Some(id), _) => format!("user:{id}"),
        (None, Some(addr)) => format!("addr:{addr}"),
        (None, None) => "addr:unknown".to_owned(),
    }
}

/// Deletes up to `limit` anonymous view markers last counted before `before` (their window
/// is over, so they would count again anyway). A signed-in viewer's marker is kept: it is
/// also their `watched` flag.
pub async fn prune_anonymous_views(conn: &mut AsyncPgConnection, before: DateTime<Utc>, limit: i64) -> QueryResult<usize> {
    diesel::sql_query(
        "DELETE FROM content.video_views WHERE (video_id, viewer_key) IN ( \
            SELECT video_id, viewer_key FROM content.video_views \
            WHERE viewer_key LIKE 'addr:%' AND last_counted_at < $1 LIMIT $2)",
    )
    .bind::<diesel::sql_types::Timestamptz, _>(before)
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .execute(conn)
    .await
}
