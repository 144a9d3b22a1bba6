//! `community.home_pins`: the posts pinned to lead the home list. Writers take the home list's
//! pin lock ([`lock`]) where a zone's pins take their zone row: step 6 of the lock order, after
//! the post.

use super::moderation::NOT_HIDDEN;
use super::posts::{COLUMNS, Post};
use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel::sql_types::{Bool, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// Serializes the writers of the home pins for the rest of the transaction (there is no row to
/// lock for "the home list", so a transaction-scoped advisory lock stands for it).
pub async fn lock(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('community.home_pins'))").execute(conn).await.map(|_| ())
}

/// Whether `post` is pinned on the home list.
pub async fn is_pinned(conn: &mut AsyncPgConnection, post: Uuid) -> QueryResult<bool> {
    diesel::sql_query("SELECT count(*) AS n FROM community.home_pins WHERE post_id = $1")
        .bind::<SqlUuid, _>(post)
        .get_result::<super::Count>(conn)
        .await
        .map(|row| row.n > 0)
}

/// Pins `post` on the home list.
pub async fn pin(conn: &mut AsyncPgConnection, post: Uuid, by: Uuid, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO community.home_pins (post_id, home_pinned_by, home_pinned_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind::<SqlUuid, _>(post)
    .bind::<SqlUuid, _>(by)
    .bind::<Timestamptz, _>(now)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Unpins `post` from the home list.
pub async fn unpin(conn: &mut AsyncPgConnection, post: Uuid) -> QueryResult<()> {
    diesel::sql_query("DELETE FROM community.home_pins WHERE post_id = $1").bind::<SqlUuid, _>(post).execute(conn).await.map(|_| ())
}

/// The live posts pinned on the home list, most recently pinned first (a deleted or unpublished
/// pinned post neither shows nor takes a place; a hidden one shows only if `show_hidden`).
pub async fn pinned(conn: &mut AsyncPgConnection, show_hidden: bool) -> QueryResult<Vec<Post>> {
    diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM community.posts JOIN community.home_pins ON post_id = id \
         WHERE deleted_at IS NULL AND state = 'published' AND ($1 OR {NOT_HIDDEN}) ORDER BY home_pinned_at DESC, id DESC"
    ))
    .bind::<Bool, _>(show_hidden)
    .load(conn)
    .await
}
