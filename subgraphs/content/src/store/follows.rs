//! `content.follows`: the projection of `community`'s follow graph that the following feed
//! reads. Only `community` changes the graph; this table follows its events.

use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// Records that `follower_id` follows (or stopped following) `followee_id` as of `changed_at`.
/// An older change than the one stored is ignored, so redelivered and reordered events leave
/// the latest state. Returns whether the row changed.
pub async fn apply(
    conn: &mut AsyncPgConnection,
    follower_id: Uuid,
    followee_id: Uuid,
    following: bool,
    changed_at: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::sql_query(
        "INSERT INTO content.follows AS f (follower_id, followee_id, following, changed_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (follower_id, followee_id) DO UPDATE SET following = EXCLUDED.following, changed_at = EXCLUDED.changed_at \
         WHERE f.changed_at < EXCLUDED.changed_at",
    )
    .bind::<diesel::sql_types::Uuid, _>(follower_id)
    .bind::<diesel::sql_types::Uuid, _>(followee_id)
    .bind::<diesel::sql_types::Bool, _>(following)
    .bind::<diesel::sql_types::Timestamptz, _>(changed_at)
    .execute(conn)
    .await
    .map(|n| n > 0)
}
