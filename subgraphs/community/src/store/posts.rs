//! `community.posts` (step 3 of the lock order: a writer locks its post with
//! [`lock_live`]/[`lock_any`] after any comments and before counters).

use super::moderation::NOT_HIDDEN;
use chrono::{DateTime, Utc};
use diesel::OptionalExtension;
use diesel::QueryResult;
use diesel::sql_types::{Array, BigInt, Bool, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// A post.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct Post {
    /// Id.
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// Its zone.
    #[diesel(sql_type = SqlUuid)]
    pub zone_id: Uuid,
    /// Its author.
    #[diesel(sql_type = SqlUuid)]
    pub author_id: Uuid,
    /// Text.
    #[diesel(sql_type = Text)]
    pub body: String,
    /// Image URLs.
    #[diesel(sql_type = Array<Text>)]
    pub image_urls: Vec<String>,
    /// A video of `content`.
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub video_id: Option<Uuid>,
    /// Sum of its likes' weights.
    #[diesel(sql_type = BigInt)]
    pub like_score: i64,
    /// Live comments and replies.
    #[diesel(sql_type = BigInt)]
    pub comment_count: i64,
    /// Points it earns its author while live.
    #[diesel(sql_type = BigInt)]
    pub points: i64,
    /// When it was posted.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// Last edit.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub edited_at: Option<DateTime<Utc>>,
    /// When it was deleted.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub deleted_at: Option<DateTime<Utc>>,
    /// When an admin pinned it to lead its zone's list (`None`: not pinned).
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub pinned_at: Option<DateTime<Utc>>,
    /// `published`, `pending` (waiting for review) or `rejected`.
    #[diesel(sql_type = Text)]
    pub state: String,
}

impl Post {
    /// Whether it counts (points, zone post count) and shows: published and not deleted.
    pub fn counted(&self) -> bool {
        self.state == PUBLISHED && self.deleted_at.is_none()
    }

    /// Its place in the hot order.
    pub fn hot_score(&self) -> i64 {
        self.like_score + 2 * self.comment_count
    }
}

/// The columns of a [`Post`], in its order (unqualified: a join must not repeat these names).
pub(crate) const COLUMNS: &str = "id, zone_id, author_id, body, image_urls, video_id, like_score, comment_count, points, created_at, edited_at, deleted_at, pinned_at, state";

/// The state of a published item.
pub const PUBLISHED: &str = "published";
/// The state of an item waiting for review.
pub const PENDING: &str = "pending";
/// The state of a refused item.
pub const REJECTED: &str = "rejected";

/// A post to insert.
pub struct NewPost<'a> {
    /// Id.
    pub id: Uuid,
    /// Zone.
    pub zone_id: Uuid,
    /// Author.
    pub author_id: Uuid,
    /// Text.
    pub body: &'a str,
    /// Image URLs.
    pub image_urls: &'a [String],
    /// Video.
    pub video_id: Option<Uuid>,
    /// Points it earns while published.
    pub points: i64,
    /// [`PUBLISHED`] or [`PENDING`].
    pub state: &'a str,
    /// Now.
    pub created_at: DateTime<Utc>,
}

/// Inserts a post.
pub async fn insert(conn: &mut AsyncPgConnection, post: &NewPost<'_>) -> QueryResult<Post> {
    diesel::sql_query(format!(
        "INSERT INTO community.posts (id, zone_id, author_id, body, image_urls, video_id, points, created_at, state) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {COLUMNS}"
    ))
    .bind::<SqlUuid, _>(post.id)
    .bind::<SqlUuid, _>(post.zone_id)
    .bind::<SqlUuid, _>(post.author_id)
    .bind::<Text, _>(post.body)
    .bind::<Array<Text>, _>(post.image_urls)
    .bind::<Nullable<SqlUuid>, _>(post.video_id)
    .bind::<BigInt, _>(post.points)
    .bind::<Timestamptz, _>(post.created_at)
    .bind::<Text, _>(post.state)
    .get_result(conn)
    .await
}

