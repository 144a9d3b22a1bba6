//! `content.refresh_tokens`: one row per issued refresh token, grouped in families.

use super::schema::content::refresh_tokens;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// A stored refresh token.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens, check_for_backend(diesel::pg::Pg))]
pub struct RefreshToken {
    /// Id.
    pub id: Uuid,
    /// All tokens descending from one login.
    pub family_id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
    /// Set when exchanged for the next token.
    pub used_at: Option<DateTime<Utc>>,
    /// Set when the family was revoked (logout or reuse).
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A token to store.
#[derive(Debug, Insertable)]
#[diesel(table_name = refresh_tokens, check_for_backend(diesel::pg::Pg))]
pub struct NewRefreshToken<'a> {
    /// Id.
    pub id: Uuid,
    /// Family.
    pub family_id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// SHA-256 of the secret.
    pub token_hash: &'a [u8],
    /// Expiry.
    pub expires_at: DateTime<Utc>,
}

/// Stores a token.
pub async fn insert(conn: &mut AsyncPgConnection, token: &NewRefreshToken<'_>) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table).values(token).execute(conn).await.map(|_| ())
}

/// The token with this hash, row-locked until the transaction ends, so two concurrent
/// refreshes with one token are serialised (the second sees it used).
pub async fn find_for_update(conn: &mut AsyncPgConnection, token_hash: &[u8]) -> QueryResult<Option<RefreshToken>> {
    refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select(RefreshToken::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Marks a token as exchanged.
pub async fn mark_used(conn: &mut AsyncPgConnection, id: Uuid, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(refresh_tokens::table.find(id)).set(refresh_tokens::used_at.eq(now)).execute(conn).await.map(|_| ())
}

/// Revokes every live token of a family.
pub async fn revoke_family(conn: &mut AsyncPgConnection, family_id: Uuid, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(refresh_tokens::table.filter(refresh_tokens::family_id.eq(family_id)).filter(refresh_tokens::revoked_at.is_null()))
        .set(refresh_tokens::revoked_at.eq(now))
        .execute(conn)
        .await
}

/// Deletes up to `limit` tokens that expired, or were revoked, before `before` (the prune's
/// cutoff: now minus a grace). A used token that has neither expired nor been revoked is kept:
/// presenting it again is how a stolen copy is detected.
pub async fn prune(conn: &mut AsyncPgConnection, before: DateTime<Utc>, limit: i64) -> QueryResult<usize> {
    diesel::sql_query(
        "DELETE FROM content.refresh_tokens WHERE id IN ( \
            SELECT id FROM content.refresh_tokens WHERE expires_at < $1 \
            UNION SELECT id FROM content.refresh_tokens WHERE revoked_at < $1 LIMIT $2)",
    )
    .bind::<diesel::sql_types::Timestamptz, _>(before)
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .execute(conn)
    .await
}
