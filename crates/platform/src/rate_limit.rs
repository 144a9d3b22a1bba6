//! Fixed-window counters in Redis: `INCR` + `EXPIRE` in one pipeline, so every replica shares
//! the same budget.
//!
//! When Redis cannot be reached, a limit does not fail the request and does not vanish either:
//! it counts in this process instead ([`LocalWindows`]), so each replica still enforces the
//! limit on its own (with N replicas a subject gets at most N times its budget during the
//! outage). Failing closed would lock every user out of login and danmaku while Redis is down;
//! failing open would hand a password guesser the outage. Counts move back to Redis as soon as
//! it answers; what was counted locally is not carried over.

use crate::redis::Redis;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

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

    /// Counts one hit for `subject` and says whether it is allowed (in Redis, or in this
    /// process while Redis is unreachable).
    pub async fn hit(&self, redis: &Redis, subject: &str) -> anyhow::Result<RateDecision> {
        let key = self.key(redis, subject);
        match self.hit_in_redis(redis, &key).await {
            Ok((count, ttl)) => Ok(self.decide(count, ttl)),
            Err(error) => {
                tracing::warn!(limit = self.name, error = %error, "redis unavailable; counting this rate limit in-process");
                metrics::counter!("rate_limit_local_fallbacks_total", "limit" => self.name).increment(1);
                let (count, remaining) = LOCAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner).hit(&key, self.window);
                Ok(self.decide(count, i64::try_from(remaining.as_secs().max(1)).unwrap_or(i64::MAX)))
            }
        }
    }

    async fn hit_in_redis(&self, redis: &Redis, key: &str) -> anyhow::Result<(u64, i64)> {
        let mut conn = redis.conn().await?;
        let window_secs = self.window.as_secs().max(1);
        // NX: the window starts at the first hit and is not extended by later ones.
        let (count, ttl): (u64, i64) = redis::pipe()
            .atomic()
            .incr(key, 1)
            .cmd("EXPIRE")
            .arg(key)
            .arg(window_secs)
            .arg("NX")
            .ignore()
            .ttl(key)
            .query_async(&mut *conn)
            .await?;
        Ok((count, ttl))
    }

    fn decide(&self, count: u64, ttl_secs: i64) -> RateDecision {
        if count > u64::from(self.max) {
            RateDecision::Limited { retry_after_secs: u64::try_from(ttl_secs).unwrap_or(self.window.as_secs().max(1)) }
        } else {
            RateDecision::Allowed { remaining: self.max - u32::try_from(count).unwrap_or(self.max) }
        }
    }

    /// Whether `subject` is already over the limit, without counting a hit.
    pub async fn is_limited(&self, redis: &Redis, subject: &str) -> anyhow::Result<bool> {
        let key = self.key(redis, subject);
        let in_redis = async {
            let mut conn = redis.conn().await?;
            let count: Option<u64> = redis::cmd("GET").arg(&key).query_async(&mut *conn).await?;
            anyhow::Ok(count.unwrap_or(0))
        };
        let count = match in_redis.await {
            Ok(count) => count,
            Err(_) => LOCAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner).count(&key),
        };
        Ok(count >= u64::from(self.max))
    }

    /// Forgets the hits of `subject` (e.g. failed logins after a successful one). With Redis
    /// down only the in-process window is forgotten; the Redis one runs out with its window.
    pub async fn reset(&self, redis: &Redis, subject: &str) -> anyhow::Result<()> {
        let key = self.key(redis, subject);
        LOCAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner).forget(&key);
        let in_redis = async {
            let mut conn = redis.conn().await?;
            let _: i64 = redis::cmd("DEL").arg(&key).query_async(&mut *conn).await?;
            anyhow::Ok(())
        };
        if let Err(error) = in_redis.await {
            tracing::warn!(limit = self.name, error = %error, "redis unavailable; rate-limit window not reset there");
        }
        Ok(())
    }
}

