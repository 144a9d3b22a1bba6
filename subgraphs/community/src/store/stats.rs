//! `community.user_stats`: each user's following, follower and likes-received counters, changed
//! in the transaction of the action (step 4 of the lock order: ascending `user_id`).

use diesel::QueryResult;
use diesel::sql_types::{Array, BigInt, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::collections::BTreeMap;
use uuid::Uuid;

/// One user's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, diesel::QueryableByName)]
pub struct UserStats {
    /// The user.
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    /// Users they follow.
    #[diesel(sql_type = BigInt)]
    pub following_count: i64,
    /// Users who follow them.
    #[diesel(sql_type = BigInt)]
    pub follower_count: i64,
    /// Likes their posts, comments and dynamics received (an admin's like weighs more).
    #[diesel(sql_type = BigInt)]
    pub likes_received: i64,
}

impl UserStats {
    /// Zero counters of `user_id` (a user nothing happened to yet has no row).
    pub fn zero(user_id: Uuid) -> UserStats {
        UserStats { user_id, ..UserStats::default() }
    }
}

/// Changes to the counters of one transaction, merged per user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatDeltas(BTreeMap<Uuid, (i64, i64, i64)>);

impl StatDeltas {
    /// Adds to `user`'s following count.
    pub fn following(&mut self, user: Uuid, delta: i64) -> &mut Self {
        self.0.entry(user).or_default().0 += delta;
        self
    }

    /// Adds to `user`'s follower count.
    pub fn followers(&mut self, user: Uuid, delta: i64) -> &mut Self {
        self.0.entry(user).or_default().1 += delta;
        self
    }

    /// Adds to `user`'s likes received.
    pub fn likes(&mut self, user: Uuid, delta: i64) -> &mut Self {
        self.0.entry(user).or_default().2 += delta;
        self
    }

    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.0.values().all(|delta| *delta == (0, 0, 0))
    }
}

/// Applies `deltas` in one statement, rows in ascending `user_id` (the lock order), creating
/// missing rows.
pub async fn add(conn: &mut AsyncPgConnection, deltas: &StatDeltas) -> QueryResult<()> {
    if deltas.is_empty() {
        return Ok(());
    }
    // A BTreeMap iterates in key order: the arrays are sorted by user id.
    let rows: Vec<(&Uuid, &(i64, i64, i64))> = deltas.0.iter().filter(|(_, delta)| **delta != (0, 0, 0)).collect();
    let users: Vec<Uuid> = rows.iter().map(|(user, _)| **user).collect();
    let following: Vec<i64> = rows.iter().map(|(_, delta)| delta.0).collect();
    let followers: Vec<i64> = rows.iter().map(|(_, delta)| delta.1).collect();
    let likes: Vec<i64> = rows.iter().map(|(_, delta)| delta.2).collect();
    diesel::sql_query(
        "INSERT INTO community.user_stats AS s (user_id, following_count, follower_count, likes_received) \
         SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::bigint[]) ORDER BY 1 \
         ON CONFLICT (user_id) DO UPDATE SET \
           following_count = s.following_count + EXCLUDED.following_count, \
           follower_count = s.follower_count + EXCLUDED.follower_count, \
           likes_received = s.likes_received + EXCLUDED.likes_received",
    )
    .bind::<Array<SqlUuid>, _>(&users)
    .bind::<Array<BigInt>, _>(&following)
    .bind::<Array<BigInt>, _>(&followers)
    .bind::<Array<BigInt>, _>(&likes)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The counters of these users (users without a row are absent), in one statement.
pub async fn find_many(conn: &mut AsyncPgConnection, users: &[Uuid]) -> QueryResult<Vec<UserStats>> {
    diesel::sql_query("SELECT user_id, following_count, follower_count, likes_received FROM community.user_stats WHERE user_id = ANY($1)")
        .bind::<Array<SqlUuid>, _>(users)
        .load(conn)
        .await
}
