//! `live.channels`: the categories rooms belong to.

use chrono::{DateTime, Utc};
use diesel::sql_types::{Bool, Int4, Text, Timestamptz, Uuid as SqlUuid};
use diesel::{OptionalExtension, QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// A channel as stored.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Channel {
    /// Id (the `channel_id` of gift and room events).
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// URL name, unique.
    #[diesel(sql_type = Text)]
    pub slug: String,
    /// Display name.
    #[diesel(sql_type = Text)]
    pub name: String,
    /// Sort position in lists (ascending).
    #[diesel(sql_type = Int4)]
    pub position: i32,
    /// Whether new rooms may choose it.
    #[diesel(sql_type = Bool)]
    pub active: bool,
    /// Created.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// Last changed.
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, slug, name, position, active, created_at, updated_at";

/// Every channel (only active ones unless `include_inactive`), by position then name.
pub async fn list(conn: &mut AsyncPgConnection, include_inactive: bool) -> QueryResult<Vec<Channel>> {
    diesel::sql_query(format!("SELECT {COLUMNS} FROM live.channels WHERE active OR $1 ORDER BY position, name, id"))
        .bind::<Bool, _>(include_inactive)
        .load(conn)
        .await
}

/// One channel.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Channel>> {
    diesel::sql_query(format!("SELECT {COLUMNS} FROM live.channels WHERE id = $1")).bind::<SqlUuid, _>(id).get_result(conn).await.optional()
}

/// Channels by id (the loader's one statement).
pub async fn find_many(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<Channel>> {
    diesel::sql_query(format!("SELECT {COLUMNS} FROM live.channels WHERE id = ANY($1)"))
        .bind::<diesel::sql_types::Array<SqlUuid>, _>(ids)
        .load(conn)
        .await
}

/// Inserts a channel; `None` when the slug is taken.
pub async fn insert(conn: &mut AsyncPgConnection, channel: &Channel) -> QueryResult<Option<Channel>> {
    diesel::sql_query(format!(
        "INSERT INTO live.channels ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (slug) DO NOTHING RETURNING {COLUMNS}"
    ))
    .bind::<SqlUuid, _>(channel.id)
    .bind::<Text, _>(&channel.slug)
    .bind::<Text, _>(&channel.name)
    .bind::<Int4, _>(channel.position)
    .bind::<Bool, _>(channel.active)
    .bind::<Timestamptz, _>(channel.created_at)
    .get_result(conn)
    .await
    .optional()
}

/// Replaces a channel's name, position and active switch; `None` when it does not exist.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    name: &str,
    position: i32,
    active: bool,
    at: DateTime<Utc>,
) -> QueryResult<Option<Channel>> {
    diesel::sql_query(format!(
        "UPDATE live.channels SET name = $2, position = $3, active = $4, updated_at = $5 WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(name)
    .bind::<Int4, _>(position)
    .bind::<Bool, _>(active)
    .bind::<Timestamptz, _>(at)
    .get_result(conn)
    .await
    .optional()
}
