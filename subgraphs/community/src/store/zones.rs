//! `community.zones` and `community.zone_follows` (zones are step 6 of the lock order,
//! zone follows step 1).

use chrono::{DateTime, Utc};
use diesel::OptionalExtension;
use diesel::QueryResult;
use diesel::sql_types::{Array, BigInt, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// A zone.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct Zone {
    /// Id.
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// Name (unique, case-insensitively).
    #[diesel(sql_type = Text)]
    pub name: String,
    /// Description.
    #[diesel(sql_type = Text)]
    pub description: String,
    /// The admin who created it.
    #[diesel(sql_type = SqlUuid)]
    pub created_by: Uuid,
    /// When.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// Last edit.
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
    /// Live posts.
    #[diesel(sql_type = BigInt)]
    pub post_count: i64,
    /// Users following it.
    #[diesel(sql_type = BigInt)]
    pub follower_count: i64,
}

const COLUMNS: &str = "id, name, description, created_by, created_at, updated_at, post_count, follower_count";

/// Creates a zone (a name taken, case-insensitively, is a unique violation on `zones_name_key`).
pub async fn insert(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    name: &str,
    description: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Zone> {
    diesel::sql_query(format!(
        "INSERT INTO community.zones (id, name, description, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING {COLUMNS}"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(name)
    .bind::<Text, _>(description)
    .bind::<SqlUuid, _>(by)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .await
}

/// Renames or re-describes a zone; `None` when there is none.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    name: &str,
    description: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<Zone>> {
    diesel::sql_query(format!("UPDATE community.zones SET name = $2, description = $3, updated_at = $4 WHERE id = $1 RETURNING {COLUMNS}"))
        .bind::<SqlUuid, _>(id)
        .bind::<Text, _>(name)
        .bind::<Text, _>(description)
        .bind::<Timestamptz, _>(now)
        .get_result(conn)
        .await
        .optional()
}

/// These zones (unknown ids are absent), in one statement.
pub async fn find_many(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<Zone>> {
    diesel::sql_query(format!("SELECT {COLUMNS} FROM community.zones WHERE id = ANY($1)")).bind::<Array<SqlUuid>, _>(ids).load(conn).await
}

/// Every zone, by name (at most `limit`).
pub async fn all(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<Zone>> {
    diesel::sql_query(format!("SELECT {COLUMNS} FROM community.zones ORDER BY lower(name) LIMIT $1"))
        .bind::<BigInt, _>(limit)
        .load(conn)
        .await
}

/// Locks a zone for the rest of the transaction (step 6); `false` when there is none.
pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<bool> {
    diesel::sql_query("SELECT id AS zone_id FROM community.zones WHERE id = $1 FOR UPDATE")
        .bind::<SqlUuid, _>(id)
        .get_result::<ZoneId>(conn)
        .await
        .optional()
        .map(|row| row.is_some())
}

/// Adds to zones' post counts, one row at a time in ascending id (the lock order).
pub async fn add_posts(conn: &mut AsyncPgConnection, deltas: &std::collections::BTreeMap<Uuid, i64>) -> QueryResult<()> {
    for (zone, delta) in deltas.iter().filter(|(_, delta)| **delta != 0) {
        diesel::sql_query("UPDATE community.zones SET post_count = post_count + $2 WHERE id = $1")
            .bind::<SqlUuid, _>(*zone)
            .bind::<BigInt, _>(*delta)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Adds to a zone's follower count.
pub async fn add_followers(conn: &mut AsyncPgConnection, zone: Uuid, delta: i64) -> QueryResult<()> {
    diesel::sql_query("UPDATE community.zones SET follower_count = follower_count + $2 WHERE id = $1")
        .bind::<SqlUuid, _>(zone)
        .bind::<BigInt, _>(delta)
        .execute(conn)
        .await
        .map(|_| ())
}

/// `user` follows `zone` from `now`; `false` when they already did.
pub async fn follow(conn: &mut AsyncPgConnection, user: Uuid, zone: Uuid, now: DateTime<Utc>) -> QueryResult<bool> {
    diesel::sql_query("INSERT INTO community.zone_follows (user_id, zone_id, followed_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind::<SqlUuid, _>(user)
        .bind::<SqlUuid, _>(zone)
        .bind::<Timestamptz, _>(now)
        .execute(conn)
        .await
        .map(|n| n > 0)
}

/// `user` stops following `zone`; `false` when they did not.
pub async fn unfollow(conn: &mut AsyncPgConnection, user: Uuid, zone: Uuid) -> QueryResult<bool> {
    diesel::sql_query("DELETE FROM community.zone_follows WHERE user_id = $1 AND zone_id = $2")
        .bind::<SqlUuid, _>(user)
        .bind::<SqlUuid, _>(zone)
        .execute(conn)
        .await
        .map(|n| n > 0)
}

#[derive(diesel::QueryableByName)]
struct ZoneId {
    #[diesel(sql_type = SqlUuid)]
    zone_id: Uuid,
}

/// The zones `user` follows among `zones`, in one statement.
pub async fn followed_among(conn: &mut AsyncPgConnection, user: Uuid, zones: &[Uuid]) -> QueryResult<Vec<Uuid>> {
    let rows: Vec<ZoneId> = diesel::sql_query("SELECT zone_id FROM community.zone_follows WHERE user_id = $1 AND zone_id = ANY($2)")
        .bind::<SqlUuid, _>(user)
        .bind::<Array<SqlUuid>, _>(zones)
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(|row| row.zone_id).collect())
}

/// Whether `user` is an admin of `zone`.
pub async fn is_zone_admin(conn: &mut AsyncPgConnection, zone: Uuid, user: Uuid) -> QueryResult<bool> {
    diesel::sql_query("SELECT zone_id FROM community.zone_admins WHERE zone_id = $1 AND user_id = $2")
        .bind::<SqlUuid, _>(zone)
        .bind::<SqlUuid, _>(user)
        .get_result::<ZoneId>(conn)
        .await
        .optional()
        .map(|row| row.is_some())
}

/// Makes `user` an admin of `zone` (`false`: they were already).
pub async fn add_admin(conn: &mut AsyncPgConnection, zone: Uuid, user: Uuid, by: Uuid, now: DateTime<Utc>) -> QueryResult<bool> {
    diesel::sql_query(
        "INSERT INTO community.zone_admins (zone_id, user_id, added_by, added_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind::<SqlUuid, _>(zone)
    .bind::<SqlUuid, _>(user)
    .bind::<SqlUuid, _>(by)
    .bind::<Timestamptz, _>(now)
    .execute(conn)
    .await
    .map(|n| n > 0)
}

/// Removes `user` from the admins of `zone` (`false`: they were not one).
pub async fn remove_admin(conn: &mut AsyncPgConnection, zone: Uuid, user: Uuid) -> QueryResult<bool> {
    diesel::sql_query("DELETE FROM community.zone_admins WHERE zone_id = $1 AND user_id = $2")
        .bind::<SqlUuid, _>(zone)
        .bind::<SqlUuid, _>(user)
        .execute(conn)
        .await
        .map(|n| n > 0)
}

/// One admin of a zone.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct ZoneAdmin {
    /// The zone.
    #[diesel(sql_type = SqlUuid)]
    pub zone_id: Uuid,
    /// The user.
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    /// The site admin who made them one.
    #[diesel(sql_type = SqlUuid)]
    pub added_by: Uuid,
    /// When.
    #[diesel(sql_type = Timestamptz)]
    pub added_at: DateTime<Utc>,
}

/// The admins of a zone, longest-serving first (at most 200).
pub async fn admins(conn: &mut AsyncPgConnection, zone: Uuid) -> QueryResult<Vec<ZoneAdmin>> {
    diesel::sql_query(
        "SELECT zone_id, user_id, added_by, added_at FROM community.zone_admins WHERE zone_id = $1 ORDER BY added_at, user_id LIMIT 200",
    )
    .bind::<SqlUuid, _>(zone)
    .load(conn)
    .await
}

/// The admins of every zone, by zone and then longest-serving first (at most `limit`).
pub async fn all_admins(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<ZoneAdmin>> {
    diesel::sql_query("SELECT zone_id, user_id, added_by, added_at FROM community.zone_admins ORDER BY zone_id, added_at, user_id LIMIT $1")
        .bind::<diesel::sql_types::BigInt, _>(limit)
        .load(conn)
        .await
}
