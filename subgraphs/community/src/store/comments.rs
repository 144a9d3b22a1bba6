//! `community.comments`: top-level comments, replies (`thread_id`: the top-level comment of
//! the thread) and quote replies (`quote_id`: a comment of the same thread). Step 2 of the lock
//! order: a writer locks the comments it needs with [`lock_many`], in ascending id, before
//! their post.

use super::posts::{Order, Position};
use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// A comment or reply.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct Comment {
    /// Id.
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// Its post.
    #[diesel(sql_type = SqlUuid)]
    pub post_id: Uuid,
    /// The top-level comment of its thread (`None`: it is one).
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub thread_id: Option<Uuid>,
    /// The comment of the same thread it quotes.
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub quote_id: Option<Uuid>,
    /// Author.
    #[diesel(sql_type = SqlUuid)]
    pub author_id: Uuid,
    /// Text.
    #[diesel(sql_type = Text)]
    pub body: String,
    /// Sum of its likes' weights.
    #[diesel(sql_type = BigInt)]
    pub like_score: i64,
    /// Live replies in its thread (top-level comments).
    #[diesel(sql_type = BigInt)]
    pub reply_count: i64,
    /// Points it earns its author while live.
    #[diesel(sql_type = BigInt)]
    pub points: i64,
    /// When.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// When it was deleted.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub deleted_at: Option<DateTime<Utc>>,
    /// `published`, `pending` (waiting for review) or `rejected`.
    #[diesel(sql_type = Text)]
    pub state: String,
}

impl Comment {
    /// Whether it counts (points, comment and reply counts) and shows: published, not deleted.
    pub fn counted(&self) -> bool {
        self.state == super::posts::PUBLISHED && self.deleted_at.is_none()
    }

    /// The top-level comment of its thread (itself for a top-level comment).
    pub fn thread(&self) -> Uuid {
        self.thread_id.unwrap_or(self.id)
    }
}

const COLUMNS: &str = "id, post_id, thread_id, quote_id, author_id, body, like_score, reply_count, points, created_at, deleted_at, state";

impl super::review::Reviewed for Comment {
    const TABLE: &'static str = "community.comments";
    const COLUMNS: &'static str = COLUMNS;
}

/// A comment to insert.
pub struct NewComment<'a> {
    /// Id.
    pub id: Uuid,
    /// Post.
    pub post_id: Uuid,
    /// Thread.
    pub thread_id: Option<Uuid>,
    /// Quoted comment.
    pub quote_id: Option<Uuid>,
    /// Author.
    pub author_id: Uuid,
    /// Text.
    pub body: &'a str,
    /// Points it earns while published.
    pub points: i64,
    /// `published` or `pending`.
    pub state: &'a str,
    /// Now.
    pub created_at: DateTime<Utc>,
}

/// Inserts a comment.
pub async fn insert(conn: &mut AsyncPgConnection, comment: &NewComment<'_>) -> QueryResult<Comment> {
    diesel::sql_query(format!(
        "INSERT INTO community.comments (id, post_id, thread_id, quote_id, author_id, body, points, created_at, state) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {COLUMNS}"
    ))
    .bind::<SqlUuid, _>(comment.id)
    .bind::<SqlUuid, _>(comment.post_id)
    .bind::<Nullable<SqlUuid>, _>(comment.thread_id)
    .bind::<Nullable<SqlUuid>, _>(comment.quote_id)
    .bind::<SqlUuid, _>(comment.author_id)
    .bind::<Text, _>(comment.body)
    .bind::<BigInt, _>(comment.points)
    .bind::<Timestamptz, _>(comment.created_at)
    .bind::<Text, _>(comment.state)
    .get_result(conn)
    .await
}

