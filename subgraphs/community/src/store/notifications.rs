//! `community.notifications` and `community.notification_actors` (step 7 of the lock order:
//! a notification row, then its actor row, after every other row of the action).

use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// A notification.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName, serde::Serialize, serde::Deserialize)]
pub struct NotificationRow {
    /// Id.
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// Whom it is for.
    #[diesel(sql_type = SqlUuid)]
    pub recipient_id: Uuid,
    /// `like`, `reply` or `follow`.
    #[diesel(sql_type = Text)]
    pub kind: String,
    /// `post`, `comment`, `dynamic` or `user`.
    #[diesel(sql_type = Text)]
    pub subject_kind: String,
    /// The subject's id.
    #[diesel(sql_type = SqlUuid)]
    pub subject_id: Uuid,
    /// The reply of a `reply` notification.
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub reply_id: Option<Uuid>,
    /// Distinct actors folded in.
    #[diesel(sql_type = BigInt)]
    pub actor_count: i64,
    /// The most recent actors, newest first (at most [`LATEST_ACTORS`]).
    #[diesel(sql_type = Array<SqlUuid>)]
    pub latest_actor_ids: Vec<Uuid>,
    /// When it was first recorded.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// When an actor last folded in (the list's order).
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
    /// When its recipient read it (`None`: unread).
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub read_at: Option<DateTime<Utc>>,
}

/// Actors a notification names (the rest are "and N others").
pub const LATEST_ACTORS: i32 = 3;

const COLUMNS: &str =
    "id, recipient_id, kind, subject_kind, subject_id, reply_id, actor_count, latest_actor_ids, created_at, updated_at, read_at";

/// A notification to record or fold into.
pub struct NewNotification<'a> {
    /// Id if it is new.
    pub id: Uuid,
    /// Whom it is for.
    pub recipient_id: Uuid,
    /// Kind.
    pub kind: &'a str,
    /// Subject kind.
    pub subject_kind: &'a str,
    /// Subject.
    pub subject_id: Uuid,
    /// Reply.
    pub reply_id: Option<Uuid>,
    /// Events with one key fold into one row.
    pub fold_key: &'a str,
    /// Now.
    pub at: DateTime<Utc>,
}

/// The recipient's row for `fold_key`, created (with no actor yet) when there is none, and
/// locked for the rest of the transaction either way.
pub async fn upsert_locked(conn: &mut AsyncPgConnection, new: &NewNotification<'_>) -> QueryResult<NotificationRow> {
    // `DO UPDATE` (a no-op assignment) rather than `DO NOTHING`: it locks an existing row and
    // returns it, so two concurrent folds into one row take turns.
    diesel::sql_query(format!(
        "INSERT INTO community.notifications (id, recipient_id, kind, subject_kind, subject_id, reply_id, fold_key, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
         ON CONFLICT (recipient_id, fold_key) DO UPDATE SET fold_key = EXCLUDED.fold_key RETURNING {COLUMNS}"
    ))
    .bind::<SqlUuid, _>(new.id)
    .bind::<SqlUuid, _>(new.recipient_id)
    .bind::<Text, _>(new.kind)
    .bind::<Text, _>(new.subject_kind)
    .bind::<SqlUuid, _>(new.subject_id)
    .bind::<Nullable<SqlUuid>, _>(new.reply_id)
    .bind::<Text, _>(new.fold_key)
    .bind::<Timestamptz, _>(new.at)
    .get_result(conn)
    .await
}

/// Records that `actor` folded into `notification`; `false` when they already had.
pub async fn add_actor(conn: &mut AsyncPgConnection, notification: Uuid, actor: Uuid) -> QueryResult<bool> {
    diesel::sql_query("INSERT INTO community.notification_actors (notification_id, actor_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind::<SqlUuid, _>(notification)
        .bind::<SqlUuid, _>(actor)
        .execute(conn)
        .await
        .map(|rows| rows == 1)
}

/// A new actor folded in: counted, named first, the row moved to the top and unread again.
pub async fn fold_in(conn: &mut AsyncPgConnection, notification: Uuid, actor: Uuid, at: DateTime<Utc>) -> QueryResult<NotificationRow> {
    diesel::sql_query(format!(
        "UPDATE community.notifications SET actor_count = actor_count + 1, \
         latest_actor_ids = (ARRAY[$2::uuid] || array_remove(latest_actor_ids, $2::uuid))[1:{LATEST_ACTORS}], \
         updated_at = greatest(updated_at, $3), read_at = NULL WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind::<SqlUuid, _>(notification)
    .bind::<SqlUuid, _>(actor)
    .bind::<Timestamptz, _>(at)
    .get_result(conn)
    .await
}

/// A page of `recipient`'s notifications, latest activity first, `limit` after `after`
/// (`updated_at` micros, id).
pub async fn page(
    conn: &mut AsyncPgConnection,
    recipient: Uuid,
    after: Option<(i64, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<NotificationRow>> {
    let at = after.and_then(|(micros, _)| DateTime::from_timestamp_micros(micros));
    diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM community.notifications WHERE recipient_id = $1 AND actor_count > 0 \
         AND ($2::timestamptz IS NULL OR (updated_at, id) < ($2, $3)) ORDER BY updated_at DESC, id DESC LIMIT $4"
    ))
    .bind::<SqlUuid, _>(recipient)
    .bind::<Nullable<Timestamptz>, _>(at)
    .bind::<Nullable<SqlUuid>, _>(after.map(|(_, id)| id))
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// How many of `recipient`'s notifications are unread, counting at most `cap` (an index scan
/// of the unread ones only, bounded: a client shows "99+" past a point anyway).
pub async fn unread_count(conn: &mut AsyncPgConnection, recipient: Uuid, cap: i64) -> QueryResult<i64> {
    diesel::sql_query(
        "SELECT count(*) AS n FROM (SELECT 1 FROM community.notifications WHERE recipient_id = $1 AND read_at IS NULL AND actor_count > 0 LIMIT $2) AS unread",
    )
    .bind::<SqlUuid, _>(recipient)
    .bind::<BigInt, _>(cap)
    .get_result::<super::Count>(conn)
    .await
    .map(|row| row.n)
}

/// Marks `recipient`'s notifications read: those among `ids`, or (`ids` `None`) every one whose
/// activity is not newer than `up_to`'s. Returns how many changed.
pub async fn mark_read(
    conn: &mut AsyncPgConnection,
    recipient: Uuid,
    ids: Option<&[Uuid]>,
    up_to: Option<Uuid>,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE community.notifications SET read_at = $4 WHERE recipient_id = $1 AND read_at IS NULL \
         AND ($2::uuid[] IS NULL OR id = ANY($2)) \
         AND ($3::uuid IS NULL OR (updated_at, id) <= (SELECT updated_at, id FROM community.notifications WHERE id = $3 AND recipient_id = $1))",
    )
    .bind::<SqlUuid, _>(recipient)
    .bind::<Nullable<Array<SqlUuid>>, _>(ids)
    .bind::<Nullable<SqlUuid>, _>(up_to)
    .bind::<Timestamptz, _>(now)
    .execute(conn)
    .await
}

/// Whether `id` is one of `recipient`'s notifications.
pub async fn belongs_to(conn: &mut AsyncPgConnection, id: Uuid, recipient: Uuid) -> QueryResult<bool> {
    diesel::sql_query("SELECT count(*) AS n FROM community.notifications WHERE id = $1 AND recipient_id = $2")
        .bind::<SqlUuid, _>(id)
        .bind::<SqlUuid, _>(recipient)
        .get_result::<super::Count>(conn)
        .await
        .map(|row| row.n > 0)
}
