//! `live.pk_*`: the whitelist, links, busy streamers, transitions and durable timers.

use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::{OptionalExtension, QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// A link as stored.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName, serde::Serialize, serde::Deserialize)]
pub struct Pk {
    /// Id.
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// `pk` or `link`.
    #[diesel(sql_type = Text)]
    pub mode: String,
    /// Who invited.
    #[diesel(sql_type = SqlUuid)]
    pub inviter_id: Uuid,
    /// Who was invited.
    #[diesel(sql_type = SqlUuid)]
    pub invitee_id: Uuid,
    /// The inviter's room.
    #[diesel(sql_type = SqlUuid)]
    pub inviter_room_id: Uuid,
    /// The invitee's room.
    #[diesel(sql_type = SqlUuid)]
    pub invitee_room_id: Uuid,
    /// State name (see `domain::pk::PkState`).
    #[diesel(sql_type = Text)]
    pub state: String,
    /// +1 per transition (timers expect one).
    #[diesel(sql_type = BigInt)]
    pub version: i64,
    /// +1 per change of any kind (subscribers drop older updates).
    #[diesel(sql_type = BigInt)]
    pub revision: i64,
    /// The inviter's points.
    #[diesel(sql_type = BigInt)]
    pub inviter_score: i64,
    /// The invitee's points.
    #[diesel(sql_type = BigInt)]
    pub invitee_score: i64,
    /// Score phase length, fixed at the invite.
    #[diesel(sql_type = Int4)]
    pub score_secs: i32,
    /// Punishment length, fixed at the invite.
    #[diesel(sql_type = Int4)]
    pub punishment_secs: i32,
    /// Invited.
    #[diesel(sql_type = Timestamptz)]
    pub invited_at: DateTime<Utc>,
    /// The invite's deadline.
    #[diesel(sql_type = Timestamptz)]
    pub invite_expires_at: DateTime<Utc>,
    /// Accepted.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub started_at: Option<DateTime<Utc>>,
    /// The score phase's deadline.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub score_ends_at: Option<DateTime<Utc>>,
    /// The punishment's deadline.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub punishment_ends_at: Option<DateTime<Utc>>,
    /// Finished.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub ended_at: Option<DateTime<Utc>>,
    /// The winner (`None`: a draw, or no result).
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub winner_id: Option<Uuid>,
}

const COLUMNS: &str = "id, mode, inviter_id, invitee_id, inviter_room_id, invitee_room_id, state, version, revision, inviter_score, \
    invitee_score, score_secs, punishment_secs, invited_at, invite_expires_at, started_at, score_ends_at, punishment_ends_at, ended_at, winner_id";

/// Adds a streamer to the whitelist; `false` when present already.
pub async fn whitelist_add(conn: &mut AsyncPgConnection, user_id: Uuid, by: Uuid, at: DateTime<Utc>) -> QueryResult<bool> {
    let added = diesel::sql_query("INSERT INTO live.pk_whitelist (user_id, added_by, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind::<SqlUuid, _>(user_id)
        .bind::<SqlUuid, _>(by)
        .bind::<Timestamptz, _>(at)
        .execute(conn)
        .await?;
    Ok(added == 1)
}

/// Removes a streamer from the whitelist; `false` when absent.
pub async fn whitelist_remove(conn: &mut AsyncPgConnection, user_id: Uuid) -> QueryResult<bool> {
    let removed = diesel::sql_query("DELETE FROM live.pk_whitelist WHERE user_id = $1").bind::<SqlUuid, _>(user_id).execute(conn).await?;
    Ok(removed == 1)
}

#[derive(QueryableByName)]
struct UserId {
    #[diesel(sql_type = SqlUuid)]
    user_id: Uuid,
}

/// Every whitelisted streamer (the whitelist is short and admin-managed; replicas cache it).
pub async fn whitelist_all(conn: &mut AsyncPgConnection) -> QueryResult<Vec<Uuid>> {
    let rows: Vec<UserId> = diesel::sql_query("SELECT user_id FROM live.pk_whitelist").load(conn).await?;
    Ok(rows.into_iter().map(|row| row.user_id).collect())
}

/// The whitelist, oldest entry first, after `after` (user id order within equal times is kept
/// simple: the whitelist is short and admin-only).
pub async fn whitelist(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<Uuid>> {
    let rows: Vec<UserId> = diesel::sql_query("SELECT user_id FROM live.pk_whitelist ORDER BY added_at, user_id LIMIT $1")
        .bind::<BigInt, _>(limit)
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(|row| row.user_id).collect())
}

/// Inserts a new link in state `invited`.
pub async fn insert(conn: &mut AsyncPgConnection, pk: &Pk) -> QueryResult<Pk> {
    diesel::sql_query(format!(
        "INSERT INTO live.pks ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, 'invited', 0, 0, 0, 0, $7, $8, $9, $10, NULL, NULL, NULL, NULL, NULL) \
         RETURNING {COLUMNS}"
    ))
    .bind::<SqlUuid, _>(pk.id)
    .bind::<Text, _>(&pk.mode)
    .bind::<SqlUuid, _>(pk.inviter_id)
    .bind::<SqlUuid, _>(pk.invitee_id)
    .bind::<SqlUuid, _>(pk.inviter_room_id)
    .bind::<SqlUuid, _>(pk.invitee_room_id)
    .bind::<Int4, _>(pk.score_secs)
    .bind::<Int4, _>(pk.punishment_secs)
    .bind::<Timestamptz, _>(pk.invited_at)
    .bind::<Timestamptz, _>(pk.invite_expires_at)
    .get_result(conn)
    .await
}

/// Marks both streamers busy with `pk_id`; `false` (nothing to keep: roll back) when either
/// is in another link.
pub async fn mark_busy(conn: &mut AsyncPgConnection, pk_id: Uuid, a: Uuid, b: Uuid) -> QueryResult<bool> {
    let marked = diesel::sql_query("INSERT INTO live.pk_busy (user_id, pk_id) VALUES ($1, $3), ($2, $3) ON CONFLICT (user_id) DO NOTHING")
        .bind::<SqlUuid, _>(a)
        .bind::<SqlUuid, _>(b)
        .bind::<SqlUuid, _>(pk_id)
        .execute(conn)
        .await?;
    Ok(marked == 2)
}

/// Frees the streamers of a finished link.
pub async fn release_busy(conn: &mut AsyncPgConnection, pk_id: Uuid) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM live.pk_busy WHERE pk_id = $1").bind::<SqlUuid, _>(pk_id).execute(conn).await
}

/// The unfinished link a streamer is in.
pub async fn active_of(conn: &mut AsyncPgConnection, user_id: Uuid) -> QueryResult<Option<Pk>> {
    diesel::sql_query(format!("SELECT {} FROM live.pks p JOIN live.pk_busy b ON b.pk_id = p.id WHERE b.user_id = $1", prefixed("p.")))
        .bind::<SqlUuid, _>(user_id)
        .get_result(conn)
        .await
        .optional()
}

fn prefixed(prefix: &str) -> String {
    COLUMNS.split(", ").map(|column| format!("{prefix}{}", column.trim())).collect::<Vec<_>>().join(", ")
}

/// One link.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Pk>> {
    diesel::sql_query(format!("SELECT {COLUMNS} FROM live.pks WHERE id = $1")).bind::<SqlUuid, _>(id).get_result(conn).await.optional()
}

