//! `content.uploads`: upload slots and their guarded state transitions.
//!
//! A slot goes `pending` → `complete` (one PUT stored its file) → `attached` (a video uses it).
//! Each transition is one `UPDATE … WHERE state = <from>`: Postgres re-checks the condition
//! after waiting for a concurrent writer's row lock, so of two racing transitions exactly one
//! updates the row and the other sees zero rows.

use super::schema::content::uploads;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamptz};
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

/// Claims a pending slot for one PUT (`receiver`, a fresh id) until `until`, unless another
/// PUT holds a claim that has not lapsed at `now`; `false` when the slot is gone, no longer
/// pending, or claimed.
pub async fn claim(conn: &mut AsyncPgConnection, id: Uuid, receiver: Uuid, now: DateTime<Utc>, until: DateTime<Utc>) -> QueryResult<bool> {
    diesel::update(
        uploads::table
            .find(id)
            .filter(uploads::state.eq(state::PENDING))
            .filter(uploads::receiving_until.is_null().or(uploads::receiving_until.lt(now))),
    )
    .set((uploads::receiver.eq(receiver), uploads::receiving_until.eq(until)))
    .execute(conn)
    .await
    .map(|rows| rows == 1)
}

/// Gives up `receiver`'s claim (its PUT failed), so the next PUT may start at once.
pub async fn release(conn: &mut AsyncPgConnection, id: Uuid, receiver: Uuid) -> QueryResult<()> {
    diesel::update(uploads::table.find(id).filter(uploads::receiver.eq(receiver)))
        .set((uploads::receiver.eq(None::<Uuid>), uploads::receiving_until.eq(None::<DateTime<Utc>>)))
        .execute(conn)
        .await
        .map(|_| ())
}

/// What one user holds now: slots waiting for their file, and the bytes of the last day
/// (see [`usage`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, QueryableByName)]
pub struct Usage {
    /// Pending slots whose URL still works.
    #[diesel(sql_type = BigInt)]
    pub pending: i64,
    /// Bytes of the slots created since the start of the day window: a finished file's size,
    /// a live pending slot's cap.
    #[diesel(sql_type = BigInt)]
    pub bytes: i64,
}

/// Locks the owner's account row (`FOR NO KEY UPDATE`: it does not block foreign-key checks)
/// so that the usage check and the insert of one `createVideoUpload` are not interleaved with
/// another's of the same user.
pub async fn lock_owner(conn: &mut AsyncPgConnection, owner_id: Uuid) -> QueryResult<()> {
    diesel::sql_query("SELECT 1 FROM content.users WHERE id = $1 FOR NO KEY UPDATE")
        .bind::<diesel::sql_types::Uuid, _>(owner_id)
        .execute(conn)
        .await
        .map(|_| ())
}

/// The owner's [`Usage`] at `now`, the day window starting at `since`.
pub async fn usage(conn: &mut AsyncPgConnection, owner_id: Uuid, now: DateTime<Utc>, since: DateTime<Utc>) -> QueryResult<Usage> {
    diesel::sql_query(
        "SELECT count(*) FILTER (WHERE state = 'pending' AND expires_at > $2) AS pending, \
            COALESCE(sum(CASE WHEN state = 'pending' THEN max_bytes ELSE size_bytes END) \
                FILTER (WHERE created_at > $3 AND (state <> 'pending' OR expires_at > $2)), 0)::bigint AS bytes \
         FROM content.uploads WHERE owner_id = $1 AND (state = 'pending' OR created_at > $3)",
    )
    .bind::<diesel::sql_types::Uuid, _>(owner_id)
    .bind::<Timestamptz, _>(now)
    .bind::<Timestamptz, _>(since)
    .get_result(conn)
    .await
}

/// `pending` → `complete` by the PUT holding the claim `receiver`; `None` when the slot is
/// gone, no longer pending, or claimed by another PUT (this one's claim lapsed). Holds the row
/// lock until the caller's transaction ends.
pub async fn complete(conn: &mut AsyncPgConnection, id: Uuid, receiver: Uuid, done: Completion<'_>) -> QueryResult<Option<Upload>> {
    diesel::update(uploads::table.find(id).filter(uploads::state.eq(state::PENDING)).filter(uploads::receiver.eq(receiver)))
        .set((
            uploads::receiver.eq(None::<Uuid>),
            uploads::receiving_until.eq(None::<DateTime<Utc>>),
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
