//! `assets.downloads`: the download tasks and their history.
//!
//! Written with `sql_query` and typed binds (diesel_cli was not installed when this was
//! written, so there is no generated `schema.rs` to build the DSL on). Every state change is a
//! conditional update on the expected state (and, for a running task, on the worker holding
//! it), so a cancelled task, a task taken over by another worker or a second firing changes
//! nothing.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::sql_types::{Array, BigInt, Date, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::{OptionalExtension, QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// `queued`.
pub const QUEUED: &str = "queued";
/// `running`.
pub const RUNNING: &str = "running";
/// `completed`.
pub const COMPLETED: &str = "completed";
/// `failed`.
pub const FAILED: &str = "failed";
/// `cancelled`.
pub const CANCELLED: &str = "cancelled";

/// One row.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct Download {
    /// Task id.
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// Owner.
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    /// The client's idempotency key.
    #[diesel(sql_type = Nullable<Text>)]
    pub idempotency_key: Option<String>,
    /// The URL as normalized.
    #[diesel(sql_type = Text)]
    pub url: String,
    /// Site.
    #[diesel(sql_type = Text)]
    pub platform: String,
    /// Extractor (`direct`, `hls`).
    #[diesel(sql_type = Text)]
    pub extractor: String,
    /// Chosen format.
    #[diesel(sql_type = Text)]
    pub format_id: String,
    /// `quick` or `archive`.
    #[diesel(sql_type = Text)]
    pub mode: String,
    /// State.
    #[diesel(sql_type = Text)]
    pub status: String,
    /// Title.
    #[diesel(sql_type = Text)]
    pub title: String,
    /// Attempts started.
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    /// Why it failed (stable code).
    #[diesel(sql_type = Nullable<Text>)]
    pub error_code: Option<String>,
    /// Why it failed (for people).
    #[diesel(sql_type = Nullable<Text>)]
    pub error_message: Option<String>,
    /// Holder while running.
    #[diesel(sql_type = Nullable<Text>)]
    pub worker: Option<String>,
    /// Hold expiry while running.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub lease_until: Option<DateTime<Utc>>,
    /// Bytes so far.
    #[diesel(sql_type = BigInt)]
    pub bytes_done: i64,
    /// Expected bytes.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub bytes_total: Option<i64>,
    /// Finished file, relative to the storage root.
    #[diesel(sql_type = Nullable<Text>)]
    pub file_path: Option<String>,
    /// Finished file's name.
    #[diesel(sql_type = Nullable<Text>)]
    pub file_name: Option<String>,
    /// Its media type.
    #[diesel(sql_type = Nullable<Text>)]
    pub content_type: Option<String>,
    /// Its size.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub size_bytes: Option<i64>,
    /// Its SHA-256 (hex).
    #[diesel(sql_type = Nullable<Text>)]
    pub sha256: Option<String>,
    /// The quota day it counts for.
    #[diesel(sql_type = Date)]
    pub quota_day: NaiveDate,
    /// Created.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// First started.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub started_at: Option<DateTime<Utc>>,
    /// Ended (completed, failed or cancelled).
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub completed_at: Option<DateTime<Utc>>,
    /// When a quick file is deleted.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub expires_at: Option<DateTime<Utc>>,
    /// When the owner (or cleanup) deleted it.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub deleted_at: Option<DateTime<Utc>>,
}

impl Download {
    /// Whether it is an archive download.
    pub fn is_archive(&self) -> bool {
        self.mode == "archive"
    }
}

/// A new task.
pub struct NewDownload<'a> {
    /// Task id.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Idempotency key.
    pub idempotency_key: Option<&'a str>,
    /// Normalized URL.
    pub url: &'a str,
    /// Site.
    pub platform: &'a str,
    /// Extractor.
    pub extractor: &'a str,
    /// Format.
    pub format_id: &'a str,
    /// Mode.
    pub mode: &'a str,
    /// Title.
    pub title: &'a str,
    /// Expected size.
    pub bytes_total: Option<i64>,
    /// Quota day.
    pub quota_day: NaiveDate,
    /// Now.
    pub created_at: DateTime<Utc>,
}

