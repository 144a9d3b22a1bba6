//! `live.room_mutes`: who may not send danmaku in a room, until when.

use chrono::{DateTime, Utc};
use diesel::sql_types::{Text, Timestamptz, Uuid as SqlUuid};
use diesel::{OptionalExtension, QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

#[derive(QueryableByName)]
struct Until {
    #[diesel(sql_type = Timestamptz)]
    until: DateTime<Utc>,
}

/// Mutes `user_id` in `room_id` until `until` (replacing an earlier mute).
pub async fn mute(
    conn: &mut AsyncPgConnection,
    room_id: Uuid,
    user_id: Uuid,
    by: Uuid,
    reason: &str,
    until: DateTime<Utc>,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO live.room_mutes (room_id, user_id, muted_by, reason, until, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (room_id, user_id) DO UPDATE SET muted_by = $3, reason = $4, until = $5, created_at = $6",
    )
    .bind::<SqlUuid, _>(room_id)
    .bind::<SqlUuid, _>(user_id)
    .bind::<SqlUuid, _>(by)
    .bind::<Text, _>(reason)
    .bind::<Timestamptz, _>(until)
    .bind::<Timestamptz, _>(at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Lifts a mute; `false` when there was none.
pub async fn unmute(conn: &mut AsyncPgConnection, room_id: Uuid, user_id: Uuid) -> QueryResult<bool> {
    let removed = diesel::sql_query("DELETE FROM live.room_mutes WHERE room_id = $1 AND user_id = $2")
        .bind::<SqlUuid, _>(room_id)
        .bind::<SqlUuid, _>(user_id)
        .execute(conn)
        .await?;
    Ok(removed == 1)
}

/// When the mute of `user_id` in `room_id` ends, if one is in force at `now`.
pub async fn muted_until(
    conn: &mut AsyncPgConnection,
    room_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Option<DateTime<Utc>>> {
    let row: Option<Until> = diesel::sql_query("SELECT until FROM live.room_mutes WHERE room_id = $1 AND user_id = $2 AND until > $3")
        .bind::<SqlUuid, _>(room_id)
        .bind::<SqlUuid, _>(user_id)
        .bind::<Timestamptz, _>(now)
        .get_result(conn)
        .await
        .optional()?;
    Ok(row.map(|row| row.until))
}
