//! `community.accounts`: the account directory, a projection of `content`'s account snapshots
//! (`AccountEvent`). A snapshot replaces the row only when its version is higher, so applying
//! snapshots twice or out of order leaves the latest one. Rows are never locked by writers
//! (they only read it), so the directory takes no place in the lock order.

use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel::sql_types::{Array, BigInt, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// One account as community knows it.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct Account {
    /// The user.
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    /// Their username.
    #[diesel(sql_type = Text)]
    pub username: String,
    /// `user` or `admin`.
    #[diesel(sql_type = Text)]
    pub role: String,
    /// The version of the snapshot it holds.
    #[diesel(sql_type = BigInt)]
    pub version: i64,
    /// When content changed it.
    #[diesel(sql_type = Timestamptz)]
    pub changed_at: DateTime<Utc>,
}

/// Applies these snapshots in one statement, each only over a lower version; returns how many
/// rows changed. Snapshots of one account in the batch: the highest version wins.
pub async fn apply(conn: &mut AsyncPgConnection, accounts: &[Account]) -> QueryResult<usize> {
    let column = |f: fn(&Account) -> _| accounts.iter().map(f).collect::<Vec<_>>();
    diesel::sql_query(
        "INSERT INTO community.accounts AS a (user_id, username, role, version, changed_at) \
         SELECT DISTINCT ON (user_id) user_id, username, role, version, changed_at \
         FROM unnest($1, $2, $3, $4, $5) AS s(user_id, username, role, version, changed_at) \
         ORDER BY user_id, version DESC \
         ON CONFLICT (user_id) DO UPDATE \
           SET username = EXCLUDED.username, role = EXCLUDED.role, version = EXCLUDED.version, changed_at = EXCLUDED.changed_at \
         WHERE a.version < EXCLUDED.version",
    )
    .bind::<Array<SqlUuid>, _>(column(|a| a.user_id))
    .bind::<Array<Text>, _>(accounts.iter().map(|a| a.username.as_str()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(accounts.iter().map(|a| a.role.as_str()).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(accounts.iter().map(|a| a.version).collect::<Vec<_>>())
    .bind::<Array<Timestamptz>, _>(accounts.iter().map(|a| a.changed_at).collect::<Vec<_>>())
    .execute(conn)
    .await
}

/// Whether the directory knows `user`.
pub async fn exists(conn: &mut AsyncPgConnection, user: Uuid) -> QueryResult<bool> {
    let found: super::Count = diesel::sql_query("SELECT count(*) AS n FROM community.accounts WHERE user_id = $1")
        .bind::<SqlUuid, _>(user)
        .get_result(conn)
        .await?;
    Ok(found.n > 0)
}

/// The site's admins by username (at most `limit`).
pub async fn site_admins(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<Account>> {
    diesel::sql_query(
        "SELECT user_id, username, role, version, changed_at FROM community.accounts WHERE role = 'admin' ORDER BY username LIMIT $1",
    )
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}
