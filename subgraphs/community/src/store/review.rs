//! Review modes (per zone, with a site default in `community.settings`) and the keyword
//! filter's word lists (`community.moderation_words`).

use diesel::QueryResult;
use diesel::sql_types::{Array, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

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
