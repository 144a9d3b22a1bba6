//! `community.sanctions` (mutes and bans) and `community.moderation_log`.

use chrono::{DateTime, Utc};
use diesel::OptionalExtension;
use diesel::QueryResult;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// A user's sanctions.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct Sanction {
    /// The user.
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    /// Muted until then (no effect once past).
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub muted_until: Option<DateTime<Utc>>,
    /// Banned.
    #[diesel(sql_type = Bool)]
    pub banned: bool,
    /// While banned, their posts and comments are hidden from everyone but admins.
    #[diesel(sql_type = Bool)]
    pub hides_content: bool,
    /// Last change.
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "user_id, muted_until, banned, hides_content, updated_at";

/// SQL: the row's `author_id` is not a banned user whose content is hidden.
pub(crate) const NOT_HIDDEN: &str = "author_id NOT IN (SELECT user_id FROM community.sanctions WHERE banned AND hides_content)";

/// A user's sanctions (`None`: never sanctioned).
pub async fn find(conn: &mut AsyncPgConnection, user: Uuid) -> QueryResult<Option<Sanction>> {
    diesel::sql_query(format!("SELECT {COLUMNS} FROM community.sanctions WHERE user_id = $1"))
        .bind::<SqlUuid, _>(user)
        .get_result(conn)
        .await
        .optional()
}

/// Sets a user's mute end (`None`: unmuted).
pub async fn set_mute(conn: &mut AsyncPgConnection, user: Uuid, until: Option<DateTime<Utc>>, now: DateTime<Utc>) -> QueryResult<Sanction> {
    diesel::sql_query(format!(
        "INSERT INTO community.sanctions (user_id, muted_until, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET muted_until = EXCLUDED.muted_until, updated_at = EXCLUDED.updated_at RETURNING {COLUMNS}"
    ))
    .bind::<SqlUuid, _>(user)
    .bind::<Nullable<Timestamptz>, _>(until)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .await
}

/// Bans (hiding their content or not) or unbans a user (an unban shows their content again).
pub async fn set_ban(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    banned: bool,
    hides_content: bool,
    now: DateTime<Utc>,
) -> QueryResult<Sanction> {
    diesel::sql_query(format!(
        "INSERT INTO community.sanctions (user_id, banned, hides_content, updated_at) VALUES ($1, $2, $2 AND $4, $3) \
         ON CONFLICT (user_id) DO UPDATE SET banned = EXCLUDED.banned, hides_content = EXCLUDED.hides_content, \
         updated_at = EXCLUDED.updated_at RETURNING {COLUMNS}"
    ))
    .bind::<SqlUuid, _>(user)
    .bind::<Bool, _>(banned)
    .bind::<Timestamptz, _>(now)
    .bind::<Bool, _>(hides_content)
    .get_result(conn)
    .await
}

/// Users muted at `now`, latest mute end first, `limit` after `after` (mute end micros, id).
pub async fn muted(conn: &mut AsyncPgConnection, now: DateTime<Utc>, after: Option<(i64, Uuid)>, limit: i64) -> QueryResult<Vec<Sanction>> {
    let at = after.and_then(|(micros, _)| DateTime::from_timestamp_micros(micros));
    diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM community.sanctions WHERE muted_until > $1 \
         AND ($2::timestamptz IS NULL OR (muted_until, user_id) < ($2, $3)) ORDER BY muted_until DESC, user_id DESC LIMIT $4"
    ))
    .bind::<Timestamptz, _>(now)
    .bind::<Nullable<Timestamptz>, _>(at)
    .bind::<Nullable<SqlUuid>, _>(after.map(|(_, id)| id))
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// Banned users, most recently changed first, `limit` after `after` (change micros, id).
pub async fn banned(conn: &mut AsyncPgConnection, after: Option<(i64, Uuid)>, limit: i64) -> QueryResult<Vec<Sanction>> {
    let at = after.and_then(|(micros, _)| DateTime::from_timestamp_micros(micros));
    diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM community.sanctions WHERE banned \
         AND ($1::timestamptz IS NULL OR (updated_at, user_id) < ($1, $2)) ORDER BY updated_at DESC, user_id DESC LIMIT $3"
    ))
    .bind::<Nullable<Timestamptz>, _>(at)
    .bind::<Nullable<SqlUuid>, _>(after.map(|(_, id)| id))
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// One moderation action.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct LogEntry {
    /// Id.
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// Who did it.
    #[diesel(sql_type = SqlUuid)]
    pub actor_id: Uuid,
    /// What (`mute`, `unmute`, `ban`, `unban`, `delete_post`, `delete_comment`, `move_post`).
    #[diesel(sql_type = Text)]
    pub action: String,
    /// To whom.
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub target_user: Option<Uuid>,
    /// Which kind of item (`post`, `comment`).
    #[diesel(sql_type = Nullable<Text>)]
    pub target_kind: Option<String>,
    /// Which item.
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub target_id: Option<Uuid>,
    /// Why.
    #[diesel(sql_type = Nullable<Text>)]
    pub reason: Option<String>,
    /// Until when (mutes).
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub expires_at: Option<DateTime<Utc>>,
    /// When.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

/// Appends to the log (in the caller's transaction).
pub async fn log(conn: &mut AsyncPgConnection, entry: &LogEntry) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO community.moderation_log (id, actor_id, action, target_user, target_kind, target_id, reason, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind::<SqlUuid, _>(entry.id)
    .bind::<SqlUuid, _>(entry.actor_id)
    .bind::<Text, _>(&entry.action)
    .bind::<Nullable<SqlUuid>, _>(entry.target_user)
    .bind::<Nullable<Text>, _>(entry.target_kind.as_deref())
    .bind::<Nullable<SqlUuid>, _>(entry.target_id)
    .bind::<Nullable<Text>, _>(entry.reason.as_deref())
    .bind::<Nullable<Timestamptz>, _>(entry.expires_at)
    .bind::<Timestamptz, _>(entry.created_at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The log, newest first, `limit` after `after` (time micros, id).
pub async fn log_page(conn: &mut AsyncPgConnection, after: Option<(i64, Uuid)>, limit: i64) -> QueryResult<Vec<LogEntry>> {
    let at = after.and_then(|(micros, _)| DateTime::from_timestamp_micros(micros));
    diesel::sql_query(
        "SELECT id, actor_id, action, target_user, target_kind, target_id, reason, expires_at, created_at FROM community.moderation_log \
         WHERE ($1::timestamptz IS NULL OR (created_at, id) < ($1, $2)) ORDER BY created_at DESC, id DESC LIMIT $3",
    )
    .bind::<Nullable<Timestamptz>, _>(at)
    .bind::<Nullable<SqlUuid>, _>(after.map(|(_, id)| id))
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}
