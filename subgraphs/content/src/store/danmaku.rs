//! `content.danmaku`: VOD bullet comments bound to a playback position.

use super::schema::content::danmaku;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// A stored danmaku.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = danmaku, check_for_backend(diesel::pg::Pg))]
pub struct Danmaku {
    /// Id (v7).
    pub id: Uuid,
    /// The video.
    pub video_id: Uuid,
    /// Who sent it.
    pub author_id: Uuid,
    /// Playback position, in milliseconds.
    pub offset_ms: i32,
    /// Text.
    pub body: String,
    /// `0xRRGGBB`.
    pub color: i32,
    /// `scroll`, `top` or `bottom`.
    pub mode: String,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
}

/// A danmaku to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = danmaku, check_for_backend(diesel::pg::Pg))]
pub struct NewDanmaku<'a> {
    /// Id.
    pub id: Uuid,
    /// The video.
    pub video_id: Uuid,
    /// Sender.
    pub author_id: Uuid,
    /// Playback position, in milliseconds.
    pub offset_ms: i32,
    /// Text.
    pub body: &'a str,
    /// `0xRRGGBB`.
    pub color: i32,
    /// `scroll`, `top` or `bottom`.
    pub mode: &'a str,
}

/// Inserts a danmaku.
pub async fn insert(conn: &mut AsyncPgConnection, row: &NewDanmaku<'_>) -> QueryResult<Danmaku> {
    diesel::insert_into(danmaku::table).values(row).returning(Danmaku::as_returning()).get_result(conn).await
}

/// The danmaku of a video with `from_ms <= offset_ms < to_ms`, in `(offset_ms, id)` order
/// (the playback index), at most `limit`.
pub async fn in_window(conn: &mut AsyncPgConnection, video_id: Uuid, from_ms: i32, to_ms: i32, limit: i64) -> QueryResult<Vec<Danmaku>> {
    danmaku::table
        .filter(danmaku::video_id.eq(video_id))
        .filter(danmaku::offset_ms.ge(from_ms))
        .filter(danmaku::offset_ms.lt(to_ms))
        .order((danmaku::offset_ms.asc(), danmaku::id.asc()))
        .limit(limit)
        .select(Danmaku::as_select())
        .load(conn)
        .await
}