/// Locks a live post for the rest of the transaction; `None` when there is none (or deleted).
pub async fn lock_live(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Post>> {
    diesel::sql_query(format!("SELECT {COLUMNS} FROM community.posts WHERE id = $1 AND deleted_at IS NULL FOR UPDATE"))
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .await
        .optional()
}

/// Locks a post, deleted or not.
pub async fn lock_any(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Post>> {
    diesel::sql_query(format!("SELECT {COLUMNS} FROM community.posts WHERE id = $1 FOR UPDATE"))
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .await
        .optional()
}

/// A post, deleted or not, without locking it.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Post>> {
    diesel::sql_query(format!("SELECT {COLUMNS} FROM community.posts WHERE id = $1"))
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .await
        .optional()
}

/// These published, live posts (others absent; so are hidden ones unless `show_hidden`), in
/// one statement.
pub async fn find_live_many(conn: &mut AsyncPgConnection, ids: &[Uuid], show_hidden: bool) -> QueryResult<Vec<Post>> {
    diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM community.posts WHERE id = ANY($1) AND deleted_at IS NULL AND state = 'published' AND ($2 OR {NOT_HIDDEN})"
    ))
    .bind::<Array<SqlUuid>, _>(ids)
    .bind::<Bool, _>(show_hidden)
    .load(conn)
    .await
}

/// Replaces a post's text and images.
pub async fn edit(conn: &mut AsyncPgConnection, id: Uuid, body: &str, image_urls: &[String], now: DateTime<Utc>) -> QueryResult<Post> {
    diesel::sql_query(format!("UPDATE community.posts SET body = $2, image_urls = $3, edited_at = $4 WHERE id = $1 RETURNING {COLUMNS}"))
        .bind::<SqlUuid, _>(id)
        .bind::<Text, _>(body)
        .bind::<Array<Text>, _>(image_urls)
        .bind::<Timestamptz, _>(now)
        .get_result(conn)
        .await
}

/// Marks a post deleted by `by` with `reason`.
pub async fn delete(conn: &mut AsyncPgConnection, id: Uuid, by: Uuid, reason: Option<&str>, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::sql_query("UPDATE community.posts SET deleted_at = $2, deleted_by = $3, delete_reason = $4 WHERE id = $1")
        .bind::<SqlUuid, _>(id)
        .bind::<Timestamptz, _>(now)
        .bind::<SqlUuid, _>(by)
        .bind::<Nullable<Text>, _>(reason)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Moves a post to `zone` (a pin does not move with it: pins belong to a zone).
pub async fn set_zone(conn: &mut AsyncPgConnection, id: Uuid, zone: Uuid) -> QueryResult<Post> {
    diesel::sql_query(format!("UPDATE community.posts SET zone_id = $2, pinned_at = NULL WHERE id = $1 RETURNING {COLUMNS}"))
        .bind::<SqlUuid, _>(id)
        .bind::<SqlUuid, _>(zone)
        .get_result(conn)
        .await
}

/// Adds to a post's like score and comment count.
pub async fn add_counts(conn: &mut AsyncPgConnection, id: Uuid, likes: i64, comments: i64) -> QueryResult<i64> {
    diesel::sql_query("UPDATE community.posts SET like_score = like_score + $2, comment_count = comment_count + $3 WHERE id = $1 RETURNING like_score AS n")
        .bind::<SqlUuid, _>(id)
        .bind::<BigInt, _>(likes)
        .bind::<BigInt, _>(comments)
        .get_result::<super::Count>(conn)
        .await
        .map(|row| row.n)
}

/// Pins a post (`Some(now)`) or unpins it (`None`).
pub async fn set_pinned(conn: &mut AsyncPgConnection, id: Uuid, pinned_at: Option<DateTime<Utc>>) -> QueryResult<Post> {
    diesel::sql_query(format!("UPDATE community.posts SET pinned_at = $2 WHERE id = $1 RETURNING {COLUMNS}"))
        .bind::<SqlUuid, _>(id)
        .bind::<Nullable<Timestamptz>, _>(pinned_at)
        .get_result(conn)
        .await
}

/// The live pinned posts of a zone, most recently pinned first (hidden ones only if `show_hidden`).
pub async fn pinned(conn: &mut AsyncPgConnection, zone: Uuid, show_hidden: bool) -> QueryResult<Vec<Post>> {
    diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM community.posts WHERE zone_id = $1 AND pinned_at IS NOT NULL AND deleted_at IS NULL AND state = 'published' \
         AND ($2 OR {NOT_HIDDEN}) ORDER BY pinned_at DESC, id DESC"
    ))
    .bind::<SqlUuid, _>(zone)
    .bind::<Bool, _>(show_hidden)
    .load(conn)
    .await
}

