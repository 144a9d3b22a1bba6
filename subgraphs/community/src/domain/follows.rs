//! Following users: follow and unfollow (idempotent, never oneself), the lists, and the
//! counters they change. A change updates the pair, both users' counters and the outbox (the
//! `FollowEvent` that feeds `content`'s following feed) in one transaction.

use super::CommunityError;
use super::directory::Directory;
use super::moderation::{Activity, require_allowed};
use super::notifications::{self, Event, Notifications};
use super::paging::Cursor;
use crate::events::CommunityEvents;
use crate::store::follows::{self, FollowRow};
use crate::store::stats::{self, StatDeltas, UserStats};
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use platform::auth::AuthUser;
use platform::clock::SharedClock;
use platform::db::Db;
use platform::rate_limit::{RateDecision, RateLimit};
use platform::redis::Redis;
use std::time::Duration;
use uuid::Uuid;

/// Follow and unfollow calls one user may make per window (over all users): each change
/// publishes an event and notifies the followee, so flipping a follow in a loop is refused.
pub const FOLLOW_LIMIT: RateLimit = RateLimit { name: "community:follow", max: 100, window: Duration::from_secs(600) };

/// Rule: whom `viewer` may follow or unfollow.
pub fn check_target(viewer: Uuid, target: Uuid) -> Result<(), CommunityError> {
    if viewer == target { Err(CommunityError::invalid("You cannot follow yourself.")) } else { Ok(()) }
}

/// What a follow or unfollow did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowOutcome {
    /// The followee.
    pub user_id: Uuid,
    /// Whether the viewer follows them now.
    pub following: bool,
    /// Whether this call changed it (`false`: it was already so).
    pub changed: bool,
}

/// The follow service held in the schema data.
#[derive(Clone)]
pub struct Follows {
    db: Db,
    redis: Redis,
    clock: SharedClock,
    events: CommunityEvents,
    notifications: Notifications,
    directory: Directory,
}

impl Follows {
    /// Over these backends; a new follower is recorded as a notification and pushed through
    /// `notifications`; followees are looked up in `directory`.
    pub fn new(
        db: Db,
        redis: Redis,
        clock: SharedClock,
        events: CommunityEvents,
        notifications: Notifications,
        directory: Directory,
    ) -> Follows {
        Follows { db, redis, clock, events, notifications, directory }
    }

    /// Makes `viewer` follow (`following`) or unfollow `target`. Repeating a call changes
    /// nothing and publishes nothing. Following an id that is no account is `NOT_FOUND`
    /// (unfollowing one changes nothing, as for anyone not followed).
    pub async fn set_following(&self, viewer: AuthUser, target: Uuid, following: bool) -> Result<FollowOutcome, CommunityError> {
        check_target(viewer.id, target)?;
        if following {
            self.directory.require_account(target).await?;
        }
        if let RateDecision::Limited { retry_after_secs } =
            FOLLOW_LIMIT.hit(&self.redis, &viewer.id.to_string()).await.map_err(CommunityError::internal)?
        {
            return Err(CommunityError::RateLimited { what: "Too many follow changes", retry_after_secs });
        }
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        let (changed, notified) = conn
            .transaction::<_, CommunityError, _>(async |conn| {
                require_allowed(conn, viewer.id, Activity::Other, now).await?;
                let changed = apply(conn, &self.events, viewer.id, target, following, now).await?;
                // Lock order: the notification after the counters and the outbox (step 7).
                let notified =
                    if changed && following { notifications::record(conn, target, viewer.id, Event::Followed, now).await? } else { None };
                Ok((changed, notified))
            })
            .await?;
        if changed {
            self.events.committed();
        }
        self.notifications.push(notified).await;
        Ok(FollowOutcome { user_id: target, following, changed })
    }

    /// Whom `user` follows (`following`) or who follows them, most recent first: `limit`
    /// rows after `after`.
    pub async fn list(&self, user: Uuid, following: bool, after: Option<Cursor>, limit: i64) -> Result<Vec<FollowRow>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        let after = after.map(|cursor| (cursor.at, cursor.id));
        let rows = if following {
            follows::following(&mut conn, user, after, limit).await?
        } else {
            follows::followers(&mut conn, user, after, limit).await?
        };
        Ok(rows)
    }

    /// The counters of these users (zeros for users nothing happened to), in one statement.
    pub async fn stats(&self, users: &[Uuid]) -> Result<Vec<UserStats>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        let found = stats::find_many(&mut conn, users).await?;
        Ok(users.iter().map(|user| found.iter().find(|row| row.user_id == *user).copied().unwrap_or(UserStats::zero(*user))).collect())
    }

    /// Which of these (follower, followee) pairs follow now, in one statement.
    pub async fn following_pairs(&self, pairs: &[(Uuid, Uuid)]) -> Result<Vec<(Uuid, Uuid)>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        Ok(follows::following_pairs(&mut conn, pairs).await?)
    }
}

/// One follow change in the caller's transaction: the pair, both users' counters and the event,
/// or nothing when it was already so. Returns whether it changed. Lock order: the pair's row
/// (step 1), then both users' counters (step 4).
pub async fn apply(
    conn: &mut AsyncPgConnection,
    events: &CommunityEvents,
    follower: Uuid,
    followee: Uuid,
    following: bool,
    now: DateTime<Utc>,
) -> Result<bool, CommunityError> {
    let changed_at = if following {
        follows::follow(conn, follower, followee, now).await?
    } else {
        follows::unfollow(conn, follower, followee, now).await?
    };
    let Some(changed_at) = changed_at else { return Ok(false) };
    let delta = if following { 1 } else { -1 };
    stats::add(conn, StatDeltas::default().following(follower, delta).followers(followee, delta)).await?;
    events.follow_changed(conn, follower, followee, following, changed_at).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nobody_follows_themselves() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert!(matches!(check_target(a, a), Err(CommunityError::InvalidInput(_))));
        assert!(check_target(a, b).is_ok());
    }
}
