//! `content.videos`: the catalogue (the full video feature set lands with the content issue).

use super::schema::content::videos;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// A stored video.
#[derive(Debug, Clone, Queryable, Selectable)]
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

/// A video to store (the seed uses it).
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
    videos::table
        .filter(videos::id.eq_any(ids))
        .filter(videos::state.eq("published"))
        .select(Video::as_select())
        .load(conn)
        .await
}

/// A page of the newest published videos, optionally in one region, strictly after the
/// `(published_at, id)` cursor; `limit` rows.
pub async fn newest(
    conn: &mut AsyncPgConnection,
    region_id: Option<i32>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<Video>> {
    let mut query = videos::table
        .filter(videos::state.eq("published"))
        .filter(videos::published_at.is_not_null())
        .select(Video::as_select())
        .order((videos::published_at.desc(), videos::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some(region_id) = region_id {
        query = query.filter(videos::region_id.eq(region_id));
    }
    if let Some((published_at, id)) = after {
        query = query.filter(
            videos::published_at.lt(published_at).or(videos::published_at.eq(published_at).and(videos::id.lt(id))),
        );
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

/// How many videos exist (the seed is idempotent on it).
pub async fn count(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    videos::table.count().get_result(conn).await
}
