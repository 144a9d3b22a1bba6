//! `community.reports` and `community.report_reasons`. A report entry is locked first of all
//! (before step 1 of the lock order) by the admin resolving it.

use super::likes::Target;
use chrono::{DateTime, Utc};
use diesel::OptionalExtension;
use diesel::QueryResult;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// A queue entry: every open report of one item.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct Report {
    /// Id.
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// `post` or `comment`.
    #[diesel(sql_type = Text)]
    pub target_kind: String,
    /// The item.
    #[diesel(sql_type = SqlUuid)]
    pub target_id: Uuid,
    /// Its author.
    #[diesel(sql_type = SqlUuid)]
    pub target_author: Uuid,
    /// Its text when first reported.
    #[diesel(sql_type = Text)]
    pub excerpt: String,
    /// `open` or `resolved`.
    #[diesel(sql_type = Text)]
    pub status: String,
    /// Distinct reporters.
    #[diesel(sql_type = Integer)]
    pub report_count: i32,
    /// First report.
    #[diesel(sql_type = Timestamptz)]
    pub first_reported_at: DateTime<Utc>,
    /// Latest report.
    #[diesel(sql_type = Timestamptz)]
    pub last_reported_at: DateTime<Utc>,
    /// The admin who resolved it.
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub resolved_by: Option<Uuid>,
    /// When.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub resolved_at: Option<DateTime<Utc>>,
    /// How: `dismiss`, `remove`, `remove_and_mute`, `remove_and_ban`.
    #[diesel(sql_type = Nullable<Text>)]
    pub resolution: Option<String>,
    /// The admin's note.
    #[diesel(sql_type = Nullable<Text>)]
    pub resolution_note: Option<String>,
}

const COLUMNS: &str = "id, target_kind, target_id, target_author, excerpt, status, report_count, first_reported_at, last_reported_at, \
                       resolved_by, resolved_at, resolution, resolution_note";

/// Records `reporter`'s report of `target`: into the item's open entry (created if none), once
/// per reporter. Returns the entry.
pub async fn report(
    conn: &mut AsyncPgConnection,
    target: Target,
    author: Uuid,
    excerpt: &str,
    reporter: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> QueryResult<Report> {
    let entry: Report = diesel::sql_query(format!(
        "INSERT INTO community.reports AS r (id, target_kind, target_id, target_author, excerpt, first_reported_at, last_reported_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) \
         ON CONFLICT (target_kind, target_id) WHERE status = 'open' DO UPDATE SET last_reported_at = EXCLUDED.last_reported_at \
         RETURNING {COLUMNS}"
    ))
    .bind::<SqlUuid, _>(Uuid::now_v7())
    .bind::<Text, _>(target.kind())
    .bind::<SqlUuid, _>(target.id())
    .bind::<SqlUuid, _>(author)
    .bind::<Text, _>(excerpt)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .await?;
    let added = diesel::sql_query(
        "INSERT INTO community.report_reasons (report_id, reporter_id, reason, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind::<SqlUuid, _>(entry.id)
    .bind::<SqlUuid, _>(reporter)
    .bind::<Text, _>(reason)
    .bind::<Timestamptz, _>(now)
    .execute(conn)
    .await?;
    if added == 0 {
        return Ok(entry);
    }
    diesel::sql_query(format!("UPDATE community.reports SET report_count = report_count + 1 WHERE id = $1 RETURNING {COLUMNS}"))
        .bind::<SqlUuid, _>(entry.id)
        .get_result(conn)
        .await
}

/// Locks an open entry; `None` when there is none (or it is resolved already).
pub async fn lock_open(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Report>> {
    diesel::sql_query(format!("SELECT {COLUMNS} FROM community.reports WHERE id = $1 AND status = 'open' FOR UPDATE"))
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .await
        .optional()
}

/// Marks an entry resolved by `by`, `how`, with `note`.
pub async fn resolve(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    by: Uuid,
    how: &str,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> QueryResult<Report> {
    diesel::sql_query(format!(
        "UPDATE community.reports SET status = 'resolved', resolved_by = $2, resolution = $3, resolution_note = $4, resolved_at = $5 \
         WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<SqlUuid, _>(by)
    .bind::<Text, _>(how)
    .bind::<Nullable<Text>, _>(note)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .await
}

/// Entries in `status`, latest report first, `limit` after `after` (micros, id).
pub async fn page(conn: &mut AsyncPgConnection, status: &str, after: Option<(i64, Uuid)>, limit: i64) -> QueryResult<Vec<Report>> {
    let at = after.and_then(|(micros, _)| DateTime::from_timestamp_micros(micros));
    diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM community.reports WHERE status = $1 \
         AND ($2::timestamptz IS NULL OR (last_reported_at, id) < ($2, $3)) ORDER BY last_reported_at DESC, id DESC LIMIT $4"
    ))
    .bind::<Text, _>(status)
    .bind::<Nullable<Timestamptz>, _>(at)
    .bind::<Nullable<SqlUuid>, _>(after.map(|(_, id)| id))
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// One reporter's reason.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct ReportReason {
    /// The entry.
    #[diesel(sql_type = SqlUuid)]
    pub report_id: Uuid,
    /// Who.
    #[diesel(sql_type = SqlUuid)]
    pub reporter_id: Uuid,
    /// Why.
    #[diesel(sql_type = Text)]
    pub reason: String,
    /// When.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

/// The reasons of these entries (the first 20 of each), in one statement.
pub async fn reasons(conn: &mut AsyncPgConnection, reports: &[Uuid]) -> QueryResult<Vec<ReportReason>> {
    diesel::sql_query(
        "SELECT report_id, reporter_id, reason, created_at FROM ( \
           SELECT *, row_number() OVER (PARTITION BY report_id ORDER BY created_at, reporter_id) AS n \
           FROM community.report_reasons WHERE report_id = ANY($1)) r WHERE n <= 20 ORDER BY created_at, reporter_id",
    )
    .bind::<diesel::sql_types::Array<SqlUuid>, _>(reports)
    .load(conn)
    .await
}