/// Inserts a queued task; `None` when the owner already has a task with this idempotency key.
pub async fn insert(conn: &mut AsyncPgConnection, new: &NewDownload<'_>) -> QueryResult<Option<Download>> {
    diesel::sql_query(
        "INSERT INTO assets.downloads (id, user_id, idempotency_key, url, platform, extractor, format_id, mode, status, title, \
         bytes_total, quota_day, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', $9, $10, $11, $12) \
         ON CONFLICT (user_id, idempotency_key) DO NOTHING RETURNING *",
    )
    .bind::<SqlUuid, _>(new.id)
    .bind::<SqlUuid, _>(new.user_id)
    .bind::<Nullable<Text>, _>(new.idempotency_key)
    .bind::<Text, _>(new.url)
    .bind::<Text, _>(new.platform)
    .bind::<Text, _>(new.extractor)
    .bind::<Text, _>(new.format_id)
    .bind::<Text, _>(new.mode)
    .bind::<Text, _>(new.title)
    .bind::<Nullable<BigInt>, _>(new.bytes_total)
    .bind::<Date, _>(new.quota_day)
    .bind::<Timestamptz, _>(new.created_at)
    .get_result(conn)
    .await
    .optional()
}

/// The task `id` (deleted ones included).
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Download>> {
    diesel::sql_query("SELECT * FROM assets.downloads WHERE id = $1").bind::<SqlUuid, _>(id).get_result(conn).await.optional()
}

/// The task of `user_id` with this idempotency key.
pub async fn find_by_key(conn: &mut AsyncPgConnection, user_id: Uuid, key: &str) -> QueryResult<Option<Download>> {
    diesel::sql_query("SELECT * FROM assets.downloads WHERE user_id = $1 AND idempotency_key = $2")
        .bind::<SqlUuid, _>(user_id)
        .bind::<Text, _>(key)
        .get_result(conn)
        .await
        .optional()
}

