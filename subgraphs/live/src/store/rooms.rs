//! `live.rooms` and `live.sessions`: one room per user and its live sessions.

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::{OptionalExtension, QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// A room as stored.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Room {
    /// Id.
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// The streamer (a user id); one room per user.
    #[diesel(sql_type = SqlUuid)]
    pub owner_id: Uuid,
    /// Its channel.
    #[diesel(sql_type = SqlUuid)]
    pub channel_id: Uuid,
    /// Title.
    #[diesel(sql_type = Text)]
    pub title: String,
    /// Cover image URL.
    #[diesel(sql_type = Nullable<Text>)]
    pub cover_url: Option<String>,
    /// The open session while live.
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub live_session_id: Option<Uuid>,
    /// When the open session started.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub live_since: Option<DateTime<Utc>>,
    /// Opened.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// Last changed.
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, owner_id, channel_id, title, cover_url, live_session_id, live_since, created_at, updated_at";

/// A live session as stored.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Session {
    /// Id.
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// Its room.
    #[diesel(sql_type = SqlUuid)]
    pub room_id: Uuid,
    /// Start.
    #[diesel(sql_type = Timestamptz)]
    pub started_at: DateTime<Utc>,
    /// End (`None` while open).
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub ended_at: Option<DateTime<Utc>>,
    /// Most viewers seen at once.
    #[diesel(sql_type = Int4)]
    pub peak_viewers: i32,
}

const SESSION_COLUMNS: &str = "id, room_id, started_at, ended_at, peak_viewers";

/// One room.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Room>> {
    diesel::sql_query(format!("SELECT {COLUMNS} FROM live.rooms WHERE id = $1")).bind::<SqlUuid, _>(id).get_result(conn).await.optional()
}

/// One room, locked for the rest of the transaction.
pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Room>> {
    diesel::sql_query(format!("SELECT {COLUMNS} FROM live.rooms WHERE id = $1 FOR UPDATE"))
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .await
        .optional()
}

/// The room of `owner_id`, locked for the rest of the transaction.
pub async fn lock_by_owner(conn: &mut AsyncPgConnection, owner_id: Uuid) -> QueryResult<Option<Room>> {
    diesel::sql_query(format!("SELECT {COLUMNS} FROM live.rooms WHERE owner_id = $1 FOR UPDATE"))
        .bind::<SqlUuid, _>(owner_id)
        .get_result(conn)
        .await
        .optional()
}

