//! `content.videos`: the catalogue. Everything readers see filters on `state = 'published'`.

use super::schema::content::videos;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// A video before anyone sees it.
pub const STATE_DRAFT: &str = "draft";
/// A public video.
pub const STATE_PUBLISHED: &str = "published";
/// A deleted video (soft delete: kept for its interactions, hidden everywhere).
pub const STATE_REMOVED: &str = "removed";

/// A stored video (serialisable: the video cache keeps it in Redis).
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = videos, check_for_backend(diesel::pg::Pg))]
pub struct Video {
    /// Id.
    pub id: Uuid,
    /// Uploader.
    pub author_id: Uuid,
    /// Region.
    pub region_id: i32,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Cover image.
    pub cover_url: Option<String>,
    /// Length in seconds.
    pub duration_secs: i32,
    /// `draft`, `published` or `removed`.
    pub state: String,
    /// When it went public.
    pub published_at: Option<DateTime<Utc>>,
    /// Free-form tags.
    pub tags: Vec<String>,
    /// Where the media lives when it was not uploaded here.
    pub source_url: Option<String>,
    /// A reference to a file in the `assets` subgraph.
    pub asset_ref: Option<String>,
    /// The upload that backs it.
    pub upload_id: Option<Uuid>,
    /// Last metadata change.
    pub updated_at: DateTime<Utc>,
    /// When it was deleted (state `removed`).
    pub removed_at: Option<DateTime<Utc>>,
}

/// A video to store.
#[derive(Debug, Insertable)]
#[diesel(table_name = videos, check_for_backend(diesel::pg::Pg))]
pub struct NewVideo {
    /// Id.
    pub id: Uuid,
    /// Uploader.
    pub author_id: Uuid,
    /// Region.
    pub region_id: i32,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Cover image.
    pub cover_url: Option<String>,
    /// Length in seconds.
    pub duration_secs: i32,
    /// Publication time (`None` for a draft).
    pub published_at: Option<DateTime<Utc>>,
    /// `draft` or `published`.
    pub state: String,
    /// Tags.
    pub tags: Vec<String>,
    /// External media URL.
    pub source_url: Option<String>,
    /// `assets` reference.
    pub asset_ref: Option<String>,
    /// Backing upload.
    pub upload_id: Option<Uuid>,
}

