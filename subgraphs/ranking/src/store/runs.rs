//! `ranking.recompute_runs`: the full recompute job's runs and their checkpoints.
//!
//! The partial unique index on `status = 'running'` allows one running run at a time. Who may
//! work on it is decided by the `hot-recompute` lease (`ranking.leases`, see
//! `platform::lease`), not here: the domain calls every write below in a transaction that
//! renewed or fenced that lease first, so a replica that lost the lease writes nothing.

use super::schema::ranking::recompute_runs;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// A run of the job.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = recompute_runs, check_for_backend(diesel::pg::Pg))]
pub struct Run {
    /// Id.
    pub id: Uuid,
    /// Why it ran: `schedule`, `admin`, `weights`, `empty-redis`.
    pub reason: String,
    /// The admin who asked.
    pub requested_by: Option<Uuid>,
    /// `running`, `succeeded` or `failed`.
    pub status: String,
    /// The moment the ranking describes (kept across a resume, so a resumed run equals a clean one).
    pub as_of: DateTime<Utc>,
    /// The weights it uses.
    pub weights_id: i64,
    /// The last video ranked.
    pub checkpoint: Option<Uuid>,
    /// Videos ranked so far.
    pub videos_processed: i64,
    /// The replica that last worked on it.
    pub holder: Option<String>,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End.
    pub finished_at: Option<DateTime<Utc>>,
    /// Why it failed.
    pub error: Option<String>,
}

/// A run to start.
pub struct NewRun<'a> {
    /// Why.
    pub reason: &'a str,
    /// Who asked.
    pub requested_by: Option<Uuid>,
    /// The ranking's moment.
    pub as_of: DateTime<Utc>,
    /// Weights version.
    pub weights_id: i64,
    /// This replica.
    pub holder: &'a str,
}

/// Starts a run, or `None` when one is running already.
pub async fn start(conn: &mut AsyncPgConnection, run: &NewRun<'_>) -> QueryResult<Option<Run>> {
    diesel::insert_into(recompute_runs::table)
        .values((
            recompute_runs::id.eq(Uuid::now_v7()),
            recompute_runs::reason.eq(run.reason),
            recompute_runs::requested_by.eq(run.requested_by),
            recompute_runs::status.eq("running"),
            recompute_runs::as_of.eq(run.as_of),
            recompute_runs::weights_id.eq(run.weights_id),
            recompute_runs::holder.eq(run.holder),
            recompute_runs::started_at.eq(run.as_of),
        ))
        .on_conflict_do_nothing()
        .returning(Run::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// The running run, if any.
pub async fn running(conn: &mut AsyncPgConnection) -> QueryResult<Option<Run>> {
    recompute_runs::table.filter(recompute_runs::status.eq("running")).select(Run::as_select()).first(conn).await.optional()
}

/// Records that `holder` works on the running run `id` now (it took the run over).
pub async fn resume(conn: &mut AsyncPgConnection, id: Uuid, holder: &str) -> QueryResult<Run> {
    diesel::update(recompute_runs::table.find(id).filter(recompute_runs::status.eq("running")))
        .set(recompute_runs::holder.eq(holder))
        .returning(Run::as_returning())
        .get_result(conn)
        .await
}

/// Records progress of the running run `id`; `false` when it is no longer running.
pub async fn checkpoint(conn: &mut AsyncPgConnection, id: Uuid, last_video: Uuid, videos_processed: i64) -> QueryResult<bool> {
    diesel::update(recompute_runs::table.find(id).filter(recompute_runs::status.eq("running")))
        .set((recompute_runs::checkpoint.eq(last_video), recompute_runs::videos_processed.eq(videos_processed)))
        .execute(conn)
        .await
        .map(|n| n > 0)
}

/// Ends the running run `id` (`succeeded`, or `failed` with its error); `NotFound` when it is
/// not running.
pub async fn finish(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    status: &str,
    error: Option<&str>,
    finished_at: DateTime<Utc>,
) -> QueryResult<Run> {
    diesel::update(recompute_runs::table.find(id).filter(recompute_runs::status.eq("running")))
        .set((recompute_runs::status.eq(status), recompute_runs::error.eq(error), recompute_runs::finished_at.eq(finished_at)))
        .returning(Run::as_returning())
        .get_result(conn)
        .await
}

/// The newest `limit` runs (ids are time-ordered: they break ties of the start time).
pub async fn recent(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<Run>> {
    recompute_runs::table
        .order((recompute_runs::started_at.desc(), recompute_runs::id.desc()))
        .limit(limit)
        .select(Run::as_select())
        .load(conn)
        .await
}

/// The run that succeeded last (its end and its weights say whether another is due).
pub async fn last_success(conn: &mut AsyncPgConnection) -> QueryResult<Option<Run>> {
    recompute_runs::table
        .filter(recompute_runs::status.eq("succeeded"))
        .order((recompute_runs::finished_at.desc(), recompute_runs::id.desc()))
        .select(Run::as_select())
        .first(conn)
        .await
        .optional()
}
