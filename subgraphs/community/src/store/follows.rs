//! `community.user_follows`: who follows whom. A pair's row outlives an unfollow (`following`
//! false) so that its `changed_at` only ever grows: each change of a pair is strictly later
//! than the one before, even within one microsecond or with a clock that stepped back, and the
//! consumers of `FollowEvent` (which keep the latest change per pair) can never tie.

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Nullable, Timestamptz, Uuid as SqlUuid};
use diesel::{OptionalExtension, QueryResult};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

#[derive(diesel::QueryableByName)]
struct Changed {
    #[diesel(sql_type = Timestamptz)]
    changed_at: DateTime<Utc>,
}

/// Makes `follower` follow `followee` as of `now`. Returns the change time when it changed
/// (`None`: already following). Locks the pair's row (step 1 of the lock order).
pub async fn follow(
    conn: &mut AsyncPgConnection,
    follower: Uuid,
    followee: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Option<DateTime<Utc>>> {
    let row: Option<Changed> = diesel::sql_query(
        "INSERT INTO community.user_follows AS f (follower_id, followee_id, following, followed_at, changed_at) \
         VALUES ($1, $2, true, $3, $3) \
         ON CONFLICT (follower_id, followee_id) DO UPDATE \
           SET following = true, followed_at = EXCLUDED.followed_at, \
               changed_at = GREATEST(EXCLUDED.changed_at, f.changed_at + interval '1 microsecond') \
         WHERE NOT f.following \
         RETURNING f.changed_at",
    )
    .bind::<SqlUuid, _>(follower)
    .bind::<SqlUuid, _>(followee)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .await
    .optional()?;
    Ok(row.map(|row| row.changed_at))
}

/// Makes `follower` stop following `followee` as of `now`. Returns the change time when it
/// changed (`None`: was not following).
pub async fn unfollow(
    conn: &mut AsyncPgConnection,
    follower: Uuid,
    followee: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Option<DateTime<Utc>>> {
    let row: Option<Changed> = diesel::sql_query(
        "UPDATE community.user_follows SET following = false, \
           changed_at = GREATEST($3, changed_at + interval '1 microsecond') \
         WHERE follower_id = $1 AND followee_id = $2 AND following \
         RETURNING changed_at",
    )
    .bind::<SqlUuid, _>(follower)
    .bind::<SqlUuid, _>(followee)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .await
    .optional()?;
    Ok(row.map(|row| row.changed_at))
}

/// One follow of a list: the other user and when the follow began.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct FollowRow {
    /// The followed user (in a following list) or the follower (in a followers list).
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    /// When the current follow began.
    #[diesel(sql_type = Timestamptz)]
    pub followed_at: DateTime<Utc>,
}

/// A position in a follow list: (`followed_at`, user id) of the last row seen.
pub type ListPosition = (DateTime<Utc>, Uuid);

/// Whom `user` follows, most recent first, `limit` rows strictly after `after`.
pub async fn following(conn: &mut AsyncPgConnection, user: Uuid, after: Option<ListPosition>, limit: i64) -> QueryResult<Vec<FollowRow>> {
    list(conn, "followee_id", "follower_id", user, after, limit).await
}

/// Who follows `user`, most recent first, `limit` rows strictly after `after`.
pub async fn followers(conn: &mut AsyncPgConnection, user: Uuid, after: Option<ListPosition>, limit: i64) -> QueryResult<Vec<FollowRow>> {
    list(conn, "follower_id", "followee_id", user, after, limit).await
}

async fn list(
    conn: &mut AsyncPgConnection,
    other: &str,
    owner: &str,
    user: Uuid,
    after: Option<ListPosition>,
    limit: i64,
) -> QueryResult<Vec<FollowRow>> {
    // `other` and `owner` are the two fixed column names above, never input.
    diesel::sql_query(format!(
        "SELECT {other} AS user_id, followed_at FROM community.user_follows \
         WHERE {owner} = $1 AND following AND ($2::timestamptz IS NULL OR (followed_at, {other}) < ($2, $3)) \
         ORDER BY followed_at DESC, {other} DESC LIMIT $4"
    ))
    .bind::<SqlUuid, _>(user)
    .bind::<Nullable<Timestamptz>, _>(after.map(|(at, _)| at))
    .bind::<Nullable<SqlUuid>, _>(after.map(|(_, id)| id))
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

#[derive(diesel::QueryableByName)]
struct Pair {
    #[diesel(sql_type = SqlUuid)]
    follower_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    followee_id: Uuid,
}

/// Which of these (follower, followee) pairs currently follow, in one statement.
pub async fn following_pairs(conn: &mut AsyncPgConnection, pairs: &[(Uuid, Uuid)]) -> QueryResult<Vec<(Uuid, Uuid)>> {
    let (followers, followees): (Vec<Uuid>, Vec<Uuid>) = pairs.iter().copied().unzip();
    let rows: Vec<Pair> = diesel::sql_query(
        "SELECT f.follower_id, f.followee_id FROM community.user_follows f \
         JOIN unnest($1::uuid[], $2::uuid[]) AS k(follower_id, followee_id) \
           ON f.follower_id = k.follower_id AND f.followee_id = k.followee_id \
         WHERE f.following",
    )
    .bind::<Array<SqlUuid>, _>(&followers)
    .bind::<Array<SqlUuid>, _>(&followees)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|row| (row.follower_id, row.followee_id)).collect())
}
