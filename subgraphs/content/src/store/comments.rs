//! `content.comments` and `content.comment_likes`.

use super::schema::content::{comment_likes, comments};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// A stored comment (deleted ones included; `deleted_at` tells).
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = comments, check_for_backend(diesel::pg::Pg))]
pub struct Comment {
    /// Id (v7: time-ordered).
    pub id: Uuid,
    /// The video.
    pub video_id: Uuid,
    /// Who wrote it.
    pub author_id: Uuid,
    /// The thread's root; `None` for a root.
    pub root_id: Option<Uuid>,
    /// The comment it answers, if any.
    pub reply_to_id: Option<Uuid>,
    /// Text.
    pub body: String,
    /// Likes (exactly the rows of `comment_likes`).
    pub like_count: i64,
    /// Live replies of a root.
    pub reply_count: i64,
    /// When it was posted.
    pub created_at: DateTime<Utc>,
    /// When it was deleted.
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A comment to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = comments, check_for_backend(diesel::pg::Pg))]
pub struct NewComment<'a> {
    /// Id.
    pub id: Uuid,
    /// The video.
    pub video_id: Uuid,
    /// Author.
    pub author_id: Uuid,
    /// Thread root of a reply.
    pub root_id: Option<Uuid>,
    /// The comment answered.
    pub reply_to_id: Option<Uuid>,
    /// Text.
    pub body: &'a str,
}

/// Which root comments a page lists: the order, and the sort key of the last item seen
/// (the page starts strictly after it).
#[derive(Debug, Clone, Copy)]
pub enum RootsPage {
    /// `(created_at DESC, id DESC)`, after `(created_at, id)`.
    Newest(Option<(DateTime<Utc>, Uuid)>),
    /// `(like_count DESC, id DESC)`, after `(like_count, id)`.
    Hottest(Option<(i64, Uuid)>),
}

/// Inserts a comment.
pub async fn insert(conn: &mut AsyncPgConnection, comment: &NewComment<'_>) -> QueryResult<Comment> {
    diesel::insert_into(comments::table).values(comment).returning(Comment::as_returning()).get_result(conn).await
}

/// One comment by id, deleted or not.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Comment>> {
    comments::table.find(id).select(Comment::as_select()).first(conn).await.optional()
}

/// One comment by id, locked until the transaction ends. `FOR NO KEY UPDATE` (what an
/// `UPDATE` takes) rather than `FOR UPDATE`, so inserts of replies, whose foreign keys only
/// take key-share locks, are not blocked.
pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Comment>> {
    comments::table.find(id).select(Comment::as_select()).for_no_key_update().first(conn).await.optional()
}

/// Adds `delta` to the reply count of a live comment; `false` when it is deleted (or gone).
/// The count never goes below zero.
pub async fn add_replies_to_live(conn: &mut AsyncPgConnection, id: Uuid, delta: i64) -> QueryResult<bool> {
    diesel::update(comments::table.find(id).filter(comments::deleted_at.is_null()).filter((comments::reply_count + delta).ge(0)))
        .set(comments::reply_count.eq(comments::reply_count + delta))
        .execute(conn)
        .await
        .map(|updated| updated > 0)
}

/// Marks a comment and, for a root, its live replies deleted; returns how many were live.
pub async fn soft_delete_thread(conn: &mut AsyncPgConnection, id: Uuid, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(comments::table.filter(comments::id.eq(id).or(comments::root_id.eq(id))).filter(comments::deleted_at.is_null()))
        .set(comments::deleted_at.eq(now))
        .execute(conn)
        .await
}

