//! Retention of `ranking.stat_buckets`: hour buckets older than the longest ranking window are
//! never read again (lifetime rankings read the totals), so they are deleted.

use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// Deletes up to `limit` hour buckets that started before `before`; returns how many.
pub async fn prune_stat_buckets(conn: &mut AsyncPgConnection, before: DateTime<Utc>, limit: i64) -> QueryResult<usize> {
    diesel::sql_query(
        "DELETE FROM ranking.stat_buckets WHERE (video_id, bucket) IN ( \
            SELECT video_id, bucket FROM ranking.stat_buckets WHERE bucket < $1 LIMIT $2)",
    )
    .bind::<diesel::sql_types::Timestamptz, _>(before)
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .execute(conn)
    .await
}
