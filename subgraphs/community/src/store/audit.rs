//! The recompute check: every stored counter recomputed from the tables it counts, in one
//! snapshot, and every difference reported.

use diesel::QueryResult;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// One counter whose stored value differs from what the content tables say.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct Difference {
    /// What the counter belongs to (a user id…).
    #[diesel(sql_type = Text)]
    pub subject: String,
    /// Which counter (`following_count`…).
    #[diesel(sql_type = Text)]
    pub counter: String,
    /// The stored value.
    #[diesel(sql_type = BigInt)]
    pub stored: i64,
    /// The value recomputed from the content tables.
    #[diesel(sql_type = BigInt)]
    pub actual: i64,
}

/// Per-user counters against the follow graph.
const USER_STATS: &str = "\
WITH actual AS ( \
  SELECT user_id, sum(following)::bigint AS following_count, sum(followers)::bigint AS follower_count FROM ( \
    SELECT follower_id AS user_id, 1 AS following, 0 AS followers FROM community.user_follows WHERE following \
    UNION ALL \
    SELECT followee_id, 0, 1 FROM community.user_follows WHERE following \
  ) counted GROUP BY user_id \
), compared AS ( \
  SELECT coalesce(s.user_id, a.user_id) AS user_id, \
         coalesce(s.following_count, 0) AS stored_following, coalesce(a.following_count, 0) AS actual_following, \
         coalesce(s.follower_count, 0) AS stored_followers, coalesce(a.follower_count, 0) AS actual_followers \
  FROM community.user_stats s FULL JOIN actual a ON a.user_id = s.user_id \
) \
SELECT user_id::text AS subject, 'following_count' AS counter, stored_following AS stored, actual_following AS actual \
  FROM compared WHERE stored_following <> actual_following \
UNION ALL \
SELECT user_id::text, 'follower_count', stored_followers, actual_followers \
  FROM compared WHERE stored_followers <> actual_followers";

/// Every difference, in one repeatable-read snapshot (a write committing meanwhile cannot
/// make a counter look wrong). Empty when every counter agrees.
pub async fn differences(conn: &mut AsyncPgConnection) -> QueryResult<Vec<Difference>> {
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run(async |conn| {
            let mut differences: Vec<Difference> = Vec::new();
            for check in [USER_STATS] {
                differences.extend(diesel::sql_query(check).load::<Difference>(conn).await?);
            }
            differences.sort_by(|a, b| (&a.counter, &a.subject).cmp(&(&b.counter, &b.subject)));
            Ok(differences)
        })
        .await
}
