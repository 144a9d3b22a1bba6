//! `content.asset_refs`: the projection of `assets`' archive events that `createVideo(assetRef:)`
//! checks. Only `assets` decides what exists; this table follows its events.

use chrono::{DateTime, Utc};
use diesel::sql_types::{Bool, Text, Timestamptz, Uuid as SqlUuid};
use diesel::{OptionalExtension, QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// Records that `asset_ref` of `owner_id` is archived (or no longer) as of `changed_at`. An
/// older change than the one stored is ignored, so redelivered and reordered events leave the
/// latest state. Returns whether the row changed.
pub async fn apply(
    conn: &mut AsyncPgConnection,
    asset_ref: &str,
    owner_id: Uuid,
    task_id: Uuid,
    archived: bool,
    changed_at: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::sql_query(
        "INSERT INTO content.asset_refs AS a (asset_ref, owner_id, task_id, archived, changed_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (asset_ref) DO UPDATE SET owner_id = EXCLUDED.owner_id, task_id = EXCLUDED.task_id, archived = EXCLUDED.archived, \
         changed_at = EXCLUDED.changed_at WHERE a.changed_at < EXCLUDED.changed_at",
    )
    .bind::<Text, _>(asset_ref)
    .bind::<SqlUuid, _>(owner_id)
    .bind::<SqlUuid, _>(task_id)
    .bind::<Bool, _>(archived)
    .bind::<Timestamptz, _>(changed_at)
    .execute(conn)
    .await
    .map(|n| n > 0)
}

#[derive(QueryableByName)]
struct Owner {
    #[diesel(sql_type = SqlUuid)]
    owner_id: Uuid,
}

/// The owner of `asset_ref` if it is a finished archive download that was not deleted.
pub async fn archived_owner(conn: &mut AsyncPgConnection, asset_ref: &str) -> QueryResult<Option<Uuid>> {
    diesel::sql_query("SELECT owner_id FROM content.asset_refs WHERE asset_ref = $1 AND archived")
        .bind::<Text, _>(asset_ref)
        .get_result::<Owner>(conn)
        .await
        .optional()
        .map(|owner| owner.map(|owner| owner.owner_id))
}