/// Published videos by ids, in one statement.
pub async fn find_published(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<Video>> {
    videos::table.filter(videos::id.eq_any(ids)).filter(videos::state.eq(STATE_PUBLISHED)).select(Video::as_select()).load(conn).await
}

/// One published video by id.
pub async fn find_one_published(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Video>> {
    videos::table.find(id).filter(videos::state.eq(STATE_PUBLISHED)).select(Video::as_select()).first(conn).await.optional()
}

/// One video in any state but removed, row-locked until the transaction ends (edits and deletes
/// of one video are serialised).
pub async fn find_live_for_update(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Video>> {
    videos::table.find(id).filter(videos::state.ne(STATE_REMOVED)).select(Video::as_select()).for_update().first(conn).await.optional()
}

/// One video in any state but removed (the owner's view of a draft).
pub async fn find_live(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Video>> {
    videos::table.find(id).filter(videos::state.ne(STATE_REMOVED)).select(Video::as_select()).first(conn).await.optional()
}

/// One video in any state (deleted ones included).
pub async fn find_any(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Video>> {
    videos::table.find(id).select(Video::as_select()).first(conn).await.optional()
}

/// Stores a new video.
pub async fn insert(conn: &mut AsyncPgConnection, video: &NewVideo) -> QueryResult<Video> {
    diesel::insert_into(videos::table).values(video).returning(Video::as_returning()).get_result(conn).await
}

/// A metadata change; `None` fields are left as they are.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = videos)]
pub struct VideoChange {
    /// Title.
    pub title: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Cover (`Some(None)` clears it).
    pub cover_url: Option<Option<String>>,
    /// Region.
    pub region_id: Option<i32>,
    /// Tags.
    pub tags: Option<Vec<String>>,
    /// Length.
    pub duration_secs: Option<i32>,
    /// State (`published` when a draft goes public, `removed` on delete).
    pub state: Option<String>,
    /// Set when a draft goes public.
    pub published_at: Option<Option<DateTime<Utc>>>,
    /// Set on delete.
    pub removed_at: Option<Option<DateTime<Utc>>>,
}

/// Applies a change and returns the new row.
pub async fn update(conn: &mut AsyncPgConnection, id: Uuid, change: &VideoChange) -> QueryResult<Video> {
    diesel::update(videos::table.find(id))
        .set((change, videos::updated_at.eq(diesel::dsl::now)))
        .returning(Video::as_returning())
        .get_result(conn)
        .await
}

/// Where a page of a feed starts: strictly after this `(published_at, id)`.
pub type FeedPosition = (DateTime<Utc>, Uuid);

/// A page of the newest published videos, optionally in one region, strictly after the
/// cursor; `limit` rows.
pub async fn newest(
    conn: &mut AsyncPgConnection,
    region_id: Option<i32>,
    after: Option<FeedPosition>,
    limit: i64,
) -> QueryResult<Vec<Video>> {
    let mut query = newest_query(after, limit);
    if let Some(region_id) = region_id {
        query = query.filter(videos::region_id.eq(region_id));
    }
    query.load(conn).await
}

/// A page of the newest published videos of one author.
pub async fn newest_by_author(
    conn: &mut AsyncPgConnection,
    author_id: Uuid,
    after: Option<FeedPosition>,
    limit: i64,
) -> QueryResult<Vec<Video>> {
    newest_query(after, limit).filter(videos::author_id.eq(author_id)).load(conn).await
}

/// A page of the newest published videos of the authors `follower_id` follows (from the
/// `content.follows` projection), in one statement.
pub async fn newest_followed(
    conn: &mut AsyncPgConnection,
    follower_id: Uuid,
    after: Option<FeedPosition>,
    limit: i64,
) -> QueryResult<Vec<Video>> {
    use super::schema::content::follows;
    let followed =
        follows::table.filter(follows::follower_id.eq(follower_id)).filter(follows::following.eq(true)).select(follows::followee_id);
    newest_query(after, limit).filter(videos::author_id.eq_any(followed)).load(conn).await
}

/// The shared shape of every newest-first feed.
fn newest_query<'a>(
    after: Option<FeedPosition>,
    limit: i64,
) -> videos::BoxedQuery<'a, diesel::pg::Pg, diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<Video, diesel::pg::Pg>>> {
    let mut query = videos::table
        .filter(videos::state.eq(STATE_PUBLISHED))
        .filter(videos::published_at.is_not_null())
        .select(Video::as_select())
        .order((videos::published_at.desc(), videos::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some((published_at, id)) = after {
        query = query.filter(videos::published_at.lt(published_at).or(videos::published_at.eq(published_at).and(videos::id.lt(id))));
    }
    query
}

/// A page of a user's own videos in every state but removed, newest change first (drafts
/// have no publication time), after an `(updated_at, id)` position.
pub async fn own(conn: &mut AsyncPgConnection, author_id: Uuid, after: Option<FeedPosition>, limit: i64) -> QueryResult<Vec<Video>> {
    let mut query = videos::table
        .filter(videos::author_id.eq(author_id))
        .filter(videos::state.ne(STATE_REMOVED))
        .select(Video::as_select())
        .order((videos::updated_at.desc(), videos::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some((updated_at, id)) = after {
        query = query.filter(videos::updated_at.lt(updated_at).or(videos::updated_at.eq(updated_at).and(videos::id.lt(id))));
    }
    query.load(conn).await
}

/// Inserts videos in chunks (seed).
pub async fn insert_many(conn: &mut AsyncPgConnection, rows: &[NewVideo]) -> QueryResult<usize> {
    let mut inserted = 0;
    for chunk in rows.chunks(1000) {
        inserted += diesel::insert_into(videos::table).values(chunk).on_conflict_do_nothing().execute(conn).await?;
    }
    Ok(inserted)
}

/// How many videos are published.
pub async fn count_published(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    videos::table.filter(videos::state.eq(STATE_PUBLISHED)).count().get_result(conn).await
}

/// How many videos exist (the seed is idempotent on it).
pub async fn count(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    videos::table.count().get_result(conn).await
}

/// The next `limit` published videos after `after` in id order, with their counters (for
/// exports such as the demo seed of other subgraphs' projections).
pub async fn published_with_stats(
    conn: &mut AsyncPgConnection,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<(Video, super::stats::VideoStat)>> {
    use super::schema::content::video_stats;
    let mut query = videos::table
        .inner_join(video_stats::table)
        .filter(videos::state.eq(STATE_PUBLISHED))
        .select((Video::as_select(), super::stats::VideoStat::as_select()))
        .order(videos::id)
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(videos::id.gt(after));
    }
    query.load(conn).await
}
