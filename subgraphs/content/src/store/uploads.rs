//! `content.uploads`: upload slots and their guarded state transitions.
//!
//! A slot goes `pending` → `complete` (one PUT stored its file) → `attached` (a video uses it).
//! Each transition is one `UPDATE … WHERE state = <from>`: Postgres re-checks the condition
//! after waiting for a concurrent writer's row lock, so of two racing transitions exactly one
//! updates the row and the other sees zero rows.

use super::schema::content::uploads;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// The stored names of the states (the table's CHECK constraint lists the same three).
pub mod state {
    /// Created; waiting for its file.
    pub const PENDING: &str = "pending";
    /// The file is stored; not used by a video yet.
    pub const COMPLETE: &str = "complete";
    /// A video uses the file; never swept.
    pub const ATTACHED: &str = "attached";
}

/// A stored upload slot.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = uploads, check_for_backend(diesel::pg::Pg))]
pub struct Upload {
    /// Id (also in the upload URL).
    pub id: Uuid,
    /// The user who created it; only they see or attach it.
    pub owner_id: Uuid,
    /// One of [`state`].
    pub state: String,
    /// The media type the PUT must send.
    pub content_type: String,
    /// The most bytes the file may have.
    pub max_bytes: i64,
    /// Size of the stored file (once complete).
    pub size_bytes: Option<i64>,
    /// Lowercase hex SHA-256 of the stored file (once complete).
    pub sha256: Option<String>,
    /// Where the file lives in object storage.
    pub storage_key: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// While pending: when the upload URL stops working. Once complete: when the file is
    /// deleted unless a video has been attached to it. The sweeper deletes every
    /// non-attached slot past it.
    pub expires_at: DateTime<Utc>,
    /// When the file was stored.
    pub completed_at: Option<DateTime<Utc>>,
}

/// A slot to create (state `pending`).
#[derive(Debug, Insertable)]
#[diesel(table_name = uploads, check_for_backend(diesel::pg::Pg))]
pub struct NewUpload<'a> {
    /// Id.
    pub id: Uuid,
    /// Owner.
    pub owner_id: Uuid,
    /// Declared media type.
    pub content_type: &'a str,
    /// Size cap.
    pub max_bytes: i64,
    /// Object storage key.
    pub storage_key: &'a str,
    /// URL expiry.
    pub expires_at: DateTime<Utc>,
}

/// Inserts a pending slot.
pub async fn insert(conn: &mut AsyncPgConnection, new: &NewUpload<'_>) -> QueryResult<Upload> {
    diesel::insert_into(uploads::table).values(new).returning(Upload::as_returning()).get_result(conn).await
}

/// A slot by id, whoever owns it.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Upload>> {
    uploads::table.find(id).select(Upload::as_select()).first(conn).await.optional()
}

/// A slot by id if `owner_id` owns it.
pub async fn find_owned(conn: &mut AsyncPgConnection, id: Uuid, owner_id: Uuid) -> QueryResult<Option<Upload>> {
    uploads::table.find(id).filter(uploads::owner_id.eq(owner_id)).select(Upload::as_select()).first(conn).await.optional()
}

/// The stored file of a completed upload.
#[derive(Debug, Clone, Copy)]
pub struct Completion<'a> {
    /// Its size.
    pub size_bytes: i64,
    /// Its hex SHA-256.
    pub sha256: &'a str,
    /// When it was stored.
    pub completed_at: DateTime<Utc>,
    /// When it is deleted unless attached.
    pub expires_at: DateTime<Utc>,
}

/// `pending` → `complete`; `None` when the slot is gone or no longer pending. Holds the row
/// lock until the caller's transaction ends.
pub async fn complete(conn: &mut AsyncPgConnection, id: Uuid, done: Completion<'_>) -> QueryResult<Option<Upload>> {
    diesel::update(uploads::table.find(id).filter(uploads::state.eq(state::PENDING)))
        .set((
            uploads::state.eq(state::COMPLETE),
            uploads::size_bytes.eq(done.size_bytes),
            uploads::sha256.eq(done.sha256),
            uploads::completed_at.eq(done.completed_at),
            uploads::expires_at.eq(done.expires_at),
        ))
        .returning(Upload::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// `complete` → `attached` for the owner's slot; `None` when it is not theirs or not complete.
pub async fn attach(conn: &mut AsyncPgConnection, id: Uuid, owner_id: Uuid) -> QueryResult<Option<Upload>> {
    diesel::update(uploads::table.find(id).filter(uploads::owner_id.eq(owner_id)).filter(uploads::state.eq(state::COMPLETE)))
        .set(uploads::state.eq(state::ATTACHED))
        .returning(Upload::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Locks up to `limit` non-attached slots past their expiry (skipping rows another sweeper
/// or a racing transition holds), for the caller's transaction to delete.
pub async fn lock_expired(conn: &mut AsyncPgConnection, now: DateTime<Utc>, limit: i64) -> QueryResult<Vec<Upload>> {
    uploads::table
        .filter(uploads::state.ne(state::ATTACHED))
        .filter(uploads::expires_at.lt(now))
        .order(uploads::expires_at)
        .limit(limit)
        .for_update()
        .skip_locked()
        .select(Upload::as_select())
        .load(conn)
        .await
}

/// Deletes slots by id.
pub async fn delete_many(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<usize> {
    diesel::delete(uploads::table.filter(uploads::id.eq_any(ids))).execute(conn).await
}