/// The order of a list of posts or comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Newest first; positions are (created_at, id).
    Newest,
    /// Hottest first (likes + 2 × comments); positions are (score, id).
    Hottest,
}

/// A position in a list: (created_at micros or hot score, id) of the last item seen.
pub type Position = (i64, Uuid);

impl super::review::Reviewed for Post {
    const TABLE: &'static str = "community.posts";
    const COLUMNS: &'static str = COLUMNS;
}

/// A page of live posts of `zone` (its pinned posts excepted: they lead the list apart, see
/// [`pinned`]) or of all zones (the posts pinned on the home list excepted, for the same
/// reason: [`super::home_pins::pinned`]), `limit` after `after`. The posts of a banned user
/// whose content is hidden are left out unless `show_hidden` (admins).
pub async fn page(
    conn: &mut AsyncPgConnection,
    zone: Option<Uuid>,
    order: Order,
    after: Option<Position>,
    limit: i64,
    show_hidden: bool,
) -> QueryResult<Vec<Post>> {
    let (id, limit_bind) = (after.map(|(_, id)| id), limit);
    match order {
        Order::Newest => {
            let at = after.and_then(|(micros, _)| DateTime::from_timestamp_micros(micros));
            diesel::sql_query(format!(
                "SELECT {COLUMNS} FROM community.posts WHERE deleted_at IS NULL AND state = 'published' AND (($1::uuid IS NULL AND id NOT IN (SELECT post_id FROM community.home_pins)) OR (zone_id = $1 AND pinned_at IS NULL)) \
                 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3)) AND ($5 OR {NOT_HIDDEN}) ORDER BY created_at DESC, id DESC LIMIT $4"
            ))
            .bind::<Nullable<SqlUuid>, _>(zone)
            .bind::<Nullable<Timestamptz>, _>(at)
            .bind::<Nullable<SqlUuid>, _>(id)
            .bind::<BigInt, _>(limit_bind)
            .bind::<Bool, _>(show_hidden)
            .load(conn)
            .await
        }
        Order::Hottest => diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM community.posts WHERE deleted_at IS NULL AND state = 'published' AND (($1::uuid IS NULL AND id NOT IN (SELECT post_id FROM community.home_pins)) OR (zone_id = $1 AND pinned_at IS NULL)) \
                 AND ($2::bigint IS NULL OR ((like_score + 2 * comment_count), id) < ($2, $3)) AND ($5 OR {NOT_HIDDEN}) \
                 ORDER BY (like_score + 2 * comment_count) DESC, id DESC LIMIT $4"
        ))
        .bind::<Nullable<SqlUuid>, _>(zone)
        .bind::<Nullable<BigInt>, _>(after.map(|(score, _)| score))
        .bind::<Nullable<SqlUuid>, _>(id)
        .bind::<BigInt, _>(limit_bind)
        .bind::<Bool, _>(show_hidden)
        .load(conn)
        .await,
    }
}

/// What the live comments of a post earn, per author: (author, points, comments).
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct CommentEarnings {
    /// The comments' author.
    #[diesel(sql_type = SqlUuid)]
    pub author_id: Uuid,
    /// Their points.
    #[diesel(sql_type = BigInt)]
    pub points: i64,
    /// How many.
    #[diesel(sql_type = BigInt)]
    pub comments: i64,
}

/// The earnings of a post's live comments, per author. Read it under the post's lock: every
/// writer that adds or deletes a comment does so while holding its post's lock, so none
/// changes meanwhile.
pub async fn comment_earnings(conn: &mut AsyncPgConnection, post: Uuid) -> QueryResult<Vec<CommentEarnings>> {
    diesel::sql_query(
        "SELECT author_id, sum(points)::bigint AS points, count(*) AS comments FROM community.comments \
         WHERE post_id = $1 AND deleted_at IS NULL AND state = 'published' GROUP BY author_id",
    )
    .bind::<SqlUuid, _>(post)
    .load(conn)
    .await
}
