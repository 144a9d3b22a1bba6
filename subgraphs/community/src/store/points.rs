//! `community.zone_points`: each user's points, live posts and live replies per zone (step 5
//! of the lock order: ascending `(zone_id, user_id)`).

use diesel::QueryResult;
use diesel::sql_types::{Array, BigInt, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Changes of one transaction, merged per (zone, user): (points, posts, replies).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PointDeltas(BTreeMap<(Uuid, Uuid), (i64, i64, i64)>);

impl PointDeltas {
    /// Adds `points`, `posts` and `replies` to `user` in `zone`.
    pub fn add(&mut self, zone: Uuid, user: Uuid, points: i64, posts: i64, replies: i64) -> &mut Self {
        let entry = self.0.entry((zone, user)).or_default();
        entry.0 += points;
        entry.1 += posts;
        entry.2 += replies;
        self
    }
}

/// Applies `deltas` in one upsert, rows in ascending (zone, user) (the lock order).
pub async fn add(conn: &mut AsyncPgConnection, deltas: &PointDeltas) -> QueryResult<()> {
    let rows: Vec<_> = deltas.0.iter().filter(|(_, delta)| **delta != (0, 0, 0)).collect();
    if rows.is_empty() {
        return Ok(());
    }
    let zones: Vec<Uuid> = rows.iter().map(|((zone, _), _)| *zone).collect();
    let users: Vec<Uuid> = rows.iter().map(|((_, user), _)| *user).collect();
    let points: Vec<i64> = rows.iter().map(|(_, d)| d.0).collect();
    let posts: Vec<i64> = rows.iter().map(|(_, d)| d.1).collect();
    let replies: Vec<i64> = rows.iter().map(|(_, d)| d.2).collect();
    diesel::sql_query(
        "INSERT INTO community.zone_points AS z (zone_id, user_id, points, post_count, reply_count) \
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::bigint[], $5::bigint[]) ORDER BY 1, 2 \
         ON CONFLICT (zone_id, user_id) DO UPDATE SET points = z.points + EXCLUDED.points, \
           post_count = z.post_count + EXCLUDED.post_count, reply_count = z.reply_count + EXCLUDED.reply_count",
    )
    .bind::<Array<SqlUuid>, _>(&zones)
    .bind::<Array<SqlUuid>, _>(&users)
    .bind::<Array<BigInt>, _>(&points)
    .bind::<Array<BigInt>, _>(&posts)
    .bind::<Array<BigInt>, _>(&replies)
    .execute(conn)
    .await
    .map(|_| ())
}

/// One place of a zone's hall of fame.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct FameRow {
    /// The user.
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    /// Points in the zone.
    #[diesel(sql_type = BigInt)]
    pub points: i64,
    /// Live posts in the zone.
    #[diesel(sql_type = BigInt)]
    pub post_count: i64,
    /// Live comments and replies on the zone's live posts.
    #[diesel(sql_type = BigInt)]
    pub reply_count: i64,
}

/// The top `limit` users of `zone` by points (ties: more posts, then id).
pub async fn hall_of_fame(conn: &mut AsyncPgConnection, zone: Uuid, limit: i64) -> QueryResult<Vec<FameRow>> {
    diesel::sql_query(
        "SELECT user_id, points, post_count, reply_count FROM community.zone_points \
         WHERE zone_id = $1 AND (points > 0 OR post_count > 0 OR reply_count > 0) \
         ORDER BY points DESC, post_count DESC, user_id LIMIT $2",
    )
    .bind::<SqlUuid, _>(zone)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}
