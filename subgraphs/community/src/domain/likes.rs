//! Likes of posts, comments and dynamics: one path for the three kinds of [`Target`].
//!
//! A like adds the liker's weight (5 for an admin) to the item's score and to its author's
//! likes received, and notifies the author; an unlike takes back exactly what that like added
//! (and leaves the notification). Idempotent: liking twice adds nothing. One transaction, with
//! the locks of [`crate::store`]'s order: the like row (step 1), the item (a comment: step 2; a
//! post or a dynamic: step 3, through the item's `add_counts`), the author's counters (step 4),
//! the notification (step 7). The item is read before without a lock, since the like row comes
//! first.

use super::CommunityError;
use super::moderation::{Activity, require_allowed};
use super::notifications::{self, Event, Notifications, Subject};
use super::posts::require_visible;
use super::rules;
use crate::store::likes::{self, Target};
use crate::store::stats::{self, StatDeltas};
use crate::store::{comments, dynamics, posts};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use platform::auth::AuthUser;
use platform::clock::SharedClock;
use platform::db::Db;
use platform::rate_limit::{RateDecision, RateLimit};
use platform::redis::Redis;
use uuid::Uuid;

/// Likes and unlikes of posts and comments one user may make per window.
pub const LIKE_LIMIT: RateLimit = RateLimit { name: "community:like", max: 300, window: std::time::Duration::from_secs(600) };
/// Likes and unlikes of dynamics one user may make per window (the posts' like budget is
/// separate, so browsing one kind of content never locks a user out of the other).
pub const DYNAMIC_LIKE_LIMIT: RateLimit =
    RateLimit { name: "community:dynamic-like", max: 300, window: std::time::Duration::from_secs(600) };

/// The like service held in the schema data.
#[derive(Clone)]
pub struct Likes {
    db: Db,
    redis: Redis,
    clock: SharedClock,
    notifications: Notifications,
}

/// What the like path needs of an item, read without a lock.
struct Liked {
    author: Uuid,
    score: i64,
}

impl Likes {
    /// Over these backends; a like's author is notified through `notifications`.
    pub fn new(db: Db, redis: Redis, clock: SharedClock, notifications: Notifications) -> Likes {
        Likes { db, redis, clock, notifications }
    }

    /// `liker` likes (`like`) or unlikes `target`; returns its score after it. Liking an item
    /// the liker cannot see is `NOT_FOUND`; liking one's own is `BAD_USER_INPUT`.
    pub async fn set_like(&self, liker: AuthUser, target: Target, like: bool) -> Result<i64, CommunityError> {
        let limit = if matches!(target, Target::Dynamic(_)) { &DYNAMIC_LIKE_LIMIT } else { &LIKE_LIMIT };
        if let RateDecision::Limited { retry_after_secs } =
            limit.hit(&self.redis, &liker.id.to_string()).await.map_err(CommunityError::internal)?
        {
            return Err(CommunityError::RateLimited { what: "Too many likes", retry_after_secs });
        }
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        let (score, notified) = conn
            .transaction::<_, CommunityError, _>(async |conn| {
                require_allowed(conn, liker.id, Activity::Publish, now).await?;
                let item = read(conn, &liker, target, like).await?;
                if item.author == liker.id {
                    return Err(CommunityError::invalid(match target {
                        Target::Dynamic(_) => "You cannot like your own dynamic.",
                        Target::Post(_) | Target::Comment(_) => "You cannot like your own post or comment.",
                    }));
                }
                // Lock order: the like row (step 1).
                let delta = if like {
                    let weight = rules::like_weight(&liker);
                    if likes::insert(conn, liker.id, target, weight, now).await? { i64::from(weight) } else { 0 }
                } else {
                    likes::delete(conn, liker.id, target).await?.map_or(0, |weight| -i64::from(weight))
                };
                if delta == 0 {
                    return Ok((item.score, None));
                }
                // The item (step 2 or 3), then the author's counters (step 4).
                let score = match target {
                    Target::Post(id) => posts::add_counts(conn, id, delta, 0).await?,
                    Target::Comment(id) => comments::add_counts(conn, id, delta, 0).await?,
                    Target::Dynamic(id) => dynamics::add_counts(conn, id, delta, 0).await?,
                };
                stats::add(conn, StatDeltas::default().likes(item.author, delta)).await?;
                // The notification last (step 7). An unlike leaves the notification.
                let notified = if like {
                    let subject = match target {
                        Target::Post(id) => Subject::Post(id),
                        Target::Comment(id) => Subject::Comment(id),
                        Target::Dynamic(id) => Subject::Dynamic(id),
                    };
                    notifications::record(conn, item.author, liker.id, Event::Liked(subject), now).await?
                } else {
                    None
                };
                Ok((score, notified))
            })
            .await?;
        self.notifications.push(notified).await;
        Ok(score)
    }

    /// Which of these (viewer, item) pairs are likes, in one statement.
    pub async fn liked(&self, keys: &[(Uuid, Target)]) -> Result<Vec<(Uuid, Target)>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        Ok(likes::liked(&mut conn, keys).await?)
    }
}

/// Reads the liked item without locking it. A like needs it visible to the liker (see
/// [`require_visible`]: the hiding of a banned author's content covers posts and comments, as
/// their lists do); an unlike only needs it to exist, so a like can always be taken back.
async fn read(conn: &mut AsyncPgConnection, liker: &AuthUser, target: Target, like: bool) -> Result<Liked, CommunityError> {
    match target {
        Target::Post(id) => {
            let post = posts::find(conn, id).await?.ok_or(CommunityError::NotFound("Post"))?;
            if like {
                require_visible(conn, liker, post.author_id, post.counted(), "Post").await?;
            }
            Ok(Liked { author: post.author_id, score: post.like_score })
        }
        Target::Comment(id) => {
            let comment = comments::find_many(conn, &[id]).await?.pop().ok_or(CommunityError::NotFound("Comment"))?;
            if like {
                require_visible(conn, liker, comment.author_id, comment.counted(), "Comment").await?;
            }
            Ok(Liked { author: comment.author_id, score: comment.like_score })
        }
        Target::Dynamic(id) => {
            let dynamic = dynamics::find_many(conn, &[id]).await?.pop().ok_or(CommunityError::NotFound("Dynamic"))?;
            if like && !dynamic.visible() {
                return Err(CommunityError::NotFound("Dynamic"));
            }
            Ok(Liked { author: dynamic.author_id, score: dynamic.like_score })
        }
    }
}