/// The in-process windows of every limit while Redis is unreachable (keys include the
/// deployment's Redis prefix, so tests sharing a process never share a window).
static LOCAL: LazyLock<Mutex<LocalWindows>> = LazyLock::new(|| Mutex::new(LocalWindows::new(LOCAL_CAPACITY)));

/// Subjects tracked in-process at most: bounded memory during a long outage under attack.
const LOCAL_CAPACITY: usize = 100_000;

/// Fixed windows in memory, bounded: when full, ended windows are dropped first; if every
/// window is still running, a new subject is counted as over its limit (the choice that keeps
/// both memory and a guesser bounded).
struct LocalWindows {
    capacity: usize,
    windows: HashMap<String, (Instant, u64)>,
}

impl LocalWindows {
    fn new(capacity: usize) -> LocalWindows {
        LocalWindows { capacity, windows: HashMap::new() }
    }

    /// Counts a hit; returns the count in the current window and the time left in it.
    fn hit(&mut self, key: &str, window: Duration) -> (u64, Duration) {
        let now = Instant::now();
        if !self.windows.contains_key(key) && self.windows.len() >= self.capacity {
            self.windows.retain(|_, (ends, _)| *ends > now);
            if self.windows.len() >= self.capacity {
                return (u64::MAX, window);
            }
        }
        let entry = self.windows.entry(key.to_owned()).or_insert((now + window, 0));
        if entry.0 <= now {
            *entry = (now + window, 0);
        }
        entry.1 += 1;
        (entry.1, entry.0 - now)
    }

    fn count(&self, key: &str) -> u64 {
        self.windows.get(key).filter(|(ends, _)| *ends > Instant::now()).map_or(0, |(_, count)| *count)
    }

    fn forget(&mut self, key: &str) {
        self.windows.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RedisConfig;

    fn unreachable_redis() -> Redis {
        let prefix = format!("vgtest:{}:", uuid::Uuid::new_v4().simple());
        Redis::connect(&RedisConfig { url: crate::testkit::refused_redis_url(), key_prefix: prefix, ..RedisConfig::default() })
            .expect("pool")
    }

    #[tokio::test]
    async fn with_redis_down_a_limit_still_holds_in_process() {
        let redis = unreachable_redis();
        let limit = RateLimit { name: "test:down", max: 3, window: Duration::from_secs(60) };
        for expected_remaining in [2, 1, 0] {
            assert_eq!(limit.hit(&redis, "ada").await.expect("no error"), RateDecision::Allowed { remaining: expected_remaining });
        }
        assert!(matches!(limit.hit(&redis, "ada").await.expect("no error"), RateDecision::Limited { .. }));
        assert!(limit.is_limited(&redis, "ada").await.expect("no error"));
        // Another subject has its own window.
        assert_eq!(limit.hit(&redis, "bob").await.expect("no error"), RateDecision::Allowed { remaining: 2 });
        // reset forgets the local window even though Redis cannot be told.
        limit.reset(&redis, "ada").await.expect("a reset never fails a login");
        assert!(!limit.is_limited(&redis, "ada").await.expect("no error"));
    }

    #[test]
    fn local_windows_are_bounded_and_reuse_ended_windows() {
        let mut windows = LocalWindows::new(2);
        assert_eq!(windows.hit("a", Duration::from_secs(60)).0, 1);
        assert_eq!(windows.hit("b", Duration::ZERO).0, 1);
        // Full: `b`'s window has ended, so it makes room for `c`.
        assert_eq!(windows.hit("c", Duration::from_secs(60)).0, 1);
        // Full of running windows: a new subject is over its limit, memory does not grow.
        assert_eq!(windows.hit("d", Duration::from_secs(60)).0, u64::MAX);
        assert_eq!(windows.windows.len(), 2);
        assert_eq!(windows.hit("a", Duration::from_secs(60)).0, 2);
    }
}
