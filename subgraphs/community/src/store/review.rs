//! Review modes (per zone, with a site default in `community.settings`), the review state of
//! posts, comments and dynamics (one implementation for the three tables), and the keyword
//! filter's word lists
//! (`community.moderation_words`).

use super::posts::Position;
use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// A table whose rows go through review (`state`, `reviewed_by`, `review_reason`, `reviewed_at`,
/// `author_id`, `created_at`, `deleted_at`), read as this row type.
pub trait Reviewed: diesel::QueryableByName<Pg> + Send + 'static {
    /// The schema-qualified table.
    const TABLE: &'static str;
    /// The columns the row type reads, in a `SELECT` list.
    const COLUMNS: &'static str;
}

/// Sets a row's review state, recording who, when and why.
pub async fn set_state<R: Reviewed>(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    state: &str,
    by: Uuid,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> QueryResult<R> {
    diesel::sql_query(format!(
        "UPDATE {} SET state = $2, reviewed_by = $3, review_reason = $4, reviewed_at = $5 WHERE id = $1 RETURNING {}",
        R::TABLE,
        R::COLUMNS
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(state)
    .bind::<SqlUuid, _>(by)
    .bind::<Nullable<Text>, _>(reason)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .await
}

/// Live rows in `state` (all authors, or one), newest first, `limit` after `after`.
pub async fn by_state<R: Reviewed>(
    conn: &mut AsyncPgConnection,
    state: &str,
    author: Option<Uuid>,
    after: Option<Position>,
    limit: i64,
) -> QueryResult<Vec<R>> {
    let at = after.and_then(|(micros, _)| DateTime::from_timestamp_micros(micros));
    diesel::sql_query(format!(
        "SELECT {} FROM {} WHERE deleted_at IS NULL AND state = $1 AND ($2::uuid IS NULL OR author_id = $2) \
         AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4)) ORDER BY created_at DESC, id DESC LIMIT $5",
        R::COLUMNS,
        R::TABLE
    ))
    .bind::<Text, _>(state)
    .bind::<Nullable<SqlUuid>, _>(author)
    .bind::<Nullable<Timestamptz>, _>(at)
    .bind::<Nullable<SqlUuid>, _>(after.map(|(_, id)| id))
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

#[derive(diesel::QueryableByName)]
struct Modes {
    #[diesel(sql_type = Text)]
    post_review: String,
    #[diesel(sql_type = Text)]
    comment_review: String,
}

/// The review modes in force in `zone`: (posts, comments), each `post_then_review` or
/// `review_then_post` (the zone's own, else the site's).
pub async fn modes(conn: &mut AsyncPgConnection, zone: Uuid) -> QueryResult<(String, String)> {
    let modes: Modes = diesel::sql_query(
        "SELECT coalesce(z.post_review, (SELECT value FROM community.settings WHERE key = 'post_review'), 'post_then_review') AS post_review, \
                coalesce(z.comment_review, (SELECT value FROM community.settings WHERE key = 'comment_review'), 'post_then_review') AS comment_review \
         FROM (SELECT $1::uuid AS id) wanted LEFT JOIN community.zones z ON z.id = wanted.id",
    )
    .bind::<SqlUuid, _>(zone)
    .get_result(conn)
    .await?;
    Ok((modes.post_review, modes.comment_review))
}

/// Sets a zone's modes (`None` each: back to the site default).
pub async fn set_zone_modes(conn: &mut AsyncPgConnection, zone: Uuid, posts: Option<&str>, comments: Option<&str>) -> QueryResult<bool> {
    diesel::sql_query("UPDATE community.zones SET post_review = $2, comment_review = $3 WHERE id = $1")
        .bind::<SqlUuid, _>(zone)
        .bind::<Nullable<Text>, _>(posts)
        .bind::<Nullable<Text>, _>(comments)
        .execute(conn)
        .await
        .map(|n| n > 0)
}

/// Sets the site defaults.
pub async fn set_site_modes(conn: &mut AsyncPgConnection, posts: &str, comments: &str) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO community.settings (key, value) VALUES ('post_review', $1), ('comment_review', $2) \
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
    )
    .bind::<Text, _>(posts)
    .bind::<Text, _>(comments)
    .execute(conn)
    .await
    .map(|_| ())
}

/// One word of the filter.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct Word {
    /// The word (lower case).
    #[diesel(sql_type = Text)]
    pub word: String,
    /// `blocked` or `flagged`.
    #[diesel(sql_type = Text)]
    pub level: String,
}

/// Every word of the filter.
pub async fn words(conn: &mut AsyncPgConnection) -> QueryResult<Vec<Word>> {
    diesel::sql_query("SELECT word, level FROM community.moderation_words ORDER BY word").load(conn).await
}

/// Replaces the word lists (in the caller's transaction).
pub async fn replace_words(conn: &mut AsyncPgConnection, blocked: &[String], flagged: &[String]) -> QueryResult<()> {
    diesel::sql_query("DELETE FROM community.moderation_words").execute(conn).await?;
    diesel::sql_query(
        "INSERT INTO community.moderation_words (word, level) \
         SELECT word, 'blocked' FROM unnest($1::text[]) AS word UNION SELECT word, 'flagged' FROM unnest($2::text[]) AS word \
         WHERE word <> ALL($1) ON CONFLICT DO NOTHING",
    )
    .bind::<Array<Text>, _>(blocked)
    .bind::<Array<Text>, _>(flagged)
    .execute(conn)
    .await
    .map(|_| ())
}