/// Live root comments of a video in the page's order; `limit` rows. The filters match the
/// partial indexes of the migration.
pub async fn roots(conn: &mut AsyncPgConnection, video_id: Uuid, page: RootsPage, limit: i64) -> QueryResult<Vec<Comment>> {
    let mut query = comments::table
        .filter(comments::video_id.eq(video_id))
        .filter(comments::root_id.is_null())
        .filter(comments::deleted_at.is_null())
        .select(Comment::as_select())
        .limit(limit)
        .into_boxed();
    match page {
        RootsPage::Newest(after) => {
            query = query.order((comments::created_at.desc(), comments::id.desc()));
            if let Some((created_at, id)) = after {
                query = query.filter(comments::created_at.lt(created_at).or(comments::created_at.eq(created_at).and(comments::id.lt(id))));
            }
        }
        RootsPage::Hottest(after) => {
            query = query.order((comments::like_count.desc(), comments::id.desc()));
            if let Some((like_count, id)) = after {
                query = query.filter(comments::like_count.lt(like_count).or(comments::like_count.eq(like_count).and(comments::id.lt(id))));
            }
        }
    }
    query.load(conn).await
}

/// Live replies of a root, oldest first, strictly after `(created_at, id)`; `limit` rows.
pub async fn replies(
    conn: &mut AsyncPgConnection,
    root_id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<Comment>> {
    let mut query = comments::table
        .filter(comments::root_id.eq(root_id))
        .filter(comments::deleted_at.is_null())
        .select(Comment::as_select())
        .order((comments::created_at.asc(), comments::id.asc()))
        .limit(limit)
        .into_boxed();
    if let Some((created_at, id)) = after {
        query = query.filter(comments::created_at.gt(created_at).or(comments::created_at.eq(created_at).and(comments::id.gt(id))));
    }
    query.load(conn).await
}

/// The first `per_root` live replies (oldest first) of each of `root_ids`, in one statement:
/// a LATERAL join reads each root's replies from `comments_replies_idx` and stops after
/// `per_root`, however long the thread.
pub async fn first_replies(conn: &mut AsyncPgConnection, root_ids: &[Uuid], per_root: i64) -> QueryResult<Vec<Comment>> {
    diesel::sql_query(
        "SELECT r.id, r.video_id, r.author_id, r.root_id, r.reply_to_id, r.body, r.like_count, r.reply_count, r.created_at, r.deleted_at \
         FROM unnest($1::uuid[]) AS root(id) \
         CROSS JOIN LATERAL ( \
             SELECT * FROM content.comments c \
             WHERE c.root_id = root.id AND c.deleted_at IS NULL \
             ORDER BY c.created_at, c.id \
             LIMIT $2 \
         ) r \
         ORDER BY r.root_id, r.created_at, r.id",
    )
    .bind::<Array<diesel::sql_types::Uuid>, _>(root_ids)
    .bind::<BigInt, _>(per_root)
    .load(conn)
    .await
}

/// Records a like; `false` when the user had already liked it. Concurrent likes of one user
/// wait on the primary key, so exactly one of them inserts.
pub async fn insert_like(conn: &mut AsyncPgConnection, comment_id: Uuid, user_id: Uuid) -> QueryResult<bool> {
    diesel::insert_into(comment_likes::table)
        .values((comment_likes::comment_id.eq(comment_id), comment_likes::user_id.eq(user_id)))
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(|inserted| inserted > 0)
}

/// Removes a like; `false` when there was none.
pub async fn delete_like(conn: &mut AsyncPgConnection, comment_id: Uuid, user_id: Uuid) -> QueryResult<bool> {
    diesel::delete(comment_likes::table.find((comment_id, user_id))).execute(conn).await.map(|deleted| deleted > 0)
}

/// Adds `delta` to a comment's like count and returns the comment.
pub async fn add_likes(conn: &mut AsyncPgConnection, id: Uuid, delta: i64) -> QueryResult<Comment> {
    diesel::update(comments::table.find(id))
        .set(comments::like_count.eq(comments::like_count + delta))
        .returning(Comment::as_returning())
        .get_result(conn)
        .await
}

/// Which of `comment_ids` the user liked, in one statement.
pub async fn liked_among(conn: &mut AsyncPgConnection, user_id: Uuid, comment_ids: &[Uuid]) -> QueryResult<Vec<Uuid>> {
    comment_likes::table
        .filter(comment_likes::user_id.eq(user_id))
        .filter(comment_likes::comment_id.eq_any(comment_ids))
        .select(comment_likes::comment_id)
        .load(conn)
        .await
}
