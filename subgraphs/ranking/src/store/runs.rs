//! `ranking.recompute_runs`: the full recompute job's runs, checkpoints and lease.
//!
//! The partial unique index on `status = 'running'` allows one running run at a time; the
//! replica holding it renews `lease_until` with every checkpoint. A run whose lease lapsed (its
//! replica died) is taken over by the next replica, which resumes from its checkpoint.

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
    /// The replica working on it.
    pub holder: Option<String>,
    /// Until when the holder may work without renewing.
    pub lease_until: Option<DateTime<Utc>>,
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
    /// First lease.
    pub lease_until: DateTime<Utc>,
}

/// Starts a run holding the lease, or `None` when one is running already.
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
            recompute_runs::lease_until.eq(run.lease_until),
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

/// Takes over the running run when its lease lapsed before `now` (or `holder` has it already).
pub async fn take_over(
    conn: &mut AsyncPgConnection,
    holder: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> QueryResult<Option<Run>> {
    diesel::update(
        recompute_runs::table
            .filter(recompute_runs::status.eq("running"))
            .filter(recompute_runs::lease_until.lt(now).or(recompute_runs::holder.eq(holder))),
    )
    .set((recompute_runs::holder.eq(holder), recompute_runs::lease_until.eq(lease_until)))
    .returning(Run::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// Records progress and renews the lease; `false` when `holder` lost the run (another replica
/// took it over), which must stop working on it.
pub async fn checkpoint(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    holder: &str,
    last_video: Uuid,
    videos_processed: i64,
    lease_until: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::update(recompute_runs::table.find(id).filter(recompute_runs::holder.eq(holder)).filter(recompute_runs::status.eq("running")))
        .set((
            recompute_runs::checkpoint.eq(last_video),
            recompute_runs::videos_processed.eq(videos_processed),
            recompute_runs::lease_until.eq(lease_until),
        ))
        .execute(conn)
        .await
        .map(|n| n > 0)
}

/// Ends a run (`succeeded` or `failed` with its error); `false` when `holder` lost it.
pub async fn finish(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    holder: &str,
    status: &str,
    error: Option<&str>,
    finished_at: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::update(recompute_runs::table.find(id).filter(recompute_runs::holder.eq(holder)).filter(recompute_runs::status.eq("running")))
        .set((
            recompute_runs::status.eq(status),
            recompute_runs::error.eq(error),
            recompute_runs::finished_at.eq(finished_at),
            recompute_runs::lease_until.eq(None::<DateTime<Utc>>),
        ))
        .execute(conn)
        .await
        .map(|n| n > 0)
}

/// The newest `limit` runs.
pub async fn recent(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<Run>> {
    recompute_runs::table.order(recompute_runs::started_at.desc()).limit(limit).select(Run::as_select()).load(conn).await
}

/// When the last run succeeded.
pub async fn last_success(conn: &mut AsyncPgConnection) -> QueryResult<Option<DateTime<Utc>>> {
    recompute_runs::table
        .filter(recompute_runs::status.eq("succeeded"))
        .select(diesel::dsl::max(recompute_runs::finished_at))
        .first::<Option<DateTime<Utc>>>(conn)
        .await
}
