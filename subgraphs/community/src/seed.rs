//! Demo data for `vidgraph seed`: follows among the demo accounts (each account follows the
//! next few), through the same write as `followUser`, so counters agree and `content`'s
//! following feed hears of them through the outbox. Idempotent: a second run adds nothing.

use crate::domain::CommunityError;
use crate::domain::follows;
use crate::events::CommunityEvents;
use diesel_async::AsyncConnection;
use platform::db::Db;
use uuid::Uuid;

/// How many of the next accounts each account follows.
const FOLLOWS_PER_USER: usize = 3;

/// What the seed added.
#[derive(Debug, Default, Clone, Copy)]
pub struct SeedReport {
    /// Follows created.
    pub follows: usize,
}

/// Makes each of `users` follow the [`FOLLOWS_PER_USER`] accounts after it (wrapping round),
/// in one transaction (the seed runs alone, so holding all its locks at once is harmless).
pub async fn run(db: &Db, events: &CommunityEvents, users: &[Uuid]) -> Result<SeedReport, CommunityError> {
    let mut conn = db.pool.get().await?;
    let now = chrono::Utc::now();
    let follows = conn
        .transaction::<_, CommunityError, _>(async |conn| {
            let mut created = 0;
            for (i, follower) in users.iter().enumerate() {
                for step in 1..=FOLLOWS_PER_USER.min(users.len().saturating_sub(1)) {
                    let followee = users[(i + step) % users.len()];
                    if follows::apply(conn, events, *follower, followee, true, now).await? {
                        created += 1;
                    }
                }
            }
            Ok(created)
        })
        .await?;
    Ok(SeedReport { follows })
}
