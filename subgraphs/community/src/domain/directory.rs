//! The account directory: which user ids are real accounts (projected from `content`'s account
//! events by [`crate::events::accounts`]), and who the site's admins are.
//!
//! # A user who just registered
//!
//! The directory trails `content` by the outbox relay and the consumer: milliseconds while both
//! run, longer while `community` or NATS is down. A user who registered a moment ago may be
//! followed or messaged before the directory heard of them. Account ids are UUIDv7 (their
//! first 48 bits are the creation time in milliseconds), so an unknown id that was created in
//! the last [`FRESH_ACCOUNT`] is waited for, by polling the directory up to [`CATCH_UP`]; any
//! other unknown id (an older one, a random one, a non-v7 one) is refused at once. A refused
//! action is `NOT_FOUND` and writes nothing; the caller may retry it later (nothing about it
//! is remembered). So the race costs a fresh account's first follower at most [`CATCH_UP`] of
//! waiting, and guessed ids cost nobody any waiting; the wait is outside any transaction, so
//! it holds no lock and no pooled connection between polls.

use super::CommunityError;
use crate::store::accounts::{self, Account};
use crate::store::zones::{self, ZoneAdmin};
use platform::clock::SharedClock;
use platform::db::Db;
use std::time::Duration;
use uuid::Uuid;

/// How recently an unknown account id must have been created to be waited for.
pub const FRESH_ACCOUNT: Duration = Duration::from_secs(60);
/// The longest a request waits for the directory to hear of a fresh account.
pub const CATCH_UP: Duration = Duration::from_secs(2);
/// Pause between two looks at the directory while waiting.
const POLL: Duration = Duration::from_millis(25);
/// Most site admins and zone admins listed.
pub const ADMIN_LIST_LIMIT: i64 = 500;

/// Rule: the creation time of a UUIDv7 id, if it is one.
pub fn created_at(id: Uuid) -> Option<chrono::DateTime<chrono::Utc>> {
    if id.get_version_num() != 7 {
        return None;
    }
    let (secs, nanos) = id.get_timestamp()?.to_unix();
    chrono::DateTime::from_timestamp(i64::try_from(secs).ok()?, nanos)
}

/// Rule: whether an unknown `id` may be an account created so recently, as of `now`, that the
/// directory has not heard of it yet (a little clock skew ahead of `now` included).
pub fn may_be_catching_up(id: Uuid, now: chrono::DateTime<chrono::Utc>) -> bool {
    let fresh = chrono::Duration::from_std(FRESH_ACCOUNT).unwrap_or_default();
    created_at(id).is_some_and(|created| created > now - fresh && created < now + fresh)
}

/// Someone who administers the community.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admin {
    /// A site-wide admin (a `content` account with the admin role): moderates every zone.
    Site(Account),
    /// An admin of one zone.
    Zone(ZoneAdmin),
}

/// The directory service.
#[derive(Clone)]
pub struct Directory {
    db: Db,
    clock: SharedClock,
}

impl Directory {
    /// Over this database, reading time from `clock`.
    pub fn new(db: Db, clock: SharedClock) -> Directory {
        Directory { db, clock }
    }

    /// `Ok` when `user` is an account; `NOT_FOUND` ("User") otherwise, after waiting up to
    /// [`CATCH_UP`] when the id is a fresh one (see the module's documentation).
    pub async fn require_account(&self, user: Uuid) -> Result<(), CommunityError> {
        let deadline = tokio::time::Instant::now() + CATCH_UP;
        let waits = may_be_catching_up(user, self.clock.now());
        loop {
            let mut conn = self.db.pool.get().await?;
            if accounts::exists(&mut conn, user).await? {
                return Ok(());
            }
            drop(conn);
            if !waits || tokio::time::Instant::now() + POLL > deadline {
                return Err(CommunityError::NotFound("User"));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Site admins (by username), then zone admins (by zone, longest-serving first).
    pub async fn admins(&self) -> Result<Vec<Admin>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        let site = accounts::site_admins(&mut conn, ADMIN_LIST_LIMIT).await?;
        let zone = zones::all_admins(&mut conn, ADMIN_LIST_LIMIT).await?;
        Ok(site.into_iter().map(Admin::Site).chain(zone.into_iter().map(Admin::Zone)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_recent_v7_ids_may_still_be_catching_up() {
        let now = chrono::Utc::now();
        assert!(may_be_catching_up(Uuid::now_v7(), now));
        assert!(!may_be_catching_up(Uuid::new_v4(), now), "a v4 id carries no time");
        assert!(!may_be_catching_up(Uuid::nil(), now));
        let old = now - chrono::Duration::minutes(5);
        let ts = uuid::Timestamp::from_unix(uuid::NoContext, old.timestamp() as u64, old.timestamp_subsec_nanos());
        assert!(!may_be_catching_up(Uuid::new_v7(ts), now), "an id minted minutes ago is not waited for");
        let later = now + chrono::Duration::minutes(5);
        let ts = uuid::Timestamp::from_unix(uuid::NoContext, later.timestamp() as u64, later.timestamp_subsec_nanos());
        assert!(!may_be_catching_up(Uuid::new_v7(ts), now), "nor one from the future");
    }
}
