//! Fixed-window counters in Redis: `INCR` + `EXPIRE` in one pipeline, so every replica shares
//! the same budget.

use crate::redis::Redis;
use std::time::Duration;

/// One named limit: at most `max` hits per `window` for each subject.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    /// Key namespace, e.g. `login:addr`.
    pub name: &'static str,
    /// Hits allowed per window.
    pub max: u32,
    /// Window length.
    pub window: Duration,
}

/// Whether a hit was within its budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    /// Allowed; `remaining` hits left in this window.
    Allowed {
        /// Hits left.
        remaining: u32,
    },
    /// Over the limit until the window ends.
    Limited {
        /// Seconds until the window resets.
        retry_after_secs: u64,
    },
}

impl RateLimit {
    fn key(&self, redis: &Redis, subject: &str) -> String {
        redis.key(&format!("ratelimit:{}:{subject}", self.name))
    }

    /// Counts one hit for `subject` and says whether it is allowed.
    pub async fn hit(&self, redis: &Redis, subject: &str) -> anyhow::Result<RateDecision> {
        let key = self.key(redis, subject);
        let mut conn = redis.pool.get().await?;
        let window_secs = self.window.as_secs().max(1);
        // NX: the window starts at the first hit and is not extended by later ones.
        let (count, ttl): (u64, i64) = redis::pipe()
            .atomic()
            .incr(&key, 1)
            .cmd("EXPIRE")
            .arg(&key)
            .arg(window_secs)
            .arg("NX")
            .ignore()
            .ttl(&key)
            .query_async(&mut *conn)
            .await?;
        Ok(if count > u64::from(self.max) {
            RateDecision::Limited { retry_after_secs: u64::try_from(ttl).unwrap_or(window_secs) }
        } else {
            RateDecision::Allowed { remaining: self.max - u32::try_from(count).unwrap_or(self.max) }
        })
    }

    /// Whether `subject` is already over the limit, without counting a hit.
    pub async fn is_limited(&self, redis: &Redis, subject: &str) -> anyhow::Result<bool> {
        let key = self.key(redis, subject);
        let mut conn = redis.pool.get().await?;
        let count: Option<u64> = redis::cmd("GET").arg(&key).query_async(&mut *conn).await?;
        Ok(count.unwrap_or(0) >= u64::from(self.max))
    }

    /// Forgets the hits of `subject` (e.g. failed logins after a successful one).
    pub async fn reset(&self, redis: &Redis, subject: &str) -> anyhow::Result<()> {
        let key = self.key(redis, subject);
        let mut conn = redis.pool.get().await?;
        let _: i64 = redis::cmd("DEL").arg(&key).query_async(&mut *conn).await?;
        Ok(())
    }
}