/// Rooms by id (one statement for a loader's batch).
pub async fn find_many(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<Room>> {
    diesel::sql_query(format!("SELECT {COLUMNS} FROM live.rooms WHERE id = ANY($1)")).bind::<Array<SqlUuid>, _>(ids).load(conn).await
}

/// Rooms by owner (one statement for a loader's batch).
pub async fn find_by_owners(conn: &mut AsyncPgConnection, owners: &[Uuid]) -> QueryResult<Vec<Room>> {
    diesel::sql_query(format!("SELECT {COLUMNS} FROM live.rooms WHERE owner_id = ANY($1)"))
        .bind::<Array<SqlUuid>, _>(owners)
        .load(conn)
        .await
}

/// Inserts a room; `None` when the owner has one already.
pub async fn insert(conn: &mut AsyncPgConnection, room: &Room) -> QueryResult<Option<Room>> {
    diesel::sql_query(format!(
        "INSERT INTO live.rooms ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, NULL, NULL, $6, $6) \
         ON CONFLICT (owner_id) DO NOTHING RETURNING {COLUMNS}"
    ))
    .bind::<SqlUuid, _>(room.id)
    .bind::<SqlUuid, _>(room.owner_id)
    .bind::<SqlUuid, _>(room.channel_id)
    .bind::<Text, _>(&room.title)
    .bind::<Nullable<Text>, _>(room.cover_url.as_deref())
    .bind::<Timestamptz, _>(room.created_at)
    .get_result(conn)
    .await
    .optional()
}

/// Writes a room's title, cover and channel.
pub async fn update_details(conn: &mut AsyncPgConnection, room: &Room) -> QueryResult<Room> {
    diesel::sql_query(format!(
        "UPDATE live.rooms SET title = $2, cover_url = $3, channel_id = $4, updated_at = $5 WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind::<SqlUuid, _>(room.id)
    .bind::<Text, _>(&room.title)
    .bind::<Nullable<Text>, _>(room.cover_url.as_deref())
    .bind::<SqlUuid, _>(room.channel_id)
    .bind::<Timestamptz, _>(room.updated_at)
    .get_result(conn)
    .await
}

/// Opens a session of a room that is not live (the room row must be locked); `None` when it
/// is live already.
pub async fn start_session(conn: &mut AsyncPgConnection, room_id: Uuid, session_id: Uuid, at: DateTime<Utc>) -> QueryResult<Option<Room>> {
    let room: Option<Room> = diesel::sql_query(format!(
        "UPDATE live.rooms SET live_session_id = $2, live_since = $3, updated_at = $3 \
         WHERE id = $1 AND live_session_id IS NULL RETURNING {COLUMNS}"
    ))
    .bind::<SqlUuid, _>(room_id)
    .bind::<SqlUuid, _>(session_id)
    .bind::<Timestamptz, _>(at)
    .get_result(conn)
    .await
    .optional()?;
    if room.is_some() {
        diesel::sql_query(format!("INSERT INTO live.sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, NULL, 0)"))
            .bind::<SqlUuid, _>(session_id)
            .bind::<SqlUuid, _>(room_id)
            .bind::<Timestamptz, _>(at)
            .execute(conn)
            .await?;
    }
    Ok(room)
}

/// Closes the open session of a live room; returns the room (no longer live) and the closed
/// session, or `None` when it was not live.
pub async fn end_session(conn: &mut AsyncPgConnection, room_id: Uuid, at: DateTime<Utc>) -> QueryResult<Option<(Room, Session)>> {
    let Some(open) = diesel::sql_query(format!(
        "UPDATE live.sessions SET ended_at = greatest($2, started_at) WHERE room_id = $1 AND ended_at IS NULL RETURNING {SESSION_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(room_id)
    .bind::<Timestamptz, _>(at)
    .get_result::<Session>(conn)
    .await
    .optional()?
    else {
        return Ok(None);
    };
    let room = diesel::sql_query(format!(
        "UPDATE live.rooms SET live_session_id = NULL, live_since = NULL, updated_at = $2 WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind::<SqlUuid, _>(room_id)
    .bind::<Timestamptz, _>(at)
    .get_result(conn)
    .await?;
    Ok(Some((room, open)))
}

/// Raises the peak viewer count of a room's open session to `viewers` when that is higher.
pub async fn raise_room_peak(conn: &mut AsyncPgConnection, room_id: Uuid, viewers: i32) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE live.sessions s SET peak_viewers = $2 FROM live.rooms r \
         WHERE r.id = $1 AND s.id = r.live_session_id AND s.ended_at IS NULL AND s.peak_viewers < $2",
    )
    .bind::<SqlUuid, _>(room_id)
    .bind::<Int4, _>(viewers)
    .execute(conn)
    .await
}

/// Live rooms of a channel, longest live first, strictly after `after` (`live_since`, `id`).
pub async fn live_in_channel(
    conn: &mut AsyncPgConnection,
    channel_id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<Room>> {
    let (since, id) = after.map_or((None, None), |(since, id)| (Some(since), Some(id)));
    diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM live.rooms WHERE channel_id = $1 AND live_session_id IS NOT NULL \
         AND ($2::timestamptz IS NULL OR (live_since, id) > ($2, $3)) ORDER BY live_since, id LIMIT $4"
    ))
    .bind::<SqlUuid, _>(channel_id)
    .bind::<Nullable<Timestamptz>, _>(since)
    .bind::<Nullable<SqlUuid>, _>(id)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// Sessions by id (one statement for a loader's batch).
pub async fn find_sessions(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<Session>> {
    diesel::sql_query(format!("SELECT {SESSION_COLUMNS} FROM live.sessions WHERE id = ANY($1)"))
        .bind::<Array<SqlUuid>, _>(ids)
        .load(conn)
        .await
}

/// A room's sessions, newest first, strictly after `after` (`started_at`, `id`) in that order.
pub async fn sessions_of(
    conn: &mut AsyncPgConnection,
    room_id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<Session>> {
    let (since, id) = after.map_or((None, None), |(since, id)| (Some(since), Some(id)));
    diesel::sql_query(format!(
        "SELECT {SESSION_COLUMNS} FROM live.sessions WHERE room_id = $1 \
         AND ($2::timestamptz IS NULL OR (started_at, id) < ($2, $3)) ORDER BY started_at DESC, id DESC LIMIT $4"
    ))
    .bind::<SqlUuid, _>(room_id)
    .bind::<Nullable<Timestamptz>, _>(since)
    .bind::<Nullable<SqlUuid>, _>(id)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}
