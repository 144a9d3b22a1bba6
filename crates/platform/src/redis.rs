//! The Redis pool, with a key prefix that isolates deployments and tests.

use crate::config::RedisConfig;
use bb8_redis::RedisConnectionManager;
use std::time::Duration;

/// A bb8 pool of multiplexed Redis connections and the key prefix of this deployment.
#[derive(Clone)]
pub struct Redis {
    /// The pool.
    pub pool: bb8::Pool<RedisConnectionManager>,
    prefix: String,
}

impl Redis {
    /// Builds the pool lazily (fails only on a malformed URL).
    pub fn connect(config: &RedisConfig) -> anyhow::Result<Redis> {
        let manager = RedisConnectionManager::new(config.url.as_str())?;
        let pool = bb8::Pool::builder().max_size(config.pool_size).connection_timeout(Duration::from_secs(3)).build_unchecked(manager);
        Ok(Redis { pool, prefix: config.key_prefix.clone() })
    }

    /// The full key for `name` under this deployment's prefix.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Readiness probe.
    pub async fn ping(&self) -> anyhow::Result<()> {
        let mut conn = self.pool.get().await?;
        let _: String = redis::cmd("PING").query_async(&mut *conn).await?;
        Ok(())
    }
}
