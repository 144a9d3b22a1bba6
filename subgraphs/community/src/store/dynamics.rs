//! `community.dynamics`, `community.dynamic_comments` and `community.push_settings` (a
//! dynamic's likes are rows of `community.likes`, written by [`super::likes`]).
//!
//! Lock order (see [`crate::store`]): a like row (step 1), a dynamic comment (step 2), a dynamic
//! (step 3: dynamics rank with posts; no transaction locks both), then counters (step 4).

use chrono::{DateTime, Utc};
use diesel::OptionalExtension;
use diesel::QueryResult;
use diesel::sql_types::{Array, BigInt, Bool, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A hand-written dynamic.
pub const KIND_POST: &str = "post";
/// A dynamic made when a streamer went live.
pub const KIND_LIVE: &str = "live";
/// A dynamic made when a streamer published a video.
pub const KIND_VIDEO: &str = "video";
/// Visible in the feeds and pushed.
pub const PUBLISHED: &str = "published";
/// Flagged by the keyword filter: its author sees it, nobody else, and it is not pushed until
/// an admin approves it.
pub const PENDING: &str = "pending";
/// Rejected by an admin: its author sees it (with the reason), nobody else.
pub const REJECTED: &str = "rejected";
/// The `target_kind` of a dynamic's like in `community.likes`.
pub const LIKE_KIND: &str = "dynamic";

/// A dynamic, as committed (it is also the payload of the push event, so a replica delivering
/// it never re-reads it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, diesel::QueryableByName)]
pub struct Dynamic {
    /// Id.
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// The streamer.
    #[diesel(sql_type = SqlUuid)]
    pub author_id: Uuid,
    /// [`KIND_POST`], [`KIND_LIVE`] or [`KIND_VIDEO`].
    #[diesel(sql_type = Text)]
    pub kind: String,
    /// Text (a live dynamic: the room's title).
    #[diesel(sql_type = Text)]
    pub body: String,
    /// Image URLs.
    #[diesel(sql_type = Array<Text>)]
    pub image_urls: Vec<String>,
    /// The video published (video dynamics).
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub video_id: Option<Uuid>,
    /// The room that went live (live dynamics).
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub room_id: Option<Uuid>,
    /// [`PUBLISHED`], [`PENDING`] or [`REJECTED`].
    #[diesel(sql_type = Text)]
    pub state: String,
    /// Sum of its likes' weights.
    #[diesel(sql_type = BigInt)]
    pub like_score: i64,
    /// Live comments.
    #[diesel(sql_type = BigInt)]
    pub comment_count: i64,
    /// When it was made.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// The id of the transaction that wrote it (the polling order).
    #[diesel(sql_type = BigInt)]
    pub txid: i64,
    /// When it was deleted.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub deleted_at: Option<DateTime<Utc>>,
}

impl Dynamic {
    /// Whether others see it: published and not deleted.
    pub fn visible(&self) -> bool {
        self.state == PUBLISHED && self.deleted_at.is_none()
    }
}

const COLUMNS: &str = "d.id, d.author_id, d.kind, d.body, d.image_urls, d.video_id, d.room_id, d.state, d.like_score, \
     d.comment_count, d.created_at, d.txid::text::bigint AS txid, d.deleted_at";

impl super::review::Reviewed for Dynamic {
    // Aliased, as `COLUMNS` reads `d.`: `UPDATE community.dynamics d … RETURNING d.…`.
    const TABLE: &'static str = "community.dynamics d";
    const COLUMNS: &'static str = COLUMNS;
}

/// Moves an approved dynamic to the polling position of the caller's transaction, so that
/// `dynamicsSince` pollers, who are past the position it was written at, find it now.
pub async fn republish(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Dynamic> {
    diesel::sql_query(format!("UPDATE community.dynamics d SET txid = pg_current_xact_id() WHERE d.id = $1 RETURNING {COLUMNS}"))
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .await
}

/// The bind values of a newest-first keyset position `(micros, id)` (`None`: the first page).
fn keyset(after: Option<(i64, Uuid)>) -> (Option<DateTime<Utc>>, Uuid) {
    (after.and_then(|(micros, _)| DateTime::from_timestamp_micros(micros)), after.map_or(Uuid::nil(), |(_, id)| id))
}

/// A new dynamic.
#[derive(Debug, Clone)]
pub struct NewDynamic<'a> {
    /// Id.
    pub id: Uuid,
    /// The streamer.
    pub author_id: Uuid,
    /// Its kind.
    pub kind: &'a str,
    /// Text.
    pub body: &'a str,
    /// Image URLs.
    pub image_urls: &'a [String],
    /// A video.
    pub video_id: Option<Uuid>,
    /// A room.
    pub room_id: Option<Uuid>,
    /// The source event's (kind, id) for system dynamics.
    pub source: Option<(&'a str, Uuid)>,
    /// Its state.
    pub state: &'a str,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Inserts a dynamic; `None` when one from the same source exists already (nothing changes).
pub async fn insert(conn: &mut AsyncPgConnection, new: &NewDynamic<'_>) -> QueryResult<Option<Dynamic>> {
    diesel::sql_query(format!(
        "WITH d AS (INSERT INTO community.dynamics \
           (id, author_id, kind, body, image_urls, video_id, room_id, source_kind, source_id, state, created_at) \
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (source_kind, source_id) DO NOTHING RETURNING *) \
         SELECT {COLUMNS} FROM d"
    ))
    .bind::<SqlUuid, _>(new.id)
    .bind::<SqlUuid, _>(new.author_id)
    .bind::<Text, _>(new.kind)
    .bind::<Text, _>(new.body)
    .bind::<Array<Text>, _>(new.image_urls)
    .bind::<Nullable<SqlUuid>, _>(new.video_id)
    .bind::<Nullable<SqlUuid>, _>(new.room_id)
    .bind::<Nullable<Text>, _>(new.source.map(|(kind, _)| kind))
    .bind::<Nullable<SqlUuid>, _>(new.source.map(|(_, id)| id))
    .bind::<Text, _>(new.state)
    .bind::<Timestamptz, _>(new.created_at)
    .get_result(conn)
    .await
    .optional()
}

/// These dynamics (deleted ones included; unknown ids absent), in one statement.
pub async fn find_many(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<Dynamic>> {
    diesel::sql_query(format!("SELECT {COLUMNS} FROM community.dynamics d WHERE d.id = ANY($1)"))
        .bind::<Array<SqlUuid>, _>(ids)
        .load(conn)
        .await
}

/// Locks a live (not deleted) dynamic (step 3).
pub async fn lock_live(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Dynamic>> {
    diesel::sql_query(format!("SELECT {COLUMNS} FROM community.dynamics d WHERE d.id = $1 AND d.deleted_at IS NULL FOR UPDATE"))
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .await
        .optional()
}

/// Locks a dynamic, deleted or not (step 3).
pub async fn lock_any(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Dynamic>> {
    diesel::sql_query(format!("SELECT {COLUMNS} FROM community.dynamics d WHERE d.id = $1 FOR UPDATE"))
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .await
        .optional()
}

/// Marks a dynamic deleted.
pub async fn delete(conn: &mut AsyncPgConnection, id: Uuid, by: Uuid, reason: Option<&str>, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::sql_query("UPDATE community.dynamics SET deleted_at = $2, deleted_by = $3, delete_reason = $4 WHERE id = $1")
        .bind::<SqlUuid, _>(id)
        .bind::<Timestamptz, _>(now)
        .bind::<SqlUuid, _>(by)
        .bind::<Nullable<Text>, _>(reason)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Adds to a dynamic's like score and comment count; returns the like score after it.
pub async fn add_counts(conn: &mut AsyncPgConnection, id: Uuid, likes: i64, comments: i64) -> QueryResult<i64> {
    #[derive(diesel::QueryableByName)]
    struct Score {
        #[diesel(sql_type = BigInt)]
        like_score: i64,
    }
    let row: Score = diesel::sql_query(
        "UPDATE community.dynamics SET like_score = like_score + $2, comment_count = comment_count + $3 WHERE id = $1 RETURNING like_score",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<BigInt, _>(likes)
    .bind::<BigInt, _>(comments)
    .get_result(conn)
    .await?;
    Ok(row.like_score)
}

/// A page of one author's dynamics, newest first, after `(micros, id)`. `with_pending`: the
/// author's own view, which includes what the keyword filter held back.
pub async fn by_author(
    conn: &mut AsyncPgConnection,
    author: Uuid,
    with_pending: bool,
    after: Option<(i64, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<Dynamic>> {
    let (at, id) = keyset(after);
    diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM community.dynamics d \
         WHERE d.author_id = $1 AND d.deleted_at IS NULL AND (d.state = 'published' OR $2) \
           AND ($3::timestamptz IS NULL OR (d.created_at, d.id) < ($3, $4)) \
         ORDER BY d.created_at DESC, d.id DESC LIMIT $5"
    ))
    .bind::<SqlUuid, _>(author)
    .bind::<Bool, _>(with_pending)
    .bind::<Nullable<Timestamptz>, _>(at)
    .bind::<SqlUuid, _>(id)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// A page of the published dynamics of everyone `viewer` follows, newest first, after
/// `(micros, id)`: one statement whatever the page size.
pub async fn of_followed(conn: &mut AsyncPgConnection, viewer: Uuid, after: Option<(i64, Uuid)>, limit: i64) -> QueryResult<Vec<Dynamic>> {
    let (at, id) = keyset(after);
    diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM community.user_follows f \
         CROSS JOIN LATERAL ( \
           SELECT * FROM community.dynamics d \
           WHERE d.author_id = f.followee_id AND d.deleted_at IS NULL AND d.state = 'published' \
             AND ($2::timestamptz IS NULL OR (d.created_at, d.id) < ($2, $3)) \
           ORDER BY d.created_at DESC, d.id DESC LIMIT $4) d \
         WHERE f.follower_id = $1 AND f.following \
         ORDER BY d.created_at DESC, d.id DESC LIMIT $4"
    ))
    .bind::<SqlUuid, _>(viewer)
    .bind::<Nullable<Timestamptz>, _>(at)
    .bind::<SqlUuid, _>(id)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// The position where polling starts "now": the oldest transaction still running (anything
/// that commits later has a transaction id at least this).
pub async fn poll_start(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    #[derive(diesel::QueryableByName)]
    struct Start {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let row: Start = diesel::sql_query("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS n").get_result(conn).await?;
    Ok(row.n)
}

/// The published dynamics of everyone `viewer` follows written after `(txid, id)`, oldest
/// first, only by transactions older than every transaction still running: a dynamic whose
/// transaction is still open is returned by a later poll, never skipped.
pub async fn of_followed_since(conn: &mut AsyncPgConnection, viewer: Uuid, after: (i64, Uuid), limit: i64) -> QueryResult<Vec<Dynamic>> {
    diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM community.user_follows f \
         CROSS JOIN LATERAL ( \
           SELECT * FROM community.dynamics d \
           WHERE d.author_id = f.followee_id AND d.deleted_at IS NULL AND d.state = 'published' \
             AND (d.txid, d.id) > ($2::text::xid8, $3) \
             AND d.txid < pg_snapshot_xmin(pg_current_snapshot()) \
           ORDER BY d.txid, d.id LIMIT $4) d \
         WHERE f.follower_id = $1 AND f.following \
         ORDER BY d.txid, d.id LIMIT $4"
    ))
    .bind::<SqlUuid, _>(viewer)
    .bind::<Text, _>(after.0.to_string())
    .bind::<SqlUuid, _>(after.1)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// Which of `users` follow `author`: one statement for all the users connected to a replica.
pub async fn followers_among(conn: &mut AsyncPgConnection, author: Uuid, users: &[Uuid]) -> QueryResult<Vec<Uuid>> {
    #[derive(diesel::QueryableByName)]
    struct Follower {
        #[diesel(sql_type = SqlUuid)]
        follower_id: Uuid,
    }
    let rows: Vec<Follower> =
        diesel::sql_query("SELECT follower_id FROM community.user_follows WHERE followee_id = $1 AND following AND follower_id = ANY($2)")
            .bind::<SqlUuid, _>(author)
            .bind::<Array<SqlUuid>, _>(users)
            .load(conn)
            .await?;
    Ok(rows.into_iter().map(|row| row.follower_id).collect())
}

/// A comment on a dynamic.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct DynamicComment {
    /// Id.
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// The dynamic.
    #[diesel(sql_type = SqlUuid)]
    pub dynamic_id: Uuid,
    /// Its author.
    #[diesel(sql_type = SqlUuid)]
    pub author_id: Uuid,
    /// Text.
    #[diesel(sql_type = Text)]
    pub body: String,
    /// When it was written.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// When it was deleted.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub deleted_at: Option<DateTime<Utc>>,
}

const COMMENT_COLUMNS: &str = "id, dynamic_id, author_id, body, created_at, deleted_at";

/// Inserts a comment.
pub async fn insert_comment(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    dynamic: Uuid,
    author: Uuid,
    body: &str,
    now: DateTime<Utc>,
) -> QueryResult<DynamicComment> {
    diesel::sql_query(format!(
        "INSERT INTO community.dynamic_comments (id, dynamic_id, author_id, body, created_at) VALUES ($1, $2, $3, $4, $5) \
         RETURNING {COMMENT_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<SqlUuid, _>(dynamic)
    .bind::<SqlUuid, _>(author)
    .bind::<Text, _>(body)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .await
}

/// Locks a live comment (step 2).
pub async fn lock_live_comment(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<DynamicComment>> {
    diesel::sql_query(format!("SELECT {COMMENT_COLUMNS} FROM community.dynamic_comments WHERE id = $1 AND deleted_at IS NULL FOR UPDATE"))
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .await
        .optional()
}

/// Marks a comment deleted.
pub async fn delete_comment(conn: &mut AsyncPgConnection, id: Uuid, by: Uuid, reason: Option<&str>, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::sql_query("UPDATE community.dynamic_comments SET deleted_at = $2, deleted_by = $3, delete_reason = $4 WHERE id = $1")
        .bind::<SqlUuid, _>(id)
        .bind::<Timestamptz, _>(now)
        .bind::<SqlUuid, _>(by)
        .bind::<Nullable<Text>, _>(reason)
        .execute(conn)
        .await
        .map(|_| ())
}

/// A page of a dynamic's live comments, newest first.
pub async fn comments(
    conn: &mut AsyncPgConnection,
    dynamic: Uuid,
    after: Option<(i64, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<DynamicComment>> {
    let (at, id) = keyset(after);
    diesel::sql_query(format!(
        "SELECT {COMMENT_COLUMNS} FROM community.dynamic_comments \
         WHERE dynamic_id = $1 AND deleted_at IS NULL AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3)) \
         ORDER BY created_at DESC, id DESC LIMIT $4"
    ))
    .bind::<SqlUuid, _>(dynamic)
    .bind::<Nullable<Timestamptz>, _>(at)
    .bind::<SqlUuid, _>(id)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// The push switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::QueryableByName)]
pub struct PushSettings {
    /// Whether new dynamics are pushed.
    #[diesel(sql_type = Bool)]
    pub enabled: bool,
    /// How often clients should poll `dynamicsSince` (seconds).
    #[diesel(sql_type = Integer)]
    pub poll_interval_secs: i32,
    /// When it last changed.
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
}

/// The push switch as committed.
pub async fn push_settings(conn: &mut AsyncPgConnection) -> QueryResult<PushSettings> {
    diesel::sql_query("SELECT enabled, poll_interval_secs, updated_at FROM community.push_settings").get_result(conn).await
}

/// Sets the push switch.
pub async fn set_push_settings(
    conn: &mut AsyncPgConnection,
    enabled: bool,
    poll_interval_secs: i32,
    by: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<PushSettings> {
    diesel::sql_query(
        "UPDATE community.push_settings SET enabled = $1, poll_interval_secs = $2, updated_by = $3, updated_at = $4 \
         RETURNING enabled, poll_interval_secs, updated_at",
    )
    .bind::<Bool, _>(enabled)
    .bind::<Integer, _>(poll_interval_secs)
    .bind::<SqlUuid, _>(by)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .await
}