/// Locks these comments (deleted or not) in ascending id — the lock order — and returns them.
pub async fn lock_many(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<Comment>> {
    diesel::sql_query(format!("SELECT {COLUMNS} FROM community.comments WHERE id = ANY($1) ORDER BY id FOR UPDATE"))
        .bind::<Array<SqlUuid>, _>(ids)
        .load(conn)
        .await
}

/// These comments, deleted or not, without locking them.
pub async fn find_many(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<Comment>> {
    diesel::sql_query(format!("SELECT {COLUMNS} FROM community.comments WHERE id = ANY($1)"))
        .bind::<Array<SqlUuid>, _>(ids)
        .load(conn)
        .await
}

/// Adds to a comment's like score and reply count.
pub async fn add_counts(conn: &mut AsyncPgConnection, id: Uuid, likes: i64, replies: i64) -> QueryResult<i64> {
    diesel::sql_query("UPDATE community.comments SET like_score = like_score + $2, reply_count = reply_count + $3 WHERE id = $1 RETURNING like_score AS n")
        .bind::<SqlUuid, _>(id)
        .bind::<BigInt, _>(likes)
        .bind::<BigInt, _>(replies)
        .get_result::<super::Count>(conn)
        .await
        .map(|row| row.n)
}

/// Marks a comment deleted by `by` with `reason`.
pub async fn delete(conn: &mut AsyncPgConnection, id: Uuid, by: Uuid, reason: Option<&str>, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::sql_query("UPDATE community.comments SET deleted_at = $2, deleted_by = $3, delete_reason = $4 WHERE id = $1")
        .bind::<SqlUuid, _>(id)
        .bind::<Timestamptz, _>(now)
        .bind::<SqlUuid, _>(by)
        .bind::<Nullable<Text>, _>(reason)
        .execute(conn)
        .await
        .map(|_| ())
}

/// A page of live comments: the top-level ones of `post` (`thread` `None`) or the replies of
/// `thread`, `limit` after `after`. The comments of a banned user whose content is hidden are
/// left out unless `show_hidden` (admins).
pub async fn page(
    conn: &mut AsyncPgConnection,
    post: Uuid,
    thread: Option<Uuid>,
    order: Order,
    after: Option<Position>,
    limit: i64,
    show_hidden: bool,
) -> QueryResult<Vec<Comment>> {
    let scope = format!(
        "post_id = $1 AND deleted_at IS NULL AND state = 'published' AND thread_id IS NOT DISTINCT FROM $2 AND ($6 OR {})",
        super::moderation::NOT_HIDDEN
    );
    match order {
        Order::Newest => {
            let at = after.and_then(|(micros, _)| DateTime::from_timestamp_micros(micros));
            diesel::sql_query(format!(
                "SELECT {COLUMNS} FROM community.comments WHERE {scope} \
                 AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4)) ORDER BY created_at DESC, id DESC LIMIT $5"
            ))
            .bind::<SqlUuid, _>(post)
            .bind::<Nullable<SqlUuid>, _>(thread)
            .bind::<Nullable<Timestamptz>, _>(at)
            .bind::<Nullable<SqlUuid>, _>(after.map(|(_, id)| id))
            .bind::<BigInt, _>(limit)
            .bind::<diesel::sql_types::Bool, _>(show_hidden)
            .load(conn)
            .await
        }
        Order::Hottest => {
            diesel::sql_query(format!(
                "SELECT {COLUMNS} FROM community.comments WHERE {scope} \
                 AND ($3::bigint IS NULL OR ((like_score + 2 * reply_count), id) < ($3, $4)) \
                 ORDER BY (like_score + 2 * reply_count) DESC, id DESC LIMIT $5"
            ))
            .bind::<SqlUuid, _>(post)
            .bind::<Nullable<SqlUuid>, _>(thread)
            .bind::<Nullable<BigInt>, _>(after.map(|(score, _)| score))
            .bind::<Nullable<SqlUuid>, _>(after.map(|(_, id)| id))
            .bind::<BigInt, _>(limit)
            .bind::<diesel::sql_types::Bool, _>(show_hidden)
            .load(conn)
            .await
        }
    }
}
