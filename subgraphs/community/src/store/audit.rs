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

/// Likes received against the likes of each user's posts and comments (deleted ones too: a
/// like received stays received).
const LIKES_RECEIVED: &str = "\
WITH items AS ( \
  SELECT 'post' AS kind, id, author_id FROM community.posts UNION ALL SELECT 'comment', id, author_id FROM community.comments \
  UNION ALL SELECT 'dynamic', id, author_id FROM community.dynamics \
), actual AS ( \
  SELECT i.author_id AS user_id, sum(l.weight)::bigint AS n FROM community.likes l \
  JOIN items i ON i.kind = l.target_kind AND i.id = l.target_id GROUP BY i.author_id \
) \
SELECT coalesce(s.user_id, a.user_id)::text AS subject, 'likes_received' AS counter, \
       coalesce(s.likes_received, 0) AS stored, coalesce(a.n, 0) AS actual \
FROM community.user_stats s FULL JOIN actual a ON a.user_id = s.user_id \
WHERE coalesce(s.likes_received, 0) <> coalesce(a.n, 0)";

/// Posts' like scores and live comment counts.
const POSTS: &str = "\
WITH actual AS ( \
  SELECT p.id, p.like_score, p.comment_count, \
    (SELECT coalesce(sum(weight), 0)::bigint FROM community.likes l WHERE l.target_kind = 'post' AND l.target_id = p.id) AS likes, \
    (SELECT count(*) FROM community.comments c WHERE c.post_id = p.id AND c.deleted_at IS NULL AND c.state = 'published') AS comments \
  FROM community.posts p \
) \
SELECT id::text AS subject, 'post.like_score' AS counter, like_score AS stored, likes AS actual FROM actual WHERE like_score <> likes \
UNION ALL \
SELECT id::text, 'post.comment_count', comment_count, comments FROM actual WHERE comment_count <> comments";

/// Comments' like scores and live reply counts.
const COMMENTS: &str = "\
WITH actual AS ( \
  SELECT c.id, c.like_score, c.reply_count, \
    (SELECT coalesce(sum(weight), 0)::bigint FROM community.likes l WHERE l.target_kind = 'comment' AND l.target_id = c.id) AS likes, \
    (SELECT count(*) FROM community.comments r WHERE r.thread_id = c.id AND r.deleted_at IS NULL AND r.state = 'published') AS replies \
  FROM community.comments c \
) \
SELECT id::text AS subject, 'comment.like_score' AS counter, like_score AS stored, likes AS actual FROM actual WHERE like_score <> likes \
UNION ALL \
SELECT id::text, 'comment.reply_count', reply_count, replies FROM actual WHERE reply_count <> replies";

/// Dynamics' like scores and live comment counts.
const DYNAMICS: &str = "\
WITH actual AS ( \
  SELECT d.id, d.like_score, d.comment_count, \
    (SELECT coalesce(sum(weight), 0)::bigint FROM community.likes l WHERE l.target_kind = 'dynamic' AND l.target_id = d.id) AS likes, \
    (SELECT count(*) FROM community.dynamic_comments c WHERE c.dynamic_id = d.id AND c.deleted_at IS NULL) AS comments \
  FROM community.dynamics d \
) \
SELECT id::text AS subject, 'dynamic.like_score' AS counter, like_score AS stored, likes AS actual FROM actual WHERE like_score <> likes \
UNION ALL \
SELECT id::text, 'dynamic.comment_count', comment_count, comments FROM actual WHERE comment_count <> comments";

/// Zones' live post counts and follower counts.
const ZONES: &str = "\
WITH actual AS ( \
  SELECT z.id, z.post_count, z.follower_count, \
    (SELECT count(*) FROM community.posts p WHERE p.zone_id = z.id AND p.deleted_at IS NULL AND p.state = 'published') AS posts, \
    (SELECT count(*) FROM community.zone_follows f WHERE f.zone_id = z.id) AS followers \
  FROM community.zones z \
) \
SELECT id::text AS subject, 'zone.post_count' AS counter, post_count AS stored, posts AS actual FROM actual WHERE post_count <> posts \
UNION ALL \
SELECT id::text, 'zone.follower_count', follower_count, followers FROM actual WHERE follower_count <> followers";

/// Points, posts and replies per (zone, user) against the live posts and the live comments of
/// live posts.
const ZONE_POINTS: &str = "\
WITH earned AS ( \
  SELECT zone_id, author_id AS user_id, points, 1 AS posts, 0 AS replies FROM community.posts WHERE deleted_at IS NULL AND state = 'published' \
  UNION ALL \
  SELECT p.zone_id, c.author_id, c.points, 0, 1 FROM community.comments c JOIN community.posts p ON p.id = c.post_id \
  WHERE c.deleted_at IS NULL AND c.state = 'published' AND p.deleted_at IS NULL AND p.state = 'published' \
), actual AS ( \
  SELECT zone_id, user_id, sum(points)::bigint AS points, sum(posts)::bigint AS posts, sum(replies)::bigint AS replies \
  FROM earned GROUP BY zone_id, user_id \
), compared AS ( \
  SELECT coalesce(z.zone_id, a.zone_id)::text || '/' || coalesce(z.user_id, a.user_id)::text AS subject, \
    coalesce(z.points, 0) AS stored_points, coalesce(a.points, 0) AS actual_points, \
    coalesce(z.post_count, 0) AS stored_posts, coalesce(a.posts, 0) AS actual_posts, \
    coalesce(z.reply_count, 0) AS stored_replies, coalesce(a.replies, 0) AS actual_replies \
  FROM community.zone_points z FULL JOIN actual a ON a.zone_id = z.zone_id AND a.user_id = z.user_id \
) \
SELECT subject, 'zone_points.points' AS counter, stored_points AS stored, actual_points AS actual FROM compared WHERE stored_points <> actual_points \
UNION ALL \
SELECT subject, 'zone_points.post_count', stored_posts, actual_posts FROM compared WHERE stored_posts <> actual_posts \
UNION ALL \
SELECT subject, 'zone_points.reply_count', stored_replies, actual_replies FROM compared WHERE stored_replies <> actual_replies";

/// Every difference, in one repeatable-read snapshot (a write committing meanwhile cannot
/// make a counter look wrong). Empty when every counter agrees.
pub async fn differences(conn: &mut AsyncPgConnection) -> QueryResult<Vec<Difference>> {
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run(async |conn| {
            let mut differences: Vec<Difference> = Vec::new();
            for check in [USER_STATS, LIKES_RECEIVED, POSTS, COMMENTS, DYNAMICS, ZONES, ZONE_POINTS] {
                differences.extend(diesel::sql_query(check).load::<Difference>(conn).await?);
            }
            differences.sort_by(|a, b| (&a.counter, &a.subject).cmp(&(&b.counter, &b.subject)));
            Ok(differences)
        })
        .await
}
