//! `community.likes`: one like per user and item (a post, a comment or a dynamic), with the
//! weight it added (step 1 of the lock order: the like row is the actor's own).

use chrono::{DateTime, Utc};
use diesel::OptionalExtension;
use diesel::QueryResult;
use diesel::sql_types::{Array, Integer, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// What can be liked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// A post.
    Post(Uuid),
    /// A comment or reply.
    Comment(Uuid),
    /// A streamer's dynamic.
    Dynamic(Uuid),
}

impl Target {
    /// The stored kind.
    pub fn kind(self) -> &'static str {
        match self {
            Target::Post(_) => "post",
            Target::Comment(_) => "comment",
            Target::Dynamic(_) => super::dynamics::LIKE_KIND,
        }
    }

    /// The item's id.
    pub fn id(self) -> Uuid {
        match self {
            Target::Post(id) | Target::Comment(id) | Target::Dynamic(id) => id,
        }
    }
}

/// `user` likes `target` with `weight`; `false` when they already did (nothing changes).
pub async fn insert(conn: &mut AsyncPgConnection, user: Uuid, target: Target, weight: i32, now: DateTime<Utc>) -> QueryResult<bool> {
    diesel::sql_query(
        "INSERT INTO community.likes (user_id, target_kind, target_id, weight, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind::<SqlUuid, _>(user)
    .bind::<Text, _>(target.kind())
    .bind::<SqlUuid, _>(target.id())
    .bind::<Integer, _>(weight)
    .bind::<Timestamptz, _>(now)
    .execute(conn)
    .await
    .map(|n| n > 0)
}

#[derive(diesel::QueryableByName)]
struct Weight {
    #[diesel(sql_type = Integer)]
    weight: i32,
}

/// Removes `user`'s like of `target`; returns the weight it had added (`None`: there was none).
pub async fn delete(conn: &mut AsyncPgConnection, user: Uuid, target: Target) -> QueryResult<Option<i32>> {
    let row: Option<Weight> =
        diesel::sql_query("DELETE FROM community.likes WHERE user_id = $1 AND target_kind = $2 AND target_id = $3 RETURNING weight")
            .bind::<SqlUuid, _>(user)
            .bind::<Text, _>(target.kind())
            .bind::<SqlUuid, _>(target.id())
            .get_result(conn)
            .await
            .optional()?;
    Ok(row.map(|row| row.weight))
}

#[derive(diesel::QueryableByName)]
struct Liked {
    #[diesel(sql_type = SqlUuid)]
    user_id: Uuid,
    #[diesel(sql_type = Text)]
    target_kind: String,
    #[diesel(sql_type = SqlUuid)]
    target_id: Uuid,
}

/// Which of these (user, target) pairs are likes, in one statement.
pub async fn liked(conn: &mut AsyncPgConnection, keys: &[(Uuid, Target)]) -> QueryResult<Vec<(Uuid, Target)>> {
    let users: Vec<Uuid> = keys.iter().map(|(user, _)| *user).collect();
    let kinds: Vec<&str> = keys.iter().map(|(_, target)| target.kind()).collect();
    let ids: Vec<Uuid> = keys.iter().map(|(_, target)| target.id()).collect();
    let rows: Vec<Liked> = diesel::sql_query(
        "SELECT l.user_id, l.target_kind, l.target_id FROM community.likes l \
         JOIN unnest($1::uuid[], $2::text[], $3::uuid[]) AS k(user_id, target_kind, target_id) \
           ON l.user_id = k.user_id AND l.target_kind = k.target_kind AND l.target_id = k.target_id",
    )
    .bind::<Array<SqlUuid>, _>(&users)
    .bind::<Array<Text>, _>(&kinds)
    .bind::<Array<SqlUuid>, _>(&ids)
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let target = match row.target_kind.as_str() {
                "post" => Target::Post(row.target_id),
                "comment" => Target::Comment(row.target_id),
                _ => Target::Dynamic(row.target_id),
            };
            (row.user_id, target)
        })
        .collect())
}