/// Up to `limit` tasks of `user_id` (not deleted), newest first, older than `before`, with this
/// status and mode when given.
pub async fn list(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    status: Option<&str>,
    mode: Option<&str>,
    before: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Download>> {
    diesel::sql_query(
        "SELECT * FROM assets.downloads WHERE user_id = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR status = $2) \
         AND ($3::text IS NULL OR mode = $3) AND ($4::uuid IS NULL OR id < $4) ORDER BY id DESC LIMIT $5",
    )
    .bind::<SqlUuid, _>(user_id)
    .bind::<Nullable<Text>, _>(status)
    .bind::<Nullable<Text>, _>(mode)
    .bind::<Nullable<SqlUuid>, _>(before)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Tasks of `user_id` that count for `day` (every task started that day, whatever became of it).
pub async fn count_for_day(conn: &mut AsyncPgConnection, user_id: Uuid, day: NaiveDate) -> QueryResult<i64> {
    diesel::sql_query("SELECT count(*) AS n FROM assets.downloads WHERE user_id = $1 AND quota_day = $2")
        .bind::<SqlUuid, _>(user_id)
        .bind::<Date, _>(day)
        .get_result::<Count>(conn)
        .await
        .map(|count| count.n)
}

/// Takes the task for `worker` until `lease_until`: a queued task, or a running one whose
/// holder's lease ran out (it died). `None`: someone else holds it, or it has ended.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    worker: &str,
    lease_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<Option<Download>> {
    diesel::sql_query(
        "UPDATE assets.downloads SET status = 'running', worker = $2, lease_until = $3, started_at = COALESCE(started_at, $4) \
         WHERE id = $1 AND deleted_at IS NULL AND (status = 'queued' OR (status = 'running' AND lease_until < $4)) RETURNING *",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(worker)
    .bind::<Timestamptz, _>(lease_until)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .await
    .optional()
}

/// Records that `worker` starts attempt `attempt`; `false` when it no longer holds the task.
pub async fn begin_attempt(conn: &mut AsyncPgConnection, id: Uuid, worker: &str, attempt: i32) -> QueryResult<bool> {
    diesel::sql_query(
        "UPDATE assets.downloads SET attempts = $3 WHERE id = $1 AND worker = $2 AND status = 'running' AND deleted_at IS NULL",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(worker)
    .bind::<Integer, _>(attempt)
    .execute(conn)
    .await
    .map(|n| n == 1)
}

/// Renews `worker`'s hold and records progress; `false` when it no longer holds the task
/// (cancelled, deleted, taken over): the worker stops.
pub async fn heartbeat(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    worker: &str,
    lease_until: DateTime<Utc>,
    bytes_done: i64,
    bytes_total: Option<i64>,
) -> QueryResult<bool> {
    diesel::sql_query(
        "UPDATE assets.downloads SET lease_until = $3, bytes_done = $4, bytes_total = COALESCE($5, bytes_total) \
         WHERE id = $1 AND worker = $2 AND status = 'running' AND deleted_at IS NULL",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(worker)
    .bind::<Timestamptz, _>(lease_until)
    .bind::<BigInt, _>(bytes_done)
    .bind::<Nullable<BigInt>, _>(bytes_total)
    .execute(conn)
    .await
    .map(|n| n == 1)
}

/// A finished file, as the row records it.
pub struct CompletedFile<'a> {
    /// Relative path.
    pub path: &'a str,
    /// Name.
    pub name: &'a str,
    /// Media type.
    pub content_type: &'a str,
    /// Size.
    pub size: i64,
    /// SHA-256 hex.
    pub sha256: &'a str,
    /// Completion time.
    pub completed_at: DateTime<Utc>,
    /// When a quick file expires.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Marks the task completed with its file, if `worker` still holds it.
pub async fn complete(conn: &mut AsyncPgConnection, id: Uuid, worker: &str, file: &CompletedFile<'_>) -> QueryResult<Option<Download>> {
    diesel::sql_query(
        "UPDATE assets.downloads SET status = 'completed', file_path = $3, file_name = $4, content_type = $5, size_bytes = $6, \
         sha256 = $7, completed_at = $8, expires_at = $9, bytes_done = $6, bytes_total = $6, worker = NULL, lease_until = NULL, \
         error_code = NULL, error_message = NULL \
         WHERE id = $1 AND worker = $2 AND status = 'running' AND deleted_at IS NULL RETURNING *",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(worker)
    .bind::<Text, _>(file.path)
    .bind::<Text, _>(file.name)
    .bind::<Text, _>(file.content_type)
    .bind::<BigInt, _>(file.size)
    .bind::<Text, _>(file.sha256)
    .bind::<Timestamptz, _>(file.completed_at)
    .bind::<Nullable<Timestamptz>, _>(file.expires_at)
    .get_result(conn)
    .await
    .optional()
}

/// Marks the task failed with its reason, if `worker` still holds it.
pub async fn fail(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    worker: &str,
    code: &str,
    message: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<Download>> {
    diesel::sql_query(
        "UPDATE assets.downloads SET status = 'failed', error_code = $3, error_message = $4, completed_at = $5, worker = NULL, \
         lease_until = NULL WHERE id = $1 AND worker = $2 AND status = 'running' RETURNING *",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(worker)
    .bind::<Text, _>(code)
    .bind::<Text, _>(message)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .await
    .optional()
}

/// Records a transient failure of one attempt (the task stays running for the next one).
pub async fn note_attempt_failure(conn: &mut AsyncPgConnection, id: Uuid, worker: &str, code: &str, message: &str) -> QueryResult<bool> {
    diesel::sql_query(
        "UPDATE assets.downloads SET error_code = $3, error_message = $4 WHERE id = $1 AND worker = $2 AND status = 'running'",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(worker)
    .bind::<Text, _>(code)
    .bind::<Text, _>(message)
    .execute(conn)
    .await
    .map(|n| n == 1)
}

/// Cancels a queued or running task of `user_id`.
pub async fn cancel(conn: &mut AsyncPgConnection, id: Uuid, user_id: Uuid, now: DateTime<Utc>) -> QueryResult<Option<Download>> {
    diesel::sql_query(
        "UPDATE assets.downloads SET status = 'cancelled', completed_at = $3, worker = NULL, lease_until = NULL \
         WHERE id = $1 AND user_id = $2 AND status IN ('queued', 'running') AND deleted_at IS NULL RETURNING *",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<SqlUuid, _>(user_id)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .await
    .optional()
}

/// Deletes a task of `user_id` from the history (a running one is cancelled as well). The row
/// stays (quota reconciliation counts it) with `deleted_at` set.
pub async fn mark_deleted(conn: &mut AsyncPgConnection, id: Uuid, user_id: Uuid, now: DateTime<Utc>) -> QueryResult<Option<Download>> {
    diesel::sql_query(
        "UPDATE assets.downloads SET deleted_at = $3, worker = NULL, lease_until = NULL, \
         status = CASE WHEN status IN ('queued', 'running') THEN 'cancelled' ELSE status END, \
         completed_at = COALESCE(completed_at, $3) WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL RETURNING *",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<SqlUuid, _>(user_id)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .await
    .optional()
}

/// Puts running tasks whose holder's lease ran out back in the queue (their worker died and
/// no redelivery is coming); returns them, to be enqueued again.
pub async fn requeue_stale(conn: &mut AsyncPgConnection, now: DateTime<Utc>, limit: i64) -> QueryResult<Vec<Download>> {
    diesel::sql_query(
        "UPDATE assets.downloads SET status = 'queued', worker = NULL, lease_until = NULL WHERE id IN (SELECT id FROM assets.downloads \
         WHERE status = 'running' AND lease_until < $1 ORDER BY lease_until LIMIT $2 FOR UPDATE SKIP LOCKED) \
         AND status = 'running' AND lease_until < $1 RETURNING *",
    )
    .bind::<Timestamptz, _>(now)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// Quick downloads whose file expired by `now` (or, with `early`, the oldest quick files
/// whatever their expiry), marked deleted; returns them so their files are removed.
pub async fn expire_quick(conn: &mut AsyncPgConnection, now: DateTime<Utc>, early: bool, limit: i64) -> QueryResult<Vec<Download>> {
    diesel::sql_query(
        "UPDATE assets.downloads SET deleted_at = $1 WHERE id IN (SELECT id FROM assets.downloads WHERE mode = 'quick' \
         AND status = 'completed' AND deleted_at IS NULL AND ($2 OR expires_at <= $1) ORDER BY expires_at LIMIT $3 \
         FOR UPDATE SKIP LOCKED) AND deleted_at IS NULL RETURNING *",
    )
    .bind::<Timestamptz, _>(now)
    .bind::<diesel::sql_types::Bool, _>(early)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// Of the task directories `ids` found on disk, those whose task no longer needs them: ended
/// without a file there (failed, cancelled, archived elsewhere) or deleted.
pub async fn dead_task_dirs(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<Uuid>> {
    diesel::sql_query(
        "SELECT id FROM assets.downloads WHERE id = ANY($1) AND (deleted_at IS NOT NULL OR status IN ('failed', 'cancelled') \
         OR (status = 'completed' AND mode = 'archive'))",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .load::<Id>(conn)
    .await
    .map(|rows| rows.into_iter().map(|row| row.id).collect())
}

/// Tasks per status (not deleted).
#[derive(Debug, Clone, QueryableByName)]
pub struct StatusCount {
    /// Status.
    #[diesel(sql_type = Text)]
    pub status: String,
    /// Tasks.
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// How many tasks are queued and running.
pub async fn active_counts(conn: &mut AsyncPgConnection) -> QueryResult<Vec<StatusCount>> {
    diesel::sql_query("SELECT status, count(*) AS n FROM assets.downloads WHERE status IN ('queued', 'running') GROUP BY status")
        .load(conn)
        .await
}

/// Outcomes per platform since a time.
#[derive(Debug, Clone, QueryableByName)]
pub struct PlatformOutcomes {
    /// Site.
    #[diesel(sql_type = Text)]
    pub platform: String,
    /// Completed.
    #[diesel(sql_type = BigInt)]
    pub completed: i64,
    /// Failed.
    #[diesel(sql_type = BigInt)]
    pub failed: i64,
}

/// Completed and failed tasks per platform that ended since `since`.
pub async fn outcomes_by_platform(conn: &mut AsyncPgConnection, since: DateTime<Utc>) -> QueryResult<Vec<PlatformOutcomes>> {
    diesel::sql_query(
        "SELECT platform, count(*) FILTER (WHERE status = 'completed') AS completed, count(*) FILTER (WHERE status = 'failed') AS failed \
         FROM assets.downloads WHERE completed_at >= $1 AND status IN ('completed', 'failed') GROUP BY platform ORDER BY platform LIMIT 200",
    )
    .bind::<Timestamptz, _>(since)
    .load(conn)
    .await
}

#[derive(QueryableByName)]
struct Level {
    #[diesel(sql_type = Integer)]
    level: i32,
}

/// The quota level of `user_id` (0 without a row).
pub async fn user_level(conn: &mut AsyncPgConnection, user_id: Uuid) -> QueryResult<i32> {
    diesel::sql_query("SELECT level FROM assets.user_levels WHERE user_id = $1")
        .bind::<SqlUuid, _>(user_id)
        .get_result::<Level>(conn)
        .await
        .optional()
        .map(|level| level.map_or(0, |level| level.level))
}

/// Sets the quota level of `user_id`.
pub async fn set_user_level(conn: &mut AsyncPgConnection, user_id: Uuid, level: i32, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO assets.user_levels (user_id, level, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET level = EXCLUDED.level, updated_at = EXCLUDED.updated_at",
    )
    .bind::<SqlUuid, _>(user_id)
    .bind::<Integer, _>(level)
    .bind::<Timestamptz, _>(now)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Puts a failed task back in the queue with its attempts reset (an admin retries it).
pub async fn reset_failed(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Download>> {
    diesel::sql_query(
        "UPDATE assets.downloads SET status = 'queued', attempts = 0, error_code = NULL, error_message = NULL, completed_at = NULL, \
         started_at = NULL, bytes_done = 0 WHERE id = $1 AND status = 'failed' AND deleted_at IS NULL RETURNING *",
    )
    .bind::<SqlUuid, _>(id)
    .get_result(conn)
    .await
    .optional()
}