/// The newest link of a room (either side).
pub async fn latest_of_room(conn: &mut AsyncPgConnection, room_id: Uuid) -> QueryResult<Option<Pk>> {
    diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM live.pks WHERE inviter_room_id = $1 OR invitee_room_id = $1 ORDER BY invited_at DESC, id DESC LIMIT 1"
    ))
    .bind::<SqlUuid, _>(room_id)
    .get_result(conn)
    .await
    .optional()
}

/// The fields a transition sets (`None` keeps the stored value).
#[derive(Debug, Clone, Default)]
pub struct TransitionFields {
    /// Accepted at.
    pub started_at: Option<DateTime<Utc>>,
    /// Score deadline.
    pub score_ends_at: Option<DateTime<Utc>>,
    /// Punishment deadline.
    pub punishment_ends_at: Option<DateTime<Utc>>,
    /// Finished at.
    pub ended_at: Option<DateTime<Utc>>,
    /// Winner.
    pub winner_id: Option<Uuid>,
}

/// Moves a link from (`expected_state`, `expected_version`) to `next`: the conditional update
/// that makes a transition happen once. `None` when the link is no longer in that state and
/// version (another replica, a user or an admin moved it first): nothing changed.
pub async fn transition(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    expected_state: &str,
    expected_version: i64,
    next: &str,
    fields: &TransitionFields,
) -> QueryResult<Option<Pk>> {
    diesel::sql_query(format!(
        "UPDATE live.pks SET state = $4, version = version + 1, revision = revision + 1, \
             started_at = coalesce($5, started_at), score_ends_at = coalesce($6, score_ends_at), \
             punishment_ends_at = coalesce($7, punishment_ends_at), ended_at = coalesce($8, ended_at), winner_id = coalesce($9, winner_id) \
         WHERE id = $1 AND state = $2 AND version = $3 RETURNING {COLUMNS}"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(expected_state)
    .bind::<BigInt, _>(expected_version)
    .bind::<Text, _>(next)
    .bind::<Nullable<Timestamptz>, _>(fields.started_at)
    .bind::<Nullable<Timestamptz>, _>(fields.score_ends_at)
    .bind::<Nullable<Timestamptz>, _>(fields.punishment_ends_at)
    .bind::<Nullable<Timestamptz>, _>(fields.ended_at)
    .bind::<Nullable<SqlUuid>, _>(fields.winner_id)
    .get_result(conn)
    .await
    .optional()
}

/// One recorded transition.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct TransitionRow {
    /// Sequence.
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// The link.
    #[diesel(sql_type = SqlUuid)]
    pub pk_id: Uuid,
    /// From (`None` for the invite that created it).
    #[diesel(sql_type = Nullable<Text>)]
    pub from_state: Option<String>,
    /// To.
    #[diesel(sql_type = Text)]
    pub to_state: String,
    /// What caused it (`domain::pk::PkCause` names, `invite` for the first).
    #[diesel(sql_type = Text)]
    pub cause: String,
    /// The user who caused it (`None` for a timer).
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub actor_id: Option<Uuid>,
    /// The replica whose timer fired it.
    #[diesel(sql_type = Nullable<Text>)]
    pub fired_by: Option<String>,
    /// When.
    #[diesel(sql_type = Timestamptz)]
    pub at: DateTime<Utc>,
}

/// Records a transition (its key refuses a second entry into the same state).
pub async fn record(conn: &mut AsyncPgConnection, row: &TransitionRow) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO live.pk_transitions (pk_id, from_state, to_state, cause, actor_id, fired_by, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind::<SqlUuid, _>(row.pk_id)
    .bind::<Nullable<Text>, _>(row.from_state.as_deref())
    .bind::<Text, _>(&row.to_state)
    .bind::<Text, _>(&row.cause)
    .bind::<Nullable<SqlUuid>, _>(row.actor_id)
    .bind::<Nullable<Text>, _>(row.fired_by.as_deref())
    .bind::<Timestamptz, _>(row.at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// A link's transitions, in order.
pub async fn transitions(conn: &mut AsyncPgConnection, pk_id: Uuid) -> QueryResult<Vec<TransitionRow>> {
    diesel::sql_query(
        "SELECT id, pk_id, from_state, to_state, cause, actor_id, fired_by, at FROM live.pk_transitions WHERE pk_id = $1 ORDER BY id",
    )
    .bind::<SqlUuid, _>(pk_id)
    .load(conn)
    .await
}

/// Adds `points` to the side of `streamer_id` in its link, if that link is in its score phase
/// at `now` (before the deadline, whether or not the timer has fired yet). The row lock orders
/// it with the score deadline's transition: a gift committed first is in the final score; one
/// that waits for the transition then finds the phase over and scores nothing.
pub async fn add_score(conn: &mut AsyncPgConnection, streamer_id: Uuid, points: i64, now: DateTime<Utc>) -> QueryResult<Option<Pk>> {
    diesel::sql_query(format!(
        "UPDATE live.pks SET \
             inviter_score = inviter_score + CASE WHEN inviter_id = $1 THEN $2 ELSE 0 END, \
             invitee_score = invitee_score + CASE WHEN invitee_id = $1 THEN $2 ELSE 0 END, \
             revision = revision + 1 \
         WHERE id = (SELECT pk_id FROM live.pk_busy WHERE user_id = $1) AND state = 'scoring' AND score_ends_at > $3 \
         RETURNING {COLUMNS}"
    ))
    .bind::<SqlUuid, _>(streamer_id)
    .bind::<BigInt, _>(points)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .await
    .optional()
}

/// A durable deadline.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Timer {
    /// The link.
    #[diesel(sql_type = SqlUuid)]
    pub pk_id: Uuid,
    /// `invite_expiry`, `score_end` or `punishment_end`.
    #[diesel(sql_type = Text)]
    pub kind: String,
    /// When it is due.
    #[diesel(sql_type = Timestamptz)]
    pub due_at: DateTime<Utc>,
    /// The state the link must still be in.
    #[diesel(sql_type = Text)]
    pub expected_state: String,
    /// The version it must still have.
    #[diesel(sql_type = BigInt)]
    pub expected_version: i64,
}

/// Writes a timer in the caller's transaction.
pub async fn insert_timer(conn: &mut AsyncPgConnection, timer: &Timer) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO live.pk_timers (pk_id, kind, due_at, expected_state, expected_version) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (pk_id, kind) DO NOTHING",
    )
    .bind::<SqlUuid, _>(timer.pk_id)
    .bind::<Text, _>(&timer.kind)
    .bind::<Timestamptz, _>(timer.due_at)
    .bind::<Text, _>(&timer.expected_state)
    .bind::<BigInt, _>(timer.expected_version)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Claims the earliest due timer no other replica holds (locked until the transaction ends).
pub async fn claim_due(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> QueryResult<Option<Timer>> {
    diesel::sql_query(
        "SELECT pk_id, kind, due_at, expected_state, expected_version FROM live.pk_timers WHERE due_at <= $1 \
         ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED",
    )
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .await
    .optional()
}

/// Deletes a timer.
pub async fn delete_timer(conn: &mut AsyncPgConnection, pk_id: Uuid, kind: &str) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM live.pk_timers WHERE pk_id = $1 AND kind = $2")
        .bind::<SqlUuid, _>(pk_id)
        .bind::<Text, _>(kind)
        .execute(conn)
        .await
}

/// Deletes every timer of a link (it finished).
pub async fn delete_timers(conn: &mut AsyncPgConnection, pk_id: Uuid) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM live.pk_timers WHERE pk_id = $1").bind::<SqlUuid, _>(pk_id).execute(conn).await
}

#[derive(QueryableByName)]
struct Due {
    #[diesel(sql_type = Nullable<Timestamptz>)]
    due_at: Option<DateTime<Utc>>,
}

/// The nearest deadline of any timer.
pub async fn next_due(conn: &mut AsyncPgConnection) -> QueryResult<Option<DateTime<Utc>>> {
    Ok(diesel::sql_query("SELECT min(due_at) AS due_at FROM live.pk_timers").get_result::<Due>(conn).await?.due_at)
}
