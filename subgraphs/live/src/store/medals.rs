//! `live.medal_*`: groups, medals, grants and what users wear.

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, Bool, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::{OptionalExtension, QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// A medal group as stored.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct MedalGroup {
    /// Id.
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// Name.
    #[diesel(sql_type = Text)]
    pub name: String,
    /// `site` (site-wide) or `limited` (limited-time).
    #[diesel(sql_type = Text)]
    pub kind: String,
    /// Created.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

/// A medal as stored.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName, serde::Serialize, serde::Deserialize)]
pub struct Medal {
    /// Id.
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// Its group.
    #[diesel(sql_type = SqlUuid)]
    pub group_id: Uuid,
    /// Name.
    #[diesel(sql_type = Text)]
    pub name: String,
    /// Description.
    #[diesel(sql_type = Text)]
    pub description: String,
    /// Web image, locked.
    #[diesel(sql_type = Nullable<Text>)]
    pub web_image_locked: Option<String>,
    /// Web image, unlocked.
    #[diesel(sql_type = Nullable<Text>)]
    pub web_image_unlocked: Option<String>,
    /// App image, locked.
    #[diesel(sql_type = Nullable<Text>)]
    pub app_image_locked: Option<String>,
    /// App image, unlocked.
    #[diesel(sql_type = Nullable<Text>)]
    pub app_image_unlocked: Option<String>,
    /// How it is earned, for users.
    #[diesel(sql_type = Text)]
    pub unlock_condition: String,
    /// Days a grant lasts (`None`: permanent).
    #[diesel(sql_type = Nullable<Int4>)]
    pub validity_days: Option<i32>,
    /// Sort weight (higher first).
    #[diesel(sql_type = Int4)]
    pub weight: i32,
    /// Whether users see it.
    #[diesel(sql_type = Bool)]
    pub visible: bool,
}

const MEDAL_COLUMNS: &str = "id, group_id, name, description, web_image_locked, web_image_unlocked, app_image_locked, app_image_unlocked, \
    unlock_condition, validity_days, weight, visible";

fn prefixed(prefix: &str) -> String {
    MEDAL_COLUMNS.split(',').map(|column| format!("{prefix}{}", column.trim())).collect::<Vec<_>>().join(", ")
}

/// Inserts a group; `None` when the name is taken.
pub async fn insert_group(conn: &mut AsyncPgConnection, group: &MedalGroup) -> QueryResult<Option<MedalGroup>> {
    diesel::sql_query(
        "INSERT INTO live.medal_groups (id, name, kind, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING \
         RETURNING id, name, kind, created_at",
    )
    .bind::<SqlUuid, _>(group.id)
    .bind::<Text, _>(&group.name)
    .bind::<Text, _>(&group.kind)
    .bind::<Timestamptz, _>(group.created_at)
    .get_result(conn)
    .await
    .optional()
}

/// Every group, by name.
pub async fn groups(conn: &mut AsyncPgConnection) -> QueryResult<Vec<MedalGroup>> {
    diesel::sql_query("SELECT id, name, kind, created_at FROM live.medal_groups ORDER BY name").load(conn).await
}

/// Inserts a medal.
pub async fn insert_medal(conn: &mut AsyncPgConnection, medal: &Medal, at: DateTime<Utc>) -> QueryResult<Medal> {
    diesel::sql_query(format!(
        "INSERT INTO live.medals ({MEDAL_COLUMNS}, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) \
         RETURNING {MEDAL_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(medal.id)
    .bind::<SqlUuid, _>(medal.group_id)
    .bind::<Text, _>(&medal.name)
    .bind::<Text, _>(&medal.description)
    .bind::<Nullable<Text>, _>(medal.web_image_locked.as_deref())
    .bind::<Nullable<Text>, _>(medal.web_image_unlocked.as_deref())
    .bind::<Nullable<Text>, _>(medal.app_image_locked.as_deref())
    .bind::<Nullable<Text>, _>(medal.app_image_unlocked.as_deref())
    .bind::<Text, _>(&medal.unlock_condition)
    .bind::<Nullable<Int4>, _>(medal.validity_days)
    .bind::<Int4, _>(medal.weight)
    .bind::<Bool, _>(medal.visible)
    .bind::<Timestamptz, _>(at)
    .get_result(conn)
    .await
}

/// Replaces every admin-managed field of a medal; `None` when it does not exist.
pub async fn update_medal(conn: &mut AsyncPgConnection, medal: &Medal, at: DateTime<Utc>) -> QueryResult<Option<Medal>> {
    diesel::sql_query(format!(
        "UPDATE live.medals SET group_id = $2, name = $3, description = $4, web_image_locked = $5, web_image_unlocked = $6, \
         app_image_locked = $7, app_image_unlocked = $8, unlock_condition = $9, validity_days = $10, weight = $11, visible = $12, \
         updated_at = $13 WHERE id = $1 RETURNING {MEDAL_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(medal.id)
    .bind::<SqlUuid, _>(medal.group_id)
    .bind::<Text, _>(&medal.name)
    .bind::<Text, _>(&medal.description)
    .bind::<Nullable<Text>, _>(medal.web_image_locked.as_deref())
    .bind::<Nullable<Text>, _>(medal.web_image_unlocked.as_deref())
    .bind::<Nullable<Text>, _>(medal.app_image_locked.as_deref())
    .bind::<Nullable<Text>, _>(medal.app_image_unlocked.as_deref())
    .bind::<Text, _>(&medal.unlock_condition)
    .bind::<Nullable<Int4>, _>(medal.validity_days)
    .bind::<Int4, _>(medal.weight)
    .bind::<Bool, _>(medal.visible)
    .bind::<Timestamptz, _>(at)
    .get_result(conn)
    .await
    .optional()
}

/// One medal, its row locked until the transaction ends (a change reads and writes it).
pub async fn find_medal_for_update(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Medal>> {
    diesel::sql_query(format!("SELECT {MEDAL_COLUMNS} FROM live.medals WHERE id = $1 FOR UPDATE"))
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .await
        .optional()
}

/// Takes a medal off everyone wearing it.
pub async fn take_off_everywhere(conn: &mut AsyncPgConnection, medal_id: Uuid) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM live.medal_worn WHERE medal_id = $1").bind::<SqlUuid, _>(medal_id).execute(conn).await
}

/// One medal.
pub async fn find_medal(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Medal>> {
    diesel::sql_query(format!("SELECT {MEDAL_COLUMNS} FROM live.medals WHERE id = $1"))
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .await
        .optional()
}

/// Every medal (visible ones only unless `include_hidden`), heaviest first.
pub async fn medals(conn: &mut AsyncPgConnection, include_hidden: bool) -> QueryResult<Vec<Medal>> {
    diesel::sql_query(format!("SELECT {MEDAL_COLUMNS} FROM live.medals WHERE visible OR $1 ORDER BY weight DESC, name, id"))
        .bind::<Bool, _>(include_hidden)
        .load(conn)
        .await
}

/// Grants a medal (renewing an unrevoked grant: new expiry, granter and reason).
pub async fn grant(
    conn: &mut AsyncPgConnection,
    medal_id: Uuid,
    user_id: Uuid,
    by: Uuid,
    reason: &str,
    at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO live.medal_grants (medal_id, user_id, granted_by, reason, granted_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (medal_id, user_id) WHERE revoked_at IS NULL \
         DO UPDATE SET granted_by = $3, reason = $4, granted_at = $5, expires_at = $6",
    )
    .bind::<SqlUuid, _>(medal_id)
    .bind::<SqlUuid, _>(user_id)
    .bind::<SqlUuid, _>(by)
    .bind::<Text, _>(reason)
    .bind::<Timestamptz, _>(at)
    .bind::<Nullable<Timestamptz>, _>(expires_at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Revokes the unrevoked grant; `false` when there was none. The medal is taken off too.
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    medal_id: Uuid,
    user_id: Uuid,
    by: Uuid,
    reason: &str,
    at: DateTime<Utc>,
) -> QueryResult<bool> {
    let revoked = diesel::sql_query(
        "UPDATE live.medal_grants SET revoked_by = $3, revoke_reason = $4, revoked_at = $5 WHERE medal_id = $1 AND user_id = $2 AND revoked_at IS NULL",
    )
    .bind::<SqlUuid, _>(medal_id)
    .bind::<SqlUuid, _>(user_id)
    .bind::<SqlUuid, _>(by)
    .bind::<Text, _>(reason)
    .bind::<Timestamptz, _>(at)
    .execute(conn)
    .await?;
    diesel::sql_query("DELETE FROM live.medal_worn WHERE user_id = $2 AND medal_id = $1")
        .bind::<SqlUuid, _>(medal_id)
        .bind::<SqlUuid, _>(user_id)
        .execute(conn)
        .await?;
    Ok(revoked == 1)
}

/// Whether `user_id` holds `medal_id` at `now` (granted, not revoked, not expired).
pub async fn holds(conn: &mut AsyncPgConnection, medal_id: Uuid, user_id: Uuid, now: DateTime<Utc>) -> QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Held {
        #[diesel(sql_type = Bool)]
        held: bool,
    }
    let row: Held = diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM live.medal_grants WHERE medal_id = $1 AND user_id = $2 AND revoked_at IS NULL \
         AND (expires_at IS NULL OR expires_at > $3)) AS held",
    )
    .bind::<SqlUuid, _>(medal_id)
    .bind::<SqlUuid, _>(user_id)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .await?;
    Ok(row.held)
}

/// Wears `medal` in its group, replacing whatever the user wore there, in one statement.
pub async fn wear(conn: &mut AsyncPgConnection, user_id: Uuid, medal: &Medal, at: DateTime<Utc>) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO live.medal_worn (user_id, group_id, medal_id, worn_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id, group_id) DO UPDATE SET medal_id = $3, worn_at = $4",
    )
    .bind::<SqlUuid, _>(user_id)
    .bind::<SqlUuid, _>(medal.group_id)
    .bind::<SqlUuid, _>(medal.id)
    .bind::<Timestamptz, _>(at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Takes a medal off; `false` when it was not worn.
pub async fn take_off(conn: &mut AsyncPgConnection, user_id: Uuid, medal_id: Uuid) -> QueryResult<bool> {
    let removed = diesel::sql_query("DELETE FROM live.medal_worn WHERE user_id = $1 AND medal_id = $2")
        .bind::<SqlUuid, _>(user_id)
        .bind::<SqlUuid, _>(medal_id)
        .execute(conn)
        .await?;
    Ok(removed == 1)
}

/// A user's medal: the medal, its latest grant, and whether it is unlocked and worn at `now`.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct UserMedal {
    /// The user.
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    /// The medal.
    #[diesel(embed)]
    pub medal: Medal,
    /// Latest grant.
    #[diesel(sql_type = Timestamptz)]
    pub granted_at: DateTime<Utc>,
    /// Its expiry.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub expires_at: Option<DateTime<Utc>>,
    /// Granted, not revoked, not expired.
    #[diesel(sql_type = Bool)]
    pub unlocked: bool,
    /// Worn now (and unlocked).
    #[diesel(sql_type = Bool)]
    pub worn: bool,
}

/// The visible medals each of `users` was ever granted (latest grant each), heaviest first;
/// one statement for a loader's batch.
pub async fn of_users(conn: &mut AsyncPgConnection, users: &[Uuid], now: DateTime<Utc>) -> QueryResult<Vec<UserMedal>> {
    diesel::sql_query(format!(
        "SELECT * FROM (SELECT DISTINCT ON (g.user_id, g.medal_id) g.user_id, {}, g.granted_at, g.expires_at, \
             (g.revoked_at IS NULL AND (g.expires_at IS NULL OR g.expires_at > $2)) AS unlocked, \
             (w.medal_id IS NOT NULL AND g.revoked_at IS NULL AND (g.expires_at IS NULL OR g.expires_at > $2)) AS worn \
         FROM live.medal_grants g JOIN live.medals m ON m.id = g.medal_id \
         LEFT JOIN live.medal_worn w ON w.user_id = g.user_id AND w.medal_id = g.medal_id \
         WHERE g.user_id = ANY($1) AND m.visible \
         ORDER BY g.user_id, g.medal_id, g.granted_at DESC, g.id DESC) latest ORDER BY weight DESC, name",
        prefixed("m.")
    ))
    .bind::<Array<SqlUuid>, _>(users)
    .bind::<Timestamptz, _>(now)
    .load(conn)
    .await
}

/// The medals each of `users` wears and still holds at `now`, heaviest first (one statement).
pub async fn worn_by(conn: &mut AsyncPgConnection, users: &[Uuid], now: DateTime<Utc>) -> QueryResult<Vec<UserMedal>> {
    diesel::sql_query(format!(
        "SELECT w.user_id, {}, g.granted_at, g.expires_at, true AS unlocked, true AS worn \
         FROM live.medal_worn w JOIN live.medals m ON m.id = w.medal_id \
         JOIN live.medal_grants g ON g.medal_id = w.medal_id AND g.user_id = w.user_id AND g.revoked_at IS NULL \
         WHERE w.user_id = ANY($1) AND (g.expires_at IS NULL OR g.expires_at > $2) ORDER BY m.weight DESC, m.name",
        prefixed("m.")
    ))
    .bind::<Array<SqlUuid>, _>(users)
    .bind::<Timestamptz, _>(now)
    .load(conn)
    .await
}
